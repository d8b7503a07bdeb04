//! SQLite side of the search index: `search_text` (folded text per blob) and the FTS5 table
//! `search_index` (one row per message, kept in step by the triggers of migration 0004).
//!
//! A look-up is one FTS5 query scoped to the mailbox inside the index
//! (`scope : "mb42" AND subject : "bao cao"*`): the words of the search string form a phrase
//! whose last word may be a prefix, so "hoa" finds "Hòa" and "Hoàng", and "nong van d" finds
//! "Nông Văn Đạt". This is word-prefix matching, which is what people mean; a string inside a
//! word ("ong" in "công") is not found (RFC 3501 asks for substrings; Dovecot's FTS makes the
//! same trade for the same reason: it is what keeps a search over 100,000 messages fast).

use hopthu_model::{MailboxId, Uid};

use super::{Backend, Tx};
use crate::search::{SearchField, SearchText};
use crate::{BlobId, Result};

impl Backend {
    pub(crate) async fn search_text(
        &self,
        mailbox: MailboxId,
        field: SearchField,
        folded: &str,
    ) -> Result<Option<Vec<Uid>>> {
        let Some(query) = fts_query(mailbox, field, folded) else {
            return Ok(None);
        };
        let uids: Vec<i64> = sqlx::query_scalar(
            // CROSS JOIN fixes the order: the index answers first, once; the planner would
            // otherwise walk the mailbox and run the MATCH once per message.
            "SELECT m.uid FROM search_index s CROSS JOIN messages m ON m.id = s.rowid
              WHERE search_index MATCH $1 AND m.mailbox_id = $2 ORDER BY m.uid",
        )
        .bind(&query)
        .bind(mailbox.0)
        .fetch_all(&self.read)
        .await?;
        Ok(Some(uids.into_iter().map(|u| Uid(u as u32)).collect()))
    }
}

/// Stores the text of a blob (once) and indexes the messages that already reference it;
/// messages inserted afterwards are indexed by the insert trigger.
pub(crate) async fn insert_text(tx: &mut Tx, blob: &BlobId, text: &SearchText) -> Result<()> {
    let inserted = sqlx::query(
        "INSERT INTO search_text (blob_hash, hfrom, hto, hcc, hbcc, subject, body, sent_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (blob_hash) DO NOTHING",
    )
    .bind(blob.as_str())
    .bind(&text.from)
    .bind(&text.to)
    .bind(&text.cc)
    .bind(&text.bcc)
    .bind(&text.subject)
    .bind(&text.body)
    .bind(text.sent_at)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted > 0 {
        sqlx::query(
            "INSERT INTO search_index (rowid, scope, hfrom, hto, hcc, hbcc, subject, body)
             SELECT m.id, 'mb' || m.mailbox_id, $2, $3, $4, $5, $6, $7
               FROM messages m WHERE m.blob_hash = $1",
        )
        .bind(blob.as_str())
        .bind(&text.from)
        .bind(&text.to)
        .bind(&text.cc)
        .bind(&text.bcc)
        .bind(&text.subject)
        .bind(&text.body)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The FTS5 query for a folded search string in one field of one mailbox; `None` when the
/// string has no word. Words are runs of letters and digits (as the `unicode61` tokenizer
/// splits them), so no FTS5 syntax can be smuggled in.
pub(super) fn fts_query(mailbox: MailboxId, field: SearchField, folded: &str) -> Option<String> {
    let words = crate::search::words(folded);
    if words.is_empty() {
        return None;
    }
    let columns = match field {
        SearchField::From => "hfrom",
        SearchField::To => "hto",
        SearchField::Cc => "hcc",
        SearchField::Bcc => "hbcc",
        SearchField::Subject => "subject",
        SearchField::Body => "body",
        SearchField::Text => "{hfrom hto hcc hbcc subject body}",
    };
    Some(format!(
        "scope : \"mb{}\" AND {columns} : \"{}\"*",
        mailbox.0,
        words.join(" ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_phrases_with_a_prefix_and_no_syntax() {
        let q = |field, s| fts_query(MailboxId(7), field, s);
        assert_eq!(
            q(SearchField::Subject, "bao cao").as_deref(),
            Some("scope : \"mb7\" AND subject : \"bao cao\"*")
        );
        assert_eq!(
            q(SearchField::From, "datnv@caobang.gov").as_deref(),
            Some("scope : \"mb7\" AND hfrom : \"datnv caobang gov\"*")
        );
        assert_eq!(
            q(SearchField::Text, "a\" or x*").as_deref(),
            Some("scope : \"mb7\" AND {hfrom hto hcc hbcc subject body} : \"a or x\"*")
        );
        assert_eq!(q(SearchField::Body, " -@- "), None);
        assert_eq!(q(SearchField::Body, ""), None);
    }
}
