//! Backup and restore of an embedded data directory (SQLite and local blobs), taken while the
//! server runs.
//!
//! A backup folder holds `hopthu.db` (a snapshot of the database), `blobs/ab/cd/<sha256>` (the
//! message bodies the snapshot names), the keys under `dkim/` and `tls/`, and `backup.json`
//! (what was taken, written last: a folder without it is an unfinished backup).
//!
//! [`backup`]:
//! 1. `VACUUM INTO` a temporary file in the folder: one read transaction, so the snapshot is
//!    consistent while deliveries go on committing.
//! 2. Every blob the snapshot names is copied unless the folder already has it with the same
//!    size: blobs are content-addressed and never rewritten, so a second backup into the same
//!    folder copies only what is new. The blob collector (`gc.rs`) deletes unreferenced
//!    bodies, but never while a backup holds the [`BackupLease`] — taken here before the
//!    snapshot and kept to the end — and it deletes a `blobs` row before its file, so every
//!    blob the snapshot names is on disk until the backup has copied it.
//! 3. The keys are copied.
//! 4. Every file is written beside its final name, fsynced and renamed (a crash leaves no
//!    half-copied blob under a real name); the snapshot replaces `hopthu.db` last, then
//!    `backup.json` is written.
//! 5. Bodies the folder held for its previous snapshot that the new one no longer names (mail
//!    deleted since) are deleted: no database in the folder reaches them any more, and deleted
//!    mail must not live on in the backup.
//!
//! [`verify`] hashes every blob the snapshot names; [`restore`] verifies first, refuses a data
//! directory that already has a database, and then copies the backup into it.
//!
//! With bodies in an S3 bucket ([`backup_with`], [`restore_with`] given an S3 [`BlobStore`]),
//! the backup folder is the same: bodies are read from the bucket (and checked against their
//! name) into files, or on restore uploaded from the files through [`BlobStore::put`]. The
//! lease is still `data_dir/blobs/.backup-lease`, which the collector of an S3 store takes too.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use futures_util::{StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::{BackupLease, BlobId, BlobStore, Result, StoreError};

/// The database file of a data directory or backup folder.
pub const DATABASE: &str = "hopthu.db";
/// The blob folder.
pub const BLOBS: &str = "blobs";
/// The folders of keys that go with the data (DKIM signing keys, the TLS certificate).
pub const KEY_DIRS: [&str; 2] = ["dkim", "tls"];
/// Written last: its presence marks a complete backup.
pub const MANIFEST: &str = "backup.json";

/// Bodies read from or written to an S3 store at the same time.
const REMOTE_PARALLEL: usize = 8;

/// What a backup took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// Blobs the snapshot names.
    pub blobs: u64,
    /// Of those, copied by this run (the rest were already in the folder).
    pub copied: u64,
    /// Bytes of blobs copied by this run.
    pub copied_bytes: u64,
    /// Bytes of all blobs the snapshot names.
    pub blob_bytes: u64,
    /// Size of the database snapshot.
    pub database_bytes: u64,
    /// Bodies of an earlier backup into the folder that the new snapshot no longer names,
    /// deleted by this run, and their bytes.
    pub removed: u64,
    pub removed_bytes: u64,
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub blobs: u64,
    pub blob_bytes: u64,
    /// Blobs missing, of the wrong size, or whose content does not hash to their name.
    pub problems: Vec<String>,
}

fn io(what: &'static str) -> impl Fn(std::io::Error) -> StoreError {
    move |e| StoreError::io(what, e)
}

fn blob_path(root: &Path, hash: &str) -> PathBuf {
    root.join(BLOBS)
        .join(&hash[0..2])
        .join(&hash[2..4])
        .join(hash)
}

/// Copies `from` to `to` through a temporary file beside `to`, fsynced, then renamed.
fn copy_durably(from: &Path, to: &Path) -> Result<u64> {
    let dir = to.parent().expect("a destination has a parent");
    fs::create_dir_all(dir).map_err(io("create backup folder"))?;
    let name = to.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".tmp.{name}.{}", rand::random::<u64>()));
    let copy = || -> std::io::Result<u64> {
        let bytes = fs::copy(from, &tmp)?;
        File::open(&tmp)?.sync_all()?;
        fs::rename(&tmp, to)?;
        Ok(bytes)
    };
    copy().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        StoreError::io("copy file", e)
    })
}

