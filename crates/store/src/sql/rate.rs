//! SQL of the rate-limit events (`rate_events`; `crate::rate`).

use sqlx::Row;

use super::Backend;
use crate::Result;
use crate::rate::{RateAsk, RateCount, RateEvent, RateKind};

#[async_trait::async_trait]
impl crate::RateStore for Backend {
    async fn rate_counts(&self, asks: &[RateAsk<'_>]) -> Result<Vec<RateCount>> {
        let mut conn = self.read.acquire().await?;
        let mut out = Vec::with_capacity(asks.len());
        for ask in asks {
            let row = sqlx::query(
                "SELECT COALESCE(SUM(weight), 0) AS weight, MIN(at) AS oldest FROM rate_events
                 WHERE kind = $1 AND key = $2 AND at >= $3",
            )
            .bind(ask.kind as i16)
            .bind(ask.key)
            .bind(ask.since)
            .fetch_one(&mut *conn)
            .await?;
            out.push(RateCount {
                weight: row.try_get::<i64, _>("weight")?.max(0) as u64,
                oldest: row.try_get("oldest")?,
            });
        }
        Ok(out)
    }

    async fn rate_record(&self, events: &[RateEvent], forget_before: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM rate_events WHERE at < $1")
            .bind(forget_before)
            .execute(&mut *tx)
            .await?;
        for e in events {
            sqlx::query("INSERT INTO rate_events (kind, key, at, weight) VALUES ($1, $2, $3, $4)")
                .bind(e.kind as i16)
                .bind(&e.key)
                .bind(e.at)
                .bind(i64::from(e.weight))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn rate_clear(&self, kind: RateKind, key: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM rate_events WHERE kind = $1 AND key = $2")
            .bind(kind as i16)
            .bind(key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
