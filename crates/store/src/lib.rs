//! The one storage API of hopthu, in mail-domain terms: accounts, mailboxes, messages, the
//! outbound queue, and the message blobs they point to.
//!
//! Callers never see SQL. The storage contract is a set of traits — [`MailStore`],
//! [`WebStore`], [`DirectoryStore`], [`LifecycleStore`], [`DelegationStore`], [`QueueStore`], [`SearchStore`],
//! [`SieveStore`], [`RateStore`] and [`NodeStore`], together [`Metadata`] — documented there, with the promises every back-end
//! keeps written in [`contract`] and checked by one test suite on each back-end. The metadata
//! back-ends (SQLite, PostgreSQL) are private modules implementing them; a [`Store`]
//! dereferences to the one chosen at open time. Message bodies live in a [`BlobStore`] (local
//! files or an S3-compatible store) addressed by their SHA-256, so no protocol code changes
//! when a back-end is added. Removing messages only drops references; the bodies
//! nothing refers to any more leave the disk through [`Store::collect_blobs`] (`gc.rs`).
//!
//! **Invariant**: every method that changes data commits durably before it returns
//! (SQLite WAL with `synchronous=FULL`; blobs fsynced with their directory), so a caller may
//! acknowledge what a method has returned. The state of mail already kept (flags, expunges,
//! copies, moves, `\Recent`, sign-in history) commits atomically without waiting for the
//! disk: see the contract's promise 1.

/// Dispatches a call to the configured metadata back-end.
macro_rules! meta {
    ($self:ident, $db:ident => $call:expr) => {
        match &$self.meta {
            Meta::Sqlite($db) => $call,
            Meta::Postgres($db) => $call,
        }
    };
}

pub mod backup;
mod blobs;
pub mod contract;
pub mod copy;
mod delegation;
mod directory;
mod documents;
mod error;
mod gc;
mod incidents;
mod ledger;
mod lifecycle;
mod mail;
// `postgres` and `sqlite` each compile the shared SQL of `src/sql/` (`#[path]`), on purpose.
#[allow(
    clippy::duplicate_mod,
    reason = "one SQL source, compiled once per back-end"
)]
mod postgres;
mod queue;
mod rate;
mod search;
mod sieve;
#[allow(
    clippy::duplicate_mod,
    reason = "one SQL source, compiled once per back-end"
)]
mod sqlite;
mod types;
mod web;

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;

use std::path::Path;

pub use blobs::{BackupLease, BlobId, BlobStore, S3Blobs, S3Options};
pub use delegation::{DelegateRecord, DelegationStore};
pub use directory::*;
pub use documents::{DocumentRecord, DocumentStore, NewDocument, RecipientRecord};
pub use error::StoreError;
pub use gc::{DEFAULT_GRACE, GcOptions, GcReport};
pub use incidents::{Confirmation, IncidentRecord, IncidentStore, IncidentUpdate, NewIncident};
pub use ledger::{
    LEDGER_UTC_OFFSET, LedgerStore, MailboxEvent, MailboxEventKind, MessageCounts, OpenDay,
    ledger_day,
};
pub use lifecycle::*;
pub use mail::MailStore;
pub use queue::*;
pub use rate::{RateAsk, RateCount, RateEvent, RateKind, RateStore};
pub use search::{SearchField, SearchStore, SearchText};
pub use sieve::{SieveChange, SievePut, SieveScriptRecord, SieveStore};
pub use types::*;
pub use web::{WebSessionRecord, WebSettingsRecord, WebStore};

pub type Result<T> = std::result::Result<T, StoreError>;

/// The periodic jobs that run on one node at a time ([`NodeStore::try_job`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    InactivitySweep = 1,
    BlobCollector = 2,
    QueueSweep = 3,
}

impl Job {
    /// The PostgreSQL advisory lock of the job (shared by every node of the database).
    pub(crate) fn lock_key(self) -> i64 {
        self as i64 + 0x686f_7074_1000
    }
}

