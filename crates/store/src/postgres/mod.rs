//! The PostgreSQL back-end (`[store] url = "postgres://USER@HOST:PORT/DB"`): for a province
//! that wants its metadata on a database server, shared by several `hopthu serve` nodes.
//!
//! It runs the same SQL as SQLite (`src/sql/`, compiled here against `Db = Postgres`) except
//! where `dialect.rs` and `text_index.rs` say otherwise, and keeps the same promises
//! (`contract.rs`). Writes run at READ COMMITTED in a pool of connections; where a write reads
//! before it writes (flags, expunge, move, the audit chain, explicit ids) it first locks what
//! it will change (`dialect.rs`), so concurrent writers — on this node or another — queue up
//! instead of overwriting each other. Commits are durable when PostgreSQL's `synchronous_commit`
//! is on (its default), which "250 = stored" relies on.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Transaction};

use crate::{Result, StoreError};

mod dialect;
mod text_index;

// The SQL shared with SQLite, compiled here against `Db = Postgres`.
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

pub(crate) type Db = Postgres;
pub(crate) type DbRow = PgRow;
pub(crate) type Tx = Transaction<'static, Postgres>;
/// The shared SQL's methods are implemented on this back-end's struct.
pub(crate) type Backend = PgMeta;

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Migrations in order; each runs once, recorded in `schema_migrations`.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_schema.sql")),
    (
        2,
        include_str!("../../migrations/postgres/0002_search_substrings.sql"),
    ),
    (3, include_str!("../../migrations/postgres/0003_recent.sql")),
    (
        4,
        include_str!("../../migrations/postgres/0004_rate_events.sql"),
    ),
    (
        5,
        include_str!("../../migrations/postgres/0005_blob_deletions.sql"),
    ),
    (
        6,
        include_str!("../../migrations/postgres/0006_unit_delegates.sql"),
    ),
    (
        7,
        include_str!("../../migrations/postgres/0007_audit_target.sql"),
    ),
    (
        8,
        include_str!("../../migrations/postgres/0008_documents.sql"),
    ),
    (
        9,
        include_str!("../../migrations/postgres/0009_unit_dissolution.sql"),
    ),
    (
        10,
        include_str!("../../migrations/postgres/0010_mailbox_opens.sql"),
    ),
    (
        11,
        include_str!("../../migrations/postgres/0011_account_exceptions.sql"),
    ),
    (
        12,
        include_str!("../../migrations/postgres/0012_inspection.sql"),
    ),
    (
        13,
        include_str!("../../migrations/postgres/0013_incidents.sql"),
    ),
    (
        14,
        include_str!("../../migrations/postgres/0014_mailbox_events.sql"),
    ),
    (
        15,
        include_str!("../../migrations/postgres/0015_compromise_confirmation.sql"),
    ),
    (
        16,
        include_str!("../../migrations/postgres/0016_ledger_units.sql"),
    ),
    (17, include_str!("../../migrations/postgres/0017_sieve.sql")),
];

pub(crate) struct PgMeta {
    pub(crate) read: PgPool,
    pub(crate) write: PgPool,
    /// Writes for the group-commit writer task (`group.rs`).
    deliveries: tokio::sync::mpsc::Sender<group::WriteJob>,
    group: std::sync::Arc<group::GroupStats>,
    /// How to connect, for the change listener's own connection (`listen`).
    options: PgConnectOptions,
}

impl PgMeta {
    /// Connects to `url` and applies pending migrations.
    pub(crate) async fn open(url: &str) -> Result<PgMeta> {
        let db = Self::connect(url).await?;
        db.migrate(MIGRATIONS).await?;
        Ok(db)
    }

