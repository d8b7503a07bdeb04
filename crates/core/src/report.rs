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
        let activity: std::collections::HashMap<i64, hopthu_store::UnitActivity> = self
            .store
            .unit_activity(from, to)
            .await?
            .into_iter()
            .map(|a| (a.unit_id, a))
            .collect();
        let mut out: Vec<UnitReport> = units
            .into_iter()
            .filter_map(|u| {
                let a = activity.get(&u.id.0)?;
                Some(UnitReport {
                    code: u.code,
                    name: u.name,
                    active: a.active,
                    new: a.new,
                    revoked: a.revoked,
                    received: a.received,
                    sent: a.sent,
                    signed_in: a.signed_in,
                })
            })
            .collect();
        out.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(out)
    }
}
