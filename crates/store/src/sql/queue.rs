//! SQL of the outbound queue (`queue` + `queue_recipients`, migration 0003).

use std::collections::HashMap;

use sqlx::Row;

use super::{Backend, DbRow, Tx, dialect, now};
use crate::queue::{QueuedMessage, QueuedRecipient, RecipientState, RecipientUpdate};
use crate::types::QueueEntry;
use crate::{BlobId, Result, StoreError};

/// Adds a queue entry (one `queue` row, one `queue_recipients` row per recipient) inside the
/// delivery transaction. The caller has counted the blob reference it holds.
pub(super) async fn insert(tx: &mut Tx, blob: &BlobId, entry: &QueueEntry<'_>) -> Result<i64> {
    let now = now();
    let id = sqlx::query(
        "INSERT INTO queue (blob_hash, mail_from, recipients, created_at, next_attempt_at, envid, ret)
         VALUES ($1, $2, $3, $4, $4, $5, $6) RETURNING id",
    )
    .bind(blob.as_str())
    .bind(entry.mail_from)
    .bind(entry.recipients.join("\n"))
    .bind(now)
    .bind(entry.dsn.and_then(|d| d.envid.as_deref()))
    .bind(entry.dsn.and_then(|d| d.ret.as_deref()))
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    for (i, address) in entry.recipients.iter().enumerate() {
        let domain = address
            .rsplit_once('@')
            .map(|(_, d)| d.to_ascii_lowercase())
            .unwrap_or_default();
        let (notify, orcpt) = entry
            .dsn
            .and_then(|d| d.recipients.get(i))
            .map(|r| (r.notify.as_deref(), r.orcpt.as_deref()))
            .unwrap_or_default();
        sqlx::query(
            "INSERT INTO queue_recipients
               (queue_id, address, domain, next_attempt_at, notify, orcpt, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $4) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(address)
        .bind(domain)
        .bind(now)
        .bind(notify)
        .bind(orcpt)
        .execute(&mut **tx)
        .await?;
    }
    Ok(id)
}

impl Backend {
    /// All queued messages, or (`due = Some((now, limit))`) those with a pending recipient due.
    async fn queued_where(&self, due: Option<(i64, u32)>) -> Result<Vec<QueuedMessage>> {
        // One read transaction so messages and recipients agree (rolled back when dropped,
        // also when this future is: a pooled connection never keeps an old snapshot).
        let mut conn = self.read.begin().await?;
        let result = async {
            let rows = match due {
                None => {
                    sqlx::query(
                        "SELECT q.*, COALESCE(b.size, 0) AS size FROM queue q
                           LEFT JOIN blobs b ON b.hash = q.blob_hash ORDER BY q.id",
                    )
                    .fetch_all(&mut *conn)
                    .await?
                }
                Some((now, limit)) => {
                    sqlx::query(
                        "SELECT q.*, COALESCE(b.size, 0) AS size FROM queue q
                           LEFT JOIN blobs b ON b.hash = q.blob_hash
                          WHERE q.id IN (SELECT DISTINCT queue_id FROM queue_recipients
                                          WHERE state = 'pending' AND next_attempt_at <= $1)
                          ORDER BY q.id LIMIT $2",
                    )
                    .bind(now)
                    .bind(i64::from(limit))
                    .fetch_all(&mut *conn)
                    .await?
                }
            };
            let mut messages = rows
                .iter()
                .map(message_from_row)
                .collect::<Result<Vec<_>>>()?;
            if messages.is_empty() {
                return Ok(messages);
            }
            let (first, last) = (messages[0].id, messages[messages.len() - 1].id);
            let recipients = sqlx::query(
                "SELECT * FROM queue_recipients WHERE queue_id BETWEEN $1 AND $2
                  ORDER BY queue_id, rowid",
            )
            .bind(first)
            .bind(last)
            .fetch_all(&mut *conn)
            .await?;
            let mut by_id: HashMap<i64, usize> = HashMap::new();
            for (i, m) in messages.iter().enumerate() {
                by_id.insert(m.id, i);
            }
            for row in &recipients {
                let queue_id: i64 = row.try_get("queue_id")?;
                if let Some(&i) = by_id.get(&queue_id) {
                    messages[i].recipients.push(recipient_from_row(row)?);
                }
            }
            Ok(messages)
        }
        .await;
        let _ = conn.commit().await;
        result
    }
}

/// Deletes a queue row (recipients cascade) and releases its blob reference.
async fn remove_message(tx: &mut Tx, id: i64) -> Result<bool> {
    let hash: Option<String> =
        sqlx::query_scalar("DELETE FROM queue WHERE id = $1 RETURNING blob_hash")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    let Some(hash) = hash else {
        return Ok(false);
    };
    // Foreign keys cascade only when enabled on the connection; delete explicitly as well.
    sqlx::query("DELETE FROM queue_recipients WHERE queue_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE blobs SET refcount = refcount - 1 WHERE hash = $1")
        .bind(&hash)
        .execute(&mut **tx)
        .await?;
    Ok(true)
}

fn message_from_row(r: &DbRow) -> Result<QueuedMessage> {
    let hash: String = r.try_get("blob_hash")?;
    Ok(QueuedMessage {
        id: r.try_get("id")?,
        blob: BlobId::parse(&hash)
            .ok_or_else(|| StoreError::Corrupt(format!("blob hash {hash:?}")))?,
        size: r.try_get::<i64, _>("size")? as u64,
        mail_from: r.try_get("mail_from")?,
        created_at: r.try_get("created_at")?,
        envid: r.try_get("envid")?,
        ret: r.try_get("ret")?,
        delay_notified: r.try_get::<bool, _>("delay_notified")?,
        recipients: Vec::new(),
    })
}

fn recipient_from_row(r: &DbRow) -> Result<QueuedRecipient> {
    let state: String = r.try_get("state")?;
    Ok(QueuedRecipient {
        address: r.try_get("address")?,
        domain: r.try_get("domain")?,
        state: RecipientState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("queue state {state:?}")))?,
        attempts: r.try_get::<i64, _>("attempts")? as u32,
        next_attempt_at: r.try_get("next_attempt_at")?,
        last_error: r.try_get("last_error")?,
        remote_mta: r.try_get("remote_mta")?,
        notify: r.try_get("notify")?,
        orcpt: r.try_get("orcpt")?,
        updated_at: r.try_get("updated_at")?,
        lease_owner: r.try_get("lease_owner")?,
    })
}

