//! SQL of the webmail: sessions, settings, and the paged message list.

use hopthu_model::{AccountId, MailboxId, Uid};
use sqlx::Row;

use super::Backend;
use super::mail::message_from_row;
use crate::{MessageRecord, Result, WebSessionRecord, WebSettingsRecord};

#[async_trait::async_trait]
impl crate::WebStore for Backend {
    async fn create_web_session(&self, s: &WebSessionRecord) -> Result<()> {
        let mut tx = self.begin().await?;
        // Expired sessions are removed as new ones are made, so the table stays small.
        sqlx::query("DELETE FROM web_sessions WHERE expires_at < $1")
            .bind(s.created_at)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO web_sessions (token_hash, account_id, csrf_token, created_at, last_seen_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&s.token_hash)
        .bind(s.account_id.0)
        .bind(&s.csrf_token)
        .bind(s.created_at)
        .bind(s.last_seen_at)
        .bind(s.expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn web_session(&self, token_hash: &str) -> Result<Option<WebSessionRecord>> {
        let row = sqlx::query("SELECT * FROM web_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| {
            Ok(WebSessionRecord {
                token_hash: r.try_get("token_hash")?,
                account_id: AccountId(r.try_get("account_id")?),
                csrf_token: r.try_get("csrf_token")?,
                created_at: r.try_get("created_at")?,
                last_seen_at: r.try_get("last_seen_at")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    async fn touch_web_session(&self, token_hash: &str, seen: i64, expires: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE web_sessions SET last_seen_at = $1, expires_at = $2 WHERE token_hash = $3",
        )
        .bind(seen)
        .bind(expires)
        .bind(token_hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_web_session(&self, token_hash: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_web_sessions_of(&self, account: AccountId, keep: Option<&str>) -> Result<u64> {
        let mut tx = self.begin().await?;
        let r = sqlx::query("DELETE FROM web_sessions WHERE account_id = $1 AND token_hash <> $2")
            .bind(account.0)
            .bind(keep.unwrap_or(""))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(r.rows_affected())
    }

    async fn web_settings(&self, account: AccountId) -> Result<WebSettingsRecord> {
        let row = sqlx::query("SELECT language, signature FROM web_settings WHERE account_id = $1")
            .bind(account.0)
            .fetch_optional(&self.read)
            .await?;
        match row {
            Some(r) => Ok(WebSettingsRecord {
                language: r.try_get("language")?,
                signature: r.try_get("signature")?,
            }),
            None => Ok(WebSettingsRecord::default()),
        }
    }

    async fn set_web_settings(
        &self,
        account: AccountId,
        settings: &WebSettingsRecord,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO web_settings (account_id, language, signature) VALUES ($1, $2, $3)
             ON CONFLICT (account_id) DO UPDATE SET language = excluded.language, signature = excluded.signature",
        )
        .bind(account.0)
        .bind(&settings.language)
        .bind(&settings.signature)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// At most `limit` messages with a UID below `before` (all when `None`), newest first:
    /// a keyset page on the `(mailbox_id, uid)` key, as fast on page 2,000 as on page 1.
    async fn messages_page(
        &self,
        mailbox: MailboxId,
        before: Option<Uid>,
        limit: u32,
    ) -> Result<Vec<MessageRecord>> {
        sqlx::query(
            "SELECT uid, blob_hash, size, internal_date, flags, modseq FROM messages
              WHERE mailbox_id = $1 AND uid < $2 ORDER BY uid DESC LIMIT $3",
        )
        .bind(mailbox.0)
        .bind(before.map_or(i64::MAX, |u| i64::from(u.0)))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(message_from_row)
        .collect()
    }

    /// (mailbox, messages, unseen) for every mailbox of an account, from the counters the
    /// triggers of 0005 and 0007 keep.
    async fn mailbox_counts(&self, account: AccountId) -> Result<Vec<(MailboxId, u32, u32)>> {
        sqlx::query(
            "SELECT id, used_messages, unseen_messages FROM mailboxes WHERE account_id = $1",
        )
        .bind(account.0)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|r| {
            Ok((
                MailboxId(r.try_get("id")?),
                r.try_get::<i64, _>("used_messages")?.max(0) as u32,
                r.try_get::<i64, _>("unseen_messages")?.max(0) as u32,
            ))
        })
        .collect()
    }
}
