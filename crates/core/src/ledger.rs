//! The activity ledger's writes (Đ13.1, Đ17): a person opening their own mailbox — IMAP
//! SELECT or EXAMINE of INBOX, a POP3 session, the webmail's INBOX — is counted per day in
//! the province's time, as it happens. An SMTP sign-in or a client idling all day opens
//! nothing: the report counts openings, not sign-ins.

use hopthu_model::AccountId;

use crate::Core;

/// The province's day of a Unix time: days since 1970-01-01 in Vietnam (UTC+7).
pub fn local_day(at: i64) -> i64 {
    hopthu_store::ledger_day(at)
}

/// Openings a day that the report needs to know of (Đ13.1: at least twice a working day);
/// past that, a process stops writing for the account until the next day.
const OPENS_NEEDED: u32 = 2;

impl Core {
    /// Records that `account`'s own mailbox was opened now. At most [`OPENS_NEEDED`] writes per
    /// account and day per process; a failed write is logged and the session goes on.
    pub async fn note_mailbox_opened(&self, account: AccountId) {
        let day = local_day(crate::now());
        {
            let Ok(seen) = self.opens.lock() else {
                return;
            };
            if seen
                .get(&account)
                .is_some_and(|&(d, n)| d == day && n >= OPENS_NEEDED)
            {
                return;
            }
        }
        match self.store.record_open(account, day).await {
            Ok(n) => {
                if let Ok(mut seen) = self.opens.lock() {
                    // A new day starts the map afresh, so it holds one day's accounts.
                    if seen.values().next().is_some_and(|&(d, _)| d != day) {
                        seen.clear();
                    }
                    seen.insert(account, (day, n));
                }
            }
            Err(e) => {
                tracing::warn!(account = account.0, error = %e, "mailbox opening not recorded")
            }
        }
    }
}

/// Someone the Đ13.1 reminder is for.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reminded {
    pub address: String,
    pub full_name: String,
    pub unit_code: String,
    /// Working days of the week with at least one opening, of `working_days`.
    pub days_opened: u32,
    pub working_days: u32,
}

/// What a run of the Đ13.1 reminder did (or, dry, would do).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReminderReport {
    /// The week looked at: its first and last day, `YYYY-MM-DD`.
    pub from: String,
    pub to: String,
    pub reminded: Vec<Reminded>,
    /// Units told, by code.
    pub units: Vec<String>,
    /// This week's reminders were sent already: nothing was sent again.
    pub already_sent: bool,
}

