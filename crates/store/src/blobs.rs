//! Message bodies, content-addressed: files `blobs/ab/cd/<sha256>` ([`LocalBlobs`]) or objects
//! `[PREFIX/]ab/cd/<sha256>` of an S3-compatible bucket ([`S3Blobs`], `blobs/s3.rs`).
//!
//! For local files:
//! **Invariant**: [`BlobStore::put`] returns only after the file's data and its directory entry
//! are on disk (write to a temporary file beside the final name, `sync_all`, rename, fsync the
//! directory), so a blob id handed out survives a crash and a file under its final name is
//! always complete. Identical bodies are stored once.
//!
//! **Invariant** (for the collector, `gc.rs`): a `put` of a body already on disk refreshes
//! the file's modification time and checks that the file it touched is still the one under
//! the final name, writing it anew otherwise. So a body handed out by `put` has, from then on,
//! a file under its name whose mtime is no older than the `put`, until the collector finds it
//! unreferenced after the grace period.

use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use crate::{Result, StoreError};

mod s3;
pub(crate) use s3::Listed;
pub use s3::{S3Blobs, S3Options};

/// SHA-256 of a blob, lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobId(String);

impl BlobId {
    /// Accepts only 64 lower-case hex digits.
    pub fn parse(s: &str) -> Option<BlobId> {
        (s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| BlobId(s.to_string()))
    }

