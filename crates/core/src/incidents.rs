//! Incidents (Đ10.3, Đ11.2): a user reports from the webmail (what happened, when, the message
//! concerned), a unit IT officer or the console operator from the console or the CLI. Each has a
//! category, a severity whose deadline follows from it, a status (mới, đang xử lý, chờ phản
//! hồi, đã xử lý), an assignee, and may be escalated from the unit's officer to the focal unit.
//! The reporter gets a message at each change. Every change is audited.

use serde::Serialize;

use hopthu_store::{IncidentRecord, IncidentUpdate, NewIncident};

use crate::{Actor, Core, Error, ErrorKind, NewAudit, Result, now};

/// The categories an incident is filed under (the first is the default).
pub const CATEGORIES: [(&str, &str); 5] = [
    ("other", "Khác"),
    ("mailbox", "Hộp thư không hoạt động"),
    ("phishing", "Thư lừa đảo, thư lạ"),
    ("compromised", "Tài khoản bị lộ (Đ13.4)"),
    ("spam", "Thư rác"),
];

/// The statuses, with their Vietnamese names.
pub const STATUSES: [(&str, &str); 4] = [
    ("new", "mới"),
    ("in_progress", "đang xử lý"),
    ("waiting", "chờ phản hồi"),
    ("resolved", "đã xử lý"),
];

/// Hours to resolve an incident of each severity.
pub fn deadline_hours(severity: &str) -> Option<i64> {
    match severity {
        "high" => Some(24),
        "normal" => Some(72),
        "low" => Some(168),
        _ => None,
    }
}

fn status_name(status: &str) -> &'static str {
    STATUSES
        .iter()
        .find(|(s, _)| *s == status)
        .map_or("?", |(_, n)| n)
}

/// What a reporter says.
#[derive(Debug, Clone, Default)]
pub struct IncidentInput {
    /// The reporter's address (a mailbox of ours).
    pub reporter: String,
    pub summary: String,
    pub details: String,
    pub happened_at: Option<i64>,
    pub message_ref: Option<String>,
    pub category: Option<String>,
    pub severity: Option<String>,
}

/// An incident as shown.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentView {
    pub id: i64,
    pub reporter: String,
    pub unit_code: Option<String>,
    pub summary: String,
    pub details: String,
    pub happened_at: Option<i64>,
    pub message_ref: Option<String>,
    pub category: String,
    pub severity: String,
    pub status: String,
    pub status_name: String,
    pub assignee: Option<String>,
    pub escalated: bool,
    pub deadline_at: i64,
    pub overdue: bool,
    pub created_at: i64,
    pub resolved_at: Option<i64>,
    pub note: String,
    /// The incident locked the reporter's account ("my account is compromised", Đ13.4): the
    /// password reset carrying the agency's written confirmation resolves it.
    pub locks_account: bool,
}

impl Core {
    /// Files an incident for `input.reporter`, as `filed_by` (the reporter in the webmail, an
    /// administrator or the console operator).
    pub async fn file_incident(
        &self,
        filed_by: &str,
        input: &IncidentInput,
    ) -> Result<IncidentView> {
        self.file_incident_locking(filed_by, input, false).await
    }

