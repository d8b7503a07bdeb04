//! SQLite side of the blob collector (`crate::gc`): which stored bodies nothing refers to, and
//! the removal of their rows.

use std::collections::HashSet;

use sqlx::Row;

use super::Backend;
use crate::{BlobId, Result, StoreError};

/// The one definition of "a body is still needed", as an SQL condition on a `blobs` row: every
/// column of the schema that names a blob and keeps its body alive. Message rows (every
/// mailbox of every account: drafts, sent mail and notices delivered to units are messages
/// too) and queued outbound messages. `search_text.blob_hash` is derived from the body and
/// goes with the `blobs` row (trigger `blobs_search_delete`); it is not a reference. Notices
/// (`notices`) keep their own text and name no blob.
///
/// A migration that adds a column holding a blob hash must add it here:
/// `tests::every_blob_column_is_a_known_reference` fails until it is listed.
macro_rules! referenced {
    () => {
        "(EXISTS (SELECT 1 FROM messages m WHERE m.blob_hash = blobs.hash)
           OR EXISTS (SELECT 1 FROM queue q WHERE q.blob_hash = blobs.hash)
           OR EXISTS (SELECT 1 FROM incident_confirmations c WHERE c.blob_hash = blobs.hash))"
    };
}
/// The columns `referenced!` covers, as `table.column` (and those that name a blob without
/// keeping it: the derived search text, and on PostgreSQL the collector's own record of what
/// it deleted).
#[cfg(test)]
pub(crate) const REFERENCE_COLUMNS: &[&str] = &[
    "messages.blob_hash",
    "queue.blob_hash",
    "incident_confirmations.blob_hash",
];
#[cfg(test)]
pub(crate) const DERIVED_COLUMNS: &[&str] = &["search_text.blob_hash", "blob_deletions.blob"];

fn parse(hash: &str) -> Result<BlobId> {
    BlobId::parse(hash).ok_or_else(|| StoreError::Corrupt(format!("blob hash {hash:?}")))
}

impl Backend {
    /// Every `blobs` row nothing refers to, with its size.
    pub(crate) async fn unreferenced_blobs(&self) -> Result<Vec<(BlobId, u64)>> {
        sqlx::query(concat!(
            "SELECT hash, size FROM blobs WHERE NOT ",
            referenced!(),
            " ORDER BY hash"
        ))
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|r| {
            let hash: String = r.try_get("hash")?;
            let size: i64 = r.try_get("size")?;
            Ok((parse(&hash)?, size.max(0) as u64))
        })
        .collect()
    }

    /// The hashes of the `blobs` rows that start with `prefix` (the first two hex digits: one
    /// top-level folder of the blob store).
    pub(crate) async fn blob_rows_with_prefix(&self, prefix: &str) -> Result<HashSet<String>> {
        // Hex digits sort below '~', so this is the range of every hash with the prefix.
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT hash FROM blobs WHERE hash >= $1 AND hash < $2")
                .bind(prefix)
                .bind(format!("{prefix}~"))
                .fetch_all(&self.read)
                .await?;
        Ok(rows.into_iter().collect())
    }

    /// Deletes the rows of `ids` that are still unreferenced (checked again inside the
    /// transaction, so a delivery that committed meanwhile keeps its row); returns how many
    /// went. Their search text goes with them (trigger).
    pub(crate) async fn forget_blobs(&self, ids: &[BlobId]) -> Result<u64> {
        let sql = concat!("DELETE FROM blobs WHERE hash = $1 AND NOT ", referenced!());
        let mut forgotten = 0;
        // Short transactions: deliveries wait for the one writer meanwhile.
        for chunk in ids.chunks(500) {
            let mut tx = self.begin().await?;
            for id in chunk {
                forgotten += sqlx::query(sql)
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.commit().await?;
        }
        Ok(forgotten)
    }

    /// Of `ids`, those that have a `blobs` row or a reference now.
    pub(crate) async fn blobs_wanted(&self, ids: &[BlobId]) -> Result<HashSet<String>> {
        let mut wanted = HashSet::new();
        let mut conn = self.read.acquire().await?;
        for id in ids {
            let known: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM blobs WHERE hash = $1)
                     OR EXISTS (SELECT 1 FROM messages WHERE blob_hash = $1)
                     OR EXISTS (SELECT 1 FROM queue WHERE blob_hash = $1)",
            )
            .bind(id.as_str())
            .fetch_one(&mut *conn)
            .await?;
            if known {
                wanted.insert(id.as_str().to_string());
            }
        }
        Ok(wanted)
    }
}
