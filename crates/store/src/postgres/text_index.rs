//! PostgreSQL side of the search index. `search_text` holds, per blob, the folded headers
//! (SORT reads them) and each searchable field as words (`w_*`, and `body`), written
//! ` w1 w2 … ` by [`crate::search::words`], the rule that also splits a search string. A
//! look-up is then "the words of the string in a row, the last one as a prefix": a LIKE of
//! `% w1 w2%`, which the trigram (`pg_trgm`) GIN indexes answer — the same matching rule as
//! SQLite's FTS5 phrase-prefix query (`sqlite/text_index.rs`). Words are letters and digits
//! only, so the pattern holds no `%`, `_` or `\` of the searcher's.

use hopthu_model::{MailboxId, Uid};

use super::{Backend, Tx};
use crate::search::{SearchField, SearchText, words};
use crate::{BlobId, Result};

/// ` w1 w2 … ` of a folded text (an empty text gives a single space).
pub(crate) fn word_text(folded: &str) -> String {
    let mut out = String::with_capacity(folded.len() + 2);
    out.push(' ');
    for w in words(folded) {
        out.push_str(w);
        out.push(' ');
    }
    out
}

/// The LIKE pattern for a folded search string; `None` when it has no word.
pub(crate) fn like_pattern(folded: &str) -> Option<String> {
    let words = words(folded);
    if words.is_empty() {
        return None;
    }
    Some(format!("% {}%", words.join(" ")))
}

impl Backend {
    pub(crate) async fn search_text(
        &self,
        mailbox: MailboxId,
        field: SearchField,
        folded: &str,
    ) -> Result<Option<Vec<Uid>>> {
        let Some(pattern) = like_pattern(folded) else {
            return Ok(None);
        };
        let sql = match field {
            SearchField::From => "t.w_from LIKE $2",
            SearchField::To => "t.w_to LIKE $2",
            SearchField::Cc => "t.w_cc LIKE $2",
            SearchField::Bcc => "t.w_bcc LIKE $2",
            SearchField::Subject => "t.w_subject LIKE $2",
            SearchField::Body => "t.body LIKE $2",
            SearchField::Text => {
                "(t.w_from LIKE $2 OR t.w_to LIKE $2 OR t.w_cc LIKE $2 OR t.w_bcc LIKE $2
                  OR t.w_subject LIKE $2 OR t.body LIKE $2)"
            }
        };
        let uids: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT m.uid FROM messages m JOIN search_text t ON t.blob_hash = m.blob_hash
              WHERE m.mailbox_id = $1 AND {sql} ORDER BY m.uid"
        )))
        .bind(mailbox.0)
        .bind(&pattern)
        .fetch_all(&self.read)
        .await?;
        Ok(Some(uids.into_iter().map(|u| Uid(u as u32)).collect()))
    }
}

/// PostgreSQL text holds no NUL character (a message may: RFC 3516 literal8); it becomes a
/// space, which no search can tell from the NUL.
fn no_nul(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') {
        text.replace('\0', " ").into()
    } else {
        text.into()
    }
}

/// Stores the text of a blob (once). Messages find it through their blob, so rows inserted
/// before or after are searchable as soon as this commits.
pub(crate) async fn insert_text(tx: &mut Tx, blob: &BlobId, text: &SearchText) -> Result<()> {
    sqlx::query(
        "INSERT INTO search_text (blob_hash, hfrom, hto, hcc, hbcc, subject, body, sent_at,
                                  w_from, w_to, w_cc, w_bcc, w_subject)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (blob_hash) DO NOTHING",
    )
    .bind(blob.as_str())
    .bind(no_nul(&text.from))
    .bind(no_nul(&text.to))
    .bind(no_nul(&text.cc))
    .bind(no_nul(&text.bcc))
    .bind(no_nul(&text.subject))
    .bind(word_text(&text.body))
    .bind(text.sent_at)
    .bind(word_text(&text.from))
    .bind(word_text(&text.to))
    .bind(word_text(&text.cc))
    .bind(word_text(&text.bcc))
    .bind(word_text(&text.subject))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_words_with_a_prefix_and_no_wildcards() {
        assert_eq!(like_pattern("bao cao").as_deref(), Some("% bao cao%"));
        assert_eq!(
            like_pattern("datnv@caobang.gov").as_deref(),
            Some("% datnv caobang gov%")
        );
        assert_eq!(like_pattern("a% or _x\\").as_deref(), Some("% a or x%"));
        assert_eq!(like_pattern(" -@- "), None);
        assert_eq!(word_text("Nông, văn"), " Nông văn ");
        assert_eq!(word_text(""), " ");
        assert_eq!(no_nul("a\0b"), "a b");
    }
}
