//! Rate-limit events in storage terms (Đ13.3): what the throttles of `hopthu_core::limits`
//! count, kept in the store so that every node sharing it sees the same counts. The windows
//! and limits are the caller's; the store only adds, sums and forgets events.

use crate::Result;

/// What an event counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateKind {
    /// A failed sign-in, keyed by its source (an IPv4 address, an IPv6 /64).
    FailureBySource = 1,
    /// A failed sign-in, keyed by the account the login names.
    FailureByAccount = 2,
    /// A failed sign-in, keyed by account and source together.
    FailureByAccountSource = 3,
    /// Recipients of a submitted message (weight = recipients), keyed by the account.
    Sent = 4,
    /// A delivery success notice (RFC 3461), keyed by the address it goes to.
    SuccessNotice = 5,
}

/// One question: the events of `kind` and `key` at or after `since` (Unix milliseconds).
#[derive(Debug, Clone, Copy)]
pub struct RateAsk<'a> {
    pub kind: RateKind,
    pub key: &'a str,
    pub since: i64,
}

/// The answer to a [`RateAsk`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateCount {
    /// The sum of the events' weights.
    pub weight: u64,
    /// When the oldest of them happened (Unix milliseconds), if any.
    pub oldest: Option<i64>,
}

/// One event to count.
#[derive(Debug, Clone)]
pub struct RateEvent {
    pub kind: RateKind,
    pub key: String,
    /// Unix milliseconds.
    pub at: i64,
    pub weight: u32,
}

/// Rate-limit events shared by every node of an installation (part of the storage contract,
/// [`crate::contract`] §14).
#[async_trait::async_trait]
pub trait RateStore: Send + Sync {
    /// The count of each question, in order, read together.
    async fn rate_counts(&self, asks: &[RateAsk<'_>]) -> Result<Vec<RateCount>>;

    /// Adds `events` and forgets every event older than `forget_before` (Unix milliseconds),
    /// in one transaction: visible to every node when it returns.
    async fn rate_record(&self, events: &[RateEvent], forget_before: i64) -> Result<()>;

    /// Forgets every event of `kind` and `key` (a right password clears the failures of its
    /// account from that source).
    async fn rate_clear(&self, kind: RateKind, key: &str) -> Result<()>;
}
