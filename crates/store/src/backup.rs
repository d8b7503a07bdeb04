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
/// The dump of a PostgreSQL database (`pg_dump --format=custom`) in a backup folder.
pub const PG_DUMP: &str = "hopthu.pgdump";
/// The bodies that dump names, `hash size` per line: verify needs no database.
pub const PG_BLOBS: &str = "blobs.list";
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
    // Held until the end: no body the snapshot names is collected meanwhile.
    let lease = lease(data_dir).await?;
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
    copy_blobs(data_dir, remote, dest, &blobs, &mut report).await?;
    copy_keys(data_dir, dest)?;
    fs::rename(&snapshot, dest.join(DATABASE)).map_err(io("place snapshot"))?;
    (report.removed, report.removed_bytes) = prune(dest, &blobs)?;
    write_manifest(dest, "sqlite", &report)?;
    sync_dir(dest)?;
    drop(lease);
    Ok(report)
}

/// The backup lease of `data_dir` (no blob folder: nothing to collect, no lease).
async fn lease(data_dir: &Path) -> Result<Option<BackupLease>> {
    if !data_dir.join(BLOBS).is_dir() {
        return Ok(None);
    }
    let data_dir = data_dir.to_path_buf();
    Ok(Some(
        tokio::task::spawn_blocking(move || BackupLease::acquire(&data_dir))
            .await
            .map_err(|e| StoreError::io("backup lease", std::io::Error::other(e)))??,
    ))
}

/// Writes `backup.json`, the mark of a complete backup.
fn write_manifest(dest: &Path, database: &str, report: &BackupReport) -> Result<()> {
    let manifest = format!(
        "{{\n  \"format\": 1,\n  \"hopthu\": \"{}\",\n  \"database\": \"{database}\",\n  \"created_at\": {},\n  \"blobs\": {},\n  \"blob_bytes\": {},\n  \"database_bytes\": {}\n}}\n",
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
        .map_err(io("write manifest"))
}

/// Copies the bodies `blobs` into the backup folder `dest` (from the files under `data_dir`, or
/// from `remote`), skipping those already there with the right size.
async fn copy_blobs(
    data_dir: &Path,
    remote: Option<&BlobStore>,
    dest: &Path,
    blobs: &[(String, u64)],
    report: &mut BackupReport,
) -> Result<()> {
    let mut touched = std::collections::BTreeSet::new();
    let mut missing = Vec::new();
    for (hash, size) in blobs {
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
    Ok(())
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
    let postgres = is_postgres_backup(dir);
    let mut problems = Vec::new();
    let blobs = if postgres {
        // The dump must be one pg_restore can read (no database needed for that).
        if let Err(e) = run_tool(
            "pg_restore",
            vec!["--list".into(), dir.join(PG_DUMP).into_os_string()],
            None,
        )
        .await
        {
            problems.push(format!("{PG_DUMP}: {e}"));
        }
        read_pg_blobs(dir)?
    } else {
        blob_list(&dir.join(DATABASE)).await?
    };
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut report = VerifyReport {
            blobs: blobs.len() as u64,
            blob_bytes: 0,
            problems,
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
    let (report, blobs) = checked(dir).await?;
    if is_postgres_backup(dir) {
        return Err(StoreError::Conflict(format!(
            "{} is a backup of a PostgreSQL database: restore it with a [store] url naming an \
             empty database",
            dir.display()
        )));
    }
    fs::create_dir_all(data_dir).map_err(io("create data_dir"))?;
    restore_blobs(dir, data_dir, remote, &blobs).await?;
    copy_keys(dir, data_dir)?;
    copy_durably(&dir.join(DATABASE), &data_dir.join(DATABASE))?;
    sync_dir(data_dir)?;
    Ok(report)
}

/// [`check`], refusing a damaged backup.
async fn checked(dir: &Path) -> Result<(VerifyReport, Vec<(String, u64)>)> {
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
    Ok((report, blobs))
}

/// Puts the bodies of a backup folder back: into `remote` (an S3 bucket) or under
/// `data_dir/blobs`.
async fn restore_blobs(
    dir: &Path,
    data_dir: &Path,
    remote: Option<&BlobStore>,
    blobs: &[(String, u64)],
) -> Result<()> {
    let mut touched = std::collections::BTreeSet::new();
    if let Some(store) = remote {
        futures_util::stream::iter(blobs)
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
        for (hash, _) in blobs {
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
    Ok(())
}

// ---- PostgreSQL ------------------------------------------------------------------------------

/// Whether a backup folder holds a PostgreSQL dump (its manifest says so).
fn is_postgres_backup(dir: &Path) -> bool {
    fs::read_to_string(dir.join(MANIFEST)).is_ok_and(|m| m.contains("\"database\": \"postgres\""))
}

/// Runs a PostgreSQL client program (`pg_dump`, `pg_restore`) and waits for it.
/// `password` goes in `PGPASSWORD`, not on the command line other users can read.
async fn run_tool(
    program: &'static str,
    args: Vec<std::ffi::OsString>,
    password: Option<String>,
) -> Result<Vec<u8>> {
    let out = tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new(program);
        command.args(&args).stdin(std::process::Stdio::null());
        if let Some(password) = password {
            command.env("PGPASSWORD", password);
        }
        command.output()
    })
    .await
    .map_err(|e| StoreError::io("client task", std::io::Error::other(e)))?
    .map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::NotFound {
            " (install postgresql-client)"
        } else {
            ""
        };
        StoreError::io(
            "run a PostgreSQL client",
            std::io::Error::new(e.kind(), format!("{program}{hint}: {e}")),
        )
    })?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        let said: String = said.trim().chars().take(2000).collect();
        return Err(StoreError::io(
            "PostgreSQL client",
            std::io::Error::other(format!("{program} failed ({}): {said}", out.status)),
        ));
    }
    Ok(out.stdout)
}