impl Core {
    /// The Đ13.1 reminder for the week before `as_of` (its seven days up to the day before): a
    /// note to each active person who opened their mailbox on fewer than half of the week's
    /// working days, and one to each of their units listing them. Once per week (an audit row
    /// `reminder.open` marks it); the focal unit's act.
    pub async fn open_reminders(
        &self,
        actor: &crate::Actor,
        as_of: i64,
        dry_run: bool,
    ) -> crate::Result<ReminderReport> {
        self.authorize_focal(actor)?;
        let today = local_day(as_of);
        let (first, last) = (today - 7, today - 1);
        let day_text = |d: i64| {
            chrono::DateTime::from_timestamp(d * 86_400, 0)
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default()
        };
        let target = format!("reminder:week:{}", day_text(first));
        let already_sent = !self.store.audit_for(&target, 1).await?.is_empty();
        let working = crate::report::working_day_list(
            first * 86_400 - crate::report::VIETNAM_UTC_OFFSET,
            today * 86_400 - crate::report::VIETNAM_UTC_OFFSET,
            i64::MAX,
            &self.config.report,
        );
        let mut opened: std::collections::HashMap<AccountId, u32> =
            std::collections::HashMap::new();
        for o in self.store.opens_between(first, today).await? {
            if o.opens > 0 && working.binary_search(&o.day).is_ok() {
                *opened.entry(o.account).or_default() += 1;
            }
        }
        let units = self.store.units().await?;
        let mut reminded = Vec::new();
        if !working.is_empty() {
            for p in self.store.people().await? {
                let Some(account) = p.account else { continue };
                if p.state != hopthu_store::PersonState::Active {
                    continue;
                }
                let days = opened.get(&account).copied().unwrap_or(0);
                if (days as usize) * 2 < working.len() {
                    reminded.push(Reminded {
                        address: p.address.clone(),
                        full_name: p.full_name.clone(),
                        unit_code: units
                            .iter()
                            .find(|u| u.id == p.unit)
                            .map(|u| u.code.clone())
                            .unwrap_or_default(),
                        days_opened: days,
                        working_days: working.len() as u32,
                    });
                }
            }
        }
        let mut unit_codes: Vec<String> = reminded.iter().map(|r| r.unit_code.clone()).collect();
        unit_codes.sort();
        unit_codes.dedup();
        let report = ReminderReport {
            from: day_text(first),
            to: day_text(last),
            reminded,
            units: unit_codes,
            already_sent,
        };
        if dry_run || already_sent || report.reminded.is_empty() {
            return Ok(report);
        }
        // Marked first: a second run the same week finds it and sends nothing again.
        self.store
            .write_lifecycle(&hopthu_store::LifecycleWrite {
                at: crate::now(),
                audit: &[crate::NewAudit {
                    actor: actor.name.clone(),
                    action: "reminder.open".into(),
                    target,
                    before: None,
                    after: Some(
                        serde_json::json!({
                            "from": report.from, "to": report.to,
                            "people": report.reminded.len(), "units": report.units.len(),
                        })
                        .to_string(),
                    ),
                }],
                ..hopthu_store::LifecycleWrite::default()
            })
            .await?;
        let week = format!("{} – {}", report.from, report.to);
        for r in &report.reminded {
            let body = format!(
                "Kính gửi {name},\r\n\r\n\
                 Tuần {week} đồng chí mở hộp thư điện tử {days}/{total} ngày làm việc. Quy chế\r\n\
                 (Đ13.1) yêu cầu mở hộp thư ít nhất hai lần mỗi ngày làm việc.\r\n\r\n\
                 In the week {week} you opened your mailbox on {days} of {total} working days;\r\n\
                 the regulation (Đ13.1) asks for at least twice every working day.\r\n",
                name = r.full_name.replace(['\r', '\n'], " "),
                days = r.days_opened,
                total = r.working_days,
            );
            self.send_system(
                &r.address,
                "Nhắc mở hộp thư / Open your mailbox (Đ13.1)",
                &body,
            )
            .await;
        }
        for code in &report.units {
            let Some(unit) = units.iter().find(|u| &u.code == code) else {
                continue;
            };
            let mut body = format!(
                "Tuần {week}, cán bộ của {name} mở hộp thư dưới một nửa số ngày làm việc (Đ13.1):\r\n\
                 In the week {week}, these people of {name} opened their mailbox on fewer than half of the working days:\r\n\r\n",
                name = unit.name.replace(['\r', '\n'], " "),
            );
            for r in report.reminded.iter().filter(|r| &r.unit_code == code) {
                body.push_str(&format!(
                    "- {} <{}>: {}/{}\r\n",
                    r.full_name.replace(['\r', '\n'], " "),
                    r.address,
                    r.days_opened,
                    r.working_days
                ));
            }
            self.send_system(
                &unit.address,
                "Nhắc mở hộp thư: danh sách cán bộ / Open your mailbox: who was reminded (Đ13.1)",
                &body,
            )
            .await;
        }
        Ok(report)
    }

    /// A system message to one local address; a failure is logged.
    async fn send_system(&self, to: &str, subject: &str, body: &str) {
        let Ok(address) = hopthu_model::EmailAddress::parse(to) else {
            return;
        };
        let message = crate::dsn::system_message(
            &self.config.domain,
            &self.config.hostname,
            &format!("<{address}>"),
            subject,
            "reminder",
            body,
        );
        let envelope = crate::Envelope {
            mail_from: None,
            recipients: vec![address],
            dsn: None,
        };
        if let Err(e) = self.deliver(&envelope, message).await {
            tracing::warn!(to, error = %e, "reminder not delivered");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::local_day;

    #[test]
    fn the_day_starts_at_midnight_in_vietnam() {
        // 2026-03-01 17:00 UTC is 2026-03-02 00:00 in Vietnam.
        let midnight = 1_772_384_400;
        assert_eq!(local_day(midnight), local_day(midnight + 86_399));
        assert_eq!(local_day(midnight) - 1, local_day(midnight - 1));
        assert_eq!(local_day(midnight), 20_514);
    }
}