/// Writes `bytes` to `to` through a temporary file beside it, fsynced, then renamed.
fn write_durably(bytes: &[u8], to: &Path) -> Result<()> {
    let dir = to.parent().expect("a destination has a parent");
    fs::create_dir_all(dir).map_err(io("create backup folder"))?;
    let name = to.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".tmp.{name}.{}", rand::random::<u64>()));
    let write = || -> std::io::Result<()> {
        let mut file = File::create(&tmp)?;
        std::io::Write::write_all(&mut file, bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, to)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        StoreError::io("write file", e)
    })
}

/// A body read from an S3 store, checked against its name and the database's size.
async fn fetch_checked(blobs: &BlobStore, hash: &str, size: u64) -> Result<Vec<u8>> {
    let id =
        BlobId::parse(hash).ok_or_else(|| StoreError::Corrupt(format!("blob name {hash:?}")))?;
    let bytes = blobs.get(&id).await?;
    if bytes.len() as u64 != size || BlobId::of(&bytes) != id {
        return Err(StoreError::Corrupt(format!(
            "blob {hash} in {} does not match its name or size",
            blobs.describe()
        )));
    }
    Ok(bytes)
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("sync folder"))
}

async fn open_read_only(path: &Path) -> Result<sqlx::SqliteConnection> {
    if !path.is_file() {
        return Err(StoreError::NotFound(format!(
            "no database at {}",
            path.display()
        )));
    }
    Ok(SqliteConnectOptions::from_str("sqlite://")
        .map_err(StoreError::Database)?
        .filename(path)
        .read_only(true)
        .connect()
        .await?)
}

/// The blobs a database names, with their sizes.
async fn blob_list(database: &Path) -> Result<Vec<(String, u64)>> {
    let mut db = open_read_only(database).await?;
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT hash, size FROM blobs ORDER BY hash")
        .fetch_all(&mut db)
        .await?;
    db.close().await?;
    let mut blobs = Vec::with_capacity(rows.len());
    for (hash, size) in rows {
        if BlobId::parse(&hash).is_none() {
            return Err(StoreError::Corrupt(format!(
                "blob name {hash:?} in the database"
            )));
        }
        blobs.push((hash, size.max(0) as u64));
    }
    Ok(blobs)
}

/// Copies the keys folders (`dkim/`, `tls/`) from one root to another, keeping permissions.
fn copy_keys(from: &Path, to: &Path) -> Result<()> {
    for dir in KEY_DIRS {
        let source = from.join(dir);
        let Ok(entries) = fs::read_dir(&source) else {
            continue;
        };
        for entry in entries {
            let entry = entry.map_err(io("read keys folder"))?;
            if entry.file_type().map_err(io("read keys folder"))?.is_file() {
                copy_durably(&entry.path(), &to.join(dir).join(entry.file_name()))?;
            }
        }
        if to.join(dir).is_dir() {
            sync_dir(&to.join(dir))?;
        }
    }
    Ok(())
}

/// Backs up `data_dir` into `dest` (created if needed; a previous backup there is brought up
/// to date, copying only new blobs and deleting those of mail deleted since).
pub async fn backup(data_dir: &Path, dest: &Path) -> Result<BackupReport> {
    backup_with(data_dir, None, dest).await
}

