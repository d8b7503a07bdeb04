//! SQLite side of the search index: `search_text` (folded text per blob) and the FTS5 table
//! `search_index` (one row per message, kept in step by the triggers of migration 0014),
//! tokenized by FTS5's `trigram` tokenizer (`case_sensitive 1`: the text is folded already,
//! in Rust, the same for both back-ends).
//!
//! A needle of 3 or more characters is one FTS5 query scoped to the mailbox inside the index
//! (`scope : "<token>" AND subject : "eautiful worl"`): a trigram tokenizer turns a phrase into
//! its consecutive trigrams, so the phrase matches exactly where the needle is a substring of
//! the field. A shorter needle has no trigram: it is looked for with `instr` in the folded
//! text of the mailbox's messages (a scan, still exact). A NUL is stored as a space, as on
//! PostgreSQL (`search::no_nul`).
//!
//! The scope token of a mailbox is three characters of the Supplementary Private Use Area-A
//! (U+F0000 + each 16 bits of the id), so it is exactly one trigram: a look-up reads the
//! mailbox's own rows and no other mailbox's ([`scope_token`] and [`SCOPE_SQL`], the same
//! in the migration's triggers).

use hopthu_model::{MailboxId, Uid};

use super::search::with_text;
use super::{Backend, Tx};
use crate::search::{SearchField, SearchText, has_trigram};
use crate::{BlobId, Result};

/// The scope token of messages row `m`, in SQL (as migration 0014's triggers write it).
const SCOPE_SQL: &str = "char(0xF0000 + ((m.mailbox_id >> 32) & 0xFFFF),
     0xF0000 + ((m.mailbox_id >> 16) & 0xFFFF), 0xF0000 + (m.mailbox_id & 0xFFFF))";

/// The scope token of a mailbox (see [`SCOPE_SQL`]).
pub(super) fn scope_token(mailbox: MailboxId) -> String {
    [32, 16, 0]
        .into_iter()
        .map(|shift| {
            let digit = ((mailbox.0 >> shift) & 0xFFFF) as u32;
            char::from_u32(0xF0000 + digit).unwrap_or(char::REPLACEMENT_CHARACTER)
        })
        .collect()
}

impl Backend {
    pub(crate) async fn search_text_in(
        &self,
        mailbox: MailboxId,
        field: SearchField,
        needle: &str,
    ) -> Result<Vec<Uid>> {
        let uids: Vec<i64> = if has_trigram(needle) {
            sqlx::query_scalar(
                // CROSS JOIN fixes the order: the index answers first, once; the planner would
                // otherwise walk the mailbox and run the MATCH once per message.
                "SELECT m.uid FROM search_index s CROSS JOIN messages m ON m.id = s.rowid
                  WHERE search_index MATCH $1 AND m.mailbox_id = $2 ORDER BY m.uid",
            )
            .bind(fts_query(mailbox, field, needle))
            .bind(mailbox.0)
            .fetch_all(&self.read)
            .await?
        } else {
            let test = match field {
                SearchField::From => "instr(t.hfrom, $2) > 0",
                SearchField::To => "instr(t.hto, $2) > 0",
                SearchField::Cc => "instr(t.hcc, $2) > 0",
                SearchField::Bcc => "instr(t.hbcc, $2) > 0",
                SearchField::Subject => "instr(t.subject, $2) > 0",
                SearchField::Body => "instr(t.body, $2) > 0",
                SearchField::Text => {
                    "(instr(t.hfrom, $2) > 0 OR instr(t.hto, $2) > 0 OR instr(t.hcc, $2) > 0
                      OR instr(t.hbcc, $2) > 0 OR instr(t.subject, $2) > 0
                      OR instr(t.body, $2) > 0)"
                }
            };
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT m.uid FROM messages m JOIN search_text t ON t.blob_hash = m.blob_hash
                  WHERE m.mailbox_id = $1 AND {test} ORDER BY m.uid"
            )))
            .bind(mailbox.0)
            .bind(needle)
            .fetch_all(&self.read)
            .await?
        };
        Ok(uids.into_iter().map(|u| Uid(u as u32)).collect())
    }
}

