//! The outbound queue in mail-domain terms: messages waiting for remote delivery, each with
//! its recipients and their own state (`migrations/sqlite/0003_queue.sql`).
//!
//! Entries are added by [`MailStore::deliver`] (in the same transaction as local delivery); the
//! queue runner reads the due ones and records each recipient's outcome with
//! [`QueueStore::update_queue_recipients`]; the operator lists, retries and deletes entries.
//!
//! **Invariants**
//! - One row per (message, recipient): a recipient marked `Delivered` is never handed out
//!   again, so a message is sent at most once to each recipient once its 250 is recorded.
//! - A message leaves the queue, releasing its blob reference, in the same transaction that
//!   makes its last recipient final (`Delivered` or `Reported`).

use crate::{BlobId, Result};

/// Where a queued recipient stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecipientState {
    /// To be tried at `next_attempt_at`.
    Pending,
    /// The remote server accepted it (250): final.
    Delivered,
    /// Permanently refused or out of time; the bounce is still to be sent.
    Failed,
    /// Failed, and the bounce was sent (or none was wanted): final.
    Reported,
}

impl RecipientState {
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientState::Pending => "pending",
            RecipientState::Delivered => "delivered",
            RecipientState::Failed => "failed",
            RecipientState::Reported => "reported",
        }
    }

    pub fn parse(s: &str) -> Option<RecipientState> {
        Some(match s {
            "pending" => RecipientState::Pending,
            "delivered" => RecipientState::Delivered,
            "failed" => RecipientState::Failed,
            "reported" => RecipientState::Reported,
            _ => return None,
        })
    }

    /// Delivered or reported: nothing more will happen to this recipient.
    pub fn is_final(self) -> bool {
        matches!(self, RecipientState::Delivered | RecipientState::Reported)
    }
}

/// One recipient of a queued message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedRecipient {
    pub address: String,
    /// Lower-case domain of `address`.
    pub domain: String,
    pub state: RecipientState,
    pub attempts: u32,
    /// Unix seconds.
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub remote_mta: Option<String>,
    /// DSN NOTIFY as given at RCPT (RFC 3461 §4.1), e.g. `FAILURE,DELAY`.
    pub notify: Option<String>,
    /// DSN ORCPT (RFC 3461 §4.2), e.g. `rfc822;a@example.org`.
    pub orcpt: Option<String>,
    pub updated_at: i64,
    /// The node sending to it now ([`QueueStore::claim_queued`]), if any.
    pub lease_owner: Option<String>,
}

/// A queued message with all its recipients.
#[derive(Debug, Clone)]
pub struct QueuedMessage {
    pub id: i64,
    pub blob: BlobId,
    pub size: u64,
    /// Empty for the null reverse-path `<>`.
    pub mail_from: String,
    /// Unix seconds.
    pub created_at: i64,
    /// DSN ENVID (RFC 3461 §4.4).
    pub envid: Option<String>,
    /// DSN RET: `FULL` or `HDRS` (RFC 3461 §4.3).
    pub ret: Option<String>,
    /// The delay notice was sent.
    pub delay_notified: bool,
    pub recipients: Vec<QueuedRecipient>,
}

/// The outcome to record for one recipient.
#[derive(Debug, Clone)]
pub struct RecipientUpdate {
    pub queue_id: i64,
    pub address: String,
    pub state: RecipientState,
    /// Used when `state` is `Pending`.
    pub next_attempt_at: i64,
    /// A delivery attempt was made (increments `attempts`).
    pub attempted: bool,
    /// `None` keeps the previous value.
    pub last_error: Option<String>,
    pub remote_mta: Option<String>,
}

/// The outbound queue (part of the storage contract, [`crate::contract`]): messages with their
/// recipients, claimed by one node at a time under a lease.
#[async_trait::async_trait]
pub trait QueueStore: Send + Sync {
    /// Every queued message with its recipients, oldest first.
    async fn queued_messages(&self) -> Result<Vec<QueuedMessage>>;

    /// Takes due recipients for the node `owner` until `until` (Unix seconds): up to `limit`
    /// pending recipients due at `now` that no node holds, or whose holder's lease has ended.
    /// Returns their messages with every recipient; the node sends to those whose
    /// `lease_owner` is itself. Two nodes never hold the same recipient; recording an outcome
    /// ([`QueueStore::update_queue_recipients`]) ends the hold.
    async fn claim_queued(
        &self,
        now: i64,
        limit: u32,
        owner: &str,
        until: i64,
    ) -> Result<Vec<QueuedMessage>>;

    /// Gives back what `owner` holds: everything (a node starting again), or one message's
    /// recipients (work taken but not started). Returns how many recipients were released.
    async fn release_queued(&self, owner: &str, queue_id: Option<i64>) -> Result<u64>;

    async fn queued_message(&self, id: i64) -> Result<Option<QueuedMessage>>;

    /// Records recipient outcomes in one transaction and removes the messages whose
    /// recipients are all final (their blob reference is released).
    async fn update_queue_recipients(&self, updates: &[RecipientUpdate]) -> Result<()>;

    /// Makes every pending recipient of a message due at `now`; false when there is no such
    /// message.
    async fn retry_queued(&self, id: i64, now: i64) -> Result<bool>;

    /// Removes a message from the queue without sending anything; false when absent.
    async fn delete_queued(&self, id: i64) -> Result<bool>;

    /// Remembers that the delay notice of a message was sent.
    async fn set_delay_notified(&self, id: i64) -> Result<()>;

    /// The earliest `next_attempt_at` of any pending recipient.
    async fn next_queue_attempt(&self) -> Result<Option<i64>>;
}

/// DSN parameters of a queued message (RFC 3461), kept to honour NOTIFY and to fill the DSN.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueDsn {
    pub envid: Option<String>,
    /// `FULL` or `HDRS`.
    pub ret: Option<String>,
    /// One per recipient of the [`crate::QueueEntry`], in the same order.
    pub recipients: Vec<RecipientDsn>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecipientDsn {
    pub notify: Option<String>,
    pub orcpt: Option<String>,
}
