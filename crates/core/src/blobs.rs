//! Freeing message bodies that nothing refers to any more (after EXPUNGE, Trash/Junk emptying,
//! the purge of a revoked account, the end of an outbound delivery): the store's collector
//! (`hopthu_store::Store::collect_blobs`, which documents the protocol), counted in the
//! metrics. `serve` runs it after each periodic sweep; `hopthu blobs gc` runs it once.

use hopthu_store::{GcOptions, GcReport};

use crate::{Core, Result};

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
