//! Unit mailboxes delegated with rights (Đ12): people act on their unit's mailbox as
//! themselves, each with the rights granted ([`DelegateRights`]), instead of sharing its
//! password.
//!
//! The unit mailbox is named by its address and must be the mailbox of a unit in the
//! directory; the delegate must be a personal account (an active account that is no unit's
//! mailbox). Each grant and revocation is audited in its own transaction. Once a unit mailbox
//! has a delegate, its own password no longer signs in ([`Core::authenticate`] answers
//! [`crate::AuthError::Delegated`]).

use hopthu_model::DelegateRights;
pub use hopthu_store::DelegateRecord;
use hopthu_store::{AccountRecord, AccountState, AuditRecord, UnitRecord};

use crate::shared::Access;
use crate::{Actor, Core, Error, NewAudit, Result, now};

impl Core {
    /// The unit whose mailbox `address` is, with its account; an error naming the address
    /// otherwise.
    async fn unit_mailbox(&self, address: &str) -> Result<(UnitRecord, AccountRecord)> {
        let address = self.local_address(address)?.to_string();
        let not_unit = || {
            Error::invalid(format!(
                "{address}: không phải hộp thư của một đơn vị trong danh bạ / not the mailbox of a unit in the directory"
            ))
        };
        let account = self
            .store
            .account_by_address(&address)
            .await?
            .ok_or_else(not_unit)?;
        let unit = self
            .store
            .units()
            .await?
            .into_iter()
            .find(|u| u.account == Some(account.id))
            .ok_or_else(not_unit)?;
        Ok((unit, account))
    }

    /// The personal account `address` names: it exists, is active and is no unit's mailbox.
    async fn personal_account(&self, address: &str) -> Result<AccountRecord> {
        let address = self.local_address(address)?.to_string();
        let account = self
            .store
            .account_by_address(&address)
            .await?
            .ok_or_else(|| {
                Error::not_found(format!("{address}: không có hộp thư / no such mailbox"))
            })?;
        let units = self.store.units().await?;
        if units.iter().any(|u| u.account == Some(account.id)) {
            return Err(Error::invalid(format!(
                "{address}: là hộp thư đơn vị, không phải hộp thư cá nhân / is a unit mailbox, not a personal mailbox"
            )));
        }
        if account.state != AccountState::Active {
            return Err(Error::invalid(format!(
                "{address}: hộp thư đã bị thu hồi / the mailbox is revoked"
            )));
        }
        Ok(account)
    }

    /// Lets `person` act on the unit mailbox `unit` with `rights` (a comma list, see
    /// [`DelegateRights::parse`]), replacing the rights they had. Audited as
    /// `unit_mailbox.grant`. Refused, with nothing changed, for a bad rights list, an address
    /// that is not a unit's mailbox, one that is not a personal account, or a unit outside
    /// the actor's scope.
    pub async fn grant_unit_delegate(
        &self,
        actor: &Actor,
        unit: &str,
        person: &str,
        rights: &str,
    ) -> Result<DelegateRecord> {
        let rights = DelegateRights::parse(rights).map_err(|e| Error::invalid(e.to_string()))?;
        let (unit, mailbox) = self.unit_mailbox(unit).await?;
        self.authorize(actor, unit.id).await?;
        let delegate = self.personal_account(person).await?;
        let before = self
            .store
            .delegates(mailbox.id)
            .await?
            .into_iter()
            .find(|d| d.delegate == delegate.id);
        let audit = [NewAudit {
            actor: actor.name.clone(),
            action: "unit_mailbox.grant".into(),
            target: format!("unit_mailbox:{}", mailbox.address),
            before: before
                .as_ref()
                .map(|b| delegation_json(&delegate.address, b.rights)),
            after: Some(delegation_json(&delegate.address, rights)),
        }];
        self.store
            .grant_delegate(mailbox.id, delegate.id, rights, &actor.name, now(), &audit)
            .await?;
        self.store
            .delegates(mailbox.id)
            .await?
            .into_iter()
            .find(|d| d.delegate == delegate.id)
            .ok_or_else(|| Error::new(crate::ErrorKind::Internal, "granted delegate not found"))
    }

