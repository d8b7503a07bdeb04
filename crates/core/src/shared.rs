//! Unit mailboxes seen by the people who act on them (Đ12): their owner (the unit's head) and
//! their delegates each sign in as themselves and find the unit's folders in their own folder
//! list under the shared namespace (RFC 2342), `Shared/<unit address>/<folder>`, with the
//! rights of RFC 4314 that their delegation gives.
//!
//! | access | RFC 4314 rights |
//! |---|---|
//! | one's own mailbox, or the owner of a unit mailbox | `lrswipkxtea` (everything) |
//! | delegate with `manage` | `lrswipkxte` (read, flag, insert, create and delete folders, delete and expunge messages) |
//! | delegate with `read` | `lrsw` (read and set flags other than `\Deleted`) |
//! | delegate with only `send-as` / `send-on-behalf` | none: the mailbox is not listed |
//!
//! **Invariant**: every mailbox method of [`Core`] resolves names and ids through
//! [`Core::place`] / [`Core::mailbox_access`], so IMAP and the webmail see the same shared
//! folders and are refused the same things ([`ErrorKind::Forbidden`], IMAP's `NOPERM`).

use hopthu_model::{AccountId, DelegateRight, DelegateRights, MailboxId, Uid};
use hopthu_store::{LifecycleWrite, MailboxRecord};

use crate::{Actor, AdminScope, Core, Error, ErrorKind, NewAudit, Principal, Result};

/// The root of the shared namespace (RFC 2342): `Shared/<unit address>/INBOX`.
pub const SHARED_ROOT: &str = "Shared";

/// Every right of RFC 4314 §2.1, in its order.
pub const ALL_RIGHTS: &str = "lrswipkxtea";
const MANAGE_RIGHTS: &str = "lrswipkxte";
const READ_RIGHTS: &str = "lrsw";

/// How a principal may act on a mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The principal's own mailbox.
    Own,
    /// The owner (the unit's head) of a unit mailbox.
    Owner,
    /// A delegate of a unit mailbox with these rights.
    Delegate(DelegateRights),
}

impl Access {
    /// The RFC 4314 rights this access gives, in the RFC's order.
    pub fn rights(self) -> &'static str {
        match self {
            Access::Own | Access::Owner => ALL_RIGHTS,
            Access::Delegate(r) if r.has(DelegateRight::Manage) => MANAGE_RIGHTS,
            Access::Delegate(r) if r.has(DelegateRight::Read) => READ_RIGHTS,
            Access::Delegate(_) => "",
        }
    }

    /// Whether the access has the RFC 4314 right `right`.
    pub fn allows(self, right: char) -> bool {
        self.rights().contains(right)
    }

    /// `Forbidden` (IMAP `NOPERM`) without the RFC 4314 right `right`.
    pub fn require(self, right: char) -> Result<()> {
        if self.allows(right) {
            return Ok(());
        }
        let (vi, en) = match right {
            'l' | 'r' => ("xem thư mục này", "read this mailbox"),
            's' | 'w' => ("đánh dấu thư", "set flags"),
            'i' | 'p' => ("thêm thư vào thư mục này", "add messages to this mailbox"),
            'k' => ("tạo thư mục ở đây", "create mailboxes here"),
            'x' => (
                "xóa hoặc đổi tên thư mục này",
                "delete or rename this mailbox",
            ),
            't' => ("xóa thư (\\Deleted)", "delete messages (\\Deleted)"),
            'e' => ("dọn thư đã xóa (EXPUNGE)", "expunge messages"),
            _ => (
                "quản lý quyền của thư mục này",
                "administer this mailbox's rights",
            ),
        };
        Err(Error::forbidden(format!(
            "bạn không có quyền {vi} / you have no right to {en} (quyền / rights: \"{}\")",
            self.rights()
        )))
    }
}

/// Where a mailbox name points: an account's mailbox named `local` there, shown to the
/// principal as `prefix` + `local`.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub owner: AccountId,
    pub local: String,
    /// `""` for one's own mailboxes, `Shared/<unit address>/` for a unit's.
    pub prefix: String,
    pub access: Access,
}