    /// [`Core::file_incident`]; `locks_account` for the incident of a compromised account
    /// (`compromised.rs`), which only the password reset with a confirmation resolves.
    pub(crate) async fn file_incident_locking(
        &self,
        filed_by: &str,
        input: &IncidentInput,
        locks_account: bool,
    ) -> Result<IncidentView> {
        let reporter = self.local_address(&input.reporter)?.to_string();
        let person = self
            .store
            .people()
            .await?
            .into_iter()
            .find(|p| p.address == reporter);
        if person.is_none() && self.store.account_by_address(&reporter).await?.is_none() {
            return Err(Error::not_found(format!(
                "{reporter}: không có hộp thư này / no such mailbox"
            )));
        }
        let summary = hopthu_model::text::clean(&input.summary);
        if summary.is_empty() {
            return Err(Error::invalid(
                "thiếu nội dung sự cố / the summary is required",
            ));
        }
        let severity = input.severity.clone().unwrap_or_else(|| "normal".into());
        let hours = deadline_hours(&severity).ok_or_else(|| {
            Error::invalid(format!(
                "{severity}: mức độ là low, normal hoặc high / severity is low, normal or high"
            ))
        })?;
        let category = input.category.clone().unwrap_or_else(|| "other".into());
        if !CATEGORIES.iter().any(|(c, _)| *c == category) {
            return Err(Error::invalid(format!(
                "{category}: loại sự cố không hợp lệ / unknown category (one of {})",
                CATEGORIES.map(|(c, _)| c).join(", ")
            )));
        }
        let at = now();
        let incident = NewIncident {
            reporter: reporter.clone(),
            unit: person.map(|p| p.unit),
            summary: summary.chars().take(500).collect(),
            details: input.details.chars().take(10_000).collect(),
            happened_at: input.happened_at,
            message_ref: input.message_ref.clone().filter(|m| !m.trim().is_empty()),
            category,
            severity,
            deadline_at: at + hours * 3600,
            created_at: at,
            locks_account,
        };
        let audit = [NewAudit {
            actor: filed_by.to_string(),
            action: "incident.file".into(),
            target: "incident:{id}".into(),
            before: None,
            after: Some(
                serde_json::json!({
                    "reporter": incident.reporter, "summary": incident.summary,
                    "category": incident.category, "severity": incident.severity,
                    "locks_account": locks_account,
                })
                .to_string(),
            ),
        }];
        let id = self.store.file_incident(&incident, &audit).await?;
        let view = self.incident_view(id).await?;
        self.tell_reporter(&view, "Đã tiếp nhận / received").await;
        Ok(view)
    }

    /// Files an incident from the console: the reporter must be a person of `actor`'s scope
    /// (a unit IT officer files for the people of their units); an inspector files nothing.
    pub async fn file_incident_as(
        &self,
        actor: &Actor,
        input: &IncidentInput,
    ) -> Result<IncidentView> {
        let reporter = self.local_address(&input.reporter)?.to_string();
        let person = self
            .store
            .people()
            .await?
            .into_iter()
            .find(|p| p.address == reporter)
            .ok_or_else(|| {
                Error::not_found(format!(
                    "{reporter}: không có trong danh bạ / not in the directory"
                ))
            })?;
        self.authorize(actor, person.unit).await?;
        self.file_incident(&actor.name, input).await
    }

    /// The incidents `who` reported, newest first (the webmail's list).
    pub async fn my_incidents(&self, who: &crate::Principal) -> Result<Vec<IncidentView>> {
        let units = self.store.units().await?;
        Ok(self
            .store
            .incidents()
            .await?
            .into_iter()
            .filter(|i| i.reporter.eq_ignore_ascii_case(&who.address.to_string()))
            .map(|i| view_of(i, &units))
            .collect())
    }

    /// The incidents `actor` may see (of the units in scope; the focal unit and inspectors see
    /// all), newest first.
    pub async fn incidents(&self, actor: &Actor) -> Result<Vec<IncidentView>> {
        let units = self.store.units().await?;
        let mut out = Vec::new();
        for i in self.store.incidents().await? {
            let visible = match i.unit {
                Some(u) => crate::admin::in_scope(actor.scope, u, &units),
                None => actor.is_focal() || actor.is_inspector(),
            };
            if visible {
                out.push(view_of(i, &units));
            }
        }
        Ok(out)
    }

    /// One incident, if `actor` may see it.
    pub async fn incident(&self, actor: &Actor, id: i64) -> Result<IncidentView> {
        self.incidents(actor)
            .await?
            .into_iter()
            .find(|i| i.id == id)
            .ok_or_else(|| Error::not_found(format!("không có sự cố / no incident {id}")))
    }

    /// Assigns the incident to `assignee` (an address of ours); a new one goes in progress.
    pub async fn assign_incident(
        &self,
        actor: &Actor,
        id: i64,
        assignee: &str,
    ) -> Result<IncidentView> {
        let current = self.incident_for_change(actor, id).await?;
        let assignee = self.local_address(assignee)?.to_string();
        let status = (current.status == "new").then(|| "in_progress".to_string());
        self.change_incident(
            actor,
            &current,
            "incident.assign",
            IncidentUpdate {
                assignee: Some(assignee),
                status,
                at: now(),
                ..IncidentUpdate::default()
            },
        )
        .await
    }

