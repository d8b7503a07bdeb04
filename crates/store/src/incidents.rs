//! Incidents (Đ10.3, Đ11.2) in storage terms: filed, assigned, moved through their states and
//! resolved, each write with its audit rows in one transaction.

use hopthu_model::UnitId;

use crate::{NewAudit, Result};

/// An incident to file.
#[derive(Debug, Clone)]
pub struct NewIncident {
    /// The reporter's address.
    pub reporter: String,
    /// The reporter's unit when filed.
    pub unit: Option<UnitId>,
    pub summary: String,
    pub details: String,
    pub happened_at: Option<i64>,
    /// The message concerned (its Message-ID or a webmail reference).
    pub message_ref: Option<String>,
    pub category: String,
    /// `low`, `normal` or `high`.
    pub severity: String,
    pub deadline_at: i64,
    pub created_at: i64,
}

/// An incident as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRecord {
    pub id: i64,
    pub reporter: String,
    pub unit: Option<UnitId>,
    pub summary: String,
    pub details: String,
    pub happened_at: Option<i64>,
    pub message_ref: Option<String>,
    pub category: String,
    pub severity: String,
    /// `new`, `in_progress`, `waiting`, `resolved`.
    pub status: String,
    pub assignee: Option<String>,
    /// Handed up from the unit's IT officer to the focal unit.
    pub escalated: bool,
    pub deadline_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub resolved_at: Option<i64>,
    /// The handler's latest note (the resolution's, once resolved).
    pub note: String,
}

/// What a handler changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct IncidentUpdate {
    pub status: Option<String>,
    pub assignee: Option<String>,
    pub escalated: Option<bool>,
    pub note: Option<String>,
    pub at: i64,
}

/// Incidents in storage terms (part of the storage contract, [`crate::contract`]).
#[async_trait::async_trait]
pub trait IncidentStore: Send + Sync {
    /// Files an incident with its audit rows (`{id}` in a row's target becomes the new id).
    async fn file_incident(&self, incident: &NewIncident, audit: &[NewAudit]) -> Result<i64>;

    async fn incident(&self, id: i64) -> Result<Option<IncidentRecord>>;

    /// Every incident, newest first.
    async fn incidents(&self) -> Result<Vec<IncidentRecord>>;

    /// Applies `update` with its audit rows; a status `resolved` sets `resolved_at`. An
    /// incident already resolved is a [`crate::StoreError::Conflict`] and nothing is written.
    async fn update_incident(
        &self,
        id: i64,
        update: &IncidentUpdate,
        audit: &[NewAudit],
    ) -> Result<IncidentRecord>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoreError;
    use crate::testing::{Kind, on_each_backend};

    async fn an_incident_is_filed_handled_and_resolved_once(kind: Kind) {
        let (store, _dir) = crate::testing::open(kind).await;
        let audit = |action: &str, target: &str| NewAudit {
            actor: "qtv@x.vn".into(),
            action: action.into(),
            target: target.into(),
            before: None,
            after: None,
        };
        let id = store
            .file_incident(
                &NewIncident {
                    reporter: "datnv@x.vn".into(),
                    unit: None,
                    summary: "Thư lạ yêu cầu mật khẩu".into(),
                    details: String::new(),
                    happened_at: Some(90),
                    message_ref: Some("<abc@x>".into()),
                    category: "phishing".into(),
                    severity: "high".into(),
                    deadline_at: 200,
                    created_at: 100,
                },
                &[audit("incident.file", "incident:{id}")],
            )
            .await
            .unwrap();
        let filed = store.incident(id).await.unwrap().unwrap();
        assert_eq!((filed.status.as_str(), filed.resolved_at), ("new", None));
        let assigned = store
            .update_incident(
                id,
                &IncidentUpdate {
                    status: Some("in_progress".into()),
                    assignee: Some("cntt@x.vn".into()),
                    at: 110,
                    ..IncidentUpdate::default()
                },
                &[audit("incident.assign", &format!("incident:{id}"))],
            )
            .await
            .unwrap();
        assert_eq!(assigned.assignee.as_deref(), Some("cntt@x.vn"));
        let resolve = IncidentUpdate {
            status: Some("resolved".into()),
            note: Some("Đã đổi mật khẩu".into()),
            at: 150,
            ..IncidentUpdate::default()
        };
        let resolved = store
            .update_incident(id, &resolve, &[audit("incident.resolve", "x")])
            .await
            .unwrap();
        assert_eq!(resolved.resolved_at, Some(150));
        assert_eq!(resolved.note, "Đã đổi mật khẩu");
        let err = store
            .update_incident(id, &resolve, &[audit("incident.resolve", "x")])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        let log = store.audit_log().await.unwrap();
        assert_eq!(log.len(), 3, "the refused update wrote nothing");
        assert_eq!(log[0].target, format!("incident:{id}"));
        assert_eq!(store.incidents().await.unwrap().len(), 1);
    }

    on_each_backend!(an_incident_is_filed_handled_and_resolved_once);
}
