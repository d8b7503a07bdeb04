//! PostgreSQL side of the search index. `search_text` holds, per blob, each searchable field
//! as folded text (folded in Rust, as on SQLite), with a `pg_trgm` GIN index on each. A needle
//! of 3 or more characters is a `LIKE '%needle%'` (its `%`, `_` and `\` escaped), which the
//! trigram indexes answer and PostgreSQL rechecks on the text; a shorter needle gives no
//! trigram and is looked for with `strpos` in the mailbox's messages (a scan, still exact).
//! The same matching rule as SQLite's (`sqlite/text_index.rs`): substrings of the folded text.

use hopthu_model::{MailboxId, Uid};

use super::search::with_text;
use super::{Backend, Tx};
use crate::search::{SearchField, SearchText, has_trigram};
use crate::{BlobId, Result};

/// The LIKE pattern that finds `needle` anywhere: `%`, `_` and the escape `\` taken literally.
pub(crate) fn like_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl Backend {
    pub(crate) async fn search_text_in(
        &self,
        mailbox: MailboxId,
        field: SearchField,
        needle: &str,
    ) -> Result<Vec<Uid>> {
        let column = |c: &str| {
            if has_trigram(needle) {
                format!("t.{c} LIKE $2")
            } else {
                format!("strpos(t.{c}, $2) > 0")
            }
        };
        let test = match field {
            SearchField::From => column("hfrom"),
            SearchField::To => column("hto"),
            SearchField::Cc => column("hcc"),
            SearchField::Bcc => column("hbcc"),
            SearchField::Subject => column("subject"),
            SearchField::Body => column("body"),
            SearchField::Text => format!(
                "({})",
                ["hfrom", "hto", "hcc", "hbcc", "subject", "body"]
                    .map(column)
                    .join(" OR ")
            ),
        };
        let value = if has_trigram(needle) {
            like_pattern(needle)
        } else {
            needle.to_string()
        };
        let uids: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT m.uid FROM messages m JOIN search_text t ON t.blob_hash = m.blob_hash
              WHERE m.mailbox_id = $1 AND {test} ORDER BY m.uid"
        )))
        .bind(mailbox.0)
        .bind(value)
        .fetch_all(&self.read)
        .await?;
        Ok(uids.into_iter().map(|u| Uid(u as u32)).collect())
    }
}

/// Stores the text of a blob (once). Messages find it through their blob, so rows inserted
/// before or after are searchable as soon as this commits.
pub(crate) async fn insert_text(tx: &mut Tx, blob: &BlobId, text: &SearchText) -> Result<()> {
    write_text(
        tx,
        blob,
        text,
        "INSERT INTO search_text (blob_hash, hfrom, hto, hcc, hbcc, subject, body, sent_at,
                                  sent_day)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (blob_hash) DO NOTHING",
    )
    .await?;
    if text.pending {
        // The indexer completes it (attachments): see `SearchText::pending`.
        sqlx::query("UPDATE search_text SET stale = 1 WHERE blob_hash = $1")
            .bind(blob.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Replaces the text of a blob (an older extraction); its messages find the new text at once.
pub(crate) async fn reindex_text(tx: &mut Tx, blob: &BlobId, text: &SearchText) -> Result<()> {
    write_text(
        tx,
        blob,
        text,
        "UPDATE search_text SET hfrom = $2, hto = $3, hcc = $4, hbcc = $5, subject = $6,
                body = $7, sent_at = $8, sent_day = $9, stale = 0
          WHERE blob_hash = $1",
    )
    .await
}

async fn write_text(
    tx: &mut Tx,
    blob: &BlobId,
    text: &SearchText,
    sql: &'static str,
) -> Result<()> {
    with_text(sql, blob, text).execute(&mut **tx).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_take_wildcards_literally() {
        assert_eq!(like_pattern("eautiful worl"), "%eautiful worl%");
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
        assert_eq!(like_pattern(""), "%%");
        assert_eq!(crate::search::no_nul("a\0b"), "a b");
    }
}
