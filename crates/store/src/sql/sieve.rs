//! SQL of Sieve scripts and vacation replies ([`crate::SieveStore`]).

use hopthu_model::AccountId;
use sqlx::Row;

use super::{Backend, DbRow};
use crate::Result;
use crate::sieve::*;

fn script_from_row(r: &DbRow) -> Result<SieveScriptRecord> {
    Ok(SieveScriptRecord {
        name: r.try_get("name")?,
        content: r.try_get("content")?,
        active: r.try_get::<i64, _>("active")? != 0,
        updated_at: r.try_get("updated_at")?,
    })
}

#[async_trait::async_trait]
impl crate::SieveStore for Backend {
    async fn sieve_scripts(&self, account: AccountId) -> Result<Vec<SieveScriptRecord>> {
        sqlx::query(
            "SELECT name, content, active, updated_at FROM sieve_scripts
              WHERE account_id = $1 ORDER BY name",
        )
        .bind(account.0)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(script_from_row)
        .collect()
    }

    async fn sieve_script(
        &self,
        account: AccountId,
        name: &str,
    ) -> Result<Option<SieveScriptRecord>> {
        sqlx::query(
            "SELECT name, content, active, updated_at FROM sieve_scripts
              WHERE account_id = $1 AND name = $2",
        )
        .bind(account.0)
        .bind(name)
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(script_from_row)
        .transpose()
    }

    async fn active_sieve_script(&self, account: AccountId) -> Result<Option<SieveScriptRecord>> {
        sqlx::query(
            "SELECT name, content, active, updated_at FROM sieve_scripts
              WHERE account_id = $1 AND active = 1",
        )
        .bind(account.0)
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(script_from_row)
        .transpose()
    }

    async fn put_sieve_script(
        &self,
        account: AccountId,
        name: &str,
        content: &str,
        max_scripts: u32,
        at: i64,
    ) -> Result<SievePut> {
        let mut tx = self.begin().await?;
        let replaced = sqlx::query(
            "UPDATE sieve_scripts SET content = $1, updated_at = $2
              WHERE account_id = $3 AND name = $4",
        )
        .bind(content)
        .bind(at)
        .bind(account.0)
        .bind(name)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if replaced {
            tx.commit().await?;
            return Ok(SievePut::Replaced);
        }
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM sieve_scripts WHERE account_id = $1")
                .bind(account.0)
                .fetch_one(&mut *tx)
                .await?;
        if count >= i64::from(max_scripts) {
            return Ok(SievePut::TooMany);
        }
        sqlx::query(
            "INSERT INTO sieve_scripts (account_id, name, content, active, updated_at)
             VALUES ($1, $2, $3, 0, $4)",
        )
        .bind(account.0)
        .bind(name)
        .bind(content)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(SievePut::Created)
    }

    async fn activate_sieve_script(&self, account: AccountId, name: Option<&str>) -> Result<bool> {
        let mut tx = self.begin().await?;
        if let Some(name) = name {
            let exists: Option<i64> = sqlx::query_scalar(
                "SELECT active FROM sieve_scripts WHERE account_id = $1 AND name = $2",
            )
            .bind(account.0)
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
            if exists.is_none() {
                return Ok(false);
            }
        }
        // The other scripts first: the unique index allows one active row at any moment.
        sqlx::query(
            "UPDATE sieve_scripts SET active = 0
              WHERE account_id = $1 AND active = 1 AND name <> $2",
        )
        .bind(account.0)
        .bind(name.unwrap_or(""))
        .execute(&mut *tx)
        .await?;
        if let Some(name) = name {
            sqlx::query("UPDATE sieve_scripts SET active = 1 WHERE account_id = $1 AND name = $2")
                .bind(account.0)
                .bind(name)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("UPDATE sieve_scripts SET active = 0 WHERE account_id = $1")
                .bind(account.0)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_sieve_script(&self, account: AccountId, name: &str) -> Result<SieveChange> {
        let mut tx = self.begin().await?;
        let active: Option<i64> = sqlx::query_scalar(
            "SELECT active FROM sieve_scripts WHERE account_id = $1 AND name = $2",
        )
        .bind(account.0)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        match active {
            None => Ok(SieveChange::NotFound),
            Some(a) if a != 0 => Ok(SieveChange::Active),
            Some(_) => {
                sqlx::query("DELETE FROM sieve_scripts WHERE account_id = $1 AND name = $2")
                    .bind(account.0)
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(SieveChange::Done)
            }
        }
    }

    async fn rename_sieve_script(
        &self,
        account: AccountId,
        old: &str,
        new: &str,
        at: i64,
    ) -> Result<SieveChange> {
        let mut tx = self.begin().await?;
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sieve_scripts WHERE account_id = $1 AND (name = $2 OR name = $3)",
        )
        .bind(account.0)
        .bind(old)
        .bind(new)
        .fetch_all(&mut *tx)
        .await?;
        if !names.iter().any(|n| n == old) {
            return Ok(SieveChange::NotFound);
        }
        if old == new {
            return Ok(SieveChange::Done);
        }
        if names.iter().any(|n| n == new) {
            return Ok(SieveChange::Exists);
        }
        sqlx::query(
            "UPDATE sieve_scripts SET name = $1, updated_at = $2
              WHERE account_id = $3 AND name = $4",
        )
        .bind(new)
        .bind(at)
        .bind(account.0)
        .bind(old)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(SieveChange::Done)
    }

    async fn claim_vacation_reply(
        &self,
        account: AccountId,
        sender: &str,
        handle: &str,
        since: i64,
        now: i64,
        forget_before: i64,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM vacation_replies WHERE account_id = $1 AND sent_at < $2")
            .bind(account.0)
            .bind(forget_before)
            .execute(&mut *tx)
            .await?;
        // One statement decides and records: a row sent within the period is left as it is.
        let claimed = sqlx::query(
            "INSERT INTO vacation_replies (account_id, sender, handle, sent_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (account_id, sender, handle) DO UPDATE SET sent_at = excluded.sent_at
              WHERE vacation_replies.sent_at < $5",
        )
        .bind(account.0)
        .bind(sender)
        .bind(handle)
        .bind(now)
        .bind(since)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        tx.commit().await?;
        Ok(claimed)
    }
}
