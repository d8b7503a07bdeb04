//! SQL of personal address books (`contact_books`, `contacts`; [`crate::ContactStore`]).

use hopthu_model::AccountId;
use sqlx::Row;

use super::{Backend, DbRow, Tx};
use crate::contacts::*;
use crate::{Result, StoreError};

fn record(r: &DbRow) -> Result<ContactRecord> {
    Ok(ContactRecord {
        name: r.try_get("name")?,
        uid: r.try_get("uid")?,
        vcard: r.try_get("vcard")?,
        etag: r.try_get("etag")?,
        version: r.try_get("version")?,
        updated_at: r.try_get("updated_at")?,
    })
}

const SELECT: &str = "SELECT name, uid, vcard, etag, version, updated_at FROM contacts";

/// Raises the book's version (creating its row at 1), which on PostgreSQL also locks the row
/// until the transaction ends: writes to one book are serialised, so a precondition read after
/// this holds until the commit.
async fn next_version(tx: &mut Tx, account: AccountId) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO contact_books (account_id, version) VALUES ($1, 1)
         ON CONFLICT (account_id) DO UPDATE SET version = contact_books.version + 1
         RETURNING version",
    )
    .bind(account.0)
    .fetch_one(&mut **tx)
    .await?)
}

/// The ETag of the live card `name`, if any.
async fn live_etag(tx: &mut Tx, account: AccountId, name: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT etag FROM contacts WHERE account_id = $1 AND name = $2 AND deleted = 0",
    )
    .bind(account.0)
    .bind(name)
    .fetch_optional(&mut **tx)
    .await?)
}

fn holds(expect: &Precondition, current: Option<&str>) -> bool {
    match expect {
        Precondition::Any => true,
        Precondition::Absent => current.is_none(),
        Precondition::Present => current.is_some(),
        Precondition::Etag(e) => current == Some(e.as_str()),
    }
}

#[async_trait::async_trait]
impl crate::ContactStore for Backend {
    async fn contacts_version(&self, account: AccountId) -> Result<i64> {
        let v: Option<i64> =
            sqlx::query_scalar("SELECT version FROM contact_books WHERE account_id = $1")
                .bind(account.0)
                .fetch_optional(&self.read)
                .await?;
        Ok(v.unwrap_or(0))
    }

    async fn contacts(&self, account: AccountId) -> Result<Vec<ContactRecord>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE account_id = $1 AND deleted = 0 ORDER BY name"
        )))
        .bind(account.0)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(record)
        .collect()
    }

    async fn contact(&self, account: AccountId, name: &str) -> Result<Option<ContactRecord>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE account_id = $1 AND name = $2 AND deleted = 0"
        )))
        .bind(account.0)
        .bind(name)
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(record)
        .transpose()
    }

    async fn put_contact(
        &self,
        account: AccountId,
        card: &NewContact,
        expect: &Precondition,
        at: i64,
    ) -> Result<ContactWrite> {
        let mut tx = self.begin().await?;
        let version = next_version(&mut tx, account).await?;
        let current = live_etag(&mut tx, account, &card.name).await?;
        if !holds(expect, current.as_deref()) {
            // Dropped: rolled back, the version too.
            return Ok(ContactWrite::PreconditionFailed);
        }
        let other: Option<String> = sqlx::query_scalar(
            "SELECT name FROM contacts
              WHERE account_id = $1 AND uid = $2 AND deleted = 0 AND name <> $3",
        )
        .bind(account.0)
        .bind(&card.uid)
        .bind(&card.name)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(other) = other {
            return Err(StoreError::Conflict(format!(
                "the UID {:?} is already the card {other}",
                card.uid
            )));
        }
        sqlx::query(
            "INSERT INTO contacts (account_id, name, uid, vcard, etag, version, updated_at, deleted)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0)
             ON CONFLICT (account_id, name) DO UPDATE SET
                uid = excluded.uid, vcard = excluded.vcard, etag = excluded.etag,
                version = excluded.version, updated_at = excluded.updated_at, deleted = 0",
        )
        .bind(account.0)
        .bind(&card.name)
        .bind(&card.uid)
        .bind(&card.vcard)
        .bind(&card.etag)
        .bind(version)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ContactWrite::Written {
            created: current.is_none(),
            version,
        })
    }

    async fn delete_contact(
        &self,
        account: AccountId,
        name: &str,
        expect: &Precondition,
        at: i64,
    ) -> Result<ContactWrite> {
        let mut tx = self.begin().await?;
        let version = next_version(&mut tx, account).await?;
        let current = live_etag(&mut tx, account, name).await?;
        if current.is_none() && matches!(expect, Precondition::Any | Precondition::Absent) {
            return Err(StoreError::NotFound(format!("no card {name}")));
        }
        if current.is_none() || !holds(expect, current.as_deref()) {
            return Ok(ContactWrite::PreconditionFailed);
        }
        sqlx::query(
            "UPDATE contacts SET deleted = 1, vcard = '', version = $3, updated_at = $4
              WHERE account_id = $1 AND name = $2",
        )
        .bind(account.0)
        .bind(name)
        .bind(version)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ContactWrite::Written {
            created: false,
            version,
        })
    }

    async fn contact_changes(&self, account: AccountId, since: i64) -> Result<Vec<ContactChange>> {
        let rows = sqlx::query(
            "SELECT name, etag, version, deleted FROM contacts
              WHERE account_id = $1 AND version > $2 ORDER BY version",
        )
        .bind(account.0)
        .bind(since)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let deleted: i64 = r.try_get("deleted")?;
                Ok(ContactChange {
                    name: r.try_get("name")?,
                    etag: if deleted != 0 {
                        None
                    } else {
                        Some(r.try_get("etag")?)
                    },
                    version: r.try_get("version")?,
                })
            })
            .collect()
    }
}
