//! Administrators (Đ4, Đ8): the focal unit's operators, who see and decide everything, and unit
//! IT officers, each confined to their unit's subtree.
//!
//! [`Core::authorize`] is THE scope check: every API handler and CLI command that reads or
//! changes a unit's data passes through it (directly or through the lifecycle services).

use hopthu_model::UnitId;
use hopthu_store::UnitRecord;
pub use hopthu_store::{AdminRecord, AdminScope, NewAudit};

use crate::{Core, Error, ErrorKind, Principal, Result, now};

/// Who acts, with what scope: a signed-in administrator, or the operator at the server's
/// console (the CLI, which has the data directory and so the focal unit's powers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// For the audit log: the administrator's address, or `cli:<user>`.
    pub name: String,
    pub scope: AdminScope,
}

impl Actor {
    /// The console operator (`hopthu admin|lifecycle …`).
    pub fn console() -> Actor {
        let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
        Actor {
            name: format!("cli:{user}"),
            scope: AdminScope::Focal,
        }
    }

    pub fn is_focal(&self) -> bool {
        self.scope == AdminScope::Focal
    }

    /// An inspector (Đ16): reads what the focal unit reads, changes nothing.
    pub fn is_inspector(&self) -> bool {
        self.scope == AdminScope::Inspector
    }
}

/// An inspector's attempt to change something.
fn inspector_refused() -> Error {
    Error::forbidden(
        "thanh tra chỉ được xem, không được thay đổi / an inspector reads, and changes nothing",
    )
}

/// True when `unit` lies in `scope` (the focal unit's scope is everything; a unit officer's is
/// their unit and its descendants). `units` is the whole tree.
pub fn in_scope(scope: AdminScope, unit: UnitId, units: &[UnitRecord]) -> bool {
    let AdminScope::Unit(root) = scope else {
        return true;
    };
    let mut current = Some(unit);
    // The tree has no cycles by construction; the bound guards against corrupt data.
    for _ in 0..=units.len() {
        match current {
            Some(u) if u == root => return true,
            Some(u) => current = units.iter().find(|r| r.id == u).and_then(|r| r.parent),
            None => return false,
        }
    }
    false
}

impl Core {
    /// The administrator a signed-in principal is; [`ErrorKind::Forbidden`] for anyone else,
    /// and for an administrator still on a one-time password (Đ13.4: it must be changed in the
    /// webmail before the mailbox — and so the administrator's rights — is used).
    pub async fn actor(&self, who: &Principal) -> Result<Actor> {
        if who.must_change_password {
            return Err(Error::forbidden(format!(
                "phải đổi mật khẩu cấp lần đầu tại https://{host}/ trước / change the one-time password at https://{host}/ first",
                host = self.config.hostname
            )));
        }
        match self.store.admin(who.account).await? {
            Some(admin) => Ok(Actor {
                name: who.address.to_string(),
                scope: admin.scope,
            }),
            None => Err(Error::forbidden(
                "không có quyền quản trị / not an administrator",
            )),
        }
    }

    /// THE scope check: may `actor` act on `unit`? [`ErrorKind::Forbidden`] when not, and
    /// always for an inspector, who changes nothing: a read that an inspector may make goes
    /// through [`Core::authorize_read`] instead.
    pub async fn authorize(&self, actor: &Actor, unit: UnitId) -> Result<()> {
        if actor.is_inspector() {
            return Err(inspector_refused());
        }
        self.authorize_read(actor, unit).await
    }

    /// May `actor` read `unit`'s administrative data (its people, requests, notices, unit
    /// mailbox's delegates and log, documents)? An inspector reads every unit's.
    pub async fn authorize_read(&self, actor: &Actor, unit: UnitId) -> Result<()> {
        if actor.is_focal() || actor.is_inspector() {
            return Ok(());
        }
        let units = self.store.units().await?;
        if in_scope(actor.scope, unit, &units) {
            Ok(())
        } else {
            Err(Error::forbidden(
                "đơn vị ngoài phạm vi quản lý / unit outside your scope",
            ))
        }
    }

    /// Only the focal unit may do this (approve, grant, import, sweep).
    pub fn authorize_focal(&self, actor: &Actor) -> Result<()> {
        if actor.is_focal() {
            Ok(())
        } else if actor.is_inspector() {
            Err(inspector_refused())
        } else {
            Err(Error::forbidden(
                "chỉ đơn vị đầu mối / only the focal unit may do this",
            ))
        }
    }

    /// Reads of the whole province that only oversight makes: the focal unit or an inspector
    /// (the audit log, the administrators).
    pub fn authorize_oversight(&self, actor: &Actor) -> Result<()> {
        if actor.is_focal() || actor.is_inspector() {
            Ok(())
        } else {
            Err(Error::forbidden(
                "chỉ đơn vị đầu mối hoặc thanh tra / only the focal unit or an inspector may read this",
            ))
        }
    }

    /// The units `actor` may see, by id.
    pub async fn units_in_scope(&self, actor: &Actor) -> Result<Vec<UnitRecord>> {
        let units = self.store.units().await?;
        Ok(units
            .iter()
            .filter(|u| in_scope(actor.scope, u.id, &units))
            .cloned()
            .collect())
    }

    /// A unit by its code.
    pub async fn unit_by_code(&self, code: &str) -> Result<UnitRecord> {
        self.store
            .units()
            .await?
            .into_iter()
            .find(|u| u.code == code.trim())
            .ok_or_else(|| Error::not_found(format!("không có đơn vị / no unit {code:?}")))
    }

