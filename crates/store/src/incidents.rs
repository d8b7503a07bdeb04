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
    /// The incident locked the reporter's account ("my account is compromised", Đ13.4): only
    /// a password reset carrying the agency's written confirmation resolves it
    /// ([`crate::LifecycleEffect::ResolveCompromise`]).
    pub locks_account: bool,
}

/// The agency's written confirmation that a compromised account may be given a new password
/// (Đ13.4): its bytes are a blob already put in the blob store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    pub blob: String,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub added_by: String,
    pub added_at: i64,
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
    /// See [`NewIncident::locks_account`].
    pub locks_account: bool,
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

    /// The written confirmation kept with a compromised account's incident, if any.
    async fn incident_confirmation(&self, id: i64) -> Result<Option<Confirmation>>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Meta;
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
                    locks_account: false,
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

    /// A compromised account's incident is resolved by the reset's write: the new password,
    /// the confirmation (its blob kept from the collector) and the resolution in ONE
    /// transaction; a second resolution is a `Conflict` and writes nothing, not even the
    /// password.
    async fn a_compromise_is_resolved_with_its_confirmation(kind: Kind) {
        use crate::{LifecycleEffect, LifecycleWrite};
        let (store, _dir) = crate::testing::open(kind).await;
        let account = store
            .create_account(
                &crate::NewAccount {
                    address: "minh@x.vn".into(),
                    display_name: "Minh".into(),
                    password_hash: "old".into(),
                    must_change_password: false,
                    created_at: 0,
                },
                &[("INBOX", None)],
            )
            .await
            .unwrap();
        let id = store
            .file_incident(
                &NewIncident {
                    reporter: "minh@x.vn".into(),
                    unit: None,
                    summary: "Tài khoản bị lộ".into(),
                    details: String::new(),
                    happened_at: None,
                    message_ref: None,
                    category: "compromised".into(),
                    severity: "high".into(),
                    deadline_at: 200,
                    created_at: 100,
                    locks_account: true,
                },
                &[],
            )
            .await
            .unwrap();
        assert!(store.incident(id).await.unwrap().unwrap().locks_account);
        assert_eq!(store.incident_confirmation(id).await.unwrap(), None);
        let bytes = std::sync::Arc::new(b"%PDF-1.4 xac nhan".to_vec());
        let blob = store.blobs().put(bytes.clone()).await.unwrap();
        let confirmation = Confirmation {
            blob: blob.as_str().to_string(),
            file_name: "xac-nhan.pdf".into(),
            content_type: "application/pdf".into(),
            size: bytes.len() as u64,
            added_by: "qtv@x.vn".into(),
            added_at: 150,
        };
        let effects = |hash: &str| {
            vec![
                LifecycleEffect::SetPassword {
                    account,
                    hash: hash.into(),
                    must_change: true,
                },
                LifecycleEffect::ResolveCompromise {
                    incident: id,
                    note: "Văn bản xác nhận xac-nhan.pdf".into(),
                    confirmation: confirmation.clone(),
                },
            ]
        };
        let write = |effects| LifecycleWrite {
            at: 150,
            decision: None,
            effects,
            warnings: &[],
            audit: &[],
        };
        let first = effects("new");
        store.write_lifecycle(&write(&first)).await.unwrap();
        let resolved = store.incident(id).await.unwrap().unwrap();
        assert_eq!(resolved.status, "resolved");
        assert_eq!(resolved.resolved_at, Some(150));
        assert!(resolved.note.contains("xac-nhan.pdf"));
        assert_eq!(
            store.incident_confirmation(id).await.unwrap(),
            Some(confirmation.clone())
        );
        let stored = store
            .account_by_address("minh@x.vn")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.password_hash, "new");
        // The collector keeps the confirmation's body.
        let unreferenced = meta!(store, db => db.unreferenced_blobs().await).unwrap();
        assert!(
            !unreferenced
                .iter()
                .any(|(b, _)| b.as_str() == blob.as_str()),
            "the confirmation's blob is referenced"
        );
        // Resolved already: nothing of the second write happens.
        let second = effects("newer");
        let err = store.write_lifecycle(&write(&second)).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        let stored = store
            .account_by_address("minh@x.vn")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.password_hash, "new",
            "the refused write set no password"
        );
    }

    on_each_backend!(
        an_incident_is_filed_handled_and_resolved_once,
        a_compromise_is_resolved_with_its_confirmation
    );
}