    /// Connects without migrating.
    pub(crate) async fn connect(url: &str) -> Result<PgMeta> {
        let options = PgConnectOptions::from_str(url)
            .map_err(StoreError::Database)?
            .application_name("hopthu");
        if !tls_is_verified(&options) {
            tracing::warn!(
                host = options.get_host(),
                "PostgreSQL over the network without a verified certificate: add \
                 ?sslmode=verify-full&sslrootcert=CA.pem to [store] url"
            );
        }
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        let (deliveries, jobs) = tokio::sync::mpsc::channel(4 * group::MAX_BATCH);
        let group = std::sync::Arc::new(group::GroupStats::default());
        tokio::spawn(group::run(pool.clone(), jobs, group.clone(), None));
        let db = PgMeta {
            read: pool.clone(),
            write: pool,
            deliveries,
            group,
            options,
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

    /// Sends each payload to every node listening ([`PgMeta::listen`]), in one round trip.
    pub(crate) async fn announce(&self, payloads: &[String]) -> Result<()> {
        if payloads.is_empty() {
            return Ok(());
        }
        sqlx::query("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p")
            .bind(CHANGES_CHANNEL)
            .bind(payloads)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Payloads announced by any node (this one too), as they come. The listener reconnects
    /// by itself when its connection drops; what was announced meanwhile is missed, which
    /// costs a session nothing but a late update (it reads the mailbox's changes anyway).
    pub(crate) async fn listen(&self) -> Result<tokio::sync::mpsc::Receiver<String>> {
        // A connection of its own, outside the pool: a listener holds its connection for
        // good, and the pool's `close` waits for every connection it lent.
        let own = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(self.options.clone())
            .await?;
        let mut listener = sqlx::postgres::PgListener::connect_with(&own).await?;
        listener.listen(CHANGES_CHANNEL).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(4096);
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(n) => {
                        if tx.send(n.payload().to_string()).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "lost the change notifications; reconnecting");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(rx)
    }
}

impl PgMeta {
    /// `Some` when this connection got the job's advisory lock (held until the returned
    /// transaction ends), `None` when another node holds it.
    pub(crate) async fn try_job_lock(&self, key: i64) -> Result<Option<Tx>> {
        let mut tx = self.write.begin().await?;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
        Ok(got.then_some(tx))
    }
}

/// The `LISTEN`/`NOTIFY` channel on which nodes tell each other of mailbox changes.
const CHANGES_CHANNEL: &str = "hopthu_changes";

#[async_trait::async_trait]
impl crate::NodeStore for PgMeta {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn announce_changes(&self, payloads: &[String]) -> Result<()> {
        self.announce(payloads).await
    }

    async fn listen_changes(&self) -> Result<Option<tokio::sync::mpsc::Receiver<String>>> {
        Ok(Some(self.listen().await?))
    }

    async fn try_job(&self, job: crate::Job) -> Result<Option<crate::JobGuard>> {
        Ok(self
            .try_job_lock(job.lock_key())
            .await?
            .map(|tx| crate::JobGuard { _held: Some(tx) }))
    }

    async fn blob_gate(&self) -> Result<crate::JobGuard> {
        let mut tx = self.write.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(dialect::lock_keys::BLOB_GATE)
            .execute(&mut *tx)
            .await?;
        Ok(crate::JobGuard { _held: Some(tx) })
    }

    async fn record_blob_deletions(&self, ids: &[crate::BlobId], at: i64) -> Result<()> {
        let ids: Vec<&str> = ids.iter().map(|id| id.as_str()).collect();
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO blob_deletions (blob, at) SELECT unnest($1::text[]), $2 \
             ON CONFLICT (blob) DO UPDATE SET at = excluded.at",
        )
        .bind(&ids)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM blob_deletions WHERE at < $1")
            .bind(at - crate::BLOB_DELETIONS_KEPT_MS)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn blobs_deleted_since(
        &self,
        ids: &[crate::BlobId],
        since: i64,
    ) -> Result<Vec<(crate::BlobId, i64)>> {
        let ids: Vec<&str> = ids.iter().map(|id| id.as_str()).collect();
        let mut tx = self.read.begin().await?;
        // Waits for a collector inside its look-and-delete; the query after it (a statement
        // of its own, so a snapshot taken after the wait) sees what that collector recorded.
        sqlx::query("SELECT pg_advisory_xact_lock_shared($1)")
            .bind(dialect::lock_keys::BLOB_GATE)
            .execute(&mut *tx)
            .await?;
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT blob, at FROM blob_deletions WHERE blob = ANY($1) AND at >= $2")
                .bind(&ids)
                .bind(since)
                .fetch_all(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .filter_map(|(blob, at)| crate::BlobId::parse(&blob).map(|id| (id, at)))
            .collect())
    }

    async fn close(&self) {
        self.write.close().await;
    }
}

/// Whether a connection with `options` is safe from eavesdropping and impersonation: a Unix
/// socket or loopback (nothing crosses a network), or TLS with the server's certificate
/// checked (`sslmode=verify-ca` or `verify-full`).
fn tls_is_verified(options: &PgConnectOptions) -> bool {
    use sqlx::postgres::PgSslMode;
    let host = options.get_host();
    let local = host.starts_with('/')
        || host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    local
        || matches!(
            options.get_ssl_mode(),
            PgSslMode::VerifyCa | PgSslMode::VerifyFull
        )
}
