//! Services of the admin console beside the lifecycle's: a unit looked up within the actor's
//! scope, the password reset (a one-time password, Đ13.4), the inactivity outlook (who the sweep
//! will revoke when, Đ8.3) and the import for a signed-in administrator, with a digest that ties
//! a confirmation to the exact plan that was shown.
//!
//! Every check is [`Core::authorize`] / [`Core::authorize_focal`]; the web handlers only render.

use std::sync::Arc;

use hopthu_store::{LifecycleEffect, LifecycleWrite};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::directory::{
    Credential, ImportApplied, ImportError, ImportPlan, ImportProgress, ImportRequest, MailboxKind,
    PersonState, UnitRecord,
};
use crate::{Actor, AdminScope, Core, Error, ErrorKind, Result, Secret, generate_password, now};

const DAY: i64 = 86_400;

/// One active personal mailbox and when the inactivity sweep revokes it if nobody signs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutlookItem {
    pub address: String,
    pub full_name: String,
    pub unit_code: String,
    /// The start of the inactivity: last access or creation (Unix seconds).
    pub since: i64,
    /// When the sweep revokes the mailbox.
    pub deadline: i64,
    /// Whole days left (0 when overdue: the next sweep revokes it).
    pub days_left: i64,
    /// Inside the warning window (the first of `warn_days`).
    pub warned: bool,
}

/// A unit mailbox that nobody (its own password, its owner or a delegate) opened for long:
/// never, or not within the warning window of `inactivity_days`; or one the sweep revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitOutlookItem {
    pub address: String,
    pub unit_code: String,
    pub unit_name: String,
    /// The last opening (Unix seconds); `None`: never opened.
    pub last_opened: Option<i64>,
    /// Whole days since the last opening, or since the unit mailbox was made.
    pub idle_days: i64,
    /// When the sweep revokes it (`[lifecycle] sweep_unit_mailboxes = true`); `None` when unit
    /// mailboxes are exempt.
    pub deadline: Option<i64>,
    /// When the sweep revoked it.
    pub revoked_at: Option<i64>,
}

/// The inactivity deadline of a mailbox: the sweep's own rule (`sweep.rs`).
pub fn inactivity_deadline(created_at: i64, last_access_at: Option<i64>, days: u32) -> (i64, i64) {
    let since = last_access_at.unwrap_or(created_at).max(created_at);
    (since, since + i64::from(days) * DAY)
}