    /// Makes `address` an administrator: of the focal unit (`unit` = None) or of a unit's
    /// subtree. Focal only.
    pub async fn grant_admin(
        &self,
        actor: &Actor,
        address: &str,
        unit: Option<&str>,
    ) -> Result<AdminRecord> {
        self.authorize_focal(actor)?;
        let scope = match unit {
            None => AdminScope::Focal,
            Some(code) => AdminScope::Unit(self.unit_by_code(code).await?.id),
        };
        self.grant_scope(actor, address, scope).await
    }

    /// Makes `address` an inspector (Đ16): reads the audit log, the reports, the directory and
    /// every unit's lifecycle history; changes nothing. Focal only.
    pub async fn grant_inspector(&self, actor: &Actor, address: &str) -> Result<AdminRecord> {
        self.authorize_focal(actor)?;
        self.grant_scope(actor, address, AdminScope::Inspector)
            .await
    }

    async fn grant_scope(
        &self,
        actor: &Actor,
        address: &str,
        scope: AdminScope,
    ) -> Result<AdminRecord> {
        let address = self.local_address(address)?;
        let account = self
            .store
            .account_by_address(&address.to_string())
            .await?
            .ok_or_else(|| Error::not_found(format!("{address}: không có hộp thư / no mailbox")))?;
        self.check_person_or_exception(&address.to_string(), account.id)
            .await?;
        let before = self.store.admin(account.id).await?;
        let at = now();
        let audit = [NewAudit {
            actor: actor.name.clone(),
            action: "admin.grant".into(),
            target: format!("account:{address}"),
            before: before.as_ref().map(|b| scope_json(b.scope)),
            after: Some(scope_json(scope)),
        }];
        self.store
            .grant_admin(account.id, scope, &actor.name, at, &audit)
            .await?;
        self.store
            .admin(account.id)
            .await?
            .ok_or_else(|| Error::new(ErrorKind::Internal, "granted admin not found"))
    }

    /// One address per person (Đ7): an administrator is a person of the directory (their own
    /// personal mailbox) or an account recorded as an exception (`hopthu account add …
    /// --exception`); a unit's mailbox or a bare account is refused.
    async fn check_person_or_exception(
        &self,
        address: &str,
        account: hopthu_model::AccountId,
    ) -> Result<()> {
        let person = self
            .store
            .people()
            .await?
            .into_iter()
            .any(|p| p.account == Some(account));
        if person
            || self
                .store
                .account_exceptions()
                .await?
                .iter()
                .any(|e| e.account == account)
        {
            return Ok(());
        }
        Err(Error::invalid(format!(
            "{address}: không phải một người trong danh bạ hay một ngoại lệ đã ghi; hãy tạo bằng `hopthu account add --unit MÃ --full-name …` hoặc ghi ngoại lệ `hopthu account add ĐỊA_CHỈ --name … --exception LÝ_DO` / not a person of the directory nor a recorded exception: add them with `hopthu account add --unit CODE --full-name …`, or record an exception with `hopthu account add ADDRESS --name … --exception REASON`"
        )))
    }

    /// Takes the administrator role away. Focal only.
    pub async fn revoke_admin(&self, actor: &Actor, address: &str) -> Result<()> {
        self.authorize_focal(actor)?;
        let address = self.local_address(address)?;
        let account = self
            .store
            .account_by_address(&address.to_string())
            .await?
            .ok_or_else(|| Error::not_found(format!("{address}: không có hộp thư / no mailbox")))?;
        let before = self.store.admin(account.id).await?;
        let audit = [NewAudit {
            actor: actor.name.clone(),
            action: "admin.revoke".into(),
            target: format!("account:{address}"),
            before: before.as_ref().map(|b| scope_json(b.scope)),
            after: None,
        }];
        if self.store.revoke_admin(account.id, now(), &audit).await? {
            Ok(())
        } else {
            Err(Error::not_found(format!(
                "{address}: không phải quản trị / not an administrator"
            )))
        }
    }

    /// Every administrator. Focal only.
    pub async fn admins(&self, actor: &Actor) -> Result<Vec<AdminRecord>> {
        self.authorize_oversight(actor)?;
        Ok(self.store.admins().await?)
    }
}

fn scope_json(scope: AdminScope) -> String {
    match scope {
        AdminScope::Focal => r#"{"scope":"focal"}"#.into(),
        AdminScope::Unit(u) => format!(r#"{{"scope":"unit","unit_id":{}}}"#, u.0),
        AdminScope::Inspector => r#"{"scope":"inspector"}"#.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(id: i64, parent: Option<i64>) -> UnitRecord {
        UnitRecord {
            id: UnitId(id),
            code: format!("U{id}"),
            kind: "commune".into(),
            name: format!("U{id}"),
            parent: parent.map(UnitId),
            address: format!("u{id}@x"),
            account: None,
            head: None,
            created_at: 0,
            last_access_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn a_unit_officer_sees_only_their_subtree() {
        let units = [
            unit(1, None),
            unit(2, Some(1)),
            unit(3, Some(2)),
            unit(4, None),
        ];
        let scope = AdminScope::Unit(UnitId(2));
        assert!(in_scope(scope, UnitId(2), &units));
        assert!(in_scope(scope, UnitId(3), &units));
        assert!(!in_scope(scope, UnitId(1), &units));
        assert!(!in_scope(scope, UnitId(4), &units));
        assert!(!in_scope(scope, UnitId(99), &units));
        assert!(in_scope(AdminScope::Focal, UnitId(4), &units));
    }

    #[test]
    fn a_cycle_does_not_loop() {
        let units = [unit(1, Some(2)), unit(2, Some(1))];
        assert!(!in_scope(AdminScope::Unit(UnitId(3)), UnitId(1), &units));
    }
}