    /// Ends `person`'s rights on the unit mailbox `unit`. Audited as `unit_mailbox.revoke`;
    /// [`crate::ErrorKind::NotFound`] (nothing written) when they had none.
    pub async fn revoke_unit_delegate(
        &self,
        actor: &Actor,
        unit: &str,
        person: &str,
    ) -> Result<()> {
        let (unit, mailbox) = self.unit_mailbox(unit).await?;
        self.authorize(actor, unit.id).await?;
        let address = self.local_address(person)?.to_string();
        let delegate = self.store.account_by_address(&address).await?;
        let before = match &delegate {
            Some(d) => self
                .store
                .delegates(mailbox.id)
                .await?
                .into_iter()
                .find(|r| r.delegate == d.id),
            None => None,
        };
        let (Some(delegate), Some(before)) = (delegate, before) else {
            return Err(Error::not_found(format!(
                "{address}: không được giao quyền trên {unit} / has no rights on {unit}",
                unit = mailbox.address
            )));
        };
        let audit = [NewAudit {
            actor: actor.name.clone(),
            action: "unit_mailbox.revoke".into(),
            target: format!("unit_mailbox:{}", mailbox.address),
            before: Some(delegation_json(&delegate.address, before.rights)),
            after: None,
        }];
        if self
            .store
            .revoke_delegate(mailbox.id, delegate.id, now(), &audit)
            .await?
        {
            Ok(())
        } else {
            // Revoked by someone else meanwhile: the outcome asked for holds, but say so.
            Err(Error::not_found(format!(
                "{address}: không được giao quyền trên {unit} / has no rights on {unit}",
                unit = mailbox.address
            )))
        }
    }

    /// The delegates of the unit mailbox `unit`, by address.
    pub async fn unit_delegates(&self, actor: &Actor, unit: &str) -> Result<Vec<DelegateRecord>> {
        let (unit, mailbox) = self.unit_mailbox(unit).await?;
        self.authorize_read(actor, unit.id).await?;
        Ok(self.store.delegates(mailbox.id).await?)
    }
}

/// A unit mailbox as the console shows it: its owner, its delegates and what was done to
/// and in it.
#[derive(Debug, Clone)]
pub struct UnitMailboxOverview {
    pub address: String,
    /// The owner's address: the unit's head (after a handover, the new head).
    pub owner: Option<String>,
    pub delegates: Vec<DelegateRecord>,
    /// The newest audit rows of the unit mailbox (`target = unit_mailbox:<address>`): grants,
    /// revocations, handovers and each person's actions in it, newest first.
    pub audit: Vec<AuditRecord>,
}

impl Core {
    /// The owner, the delegates and the newest `limit` audit rows of the unit mailbox `unit`,
    /// for an administrator whose scope holds the unit (Đ12: the console shows each
    /// person's actions to the owner's unit and the focal unit).
    pub async fn unit_mailbox_overview(
        &self,
        actor: &Actor,
        unit: &str,
        limit: usize,
    ) -> Result<UnitMailboxOverview> {
        let (unit, mailbox) = self.unit_mailbox(unit).await?;
        self.authorize_read(actor, unit.id).await?;
        self.overview_of(mailbox, limit).await
    }

    /// The same for the owner of the unit mailbox `unit` (its head), signed in as themselves:
    /// the webmail's log of what each delegate did (Đ12). Anyone else is refused
    /// ([`ErrorKind::Forbidden`]).
    ///
    /// [`ErrorKind::Forbidden`]: crate::ErrorKind::Forbidden
    pub async fn owned_unit_mailbox_overview(
        &self,
        who: &crate::Principal,
        unit: &str,
        limit: usize,
    ) -> Result<UnitMailboxOverview> {
        let owned = self
            .shared_mailboxes(who)
            .await?
            .into_iter()
            .any(|m| m.address.eq_ignore_ascii_case(unit.trim()) && m.access == Access::Owner);
        if !owned {
            return Err(Error::new(
                crate::ErrorKind::Forbidden,
                format!(
                    "{}: chỉ chủ hộp thư đơn vị (lãnh đạo đơn vị) xem được nhật ký / only the unit mailbox's owner (the unit's head) sees its log",
                    unit.trim()
                ),
            ));
        }
        let (_, mailbox) = self.unit_mailbox(unit).await?;
        self.overview_of(mailbox, limit).await
    }

    async fn overview_of(
        &self,
        mailbox: AccountRecord,
        limit: usize,
    ) -> Result<UnitMailboxOverview> {
        let owner = match self.store.unit_owner(mailbox.id).await? {
            Some(owner) => self.store.account(owner).await?.map(|a| a.address),
            None => None,
        };
        let delegates = self.store.delegates(mailbox.id).await?;
        let target = format!("unit_mailbox:{}", mailbox.address);
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        let audit = self.store.audit_for(&target, limit).await?;
        Ok(UnitMailboxOverview {
            address: mailbox.address,
            owner,
            delegates,
            audit,
        })
    }
}

/// The audit log's view of one delegation.
fn delegation_json(delegate: &str, rights: DelegateRights) -> String {
    serde_json::json!({ "delegate": delegate, "rights": rights.to_string() }).to_string()
}