    /// Moves the incident to `status` (not `resolved`: [`Core::resolve_incident`]).
    pub async fn set_incident_status(
        &self,
        actor: &Actor,
        id: i64,
        status: &str,
        note: &str,
    ) -> Result<IncidentView> {
        if !STATUSES.iter().any(|(s, _)| *s == status) || status == "resolved" || status == "new" {
            return Err(Error::invalid(format!(
                "{status}: in_progress hoặc waiting / in_progress or waiting (resolve to close)"
            )));
        }
        let current = self.incident_for_change(actor, id).await?;
        self.change_incident(
            actor,
            &current,
            "incident.status",
            IncidentUpdate {
                status: Some(status.into()),
                note: Some(note.trim().to_string()).filter(|n| !n.is_empty()),
                at: now(),
                ..IncidentUpdate::default()
            },
        )
        .await
    }

    /// Hands the incident from the unit's IT officer up to the focal unit.
    pub async fn escalate_incident(&self, actor: &Actor, id: i64) -> Result<IncidentView> {
        let current = self.incident_for_change(actor, id).await?;
        if current.escalated {
            return Err(Error::invalid(format!(
                "sự cố {id} đã chuyển lên / incident {id} is escalated already"
            )));
        }
        self.change_incident(
            actor,
            &current,
            "incident.escalate",
            IncidentUpdate {
                escalated: Some(true),
                at: now(),
                ..IncidentUpdate::default()
            },
        )
        .await
    }

    /// Resolves the incident with a note saying how.
    pub async fn resolve_incident(
        &self,
        actor: &Actor,
        id: i64,
        note: &str,
    ) -> Result<IncidentView> {
        let note = note.trim();
        if note.is_empty() {
            return Err(Error::invalid(
                "cần ghi cách xử lý / a note saying how it was resolved is required",
            ));
        }
        let current = self.incident_for_change(actor, id).await?;
        if current.locks_account {
            return Err(Error::invalid(format!(
                "sự cố {id}: hộp thư bị khoá vì báo mất kiểm soát chỉ được mở lại bằng việc cấp lại \
                 mật khẩu kèm văn bản xác nhận của cơ quan (Điều 13 khoản 4); sự cố được đóng khi đó \
                 / incident {id}: the mailbox locked as compromised reopens only by a password \
                 reset carrying the agency's written confirmation (article 13.4), which closes it"
            )));
        }
        self.change_incident(
            actor,
            &current,
            "incident.resolve",
            IncidentUpdate {
                status: Some("resolved".into()),
                note: Some(note.to_string()),
                at: now(),
                ..IncidentUpdate::default()
            },
        )
        .await
    }

    /// An incident `actor` may change: in their scope, not an inspector's.
    async fn incident_for_change(&self, actor: &Actor, id: i64) -> Result<IncidentView> {
        let record = self
            .store
            .incident(id)
            .await?
            .ok_or_else(|| Error::not_found(format!("không có sự cố / no incident {id}")))?;
        match record.unit {
            Some(unit) => self.authorize(actor, unit).await?,
            None => self.authorize_focal(actor)?,
        }
        // An escalated incident is the focal unit's.
        if record.escalated && !actor.is_focal() {
            return Err(Error::forbidden(
                "sự cố đã chuyển lên đơn vị đầu mối / the incident is escalated to the focal unit",
            ));
        }
        let units = self.store.units().await?;
        Ok(view_of(record, &units))
    }

    async fn change_incident(
        &self,
        actor: &Actor,
        current: &IncidentView,
        action: &str,
        update: IncidentUpdate,
    ) -> Result<IncidentView> {
        let after = serde_json::json!({
            "status": update.status, "assignee": update.assignee,
            "escalated": update.escalated, "note": update.note,
        });
        let audit = [NewAudit {
            actor: actor.name.clone(),
            action: action.into(),
            target: format!("incident:{}", current.id),
            before: Some(
                serde_json::json!({
                    "status": current.status, "assignee": current.assignee,
                    "escalated": current.escalated,
                })
                .to_string(),
            ),
            after: Some(after.to_string()),
        }];
        self.store
            .update_incident(current.id, &update, &audit)
            .await
            .map_err(|e| match e {
                hopthu_store::StoreError::Conflict(what) => Error::invalid(what),
                e => e.into(),
            })?;
        let view = self.incident_view(current.id).await?;
        let what = match action {
            "incident.assign" => "Đã phân công xử lý / assigned",
            "incident.escalate" => "Đã chuyển lên đơn vị đầu mối / escalated to the focal unit",
            "incident.resolve" => "Đã xử lý xong / resolved",
            _ => "Cập nhật trạng thái / status changed",
        };
        self.tell_reporter(&view, what).await;
        Ok(view)
    }

