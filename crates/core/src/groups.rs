//! Group addresses: one address of our domain whose mail goes to many mailboxes, following the
//! directory ("every person of unit X and its subtree", "every head of unit") and/or a list made
//! by hand, with who may send to it (anyone, its members, the province's signed-in people, or
//! named addresses).
//!
//! Members are resolved when mail arrives ([`Core::group_member_accounts`]): the active people
//! of the unit (with `subtree`, of every unit below it), or with `heads` only the heads of
//! units (of that unit or subtree, or of the whole province without a unit), plus the
//! hand-made members; only active mailboxes, each once. A group is never a member of a group
//! (a member must be a mailbox or an alias of one), so expansion never loops.
//!
//! Who may send is decided at RCPT ([`Core::group_sender_refusal`]): `members` and named local
//! addresses need a session signed in as that member or address (mail from outside can only
//! claim a local address, never prove it); `province` needs any signed-in session of ours;
//! a named address of another domain is trusted on its MAIL FROM.
//!
//! Administration: a group of a unit is managed by the administrators whose scope holds the
//! unit ([`Core::authorize`]); a province-wide or hand-made group only by the focal unit.
//! Creation and deletion are audited (`group.create`, `group.delete`, target `group:<address>`).

use hopthu_model::{AccountId, EmailAddress, UnitId};
use hopthu_store::{AccountState, NewGroup, UnitRecord};
pub use hopthu_store::{GroupRecord, GroupSenders};

use crate::{Actor, Core, Error, ErrorKind, NewAudit, Principal, Result, now};

/// A group to create, as the CLI and the console give it.
#[derive(Debug, Clone, Default)]
pub struct GroupRequest {
    pub address: String,
    pub name: String,
    /// A unit code.
    pub unit: Option<String>,
    pub subtree: bool,
    pub heads: bool,
    pub members: Vec<String>,
    /// `anyone`, `members`, `province`, or a comma list of addresses; empty means `anyone`.
    pub senders: String,
}

/// A group with its unit and its members as the directory makes them now.
#[derive(Debug, Clone)]
pub struct GroupView {
    pub group: GroupRecord,
    /// The group's unit, when it has one.
    pub unit: Option<UnitRecord>,
    /// Every mailbox the group's mail goes to now, by address.
    pub resolved: Vec<String>,
}

/// Who is sending, for the recipients whose answer depends on it (a group's senders).
#[derive(Debug, Clone, Copy, Default)]
pub struct SenderContext<'a> {
    /// The MAIL FROM (`None` for `<>`).
    pub mail_from: Option<&'a EmailAddress>,
    /// The signed-in principal of the session (submission, the webmail), if any.
    pub principal: Option<&'a Principal>,
}

/// Why a group refuses a sender: Vietnamese and English, with diacritics (`text`) and in ASCII
/// for an SMTP reply (`ascii`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRefusal {
    pub text: String,
    pub ascii: String,
}

/// The policy text of a group (`anyone`, `members`, `province` or the named addresses).
pub fn senders_text(group: &GroupRecord) -> String {
    match group.senders {
        GroupSenders::Named => group.named_senders.join(","),
        other => other.as_str().to_string(),
    }
}