/// This node runs the job while it holds this ([`NodeStore::try_job`]).
pub struct JobGuard {
    _held: Option<sqlx::Transaction<'static, sqlx::Postgres>>,
}

/// How long the collector's deletions are remembered ([`NodeStore::record_blob_deletions`]).
pub(crate) const BLOB_DELETIONS_KEPT_MS: i64 = 24 * 3600 * 1000;

/// Whether a `[store] url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

enum Meta {
    Sqlite(sqlite::SqliteMeta),
    Postgres(Box<postgres::PgMeta>),
}

/// Metadata and blobs, opened together from a data directory.
pub struct Store {
    meta: Meta,
    blobs: BlobStore,
}

impl Store {
    /// Opens (creating on first use) the embedded store under `data_dir`: `hopthu.db` (SQLite,
    /// WAL) and `blobs/`. Pending migrations are applied.
    pub async fn open_embedded(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::io("create data_dir", e))?;
        let blobs = BlobStore::open_local(&data_dir.join(backup::BLOBS))?;
        let meta = Meta::Sqlite(sqlite::SqliteMeta::open(&data_dir.join(backup::DATABASE)).await?);
        Ok(Store { meta, blobs })
    }

    /// Opens the store: the metadata in the PostgreSQL database `url` names
    /// (`postgres://USER@HOST:PORT/DB`), or the embedded SQLite database under `data_dir` when
    /// there is none; the bodies in `blobs` (e.g. [`BlobStore::open_s3`]), or files under
    /// `data_dir/blobs` when there is none. Pending migrations are applied.
    pub async fn open(
        data_dir: &Path,
        url: Option<&str>,
        blobs: Option<BlobStore>,
    ) -> Result<Store> {
        if let Some(url) = url
            && !is_postgres_url(url)
        {
            return Err(StoreError::Corrupt(format!(
                "[store] url must start with postgres:// or postgresql://, not {url:?}"
            )));
        }
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::io("create data_dir", e))?;
        let blobs = match blobs {
            Some(blobs) => blobs,
            None => BlobStore::open_local(&data_dir.join(backup::BLOBS))?,
        };
        let meta = match url {
            Some(url) => Meta::Postgres(Box::new(postgres::PgMeta::open(url).await?)),
            None => Meta::Sqlite(sqlite::SqliteMeta::open(&data_dir.join(backup::DATABASE)).await?),
        };
        Ok(Store { meta, blobs })
    }

    /// The blob store holding message bodies.
    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// Writes a message body (as [`BlobStore::put`]) for rows about to name it; once they are
    /// committed, [`Store::settle_body`] makes sure it is still there.
    pub async fn put_body(&self, bytes: std::sync::Arc<Vec<u8>>) -> Result<PutBody> {
        let started = chrono::Utc::now().timestamp_millis();
        let id = self.blobs.put(bytes).await?;
        Ok(PutBody { id, started })
    }

    /// After the commit that names `put`'s body. In a bucket shared with other nodes, the
    /// collector of another node may have looked at the same bytes (an old unreferenced
    /// object) just before this node uploaded them and deleted them just after (`gc.rs`,
    /// "Several nodes"): it recorded the delete first, so the body is uploaded again. A
    /// collector that looks after the commit finds the body referenced and keeps it. Local
    /// files need nothing (their collector's rename protocol covers a `put`).
    pub async fn settle_body(&self, put: &PutBody, bytes: std::sync::Arc<Vec<u8>>) -> Result<()> {
        if !matches!(self.blobs, BlobStore::S3(_)) {
            return Ok(());
        }
        // Deletes are timed by the collecting node's clock, the upload by this one's.
        let mut since = put.started - CLOCK_SKEW_MS;
        for _ in 0..3 {
            let gone = self
                .blobs_deleted_since(std::slice::from_ref(&put.id), since)
                .await?;
            let Some(latest) = gone.iter().map(|(_, at)| *at).max() else {
                return Ok(());
            };
            tracing::warn!(
                blob = put.id.as_str(),
                "a collector deleted this body while it was being written: written again"
            );
            self.blobs.put(bytes.clone()).await?;
            since = latest + 1;
        }
        Err(StoreError::io(
            "write blob",
            std::io::Error::other(format!(
                "blob {} deleted by a collector again and again",
                put.id.as_str()
            )),
        ))
    }
}

