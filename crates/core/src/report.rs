//! The activity report per unit (Đ17: the six-monthly report to the provincial People's
//! Committee; SPEC §9): for a period, each unit's active mailboxes, new and revoked ones,
//! messages received and sent, and how many of its mailboxes were used. An administrator sees
//! the units of their scope. Counts of messages start from when `messages.added_at` was first
//! recorded (migration 0011): older messages have no arrival time to count by.

use serde::Serialize;

use crate::{Actor, Core, Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitReport {
    pub code: String,
    pub name: String,
    pub active: u64,
    pub new: u64,
    pub revoked: u64,
    /// Messages delivered into the INBOX of the unit's people and unit mailbox, counted at
    /// delivery (the ledger: a later move, delete or APPEND changes nothing).
    pub received: u64,
    /// Messages they submitted (SMTP submission, the webmail), counted at submission.
    pub sent: u64,
    /// Mailboxes (people and the unit mailbox) signed in to at least once in the period.
    pub signed_in: u64,
    /// Đ13.1: the share of person-days (active people × working days of the period so far)
    /// on which the person opened their mailbox at least twice (the ledger of openings),
    /// in percent; `None` without people or working days.
    pub compliance_percent: Option<u32>,
    /// The person-days counted in `compliance_percent`: (at least two openings, possible).
    pub open_days: (u64, u64),
    /// Official documents the unit dispatched electronically in the period (Đ15, Đ17).
    pub documents: u64,
    /// Incidents its people filed in the period (Đ10.3, Đ11.2).
    pub incidents: u64,
    /// Of those, how many are resolved, and their resolution times added up (seconds).
    pub incidents_resolved: (u64, u64),
}

/// Vietnam's offset from UTC (UTC+7, no daylight saving): where its days start.
pub const VIETNAM_UTC_OFFSET: i64 = hopthu_store::LEDGER_UTC_OFFSET;

/// The working days in `[from, to)` not after `now`, as days since 1970-01-01 in Vietnam:
/// Monday to Friday less the configured public holidays (Đ13.1).
pub fn working_day_list(from: i64, to: i64, now: i64, report: &hopthu_config::Report) -> Vec<i64> {
    let first = crate::ledger::local_day(from);
    let last = crate::ledger::local_day(to.min(now.saturating_add(1)) - 1);
    // 1970-01-01 was a Thursday: (day + 3) % 7 is 0 on Mondays.
    (first..=last)
        .filter(|d| (d + 3).rem_euclid(7) < 5 && !report.is_holiday(*d))
        .collect()
}

/// Who issues the written report (the PDF's header): the province's People's Committee above
/// the focal unit, as the notices name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportIssuer {
    /// "UBND TỈNH CAO BẰNG" (`[naming] province_word`, `province_name`).
    pub superior: String,
    /// The focal unit's name (`[lifecycle] focal_unit`), e.g. "Sở Khoa học và Công nghệ".
    pub issuer: String,
    /// The symbol after the number: `[lifecycle] notice_symbol` with `BC-` for `TB-`, else
    /// `BC-` and the issuer's initials (BC-SKHCN).
    pub symbol: String,
    /// The place of the date line: "Cao Bằng".
    pub place: String,
}

/// `BC-…` from a notice's symbol (`TB-SKHCN` → `BC-SKHCN`), or from the issuer's initials.
pub fn report_symbol(notice_symbol: Option<&str>, issuer: &str) -> String {
    let symbol = notice_symbol
        .map(str::to_string)
        .unwrap_or_else(|| crate::directory::notice::default_symbol(issuer));
    match symbol.strip_prefix("TB-") {
        Some(rest) => format!("BC-{rest}"),
        None => format!("BC-{symbol}"),
    }
}

impl Core {
    /// The issuer of the written report ([`ReportIssuer`]).
    pub async fn report_issuer(&self) -> ReportIssuer {
        let (issuer, _) = self.notice_issuer().await;
        let naming = &self.config.naming;
        ReportIssuer {
            superior: format!("UBND {} {}", naming.province_word, naming.province_name)
                .to_uppercase(),
            symbol: report_symbol(self.config.lifecycle.notice_symbol.as_deref(), &issuer),
            place: naming.province_name.clone(),
            issuer,
        }
    }
}

