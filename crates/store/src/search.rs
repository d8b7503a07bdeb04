//! The search index in mail-domain terms: the searchable text of a stored body, and the
//! look-ups IMAP SEARCH needs (which messages of a mailbox have a word in their From, Subject,
//! body...). The text arrives already extracted and folded by the core; the back-end only
//! stores and indexes it (SQLite: an FTS5 trigram index, see `sqlite/text_index.rs`;
//! PostgreSQL: `pg_trgm` GIN indexes, see `postgres/text_index.rs`).
//!
//! Matching is substring matching over the folded text (RFC 3501 §6.4.4, RFC 9051 §6.4.4):
//! `"eautiful worl"` finds "Beautiful World", `"ser-fro"` finds `user-from@example.org`, and
//! since both sides are folded, `"hoa"` finds "Hòa" and "Hoà". A needle of 3 or more
//! characters is answered by the trigram index; a shorter one by a scan of the mailbox's
//! folded text (still exact, slower).
//!
//! **Invariant**: a message row and its index entry are written in the same transaction
//! ([`MailStore::deliver_indexed`], and triggers for copy, move and expunge), so a committed
//! message is searchable at once when its text was given.

use hopthu_model::{MailboxId, Uid};

use crate::{BlobId, Result};

/// The searchable text of one message body, each field folded with
/// `hopthu_model::text::search_fold` (lower case, no diacritics, đ → d).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchText {
    /// Names and addresses of the From header.
    pub from: String,
    pub to: String,
    pub cc: String,
    pub bcc: String,
    pub subject: String,
    /// The decoded text of every text part (HTML without tags), nested messages included.
    pub body: String,
    /// The Date header as Unix seconds, when present and valid (SORT, THREAD).
    pub sent_at: Option<i64>,
    /// The calendar date written in the Date header, in the header's own zone, as days since
    /// 1970-01-01 (SENTBEFORE/SENTON/SENTSINCE, RFC 3501 §6.4.4: "disregarding time and
    /// timezone"); `None` when the header is missing or not a valid date.
    pub sent_day: Option<i64>,
    /// The text lacks what only the background indexer extracts (the text of PDF and DOCX
    /// attachments): it is stored marked stale, so the indexer extracts the message again.
    pub pending: bool,
}

/// Needles of at least this many characters are answered by the trigram index; shorter ones
/// (no trigram to look up) by a scan.
pub(crate) const TRIGRAM: usize = 3;

/// Text as both back-ends store and compare it: NUL (which PostgreSQL text cannot hold; a
/// message may have one, RFC 3516 literal8) becomes a space, in the stored text and in the
/// needle alike, so a search finds the same on both back-ends.
pub(crate) fn no_nul(folded: &str) -> std::borrow::Cow<'_, str> {
    if folded.contains('\0') {
        folded.replace('\0', " ").into()
    } else {
        folded.into()
    }
}

/// Whether the index can answer `needle` (it has a trigram).
pub(crate) fn has_trigram(needle: &str) -> bool {
    needle.chars().nth(TRIGRAM - 1).is_some()
}

/// Where a search string is looked for (RFC 3501 §6.4.4 text keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SearchField {
    From,
    To,
    Cc,
    Bcc,
    Subject,
    Body,
    /// Headers and body.
    Text,
}

/// The search index (part of the storage contract, [`crate::contract`]): the folded text of each
/// body, kept in the same transaction as the messages that reference it.
#[async_trait::async_trait]
pub trait SearchStore: Send + Sync {
    /// UIDs (ascending) of the messages of `mailbox` whose `field` contains `folded` (already
    /// folded) as a substring: `"an da"` finds "Nông Văn Đạt", `"ser-fro"` finds
    /// `user-from@example.org`. The empty string is in every text. Messages whose text is not
    /// indexed yet (`unindexed_blobs`) are not found. A NUL in `folded` matches as a space.
    async fn search_text(
        &self,
        mailbox: MailboxId,
        field: SearchField,
        folded: &str,
    ) -> Result<Vec<Uid>>;

    /// The calendar date of the Date header of every message of a mailbox, as days since
    /// 1970-01-01 ([`SearchText::sent_day`]; `None` when missing, invalid or not indexed).
    async fn sent_days(&self, mailbox: MailboxId) -> Result<Vec<(Uid, Option<i64>)>>;

    /// Up to `limit` blobs whose searchable text must be extracted: referenced by messages but
    /// without text (stored before the index existed, or by a path that did not extract text),
    /// or with text from an older extraction (`search_text.stale`, set by a migration that
    /// changed what is extracted).
    async fn unindexed_blobs(&self, limit: u32) -> Result<Vec<BlobId>>;

    /// Stores the text of a blob (replacing an older extraction) and indexes every message that
    /// references it.
    async fn index_blob(&self, blob: &BlobId, text: &SearchText) -> Result<()>;

    /// For a blob whose body cannot be read to extract its text: keeps the text there is
    /// (no longer stale), or stores empty text when there is none, so it is not retried
    /// forever.
    async fn keep_text(&self, blob: &BlobId) -> Result<()>;
}