    async fn incident_view(&self, id: i64) -> Result<IncidentView> {
        let record = self
            .store
            .incident(id)
            .await?
            .ok_or_else(|| Error::new(ErrorKind::Internal, "incident not found"))?;
        let units = self.store.units().await?;
        Ok(view_of(record, &units))
    }

    /// The open incident that locked `address` as compromised, if any (the newest).
    pub(crate) async fn open_compromise(&self, address: &str) -> Result<Option<IncidentRecord>> {
        Ok(self.store.incidents().await?.into_iter().find(|i| {
            i.locks_account && i.status != "resolved" && i.reporter.eq_ignore_ascii_case(address)
        }))
    }

    /// The addresses locked as compromised whose reset needs the agency's written
    /// confirmation (the console shows them a file field).
    pub async fn compromise_locked(&self) -> Result<std::collections::HashSet<String>> {
        Ok(self
            .store
            .incidents()
            .await?
            .into_iter()
            .filter(|i| i.locks_account && i.status != "resolved")
            .map(|i| i.reporter.to_ascii_lowercase())
            .collect())
    }

    pub(crate) async fn incident_view_of(&self, id: i64) -> Result<IncidentView> {
        self.incident_view(id).await
    }

    /// A message to the reporter at each change; a failure is logged.
    pub(crate) async fn tell_reporter(&self, i: &IncidentView, what: &str) {
        let Ok(to) = hopthu_model::EmailAddress::parse(&i.reporter) else {
            return;
        };
        let clean = |s: &str| s.replace(['\r', '\n'], " ");
        let body = format!(
            "Sự cố số {id}: {what}\r\n\
             Nội dung: {summary}\r\n\
             Trạng thái: {status}\r\n\
             Người xử lý: {assignee}\r\n\
             Hạn xử lý: {deadline} (UTC+7)\r\n\
             Ghi chú: {note}\r\n\
             \r\n\
             Incident {id}: {what}\r\n\
             Status: {status_en}\r\n",
            id = i.id,
            summary = clean(&i.summary),
            status = i.status_name,
            assignee = i.assignee.as_deref().unwrap_or("(chưa phân công)"),
            deadline = chrono::DateTime::from_timestamp(i.deadline_at + 7 * 3600, 0)
                .map(|d| d.format("%d/%m/%Y %H:%M").to_string())
                .unwrap_or_default(),
            note = clean(&i.note),
            status_en = i.status,
        );
        let message = crate::dsn::system_message(
            &self.config.domain,
            &self.config.hostname,
            &format!("<{to}>"),
            &format!(
                "Sự cố số {} — {} / Incident {} — {}",
                i.id, i.status_name, i.id, i.status
            ),
            "incident",
            &body,
        );
        let envelope = crate::Envelope {
            mail_from: None,
            recipients: vec![to],
            dsn: None,
        };
        if let Err(e) = self.deliver(&envelope, message).await {
            tracing::warn!(incident = i.id, error = %e, "incident message not delivered");
        }
    }
}

fn view_of(i: IncidentRecord, units: &[hopthu_store::UnitRecord]) -> IncidentView {
    let unit_code = i
        .unit
        .and_then(|u| units.iter().find(|r| r.id == u))
        .map(|u| u.code.clone());
    IncidentView {
        id: i.id,
        reporter: i.reporter,
        unit_code,
        summary: i.summary,
        details: i.details,
        happened_at: i.happened_at,
        message_ref: i.message_ref,
        category: i.category,
        severity: i.severity,
        status_name: status_name(&i.status).to_string(),
        overdue: i.resolved_at.is_none() && now() > i.deadline_at,
        status: i.status,
        assignee: i.assignee,
        escalated: i.escalated,
        deadline_at: i.deadline_at,
        created_at: i.created_at,
        resolved_at: i.resolved_at,
        note: i.note,
        locks_account: i.locks_account,
    }
}