/// A unit mailbox a principal may act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedMailbox {
    pub account: AccountId,
    pub address: String,
    pub access: Access,
}

impl SharedMailbox {
    /// The prefix of its folders' names: `Shared/<address>/`.
    pub fn prefix(&self) -> String {
        format!("{SHARED_ROOT}/{}/", self.address)
    }
}

/// A record of another account's mailbox as the principal sees it: named under the shared
/// namespace, and without a SPECIAL-USE attribute (the unit's Sent is not one's own Sent).
pub(crate) fn shown(mut record: MailboxRecord, prefix: &str) -> MailboxRecord {
    if !prefix.is_empty() {
        record.name = format!("{prefix}{}", record.name);
        record.special_use = None;
    }
    record
}

impl Core {
    /// The unit mailboxes `who` may act on (as owner, or as a delegate with any right), by
    /// address.
    pub async fn shared_mailboxes(&self, who: &Principal) -> Result<Vec<SharedMailbox>> {
        let mut out: Vec<SharedMailbox> = self
            .store
            .owned_unit_mailboxes(who.account)
            .await?
            .into_iter()
            .filter(|(account, _)| *account != who.account)
            .map(|(account, address)| SharedMailbox {
                account,
                address,
                access: Access::Owner,
            })
            .collect();
        for d in self.store.delegations_of(who.account).await? {
            if !out.iter().any(|m| m.account == d.unit) {
                out.push(SharedMailbox {
                    account: d.unit,
                    address: d.unit_address,
                    access: Access::Delegate(d.rights),
                });
            }
        }
        out.sort_by(|a, b| a.address.cmp(&b.address));
        Ok(out)
    }

    /// How `who` may act on the mailboxes of `account`; `None` when not at all.
    pub(crate) async fn access_to(
        &self,
        who: &Principal,
        account: AccountId,
    ) -> Result<Option<(Access, String)>> {
        if account == who.account {
            return Ok(Some((Access::Own, String::new())));
        }
        let shared = self.shared_mailboxes(who).await?;
        Ok(shared
            .into_iter()
            .find(|m| m.account == account)
            .map(|m| (m.access, m.prefix())))
    }

    /// The unit mailboxes `who` may read (`l`), with each unit's name from the directory
    /// (the account's display name when the unit is gone): the webmail's mailbox switcher.
    pub async fn readable_unit_mailboxes(
        &self,
        who: &Principal,
    ) -> Result<Vec<(SharedMailbox, String)>> {
        let shared: Vec<SharedMailbox> = self
            .shared_mailboxes(who)
            .await?
            .into_iter()
            .filter(|m| m.access.allows('l'))
            .collect();
        if shared.is_empty() {
            return Ok(Vec::new());
        }
        let units = self.store.units().await?;
        let mut out = Vec::with_capacity(shared.len());
        for m in shared {
            let name = match units.iter().find(|u| u.account == Some(m.account)) {
                Some(unit) => unit.name.clone(),
                None => self
                    .store
                    .account(m.account)
                    .await?
                    .map(|a| a.display_name)
                    .unwrap_or_default(),
            };
            out.push((m, name));
        }
        Ok(out)
    }

    /// The folders of the unit mailbox `address` as `who` sees them (named `Shared/<address>/…`,
    /// no SPECIAL-USE), each with its total and unseen counts; `NotFound` unless `who` may read
    /// it (`l`).
    pub async fn shared_folder_counts(
        &self,
        who: &Principal,
        address: &str,
    ) -> Result<Vec<(MailboxRecord, u32, u32)>> {
        let shared = self
            .shared_mailboxes(who)
            .await?
            .into_iter()
            .find(|m| m.address.eq_ignore_ascii_case(address) && m.access.allows('l'))
            .ok_or_else(|| Error::not_found(format!("no unit mailbox {address:?}")))?;
        self.counted_folders(shared.account, &shared.prefix()).await
    }

