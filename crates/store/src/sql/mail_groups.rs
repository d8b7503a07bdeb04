//! SQL of the group addresses (`mail_groups`, `mail_group_addresses`; `crate::mail_groups`).

use hopthu_model::{AccountId, UnitId};
use sqlx::{AssertSqlSafe, Row};

use super::lifecycle::{append_audit, commit_removal};
use super::{Backend, DbRow, dialect};
use crate::lifecycle::NewAudit;
use crate::mail_groups::{GroupRecord, GroupSenders, NewGroup};
use crate::{Result, StoreError};

const SELECT: &str = "SELECT id, address, name, unit_id, subtree, heads, senders, created_by,
        created_at FROM mail_groups";

fn record(row: &DbRow) -> Result<GroupRecord> {
    let senders: String = row.try_get("senders")?;
    Ok(GroupRecord {
        id: row.try_get("id")?,
        address: row.try_get("address")?,
        name: row.try_get("name")?,
        unit: row.try_get::<Option<i64>, _>("unit_id")?.map(UnitId),
        subtree: row.try_get::<i64, _>("subtree")? != 0,
        heads: row.try_get::<i64, _>("heads")? != 0,
        members: Vec::new(),
        senders: GroupSenders::parse(&senders)
            .ok_or_else(|| StoreError::Corrupt(format!("mail_groups.senders {senders:?}")))?,
        named_senders: Vec::new(),
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Backend {
    /// Fills the members and named senders of `groups` (one query).
    async fn group_addresses(&self, groups: &mut [GroupRecord]) -> Result<()> {
        if groups.is_empty() {
            return Ok(());
        }
        let ids = format!(
            "[{}]",
            groups
                .iter()
                .map(|g| g.id.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        let rows: Vec<(i64, String, String)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT group_id, role, address FROM mail_group_addresses
              WHERE group_id IN ({}) ORDER BY group_id, role, address",
            dialect::json_ids("$1")
        )))
        .bind(ids)
        .fetch_all(&self.read)
        .await?;
        for (id, role, address) in rows {
            if let Some(g) = groups.iter_mut().find(|g| g.id == id) {
                if role == "member" {
                    g.members.push(address);
                } else {
                    g.named_senders.push(address);
                }
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl crate::MailGroupStore for Backend {
    async fn create_group(&self, g: &NewGroup, audit: &[NewAudit]) -> Result<i64> {
        let mut tx = self.begin().await?;
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT id FROM mail_groups WHERE address = $1")
                .bind(&g.address)
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some() {
            let _ = tx.rollback().await;
            return Err(StoreError::Conflict(format!("group {}", g.address)));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO mail_groups (address, name, unit_id, subtree, heads, senders,
                                      created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(&g.address)
        .bind(&g.name)
        .bind(g.unit.map(|u| u.0))
        .bind(i64::from(g.subtree))
        .bind(i64::from(g.heads))
        .bind(g.senders.as_str())
        .bind(&g.created_by)
        .bind(g.created_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                StoreError::Conflict(format!("group {}", g.address))
            }
            e => e.into(),
        })?;
        let roles = g
            .members
            .iter()
            .map(|a| ("member", a))
            .chain(g.named_senders.iter().map(|a| ("sender", a)));
        for (role, address) in roles {
            sqlx::query(
                "INSERT INTO mail_group_addresses (group_id, role, address) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(role)
            .bind(address)
            .execute(&mut *tx)
            .await?;
        }
        append_audit(&mut tx, g.created_at, audit).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn groups(&self) -> Result<Vec<GroupRecord>> {
        let mut groups = sqlx::query(AssertSqlSafe(format!("{SELECT} ORDER BY address")))
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(record)
            .collect::<Result<Vec<_>>>()?;
        self.group_addresses(&mut groups).await?;
        Ok(groups)
    }

    async fn group_by_address(&self, address: &str) -> Result<Option<GroupRecord>> {
        let Some(row) = sqlx::query(AssertSqlSafe(format!("{SELECT} WHERE address = $1")))
            .bind(address)
            .fetch_optional(&self.read)
            .await?
        else {
            return Ok(None);
        };
        let mut groups = vec![record(&row)?];
        self.group_addresses(&mut groups).await?;
        Ok(groups.pop())
    }

    async fn delete_group(&self, address: &str, at: i64, audit: &[NewAudit]) -> Result<bool> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "DELETE FROM mail_group_addresses
              WHERE group_id IN (SELECT id FROM mail_groups WHERE address = $1)",
        )
        .bind(address)
        .execute(&mut *tx)
        .await?;
        let r = sqlx::query("DELETE FROM mail_groups WHERE address = $1")
            .bind(address)
            .execute(&mut *tx)
            .await?;
        commit_removal(tx, r.rows_affected(), at, audit).await
    }

    async fn directory_members(
        &self,
        units: Option<&[UnitId]>,
        heads: bool,
    ) -> Result<Vec<(AccountId, String)>> {
        let ids = units.map(|u| {
            format!(
                "[{}]",
                u.iter()
                    .map(|u| u.0.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            )
        });
        let unit_filter = if ids.is_some() {
            format!("u.id IN ({})", dialect::json_ids("$1"))
        } else {
            "u.dissolved_at IS NULL".to_string()
        };
        let sql = if heads {
            format!(
                "SELECT DISTINCT a.id, a.address FROM units u
                   JOIN people p ON p.id = u.head_person_id
                   JOIN accounts a ON a.id = p.account_id
                  WHERE {unit_filter} AND p.state = 'active' AND a.state = 'active'
                  ORDER BY a.address"
            )
        } else {
            format!(
                "SELECT DISTINCT a.id, a.address FROM units u
                   JOIN people p ON p.unit_id = u.id
                   JOIN accounts a ON a.id = p.account_id
                  WHERE {unit_filter} AND p.state = 'active' AND a.state = 'active'
                  ORDER BY a.address"
            )
        };
        let mut query = sqlx::query_as::<_, (i64, String)>(AssertSqlSafe(sql));
        if let Some(ids) = ids {
            query = query.bind(ids);
        }
        let rows = query.fetch_all(&self.read).await?;
        Ok(rows
            .into_iter()
            .map(|(id, address)| (AccountId(id), address))
            .collect())
    }
}