impl Core {
    /// Each unit of the actor's scope over `[from, to)` (Unix seconds), by unit code.
    pub async fn unit_report(&self, actor: &Actor, from: i64, to: i64) -> Result<Vec<UnitReport>> {
        if to <= from {
            return Err(Error::invalid(
                "the period ends before it starts / kỳ báo cáo không hợp lệ",
            ));
        }
        let units = self.units_in_scope(actor).await?;
        let working = working_day_list(from, to, crate::now(), &self.config.report);
        let days = working.len() as u64;
        // Mailboxes active at the period's end, created and revoked in it: the ledger of
        // personal mailboxes, each event in the unit the person belonged to then, so a later
        // transfer or reorganisation leaves a finished period's figures as they were.
        // (active, new, revoked) per unit.
        let mut mailboxes: std::collections::HashMap<hopthu_model::UnitId, (u64, u64, u64)> =
            std::collections::HashMap::new();
        // Each person's state at the period's end: (mailbox active, unit).
        let mut last: std::collections::HashMap<
            hopthu_model::PersonId,
            (bool, Option<hopthu_model::UnitId>),
        > = std::collections::HashMap::new();
        for event in self.store.mailbox_events_before(to).await? {
            use hopthu_store::MailboxEventKind as K;
            if event.at >= from
                && let Some(unit) = event.unit
            {
                let e = mailboxes.entry(unit).or_default();
                match event.kind {
                    K::Created => e.1 += 1,
                    K::Revoked => e.2 += 1,
                    K::Reissued | K::Moved => {}
                }
            }
            let state = last.entry(event.person).or_insert((false, None));
            state.1 = event.unit;
            match event.kind {
                K::Created | K::Reissued => state.0 = true,
                K::Revoked => state.0 = false,
                K::Moved => {}
            }
        }
        for (active, unit) in last.values() {
            if *active && let Some(unit) = unit {
                mailboxes.entry(*unit).or_default().0 += 1;
            }
        }
        // Incidents filed in the period, by the reporter's unit then.
        let mut incidents: std::collections::HashMap<hopthu_model::UnitId, (u64, u64, u64)> =
            std::collections::HashMap::new();
        for i in self.store.incidents().await? {
            if let Some(unit) = i.unit
                && i.created_at >= from
                && i.created_at < to
            {
                let e = incidents.entry(unit).or_default();
                e.0 += 1;
                if let Some(done) = i.resolved_at {
                    e.1 += 1;
                    e.2 += (done - i.created_at).max(0) as u64;
                }
            }
        }
        // Messages received and sent, as counted when they happened (the ledger).
        let messages: std::collections::HashMap<hopthu_model::UnitId, hopthu_store::MessageCounts> =
            self.store
                .messages_between(
                    crate::ledger::local_day(from),
                    crate::ledger::local_day(to - 1) + 1,
                )
                .await?
                .into_iter()
                .filter_map(|(unit, counts)| unit.map(|u| (u, counts)))
                .collect();
        let mut open_days: std::collections::HashMap<hopthu_model::UnitId, u64> =
            std::collections::HashMap::new();
        if let (Some(first), Some(last)) = (working.first(), working.last()) {
            // Đ13.1 from the ledger of openings: person-days with two openings or more, in the
            // person's unit of the day.
            for o in self.store.opens_between(*first, last + 1).await? {
                if o.opens >= 2
                    && working.binary_search(&o.day).is_ok()
                    && let Some(unit) = o.unit
                {
                    *open_days.entry(unit).or_default() += 1;
                }
            }
        }
        let activity: std::collections::HashMap<i64, hopthu_store::UnitActivity> = self
            .store
            .unit_activity(from, to, VIETNAM_UTC_OFFSET)
            .await?
            .into_iter()
            .map(|a| (a.unit_id, a))
            .collect();
        let documents: std::collections::HashMap<hopthu_model::UnitId, u64> = self
            .store
            .documents_dispatched(from, to)
            .await?
            .into_iter()
            .collect();
        let mut out: Vec<UnitReport> = units
            .into_iter()
            .filter_map(|u| {
                let a = activity.get(&u.id.0)?;
                let opened = open_days.get(&u.id).copied().unwrap_or(0);
                let counted = messages.get(&u.id).copied().unwrap_or_default();
                let (filed, resolved, secs) = incidents.get(&u.id).copied().unwrap_or_default();
                let (active, new, revoked) = mailboxes.get(&u.id).copied().unwrap_or_default();
                Some(UnitReport {
                    open_days: (opened, active * days),
                    incidents: filed,
                    incidents_resolved: (resolved, secs),
                    documents: documents.get(&u.id).copied().unwrap_or(0),
                    code: u.code,
                    name: u.name,
                    active,
                    new,
                    revoked,
                    received: counted.received,
                    sent: counted.sent,
                    signed_in: a.signed_in,
                    compliance_percent: (active > 0 && days > 0).then(|| {
                        (u128::from(opened) * 100 / (u128::from(active) * u128::from(days)))
                            .min(100) as u32
                    }),
                })
            })
            .collect();
        out.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::{report_symbol, working_day_list};

    #[test]
    fn the_report_symbol_follows_the_notices() {
        assert_eq!(report_symbol(None, "Sở Khoa học và Công nghệ"), "BC-SKHCN");
        assert_eq!(report_symbol(Some("TB-STTTT"), "x"), "BC-STTTT");
        assert_eq!(report_symbol(Some("VP"), "x"), "BC-VP");
    }

    #[test]
    fn working_days_skip_weekends_holidays_and_the_future() {
        // 2026-03-02 is a Monday; the days start at midnight in Vietnam (17:00 UTC before).
        let monday = 1_772_384_400;
        let day = 86_400;
        let none = hopthu_config::Report::default();
        let n = |from, to, now, r: &hopthu_config::Report| working_day_list(from, to, now, r).len();
        assert_eq!(n(monday, monday + 7 * day, i64::MAX, &none), 5);
        assert_eq!(n(monday, monday + 14 * day, i64::MAX, &none), 10);
        assert_eq!(n(monday + 5 * day, monday + 7 * day, i64::MAX, &none), 0);
        // Only up to today: on Wednesday, Monday to Wednesday.
        assert_eq!(
            n(monday, monday + 7 * day, monday + 2 * day + 3600, &none),
            3
        );
        assert_eq!(n(monday, monday, i64::MAX, &none), 0);
        // A holiday on the Tuesday is not a working day.
        let tuesday = crate::ledger::local_day(monday) + 1;
        let holiday = hopthu_config::Report {
            holidays: vec![tuesday],
        };
        let days = working_day_list(monday, monday + 7 * day, i64::MAX, &holiday);
        assert_eq!(days.len(), 4);
        assert!(!days.contains(&tuesday));
    }
}