impl Core {
    /// Creates a group. Refused with nothing written: an address that is not ours or already
    /// taken (a mailbox, a person's or a unit's address, an alias, a reserved name, a system
    /// name, another group), an empty name, an unknown unit code, `subtree` without a unit, a
    /// group without any member rule, a member that is not an active mailbox of ours (groups
    /// are no members), a malformed sender list; a unit outside the actor's scope, or for a
    /// group without a unit anyone but the focal unit.
    pub async fn create_group(&self, actor: &Actor, req: &GroupRequest) -> Result<GroupView> {
        let address = self.local_address(&req.address)?;
        let name = hopthu_model::text::clean(&req.name);
        if name.is_empty() {
            return Err(Error::invalid("chưa có tên nhóm / the group needs a name"));
        }
        let units = self.store.units().await?;
        let unit = match req.unit.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(code) => Some(
                units
                    .iter()
                    .find(|u| u.code.eq_ignore_ascii_case(code))
                    .cloned()
                    .ok_or_else(|| {
                        Error::invalid(format!("{code}: không có đơn vị này / no such unit"))
                    })?,
            ),
            None => None,
        };
        if req.subtree && unit.is_none() {
            return Err(Error::invalid(
                "--subtree cần --unit / --subtree needs --unit",
            ));
        }
        if unit.is_none() && !req.heads && req.members.is_empty() {
            return Err(Error::invalid(
                "nhóm chưa có thành viên: cần --unit, --heads hoặc --member / the group has no members: give --unit, --heads or --member",
            ));
        }
        match &unit {
            Some(u) => self.authorize(actor, u.id).await?,
            None => self.authorize_focal(actor)?,
        }
        let (senders, named_senders) = self.parse_senders(&req.senders)?;
        let mut members: Vec<String> = Vec::new();
        for member in &req.members {
            let member = self.local_address(member)?;
            match self.resolve_local(&member).await? {
                Some(a) if a.state == AccountState::Active => {}
                Some(_) => {
                    return Err(Error::invalid(format!(
                        "{member}: hộp thư đã bị thu hồi / the mailbox is revoked"
                    )));
                }
                None => {
                    return Err(Error::invalid(format!(
                        "{member}: không có hộp thư này (một nhóm không là thành viên của nhóm khác) / no such mailbox (a group is no member of a group)"
                    )));
                }
            }
            let member = member.to_string();
            if !members.contains(&member) {
                members.push(member);
            }
        }
        self.check_group_address_free(&address).await?;
        let at = now();
        let group = NewGroup {
            address: address.to_string(),
            name,
            unit: unit.as_ref().map(|u| u.id),
            subtree: req.subtree,
            heads: req.heads,
            members,
            senders,
            named_senders,
            created_by: actor.name.clone(),
            created_at: at,
        };
        let audit = [NewAudit {
            actor: actor.name.clone(),
            action: "group.create".into(),
            target: format!("group:{address}"),
            before: None,
            after: Some(group_json(&group, unit.as_ref()).to_string()),
        }];
        self.store
            .create_group(&group, &audit)
            .await
            .map_err(|e| match Error::from(e) {
                e if e.kind == ErrorKind::AlreadyExists => Error::new(
                    ErrorKind::AlreadyExists,
                    format!("{address}: đã là một nhóm / already a group"),
                ),
                e => e,
            })?;
        self.group_view(actor, &address.to_string()).await
    }

    /// `anyone` | `members` | `province` | a comma list of addresses.
    fn parse_senders(&self, text: &str) -> Result<(GroupSenders, Vec<String>)> {
        let text = text.trim();
        match text.to_ascii_lowercase().as_str() {
            "" | "anyone" => return Ok((GroupSenders::Anyone, Vec::new())),
            "members" => return Ok((GroupSenders::Members, Vec::new())),
            "province" => return Ok((GroupSenders::Province, Vec::new())),
            _ => {}
        }
        let mut named: Vec<String> = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let address = EmailAddress::parse(item).map_err(|e| {
                Error::invalid(format!(
                    "--senders: {item:?} không phải địa chỉ thư / is not an address ({e}); \
                     anyone|members|province|ADDRESS,…"
                ))
            })?;
            let address = address.to_string();
            if !named.contains(&address) {
                named.push(address);
            }
        }
        if named.is_empty() {
            return Err(Error::invalid(
                "--senders: anyone|members|province|ADDRESS,…",
            ));
        }
        Ok((GroupSenders::Named, named))
    }

    /// Refuses an address already given: anything of the directory's namespace, a system
    /// name of `[naming] reserved`, another group.
    async fn check_group_address_free(&self, address: &EmailAddress) -> Result<()> {
        self.check_outside_directory(address).await?;
        if self
            .config
            .naming
            .reserved
            .iter()
            .any(|r| r.eq_ignore_ascii_case(address.local()))
        {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("{address} already exists: một tên hệ thống / a system name"),
            ));
        }
        Ok(())
    }

    /// The groups `actor` may see, by address: every group for the focal unit and an
    /// inspector; for a unit officer, the groups of units in their scope.
    pub async fn groups(&self, actor: &Actor) -> Result<Vec<GroupView>> {
        let units = self.store.units().await?;
        let mut out = Vec::new();
        for group in self.store.groups().await? {
            if !may_see(actor, &group, &units) {
                continue;
            }
            let unit = group
                .unit
                .and_then(|id| units.iter().find(|u| u.id == id).cloned());
            out.push(GroupView {
                group,
                unit,
                resolved: Vec::new(),
            });
        }
        Ok(out)
    }

    /// One group with its members as resolved now; `NotFound` for no group or one outside the
    /// actor's sight.
    pub async fn group_view(&self, actor: &Actor, address: &str) -> Result<GroupView> {
        let address = self.local_address(address)?.to_string();
        let units = self.store.units().await?;
        let group = self
            .store
            .group_by_address(&address)
            .await?
            .filter(|g| may_see(actor, g, &units))
            .ok_or_else(|| {
                Error::not_found(format!("{address}: không có nhóm này / no such group"))
            })?;
        let resolved = self
            .group_member_accounts(&group)
            .await?
            .into_iter()
            .map(|(_, a)| a)
            .collect();
        let unit = group
            .unit
            .and_then(|id| units.iter().find(|u| u.id == id).cloned());
        Ok(GroupView {
            group,
            unit,
            resolved,
        })
    }

    /// Deletes a group (audited as `group.delete`); mail already delivered stays where it is.
    pub async fn delete_group(&self, actor: &Actor, address: &str) -> Result<()> {
        let view = self.group_view(actor, address).await?;
        match view.group.unit {
            Some(unit) => self.authorize(actor, unit).await?,
            None => self.authorize_focal(actor)?,
        }
        let audit = [NewAudit {
            actor: actor.name.clone(),
            action: "group.delete".into(),
            target: format!("group:{}", view.group.address),
            before: Some(
                serde_json::json!({
                    "name": view.group.name,
                    "unit": view.unit.as_ref().map(|u| u.code.clone()),
                    "subtree": view.group.subtree,
                    "heads": view.group.heads,
                    "members": view.group.members,
                    "senders": senders_text(&view.group),
                })
                .to_string(),
            ),
            after: None,
        }];
        if self
            .store
            .delete_group(&view.group.address, now(), &audit)
            .await?
        {
            Ok(())
        } else {
            Err(Error::not_found(format!(
                "{}: không có nhóm này / no such group",
                view.group.address
            )))
        }
    }

    /// The group at a local address, if it is one.
    pub(crate) async fn group_at(&self, rcpt: &EmailAddress) -> Result<Option<GroupRecord>> {
        Ok(self.store.group_by_address(&rcpt.to_string()).await?)
    }

    /// The active mailboxes `group`'s mail goes to now, each once, by address.
    pub(crate) async fn group_member_accounts(
        &self,
        group: &GroupRecord,
    ) -> Result<Vec<(AccountId, String)>> {
        let mut out: Vec<(AccountId, String)> = Vec::new();
        if group.unit.is_some() || group.heads {
            let units: Option<Vec<UnitId>> = match group.unit {
                None => None,
                Some(root) if group.subtree => {
                    let all = self.store.units().await?;
                    Some(
                        all.iter()
                            .filter(|u| {
                                crate::admin::in_scope(crate::AdminScope::Unit(root), u.id, &all)
                            })
                            .map(|u| u.id)
                            .collect(),
                    )
                }
                Some(root) => Some(vec![root]),
            };
            out = self
                .store
                .directory_members(units.as_deref(), group.heads)
                .await?;
        }
        for member in &group.members {
            let Ok(address) = EmailAddress::parse(member) else {
                continue;
            };
            if let Some(account) = self.resolve_local(&address).await?
                && account.state == AccountState::Active
                && !out.iter().any(|(id, _)| *id == account.id)
            {
                out.push((account.id, account.address));
            }
        }
        out.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(out)
    }

    /// Why `group` refuses mail from `sender`, or `None` when it takes it.
    pub(crate) async fn group_sender_refusal(
        &self,
        group: &GroupRecord,
        sender: SenderContext<'_>,
    ) -> Result<Option<GroupRefusal>> {
        let g = &group.address;
        let refusal = |vi: &str, ascii_vi: &str, en: &str| GroupRefusal {
            text: format!("<{g}>: {vi} / {en}"),
            ascii: format!("<{g}>: {ascii_vi} / {en}"),
        };
        Ok(match group.senders {
            GroupSenders::Anyone => None,
            GroupSenders::Province => match sender.principal {
                Some(_) => None,
                None => Some(refusal(
                    "nhóm thư chỉ nhận thư của cán bộ trong tỉnh đã đăng nhập",
                    "nhom thu chi nhan thu cua can bo trong tinh da dang nhap",
                    "this group accepts mail only from the province's signed-in senders",
                )),
            },
            GroupSenders::Members => {
                let member = match sender.principal {
                    Some(p) => self
                        .group_member_accounts(group)
                        .await?
                        .iter()
                        .any(|(id, _)| *id == p.account),
                    None => false,
                };
                (!member).then(|| {
                    refusal(
                        "nhóm thư chỉ nhận thư của thành viên đã đăng nhập",
                        "nhom thu chi nhan thu cua thanh vien da dang nhap",
                        "this group accepts mail only from its members, signed in",
                    )
                })
            }
            GroupSenders::Named => {
                let mut allowed = false;
                for named in &group.named_senders {
                    let Ok(address) = EmailAddress::parse(named) else {
                        continue;
                    };
                    if self.is_local_domain(&address) {
                        // A local address is proved only by signing in as it.
                        if let Some(p) = sender.principal
                            && (p.address == address
                                || self
                                    .resolve_local(&address)
                                    .await?
                                    .is_some_and(|a| a.id == p.account))
                        {
                            allowed = true;
                        }
                    } else if sender.mail_from == Some(&address) {
                        allowed = true;
                    }
                    if allowed {
                        break;
                    }
                }
                (!allowed).then(|| {
                    refusal(
                        "người gửi không có trong danh sách được gửi tới nhóm thư này",
                        "nguoi gui khong co trong danh sach duoc gui toi nhom thu nay",
                        "the sender is not among those allowed to write to this group",
                    )
                })
            }
        })
    }
}

/// Whether `actor` sees `group`: the focal unit and an inspector see every group; a unit
/// officer the groups of units in their scope (never a province-wide or hand-made one).
fn may_see(actor: &Actor, group: &GroupRecord, units: &[UnitRecord]) -> bool {
    if actor.is_focal() || actor.is_inspector() {
        return true;
    }
    group
        .unit
        .is_some_and(|u| crate::admin::in_scope(actor.scope, u, units))
}

fn group_json(group: &NewGroup, unit: Option<&UnitRecord>) -> serde_json::Value {
    serde_json::json!({
        "name": group.name,
        "unit": unit.map(|u| u.code.clone()),
        "subtree": group.subtree,
        "heads": group.heads,
        "members": group.members,
        "senders": match group.senders {
            GroupSenders::Named => group.named_senders.join(","),
            other => other.as_str().to_string(),
        },
    })
}