/// How far apart the clocks of two nodes may be, for [`Store::settle_body`].
const CLOCK_SKEW_MS: i64 = 60_000;

/// A body written by [`Store::put_body`], not yet settled.
#[derive(Debug, Clone)]
pub struct PutBody {
    pub id: BlobId,
    /// When the upload began (Unix ms, this node's clock).
    started: i64,
}

/// The metadata back-end behind a [`Store`]: every trait of the storage contract at once.
/// `Store` dereferences to it, so `store.deliver(..)` calls the back-end chosen at open time.
pub trait Metadata:
    MailStore
    + WebStore
    + DirectoryStore
    + LifecycleStore
    + LedgerStore
    + IncidentStore
    + DelegationStore
    + DocumentStore
    + QueueStore
    + SearchStore
    + SieveStore
    + RateStore
    + NodeStore
{
}

impl<T> Metadata for T where
    T: MailStore
        + WebStore
        + DirectoryStore
        + LifecycleStore
        + LedgerStore
        + IncidentStore
        + DelegationStore
        + DocumentStore
        + QueueStore
        + SearchStore
        + SieveStore
        + RateStore
        + NodeStore
{
}

impl std::ops::Deref for Store {
    type Target = dyn Metadata;

    fn deref(&self) -> &(dyn Metadata + 'static) {
        match &self.meta {
            Meta::Sqlite(db) => db,
            Meta::Postgres(db) => &**db,
        }
    }
}

/// What one node of an installation needs from the database it shares with the others (part of
/// the storage contract, [`contract`]). The embedded store has one node, so its answers are the
/// trivial ones.
#[async_trait::async_trait]
pub trait NodeStore: Send + Sync {
    /// Which metadata back-end this is: `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Tells the other nodes sharing this database of changes (each payload as given); on
    /// the embedded store, which has no other node, nothing happens.
    async fn announce_changes(&self, payloads: &[String]) -> Result<()>;

    /// What every node announces ([`NodeStore::announce_changes`]; this node's own payloads
    /// too), or `None` on the embedded store.
    async fn listen_changes(&self) -> Result<Option<tokio::sync::mpsc::Receiver<String>>>;

    /// Runs a periodic job (the inactivity sweep, the blob collector, the queue's sweep) on
    /// one node at a time: `Some` guard while this node may run `job`, `None` when another
    /// node sharing the database is running it now (PostgreSQL advisory lock, released when
    /// the guard drops). On the embedded store there is one node: always `Some`.
    async fn try_job(&self, job: Job) -> Result<Option<JobGuard>>;

    /// The blob collector's gate across nodes, held exclusively around its last look at an
    /// object of a shared bucket and its delete (waits for the nodes inside
    /// [`NodeStore::blobs_deleted_since`]). On the embedded store, one node, the local put
    /// gate of `blobs/s3.rs` is enough: a guard that holds nothing.
    async fn blob_gate(&self) -> Result<JobGuard>;

    /// Records that the collector deleted these bodies at `at` (Unix ms), before it deletes
    /// them; records older than a day go. Nothing on the embedded store.
    async fn record_blob_deletions(&self, ids: &[BlobId], at: i64) -> Result<()>;

    /// Which of `ids` the collector of any node deleted at or after `since` (Unix ms), and
    /// when; asked after the commit that names them ([`Store::settle_body`]). It waits for
    /// a collector inside [`NodeStore::blob_gate`], so a delete is either seen here or comes
    /// after the commit — when the collector finds the body referenced and keeps it. Empty
    /// on the embedded store.
    async fn blobs_deleted_since(&self, ids: &[BlobId], since: i64) -> Result<Vec<(BlobId, i64)>>;

    /// Closes the database cleanly (SQLite checkpoints the WAL).
    async fn close(&self);
}
