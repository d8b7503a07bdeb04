//! Unit mailboxes delegated with rights (Đ12) in storage terms: which person (their own
//! account) may act on which unit's mailbox, with what rights, granted by whom and when.
//!
//! The store keeps the rights as text (the canonical list of
//! [`hopthu_model::DelegateRights`]); which accounts may be a unit mailbox or a delegate is
//! decided in core. Every write takes its audit rows and commits them in the SAME transaction
//! ([`crate::contract`] §6, §16).

use hopthu_model::{AccountId, DelegateRights};

use crate::Result;
use crate::lifecycle::NewAudit;

/// One delegate of one unit mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegateRecord {
    /// The unit mailbox's account.
    pub unit: AccountId,
    pub unit_address: String,
    /// The delegate's own account.
    pub delegate: AccountId,
    pub delegate_address: String,
    pub rights: DelegateRights,
    /// Who granted (or last changed) the rights: an administrator's address, `cli:<user>`.
    pub granted_by: String,
    /// When (Unix seconds).
    pub granted_at: i64,
}

/// Delegations of unit mailboxes (part of the storage contract, [`crate::contract`] §16).
#[async_trait::async_trait]
pub trait DelegationStore: Send + Sync {
    /// Lets `delegate` act on the unit mailbox `unit` with `rights`, replacing the rights (and
    /// who granted them, and when) if it already could; `audit` is written in the same
    /// transaction. Empty rights are a [`crate::StoreError::Conflict`]: a delegation without
    /// rights is a revocation ([`DelegationStore::revoke_delegate`]).
    async fn grant_delegate(
        &self,
        unit: AccountId,
        delegate: AccountId,
        rights: DelegateRights,
        granted_by: &str,
        at: i64,
        audit: &[NewAudit],
    ) -> Result<()>;

    /// Ends `delegate`'s rights on `unit`; true when a delegation was removed, false (and
    /// nothing written, not even `audit`) when there was none.
    async fn revoke_delegate(
        &self,
        unit: AccountId,
        delegate: AccountId,
        at: i64,
        audit: &[NewAudit],
    ) -> Result<bool>;

    /// The delegates of the unit mailbox `unit`, by the delegate's address.
    async fn delegates(&self, unit: AccountId) -> Result<Vec<DelegateRecord>>;

    /// The open (not revoked) unit mailboxes delegated to `person`, by the unit mailbox's
    /// address.
    async fn delegations_of(&self, person: AccountId) -> Result<Vec<DelegateRecord>>;

    /// Whether the unit mailbox `unit` has at least one delegate (asked at each sign-in, so
    /// one indexed look-up).
    async fn has_delegates(&self, unit: AccountId) -> Result<bool>;

    /// Whether the unit mailbox `unit` has an owner or at least one delegate: then its own
    /// password no longer signs in (asked at each sign-in, so one indexed look-up).
    async fn taken_over(&self, unit: AccountId) -> Result<bool>;

    /// The owner of the unit mailbox `unit` (Đ12): the account of its unit's head, when the
    /// unit has a head who is an active person with an account.
    async fn unit_owner(&self, unit: AccountId) -> Result<Option<AccountId>>;

    /// The open (not revoked) unit mailboxes `person` owns as the head of their unit: (the
    /// unit mailbox's account, its address), by address.
    async fn owned_unit_mailboxes(&self, person: AccountId) -> Result<Vec<(AccountId, String)>>;
}
