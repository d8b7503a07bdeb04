//! SQL of the activity ledger ([`crate::LedgerStore`]).

use hopthu_model::AccountId;

use super::Backend;
use crate::Result;

#[async_trait::async_trait]
impl crate::LedgerStore for Backend {
    async fn record_open(&self, account: AccountId, day: i64) -> Result<u32> {
        let mut tx = self.begin().await?;
        let opens: i64 = sqlx::query_scalar(
            "INSERT INTO mailbox_opens (account_id, day, opens) VALUES ($1, $2, 1)
             ON CONFLICT (account_id, day) DO UPDATE SET opens = mailbox_opens.opens + 1
             RETURNING opens",
        )
        .bind(account.0)
        .bind(day)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(opens.clamp(0, i64::from(u32::MAX)) as u32)
    }

    async fn opens_between(
        &self,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<(AccountId, i64, u32)>> {
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT account_id, day, opens FROM mailbox_opens
              WHERE day >= $1 AND day < $2 ORDER BY day, account_id",
        )
        .bind(from_day)
        .bind(to_day)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(a, d, n)| (AccountId(a), d, n.clamp(0, i64::from(u32::MAX)) as u32))
            .collect())
    }
}
