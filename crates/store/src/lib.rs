//! The one storage API of hopthu, in mail-domain terms: accounts, mailboxes, messages, the
//! outbound queue, and the message blobs they point to.
//!
//! Callers never see SQL. The metadata back-end (SQLite, or PostgreSQL) is a private
//! module behind [`Store`], and both keep the promises written in [`contract`]; message bodies live in a [`BlobStore`] (local files now; an S3
//! store to come) addressed by their SHA-256. Both are chosen here at open time, so no protocol
//! code changes when a back-end is added. Removing messages only drops references; the bodies
//! nothing refers to any more leave the disk through [`Store::collect_blobs`] (`gc.rs`).
//!
//! **Invariant**: every method that changes data commits durably before it returns
//! (SQLite WAL with `synchronous=FULL`; blobs fsynced with their directory), so a caller may
//! acknowledge what a method has returned.

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
mod directory;
mod error;
mod gc;
mod lifecycle;
// `postgres` and `sqlite` each compile the shared SQL of `src/sql/` (`#[path]`), on purpose.
#[allow(
    clippy::duplicate_mod,
    reason = "one SQL source, compiled once per back-end"
)]
mod postgres;
mod queue;
mod search;
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
pub use directory::*;
pub use error::StoreError;
pub use gc::{DEFAULT_GRACE, GcOptions, GcReport};
use hopthu_model::{AccountId, FlagOp, Flags, MailboxId, Uid};
pub use lifecycle::*;
pub use queue::*;
pub use search::{SearchField, SearchText};
pub use types::*;
pub use web::{WebSessionRecord, WebSettingsRecord};

pub type Result<T> = std::result::Result<T, StoreError>;

/// The periodic jobs that run on one node at a time ([`Store::try_job`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    InactivitySweep = 1,
    BlobCollector = 2,
    QueueSweep = 3,
}

