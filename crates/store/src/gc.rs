//! The blob collector: message bodies that nothing refers to any more leave the disk.
//!
//! Bodies are content-addressed files (`blobs/ab/cd/<sha256>`) shared by every message, queue
//! entry and mailbox that holds the same bytes; EXPUNGE, Trash/Junk emptying, mailbox deletion,
//! the purge of a revoked account and the end of an outbound delivery only drop references
//! (rows). [`Store::collect_blobs`] frees what is left.
//!
//! # What "referenced" means
//! One SQL condition, `sqlite::blob_gc::REFERENCED`: a message row in any mailbox of any
//! account, or a queued outbound message. A test checks the schema for any other column that
//! names a blob.
//!
//! # Protocol
//! Two passes, each safe on its own, under an exclusive lock of `blobs/.backup-lease`:
//!
//! 1. **Rows.** Every `blobs` row without a reference is deleted, each `DELETE` re-checking
//!    the reference inside its write transaction (SQLite has one writer, so a delivery's rows
//!    commit either before — and the row stays — or after, and recreate the row with
//!    `INSERT … ON CONFLICT`). Files are never deleted here, so a crash after this pass leaves
//!    files without rows, which pass 2 finds.
//! 2. **Files.** Each file of the blob folder with no `blobs` row is a candidate when its
//!    mtime is older than the grace period. A candidate is renamed to `.gc.<sha256>` beside
//!    it, its mtime read again, and the database asked again (row or reference); only if the
//!    file is still old and still unwanted is it unlinked; otherwise it is renamed back (or
//!    dropped, if a new copy of the same bytes already took its name). The folder is fsynced
//!    after the unlinks.
//!
//! **Races with a delivery.** A delivery first `put`s the body (a new file, or an existing
//! file whose mtime `put` sets to now, checking afterwards that the file it touched is still
//! under the name), then commits its rows. If the touch happened before the rename to the
//! tombstone, the collector's second look at the mtime sees it and keeps the file; if after,
//! `put` sees its file gone from the name and writes it anew. Between `put` and the commit the
//! file is young, so the grace period (default [`DEFAULT_GRACE`], far longer than any
//! `put`-to-commit gap) covers a body whose row does not exist yet.
//!
//! **Crash safety.** A crash leaves at worst a tombstone; the next run renames it back when the
//! body has a row or reference, and deletes it otherwise. A stale temporary file of an
//! interrupted `put` (`.tmp.*`, older than the grace period) is deleted too.
//!
//! **In an S3 bucket** (`[blobs] url = "s3://…"`) pass 2 lists the objects under the prefix,
//! one `ab/` folder at a time (`ab/cd/<sha256>` keys; others are left alone), and takes their
//! `Last-Modified` for the mtime, which every `put` renews by uploading again (one second is
//! added to the grace period: S3 gives `Last-Modified` in whole seconds). S3 has no rename, so
//! a candidate is not set aside: after the database says no again, the collector takes the
//! put gate exclusively (`blobs/s3.rs`: every upload, of any process, holds it shared),
//! looks at the object once more (`HEAD`: still old?) and deletes it. That is as safe as the
//! rename: a `put` lands before that look (the object is kept) or after the delete (it is
//! written anew).
//!
//! **Several nodes** sharing the bucket and a PostgreSQL database: the put gate is one node's
//! file, so it cannot stop another node's upload landing between the collector's `HEAD` and
//! its `DELETE`. The collector therefore also holds the database's blob gate
//! ([`crate::NodeStore::blob_gate`], an advisory lock) around the database's last answer (row
//! or reference?), the `HEAD` and the `DELETE`, and records the delete
//! ([`crate::NodeStore::record_blob_deletions`]) before it is made. A node that wrote a body
//! asks, once the rows naming it are committed ([`crate::Store::settle_body`]), whether it
//! was deleted since its upload began, waiting for a gate held; if so it uploads it again
//! before it acknowledges anything. A commit before the collector's last answer keeps the
//! body; one after it is followed by a settle that sees the record.
//!
//! **Backups.** `backup` holds the lease shared from before its database snapshot until its
//! last copy; the collector takes it exclusively without waiting, and when it cannot (a backup
//! or another collection is running) it changes nothing and says so ([`GcReport::busy`]). With
//! several nodes on one PostgreSQL database the lease file is not enough (the backup and the
//! collector may run on different machines): the collector also takes the advisory lock of
//! [`crate::Job::BlobCollector`] without waiting, and a PostgreSQL backup holds that lock
//! shared on its connection from before its snapshot to the end (`backup::hold_collector_off`).
//! So
//! every body a running backup's snapshot names stays on disk; and since rows go before
//! files, every `blobs` row a snapshot holds has its file.