/// Stores the text of a blob (once) and indexes the messages that already reference it;
/// messages inserted afterwards are indexed by the insert trigger.
pub(crate) async fn insert_text(tx: &mut Tx, blob: &BlobId, text: &SearchText) -> Result<()> {
    let inserted = with_text(
        "INSERT INTO search_text (blob_hash, hfrom, hto, hcc, hbcc, subject, body, sent_at,
                                  sent_day)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (blob_hash) DO NOTHING",
        blob,
        text,
    )
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted > 0 {
        index_messages(tx, blob).await?;
    }
    if text.pending {
        // The indexer completes it (attachments): see `SearchText::pending`.
        sqlx::query("UPDATE search_text SET stale = 1 WHERE blob_hash = $1")
            .bind(blob.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Replaces the text of a blob (an older extraction) and re-indexes its messages.
pub(crate) async fn reindex_text(tx: &mut Tx, blob: &BlobId, text: &SearchText) -> Result<()> {
    with_text(
        "UPDATE search_text SET hfrom = $2, hto = $3, hcc = $4, hbcc = $5, subject = $6,
                body = $7, sent_at = $8, sent_day = $9, stale = 0
          WHERE blob_hash = $1",
        blob,
        text,
    )
    .execute(&mut **tx)
    .await?;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM messages WHERE blob_hash = $1")
        .bind(blob.as_str())
        .fetch_all(&mut **tx)
        .await?;
    // One by rowid: what a contentless-delete table answers without a scan.
    for id in ids {
        sqlx::query("DELETE FROM search_index WHERE rowid = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    index_messages(tx, blob).await
}

/// Index rows for the messages of `blob`, from its stored text.
async fn index_messages(tx: &mut Tx, blob: &BlobId) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO search_index (rowid, scope, hfrom, hto, hcc, hbcc, subject, body)
         SELECT m.id, {SCOPE_SQL}, t.hfrom, t.hto, t.hcc, t.hbcc, t.subject, t.body
           FROM messages m JOIN search_text t ON t.blob_hash = m.blob_hash
          WHERE m.blob_hash = $1"
    )))
    .bind(blob.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The FTS5 query for a needle of at least 3 characters in one field of one mailbox: two
/// FTS5 strings, where only `"` is special (doubled), so no query syntax can be smuggled in.
pub(super) fn fts_query(mailbox: MailboxId, field: SearchField, needle: &str) -> String {
    let columns = match field {
        SearchField::From => "hfrom",
        SearchField::To => "hto",
        SearchField::Cc => "hcc",
        SearchField::Bcc => "hbcc",
        SearchField::Subject => "subject",
        SearchField::Body => "body",
        SearchField::Text => "{hfrom hto hcc hbcc subject body}",
    };
    format!(
        "scope : \"{}\" AND {columns} : \"{}\"",
        scope_token(mailbox),
        needle.replace('"', "\"\"")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_quoted_strings_and_scopes_one_trigram() {
        let scope = scope_token(MailboxId(7));
        assert_eq!(scope, "\u{F0000}\u{F0000}\u{F0007}");
        assert_eq!(
            scope_token(MailboxId(0x1_0002_0003)),
            "\u{F0001}\u{F0002}\u{F0003}"
        );
        assert_ne!(scope_token(MailboxId(1)), scope_token(MailboxId(0x1_0001)));
        let q = |field, s| fts_query(MailboxId(7), field, s);
        assert_eq!(
            q(SearchField::Subject, "eautiful worl"),
            format!("scope : \"{scope}\" AND subject : \"eautiful worl\"")
        );
        assert_eq!(
            q(SearchField::Text, "a\" OR x*"),
            format!(
                "scope : \"{scope}\" AND {{hfrom hto hcc hbcc subject body}} : \"a\"\" OR x*\""
            )
        );
    }
}