/// A digest of what a plan shows (every row, in order): a confirmation carries the digest of
/// the table the operator saw, and the import applies only if planning again gives the same.
pub fn plan_digest(plan: &ImportPlan) -> String {
    let mut h = Sha256::new();
    for row in &plan.rows {
        h.update(format!("{row:?}").as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

impl Core {
    /// A unit by its code, if the actor may see it ([`ErrorKind::Forbidden`] otherwise).
    pub async fn unit_in_scope(&self, actor: &Actor, code: &str) -> Result<UnitRecord> {
        let unit = self.unit_by_code(code).await?;
        self.authorize_read(actor, unit.id).await?;
        Ok(unit)
    }

    /// The active personal mailboxes in the actor's scope with their inactivity deadline as of
    /// `as_of`, soonest first.
    pub async fn inactivity_outlook(&self, actor: &Actor, as_of: i64) -> Result<Vec<OutlookItem>> {
        let cfg = &self.config.lifecycle;
        // The earliest warning (the list is descending).
        let first_warning = cfg.warn_days.first().copied().unwrap_or(0);
        let units = self.store.units().await?;
        let mut items: Vec<OutlookItem> = self
            .people_in_scope(actor)
            .await?
            .into_iter()
            .filter(|p| p.state == PersonState::Active && p.account.is_some())
            .map(|p| {
                let (since, deadline) =
                    inactivity_deadline(p.created_at, p.last_access_at, cfg.inactivity_days);
                let days_left = ((deadline - as_of).max(0) + DAY - 1) / DAY;
                OutlookItem {
                    unit_code: units
                        .iter()
                        .find(|u| u.id == p.unit)
                        .map(|u| u.code.clone())
                        .unwrap_or_default(),
                    address: p.address,
                    full_name: p.full_name,
                    since,
                    deadline,
                    days_left,
                    warned: deadline - as_of <= i64::from(first_warning) * DAY,
                }
            })
            .collect();
        items.sort_by(|a, b| a.deadline.cmp(&b.deadline).then(a.address.cmp(&b.address)));
        Ok(items)
    }

    /// The unit mailboxes in the actor's scope that nobody opened for long ([`UnitOutlookItem`]),
    /// longest idle first: the outlook's second table, whether or not the sweep covers unit
    /// mailboxes (`[lifecycle] sweep_unit_mailboxes`).
    pub async fn unit_mailbox_outlook(
        &self,
        actor: &Actor,
        as_of: i64,
    ) -> Result<Vec<UnitOutlookItem>> {
        let cfg = &self.config.lifecycle;
        let first_warning = i64::from(cfg.warn_days.first().copied().unwrap_or(0));
        let mut items: Vec<UnitOutlookItem> = self
            .units_in_scope(actor)
            .await?
            .into_iter()
            .filter(|u| u.account.is_some())
            .filter_map(|u| {
                let (since, deadline) =
                    inactivity_deadline(u.created_at, u.last_access_at, cfg.inactivity_days);
                let idle = u.revoked_at.is_some()
                    || u.last_access_at.is_none()
                    || deadline - as_of <= first_warning * DAY;
                idle.then(|| UnitOutlookItem {
                    idle_days: (as_of - since).max(0) / DAY,
                    deadline: cfg.sweep_unit_mailboxes.then_some(deadline),
                    address: u.address,
                    unit_code: u.code,
                    unit_name: u.name,
                    last_opened: u.last_access_at,
                    revoked_at: u.revoked_at,
                })
            })
            .collect();
        items.sort_by(|a, b| {
            b.idle_days
                .cmp(&a.idle_days)
                .then(a.unit_code.cmp(&b.unit_code))
        });
        Ok(items)
    }

    /// Gives a personal or unit mailbox in the actor's scope a fresh one-time password, to be
    /// changed at the next sign-in (Đ13.4), and ends the mailbox's web sessions. The password is
    /// returned once and kept only hashed. A reset never reaches an account with more rights
    /// than the actor's ([`Core::may_reset`]), and the owner finds a message about it in their
    /// INBOX. A mailbox locked as compromised (Đ13.4, `compromised.rs`) is reset only with
    /// the agency's written `confirmation`, which is kept and resolves its incident in the
    /// same transaction; without it the reset is refused and nothing changes.
    pub async fn reset_password(
        &self,
        actor: &Actor,
        address: &str,
        confirmation: Option<crate::compromised::ConfirmationFile>,
    ) -> Result<Credential> {
        let address = self.local_address(address)?.to_string();
        let units = self.store.units().await?;
        let person = self
            .store
            .people()
            .await?
            .into_iter()
            .find(|p| p.address == address);
        let (unit, account, kind, name, position) = match person {
            Some(p) => {
                if p.state != PersonState::Active {
                    return Err(Error::invalid(format!(
                        "{address}: hộp thư không hoạt động, hãy cấp lại / not active: re-issue it instead"
                    )));
                }
                let account = p.account.ok_or_else(|| {
                    Error::invalid(format!("{address}: chưa có hộp thư / no mailbox"))
                })?;
                (
                    p.unit,
                    account,
                    MailboxKind::Person,
                    p.full_name,
                    p.position,
                )
            }
            None => {
                let u = units.iter().find(|u| u.address == address).ok_or_else(|| {
                    Error::not_found(format!(
                        "{address}: không có trong danh bạ / not in the directory"
                    ))
                })?;
                let account = u.account.ok_or_else(|| {
                    Error::invalid(format!("{address}: chưa có hộp thư / no mailbox"))
                })?;
                (u.id, account, MailboxKind::Unit, u.name.clone(), None)
            }
        };
        self.authorize(actor, unit).await?;
        self.may_reset(actor, &address, account, unit, &units)
            .await?;
        let unit = units
            .iter()
            .find(|u| u.id == unit)
            .ok_or_else(|| Error::new(ErrorKind::Internal, "unit of a mailbox not found"))?;
        let resolution = self
            .compromise_resolution(&actor.name, &address, confirmation)
            .await?;
        let password = generate_password();
        let hash = self
            .hash_in_turn(password.clone(), Secret::Generated)
            .await?;
        self.write_password(
            actor,
            "account.reset_password",
            (account, &address),
            (hash, true),
            resolution,
        )
        .await?;
        self.tell_owner_of_reset(actor, &address).await;
        Ok(Credential {
            unit_code: unit.code.clone(),
            unit_name: unit.name.clone(),
            kind,
            name,
            position,
            address,
            password,
        })
    }

    /// Whether `actor` may reset the password of `account` (`address`, of unit `unit`, already
    /// in the actor's scope): whoever resets a password can sign in as its owner, so a reset may
    /// not reach wider rights than the actor's own. Refused ([`ErrorKind::Forbidden`]):
    /// - the focal unit's mailboxes (its unit mailbox and its people), unless the actor is of
    ///   the focal unit;
    /// - another administrator whose scope is not strictly inside the actor's: a focal
    ///   administrator, or an officer of the same or a wider subtree (an administrator's own
    ///   password is theirs to reset).
    pub(crate) async fn may_reset(
        &self,
        actor: &Actor,
        address: &str,
        account: hopthu_model::AccountId,
        unit: hopthu_model::UnitId,
        units: &[UnitRecord],
    ) -> Result<()> {
        let refused = || {
            Error::forbidden(format!(
                "{address}: tài khoản có quyền rộng hơn hoặc ngang quyền của bạn, hãy đề nghị đơn vị đầu mối / an account with rights beyond yours: ask the focal unit"
            ))
        };
        let focal_unit = self
            .config
            .lifecycle
            .focal_unit
            .as_deref()
            .and_then(|code| units.iter().find(|u| u.code == code))
            .map(|u| u.id);
        if !actor.is_focal() && focal_unit == Some(unit) {
            return Err(refused());
        }
        // Đ12: a unit mailbox and the head who owns it are the unit's authority; a unit IT
        // officer resetting either could take the unit's mail over. The focal unit may.
        if !actor.is_focal()
            && (units.iter().any(|u| u.account == Some(account))
                || self.heads_a_unit(account).await?)
        {
            return Err(Error::forbidden(format!(
                "{address}: hộp thư đơn vị hoặc của lãnh đạo đơn vị chỉ đơn vị đầu mối được cấp lại mật khẩu / only the focal unit may reset a unit mailbox's or a unit head's password"
            )));
        }
        if actor.name.eq_ignore_ascii_case(address) {
            return Ok(());
        }
        let Some(admin) = self.store.admin(account).await? else {
            return Ok(());
        };
        let narrower = match (actor.scope, admin.scope) {
            (_, AdminScope::Focal) => false,
            (AdminScope::Focal, AdminScope::Unit(_) | AdminScope::Inspector) => true,
            (_, AdminScope::Inspector) | (AdminScope::Inspector, _) => false,
            (AdminScope::Unit(mine), AdminScope::Unit(theirs)) => {
                theirs != mine && crate::admin::in_scope(actor.scope, theirs, units)
            }
        };
        if narrower { Ok(()) } else { Err(refused()) }
    }

    /// Whether `account` is the head of a unit (so owns its mailbox).
    async fn heads_a_unit(&self, account: hopthu_model::AccountId) -> Result<bool> {
        Ok(!self.store.owned_unit_mailboxes(account).await?.is_empty())
    }

    /// Tells the owner of a mailbox whose password was just reset, in their INBOX (Vietnamese,
    /// then English): who did it and when, and what to do if they did not ask for it. A failed
    /// delivery is logged; the reset stands.
    async fn tell_owner_of_reset(&self, actor: &Actor, address: &str) {
        let Ok(to) = hopthu_model::EmailAddress::parse(address) else {
            return;
        };
        let (focal_name, focal_address) = self.notice_issuer().await;
        let at = crate::dsn::rfc2822_date(now());
        let by = actor.name.replace(['\r', '\n'], " ");
        let body = format!(
            "Mật khẩu của hộp thư {address} đã được cấp lại bởi {by} lúc {at}.\r\n\
             Mọi phiên đăng nhập trên web đã kết thúc; mật khẩu mới là mật khẩu dùng một lần, phải đổi ngay khi đăng nhập.\r\n\
             Nếu bạn không đề nghị cấp lại mật khẩu, hãy báo ngay cho {focal_name} <{focal_address}>.\r\n\
             \r\n\
             The password of the mailbox {address} was reset by {by} at {at}.\r\n\
             Every web session has ended; the new password is a one-time password that must be changed at the first sign-in.\r\n\
             If you did not ask for this, tell {focal_name} <{focal_address}> at once.\r\n"
        );
        let message = crate::dsn::system_message(
            &self.config.domain,
            &self.config.hostname,
            &format!("<{to}>"),
            "Mật khẩu hộp thư đã được cấp lại / Your mailbox password was reset",
            "password-reset",
            &body,
        );
        let envelope = crate::Envelope {
            mail_from: None,
            recipients: vec![to],
            dsn: None,
        };
        if let Err(e) = self.deliver(&envelope, message).await {
            tracing::warn!(%address, error = %e, "password reset notice not delivered");
        }
    }

    /// Writes a new password (`effects`) with its audit entry in one transaction, then signs
    /// out every web session of the account (IMAP and POP3 sessions notice the new hash by
    /// themselves, `Core::still_valid`).
    pub(crate) async fn replace_password(
        &self,
        account: hopthu_model::AccountId,
        effects: &[LifecycleEffect],
        audit: &[crate::NewAudit],
    ) -> Result<()> {
        self.store
            .write_lifecycle(&LifecycleWrite {
                at: now(),
                decision: None,
                effects,
                warnings: &[],
                audit,
            })
            .await?;
        self.store.delete_web_sessions_of(account, None).await?;
        Ok(())
    }

    /// [`Core::plan_import`] for a signed-in administrator: the focal unit only (an import
    /// creates units anywhere in the tree).
    pub async fn plan_import_as(
        &self,
        actor: &Actor,
        request: &ImportRequest,
    ) -> std::result::Result<ImportPlan, ImportError> {
        self.authorize_focal(actor)?;
        self.plan_import(request).await
    }

    /// Plans `request` again and applies it only when the plan is still the one shown
    /// (`digest` from [`plan_digest`]); otherwise nothing is written. Focal only.
    pub async fn apply_import_as(
        &self,
        actor: &Actor,
        request: &ImportRequest,
        digest: &str,
    ) -> std::result::Result<ImportApplied, ImportError> {
        let plan = self.plan_import_as(actor, request).await?;
        if plan_digest(&plan) != digest {
            return Err(ImportError::Failed(Error::new(
                ErrorKind::AlreadyExists,
                "danh bạ đã thay đổi từ lúc xem trước, hãy xem lại / the directory changed since the preview; review it again",
            )));
        }
        let noop: Arc<dyn Fn(ImportProgress) + Send + Sync> = Arc::new(|_| {});
        Ok(self.apply_import(actor, plan, noop).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_counts_from_the_later_of_creation_and_access() {
        assert_eq!(inactivity_deadline(100, None, 1), (100, 100 + DAY));
        assert_eq!(inactivity_deadline(100, Some(50), 1), (100, 100 + DAY));
        assert_eq!(inactivity_deadline(100, Some(500), 2), (500, 500 + 2 * DAY));
    }
}
