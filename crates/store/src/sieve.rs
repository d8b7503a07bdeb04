//! Per-user Sieve scripts (RFC 5228) and the record of vacation replies (RFC 5230 §4.2) in
//! storage terms. Contract §25.

use hopthu_model::AccountId;

use crate::Result;

/// A stored script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SieveScriptRecord {
    pub name: String,
    pub content: String,
    pub active: bool,
    /// Unix seconds of the last write.
    pub updated_at: i64,
}

/// What [`SieveStore::put_sieve_script`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SievePut {
    Created,
    /// A script of that name existed: its content was replaced (its active mark kept).
    Replaced,
    /// The account already keeps `max_scripts` scripts: nothing written.
    TooMany,
}

/// What [`SieveStore::delete_sieve_script`] and [`SieveStore::rename_sieve_script`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SieveChange {
    Done,
    NotFound,
    /// Delete: the script is the active one (RFC 5804 §2.10), kept.
    Active,
    /// Rename: the new name is taken, nothing changed.
    Exists,
}

/// Sieve scripts and vacation replies (part of the storage contract, [`crate::contract`] §25).
/// Every method is confined to the one account it names; rows go with the account.
#[async_trait::async_trait]
pub trait SieveStore: Send + Sync {
    /// The account's scripts, by name.
    async fn sieve_scripts(&self, account: AccountId) -> Result<Vec<SieveScriptRecord>>;

    /// One script by its exact name.
    async fn sieve_script(
        &self,
        account: AccountId,
        name: &str,
    ) -> Result<Option<SieveScriptRecord>>;

    /// The account's active script, if any (what local delivery runs).
    async fn active_sieve_script(&self, account: AccountId) -> Result<Option<SieveScriptRecord>>;

    /// Creates the script, or replaces the content of the one of that name (keeping whether it
    /// is active); a new name is refused ([`SievePut::TooMany`]) when the account already has
    /// `max_scripts`, counted in the same transaction.
    async fn put_sieve_script(
        &self,
        account: AccountId,
        name: &str,
        content: &str,
        max_scripts: u32,
        at: i64,
    ) -> Result<SievePut>;

    /// `Some(name)`: that script becomes the account's only active one, in one transaction
    /// (false, nothing changed, when there is no such script); `None`: none is active (true).
    async fn activate_sieve_script(&self, account: AccountId, name: Option<&str>) -> Result<bool>;

    /// Deletes a script that is not the active one.
    async fn delete_sieve_script(&self, account: AccountId, name: &str) -> Result<SieveChange>;

    /// Renames a script (its content and active mark go with it).
    async fn rename_sieve_script(
        &self,
        account: AccountId,
        old: &str,
        new: &str,
        at: i64,
    ) -> Result<SieveChange>;

    /// Claims the right to send a vacation reply to `sender` for `handle`: true, recording
    /// `now` as the time sent, when none was recorded at or after `since`; false otherwise
    /// (one was sent within the period). Atomic, so two deliveries at once (or two nodes)
    /// send one reply. Records older than `forget_before` are dropped on the way.
    async fn claim_vacation_reply(
        &self,
        account: AccountId,
        sender: &str,
        handle: &str,
        since: i64,
        now: i64,
        forget_before: i64,
    ) -> Result<bool>;
}

#[cfg(test)]
mod tests {
    use crate::testing::{Kind, on_each_backend, open};
    use crate::*;

    async fn account(store: &Store, address: &str) -> hopthu_model::AccountId {
        store
            .create_account(
                &NewAccount {
                    address: address.into(),
                    display_name: "X".into(),
                    password_hash: "h".into(),
                    must_change_password: false,
                    created_at: 0,
                },
                &[("INBOX", None)],
            )
            .await
            .unwrap()
    }

