//! SQL of the delegations of unit mailboxes (`unit_delegates`; `crate::delegation`).

use hopthu_model::{AccountId, DelegateRights};
use sqlx::Row;

use super::lifecycle::{append_audit, commit_removal};
use super::{Backend, DbRow};
use crate::delegation::DelegateRecord;
use crate::lifecycle::NewAudit;
use crate::{Result, StoreError};

const SELECT: &str = "SELECT d.unit_account_id, u.address AS unit_address, d.delegate_account_id,
        p.address AS delegate_address, d.rights, d.granted_by, d.granted_at
   FROM unit_delegates d
   JOIN accounts u ON u.id = d.unit_account_id
   JOIN accounts p ON p.id = d.delegate_account_id";

fn record(row: &DbRow) -> Result<DelegateRecord> {
    let rights: String = row.try_get("rights")?;
    Ok(DelegateRecord {
        unit: AccountId(row.try_get("unit_account_id")?),
        unit_address: row.try_get("unit_address")?,
        delegate: AccountId(row.try_get("delegate_account_id")?),
        delegate_address: row.try_get("delegate_address")?,
        rights: DelegateRights::parse(&rights)
            .map_err(|e| StoreError::Corrupt(format!("unit_delegates.rights {rights:?}: {e}")))?,
        granted_by: row.try_get("granted_by")?,
        granted_at: row.try_get("granted_at")?,
    })
}

#[async_trait::async_trait]
impl crate::DelegationStore for Backend {
    async fn grant_delegate(
        &self,
        unit: AccountId,
        delegate: AccountId,
        rights: DelegateRights,
        granted_by: &str,
        at: i64,
        audit: &[NewAudit],
    ) -> Result<()> {
        if rights.is_empty() {
            return Err(StoreError::Conflict(
                "a delegation needs at least one right".into(),
            ));
        }
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO unit_delegates
                    (unit_account_id, delegate_account_id, rights, granted_by, granted_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (unit_account_id, delegate_account_id) DO UPDATE SET
                rights = excluded.rights, granted_by = excluded.granted_by,
                granted_at = excluded.granted_at",
        )
        .bind(unit.0)
        .bind(delegate.0)
        .bind(rights.to_string())
        .bind(granted_by)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, at, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn revoke_delegate(
        &self,
        unit: AccountId,
        delegate: AccountId,
        at: i64,
        audit: &[NewAudit],
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let r = sqlx::query(
            "DELETE FROM unit_delegates WHERE unit_account_id = $1 AND delegate_account_id = $2",
        )
        .bind(unit.0)
        .bind(delegate.0)
        .execute(&mut *tx)
        .await?;
        commit_removal(tx, r.rows_affected(), at, audit).await
    }

    async fn delegates(&self, unit: AccountId) -> Result<Vec<DelegateRecord>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE d.unit_account_id = $1 ORDER BY p.address"
        )))
        .bind(unit.0)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(record)
        .collect()
    }

    async fn delegations_of(&self, person: AccountId) -> Result<Vec<DelegateRecord>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE d.delegate_account_id = $1 AND u.state = 'active' ORDER BY u.address"
        )))
        .bind(person.0)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(record)
        .collect()
    }

    async fn has_delegates(&self, unit: AccountId) -> Result<bool> {
        let found: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM unit_delegates WHERE unit_account_id = $1 LIMIT 1")
                .bind(unit.0)
                .fetch_optional(&self.read)
                .await?;
        Ok(found.is_some())
    }

    async fn taken_over(&self, unit: AccountId) -> Result<bool> {
        let found: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM unit_delegates WHERE unit_account_id = $1
             UNION ALL
             SELECT 1 FROM units u JOIN people p ON p.id = u.head_person_id
              WHERE u.account_id = $1 AND p.state = 'active' AND p.account_id IS NOT NULL
             LIMIT 1",
        )
        .bind(unit.0)
        .fetch_optional(&self.read)
        .await?;
        Ok(found.is_some())
    }

    async fn unit_owner(&self, unit: AccountId) -> Result<Option<AccountId>> {
        let owner: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT p.account_id FROM units u JOIN people p ON p.id = u.head_person_id
              WHERE u.account_id = $1 AND p.state = 'active'",
        )
        .bind(unit.0)
        .fetch_optional(&self.read)
        .await?;
        Ok(owner.flatten().map(AccountId))
    }

    async fn owned_unit_mailboxes(&self, person: AccountId) -> Result<Vec<(AccountId, String)>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT u.account_id, a.address
               FROM units u JOIN people p ON p.id = u.head_person_id
               JOIN accounts a ON a.id = u.account_id
              WHERE p.account_id = $1 AND p.state = 'active' AND a.state = 'active'
              ORDER BY a.address",
        )
        .bind(person.0)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(|(id, a)| (AccountId(id), a)).collect())
    }
}