/// [`backup`] of a data directory whose bodies are in `blobs` (an S3 bucket); `None` or a
/// local store: the files under `data_dir/blobs`.
pub async fn backup_with(
    data_dir: &Path,
    blobs: Option<&BlobStore>,
    dest: &Path,
) -> Result<BackupReport> {
    let remote = blobs.filter(|b| matches!(b, BlobStore::S3(_)));
    let source_db = data_dir.join(DATABASE);
    fs::create_dir_all(dest).map_err(io("create backup folder"))?;
    // Held until the end: no body the snapshot names is collected meanwhile. (No blob folder,
    // nothing to collect.)
    let lease = if data_dir.join(BLOBS).is_dir() {
        let data_dir = data_dir.to_path_buf();
        Some(
            tokio::task::spawn_blocking(move || BackupLease::acquire(&data_dir))
                .await
                .map_err(|e| StoreError::io("backup lease", std::io::Error::other(e)))??,
        )
    } else {
        None
    };
    let snapshot = dest.join(format!(".tmp.{DATABASE}.{}", rand::random::<u64>()));
    {
        let mut db = open_read_only(&source_db).await?;
        let target = snapshot.to_str().ok_or_else(|| {
            StoreError::io(
                "backup folder",
                std::io::Error::other("the path is not UTF-8"),
            )
        })?;
        let taken = sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&mut db)
            .await;
        db.close().await?;
        if let Err(e) = taken {
            let _ = fs::remove_file(&snapshot);
            return Err(e.into());
        }
    }
    File::open(&snapshot)
        .and_then(|f| f.sync_all())
        .map_err(io("sync snapshot"))?;
    let blobs = match blob_list(&snapshot).await {
        Ok(blobs) => blobs,
        Err(e) => {
            let _ = fs::remove_file(&snapshot);
            return Err(e);
        }
    };
    let mut report = BackupReport {
        blobs: blobs.len() as u64,
        copied: 0,
        copied_bytes: 0,
        blob_bytes: 0,
        database_bytes: fs::metadata(&snapshot).map(|m| m.len()).unwrap_or(0),
        removed: 0,
        removed_bytes: 0,
    };
    let mut touched = std::collections::BTreeSet::new();
    let mut missing = Vec::new();
    for (hash, size) in &blobs {
        report.blob_bytes += size;
        let to = blob_path(dest, hash);
        if fs::metadata(&to).is_ok_and(|m| m.len() == *size) {
            continue;
        }
        if let Some(dir) = to.parent() {
            touched.insert(dir.to_path_buf());
        }
        missing.push((hash.clone(), *size, to));
    }
    report.copied = missing.len() as u64;
    if let Some(store) = remote {
        // A round trip per body: several at a time.
        let sizes: Vec<u64> = futures_util::stream::iter(missing)
            .map(|(hash, size, to)| async move {
                let bytes = fetch_checked(store, &hash, size).await?;
                let len = bytes.len() as u64;
                tokio::task::spawn_blocking(move || write_durably(&bytes, &to))
                    .await
                    .map_err(|e| StoreError::io("backup task", std::io::Error::other(e)))??;
                Ok::<u64, StoreError>(len)
            })
            .buffer_unordered(REMOTE_PARALLEL)
            .try_collect()
            .await?;
        report.copied_bytes = sizes.iter().sum();
    } else {
        for (hash, _, to) in &missing {
            report.copied_bytes += copy_durably(&blob_path(data_dir, hash), to)?;
        }
    }
    for dir in touched {
        sync_dir(&dir)?;
    }
    copy_keys(data_dir, dest)?;
    fs::rename(&snapshot, dest.join(DATABASE)).map_err(io("place snapshot"))?;
    (report.removed, report.removed_bytes) = prune(dest, &blobs)?;
    let manifest = format!(
        "{{\n  \"format\": 1,\n  \"hopthu\": \"{}\",\n  \"created_at\": {},\n  \"blobs\": {},\n  \"blob_bytes\": {},\n  \"database_bytes\": {}\n}}\n",
        env!("CARGO_PKG_VERSION"),
        chrono::Utc::now().timestamp(),
        report.blobs,
        report.blob_bytes,
        report.database_bytes
    );
    let tmp = dest.join(format!(".tmp.{MANIFEST}"));
    fs::write(&tmp, manifest)
        .and_then(|_| File::open(&tmp)?.sync_all())
        .and_then(|_| fs::rename(&tmp, dest.join(MANIFEST)))
        .map_err(io("write manifest"))?;
    sync_dir(dest)?;
    drop(lease);
    Ok(report)
}

/// Deletes the body files of a backup folder that `named` (its snapshot's blobs) does not
/// hold; returns how many and their bytes.
fn prune(dest: &Path, named: &[(String, u64)]) -> Result<(u64, u64)> {
    let named: std::collections::HashSet<&str> = named.iter().map(|(h, _)| h.as_str()).collect();
    let (mut removed, mut bytes) = (0, 0);
    let root = dest.join(BLOBS);
    if !root.is_dir() {
        return Ok((0, 0));
    }
    let dirs = |dir: &Path| -> Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(dir).map_err(io("read backup folder"))? {
            let entry = entry.map_err(io("read backup folder"))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.len() == 2
                && name.bytes().all(|b| b.is_ascii_hexdigit())
                && entry
                    .file_type()
                    .map_err(io("read backup folder"))?
                    .is_dir()
            {
                out.push(entry.path());
            }
        }
        Ok(out)
    };
    for top in dirs(&root)? {
        for sub in dirs(&top)? {
            let mut touched = false;
            for entry in fs::read_dir(&sub).map_err(io("read backup folder"))? {
                let entry = entry.map_err(io("read backup folder"))?;
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if BlobId::parse(&name).is_none() || named.contains(name.as_ref()) {
                    continue;
                }
                let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
                fs::remove_file(entry.path()).map_err(io("delete old body"))?;
                removed += 1;
                bytes += len;
                touched = true;
            }
            if touched {
                sync_dir(&sub)?;
            }
        }
    }
    Ok((removed, bytes))
}