/// This node runs the job while it holds this ([`Store::try_job`]).
pub struct JobGuard {
    _held: Option<sqlx::Transaction<'static, sqlx::Postgres>>,
}

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

    /// Which metadata back-end this store uses: `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self.meta {
            Meta::Sqlite(_) => "sqlite",
            Meta::Postgres(_) => "postgres",
        }
    }

    /// Tells the other nodes sharing this database of changes (each payload as given); on
    /// the embedded store, which has no other node, nothing happens.
    pub async fn announce_changes(&self, payloads: &[String]) -> Result<()> {
        match &self.meta {
            Meta::Sqlite(_) => Ok(()),
            Meta::Postgres(db) => db.announce(payloads).await,
        }
    }

    /// What every node announces ([`Store::announce_changes`]; this node's own payloads
    /// too), or `None` on the embedded store.
    pub async fn listen_changes(&self) -> Result<Option<tokio::sync::mpsc::Receiver<String>>> {
        match &self.meta {
            Meta::Sqlite(_) => Ok(None),
            Meta::Postgres(db) => Ok(Some(db.listen().await?)),
        }
    }

    /// Runs a periodic job (the inactivity sweep, the blob collector, the queue's sweep) on
    /// one node at a time: `Some` guard while this node may run `job`, `None` when another
    /// node sharing the database is running it now (PostgreSQL advisory lock, released when
    /// the guard drops). On the embedded store there is one node: always `Some`.
    pub async fn try_job(&self, job: Job) -> Result<Option<JobGuard>> {
        match &self.meta {
            Meta::Sqlite(_) => Ok(Some(JobGuard { _held: None })),
            Meta::Postgres(db) => Ok(db
                .try_job_lock(job as i64 + 0x686f_7074_1000)
                .await?
                .map(|tx| JobGuard { _held: Some(tx) })),
        }
    }

    /// The blob store holding message bodies.
    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// Closes the database cleanly (checkpoints the WAL).
    pub async fn close(&self) {
        meta!(self, db => db.close().await)
    }

    // ---- accounts -------------------------------------------------------------------------

    /// Creates an account and its standard folders in one transaction.
    pub async fn create_account(
        &self,
        account: &NewAccount,
        folders: &[(&str, Option<SpecialUse>)],
    ) -> Result<AccountId> {
        meta!(self, db => db.create_account(account, folders).await)
    }

    pub async fn account_by_address(&self, address: &str) -> Result<Option<AccountRecord>> {
        meta!(self, db => db.account_by_address(address).await)
    }

    pub async fn account(&self, id: AccountId) -> Result<Option<AccountRecord>> {
        meta!(self, db => db.account(id).await)
    }

    pub async fn account_count(&self) -> Result<u64> {
        meta!(self, db => db.account_count().await)
    }

    /// Records a successful sign-in (Đ8.3 inactivity is measured from here).
    /// Adds a row to an account's sign-in history (and prunes rows older than
    /// [`SIGN_IN_HISTORY_DAYS`]).
    pub async fn record_sign_in(&self, record: &SignInRecord) -> Result<()> {
        meta!(self, db => db.record_sign_in(record).await)
    }

    /// The newest `limit` sign-ins of an account, newest first.
    pub async fn sign_ins(&self, account: AccountId, limit: u32) -> Result<Vec<SignInRecord>> {
        meta!(self, db => db.sign_ins(account, limit).await)
    }

    pub async fn record_access(&self, id: AccountId, at: i64) -> Result<()> {
        meta!(self, db => db.record_access(id, at).await)
    }

    /// Sets the password hash and, in the same transaction, ends every web session of the
    /// account except `keep_web_session` (a token hash): a new password signs out everywhere,
    /// whatever path set it. ([`LifecycleEffect::SetPassword`] does the same.)
    pub async fn set_password(
        &self,
        id: AccountId,
        hash: &str,
        must_change: bool,
        keep_web_session: Option<&str>,
    ) -> Result<()> {
        meta!(self, db => db.set_password(id, hash, must_change, keep_web_session).await)
    }

    // ---- mailboxes ------------------------------------------------------------------------

    pub async fn mailboxes(&self, account: AccountId) -> Result<Vec<MailboxRecord>> {
        meta!(self, db => db.mailboxes(account).await)
    }

    pub async fn mailbox(&self, id: MailboxId) -> Result<Option<MailboxRecord>> {
        meta!(self, db => db.mailbox(id).await)
    }

    pub async fn mailbox_by_name(
        &self,
        account: AccountId,
        name: &str,
    ) -> Result<Option<MailboxRecord>> {
        meta!(self, db => db.mailbox_by_name(account, name).await)
    }

    pub async fn create_mailbox(
        &self,
        account: AccountId,
        name: &str,
        special_use: Option<SpecialUse>,
    ) -> Result<MailboxId> {
        meta!(self, db => db.create_mailbox(account, name, special_use).await)
    }

    /// Deletes a mailbox and its messages (blob references are released).
    pub async fn delete_mailbox(&self, id: MailboxId) -> Result<()> {
        meta!(self, db => db.delete_mailbox(id).await)
    }

    /// Renames a mailbox and every mailbox below it (`a` → `b` also moves `a/x` to `b/x`).
    pub async fn rename_mailbox(&self, account: AccountId, from: &str, to: &str) -> Result<()> {
        meta!(self, db => db.rename_mailbox(account, from, to).await)
    }

    /// Subscribes to a name or drops the subscription; the name need not exist (a
    /// subscription outlives its mailbox, RFC 9051 §6.3.7).
    pub async fn set_subscribed(&self, account: AccountId, name: &str, on: bool) -> Result<()> {
        meta!(self, db => db.set_subscribed(account, name, on).await)
    }

    /// The subscribed names of an account, sorted.
    pub async fn subscriptions(&self, account: AccountId) -> Result<Vec<String>> {
        meta!(self, db => db.subscriptions(account).await)
    }

    /// Message count, unseen count and the mailbox row, for STATUS and SELECT.
    pub async fn mailbox_status(&self, id: MailboxId) -> Result<MailboxStatus> {
        meta!(self, db => db.mailbox_status(id).await)
    }

    // ---- messages -------------------------------------------------------------------------

    /// Every message of a mailbox in UID order.
    pub async fn messages(&self, mailbox: MailboxId) -> Result<Vec<MessageRecord>> {
        meta!(self, db => db.messages(mailbox).await)
    }

    /// UID, flags and modseq of every message of a mailbox (SELECT), in one read snapshot.
    pub async fn message_index(&self, mailbox: MailboxId) -> Result<MessageIndex> {
        meta!(self, db => db.message_index(mailbox).await)
    }

    /// The full records of the given UIDs of a mailbox (those still there), in UID order.
    pub async fn messages_by_uid(
        &self,
        mailbox: MailboxId,
        uids: &[Uid],
    ) -> Result<Vec<MessageRecord>> {
        meta!(self, db => db.messages_by_uid(mailbox, uids).await)
    }

    /// The SORT keys of every message of a mailbox, in UID order.
    pub async fn sort_rows(&self, mailbox: MailboxId) -> Result<Vec<SortRow>> {
        meta!(self, db => db.sort_rows(mailbox).await)
    }

    /// Number and total size of the messages flagged `\Deleted` (STATUS DELETED).
    pub async fn deleted_usage(&self, mailbox: MailboxId) -> Result<(u32, u64)> {
        meta!(self, db => db.deleted_usage(mailbox).await)
    }

    /// How many messages of a mailbox have a UID above `uid` (IMAP STATUS RECENT).
    pub async fn count_above(&self, mailbox: MailboxId, uid: Uid) -> Result<u32> {
        meta!(self, db => db.count_above(mailbox, uid).await)
    }

    /// The `\Recent` mark of a mailbox (RFC 3501 §2.3.2): the highest UID a session was
    /// already told about as recent (0 for a new mailbox). Its messages above it are recent
    /// for nobody yet.
    pub async fn recent_mark(&self, mailbox: MailboxId) -> Result<u32> {
        meta!(self, db => db.recent_mark(mailbox).await)
    }

    /// Claims the messages of a mailbox up to `upto` as recent for the caller alone: returns
    /// the mark before and raises it to `upto` (never lowers it), atomically, so of several
    /// sessions on any nodes claiming at once each message above the old mark goes to exactly
    /// one (contract §13).
    pub async fn claim_recent(&self, mailbox: MailboxId, upto: Uid) -> Result<u32> {
        meta!(self, db => db.claim_recent(mailbox, upto).await)
    }

    /// Total size of a mailbox's messages (IMAP4rev2 STATUS SIZE).
    pub async fn mailbox_size(&self, mailbox: MailboxId) -> Result<u64> {
        meta!(self, db => db.mailbox_size(mailbox).await)
    }

    /// Messages added or whose flags changed after `modseq`, and UIDs expunged after it.
    pub async fn changes_since(&self, mailbox: MailboxId, modseq: u64) -> Result<Changes> {
        meta!(self, db => db.changes_since(mailbox, modseq).await)
    }

    /// Adds one reference to an already stored blob in each mailbox of `targets`, plus an
    /// optional queue entry, in a single transaction. Returns the UID given in each mailbox.
    pub async fn deliver(&self, delivery: &Delivery<'_>) -> Result<Vec<(MailboxId, Uid)>> {
        meta!(self, db => db.deliver(delivery, None).await)
    }

    /// Changes flags of the given UIDs; returns the messages whose flags changed, with their
    /// new modseq. With `unchanged_since`, messages modified after it are left alone
    /// (RFC 7162 §3.1.3) and reported in `Err`-free form through `StoreFlagsOutcome::failed`.
    pub async fn store_flags(
        &self,
        mailbox: MailboxId,
        uids: &[Uid],
        op: FlagOp,
        flags: &Flags,
        unchanged_since: Option<u64>,
    ) -> Result<StoreFlagsOutcome> {
        meta!(self, db => db.store_flags(mailbox, uids, op, flags, unchanged_since).await)
    }

    /// Copies messages (sharing their blobs) into `target`; returns (source UID, new UID).
    pub async fn copy_messages(
        &self,
        source: MailboxId,
        uids: &[Uid],
        target: MailboxId,
    ) -> Result<Vec<(Uid, Uid)>> {
        meta!(self, db => db.copy_messages(source, uids, target).await)
    }

    /// Moves messages to `target` in one transaction (IMAP MOVE, RFC 6851): new UIDs there,
    /// expunged from `source`. Returns (old UID, new UID) pairs in UID order.
    pub async fn move_messages(
        &self,
        source: MailboxId,
        uids: &[Uid],
        target: MailboxId,
    ) -> Result<Vec<(Uid, Uid)>> {
        meta!(self, db => db.move_messages(source, uids, target).await)
    }

    /// Total size of the given messages of a mailbox (quota checks before COPY).
    pub async fn messages_size(&self, mailbox: MailboxId, uids: &[Uid]) -> Result<u64> {
        meta!(self, db => db.messages_size(mailbox, uids).await)
    }

    /// Each unit's figures over `[from, to)` (Unix seconds), by unit code. Days (for the
    /// Đ13.1 count) start at midnight `utc_offset` seconds east of UTC; Monday–Friday count.
    pub async fn unit_activity(
        &self,
        from: i64,
        to: i64,
        utc_offset: i64,
    ) -> Result<Vec<UnitActivity>> {
        meta!(self, db => db.unit_activity(from, to, utc_offset).await)
    }

    /// Counts for the metrics endpoint (accounts, messages, bodies, queue).
    pub async fn stats(&self) -> Result<StoreStats> {
        meta!(self, db => db.stats().await)
    }

    /// Deletes the messages put into `mailbox` before `before` (unix time; rows from before
    /// `added_at` existed count from their internal date), as an EXPUNGE would.
    pub async fn purge_before(&self, mailbox: MailboxId, before: i64) -> Result<Vec<Uid>> {
        meta!(self, db => db.purge_before(mailbox, before).await)
    }

    /// Every account's mailboxes with this special use that hold a message put there before
    /// `before` (one read; the sweep then writes only where there is something to delete).
    pub async fn mailboxes_with_old(
        &self,
        special_use: SpecialUse,
        before: i64,
    ) -> Result<Vec<MailboxRecord>> {
        meta!(self, db => db.mailboxes_with_old(special_use, before).await)
    }

    /// For each account: the bytes it uses, and when it was last warned that it is nearly
    /// full (one query for all of them).
    pub async fn quota_warnings(
        &self,
        accounts: &[AccountId],
    ) -> Result<Vec<(AccountId, u64, Option<i64>)>> {
        meta!(self, db => db.quota_warnings(accounts).await)
    }

    pub async fn set_quota_warned(&self, account: AccountId, at: Option<i64>) -> Result<()> {
        meta!(self, db => db.set_quota_warned(account, at).await)
    }

    pub async fn account_usage(&self, account: AccountId) -> Result<(u64, u64)> {
        meta!(self, db => db.account_usage(account).await)
    }

    /// Removes messages flagged `\Deleted` (only those in `uids` when given); returns the
    /// removed UIDs in ascending order.
    pub async fn expunge(&self, mailbox: MailboxId, uids: Option<&[Uid]>) -> Result<Vec<Uid>> {
        meta!(self, db => db.expunge(mailbox, uids).await)
    }

    // ---- queue ----------------------------------------------------------------------------

    pub async fn queue(&self) -> Result<Vec<QueueRecord>> {
        meta!(self, db => db.queue().await)
    }

    // ---- webmail --------------------------------------------------------------------------

    /// Stores a new web session (and removes expired ones).
    pub async fn create_web_session(&self, session: &WebSessionRecord) -> Result<()> {
        meta!(self, db => db.create_web_session(session).await)
    }

    pub async fn web_session(&self, token_hash: &str) -> Result<Option<WebSessionRecord>> {
        meta!(self, db => db.web_session(token_hash).await)
    }

    /// Slides a session's expiry forward.
    pub async fn touch_web_session(&self, token_hash: &str, seen: i64, expires: i64) -> Result<()> {
        meta!(self, db => db.touch_web_session(token_hash, seen, expires).await)
    }

    pub async fn delete_web_session(&self, token_hash: &str) -> Result<()> {
        meta!(self, db => db.delete_web_session(token_hash).await)
    }

    /// Removes every web session of an account except `keep`; returns how many went.
    pub async fn delete_web_sessions_of(
        &self,
        account: AccountId,
        keep: Option<&str>,
    ) -> Result<u64> {
        meta!(self, db => db.delete_web_sessions_of(account, keep).await)
    }

    /// The account's webmail settings (defaults when never saved).
    pub async fn web_settings(&self, account: AccountId) -> Result<WebSettingsRecord> {
        meta!(self, db => db.web_settings(account).await)
    }

    pub async fn set_web_settings(
        &self,
        account: AccountId,
        settings: &WebSettingsRecord,
    ) -> Result<()> {
        meta!(self, db => db.set_web_settings(account, settings).await)
    }

    /// A page of a mailbox, newest first: at most `limit` messages with a UID below `before`.
    pub async fn messages_page(
        &self,
        mailbox: MailboxId,
        before: Option<Uid>,
        limit: u32,
    ) -> Result<Vec<MessageRecord>> {
        meta!(self, db => db.messages_page(mailbox, before, limit).await)
    }

    /// (mailbox, messages, unseen) for every mailbox of an account, without scanning messages.
    pub async fn mailbox_counts(&self, account: AccountId) -> Result<Vec<(MailboxId, u32, u32)>> {
        meta!(self, db => db.mailbox_counts(account).await)
    }
}