/// A connection URL without its password, and the password (percent-decoded): the URL can
/// then go on a command line.
fn without_password(url: &str) -> (String, Option<String>) {
    let (Some(scheme), Some(at)) = (url.find("://"), url.rfind('@')) else {
        return (url.to_string(), None);
    };
    let start = scheme + 3;
    if at < start {
        return (url.to_string(), None);
    }
    let Some((user, password)) = url[start..at].split_once(':') else {
        return (url.to_string(), None);
    };
    let bytes = password.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                decoded.push(b);
                i += 3;
            }
            (b, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    (
        format!("{}{user}{}", &url[..start], &url[at..]),
        Some(String::from_utf8_lossy(&decoded).into_owned()),
    )
}

/// The bodies a PostgreSQL backup names (`blobs.list`: `hash size` per line).
fn read_pg_blobs(dir: &Path) -> Result<Vec<(String, u64)>> {
    let text = fs::read_to_string(dir.join(PG_BLOBS)).map_err(io("read the blob list"))?;
    let mut blobs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let parsed = line
            .split_once(' ')
            .and_then(|(h, s)| Some((BlobId::parse(h)?, s.parse::<u64>().ok()?)));
        let Some((id, size)) = parsed else {
            return Err(StoreError::Corrupt(format!(
                "{PG_BLOBS} line {}: {line:?}",
                n + 1
            )));
        };
        blobs.push((id.as_str().to_string(), size));
    }
    Ok(blobs)
}

/// Keeps the blob collector of every node sharing the database from running while `db` is
/// open: the collector's advisory lock ([`crate::Job::BlobCollector`]) taken shared, waiting
/// for a collection that runs now to end. The lease file of `data_dir` only keeps off the
/// collectors of this machine; with several nodes (and one S3 bucket) the collection may run on
/// another. Released when `db` closes, also when the process is killed.
pub(crate) async fn hold_collector_off(db: &mut sqlx::PgConnection) -> Result<()> {
    sqlx::query("SELECT pg_advisory_lock_shared($1)")
        .bind(crate::Job::BlobCollector.lock_key())
        .execute(db)
        .await?;
    Ok(())
}

