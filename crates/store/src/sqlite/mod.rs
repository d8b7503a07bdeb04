//! The SQLite back-end: one file in WAL mode, `synchronous=FULL`, one writer connection (writes
//! are serialised here rather than fought over with busy retries) and a pool of readers.
//!
//! Every write runs in `BEGIN IMMEDIATE`, so another process (the `hopthu account add` command
//! while the server runs) waits on the busy timeout instead of failing half-way.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use crate::{Result, StoreError};

mod dialect;
mod text_index;

// The SQL shared with PostgreSQL, compiled here against `Db = Sqlite`.
#[path = "../sql/blob_gc.rs"]
pub(crate) mod blob_gc;
#[path = "../sql/delegation.rs"]
mod delegation;
#[path = "../sql/directory.rs"]
mod directory;
#[path = "../sql/documents.rs"]
mod documents;
#[path = "../sql/group.rs"]
mod group;
#[path = "../sql/incidents.rs"]
mod incidents;
#[path = "../sql/ledger.rs"]
mod ledger;
#[path = "../sql/lifecycle.rs"]
mod lifecycle;
#[path = "../sql/mail.rs"]
mod mail;
#[path = "../sql/migrate.rs"]
mod migrate;
#[path = "../sql/queue.rs"]
mod queue;
#[path = "../sql/rate.rs"]
mod rate;
#[path = "../sql/reorganise.rs"]
mod reorganise;
#[path = "../sql/search.rs"]
mod search;
#[path = "../sql/sieve.rs"]
mod sieve;
#[path = "../sql/web.rs"]
mod web;

pub(crate) type Db = Sqlite;
pub(crate) type DbRow = SqliteRow;
pub(crate) type Tx = Transaction<'static, Sqlite>;
/// The shared SQL's methods are implemented on this back-end's struct.
pub(crate) type Backend = SqliteMeta;

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Migrations in order; each runs once, recorded in `schema_migrations`.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../../migrations/sqlite/0001_foundation.sql"),
    ),
    (
        2,
        include_str!("../../migrations/sqlite/0002_directory.sql"),
    ),
    (3, include_str!("../../migrations/sqlite/0003_queue.sql")),
    (4, include_str!("../../migrations/sqlite/0004_search.sql")),
    (5, include_str!("../../migrations/sqlite/0005_usage.sql")),
    (
        6,
        include_str!("../../migrations/sqlite/0006_lifecycle.sql"),
    ),
    (7, include_str!("../../migrations/sqlite/0007_web.sql")),
    (
        8,
        include_str!("../../migrations/sqlite/0008_subscriptions.sql"),
    ),
    (9, include_str!("../../migrations/sqlite/0009_sign_ins.sql")),
    (
        10,
        include_str!("../../migrations/sqlite/0010_quota_warning.sql"),
    ),
    (
        11,
        include_str!("../../migrations/sqlite/0011_added_at.sql"),
    ),
    (12, include_str!("../../migrations/sqlite/0012_blob_gc.sql")),
    (
        13,
        include_str!("../../migrations/sqlite/0013_queue_lease.sql"),
    ),
    (
        14,
        include_str!("../../migrations/sqlite/0014_search_substrings.sql"),
    ),
    (15, include_str!("../../migrations/sqlite/0015_recent.sql")),
    (
        16,
        include_str!("../../migrations/sqlite/0016_rate_events.sql"),
    ),
    (
        17,
        include_str!("../../migrations/sqlite/0017_unit_delegates.sql"),
    ),
    (
        18,
        include_str!("../../migrations/sqlite/0018_audit_target.sql"),
    ),
    (
        19,
        include_str!("../../migrations/sqlite/0019_documents.sql"),
    ),
    (
        20,
        include_str!("../../migrations/sqlite/0020_unit_dissolution.sql"),
    ),
    (
        21,
        include_str!("../../migrations/sqlite/0021_mailbox_opens.sql"),
    ),
    (
        22,
        include_str!("../../migrations/sqlite/0022_account_exceptions.sql"),
    ),
    (
        23,
        include_str!("../../migrations/sqlite/0023_inspection.sql"),
    ),
    (
        24,
        include_str!("../../migrations/sqlite/0024_incidents.sql"),
    ),
    (
        25,
        include_str!("../../migrations/sqlite/0025_mailbox_events.sql"),
    ),
    (
        26,
        include_str!("../../migrations/sqlite/0026_compromise_confirmation.sql"),
    ),
    (
        27,
        include_str!("../../migrations/sqlite/0027_ledger_units.sql"),
    ),
    (28, include_str!("../../migrations/sqlite/0028_sieve.sql")),
];

/// The last migration: an embedded database at another version is not copied as it is.
pub(crate) const LATEST_MIGRATION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

pub(crate) struct SqliteMeta {
    pub(crate) read: SqlitePool,
    pub(crate) write: SqlitePool,
    /// Writes for the group-commit writer task (`group.rs`).
    deliveries: tokio::sync::mpsc::Sender<group::WriteJob>,
    group: std::sync::Arc<group::GroupStats>,
}

impl SqliteMeta {
    pub(crate) async fn open(path: &Path) -> Result<SqliteMeta> {
        let db = Self::connect(path).await?;
        db.migrate(MIGRATIONS).await?;
        Ok(db)
    }

    /// Connects without migrating.
    pub(crate) async fn connect(path: &Path) -> Result<SqliteMeta> {
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(StoreError::Database)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let (deliveries, jobs) = tokio::sync::mpsc::channel(4 * group::MAX_BATCH);
        let group = std::sync::Arc::new(group::GroupStats::default());
        // SQLite names the WAL after the database: `<file>-wal`.
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        tokio::spawn(group::run(
            write.clone(),
            jobs,
            group.clone(),
            Some(wal.into()),
        ));
        let db = SqliteMeta {
            read: SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options.read_only(true))
                .await?,
            write,
            deliveries,
            group,
        };
        Ok(db)
    }

    /// Applies migrations up to `version` only (tests of a later migration on older data).
    #[cfg(test)]
    pub(crate) async fn migrate_to(&self, version: i64) -> Result<()> {
        let upto = MIGRATIONS.iter().take_while(|(v, _)| *v <= version).count();
        self.migrate(&MIGRATIONS[..upto]).await
    }

    async fn begin(&self) -> Result<Tx> {
        Ok(self.write.begin_with(dialect::BEGIN_WRITE).await?)
    }
}

/// One node: nothing to announce or listen to, every job is this node's.
#[async_trait::async_trait]
impl crate::NodeStore for SqliteMeta {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn announce_changes(&self, _payloads: &[String]) -> Result<()> {
        Ok(())
    }

    async fn listen_changes(&self) -> Result<Option<tokio::sync::mpsc::Receiver<String>>> {
        Ok(None)
    }

    async fn try_job(&self, _job: crate::Job) -> Result<Option<crate::JobGuard>> {
        Ok(Some(crate::JobGuard { _held: None }))
    }

    async fn blob_gate(&self) -> Result<crate::JobGuard> {
        Ok(crate::JobGuard { _held: None })
    }

    async fn record_blob_deletions(&self, _ids: &[crate::BlobId], _at: i64) -> Result<()> {
        Ok(())
    }

    async fn blobs_deleted_since(
        &self,
        _ids: &[crate::BlobId],
        _since: i64,
    ) -> Result<Vec<(crate::BlobId, i64)>> {
        Ok(Vec::new())
    }

    async fn close(&self) {
        let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.write)
            .await;
        self.write.close().await;
        self.read.close().await;
    }
}