use std::collections::{BTreeSet, HashSet};
use std::fs::{self, File};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::blobs::{Listed, LocalBlobs, TOMB_PREFIX, lease_file};
use crate::{BlobId, BlobStore, Meta, Result, S3Blobs, Store, StoreError};

/// How old an unreferenced file must be before it is deleted.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(3600);

/// What to collect.
#[derive(Debug, Clone)]
pub struct GcOptions {
    /// Files younger than this stay, referenced or not.
    pub grace: Duration,
    /// Count what would be freed; change nothing.
    pub dry_run: bool,
}

impl Default for GcOptions {
    fn default() -> Self {
        GcOptions {
            grace: DEFAULT_GRACE,
            dry_run: false,
        }
    }
}

/// What a collection did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Files deleted (would be, in a dry run).
    pub freed: u64,
    /// Their bytes.
    pub freed_bytes: u64,
    /// Unreferenced `blobs` rows removed.
    pub rows: u64,
    /// Unreferenced files kept because they are younger than the grace period.
    pub young: u64,
    /// Files put back because a delivery wanted them while they were being collected.
    pub restored: u64,
    /// A backup (or another collection) holds the lease: nothing was done.
    pub busy: bool,
}

/// One file of a blob folder.
enum Entry {
    Blob(BlobId, u64, SystemTime),
    Tomb(BlobId),
    Temp(PathBuf, SystemTime),
}

fn io(what: &'static str) -> impl Fn(std::io::Error) -> StoreError {
    move |e| StoreError::io(what, e)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::io("blob task", std::io::Error::other(e)))?
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The top-level folders (`ab`) of the blob store.
fn prefixes(local: &LocalBlobs) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(local.root()).map_err(io("read blob folder"))? {
        let entry = entry.map_err(io("read blob folder"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_hex(&name, 2) && entry.file_type().map_err(io("read blob folder"))?.is_dir() {
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}

/// Every file under `ab/*/`.
fn scan(local: &LocalBlobs, prefix: &str) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    let top = local.root().join(prefix);
    for sub in fs::read_dir(&top).map_err(io("read blob folder"))? {
        let sub = sub.map_err(io("read blob folder"))?;
        let sub_name = sub.file_name().to_string_lossy().into_owned();
        if !is_hex(&sub_name, 2) || !sub.file_type().map_err(io("read blob folder"))?.is_dir() {
            continue;
        }
        for file in fs::read_dir(sub.path()).map_err(io("read blob folder"))? {
            let file = file.map_err(io("read blob folder"))?;
            let name = file.file_name().to_string_lossy().into_owned();
            // Gone since the listing (another put's temporary file): nothing to do.
            let Ok(meta) = file.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            let mtime = meta.modified().map_err(io("read blob time"))?;
            let in_place = |id: &BlobId| id.as_str().starts_with(&format!("{prefix}{sub_name}"));
            if let Some(id) = BlobId::parse(&name).filter(in_place) {
                out.push(Entry::Blob(id, meta.len(), mtime));
            } else if let Some(id) = name
                .strip_prefix(TOMB_PREFIX)
                .and_then(BlobId::parse)
                .filter(in_place)
            {
                out.push(Entry::Tomb(id));
            } else if name.starts_with(".tmp.") {
                out.push(Entry::Temp(file.path(), mtime));
            }
        }
    }
    Ok(out)
}

fn sync_dirs(dirs: BTreeSet<PathBuf>) -> Result<()> {
    for dir in dirs {
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(io("sync blob folder"))?;
    }
    Ok(())
}

/// Moves the file of `id` aside if it is older than `cutoff`, and looks at its mtime again
/// once it is aside. Returns its size when it is aside and still old.
fn bury(local: &LocalBlobs, id: &BlobId, cutoff: SystemTime) -> Result<Option<u64>> {
    let path = local.path(id);
    match fs::metadata(&path) {
        Ok(m) if m.modified().map_err(io("read blob time"))? < cutoff => {}
        Ok(_) => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io("read blob", e)),
    }
    let tomb = local.tomb(id);
    match fs::rename(&path, &tomb) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io("move blob aside", e)),
    }
    let meta = fs::metadata(&tomb).map_err(io("read blob"))?;
    if meta.modified().map_err(io("read blob time"))? >= cutoff {
        // A `put` touched it just before the rename: it is wanted.
        unbury(local, id)?;
        return Ok(None);
    }
    Ok(Some(meta.len()))
}