    async fn scripts_are_kept_per_account_with_one_active(kind: Kind) {
        let (store, _dir) = open(kind).await;
        let a = account(&store, "a@x.vn").await;
        let b = account(&store, "b@x.vn").await;
        assert_eq!(
            store
                .put_sieve_script(a, "one", "keep;", 2, 10)
                .await
                .unwrap(),
            SievePut::Created
        );
        assert_eq!(
            store
                .put_sieve_script(a, "two", "discard;", 2, 11)
                .await
                .unwrap(),
            SievePut::Created
        );
        // A third name is refused at the limit; replacing is not.
        assert_eq!(
            store
                .put_sieve_script(a, "three", "stop;", 2, 12)
                .await
                .unwrap(),
            SievePut::TooMany
        );
        assert_eq!(
            store
                .put_sieve_script(a, "two", "stop;", 2, 13)
                .await
                .unwrap(),
            SievePut::Replaced
        );
        // Confined to the account.
        assert!(store.sieve_scripts(b).await.unwrap().is_empty());
        assert!(store.sieve_script(b, "one").await.unwrap().is_none());
        assert!(!store.activate_sieve_script(b, Some("one")).await.unwrap());

        assert!(store.active_sieve_script(a).await.unwrap().is_none());
        assert!(store.activate_sieve_script(a, Some("one")).await.unwrap());
        assert!(store.activate_sieve_script(a, Some("two")).await.unwrap());
        let all = store.sieve_scripts(a).await.unwrap();
        assert_eq!(
            all.iter()
                .map(|s| (s.name.as_str(), s.content.as_str(), s.active))
                .collect::<Vec<_>>(),
            vec![("one", "keep;", false), ("two", "stop;", true)]
        );
        assert_eq!(all[1].updated_at, 13);
        assert!(!store.activate_sieve_script(a, Some("nope")).await.unwrap());
        assert_eq!(
            store.active_sieve_script(a).await.unwrap().unwrap().name,
            "two",
            "a failed activation changes nothing"
        );
        // Replacing keeps the active mark.
        store
            .put_sieve_script(a, "two", "keep;", 2, 14)
            .await
            .unwrap();
        assert_eq!(
            store.active_sieve_script(a).await.unwrap().unwrap().content,
            "keep;"
        );

        assert_eq!(
            store.delete_sieve_script(a, "two").await.unwrap(),
            SieveChange::Active
        );
        assert_eq!(
            store
                .rename_sieve_script(a, "two", "one", 15)
                .await
                .unwrap(),
            SieveChange::Exists
        );
        assert_eq!(
            store
                .rename_sieve_script(a, "zzz", "new", 15)
                .await
                .unwrap(),
            SieveChange::NotFound
        );
        assert_eq!(
            store
                .rename_sieve_script(a, "two", "main", 15)
                .await
                .unwrap(),
            SieveChange::Done
        );
        assert_eq!(
            store.active_sieve_script(a).await.unwrap().unwrap().name,
            "main"
        );
        assert!(store.activate_sieve_script(a, None).await.unwrap());
        assert!(store.active_sieve_script(a).await.unwrap().is_none());
        assert_eq!(
            store.delete_sieve_script(a, "main").await.unwrap(),
            SieveChange::Done
        );
        assert_eq!(
            store.delete_sieve_script(a, "main").await.unwrap(),
            SieveChange::NotFound
        );
        assert_eq!(store.sieve_scripts(a).await.unwrap().len(), 1);
    }

    async fn a_vacation_reply_is_claimed_once_per_period(kind: Kind) {
        let (store, _dir) = open(kind).await;
        let a = account(&store, "a@x.vn").await;
        let b = account(&store, "b@x.vn").await;
        let day = 86_400;
        assert!(
            store
                .claim_vacation_reply(a, "s@y.vn", "h", 1000 - 7 * day, 1000, 0)
                .await
                .unwrap()
        );
        // Within the period: refused, and the first time stays the one recorded.
        assert!(
            !store
                .claim_vacation_reply(a, "s@y.vn", "h", 2000 - 7 * day, 2000, 0)
                .await
                .unwrap()
        );
        assert!(
            !store
                .claim_vacation_reply(a, "s@y.vn", "h", 1000, 8 * day, 0)
                .await
                .unwrap()
        );
        // Another handle, sender or account is another reply.
        assert!(
            store
                .claim_vacation_reply(a, "s@y.vn", "other", 0, 2000, 0)
                .await
                .unwrap()
        );
        assert!(
            store
                .claim_vacation_reply(a, "t@y.vn", "h", 0, 2000, 0)
                .await
                .unwrap()
        );
        assert!(
            store
                .claim_vacation_reply(b, "s@y.vn", "h", 0, 2000, 0)
                .await
                .unwrap()
        );
        // Once the period is over, another reply.
        assert!(
            store
                .claim_vacation_reply(a, "s@y.vn", "h", 1001, 9 * day, 0)
                .await
                .unwrap()
        );
        assert!(
            !store
                .claim_vacation_reply(a, "s@y.vn", "h", 1001, 9 * day + 1, 0)
                .await
                .unwrap()
        );
        // Forgotten records are dropped: a claim right after is granted.
        assert!(
            store
                .claim_vacation_reply(a, "t@y.vn", "h", 0, 10 * day, 5000)
                .await
                .unwrap()
        );
    }

    on_each_backend!(
        scripts_are_kept_per_account_with_one_active,
        a_vacation_reply_is_claimed_once_per_period
    );
}
