//! Freeing message bodies that nothing refers to any more (after EXPUNGE, Trash/Junk emptying,
//! the purge of a revoked account, the end of an outbound delivery): the store's collector
//! (`hopthu_store::Store::collect_blobs`, which documents the protocol), counted in the
//! metrics. `serve` runs it after each periodic sweep; `hopthu blobs gc` runs it once.

use hopthu_config::Config;
use hopthu_store::{BlobStore, GcOptions, GcReport, S3Options, StoreError};

use crate::{Core, Result};

/// The blob store `[blobs]` names: an S3-compatible bucket, or `None` for the files under
/// `data_dir/blobs` (which `Store::open_embedded` opens itself).
pub fn open_blob_store(config: &Config) -> std::result::Result<Option<BlobStore>, StoreError> {
    let Some(s3) = &config.blobs.s3 else {
        return Ok(None);
    };
    let options = S3Options {
        bucket: s3.bucket.clone(),
        prefix: s3.prefix.clone(),
        endpoint: s3.endpoint.clone(),
        region: s3.region.clone(),
        access_key: s3.access_key.clone(),
        secret_key: s3.secret_key.clone(),
    };
    let lease_dir = config.data_dir.join(hopthu_store::backup::BLOBS);
    BlobStore::open_s3(&options, &lease_dir).map(Some)
}

impl Core {
    /// Deletes the bodies no message or queued message refers to and that are older than
    /// `options.grace`; nothing while a backup runs ([`GcReport::busy`]).
    pub async fn collect_blobs(&self, options: &GcOptions) -> Result<GcReport> {
        let report = self.store.collect_blobs(options).await?;
        if !options.dry_run {
            crate::metrics::bump(&self.metrics.blobs_freed, report.freed);
            crate::metrics::bump(&self.metrics.blob_bytes_freed, report.freed_bytes);
        }
        Ok(report)
    }
}