    pub fn of(bytes: &[u8]) -> BlobId {
        BlobId(hex::encode(Sha256::digest(bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where blobs are kept: files under the data directory, or an S3-compatible bucket.
pub enum BlobStore {
    Local(LocalBlobs),
    S3(S3Blobs),
}

impl BlobStore {
    pub fn open_local(root: &Path) -> Result<BlobStore> {
        fs::create_dir_all(root.join("tmp")).map_err(|e| StoreError::io("create blob dir", e))?;
        let local = LocalBlobs {
            root: root.to_path_buf(),
        };
        // Created by the server's own user, so that a backup run by another user can open it.
        local
            .open_lease()
            .map_err(|e| StoreError::io("create backup lease", e))?;
        Ok(BlobStore::Local(local))
    }

    /// Message bodies in an S3-compatible bucket. `lease_dir` (the data directory's `blobs/`)
    /// holds the backup lease, as with local blobs. Nothing is sent yet: a wrong endpoint or
    /// key shows in the first request (and in [`BlobStore::probe`]).
    pub fn open_s3(options: &S3Options, lease_dir: &Path) -> Result<BlobStore> {
        Ok(BlobStore::S3(S3Blobs::open(options, lease_dir)?))
    }

    /// Where the bodies are, for messages: a folder or `s3://BUCKET/PREFIX`.
    pub fn describe(&self) -> String {
        match self {
            BlobStore::Local(local) => local.root.display().to_string(),
            BlobStore::S3(s3) => s3.describe().to_string(),
        }
    }

    /// Whether a body can be stored now (for `/healthz`): a small file written and removed in
    /// the blob folder, or a small object in the bucket.
    pub async fn probe(&self) -> std::result::Result<(), String> {
        match self {
            BlobStore::Local(local) => {
                // A name of its own, so that checks at the same moment do not trip over each
                // other.
                let probe = local
                    .root
                    .join(format!(".health.{:x}", rand::random::<u64>()));
                let written = tokio::task::spawn_blocking(move || {
                    std::fs::write(&probe, b"ok").and_then(|_| std::fs::remove_file(&probe))
                })
                .await;
                match written {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(format!("blob folder: {e}")),
                    Err(e) => Err(format!("blob folder: {e}")),
                }
            }
            BlobStore::S3(s3) => s3.probe().await.map_err(|e| format!("blob store: {e}")),
        }
    }

    /// Stores `bytes` durably and returns its id. Blocking file I/O runs off the async threads.
    pub async fn put(&self, bytes: std::sync::Arc<Vec<u8>>) -> Result<BlobId> {
        match self {
            BlobStore::Local(local) => {
                let local = local.clone();
                tokio::task::spawn_blocking(move || local.put(&bytes))
                    .await
                    .map_err(|e| StoreError::io("blob task", std::io::Error::other(e)))?
            }
            BlobStore::S3(s3) => s3.put(bytes).await,
        }
    }

    /// The first `max` bytes of a blob (enough for the header of a message list).
    pub async fn head(&self, id: &BlobId, max: usize) -> Result<Vec<u8>> {
        use tokio::io::AsyncReadExt;
        match self {
            BlobStore::Local(local) => {
                let file = match tokio::fs::File::open(local.path(id)).await {
                    Ok(f) => f,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        return Err(StoreError::NotFound(format!("blob {}", id.as_str())));
                    }
                    Err(e) => return Err(StoreError::io("open blob", e)),
                };
                let mut out = Vec::with_capacity(max.min(64 * 1024));
                file.take(max as u64)
                    .read_to_end(&mut out)
                    .await
                    .map_err(|e| StoreError::io("read blob", e))?;
                Ok(out)
            }
            BlobStore::S3(s3) => s3.head(id, max).await,
        }
    }

    /// Several blobs read in one trip to the blocking pool (FETCH of a range): one result per
    /// id, in order.
    pub async fn get_many(&self, ids: Vec<BlobId>) -> Result<Vec<Result<Vec<u8>>>> {
        match self {
            BlobStore::Local(local) => {
                let local = local.clone();
                tokio::task::spawn_blocking(move || {
                    ids.iter()
                        .map(|id| match std::fs::read(local.path(id)) {
                            Ok(bytes) => Ok(bytes),
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                                Err(StoreError::NotFound(format!("blob {}", id.as_str())))
                            }
                            Err(e) => Err(StoreError::io("read blob", e)),
                        })
                        .collect()
                })
                .await
                .map_err(|e| StoreError::io("blob task", std::io::Error::other(e)))
            }
            BlobStore::S3(s3) => Ok(s3.get_many(ids).await),
        }
    }

    pub async fn get(&self, id: &BlobId) -> Result<Vec<u8>> {
        match self {
            BlobStore::Local(local) => match tokio::fs::read(local.path(id)).await {
                Ok(bytes) => Ok(bytes),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Err(StoreError::NotFound(format!("blob {}", id.as_str())))
                }
                Err(e) => Err(StoreError::io("read blob", e)),
            },
            BlobStore::S3(s3) => s3.get(id).await,
        }
    }
}

#[derive(Clone)]
pub struct LocalBlobs {
    root: PathBuf,
}

impl LocalBlobs {
    pub(crate) fn path(&self, id: &BlobId) -> PathBuf {
        let h = id.as_str();
        self.root.join(&h[0..2]).join(&h[2..4]).join(h)
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Where the collector parks a file between its checks (`gc.rs`): a dot name beside it.
    pub(crate) fn tomb(&self, id: &BlobId) -> PathBuf {
        let h = id.as_str();
        self.root
            .join(&h[0..2])
            .join(&h[2..4])
            .join(format!("{TOMB_PREFIX}{h}"))
    }

    /// Opens (creating) the lease file backups lock shared and the collector exclusively.
    pub(crate) fn open_lease(&self) -> std::io::Result<File> {
        lease_file(&self.root)
    }

    /// Marks an existing file as just written: its mtime becomes now. True only if the file
    /// touched is still the one under `path` afterwards (the collector may have moved it away
    /// in between; then the caller writes the body anew).
    fn refresh(path: &Path) -> bool {
        let Ok(file) = File::open(path) else {
            return false;
        };
        if file.set_modified(SystemTime::now()).is_err() {
            return false;
        }
        match (file.metadata(), fs::metadata(path)) {
            (Ok(held), Ok(named)) => held.dev() == named.dev() && held.ino() == named.ino(),
            _ => false,
        }
    }

    fn put(&self, bytes: &[u8]) -> Result<BlobId> {
        let id = BlobId::of(bytes);
        let path = self.path(&id);
        if Self::refresh(&path) {
            return Ok(id);
        }
        let dir = path.parent().expect("blob path has a parent");
        fs::create_dir_all(dir).map_err(|e| StoreError::io("create blob dir", e))?;
        // The temporary file sits beside its final name (a dot name no reader looks up): the
        // rename stays inside one directory, and concurrent writes spread over many
        // directories (and inode groups) instead of all contending for one `tmp/`.
        let tmp = dir.join(format!(".tmp.{}.{}", id.as_str(), rand::random::<u64>()));
        let write = || -> std::io::Result<()> {
            let mut file = File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&tmp, &path)?;
            File::open(dir)?.sync_all()
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            StoreError::io("write blob", e)
        })?;
        Ok(id)
    }
}

/// Name of the tombstone prefix (`.gc.<sha256>`) the collector renames a file to.
pub(crate) const TOMB_PREFIX: &str = ".gc.";
/// The lease file in the blob folder (see `gc.rs`).
pub const LEASE: &str = ".backup-lease";

pub(crate) fn lease_file(root: &Path) -> std::io::Result<File> {
    let path = root.join(LEASE);
    // A lock needs only an open file: read-only is enough, and works whoever created it.
    match File::open(&path) {
        Ok(file) => Ok(file),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path),
        Err(e) => Err(e),
    }
}