    /// The Trash of the account whose mailbox `id` is (one's own, or the unit mailbox's, by
    /// its SPECIAL-USE `\Trash`), where the webmail's delete moves messages; `None` when that
    /// account has none. `NotFound` unless `who` may see the mailbox.
    pub async fn trash_for(&self, who: &Principal, id: MailboxId) -> Result<Option<MailboxId>> {
        let (record, _) = self.mailbox_access(who, id).await?;
        let owner = if record.account_id == who.account {
            who.account
        } else {
            record.account_id
        };
        Ok(self
            .store
            .mailboxes(owner)
            .await?
            .into_iter()
            .find(|m| m.special_use == Some(crate::SpecialUse::Trash))
            .map(|m| m.id))
    }

    /// Resolves a mailbox name of `who`'s folder list: one's own, or `Shared/<unit
    /// address>/<folder>` of a unit mailbox one may see (otherwise `NotFound`, as for a name
    /// that does not exist). The name of the shared root or of a unit itself is no mailbox.
    pub(crate) async fn place(&self, who: &Principal, name: &str) -> Result<Place> {
        let Some(rest) = shared_rest(name) else {
            return Ok(Place {
                owner: who.account,
                local: name.to_string(),
                prefix: String::new(),
                access: Access::Own,
            });
        };
        let not_found = || Error::not_found(format!("no mailbox named {name:?}"));
        let (address, local) = rest.split_once('/').ok_or_else(not_found)?;
        let shared = self
            .shared_mailboxes(who)
            .await?
            .into_iter()
            .find(|m| m.address.eq_ignore_ascii_case(address) && m.access.allows('l'))
            .ok_or_else(not_found)?;
        self.opened_unit_mailbox(shared.account).await;
        Ok(Place {
            owner: shared.account,
            local: local.to_string(),
            prefix: shared.prefix(),
            access: shared.access,
        })
    }

    /// Records that the owner or a delegate opened the unit mailbox `account`: its last
    /// access, which the outlook shows and the inactivity sweep counts from (Đ8.3, `[lifecycle]
    /// sweep_unit_mailboxes`). At most once per [`ACCESS_RECORD_INTERVAL`] per process, as a
    /// sign-in; a failed write is logged and the access goes on.
    ///
    /// [`ACCESS_RECORD_INTERVAL`]: hopthu_store::ACCESS_RECORD_INTERVAL
    async fn opened_unit_mailbox(&self, account: AccountId) {
        let now = crate::now();
        {
            let Ok(mut seen) = self.unit_access.lock() else {
                return;
            };
            match seen.get(&account) {
                Some(at) if now - at < hopthu_store::ACCESS_RECORD_INTERVAL => return,
                _ => {
                    seen.insert(account, now);
                }
            }
        }
        if let Err(e) = self.store.record_access(account, now).await {
            tracing::warn!(account = account.0, error = %e, "unit mailbox access not recorded");
        }
    }

    /// A mailbox by id, as `who` sees it, and how `who` may act on it: one's own, or a unit
    /// mailbox's folder one may see (`l`); `NotFound` otherwise.
    pub async fn mailbox_access(
        &self,
        who: &Principal,
        id: MailboxId,
    ) -> Result<(MailboxRecord, Access)> {
        let not_found = || Error::not_found("no such mailbox");
        let record = self.store.mailbox(id).await?.ok_or_else(not_found)?;
        if record.account_id == who.account {
            return Ok((record, Access::Own));
        }
        match self.access_to(who, record.account_id).await? {
            Some((access, prefix)) if access.allows('l') => {
                self.opened_unit_mailbox(record.account_id).await;
                Ok((shown(record, &prefix), access))
            }
            _ => Err(not_found()),
        }
    }

