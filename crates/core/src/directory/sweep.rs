//! The inactivity sweep (Đ8.3): a personal mailbox without any successful sign-in (IMAP, POP3,
//! SMTP AUTH, web) for `inactivity_days` since its creation, its last access or its re-issue is
//! revoked; the person and their unit are warned `warn_days` before. `serve` runs it every
//! `sweep_interval`; `hopthu lifecycle sweep --as-of DATE [--dry-run]` runs it once.
//!
//! Unit mailboxes are swept only with `[lifecycle] sweep_unit_mailboxes = true` (they receive the
//! notices and official documents): then nobody opening one (its own password, its owner or a
//! delegate) for `inactivity_days` warns the unit and its head, then revokes it until a head
//! change re-opens it; its data is never purged. Each warning is sent once per access
//! period (recorded in the same transaction as the revocations and audit rows); when a sweep
//! runs late and several warnings are due, only the most urgent is sent.

use hopthu_model::AccountId;
use hopthu_store::{LifecycleEffect, LifecycleWrite};
use serde::Serialize;

use super::notice::{NoticeKind, NoticeLine, NoticeMail};
use super::{PersonState, UnitRecord};
use crate::{Actor, Core, NewAudit, Result};

const DAY: i64 = 86_400;

/// One mailbox the sweep warned or revoked.
#[derive(Debug, Clone, Serialize)]
pub struct SweepItem {
    pub address: String,
    pub full_name: String,
    pub unit_code: String,
    /// The start of the inactivity: last access, creation or re-issue (Unix seconds).
    pub since: i64,
    /// When the mailbox is (or was) revoked.
    pub deadline: i64,
    /// Whole days left before the revocation (0 when revoked).
    pub days_left: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SweepReport {
    pub as_of: i64,
    pub dry_run: bool,
    pub warned: Vec<SweepItem>,
    pub revoked: Vec<SweepItem>,
    /// Revoked mailboxes whose retention is over: data deleted, address kept reserved.
    pub purged: Vec<SweepItem>,
    /// Messages deleted from Trash and Junk after `[lifecycle] trash_days`/`junk_days`
    /// (0 in a dry run).
    pub emptied: u64,
}

/// Formats a time as a Vietnamese date (dd/mm/yyyy, UTC+7).
fn vn_date(t: i64) -> String {
    let offset = chrono::FixedOffset::east_opt(7 * 3600).expect("valid offset");
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.with_timezone(&offset).format("%d/%m/%Y").to_string())
        .unwrap_or_default()
}

/// The audit row of a revocation by the sweep.
fn revoke_audit(actor: &Actor, target: String, since: i64) -> NewAudit {
    NewAudit {
        actor: actor.name.clone(),
        action: "sweep.revoke".into(),
        target,
        before: Some(serde_json::json!({"state": "active", "since": since}).to_string()),
        after: Some(serde_json::json!({"state": "revoked", "reason": "inactivity"}).to_string()),
    }
}

/// The audit row of a warning by the sweep.
fn warn_audit(actor: &Actor, target: String, days_left: i64, deadline: i64) -> NewAudit {
    NewAudit {
        actor: actor.name.clone(),
        action: "sweep.warn".into(),
        target,
        before: None,
        after: Some(serde_json::json!({"days_left": days_left, "deadline": deadline}).to_string()),
    }
}

/// How far ahead of this server's clock a requested sweep date may be (clock skew of the
/// caller's machine).
const CLOCK_SKEW: i64 = 60;

impl Core {
    /// The date a sweep asked for over the network runs as of: now when none is given. A date
    /// in the future is only for a dry run (a forecast): a real sweep dated ahead would revoke,
    /// purge and empty at once everything not yet due. (`hopthu lifecycle sweep --as-of`, run by
    /// the operator on the server, may still look ahead.)
    pub fn requested_sweep_date(&self, as_of: Option<i64>, dry_run: bool) -> Result<i64> {
        let now = crate::now();
        match as_of {
            None => Ok(now),
            Some(t) if !dry_run && t > now + CLOCK_SKEW => Err(crate::Error::invalid(format!(
                "as_of {t} nằm trong tương lai: chỉ được dùng với dry_run / is in the future: only a dry run may look ahead"
            ))),
            Some(t) => Ok(t),
        }
    }

