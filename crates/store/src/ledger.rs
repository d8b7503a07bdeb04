//! The activity ledger (Đ13.1, Đ17): what the six-monthly report counts, recorded as it happens
//! and never rewritten, so that a finished period's figures stay the same whatever happens to
//! the messages or the sign-in log later.

use hopthu_model::AccountId;

use crate::Result;

/// The activity ledger in storage terms (part of the storage contract, [`crate::contract`]).
#[async_trait::async_trait]
pub trait LedgerStore: Send + Sync {
    /// Counts one opening of `account`'s mailbox on `day` (days since 1970-01-01 in the
    /// province's time); returns the day's count so far. Rows are never removed.
    async fn record_open(&self, account: AccountId, day: i64) -> Result<u32>;

    /// Every (account, day, openings) with `from_day <= day < to_day`, by day then account.
    async fn opens_between(&self, from_day: i64, to_day: i64)
    -> Result<Vec<(AccountId, i64, u32)>>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Kind, on_each_backend};

    async fn openings_are_counted_per_day_and_kept(kind: Kind) {
        let (store, _dir) = crate::testing::open(kind).await;
        let (a, b) = (AccountId(7), AccountId(8));
        assert_eq!(store.record_open(a, 20_000).await.unwrap(), 1);
        assert_eq!(store.record_open(a, 20_000).await.unwrap(), 2);
        assert_eq!(store.record_open(a, 20_001).await.unwrap(), 1);
        assert_eq!(store.record_open(b, 20_001).await.unwrap(), 1);
        assert_eq!(store.record_open(b, 19_999).await.unwrap(), 1);
        assert_eq!(
            store.opens_between(20_000, 20_002).await.unwrap(),
            vec![(a, 20_000, 2), (a, 20_001, 1), (b, 20_001, 1)]
        );
        assert!(
            store
                .opens_between(20_002, 30_000)
                .await
                .unwrap()
                .is_empty()
        );
    }

    on_each_backend!(openings_are_counted_per_day_and_kept);
}