    /// RFC 4314 MYRIGHTS: the rights `who` has on the mailbox `name`.
    pub async fn my_rights(&self, who: &Principal, name: &str) -> Result<&'static str> {
        let record = self.mailbox(who, name).await?;
        Ok(self.mailbox_access(who, record.id).await?.1.rights())
    }

    /// RFC 4314 GETACL: who has which rights on the mailbox `name` (needs `a`): the mailbox's
    /// own account, the owner and each delegate, by address.
    pub async fn mailbox_acl(&self, who: &Principal, name: &str) -> Result<Vec<(String, String)>> {
        let record = self.mailbox(who, name).await?;
        let (_, access) = self.mailbox_access(who, record.id).await?;
        access.require('a')?;
        let owner_account = self.store.account(record.account_id).await?;
        let mut acl = Vec::new();
        if let Some(account) = owner_account {
            acl.push((account.address, ALL_RIGHTS.to_string()));
        }
        if let Some(owner) = self.store.unit_owner(record.account_id).await?
            && let Some(account) = self.store.account(owner).await?
        {
            acl.push((account.address, ALL_RIGHTS.to_string()));
        }
        for d in self.store.delegates(record.account_id).await? {
            let rights = Access::Delegate(d.rights).rights();
            if !rights.is_empty() {
                acl.push((d.delegate_address, rights.to_string()));
            }
        }
        Ok(acl)
    }

    /// The address of the account whose mailbox `name` is, when `who` may administer it
    /// (`a`): what SETACL, DELETEACL and LISTRIGHTS act on. One ACL covers every folder of a
    /// unit mailbox.
    async fn administered(&self, who: &Principal, name: &str) -> Result<String> {
        let record = self.mailbox(who, name).await?;
        let (_, access) = self.mailbox_access(who, record.id).await?;
        access.require('a')?;
        let account = self
            .store
            .account(record.account_id)
            .await?
            .ok_or_else(|| Error::not_found("no such mailbox"))?;
        Ok(account.address)
    }

    /// The actor `who` is when administering the unit mailbox `unit_address` as its owner
    /// (or as the unit mailbox itself): confined to that unit.
    async fn owner_actor(&self, who: &Principal, unit_address: &str) -> Result<Actor> {
        let unit = self
            .store
            .units()
            .await?
            .into_iter()
            .find(|u| u.address.eq_ignore_ascii_case(unit_address))
            .ok_or_else(|| {
                Error::forbidden(format!(
                    "chỉ hộp thư đơn vị mới chia sẻ được / only a unit's mailbox can be shared ({unit_address})"
                ))
            })?;
        Ok(Actor {
            name: who.address.to_string(),
            scope: AdminScope::Unit(unit.id),
        })
    }

    /// RFC 4314 SETACL: gives `identifier` (an address) the rights `acl` (`+…` adds, `-…`
    /// removes, otherwise replaces) on the unit mailbox whose folder `name` is, as a
    /// delegation (`rights_from_acl`), audited as the console's grants are. No rights left
    /// is a revocation.
    pub async fn set_mailbox_acl(
        &self,
        who: &Principal,
        name: &str,
        identifier: &str,
        acl: &str,
    ) -> Result<()> {
        let unit = self.administered(who, name).await?;
        let actor = self.owner_actor(who, &unit).await?;
        let person = self.acl_identifier(identifier)?;
        let current = self
            .unit_delegates(&actor, &unit)
            .await?
            .into_iter()
            .find(|d| d.delegate_address.eq_ignore_ascii_case(&person))
            .map(|d| d.rights)
            .unwrap_or_default();
        let held = Access::Delegate(current).rights();
        let wanted: String = match acl.chars().next() {
            Some('+') => format!("{held}{}", &acl[1..]),
            Some('-') => {
                // Rights are tied in groups (LISTRIGHTS): removing one removes its group, and
                // `manage` goes with `read`.
                let removed = &acl[1..];
                rights_from_acl(removed, DelegateRights::default())?;
                if removed.chars().any(|c| READ_RIGHTS.contains(c)) {
                    String::new()
                } else if removed.chars().any(|c| "ipkxtecd".contains(c)) && !held.is_empty() {
                    READ_RIGHTS.to_string()
                } else {
                    held.to_string()
                }
            }
            _ => acl.to_string(),
        };
        let rights = rights_from_acl(&wanted, current)?;
        if rights.is_empty() {
            if !current.is_empty() {
                self.revoke_unit_delegate(&actor, &unit, &person).await?;
            }
            return Ok(());
        }
        self.grant_unit_delegate(&actor, &unit, &person, &rights.to_string())
            .await?;
        Ok(())
    }

    /// RFC 4314 DELETEACL: ends every right of `identifier` on the unit mailbox whose folder
    /// `name` is (as a revocation; none held is fine).
    pub async fn delete_mailbox_acl(
        &self,
        who: &Principal,
        name: &str,
        identifier: &str,
    ) -> Result<()> {
        let unit = self.administered(who, name).await?;
        let actor = self.owner_actor(who, &unit).await?;
        let person = self.acl_identifier(identifier)?;
        match self.revoke_unit_delegate(&actor, &unit, &person).await {
            Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    /// RFC 4314 LISTRIGHTS: the rights always granted to `identifier` on the mailbox `name`,
    /// then the groups that can be granted (each all or nothing).
    pub async fn list_rights(
        &self,
        who: &Principal,
        name: &str,
        identifier: &str,
    ) -> Result<(String, Vec<&'static str>)> {
        let unit = self.administered(who, name).await?;
        if identifier.eq_ignore_ascii_case(&unit) {
            return Ok((ALL_RIGHTS.to_string(), Vec::new()));
        }
        self.owner_actor(who, &unit).await?;
        Ok((String::new(), vec![READ_RIGHTS, "ipkxte"]))
    }

    /// An ACL identifier: an address (RFC 4314 `anyone` and groups are not delegated).
    fn acl_identifier(&self, identifier: &str) -> Result<String> {
        if identifier.eq_ignore_ascii_case("anyone") || identifier.starts_with('$') {
            return Err(Error::invalid(
                "chỉ giao quyền cho từng người / rights are given to one person at a time (an address)",
            ));
        }
        Ok(self.local_address(identifier)?.to_string())
    }
}

impl Core {
    /// Records in the audit log what a delegate or the owner did in a unit mailbox (Đ12:
    /// each person's actions on it), as `unit_mailbox.<action>` by the person's address,
    /// target `unit_mailbox:<unit address>`, with the folder and the UIDs. Nothing for one's
    /// own mailbox. Written right after the change commits; a failure to write it is logged
    /// (the change stands).
    pub(crate) async fn audit_shared(
        &self,
        who: &Principal,
        mailbox: &MailboxRecord,
        access: Access,
        action: &str,
        uids: &[Uid],
        detail: Option<(&str, &str)>,
    ) {
        if access == Access::Own || uids.is_empty() {
            return;
        }
        let Some(rest) = shared_rest(&mailbox.name) else {
            return;
        };
        let (unit, folder) = rest.split_once('/').unwrap_or((rest, ""));
        let mut after = serde_json::json!({ "mailbox": folder, "uids": uid_ranges(uids) });
        if let Some((key, value)) = detail {
            after[key] = serde_json::Value::from(value);
        }
        let audit = [NewAudit {
            actor: who.address.to_string(),
            action: format!("unit_mailbox.{action}"),
            target: format!("unit_mailbox:{unit}"),
            before: None,
            after: Some(after.to_string()),
        }];
        let write = LifecycleWrite {
            at: crate::now(),
            audit: &audit,
            ..LifecycleWrite::default()
        };
        if let Err(e) = self.store.write_lifecycle(&write).await {
            tracing::error!(error = %e, action, unit, "delegate action not audited");
        }
    }
}

/// UIDs as IMAP-style ranges, `1:3,7` (ascending input or not).
fn uid_ranges(uids: &[Uid]) -> String {
    hopthu_model::ids::compact_numbers(uids.iter().map(|u| u.0))
}

/// The part of a name after `Shared/` (the root compared as IMAP compares INBOX: exactly).
fn shared_rest(name: &str) -> Option<&str> {
    name.strip_prefix(SHARED_ROOT)?.strip_prefix('/')
}

/// Whether a name is the shared root or within it: no personal folder may be made there.
pub fn is_shared_name(name: &str) -> bool {
    name == SHARED_ROOT || shared_rest(name).is_some()
}

/// The RFC 4314 rights a delegation gives, read from a rights string of SETACL: `lr…` map
/// onto `read`, any of `ipkxte` onto `manage` (which includes `read`); `a` cannot be
/// granted (the owner is the unit's head). Letters outside RFC 4314 are an error; an
/// empty result is a removal. `send-as` / `send-on-behalf` are kept from `previous`: IMAP
/// has no words for them.
pub fn rights_from_acl(acl: &str, previous: DelegateRights) -> Result<DelegateRights> {
    let mut rights = DelegateRights::default();
    for c in acl.chars() {
        match c {
            'l' | 'r' | 's' | 'w' => rights = rights.with(DelegateRight::Read),
            'i' | 'p' | 'k' | 'x' | 't' | 'e' | 'c' | 'd' => {
                rights = rights.with(DelegateRight::Manage)
            }
            'a' => {
                return Err(Error::new(
                    ErrorKind::Forbidden,
                    "quyền quản trị (a) thuộc về lãnh đạo đơn vị / the right to administer (a) belongs to the unit's head",
                ));
            }
            '0'..='9' => {}
            _ => {
                return Err(Error::invalid(format!(
                    "quyền không hợp lệ {c:?} / unknown right {c:?} (RFC 4314: lrswipkxtea)"
                )));
            }
        }
    }
    for keep in [DelegateRight::SendAs, DelegateRight::SendOnBehalf] {
        if previous.has(keep) {
            rights = rights.with(keep);
        }
    }
    Ok(rights)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rights(text: &str) -> DelegateRights {
        DelegateRights::parse(text).unwrap()
    }

    #[test]
    fn delegations_map_onto_rfc4314_rights() {
        assert_eq!(Access::Own.rights(), "lrswipkxtea");
        assert_eq!(Access::Delegate(rights("read")).rights(), "lrsw");
        assert_eq!(Access::Delegate(rights("manage")).rights(), "lrswipkxte");
        assert_eq!(Access::Delegate(rights("send-as")).rights(), "");
        assert!(Access::Delegate(rights("read")).require('t').is_err());
        assert!(Access::Delegate(rights("read")).require('s').is_ok());
        assert_eq!(
            Access::Delegate(rights("read"))
                .require('e')
                .unwrap_err()
                .kind,
            ErrorKind::Forbidden
        );
    }

    #[test]
    fn setacl_rights_become_a_delegation() {
        let none = DelegateRights::default();
        assert_eq!(rights_from_acl("lrs", none).unwrap(), rights("read"));
        assert_eq!(
            rights_from_acl("lrswipkxte", none).unwrap(),
            rights("manage")
        );
        assert_eq!(rights_from_acl("te", none).unwrap(), rights("manage"));
        assert_eq!(rights_from_acl("", none).unwrap(), none);
        assert_eq!(
            rights_from_acl("lr", rights("manage,send-as")).unwrap(),
            rights("read,send-as")
        );
        assert!(rights_from_acl("lra", none).is_err());
        assert!(rights_from_acl("lrz", none).is_err());
    }

    #[test]
    fn uids_are_written_as_ranges() {
        let uids = |v: &[u32]| v.iter().map(|&u| Uid(u)).collect::<Vec<_>>();
        assert_eq!(uid_ranges(&uids(&[1, 2, 3, 7, 9, 10])), "1:3,7,9:10");
        assert_eq!(uid_ranges(&uids(&[5, 4, 4])), "4:5");
        assert_eq!(uid_ranges(&[]), "");
    }

    #[test]
    fn shared_names() {
        assert_eq!(shared_rest("Shared/a@b.vn/INBOX"), Some("a@b.vn/INBOX"));
        assert_eq!(shared_rest("Shared"), None);
        assert_eq!(shared_rest("SharedX/y"), None);
        assert!(is_shared_name("Shared"));
        assert!(is_shared_name("Shared/x"));
        assert!(!is_shared_name("Sharedx"));
        assert!(!is_shared_name("INBOX"));
    }
}
