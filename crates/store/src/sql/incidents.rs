//! SQL of incidents ([`crate::IncidentStore`]).

use hopthu_model::UnitId;
use sqlx::Row;

use super::lifecycle::{append_audit, naming_id};
use super::{Backend, DbRow};
use crate::incidents::*;
use crate::{NewAudit, Result, StoreError};

fn incident_from_row(r: &DbRow) -> Result<IncidentRecord> {
    let escalated: i64 = r.try_get("escalated")?;
    Ok(IncidentRecord {
        id: r.try_get("id")?,
        reporter: r.try_get("reporter")?,
        unit: r.try_get::<Option<i64>, _>("unit_id")?.map(UnitId),
        summary: r.try_get("summary")?,
        details: r.try_get("details")?,
        happened_at: r.try_get("happened_at")?,
        message_ref: r.try_get("message_ref")?,
        category: r.try_get("category")?,
        severity: r.try_get("severity")?,
        status: r.try_get("status")?,
        assignee: r.try_get("assignee")?,
        escalated: escalated != 0,
        deadline_at: r.try_get("deadline_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        resolved_at: r.try_get("resolved_at")?,
        note: r.try_get("note")?,
        locks_account: r.try_get::<i64, _>("locks_account")? != 0,
    })
}

#[async_trait::async_trait]
impl crate::IncidentStore for Backend {
    async fn file_incident(&self, i: &NewIncident, audit: &[NewAudit]) -> Result<i64> {
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO incidents (reporter, unit_id, summary, details, happened_at, message_ref,
                                    category, severity, status, deadline_at, created_at,
                                    updated_at, locks_account)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'new', $9, $10, $10, $11) RETURNING id",
        )
        .bind(&i.reporter)
        .bind(i.unit.map(|u| u.0))
        .bind(&i.summary)
        .bind(&i.details)
        .bind(i.happened_at)
        .bind(i.message_ref.as_deref())
        .bind(&i.category)
        .bind(&i.severity)
        .bind(i.deadline_at)
        .bind(i.created_at)
        .bind(i64::from(i.locks_account))
        .fetch_one(&mut *tx)
        .await?;
        append_audit(&mut tx, i.created_at, &naming_id(audit, id)).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn incident(&self, id: i64) -> Result<Option<IncidentRecord>> {
        sqlx::query("SELECT * FROM incidents WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .as_ref()
            .map(incident_from_row)
            .transpose()
    }

    async fn incidents(&self) -> Result<Vec<IncidentRecord>> {
        sqlx::query("SELECT * FROM incidents ORDER BY id DESC")
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(incident_from_row)
            .collect()
    }

    async fn update_incident(
        &self,
        id: i64,
        u: &IncidentUpdate,
        audit: &[NewAudit],
    ) -> Result<IncidentRecord> {
        let mut tx = self.begin().await?;
        let resolved = u.status.as_deref() == Some("resolved");
        let r = sqlx::query(
            "UPDATE incidents SET status = COALESCE($1, status), assignee = COALESCE($2, assignee),
                    escalated = COALESCE($3, escalated), note = COALESCE($4, note),
                    updated_at = $5,
                    resolved_at = CASE WHEN $6 THEN $5 ELSE resolved_at END
              WHERE id = $7 AND status <> 'resolved'",
        )
        .bind(u.status.as_deref())
        .bind(u.assignee.as_deref())
        .bind(u.escalated.map(i64::from))
        .bind(u.note.as_deref())
        .bind(u.at)
        .bind(resolved)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            let _ = tx.rollback().await;
            return Err(StoreError::Conflict(format!(
                "incident {id} does not exist or is resolved already"
            )));
        }
        append_audit(&mut tx, u.at, audit).await?;
        let row = sqlx::query("SELECT * FROM incidents WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        incident_from_row(&row)
    }

    async fn incident_confirmation(&self, id: i64) -> Result<Option<Confirmation>> {
        let Some(r) = sqlx::query("SELECT * FROM incident_confirmations WHERE incident_id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(Confirmation {
            blob: r.try_get("blob_hash")?,
            file_name: r.try_get("file_name")?,
            content_type: r.try_get("content_type")?,
            size: r.try_get::<i64, _>("size")?.max(0) as u64,
            added_by: r.try_get("added_by")?,
            added_at: r.try_get("added_at")?,
        }))
    }
}
