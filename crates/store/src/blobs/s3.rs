//! Message bodies as objects of an S3-compatible store: `[PREFIX/]ab/cd/<sha256>`.
//!
//! **Invariant**: [`S3Blobs::put`] returns only after the store acknowledged the PUT (S3 makes
//! an object visible whole or not at all, so no temporary name is needed). A `put` always
//! uploads, also when the object exists: that is what moves its `Last-Modified` to now, which
//! the collector's grace period counts from (the local store touches the file's mtime for the
//! same reason; S3 has no cheaper "touch" that every implementation accepts — a copy onto itself
//! needs a metadata directive `object_store` does not send).
//!
//! **Collector gate**: a `put` holds the gate shared for its upload; the collector holds it
//! exclusively around its last look at an object (`HEAD`, still old?) and the `DELETE`. So an
//! upload either lands before that look (and the object is kept) or after the delete (and
//! writes it anew): no delivery loses its body to a concurrent collection. The gate is a
//! `flock` of `data_dir/blobs/.put-gate` (each `put` opens it anew, so that the uploads of one
//! process do not share a lock), which also covers a `hopthu blobs gc` run in another process
//! than the server, behind an in-process `RwLock` that queues new uploads behind a waiting
//! collector.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, RetryConfig};

use super::BlobId;
use crate::{Result, StoreError};

/// How to reach a bucket (from `[blobs]` of the configuration).
#[derive(Clone, PartialEq, Eq)]
pub struct S3Options {
    pub bucket: String,
    /// Every key starts with `PREFIX/`; empty = the bucket's root.
    pub prefix: String,
    /// The API's base URL (`http://` allowed); `None` = AWS S3 of `region`.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
}

impl std::fmt::Debug for S3Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Options")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .finish_non_exhaustive()
    }
}

/// One object of the store, as the collector lists it.
pub(crate) struct Listed {
    pub id: BlobId,
    pub size: u64,
    pub modified: std::time::SystemTime,
}

#[derive(Clone)]
pub struct S3Blobs {
    store: Arc<AmazonS3>,
    prefix: Option<Key>,
    /// `data_dir/blobs`: holds the backup lease, as with local blobs.
    lease_root: PathBuf,
    gate: Arc<tokio::sync::RwLock<()>>,
    /// `data_dir/blobs/.put-gate`, locked shared by each upload and exclusively by the
    /// collector around a delete.
    gate_file: PathBuf,
    describe: String,
}

/// An `object_store` error as a store error: a missing object is `NotFound`, the rest I/O.
fn fail(context: &'static str, id: Option<&BlobId>, e: object_store::Error) -> StoreError {
    match e {
        object_store::Error::NotFound { .. } => StoreError::NotFound(match id {
            Some(id) => format!("blob {}", id.as_str()),
            None => "object".into(),
        }),
        e => StoreError::io(context, std::io::Error::other(e)),
    }
}

