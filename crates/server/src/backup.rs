//! `hopthu backup create|verify|restore`: an online backup of the data directory (the
//! database snapshot, the blobs it names, the DKIM and TLS keys) into a folder, a check of
//! such a folder, and a restore into an empty data directory. On PostgreSQL (`[store] url`)
//! the snapshot is a `pg_dump` (postgresql-client) with the list of bodies it names, and a
//! restore goes into an empty database with `pg_restore`. The work is done by
//! `hopthu_store::backup`; this is the command line.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use hopthu_store::backup;

#[derive(Subcommand)]
pub enum BackupCommand {
    /// Sao lưu / back up the data directory into FOLDER while the server runs. A folder that
    /// already holds a backup is brought up to date: only new message bodies are copied, and
    /// those of mail deleted since are removed. On PostgreSQL the database is taken with
    /// pg_dump (postgresql-client) from one snapshot.
    Create {
        folder: PathBuf,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Kiểm tra / check a backup: complete, and every message body intact (SHA-256).
    Verify { folder: PathBuf },
    /// Khôi phục / restore a backup into the configured data directory, which must not hold
    /// a database yet (on PostgreSQL: into the configured database, which must have no table,
    /// with pg_restore). A damaged backup is refused and nothing is written.
    Restore {
        folder: PathBuf,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

pub async fn run(command: BackupCommand) -> anyhow::Result<()> {
    match command {
        BackupCommand::Create { folder, config } => {
            let config = crate::load_config(config.as_deref())?;
            let blobs = hopthu_core::open_blob_store(&config).context("open the blob store")?;
            let report = match &config.store.url {
                // pg_dump of one snapshot, and the bodies it names.
                Some(url) => {
                    backup::backup_postgres(url, &config.data_dir, blobs.as_ref(), &folder).await
                }
                None => backup::backup_with(&config.data_dir, blobs.as_ref(), &folder).await,
            }
            .with_context(|| format!("backup into {}", folder.display()))?;
            // A backup holds all the mail and keys: private like the data directory (also a
            // folder made before the umask).
            crate::private::tighten(&folder)
                .with_context(|| format!("make {} private", folder.display()))?;
            println!(
                "Đã sao lưu / backed up {} into {}: database {}, {} message bodies ({}), {} new ({}), {} of deleted mail removed ({}).",
                config.data_dir.display(),
                folder.display(),
                mib(report.database_bytes),
                report.blobs,
                mib(report.blob_bytes),
                report.copied,
                mib(report.copied_bytes),
                report.removed,
                mib(report.removed_bytes)
            );
            Ok(())
        }
        BackupCommand::Verify { folder } => {
            let report = backup::verify(&folder)
                .await
                .with_context(|| format!("verify {}", folder.display()))?;
            for problem in &report.problems {
                println!("{problem}");
            }
            anyhow::ensure!(
                report.problems.is_empty(),
                "Bản sao lưu bị hỏng / the backup is damaged: {} of {} message bodies",
                report.problems.len(),
                report.blobs
            );
            println!(
                "Bản sao lưu nguyên vẹn / the backup is intact: {} message bodies ({}).",
                report.blobs,
                mib(report.blob_bytes)
            );
            Ok(())
        }
        BackupCommand::Restore { folder, config } => {
            let config = crate::load_config(config.as_deref())?;
            let blobs = hopthu_core::open_blob_store(&config).context("open the blob store")?;
            let report = match &config.store.url {
                Some(url) => {
                    backup::restore_postgres(&folder, url, &config.data_dir, blobs.as_ref()).await
                }
                None => backup::restore_with(&folder, &config.data_dir, blobs.as_ref()).await,
            }
            .with_context(|| format!("restore {}", folder.display()))?;
            println!(
                "Đã khôi phục / restored {} into {}: {} message bodies ({}). Start the server with this configuration.",
                folder.display(),
                config.data_dir.display(),
                report.blobs,
                mib(report.blob_bytes)
            );
            Ok(())
        }
    }
}
