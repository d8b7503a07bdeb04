//! SQL of official documents (`documents`, `document_recipients`; `crate::documents`).

use hopthu_model::{MailboxId, Uid, UnitId};
use sqlx::Row;

use super::group::insert_rows;
use super::lifecycle::append_audit;
use super::{Backend, DbRow};
use crate::documents::{DocumentRecord, NewDocument, RecipientRecord};
use crate::search::SearchText;
use crate::types::Delivery;
use crate::{Result, StoreError};

fn document(r: &DbRow) -> Result<DocumentRecord> {
    Ok(DocumentRecord {
        id: r.try_get("id")?,
        unit: UnitId(r.try_get("unit_id")?),
        number: r.try_get("number")?,
        issued_on: r.try_get("issued_on")?,
        kind: r.try_get("kind")?,
        summary: r.try_get("summary")?,
        file_name: r.try_get("file_name")?,
        file_sha256: r.try_get("file_sha256")?,
        message_id: r.try_get("message_id")?,
        dispatched_by: r.try_get("dispatched_by")?,
        dispatched_at: r.try_get("dispatched_at")?,
    })
}

fn recipient(r: &DbRow) -> Result<RecipientRecord> {
    Ok(RecipientRecord {
        unit: UnitId(r.try_get("unit_id")?),
        mailbox: r.try_get::<Option<i64>, _>("mailbox_id")?.map(MailboxId),
        uid: r
            .try_get::<Option<i64>, _>("uid")?
            .map(|u| Uid(u32::try_from(u).unwrap_or(0))),
        delivered_at: r.try_get("delivered_at")?,
        opened_at: r.try_get("opened_at")?,
        opened_by: r.try_get("opened_by")?,
        acknowledged_at: r.try_get("acknowledged_at")?,
        acknowledged_by: r.try_get("acknowledged_by")?,
    })
}

#[async_trait::async_trait]
impl crate::DocumentStore for Backend {
    async fn dispatch_document(
        &self,
        doc: &NewDocument<'_>,
        delivery: &Delivery<'_>,
        text: Option<&SearchText>,
    ) -> Result<(i64, Vec<(MailboxId, Uid)>)> {
        if doc.recipients.len() != delivery.targets.len() {
            return Err(StoreError::Corrupt(format!(
                "{} recipient units for {} target mailboxes",
                doc.recipients.len(),
                delivery.targets.len()
            )));
        }
        let mut tx = self.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO documents (unit_id, number, issued_on, year, kind, summary, file_name,
                    file_sha256, message_id, dispatched_by, dispatched_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(doc.unit.0)
        .bind(doc.number)
        .bind(doc.issued_on)
        .bind(doc.year)
        .bind(doc.kind)
        .bind(doc.summary)
        .bind(doc.file_name)
        .bind(doc.file_sha256)
        .bind(doc.message_id)
        .bind(doc.dispatched_by)
        .bind(doc.dispatched_at)
        .fetch_one(&mut *tx)
        .await;
        let id: i64 = match inserted {
            Ok(r) => r.try_get(0)?,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                let _ = tx.rollback().await;
                return Err(StoreError::Conflict(format!(
                    "document {} of unit {} in {} exists",
                    doc.number, doc.unit.0, doc.year
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let uids = insert_rows(&mut tx, delivery, text).await?;
        for (unit, (mailbox, uid)) in doc.recipients.iter().zip(&uids) {
            sqlx::query(
                "INSERT INTO document_recipients (document_id, unit_id, mailbox_id, uid,
                        delivered_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(unit.0)
            .bind(mailbox.0)
            .bind(i64::from(uid.0))
            .bind(doc.dispatched_at)
            .execute(&mut *tx)
            .await?;
        }
        append_audit(&mut tx, doc.dispatched_at, doc.audit).await?;
        tx.commit().await?;
        Ok((id, uids))
    }

    async fn document(&self, id: i64) -> Result<Option<DocumentRecord>> {
        sqlx::query("SELECT * FROM documents WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .as_ref()
            .map(document)
            .transpose()
    }

    async fn documents_by_file(&self, sha256: &str) -> Result<Vec<DocumentRecord>> {
        sqlx::query("SELECT * FROM documents WHERE file_sha256 = $1 ORDER BY id")
            .bind(sha256)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(document)
            .collect()
    }

    async fn document_by_message_id(&self, message_id: &str) -> Result<Option<DocumentRecord>> {
        sqlx::query("SELECT * FROM documents WHERE message_id = $1 ORDER BY id LIMIT 1")
            .bind(message_id)
            .fetch_optional(&self.read)
            .await?
            .as_ref()
            .map(document)
            .transpose()
    }

    async fn document_recipients(&self, id: i64) -> Result<Vec<RecipientRecord>> {
        sqlx::query("SELECT * FROM document_recipients WHERE document_id = $1 ORDER BY unit_id")
            .bind(id)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(recipient)
            .collect()
    }

    async fn documents_of_unit(&self, unit: UnitId, limit: u32) -> Result<Vec<DocumentRecord>> {
        sqlx::query("SELECT * FROM documents WHERE unit_id = $1 ORDER BY id DESC LIMIT $2")
            .bind(unit.0)
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(document)
            .collect()
    }

    async fn documents_dispatched(&self, from: i64, to: i64) -> Result<Vec<(UnitId, u64)>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT unit_id, COUNT(*) FROM documents
              WHERE dispatched_at >= $1 AND dispatched_at < $2 GROUP BY unit_id",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(unit, n)| (UnitId(unit), u64::try_from(n).unwrap_or(0)))
            .collect())
    }

    async fn document_opened(
        &self,
        mailbox: MailboxId,
        uids: &[Uid],
        by: &str,
        at: i64,
    ) -> Result<u64> {
        // Usually no copy of a document is waiting in this folder: one indexed read, no write.
        let waiting: Vec<i64> = sqlx::query_scalar(
            "SELECT uid FROM document_recipients WHERE mailbox_id = $1 AND opened_at IS NULL",
        )
        .bind(mailbox.0)
        .fetch_all(&self.read)
        .await?;
        let mut opened = 0;
        // A transaction of its own (not autocommit on the writer connection), so it starts
        // with the durability a record needs whatever the connection's last write was.
        let mut tx = self.begin().await?;
        for uid in uids.iter().filter(|u| waiting.contains(&i64::from(u.0))) {
            opened += sqlx::query(
                "UPDATE document_recipients SET opened_at = $1, opened_by = $2
                  WHERE mailbox_id = $3 AND uid = $4 AND opened_at IS NULL",
            )
            .bind(at)
            .bind(by)
            .bind(mailbox.0)
            .bind(i64::from(uid.0))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(opened)
    }

    async fn acknowledge_document(&self, id: i64, unit: UnitId, by: &str, at: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let r = sqlx::query(
            "UPDATE document_recipients
                SET acknowledged_at = COALESCE(acknowledged_at, $1),
                    acknowledged_by = COALESCE(acknowledged_by, $2)
              WHERE document_id = $3 AND unit_id = $4",
        )
        .bind(at)
        .bind(by)
        .bind(id)
        .bind(unit.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(r.rows_affected() > 0)
    }
}
