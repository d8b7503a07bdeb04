//! Accounts, mailboxes and messages in storage terms: the heart of the storage contract
//! ([`crate::contract`]), implemented by each metadata back-end over the SQL of `sql/mail.rs`.

use hopthu_model::{AccountId, FlagOp, Flags, MailboxId, Uid};

use crate::types::*;
use crate::{Result, SearchText};

/// Accounts, mailboxes, messages, flags and the changes IMAP sessions follow. Every write is
/// durable when it returns, and keeps the counters and the search index in the same transaction.
#[async_trait::async_trait]
pub trait MailStore: Send + Sync {
    /// Adds one reference to an already stored blob in each mailbox of `targets`, plus an
    /// optional queue entry, in a single transaction, indexing `text` (when given) with the new
    /// message rows in the same transaction. Returns the UID given in each mailbox.
    async fn deliver_indexed(
        &self,
        delivery: &Delivery<'_>,
        text: Option<&SearchText>,
    ) -> Result<Vec<(MailboxId, Uid)>>;

    /// [`MailStore::deliver_indexed`] without text: the background indexer extracts it later.
    async fn deliver(&self, delivery: &Delivery<'_>) -> Result<Vec<(MailboxId, Uid)>> {
        self.deliver_indexed(delivery, None).await
    }

    /// Creates an account and its standard folders in one transaction.
    async fn create_account(
        &self,
        account: &NewAccount,
        folders: &[(&str, Option<SpecialUse>)],
    ) -> Result<AccountId>;

    async fn account_by_address(&self, address: &str) -> Result<Option<AccountRecord>>;

    async fn account(&self, id: AccountId) -> Result<Option<AccountRecord>>;

    async fn account_count(&self) -> Result<u64>;

    /// Adds a row to an account's sign-in history (and prunes rows older than
    /// [`SIGN_IN_HISTORY_DAYS`]); group-committed with the other writes in flight.
    async fn record_sign_in(&self, record: &SignInRecord) -> Result<()>;

    /// The newest `limit` sign-ins of an account, newest first.
    async fn sign_ins(&self, account: AccountId, limit: u32) -> Result<Vec<SignInRecord>>;

    /// Records a successful sign-in's time as the account's last access (Đ8.3 inactivity is
    /// measured from here; callers write it at most hourly, [`ACCESS_RECORD_INTERVAL`]).
    async fn record_access(&self, id: AccountId, at: i64) -> Result<()>;

    /// Sets the password hash and, in the same transaction, ends every web session of the
    /// account except `keep_web_session` (a token hash): a new password signs out everywhere,
    /// whatever path set it. ([`LifecycleEffect::SetPassword`] does the same.)
    async fn set_password(
        &self,
        id: AccountId,
        hash: &str,
        must_change: bool,
        keep_web_session: Option<&str>,
    ) -> Result<()>;

    async fn mailboxes(&self, account: AccountId) -> Result<Vec<MailboxRecord>>;

    async fn mailbox(&self, id: MailboxId) -> Result<Option<MailboxRecord>>;

    async fn mailbox_by_name(
        &self,
        account: AccountId,
        name: &str,
    ) -> Result<Option<MailboxRecord>>;

    async fn create_mailbox(
        &self,
        account: AccountId,
        name: &str,
        special_use: Option<SpecialUse>,
    ) -> Result<MailboxId>;

    /// Deletes a mailbox and its messages (blob references are released).
    async fn delete_mailbox(&self, id: MailboxId) -> Result<()>;

    /// Renames a mailbox and every mailbox below it (`a` → `b` also moves `a/x` to `b/x`).
    async fn rename_mailbox(&self, account: AccountId, from: &str, to: &str) -> Result<()>;

    /// Subscribes to a name or drops the subscription; the name need not exist (a
    /// subscription outlives its mailbox, RFC 9051 §6.3.7).
    async fn set_subscribed(&self, account: AccountId, name: &str, on: bool) -> Result<()>;

    /// The subscribed names of an account, sorted.
    async fn subscriptions(&self, account: AccountId) -> Result<Vec<String>>;

    /// Message count, unseen count and the mailbox row, for STATUS and SELECT.
    async fn mailbox_status(&self, id: MailboxId) -> Result<MailboxStatus>;

    /// Every message of a mailbox in UID order.
    async fn messages(&self, mailbox: MailboxId) -> Result<Vec<MessageRecord>>;

    /// UID, flags and modseq of every message of a mailbox (SELECT), in one read snapshot.
    async fn message_index(&self, mailbox: MailboxId) -> Result<MessageIndex>;

    /// The full records of the given UIDs of a mailbox (those still there), in UID order.
    async fn messages_by_uid(&self, mailbox: MailboxId, uids: &[Uid])
    -> Result<Vec<MessageRecord>>;