/// Puts a tombstone back under its name, or drops it if a new copy already took the name.
fn unbury(local: &LocalBlobs, id: &BlobId) -> Result<()> {
    let (path, tomb) = (local.path(id), local.tomb(id));
    if path.exists() {
        match fs::remove_file(&tomb) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::io("remove blob tombstone", e)),
        }
    } else {
        fs::rename(&tomb, &path).map_err(io("restore blob"))?;
    }
    if let Some(dir) = path.parent() {
        sync_dirs(BTreeSet::from([dir.to_path_buf()]))?;
    }
    Ok(())
}

impl Store {
    /// Frees the bodies nothing refers to (see the module documentation for the protocol).
    pub async fn collect_blobs(&self, options: &GcOptions) -> Result<GcReport> {
        let mut report = GcReport::default();
        let lease_root = match &self.blobs {
            BlobStore::Local(local) => local.root().to_path_buf(),
            BlobStore::S3(s3) => s3.lease_root().to_path_buf(),
        };
        let lease = {
            blocking(move || {
                let file = lease_file(&lease_root).map_err(io("open backup lease"))?;
                match file.try_lock() {
                    Ok(()) => Ok(Some(file)),
                    Err(fs::TryLockError::WouldBlock) => Ok(None),
                    Err(fs::TryLockError::Error(e)) => Err(StoreError::io("lock backup lease", e)),
                }
            })
            .await?
        };
        let Some(lease) = lease else {
            report.busy = true;
            return Ok(report);
        };
        // Nodes sharing a database: one collection at a time, and none while a backup on any
        // node holds the collector's lock shared (`backup::hold_collector_off`).
        let Some(job) = self.try_job(crate::Job::BlobCollector).await? else {
            report.busy = true;
            return Ok(report);
        };
        let cutoff = SystemTime::now()
            .checked_sub(options.grace)
            .unwrap_or(SystemTime::UNIX_EPOCH);

        // Pass 1: rows nothing refers to.
        let unreferenced = meta!(self, db => db.unreferenced_blobs().await)?;
        let unreferenced: Vec<BlobId> = unreferenced.into_iter().map(|(id, _)| id).collect();
        let dropped: HashSet<String> = if options.dry_run {
            report.rows = unreferenced.len() as u64;
            unreferenced
                .iter()
                .map(|id| id.as_str().to_string())
                .collect()
        } else {
            report.rows = meta!(self, db => db.forget_blobs(&unreferenced).await)?;
            HashSet::new()
        };

        // Pass 2: files (objects) without a row.
        match &self.blobs {
            BlobStore::Local(local) => {
                self.collect_files(local.clone(), options, cutoff, &dropped, &mut report)
                    .await?
            }
            BlobStore::S3(s3) => {
                self.collect_objects(s3, options, cutoff, &dropped, &mut report)
                    .await?
            }
        }
        drop(job);
        drop(lease);
        Ok(report)
    }

