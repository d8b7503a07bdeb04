//! The search index in mail-domain terms: the searchable text of a stored body, and the
//! look-ups IMAP SEARCH needs (which messages of a mailbox have a word in their From, Subject,
//! body...). The text arrives already extracted and folded by the core; the back-end only
//! stores and indexes it (SQLite: FTS5, see `sqlite/search.rs`).
//!
//! **Invariant**: a message row and its index entry are written in the same transaction
//! ([`Store::deliver_indexed`], and triggers for copy, move and expunge), so a committed
//! message is searchable at once when its text was given.

use hopthu_model::{MailboxId, Uid};

use crate::{BlobId, Delivery, Meta, Result, Store};

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
    /// The Date header as Unix seconds, when present and valid.
    pub sent_at: Option<i64>,
}

/// The words of a folded search string: runs of letters and digits (as SQLite's `unicode61`
/// tokenizer splits them). Every back-end matches these words, the last one as a prefix, so
/// no query syntax can be smuggled in.
pub(crate) fn words(folded: &str) -> Vec<&str> {
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect()
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

impl Store {
    /// [`Store::deliver`], indexing `text` with the new message rows in the same transaction.
    pub async fn deliver_indexed(
        &self,
        delivery: &Delivery<'_>,
        text: Option<&SearchText>,
    ) -> Result<Vec<(MailboxId, Uid)>> {
        meta!(self, db => db.deliver(delivery, text).await)
    }

    /// UIDs of the messages of `mailbox` whose `field` contains the words of `folded` (already
    /// folded), the last one as a prefix: `"van da"` finds "Nông Văn Đạt". `None` when the
    /// string has no word to look up (only punctuation): the caller decides what that means.
    pub async fn search_text(
        &self,
        mailbox: MailboxId,
        field: SearchField,
        folded: &str,
    ) -> Result<Option<Vec<Uid>>> {
        meta!(self, db => db.search_text(mailbox, field, folded).await)
    }

    /// The Date header of every message of a mailbox (`None` when missing or not indexed).
    pub async fn sent_dates(&self, mailbox: MailboxId) -> Result<Vec<(Uid, Option<i64>)>> {
        meta!(self, db => db.sent_dates(mailbox).await)
    }

    /// Up to `limit` blobs referenced by messages but without searchable text (stored before
    /// the index existed, or by a path that did not extract text).
    pub async fn unindexed_blobs(&self, limit: u32) -> Result<Vec<BlobId>> {
        meta!(self, db => db.unindexed_blobs(limit).await)
    }

    /// Adds the text of a blob and indexes every message that references it.
    pub async fn index_blob(&self, blob: &BlobId, text: &SearchText) -> Result<()> {
        meta!(self, db => db.index_blob(blob, text).await)
    }
}