#[async_trait::async_trait]
impl crate::QueueStore for Backend {
    async fn queued_messages(&self) -> Result<Vec<QueuedMessage>> {
        self.queued_where(None).await
    }

    /// Takes up to `limit` due pending recipients that no node holds (or whose holder's lease
    /// ended before `now`) for `owner` until `until`, and returns their messages (with every
    /// recipient; the caller sends to those it holds). Concurrent claims — other nodes —
    /// never take the same recipient ([`dialect::CLAIM_DUE`]).
    async fn claim_queued(
        &self,
        now: i64,
        limit: u32,
        owner: &str,
        until: i64,
    ) -> Result<Vec<QueuedMessage>> {
        let mut tx = self.begin().await?;
        let mut ids: Vec<i64> = sqlx::query_scalar(dialect::CLAIM_DUE)
            .bind(now)
            .bind(i64::from(limit))
            .bind(owner)
            .bind(until)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        ids.sort_unstable();
        ids.dedup();
        let mut messages = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(m) = self.queued_message(id).await? {
                messages.push(m);
            }
        }
        Ok(messages)
    }

    /// Gives back recipients `owner` holds: all of them (a node starting again after a crash)
    /// or those of `queue_id` (work it took but will not do now).
    async fn release_queued(&self, owner: &str, queue_id: Option<i64>) -> Result<u64> {
        let mut tx = self.begin().await?;
        let released = sqlx::query(
            "UPDATE queue_recipients SET lease_owner = NULL, lease_until = NULL
              WHERE lease_owner = $1 AND ($2 IS NULL OR queue_id = $2)",
        )
        .bind(owner)
        .bind(queue_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(released)
    }

    async fn queued_message(&self, id: i64) -> Result<Option<QueuedMessage>> {
        let mut conn = self.read.begin().await?;
        let result = async {
            let Some(row) = sqlx::query(
                "SELECT q.*, COALESCE(b.size, 0) AS size FROM queue q
                   LEFT JOIN blobs b ON b.hash = q.blob_hash WHERE q.id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            else {
                return Ok(None);
            };
            let mut message = message_from_row(&row)?;
            message.recipients =
                sqlx::query("SELECT * FROM queue_recipients WHERE queue_id = $1 ORDER BY rowid")
                    .bind(id)
                    .fetch_all(&mut *conn)
                    .await?
                    .iter()
                    .map(recipient_from_row)
                    .collect::<Result<Vec<_>>>()?;
            Ok(Some(message))
        }
        .await;
        let _ = conn.commit().await;
        result
    }

    async fn update_queue_recipients(&self, updates: &[RecipientUpdate]) -> Result<()> {
        if updates.is_empty() {
            return Ok(());
        }
        let now = now();
        let mut tx = self.begin().await?;
        let mut touched: Vec<i64> = Vec::new();
        for u in updates {
            sqlx::query(
                "UPDATE queue_recipients
                    SET state = $1,
                        next_attempt_at = CASE WHEN $1 = 'pending' THEN $2 ELSE next_attempt_at END,
                        attempts = attempts + $3,
                        last_error = COALESCE($4, last_error),
                        remote_mta = COALESCE($5, remote_mta),
                        updated_at = $6, lease_owner = NULL, lease_until = NULL
                  WHERE queue_id = $7 AND address = $8",
            )
            .bind(u.state.as_str())
            .bind(u.next_attempt_at)
            .bind(i64::from(u.attempted))
            .bind(u.last_error.as_deref())
            .bind(u.remote_mta.as_deref())
            .bind(now)
            .bind(u.queue_id)
            .bind(&u.address)
            .execute(&mut *tx)
            .await?;
            if !touched.contains(&u.queue_id) {
                touched.push(u.queue_id);
            }
        }
        for id in touched {
            let open: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM queue_recipients
                  WHERE queue_id = $1 AND state NOT IN ('delivered', 'reported')",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            if open == 0 {
                remove_message(&mut tx, id).await?;
            } else {
                // Keep the message row's summary columns meaningful for older readers.
                sqlx::query(
                    "UPDATE queue SET
                        next_attempt_at = (SELECT COALESCE(MIN(next_attempt_at), 0)
                                             FROM queue_recipients
                                            WHERE queue_id = $1 AND state = 'pending'),
                        attempts = (SELECT MAX(attempts) FROM queue_recipients WHERE queue_id = $1),
                        last_error = (SELECT last_error FROM queue_recipients
                                       WHERE queue_id = $1 AND last_error IS NOT NULL
                                       ORDER BY updated_at DESC LIMIT 1)
                      WHERE id = $1",
                )
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn retry_queued(&self, id: i64, now: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM queue WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE queue_recipients SET next_attempt_at = $1
              WHERE queue_id = $2 AND state = 'pending'",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE queue SET next_attempt_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_queued(&self, id: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let removed = remove_message(&mut tx, id).await?;
        tx.commit().await?;
        Ok(removed)
    }

    async fn set_delay_notified(&self, id: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE queue SET delay_notified = TRUE WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn next_queue_attempt(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM queue_recipients WHERE state = 'pending'",
        )
        .fetch_one(&self.read)
        .await?)
    }
}
