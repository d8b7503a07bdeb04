//! The search index, shared part: the Date header of each message and the background
//! indexer's queries. Storing and looking up the text is each back-end's own
//! (`text_index.rs`: an FTS5 trigram index on SQLite, `pg_trgm` on PostgreSQL), with the same
//! matching rule: substrings of the folded text.

use hopthu_model::{MailboxId, Uid};

use super::text_index::{insert_text, reindex_text};
use super::{Backend, Db};
use crate::search::SearchText;
use crate::{BlobId, Result};

#[async_trait::async_trait]
impl crate::SearchStore for Backend {
    async fn search_text(
        &self,
        mailbox: MailboxId,
        field: crate::SearchField,
        folded: &str,
    ) -> Result<Vec<Uid>> {
        let needle = crate::search::no_nul(folded);
        self.search_text_in(mailbox, field, &needle).await
    }

    async fn sent_days(&self, mailbox: MailboxId) -> Result<Vec<(Uid, Option<i64>)>> {
        let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT m.uid, t.sent_day FROM messages m
               LEFT JOIN search_text t ON t.blob_hash = m.blob_hash
              WHERE m.mailbox_id = $1 ORDER BY m.uid",
        )
        .bind(mailbox.0)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(|(u, d)| (Uid(u as u32), d)).collect())
    }

    async fn unindexed_blobs(&self, limit: u32) -> Result<Vec<BlobId>> {
        let mut hashes: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT m.blob_hash FROM messages m
              WHERE NOT EXISTS (SELECT 1 FROM search_text t WHERE t.blob_hash = m.blob_hash)
              LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        if (hashes.len() as u32) < limit {
            // Text of an older extraction (partial index `search_text_stale`).
            let stale: Vec<String> =
                sqlx::query_scalar("SELECT blob_hash FROM search_text WHERE stale = 1 LIMIT $1")
                    .bind(i64::from(limit - hashes.len() as u32))
                    .fetch_all(&self.read)
                    .await?;
            hashes.extend(stale);
        }
        Ok(hashes.iter().filter_map(|h| BlobId::parse(h)).collect())
    }

    async fn index_blob(&self, blob: &BlobId, text: &SearchText) -> Result<()> {
        let mut tx = self.begin().await?;
        let known: Option<String> =
            sqlx::query_scalar("SELECT blob_hash FROM search_text WHERE blob_hash = $1")
                .bind(blob.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        match known {
            None => insert_text(&mut tx, blob, text).await?,
            Some(_) => reindex_text(&mut tx, blob, text).await?,
        }
        tx.commit().await?;
        Ok(())
    }

    async fn keep_text(&self, blob: &BlobId) -> Result<()> {
        let mut tx = self.begin().await?;
        let kept = sqlx::query("UPDATE search_text SET stale = 0 WHERE blob_hash = $1")
            .bind(blob.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if kept == 0 {
            insert_text(&mut tx, blob, &SearchText::default()).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// `sql`, an INSERT or UPDATE of `search_text` whose `$1` is `blob_hash` and `$2`..`$9` are
/// `hfrom, hto, hcc, hbcc, subject, body, sent_at, sent_day`, with the values of `blob` and
/// `text` bound (NULs as spaces: a database text column holds none).
pub(super) fn with_text<'a>(
    sql: &'static str,
    blob: &'a BlobId,
    text: &'a SearchText,
) -> sqlx::query::Query<'a, Db, <Db as sqlx::Database>::Arguments> {
    use crate::search::no_nul;
    sqlx::query(sql)
        .bind(blob.as_str())
        .bind(no_nul(&text.from))
        .bind(no_nul(&text.to))
        .bind(no_nul(&text.cc))
        .bind(no_nul(&text.bcc))
        .bind(no_nul(&text.subject))
        .bind(no_nul(&text.body))
        .bind(text.sent_at)
        .bind(text.sent_day)
}
