//! `[lifecycle]`: revoked mailboxes' retention, the inactivity sweep (Đ8.3), initial passwords
//! and the notices to units.

use std::time::Duration;

use serde::Deserialize;

/// `[lifecycle]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawLifecycle {
    /// Days a revoked mailbox's data is kept for its owner after revocation. Default 365.
    pub retention_days: Option<u32>,
    /// Days without any sign-in (IMAP, POP3, SMTP AUTH, web) since creation or the last access
    /// after which the sweep revokes a personal mailbox (Đ8.3: 6 months). Default 182.
    pub inactivity_days: Option<u32>,
    /// Warnings to the person and their unit, in days before the revocation. Default [30, 7].
    pub warn_days: Option<Vec<u32>>,
    /// Hours after which an initial (one-time) password that was not changed stops working,
    /// counted from its activation (the first sign-in with it); 0 = never. Default 6 (Cao Bằng).
    pub initial_password_hours: Option<u32>,
    /// Seconds between two runs of the inactivity sweep in `serve`; 0 = no sweep. Default 3600.
    pub sweep_interval: Option<u64>,
    /// Code of the focal unit (Sở TT&TT, since 2025 Sở KH&CN) that issues the notices.
    pub focal_unit: Option<String>,
    /// Symbol of the notices after the number (`12/TB-SKHCN`). Default: "TB-" and the initials
    /// of the focal unit's name.
    pub notice_symbol: Option<String>,
    /// Days a message stays in Trash before the sweep deletes it (counted from when it was put
    /// there); 0 = kept. Default 30.
    pub trash_days: Option<u32>,
    /// The same for Junk. Default 30.
    pub junk_days: Option<u32>,
    /// Whether the inactivity sweep covers unit mailboxes too. Default false: a unit mailbox
    /// receives the province's notices and official documents (Đ15), so revoking it would
    /// bounce them; the outlook lists the unit mailboxes nobody opened instead. With true, a
    /// unit mailbox that neither its owner nor a delegate opened for `inactivity_days` is
    /// warned about and revoked like a personal one, and a `head_change` re-opens it.
    pub sweep_unit_mailboxes: Option<bool>,
    /// Đ13.1 reminders: each Monday, a note to the people who opened their mailbox on fewer
    /// than half of the past week's working days, and one to their unit listing them.
    /// Default false.
    pub open_reminder: Option<bool>,
}

/// The validated `[lifecycle]`.
#[derive(Debug, Clone)]
pub struct Lifecycle {
    pub retention_days: u32,
    pub inactivity_days: u32,
    /// Descending, each below `inactivity_days`.
    pub warn_days: Vec<u32>,
    pub initial_password_hours: u32,
    pub sweep_interval: Option<Duration>,
    pub focal_unit: Option<String>,
    pub notice_symbol: Option<String>,
    pub trash_days: u32,
    pub junk_days: u32,
    pub sweep_unit_mailboxes: bool,
    pub open_reminder: bool,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            retention_days: 365,
            inactivity_days: 182,
            warn_days: vec![30, 7],
            initial_password_hours: 6,
            sweep_interval: Some(Duration::from_secs(3600)),
            focal_unit: Some("CB25-008".into()),
            notice_symbol: None,
            trash_days: 30,
            junk_days: 30,
            sweep_unit_mailboxes: false,
            open_reminder: false,
        }
    }
}

pub(crate) fn validate(raw: RawLifecycle, problems: &mut Vec<String>) -> Lifecycle {
    let d = Lifecycle::default();
    let inactivity_days = raw.inactivity_days.unwrap_or(d.inactivity_days);
    if inactivity_days == 0 {
        problems.push("lifecycle.inactivity_days: must be at least 1".into());
    }
    let mut warn_days = raw.warn_days.unwrap_or(d.warn_days);
    for w in &warn_days {
        if *w == 0 || *w >= inactivity_days {
            problems.push(format!(
                "lifecycle.warn_days: {w} must be between 1 and inactivity_days - 1"
            ));
        }
    }
    warn_days.sort_unstable_by(|a, b| b.cmp(a));
    warn_days.dedup();
    let focal_unit = match raw.focal_unit {
        Some(s) if s.trim().is_empty() => None,
        Some(s) => Some(s.trim().to_string()),
        None => d.focal_unit,
    };
    Lifecycle {
        retention_days: raw.retention_days.unwrap_or(d.retention_days),
        inactivity_days,
        warn_days,
        initial_password_hours: raw
            .initial_password_hours
            .unwrap_or(d.initial_password_hours),
        sweep_interval: match raw.sweep_interval {
            Some(0) => None,
            Some(s) => Some(Duration::from_secs(s)),
            None => d.sweep_interval,
        },
        focal_unit,
        notice_symbol: raw.notice_symbol.map(|s| s.trim().to_string()),
        trash_days: raw.trash_days.unwrap_or(d.trash_days),
        junk_days: raw.junk_days.unwrap_or(d.junk_days),
        sweep_unit_mailboxes: raw.sweep_unit_mailboxes.unwrap_or(d.sweep_unit_mailboxes),
        open_reminder: raw.open_reminder.unwrap_or(d.open_reminder),
    }
}
