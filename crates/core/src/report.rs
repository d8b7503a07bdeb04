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
    pub received: u64,
    pub sent: u64,
    /// Mailboxes (people and the unit mailbox) signed in to at least once in the period.
    pub signed_in: u64,
    /// Đ13.1: the share of person-days (active people × working days of the period so far)
    /// on which the person signed in at least twice; `None` without people or working days.
    pub compliance_percent: Option<u32>,
    /// Official documents the unit dispatched electronically in the period (Đ15, Đ17).
    pub documents: u64,
}

/// Working days (Monday to Friday, Vietnam time) in `[from, to)`, not counting days after
/// `now`.
/// Vietnam's offset from UTC (UTC+7, no daylight saving): where its days start.
pub const VIETNAM_UTC_OFFSET: i64 = 7 * 3600;

pub fn working_days(from: i64, to: i64, now: i64) -> u64 {
    use chrono::Datelike;
    const VN: i64 = VIETNAM_UTC_OFFSET;
    let day = |t: i64| chrono::DateTime::from_timestamp(t + VN, 0).map(|d| d.date_naive());
    let (Some(mut d), Some(end)) = (day(from), day(to.min(now.saturating_add(1)) - 1)) else {
        return 0;
    };
    let mut n = 0;
    while d <= end {
        if d.weekday().num_days_from_monday() < 5 {
            n += 1;
        }
        d = match d.succ_opt() {
            Some(next) => next,
            None => break,
        };
    }
    n
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
        let days = working_days(from, to, crate::now());
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
                Some(UnitReport {
                    documents: documents.get(&u.id).copied().unwrap_or(0),
                    code: u.code,
                    name: u.name,
                    active: a.active,
                    new: a.new,
                    revoked: a.revoked,
                    received: a.received,
                    sent: a.sent,
                    signed_in: a.signed_in,
                    compliance_percent: (a.active > 0 && days > 0).then(|| {
                        (u128::from(a.compliant_days) * 100
                            / (u128::from(a.active) * u128::from(days)))
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
    use super::working_days;

    #[test]
    fn working_days_skip_weekends_and_the_future() {
        // 2026-03-02 is a Monday; the days start at midnight in Vietnam (17:00 UTC before).
        let monday = 1_772_384_400;
        let day = 86_400;
        assert_eq!(working_days(monday, monday + 7 * day, i64::MAX), 5);
        assert_eq!(working_days(monday, monday + 14 * day, i64::MAX), 10);
        assert_eq!(
            working_days(monday + 5 * day, monday + 7 * day, i64::MAX),
            0
        );
        // Only up to today: on Wednesday, Monday to Wednesday.
        assert_eq!(
            working_days(monday, monday + 7 * day, monday + 2 * day + 3600),
            3
        );
        assert_eq!(working_days(monday, monday, i64::MAX), 0);
    }
}
