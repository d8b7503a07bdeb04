//! `hopthu blobs gc [--dry-run] [--grace SECONDS]`: deletes the message bodies nothing refers
//! to any more (deleted mail, emptied Trash and Junk, purged mailboxes, delivered outbound
//! mail). The collector and its protocol are `hopthu_store`'s (`gc.rs`); `serve` runs it after
//! each periodic sweep, `lifecycle sweep` after its purge.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use hopthu_core::Core;
use hopthu_store::{DEFAULT_GRACE, GcOptions, GcReport};

#[derive(Subcommand)]
pub enum BlobsCommand {
    /// Dọn nội dung thư đã xoá / delete the message bodies that no message and no queued
    /// message refers to, once they are older than --grace. While a backup runs nothing is
    /// deleted.
    Gc {
        /// Count what would be freed; delete nothing.
        #[arg(long)]
        dry_run: bool,
        /// Seconds a body must have been on disk, unreferenced, before it goes.
        #[arg(long, default_value_t = DEFAULT_GRACE.as_secs())]
        grace: u64,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// One line for the operator: what was (or would be) freed.
pub fn summary(report: &GcReport, dry_run: bool) -> String {
    let verb = if dry_run {
        "Sẽ giải phóng / would free"
    } else {
        "Đã giải phóng / freed"
    };
    format!(
        "{verb}: {} nội dung thư / message bodies, {} bytes ({:.1} MiB); {} chưa đủ hạn / too recent to delete.",
        report.freed,
        report.freed_bytes,
        report.freed_bytes as f64 / (1024.0 * 1024.0),
        report.young
    )
}

const BUSY: &str = "Đang sao lưu / a backup (or another collection) is running: nothing was deleted; run again when it has finished.";

pub async fn run(command: BlobsCommand) -> anyhow::Result<()> {
    let BlobsCommand::Gc {
        dry_run,
        grace,
        config,
    } = command;
    let core = Core::open(crate::load_config(config.as_deref())?)
        .await
        .context("open the store")?;
    let result = core
        .collect_blobs(&GcOptions {
            grace: Duration::from_secs(grace),
            dry_run,
        })
        .await;
    core.close().await;
    let report = result?;
    anyhow::ensure!(!report.busy, "{BUSY}");
    println!("{}", summary(&report, dry_run));
    Ok(())
}

/// The collection `serve` and `lifecycle sweep` run after a sweep; failures are logged, never
/// fatal. Returns the report when the collector ran.
pub async fn collect_after_sweep(core: &Core) -> Option<GcReport> {
    match core.collect_blobs(&GcOptions::default()).await {
        Ok(r) if r.busy => {
            tracing::info!("blob collection skipped: a backup is running");
            None
        }
        Ok(r) => {
            if r.freed > 0 || r.restored > 0 {
                tracing::info!(
                    freed = r.freed,
                    freed_bytes = r.freed_bytes,
                    restored = r.restored,
                    "message bodies collected"
                );
            }
            Some(r)
        }
        Err(e) => {
            tracing::warn!(error = %e, "blob collection failed");
            None
        }
    }
}