/// Checks a backup folder: complete, and every blob present with the content its name says.
pub async fn verify(dir: &Path) -> Result<VerifyReport> {
    Ok(check(dir).await?.0)
}

/// [`verify`], also giving the blobs the snapshot names (so that restore reads them once).
async fn check(dir: &Path) -> Result<(VerifyReport, Vec<(String, u64)>)> {
    if !dir.join(MANIFEST).is_file() {
        return Err(StoreError::NotFound(format!(
            "{} is not a complete backup (no {MANIFEST})",
            dir.display()
        )));
    }
    let blobs = blob_list(&dir.join(DATABASE)).await?;
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut report = VerifyReport {
            blobs: blobs.len() as u64,
            blob_bytes: 0,
            problems: Vec::new(),
        };
        let mut buf = vec![0u8; 256 * 1024];
        for (hash, size) in &blobs {
            let (hash, size) = (hash.as_str(), *size);
            report.blob_bytes += size;
            let path = blob_path(&dir, hash);
            let Ok(mut file) = File::open(&path) else {
                report.problems.push(format!("{hash}: missing"));
                continue;
            };
            let mut hasher = Sha256::new();
            let mut length = 0u64;
            loop {
                match file.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        hasher.update(&buf[..n]);
                        length += n as u64;
                    }
                    Err(e) => {
                        report.problems.push(format!("{hash}: unreadable ({e})"));
                        break;
                    }
                }
            }
            if length != size {
                report
                    .problems
                    .push(format!("{hash}: {length} bytes, the database says {size}"));
            } else if hex::encode(hasher.finalize()) != hash {
                report
                    .problems
                    .push(format!("{hash}: content does not match its name"));
            }
        }
        (report, blobs)
    })
    .await
    .map_err(|e| StoreError::io("verify task", std::io::Error::other(e)))
}

/// Restores a backup into `data_dir`, which must not hold a database yet. The backup is
/// verified first; a damaged one changes nothing.
pub async fn restore(dir: &Path, data_dir: &Path) -> Result<VerifyReport> {
    restore_with(dir, data_dir, None).await
}

/// [`restore`] with the bodies uploaded into `blobs` (an S3 bucket) instead of copied under
/// `data_dir/blobs`; `None` or a local store: files, as [`restore`].
pub async fn restore_with(
    dir: &Path,
    data_dir: &Path,
    blobs: Option<&BlobStore>,
) -> Result<VerifyReport> {
    let remote = blobs.filter(|b| matches!(b, BlobStore::S3(_)));
    if data_dir.join(DATABASE).exists() {
        return Err(StoreError::Conflict(format!(
            "{} already holds a database; restore into an empty data directory",
            data_dir.display()
        )));
    }
    let (report, blobs) = check(dir).await?;
    if !report.problems.is_empty() {
        let shown: Vec<&str> = report
            .problems
            .iter()
            .take(10)
            .map(String::as_str)
            .collect();
        return Err(StoreError::Corrupt(format!(
            "the backup is damaged ({} problems): {}",
            report.problems.len(),
            shown.join("; ")
        )));
    }
    fs::create_dir_all(data_dir).map_err(io("create data_dir"))?;
    let mut touched = std::collections::BTreeSet::new();
    if let Some(store) = remote {
        futures_util::stream::iter(&blobs)
            .map(|(hash, _)| async move {
                let from = blob_path(dir, hash);
                let bytes = tokio::task::spawn_blocking(move || fs::read(from))
                    .await
                    .map_err(|e| StoreError::io("restore task", std::io::Error::other(e)))?
                    .map_err(io("read backup"))?;
                let id = store.put(std::sync::Arc::new(bytes)).await?;
                if id.as_str() != hash {
                    return Err(StoreError::Corrupt(format!(
                        "{hash}: changed while being restored"
                    )));
                }
                Ok(())
            })
            .buffer_unordered(REMOTE_PARALLEL)
            .try_collect::<Vec<()>>()
            .await?;
    } else {
        for (hash, _) in &blobs {
            let to = blob_path(data_dir, hash);
            copy_durably(&blob_path(dir, hash), &to)?;
            if let Some(parent) = to.parent() {
                touched.insert(parent.to_path_buf());
            }
        }
    }
    for parent in touched {
        sync_dir(&parent)?;
    }
    copy_keys(dir, data_dir)?;
    copy_durably(&dir.join(DATABASE), &data_dir.join(DATABASE))?;
    sync_dir(data_dir)?;
    Ok(report)
}