/// Backs up the PostgreSQL database `url` (with `pg_dump --format=custom`, from the same
/// snapshot as the list of bodies it names), the bodies (from the files under `data_dir`, or
/// from `blobs`, an S3 bucket) and the keys of `data_dir` into `dest`. As [`backup_with`]: a
/// folder with an earlier backup is brought up to date, the lease is held to the end.
pub async fn backup_postgres(
    url: &str,
    data_dir: &Path,
    blobs: Option<&BlobStore>,
    dest: &Path,
) -> Result<BackupReport> {
    use sqlx::postgres::PgConnectOptions;
    let remote = blobs.filter(|b| matches!(b, BlobStore::S3(_)));
    fs::create_dir_all(dest).map_err(io("create backup folder"))?;
    let lease = lease(data_dir).await?;
    let dump = dest.join(format!(".tmp.{PG_DUMP}.{}", rand::random::<u64>()));
    let mut db = PgConnectOptions::from_str(url)
        .map_err(StoreError::Database)?
        .application_name("hopthu backup")
        .connect()
        .await?;
    hold_collector_off(&mut db).await?;
    // One snapshot for the list of bodies and for pg_dump (`--snapshot`), kept open until
    // pg_dump has finished.
    let taken = async {
        let mut tx = db
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await?;
        let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
            .fetch_one(&mut *tx)
            .await?;
        let rows: Vec<(String, i64)> = sqlx::query_as("SELECT hash, size FROM blobs ORDER BY hash")
            .fetch_all(&mut *tx)
            .await?;
        let (url, password) = without_password(url);
        run_tool(
            "pg_dump",
            vec![
                "--format=custom".into(),
                format!("--snapshot={snapshot}").into(),
                "--file".into(),
                dump.clone().into_os_string(),
                "--dbname".into(),
                url.into(),
            ],
            password,
        )
        .await?;
        tx.rollback().await?;
        Ok::<_, StoreError>(rows)
    }
    .await;
    let _ = db.close().await;
    let rows = match taken {
        Ok(rows) => rows,
        Err(e) => {
            let _ = fs::remove_file(&dump);
            return Err(e);
        }
    };
    let mut blobs = Vec::with_capacity(rows.len());
    let mut list = String::new();
    for (hash, size) in rows {
        if BlobId::parse(&hash).is_none() {
            let _ = fs::remove_file(&dump);
            return Err(StoreError::Corrupt(format!(
                "blob name {hash:?} in the database"
            )));
        }
        list.push_str(&format!("{hash} {}\n", size.max(0)));
        blobs.push((hash, size.max(0) as u64));
    }
    File::open(&dump)
        .and_then(|f| f.sync_all())
        .map_err(io("sync dump"))?;
    let mut report = BackupReport {
        blobs: blobs.len() as u64,
        copied: 0,
        copied_bytes: 0,
        blob_bytes: 0,
        database_bytes: fs::metadata(&dump).map(|m| m.len()).unwrap_or(0),
        removed: 0,
        removed_bytes: 0,
    };
    copy_blobs(data_dir, remote, dest, &blobs, &mut report).await?;
    copy_keys(data_dir, dest)?;
    // The manifest of a folder that held an embedded backup before says which one is current.
    write_durably(list.as_bytes(), &dest.join(PG_BLOBS))?;
    fs::rename(&dump, dest.join(PG_DUMP)).map_err(io("place dump"))?;
    (report.removed, report.removed_bytes) = prune(dest, &blobs)?;
    write_manifest(dest, "postgres", &report)?;
    sync_dir(dest)?;
    drop(lease);
    Ok(report)
}

/// Restores a PostgreSQL backup into the database `url`, which must have no table yet: the
/// backup is verified first, the bodies are put back (under `data_dir/blobs`, or into
/// `blobs`), the keys copied into `data_dir`, and the dump restored last with `pg_restore`
/// in one transaction.
pub async fn restore_postgres(
    dir: &Path,
    url: &str,
    data_dir: &Path,
    blobs: Option<&BlobStore>,
) -> Result<VerifyReport> {
    use sqlx::postgres::PgConnectOptions;
    let remote = blobs.filter(|b| matches!(b, BlobStore::S3(_)));
    if !is_postgres_backup(dir) && dir.join(MANIFEST).is_file() {
        return Err(StoreError::Conflict(format!(
            "{} is a backup of an embedded (SQLite) store: restore it into a configuration \
             without [store] url, then move it with `hopthu store copy`",
            dir.display()
        )));
    }
    let mut db = PgConnectOptions::from_str(url)
        .map_err(StoreError::Database)?
        .application_name("hopthu restore")
        .connect()
        .await?;
    let tables: std::result::Result<Vec<String>, sqlx::Error> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
          WHERE table_schema = current_schema() ORDER BY table_name",
    )
    .fetch_all(&mut db)
    .await;
    let _ = db.close().await;
    let tables = tables?;
    if !tables.is_empty() {
        let shown: Vec<&str> = tables.iter().take(8).map(String::as_str).collect();
        return Err(StoreError::Conflict(format!(
            "the database already holds tables ({}); restore into an empty database",
            shown.join(", ")
        )));
    }
    let (report, blobs) = checked(dir).await?;
    fs::create_dir_all(data_dir).map_err(io("create data_dir"))?;
    restore_blobs(dir, data_dir, remote, &blobs).await?;
    copy_keys(dir, data_dir)?;
    let (url, password) = without_password(url);
    run_tool(
        "pg_restore",
        vec![
            "--no-owner".into(),
            "--no-acl".into(),
            "--exit-on-error".into(),
            "--single-transaction".into(),
            "--dbname".into(),
            url.into(),
            dir.join(PG_DUMP).into_os_string(),
        ],
        password,
    )
    .await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn passwords_leave_the_command_line() {
        assert_eq!(
            without_password("postgres://hopthu:p%40ss:w@db:5432/mail"),
            (
                "postgres://hopthu@db:5432/mail".to_string(),
                Some("p@ss:w".to_string())
            )
        );
        assert_eq!(
            without_password("postgres://hopthu@db/mail"),
            ("postgres://hopthu@db/mail".to_string(), None)
        );
        assert_eq!(
            without_password("postgres://db/mail?x=%"),
            ("postgres://db/mail?x=%".to_string(), None)
        );
        assert_eq!(
            without_password("postgres://u:%zz@h/d").1.as_deref(),
            Some("%zz")
        );
    }
}