impl S3Blobs {
    pub(crate) fn open(options: &S3Options, lease_root: &Path) -> Result<S3Blobs> {
        // reqwest's rustls takes the process's crypto provider: ring, like every other TLS
        // use in hopthu. Installing it twice is harmless (the first one stays).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let invalid =
            |what: String| StoreError::io("open S3 blob store", std::io::Error::other(what));
        let prefix = match options.prefix.trim_matches('/') {
            "" => None,
            p => Some(Key::parse(p).map_err(|e| invalid(format!("key prefix {p:?}: {e}")))?),
        };
        // A store that does not answer fails a delivery in seconds (the sender retries), not
        // after minutes.
        let retry = RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(20),
            ..RetryConfig::default()
        };
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&options.bucket)
            .with_region(&options.region)
            .with_access_key_id(&options.access_key)
            .with_secret_access_key(&options.secret_key)
            .with_retry(retry)
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(60)),
            );
        if let Some(endpoint) = &options.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                // Path-style (`endpoint/bucket/key`): what S3-compatible servers all accept.
                .with_virtual_hosted_style_request(false);
        }
        let store = builder.build().map_err(|e| invalid(e.to_string()))?;
        std::fs::create_dir_all(lease_root).map_err(|e| StoreError::io("create blob dir", e))?;
        super::lease_file(lease_root).map_err(|e| StoreError::io("create backup lease", e))?;
        let gate_file = lease_root.join(PUT_GATE);
        gate(&gate_file).map_err(|e| StoreError::io("create put gate", e))?;
        Ok(S3Blobs {
            store: Arc::new(store),
            describe: format!(
                "s3://{}/{}",
                options.bucket,
                prefix.as_ref().map(|p| p.as_ref()).unwrap_or("")
            ),
            prefix,
            lease_root: lease_root.to_path_buf(),
            gate: Arc::default(),
            gate_file,
        })
    }

    /// `s3://BUCKET/PREFIX`, for messages.
    pub fn describe(&self) -> &str {
        &self.describe
    }

    pub(crate) fn lease_root(&self) -> &Path {
        &self.lease_root
    }

    /// Holds the collector gate exclusively: no upload of any process is in flight, and none
    /// starts, until the guard is dropped.
    pub(crate) async fn exclusive(&self) -> Result<Exclusive<'_>> {
        let held = self.gate.write().await;
        let path = self.gate_file.clone();
        let file = tokio::task::spawn_blocking(move || {
            let file = gate(&path)?;
            file.lock()?;
            Ok::<_, std::io::Error>(file)
        })
        .await
        .map_err(|e| StoreError::io("blob task", std::io::Error::other(e)))?
        .map_err(|e| StoreError::io("lock put gate", e))?;
        Ok(Exclusive {
            _file: file,
            _held: held,
        })
    }

    /// The key of a blob: `[PREFIX/]ab/cd/<sha256>`.
    pub fn key(&self, id: &BlobId) -> Key {
        let h = id.as_str();
        let rel = format!("{}/{}/{h}", &h[0..2], &h[2..4]);
        match &self.prefix {
            Some(p) => Key::from(format!("{}/{rel}", p.as_ref())),
            None => Key::from(rel),
        }
    }

    pub(crate) async fn put(&self, bytes: Arc<Vec<u8>>) -> Result<BlobId> {
        let (data, path) = (bytes.clone(), self.gate_file.clone());
        let _shared = self.gate.read().await;
        // One trip to the blocking pool: the hash, and the gate locked shared until the PUT
        // is answered (the lock goes with the file).
        let (id, _gate) = tokio::task::spawn_blocking(move || {
            let file = gate(&path)?;
            file.lock_shared()?;
            Ok::<_, std::io::Error>((BlobId::of(&data), file))
        })
        .await
        .map_err(|e| StoreError::io("blob task", std::io::Error::other(e)))?
        .map_err(|e| StoreError::io("lock put gate", e))?;
        let payload = object_store::PutPayload::from(bytes::Bytes::from_owner(ByteOwner(bytes)));
        self.store
            .put(&self.key(&id), payload)
            .await
            .map_err(|e| fail("write blob", Some(&id), e))?;
        Ok(id)
    }

    pub(crate) async fn get(&self, id: &BlobId) -> Result<Vec<u8>> {
        let got = self
            .store
            .get(&self.key(id))
            .await
            .map_err(|e| fail("read blob", Some(id), e))?;
        let bytes = got
            .bytes()
            .await
            .map_err(|e| fail("read blob", Some(id), e))?;
        Ok(bytes.to_vec())
    }

    /// The first `max` bytes: one ranged GET (a whole GET if the store refuses the range,
    /// e.g. for an empty object).
    pub(crate) async fn head(&self, id: &BlobId, max: usize) -> Result<Vec<u8>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let options = GetOptions::default().with_range(Some(GetRange::Bounded(0..max as u64)));
        let ranged = match self.store.get_opts(&self.key(id), options).await {
            Ok(got) => got.bytes().await,
            Err(e) => Err(e),
        };
        match ranged {
            Ok(bytes) => Ok(bytes[..bytes.len().min(max)].to_vec()),
            Err(object_store::Error::NotFound { .. }) => {
                Err(StoreError::NotFound(format!("blob {}", id.as_str())))
            }
            Err(_) => {
                let mut whole = self.get(id).await?;
                whole.truncate(max);
                Ok(whole)
            }
        }
    }

    /// Several blobs, a few requests at a time, in order.
    pub(crate) async fn get_many(&self, ids: Vec<BlobId>) -> Vec<Result<Vec<u8>>> {
        futures_util::stream::iter(ids)
            .map(|id| async move { self.get(&id).await })
            .buffered(8)
            .collect()
            .await
    }

    /// Size and last-modified time of a blob; `None` when it is not there.
    pub(crate) async fn stat(&self, id: &BlobId) -> Result<Option<(u64, std::time::SystemTime)>> {
        match self.store.head(&self.key(id)).await {
            Ok(meta) => Ok(Some((meta.size, meta.last_modified.into()))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(fail("look up blob", Some(id), e)),
        }
    }

    /// Deletes a blob (absent is fine).
    pub(crate) async fn delete(&self, id: &BlobId) -> Result<()> {
        match self.store.delete(&self.key(id)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(fail("delete blob", Some(id), e)),
        }
    }

    /// The top-level folders (`ab`) under the prefix: one delimited listing.
    pub(crate) async fn top_prefixes(&self) -> Result<Vec<String>> {
        let listed = self
            .store
            .list_with_delimiter(self.prefix.as_ref())
            .await
            .map_err(|e| fail("list blobs", None, e))?;
        let mut out: Vec<String> = listed
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().map(str::to_string))
            .filter(|name| {
                name.len() == 2 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            })
            .collect();
        out.sort();
        Ok(out)
    }

    /// Every blob under `[PREFIX/]top/` whose key is where its name says (`ab/cd/<ab…>`);
    /// other keys are not ours and are left alone. One folder at a time keeps a collection's
    /// memory to a 256th of the bucket.
    pub(crate) async fn list(&self, top: &str) -> Result<Vec<Listed>> {
        let skip = self.prefix.as_ref().map_or(0, |p| p.parts().count());
        let under = match &self.prefix {
            Some(p) => Key::from(format!("{}/{top}", p.as_ref())),
            None => Key::from(top),
        };
        let objects: Vec<object_store::ObjectMeta> = self
            .store
            .list(Some(&under))
            .try_collect()
            .await
            .map_err(|e| fail("list blobs", None, e))?;
        let mut out = Vec::with_capacity(objects.len());
        for meta in objects {
            let parts: Vec<String> = meta
                .location
                .parts()
                .skip(skip)
                .map(|p| p.as_ref().to_string())
                .collect();
            let [a, b, name] = parts.as_slice() else {
                continue;
            };
            let Some(id) = BlobId::parse(name) else {
                continue;
            };
            if a == top
                && id.as_str().get(0..2) == Some(a.as_str())
                && id.as_str().get(2..4) == Some(b.as_str())
            {
                out.push(Listed {
                    id,
                    size: meta.size,
                    modified: meta.last_modified.into(),
                });
            }
        }
        Ok(out)
    }

    /// A write and a delete of a small object under `[PREFIX/]health/`: the bucket is
    /// reachable, the key may write, and the store takes data.
    pub(crate) async fn probe(&self) -> std::result::Result<(), String> {
        let name = format!("health/{:x}", rand::random::<u64>());
        let key = match &self.prefix {
            Some(p) => Key::from(format!("{}/{name}", p.as_ref())),
            None => Key::from(name),
        };
        self.store
            .put(&key, object_store::PutPayload::from_static(b"ok"))
            .await
            .map_err(|e| format!("{}: {e}", self.describe))?;
        self.store
            .delete(&key)
            .await
            .map_err(|e| format!("{}: {e}", self.describe))
    }
}

/// The gate file's name in `data_dir/blobs`.
pub(crate) const PUT_GATE: &str = ".put-gate";

/// Opens (creating) the gate file; read-only is enough for a lock.
fn gate(path: &Path) -> std::io::Result<std::fs::File> {
    match std::fs::File::open(path) {
        Ok(file) => Ok(file),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path),
        Err(e) => Err(e),
    }
}

/// The collector gate, held exclusively (see the module documentation).
pub(crate) struct Exclusive<'a> {
    _file: std::fs::File,
    _held: tokio::sync::RwLockWriteGuard<'a, ()>,
}

/// Lets `Bytes` borrow an `Arc<Vec<u8>>` without copying the body.
struct ByteOwner(Arc<Vec<u8>>);

impl AsRef<[u8]> for ByteOwner {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}