    /// Pass 2 over local files, one top-level folder at a time.
    async fn collect_files(
        &self,
        local: LocalBlobs,
        options: &GcOptions,
        cutoff: SystemTime,
        dropped: &HashSet<String>,
        report: &mut GcReport,
    ) -> Result<()> {
        let all = {
            let local = local.clone();
            blocking(move || prefixes(&local)).await?
        };
        for prefix in all {
            let mut rows = meta!(self, db => db.blob_rows_with_prefix(&prefix).await)?;
            rows.retain(|h| !dropped.contains(h));
            let entries = {
                let (local, prefix) = (local.clone(), prefix.clone());
                blocking(move || scan(&local, &prefix)).await?
            };
            let mut candidates = Vec::new();
            let mut tombs = Vec::new();
            let mut temps = Vec::new();
            for entry in entries {
                match entry {
                    Entry::Blob(id, size, mtime) if !rows.contains(id.as_str()) => {
                        if mtime < cutoff {
                            candidates.push((id, size));
                        } else {
                            report.young += 1;
                        }
                    }
                    Entry::Blob(..) => {}
                    Entry::Tomb(id) => tombs.push(id),
                    Entry::Temp(path, mtime) if mtime < cutoff => temps.push(path),
                    Entry::Temp(..) => {}
                }
            }
            if options.dry_run {
                report.freed += candidates.len() as u64;
                report.freed_bytes += candidates.iter().map(|(_, s)| s).sum::<u64>();
                continue;
            }
            // Set aside, then ask the database again.
            let buried: Vec<(BlobId, u64)> = {
                let local = local.clone();
                blocking(move || {
                    let mut buried = Vec::new();
                    for (id, _) in candidates {
                        if let Some(size) = bury(&local, &id, cutoff)? {
                            buried.push((id, size));
                        }
                    }
                    Ok(buried)
                })
                .await?
            };
            let mut asked: Vec<BlobId> = buried.iter().map(|(id, _)| id.clone()).collect();
            asked.extend(tombs.iter().cloned());
            let wanted = meta!(self, db => db.blobs_wanted(&asked).await)?;
            let (freed, freed_bytes, restored) = {
                let local = local.clone();
                blocking(move || {
                    let mut dirs = BTreeSet::new();
                    let (mut freed, mut bytes, mut restored) = (0u64, 0u64, 0u64);
                    let settled = buried
                        .into_iter()
                        .map(|(id, size)| (id, Some(size)))
                        .chain(tombs.into_iter().map(|id| (id, None)));
                    for (id, size) in settled {
                        if wanted.contains(id.as_str()) {
                            unbury(&local, &id)?;
                            restored += 1;
                            continue;
                        }
                        let tomb = local.tomb(&id);
                        let len = size.unwrap_or_else(|| {
                            fs::metadata(&tomb).map(|m| m.len()).unwrap_or_default()
                        });
                        match fs::remove_file(&tomb) {
                            Ok(()) => {}
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                            Err(e) => return Err(StoreError::io("delete blob", e)),
                        }
                        freed += 1;
                        bytes += len;
                        if let Some(dir) = tomb.parent() {
                            dirs.insert(dir.to_path_buf());
                        }
                    }
                    for temp in temps {
                        if fs::remove_file(&temp).is_ok()
                            && let Some(dir) = temp.parent()
                        {
                            dirs.insert(dir.to_path_buf());
                        }
                    }
                    sync_dirs(dirs)?;
                    Ok((freed, bytes, restored))
                })
                .await?
            };
            report.freed += freed;
            report.freed_bytes += freed_bytes;
            report.restored += restored;
        }
        Ok(())
    }

    /// Pass 2 over an S3 bucket, one top-level folder (`ab/`) at a time: its listing, the
    /// database asked for its rows and once more for its old objects without a row, then for
    /// each candidate under the exclusive put gate (no upload in flight) a last `HEAD` — still
    /// old? — and the `DELETE`.
    /// S3 has no rename, so there are no tombstones; a PUT is atomic, so no temporary
    /// objects either.
    async fn collect_objects(
        &self,
        s3: &S3Blobs,
        options: &GcOptions,
        cutoff: SystemTime,
        dropped: &HashSet<String>,
        report: &mut GcReport,
    ) -> Result<()> {
        // Last-Modified comes in whole seconds: a body uploaded just after `cutoff` may show
        // a time just before it.
        let cutoff = cutoff
            .checked_sub(Duration::from_secs(1))
            .unwrap_or(SystemTime::UNIX_EPOCH);
        for prefix in s3.top_prefixes().await? {
            let objects: Vec<Listed> = s3.list(&prefix).await?;
            let mut rows = meta!(self, db => db.blob_rows_with_prefix(&prefix).await)?;
            rows.retain(|h| !dropped.contains(h));
            let mut candidates = Vec::new();
            for object in objects {
                if rows.contains(object.id.as_str()) {
                    continue;
                }
                if object.modified < cutoff {
                    candidates.push((object.id, object.size));
                } else {
                    report.young += 1;
                }
            }
            if options.dry_run {
                report.freed += candidates.len() as u64;
                report.freed_bytes += candidates.iter().map(|(_, s)| s).sum::<u64>();
                continue;
            }
            if candidates.is_empty() {
                continue;
            }
            let asked: Vec<BlobId> = candidates.iter().map(|(id, _)| id.clone()).collect();
            let wanted = meta!(self, db => db.blobs_wanted(&asked).await)?;
            for (id, _) in candidates {
                if wanted.contains(id.as_str()) {
                    continue;
                }
                let _exclusive = s3.exclusive().await?;
                let _gate = self.blob_gate().await?;
                // Under the gate, a commit that names the body is either seen here or comes
                // after the delete, and then the settle of that commit sees the record.
                let again = std::slice::from_ref(&id);
                if !meta!(self, db => db.blobs_wanted(again).await)?.is_empty() {
                    continue;
                }
                match s3.stat(&id).await? {
                    Some((size, modified)) if modified < cutoff => {
                        let at = chrono::Utc::now().timestamp_millis();
                        self.record_blob_deletions(std::slice::from_ref(&id), at)
                            .await?;
                        s3.delete(&id).await?;
                        report.freed += 1;
                        report.freed_bytes += size;
                    }
                    Some(_) => report.young += 1,
                    None => {}
                }
            }
        }
        Ok(())
    }
}