    /// Runs the sweep as of `as_of` (Unix seconds). With `dry_run`, reports and changes nothing.
    /// Focal only.
    pub async fn sweep_inactive(
        &self,
        actor: &Actor,
        as_of: i64,
        dry_run: bool,
    ) -> Result<SweepReport> {
        self.authorize_focal(actor)?;
        let emptied = if dry_run {
            0
        } else {
            self.empty_trash(as_of).await?
        };
        let cfg = &self.config.lifecycle;
        let units = self.store.units().await?;
        let sent = self.store.inactivity_warnings().await?;
        let mut report = SweepReport {
            as_of,
            dry_run,
            warned: Vec::new(),
            revoked: Vec::new(),
            purged: Vec::new(),
            emptied,
        };
        let revoked_at = self.store.revoked_accounts().await?;
        let retention = i64::from(cfg.retention_days) * DAY;
        let mut effects = Vec::new();
        let mut warnings: Vec<(AccountId, i64, u32)> = Vec::new();
        let mut audit = Vec::new();
        let mut revoked_people = Vec::new();
        let mut warned_people = Vec::new();
        // The warnings due for an access period and not yet sent, most urgent first; `None`
        // when the most urgent due one was sent already (or none is due).
        let unsent_warnings = |account: AccountId, since: i64, days_left: i64| {
            let due: Vec<u32> = cfg
                .warn_days
                .iter()
                .copied()
                .filter(|w| days_left <= i64::from(*w))
                .collect();
            let unsent: Vec<u32> = due
                .iter()
                .copied()
                .filter(|w| {
                    !sent
                        .iter()
                        .any(|s| s.account == account && s.since == since && s.days == *w)
                })
                .collect();
            // Only the most urgent due warning is sent, and only if it was not sent already.
            let most_urgent = due.iter().min().copied()?;
            unsent.contains(&most_urgent).then_some(unsent)
        };
        let people = self.store.people().await?;
        for person in people.iter().cloned() {
            let Some(account) = person.account else {
                continue;
            };
            if person.state == PersonState::Revoked {
                // Data kept for the person until the retention is over, then deleted.
                if let Some((_, at)) = revoked_at.iter().find(|(a, _)| *a == account)
                    && as_of >= at + retention
                {
                    report.purged.push(SweepItem {
                        address: person.address.clone(),
                        full_name: person.full_name.clone(),
                        unit_code: units
                            .iter()
                            .find(|u| u.id == person.unit)
                            .map(|u| u.code.clone())
                            .unwrap_or_default(),
                        since: *at,
                        deadline: at + retention,
                        days_left: 0,
                    });
                    effects.push(LifecycleEffect::PurgeMailbox { person: person.id });
                    audit.push(NewAudit {
                        actor: actor.name.clone(),
                        action: "sweep.purge".into(),
                        target: format!("person:{}", person.address),
                        before: Some(
                            serde_json::json!({"state": "revoked", "revoked_at": at}).to_string(),
                        ),
                        after: Some(serde_json::json!({"state": "reserved"}).to_string()),
                    });
                }
                continue;
            }
            if person.state != PersonState::Active {
                continue;
            }
            let since = person
                .last_access_at
                .unwrap_or(person.created_at)
                .max(person.created_at);
            let deadline = since + i64::from(cfg.inactivity_days) * DAY;
            let unit_code = units
                .iter()
                .find(|u| u.id == person.unit)
                .map(|u| u.code.clone())
                .unwrap_or_default();
            let item = |days_left| SweepItem {
                address: person.address.clone(),
                full_name: person.full_name.clone(),
                unit_code: unit_code.clone(),
                since,
                deadline,
                days_left,
            };
            if as_of >= deadline {
                report.revoked.push(item(0));
                effects.push(LifecycleEffect::SetPersonState {
                    person: person.id,
                    state: PersonState::Revoked,
                });
                audit.push(revoke_audit(
                    actor,
                    format!("person:{}", person.address),
                    since,
                ));
                revoked_people.push(person);
                continue;
            }
            let days_left = (deadline - as_of + DAY - 1) / DAY;
            let Some(unsent) = unsent_warnings(account, since, days_left) else {
                continue;
            };
            report.warned.push(item(days_left));
            for w in unsent {
                warnings.push((account, since, w));
            }
            audit.push(warn_audit(
                actor,
                format!("person:{}", person.address),
                days_left,
                deadline,
            ));
            warned_people.push((person, deadline));
        }
        // Unit mailboxes only by the configured rule (`[lifecycle] sweep_unit_mailboxes`): by
        // default they are exempt, as they receive the notices and official documents. Their
        // access is any opening by their own password, owner or delegate; a revoked one is
        // re-opened by a head change, and its data is never purged by the sweep.
        let mut warned_units = Vec::new();
        let mut revoked_units = Vec::new();
        for unit in units.iter().filter(|_| cfg.sweep_unit_mailboxes) {
            let Some(account) = unit.account else {
                continue;
            };
            if unit.revoked_at.is_some() {
                continue;
            }
            let (since, deadline) = crate::console::inactivity_deadline(
                unit.created_at,
                unit.last_access_at,
                cfg.inactivity_days,
            );
            let item = |days_left| SweepItem {
                address: unit.address.clone(),
                full_name: unit.name.clone(),
                unit_code: unit.code.clone(),
                since,
                deadline,
                days_left,
            };
            let target = format!("unit_mailbox:{}", unit.address);
            if as_of >= deadline {
                report.revoked.push(item(0));
                effects.push(LifecycleEffect::SetUnitMailboxOpen {
                    unit: unit.id,
                    open: false,
                });
                audit.push(revoke_audit(actor, target, since));
                revoked_units.push(unit);
                continue;
            }
            let days_left = (deadline - as_of + DAY - 1) / DAY;
            let Some(unsent) = unsent_warnings(account, since, days_left) else {
                continue;
            };
            report.warned.push(item(days_left));
            for w in unsent {
                warnings.push((account, since, w));
            }
            audit.push(warn_audit(actor, target, days_left, deadline));
            warned_units.push((unit, since, deadline));
        }
        if dry_run || (effects.is_empty() && warnings.is_empty()) {
            return Ok(report);
        }
        self.store
            .write_lifecycle(&LifecycleWrite {
                at: crate::now(),
                decision: None,
                effects: &effects,
                warnings: &warnings,
                audit: &audit,
            })
            .await?;

        // After the commit: a warning to each person, one list per unit, notices per unit.
        let (issuer, from) = self.notice_issuer().await;
        let subject =
            "Cảnh báo thu hồi hộp thư điện tử do không sử dụng / Inactive mailbox warning";
        let mut unit_lists: Vec<(&UnitRecord, String)> = Vec::new();
        for (person, deadline) in &warned_people {
            let since = vn_date(person.last_access_at.unwrap_or(person.created_at));
            let deadline = vn_date(*deadline);
            let text = format!(
                "Hộp thư {address} ({name}) chưa được sử dụng từ ngày {since}.\n\
                 Theo Điều 8 Quy chế sử dụng thư điện tử, hộp thư sẽ bị thu hồi vào ngày \
                 {deadline} nếu không được đăng nhập trước ngày đó (IMAP, POP3, gửi thư hoặc \
                 webmail).\n\n\
                 The mailbox {address} has not been used since {since}. It will be revoked on \
                 {deadline} unless someone signs in before then.\n\n{issuer}\n",
                address = person.address,
                name = person.full_name,
            );
            self.send_notice_mail(
                &NoticeMail {
                    from: &from,
                    from_name: &issuer,
                    to: &person.address,
                    subject,
                    text: &text,
                    html: None,
                },
                person.id.0,
            )
            .await;
            if let Some(unit) = units.iter().find(|u| u.id == person.unit) {
                let line = format!(
                    "- {} — {} — chưa sử dụng từ / unused since {since}, thu hồi ngày / revoked on {deadline}\n",
                    person.full_name, person.address
                );
                match unit_lists.iter_mut().find(|(u, _)| u.id == unit.id) {
                    Some((_, list)) => list.push_str(&line),
                    None => unit_lists.push((unit, line)),
                }
            }
        }
        for (unit, list) in unit_lists {
            let text = format!(
                "Kính gửi: {unit_name}\n\n\
                 Các hộp thư sau của đơn vị chưa được sử dụng và sẽ bị thu hồi theo Điều 8 Quy chế \
                 sử dụng thư điện tử nếu không được đăng nhập trước ngày nêu:\n\
                 The following mailboxes of the unit are unused and will be revoked unless someone \
                 signs in before the date given:\n\n{list}\n{issuer}\n",
                unit_name = unit.name,
            );
            self.send_notice_mail(
                &NoticeMail {
                    from: &from,
                    from_name: &issuer,
                    to: &unit.address,
                    subject,
                    text: &text,
                    html: None,
                },
                unit.id.0,
            )
            .await;
        }
        // A unit mailbox's warning goes to the unit mailbox and its head; its revocation is a
        // notice to the unit (kept for the console) and a mail to its head.
        let head_of = |unit: &UnitRecord| {
            unit.head
                .and_then(|h| people.iter().find(|p| p.id == h))
                .filter(|p| p.state == PersonState::Active && p.account.is_some())
        };
        for (unit, since, deadline) in &warned_units {
            let text = format!(
                "Hộp thư đơn vị {address} ({name}) chưa được mở từ ngày {since}.\n\
                 Theo Điều 8 Quy chế sử dụng thư điện tử, hộp thư sẽ bị thu hồi vào ngày \
                 {deadline} nếu lãnh đạo đơn vị hoặc người được ủy quyền không mở trước ngày đó.\n\n\
                 The unit mailbox {address} has not been opened since {since}. It will be \
                 revoked on {deadline} unless its owner or a delegate opens it before then.\n\n{issuer}\n",
                address = unit.address,
                name = unit.name,
                since = vn_date(*since),
                deadline = vn_date(*deadline),
            );
            let head = head_of(unit);
            for to in std::iter::once(unit.address.as_str()).chain(head.map(|h| h.address.as_str()))
            {
                self.send_notice_mail(
                    &NoticeMail {
                        from: &from,
                        from_name: &issuer,
                        to,
                        subject,
                        text: &text,
                        html: None,
                    },
                    unit.id.0,
                )
                .await;
            }
        }
        for unit in &revoked_units {
            let line = NoticeLine {
                full_name: unit.name.clone(),
                address: unit.address.clone(),
                reason: format!(
                    "Hộp thư đơn vị không được mở quá {} ngày (Điều 8 Quy chế); phê duyệt thay đổi lãnh đạo để mở lại",
                    cfg.inactivity_days
                ),
            };
            if let Err(e) = self
                .issue_notice(actor, NoticeKind::Revoke, unit, std::slice::from_ref(&line))
                .await
            {
                tracing::warn!(unit = %unit.code, error = %e, "revocation notice failed");
            }
            if let Some(head) = head_of(unit) {
                let text = format!(
                    "Hộp thư đơn vị {address} đã bị thu hồi: {reason}.\n\
                     The unit mailbox {address} was revoked: nobody opened it for {days} days; \
                     a head change re-opens it.\n\n{issuer}\n",
                    address = unit.address,
                    reason = line.reason,
                    days = cfg.inactivity_days,
                );
                self.send_notice_mail(
                    &NoticeMail {
                        from: &from,
                        from_name: &issuer,
                        to: &head.address,
                        subject: "Thu hồi hộp thư đơn vị / Unit mailbox revoked",
                        text: &text,
                        html: None,
                    },
                    unit.id.0,
                )
                .await;
            }
        }
        let mut by_unit: Vec<(&UnitRecord, Vec<NoticeLine>)> = Vec::new();
        for person in &revoked_people {
            let Some(unit) = units.iter().find(|u| u.id == person.unit) else {
                continue;
            };
            let line = NoticeLine {
                full_name: person.full_name.clone(),
                address: person.address.clone(),
                reason: format!(
                    "Không sử dụng quá {} ngày (Điều 8 Quy chế)",
                    cfg.inactivity_days
                ),
            };
            match by_unit.iter_mut().find(|(u, _)| u.id == unit.id) {
                Some((_, lines)) => lines.push(line),
                None => by_unit.push((unit, vec![line])),
            }
        }
        for (unit, lines) in by_unit {
            if let Err(e) = self
                .issue_notice(actor, NoticeKind::Revoke, unit, &lines)
                .await
            {
                tracing::warn!(unit = %unit.code, error = %e, "revocation notice failed");
            }
        }
        Ok(report)
    }
}