/// A running backup's hold on the bodies its snapshot names: while it lives, the collector
/// deletes nothing (a shared lock on `blobs/.backup-lease`; several backups may hold it at
/// once). The operating system drops it when the process ends, so a killed backup leaves no
/// stale lease.
pub struct BackupLease {
    _file: File,
}

impl BackupLease {
    /// Takes the lease of the data directory `data_dir`, waiting while a collection runs.
    pub fn acquire(data_dir: &Path) -> Result<BackupLease> {
        let root = data_dir.join(crate::backup::BLOBS);
        fs::create_dir_all(&root).map_err(|e| StoreError::io("create blob dir", e))?;
        let file = lease_file(&root).map_err(|e| StoreError::io("open backup lease", e))?;
        file.lock_shared()
            .map_err(|e| StoreError::io("lock backup lease", e))?;
        Ok(BackupLease { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_get_dedupe() {
        let dir = std::env::temp_dir().join(format!("hopthu-blobs-{}", rand::random::<u64>()));
        let store = BlobStore::open_local(&dir).unwrap();
        let a = store
            .put(std::sync::Arc::new(b"xin chao".to_vec()))
            .await
            .unwrap();
        let b = store
            .put(std::sync::Arc::new(b"xin chao".to_vec()))
            .await
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(store.get(&a).await.unwrap(), b"xin chao");
        let missing = BlobId::of(b"nothing");
        assert!(matches!(
            store.get(&missing).await,
            Err(StoreError::NotFound(_))
        ));
        fs::remove_dir_all(dir).unwrap();
    }

    /// A `put` of a body already stored makes its file young again, so the collector's grace
    /// period counts from the newest delivery of the body, not from the first.
    #[tokio::test]
    async fn a_second_put_refreshes_the_file() {
        let dir = std::env::temp_dir().join(format!("hopthu-blobs-{}", rand::random::<u64>()));
        let store = BlobStore::open_local(&dir).unwrap();
        let BlobStore::Local(local) = &store else {
            unreachable!("opened local")
        };
        let body = std::sync::Arc::new(b"van ban".to_vec());
        let id = store.put(body.clone()).await.unwrap();
        let old = SystemTime::now() - std::time::Duration::from_secs(86_400);
        File::open(local.path(&id))
            .unwrap()
            .set_modified(old)
            .unwrap();
        store.put(body).await.unwrap();
        let mtime = fs::metadata(local.path(&id)).unwrap().modified().unwrap();
        assert!(
            mtime > old + std::time::Duration::from_secs(3600),
            "{mtime:?}"
        );
        fs::remove_dir_all(dir).unwrap();
    }
}
