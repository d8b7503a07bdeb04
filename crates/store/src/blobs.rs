//! Message bodies as content-addressed files: `blobs/ab/cd/<sha256>`.
//!
//! **Invariant**: [`BlobStore::put`] returns only after the file's data and its directory entry
//! are on disk (write to a temporary file beside the final name, `sync_all`, rename, fsync the
//! directory), so a blob id handed out survives a crash and a file under its final name is
//! always complete. Identical bodies are stored once.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::{Result, StoreError};

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

/// Where blobs are kept. Only local files for now.
pub enum BlobStore {
    Local(LocalBlobs),
}

impl BlobStore {
    pub fn open_local(root: &Path) -> Result<BlobStore> {
        fs::create_dir_all(root.join("tmp")).map_err(|e| StoreError::io("create blob dir", e))?;
        Ok(BlobStore::Local(LocalBlobs {
            root: root.to_path_buf(),
        }))
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
        }
    }
}

#[derive(Clone)]
pub struct LocalBlobs {
    root: PathBuf,
}

impl LocalBlobs {
    fn path(&self, id: &BlobId) -> PathBuf {
        let h = id.as_str();
        self.root.join(&h[0..2]).join(&h[2..4]).join(h)
    }

    fn put(&self, bytes: &[u8]) -> Result<BlobId> {
        let id = BlobId::of(bytes);
        let path = self.path(&id);
        if path.exists() {
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
}