    /// The SORT keys of every message of a mailbox, in UID order.
    async fn sort_rows(&self, mailbox: MailboxId) -> Result<Vec<SortRow>>;

    /// Number and total size of the messages flagged `\Deleted` (STATUS DELETED).
    async fn deleted_usage(&self, mailbox: MailboxId) -> Result<(u32, u64)>;

    /// How many messages of a mailbox have a UID above `uid` (IMAP STATUS RECENT).
    async fn count_above(&self, mailbox: MailboxId, uid: Uid) -> Result<u32>;

    /// The `\Recent` mark of a mailbox (RFC 3501 §2.3.2): the highest UID a session was
    /// already told about as recent (0 for a new mailbox). Its messages above it are recent
    /// for nobody yet.
    async fn recent_mark(&self, mailbox: MailboxId) -> Result<u32>;

    /// Claims the messages of a mailbox up to `upto` as recent for the caller alone: returns
    /// the mark before and raises it to `upto` (never lowers it), atomically, so of several
    /// sessions on any nodes claiming at once each message above the old mark goes to exactly
    /// one (contract §13).
    async fn claim_recent(&self, mailbox: MailboxId, upto: Uid) -> Result<u32>;

    /// Total size of a mailbox's messages (IMAP4rev2 STATUS SIZE).
    async fn mailbox_size(&self, mailbox: MailboxId) -> Result<u64>;

    /// Messages added or whose flags changed after `modseq`, and UIDs expunged after it.
    async fn changes_since(&self, mailbox: MailboxId, modseq: u64) -> Result<Changes>;

    /// Changes flags of the given UIDs; returns the messages whose flags changed, with their
    /// new modseq. With `unchanged_since`, messages modified after it are left alone
    /// (RFC 7162 §3.1.3) and reported in `Err`-free form through `StoreFlagsOutcome::failed`.
    async fn store_flags(
        &self,
        mailbox: MailboxId,
        uids: &[Uid],
        op: FlagOp,
        flags: &Flags,
        unchanged_since: Option<u64>,
    ) -> Result<StoreFlagsOutcome>;

    /// Copies messages (sharing their blobs) into `target`; returns (source UID, new UID).
    async fn copy_messages(
        &self,
        source: MailboxId,
        uids: &[Uid],
        target: MailboxId,
    ) -> Result<Vec<(Uid, Uid)>>;

    /// Moves messages to `target` in one transaction (IMAP MOVE, RFC 6851): new UIDs there,
    /// expunged from `source`. Returns (old UID, new UID) pairs in UID order.
    async fn move_messages(
        &self,
        source: MailboxId,
        uids: &[Uid],
        target: MailboxId,
    ) -> Result<Vec<(Uid, Uid)>>;

    /// Total size of the given messages of a mailbox (quota checks before COPY).
    async fn messages_size(&self, mailbox: MailboxId, uids: &[Uid]) -> Result<u64>;

    /// Each unit's figures over `[from, to)` (Unix seconds), by unit code. Days (for the
    /// Đ13.1 count) start at midnight `utc_offset` seconds east of UTC; Monday–Friday count.
    async fn unit_activity(&self, from: i64, to: i64, utc_offset: i64)
    -> Result<Vec<UnitActivity>>;

    /// Counts for the metrics endpoint (accounts, messages, bodies, queue).
    async fn stats(&self) -> Result<StoreStats>;

    /// Deletes the messages put into `mailbox` before `before` (unix time; rows from before
    /// `added_at` existed count from their internal date), as an EXPUNGE would.
    async fn purge_before(&self, mailbox: MailboxId, before: i64) -> Result<Vec<Uid>>;

    /// Every account's mailboxes with this special use that hold a message put there before
    /// `before` (one read; the sweep then writes only where there is something to delete).
    async fn mailboxes_with_old(
        &self,
        special_use: SpecialUse,
        before: i64,
    ) -> Result<Vec<MailboxRecord>>;

    /// For each account: the bytes it uses, and when it was last warned that it is nearly
    /// full (one query for all of them).
    async fn quota_warnings(
        &self,
        accounts: &[AccountId],
    ) -> Result<Vec<(AccountId, u64, Option<i64>)>>;

    async fn set_quota_warned(&self, account: AccountId, at: Option<i64>) -> Result<()>;

    async fn account_usage(&self, account: AccountId) -> Result<(u64, u64)>;

    /// Removes messages flagged `\Deleted` (only those in `uids` when given); returns the
    /// removed UIDs in ascending order.
    async fn expunge(&self, mailbox: MailboxId, uids: Option<&[Uid]>) -> Result<Vec<Uid>>;

    async fn queue(&self) -> Result<Vec<QueueRecord>>;
}
