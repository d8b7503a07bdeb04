//! Applies a back-end's migrations in order, each once, recorded in `schema_migrations`, in
//! one transaction (and, where several nodes may start together, under a lock:
//! `dialect::lock_migrations`).

use super::{Backend, dialect, now};
use crate::Result;

impl Backend {
    pub(super) async fn migrate(&self, migrations: &[(i64, &'static str)]) -> Result<()> {
        let mut tx = self.begin().await?;
        dialect::lock_migrations(&mut tx).await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations
                 (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .execute(&mut *tx)
        .await?;
        for (version, sql) in migrations {
            let done: Option<i64> =
                sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                    .bind(*version)
                    .fetch_optional(&mut *tx)
                    .await?;
            if done.is_some() {
                continue;
            }
            sqlx::raw_sql(*sql).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(*version)
                .bind(now())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
