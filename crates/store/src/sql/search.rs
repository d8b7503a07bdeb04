//! The search index, shared part: the Date header of each message and the background
//! indexer's queries. Storing and looking up the text is each back-end's own
//! (`text_index.rs`: FTS5 on SQLite, trigrams on PostgreSQL), with the same matching rule.

use hopthu_model::{MailboxId, Uid};

use super::Backend;
use super::text_index::insert_text;
use crate::search::SearchText;
use crate::{BlobId, Result};

impl Backend {
    pub(crate) async fn sent_dates(&self, mailbox: MailboxId) -> Result<Vec<(Uid, Option<i64>)>> {
        let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT m.uid, t.sent_at FROM messages m
               LEFT JOIN search_text t ON t.blob_hash = m.blob_hash
              WHERE m.mailbox_id = $1 ORDER BY m.uid",
        )
        .bind(mailbox.0)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(|(u, d)| (Uid(u as u32), d)).collect())
    }

    pub(crate) async fn unindexed_blobs(&self, limit: u32) -> Result<Vec<BlobId>> {
        let hashes: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT m.blob_hash FROM messages m
              WHERE NOT EXISTS (SELECT 1 FROM search_text t WHERE t.blob_hash = m.blob_hash)
              LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        Ok(hashes.iter().filter_map(|h| BlobId::parse(h)).collect())
    }

    pub(crate) async fn index_blob(&self, blob: &BlobId, text: &SearchText) -> Result<()> {
        let mut tx = self.begin().await?;
        insert_text(&mut tx, blob, text).await?;
        tx.commit().await?;
        Ok(())
    }
}
