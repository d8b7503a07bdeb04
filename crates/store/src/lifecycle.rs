//! The lifecycle of mailboxes in storage terms (Đ8): administrators with their scope, change
//! requests and their decision, notices to units, inactivity warnings and the audit log.
//!
//! Every write takes the audit rows that describe it and commits them in the SAME transaction
//! as the change, so the log never misses a change nor records one that did not happen. The
//! log is a hash chain: each row stores `sha256(previous hash ‖ row)` ([`audit_hash`]).

use hopthu_model::{AccountId, PersonId, UnitId};
use sha2::{Digest, Sha256};

use crate::{PersonState, Result};

/// The hash before the first audit row.
pub const AUDIT_GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an administrator may act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminScope {
    /// The focal unit: everything.
    Focal,
    /// A unit IT officer: this unit and every unit below it.
    Unit(UnitId),
    /// An inspector (Đ16): reads everything the focal unit reads, changes nothing.
    Inspector,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminRecord {
    pub account: AccountId,
    pub address: String,
    pub scope: AdminScope,
    pub granted_by: String,
    pub granted_at: i64,
}

/// One audit row to write with a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAudit {
    /// Who: an administrator's address, `cli:<user>`, `sweep`.
    pub actor: String,
    /// What: `admin.grant`, `change.file`, `change.approve`, `person.revoke`…
    pub action: String,
    /// On what: `person:12`, `change:3`, `account:datnv@…`.
    pub target: String,
    /// JSON before and after, when there is a state to show.
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// The chain hash of an audit row: hex sha256 of the previous hash and every field, each
/// followed by a newline (absent before/after as empty).
pub fn audit_hash(prev_hash: &str, at: i64, row: &NewAudit) -> String {
    let mut h = Sha256::new();
    for part in [
        prev_hash,
        &at.to_string(),
        &row.actor,
        &row.action,
        &row.target,
        row.before.as_deref().unwrap_or(""),
        row.after.as_deref().unwrap_or(""),
    ] {
        h.update(part.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// A checkpoint of the audit log: its head (last row and hash) as it was on `day` (days since
/// 1970-01-01 in the province's time), recorded at `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRecord {
    pub day: i64,
    pub at: i64,
    pub row_id: i64,
    pub hash: String,
}

/// Where a change request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeState {
    Filed,
    Approved,
    Rejected,
}

impl ChangeState {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeState::Filed => "filed",
            ChangeState::Approved => "approved",
            ChangeState::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<ChangeState> {
        Some(match s {
            "filed" => ChangeState::Filed,
            "approved" => ChangeState::Approved,
            "rejected" => ChangeState::Rejected,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct NewChange {
    pub kind: String,
    pub unit: UnitId,
    pub person: Option<PersonId>,
    /// JSON.
    pub payload: String,
    pub reason: String,
    pub filed_by: String,
    pub filed_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    pub id: i64,
    pub kind: String,
    pub unit: UnitId,
    pub person: Option<PersonId>,
    pub payload: String,
    pub reason: String,
    pub state: ChangeState,
    pub filed_by: String,
    pub filed_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub decision_note: Option<String>,
}

/// A change to the directory applied by a decision or the sweep.
#[derive(Debug, Clone)]
pub enum LifecycleEffect {
    /// The person's state; their account follows (active, or revoked with `revoked_at`).
    SetPersonState {
        person: PersonId,
        state: PersonState,
    },
    /// The person moves to another unit (address and mailbox unchanged).
    MovePerson { person: PersonId, unit: UnitId },
    /// The retention of a revoked mailbox is over: its account, folders and messages go; the
    /// person stays with their address, now `reserved`.
    PurgeMailbox { person: PersonId },
    /// A person gets a (new) mailbox account: a re-issue after the retention.
    LinkAccount {
        person: PersonId,
        account: AccountId,
    },
    /// The unit's head, who owns its mailbox (Đ12.3: a handover).
    SetUnitHead { unit: UnitId, person: PersonId },
    /// Every delegation of the unit's mailbox ends but those of the accounts in `keep` (a
    /// handover: the delegates the new head confirms stay).
    EndDelegations { unit: UnitId, keep: Vec<AccountId> },
    /// The unit mailbox is revoked by the inactivity sweep (sign-in, delivery and its folders
    /// in its owner's and delegates' lists end; the data stays), or re-opened (its inactivity
    /// counted afresh from `at`).
    SetUnitMailboxOpen { unit: UnitId, open: bool },
    /// A new password (a re-issue hands out a fresh one-time password).
    SetPassword {
        account: AccountId,
        hash: String,
        must_change: bool,
    },
    /// The person's details (a change request "update"): each field given replaces the stored
    /// one (`Some(None)` clears position or phone); the account's display name follows the
    /// full name. Address and mailbox are untouched.
    SetPersonDetails {
        person: PersonId,
        full_name: Option<String>,
        position: Option<Option<String>>,
        phone: Option<Option<String>>,
        public: Option<bool>,
    },
    /// The person's address changes (a corrected name, at the focal unit's request): the
    /// person's and the account's address become `address`, the old address becomes an alias
    /// of it (mail to it still arrives) and aliases that pointed to the old address point to
    /// the new one (one hop). `address` already given (account, person, unit or alias) is a
    /// [`crate::StoreError::Conflict`].
    ReaddressPerson { person: PersonId, address: String },
    /// A change to the organisation tree (units created, renamed, moved, merged, dissolved).
    Unit(UnitEffect),
    /// A compromised account's incident ([`crate::NewIncident::locks_account`]) ends with the
    /// password reset (Đ13.4): the agency's written confirmation is kept (its blob, already
    /// put, referenced from now on) and the incident resolved with `note`. An incident that
    /// does not exist, does not lock an account or is resolved already is a
    /// [`crate::StoreError::Conflict`] and nothing of the write happens.
    ResolveCompromise {
        incident: i64,
        note: String,
        confirmation: crate::Confirmation,
    },
}

/// A change to the organisation tree after go-live (Đ6), applied in order with the other
/// effects of a lifecycle write: a reorganisation is many of them in ONE transaction. Units
/// are named by id when they exist before the write, by code where an earlier effect of the
/// same write may have created or re-coded them.
#[derive(Debug, Clone)]
pub enum UnitEffect {
    /// New units with their mailboxes (standard folders), parents by code: stored, or earlier
    /// in the list.
    Create {
        units: Vec<crate::NewUnit>,
        folders: &'static [(&'static str, Option<crate::SpecialUse>)],
    },
    /// A unit's code, kind and name (a rename; a reorganisation's unit that continues under a
    /// new code). Its mailbox's display name follows the name.
    Rename {
        unit: UnitId,
        code: String,
        kind: String,
        name: String,
    },
    /// A unit's address changes, and its mailbox's with it; the old address becomes an alias
    /// of the new one and the aliases to the old one follow (one hop).
    Readdress { unit: UnitId, address: String },
    /// The unit's parent, by code (`None`: the top of the tree).
    Reparent {
        unit: UnitId,
        parent_code: Option<String>,
    },
    /// Every person of `from` moves to the unit coded `into`; the head of `from` is no longer
    /// its head.
    MovePeople { from: UnitId, into: String },
    /// `from` is merged into the unit coded `into`: its mailbox's folders move into `into`'s
    /// mailbox under `folder_prefix/` (messages, UIDs and flags kept; a new UIDVALIDITY; no
    /// special use), its delegations end, its address becomes an alias of `into`'s and the
    /// aliases to it follow, its mailbox account goes, its administrators' scope moves to
    /// `into`, and it leaves the directory (`dissolved_at`, `merged_into`). People and child
    /// units still in it are a [`crate::StoreError::Conflict`]: move them first.
    Merge {
        from: UnitId,
        into: String,
        folder_prefix: String,
    },
    /// The unit leaves the directory: its mailbox is revoked (no sign-in, no delivery, data
    /// kept), its delegations end. People or child units still in it, or administrators
    /// confined to it, are a [`crate::StoreError::Conflict`].
    Dissolve { unit: UnitId },
}

/// The decision of a filed change request.
#[derive(Debug, Clone)]
pub struct Decision {
    pub change: i64,
    pub state: ChangeState,
    pub by: String,
    pub note: Option<String>,
    /// The person the request concerns once known (a new hire's created person).
    pub person: Option<PersonId>,
}

/// One lifecycle write: a decision, its effects, inactivity warnings and audit rows, all in one
/// transaction.
#[derive(Debug, Clone, Default)]
pub struct LifecycleWrite<'a> {
    pub at: i64,
    pub decision: Option<Decision>,
    pub effects: &'a [LifecycleEffect],
    /// (account, access period start, days before) of warnings sent.
    pub warnings: &'a [(AccountId, i64, u32)],
    pub audit: &'a [NewAudit],
}

#[derive(Debug, Clone)]
pub struct NewNotice {
    pub year: i32,
    pub number: u32,
    pub reference: String,
    pub unit: UnitId,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRecord {
    pub id: i64,
    pub year: i32,
    pub number: u32,
    pub reference: String,
    pub unit: UnitId,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub created_at: i64,
}

/// An inactivity warning already sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WarningRecord {
    pub account: AccountId,
    pub since: i64,
    pub days: u32,
}

/// An account that is not a person of the directory (postmaster, a system or test mailbox),
/// recorded with the reason it is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountException {
    pub account: AccountId,
    pub address: String,
    pub display_name: String,
    pub reason: String,
    pub created_by: String,
    pub created_at: i64,
}

/// The lifecycle of mailboxes (Đ8) in storage terms (part of the storage contract,
/// [`crate::contract`]): administrators, change requests, notices, inactivity warnings and the
/// append-only audit log, each write with its audit rows in one transaction.
#[async_trait::async_trait]
pub trait LifecycleStore: Send + Sync {
    /// Grants (or changes) an administrator's scope.
    async fn grant_admin(
        &self,
        account: AccountId,
        scope: AdminScope,
        granted_by: &str,
        at: i64,
        audit: &[NewAudit],
    ) -> Result<()>;

    /// Removes an administrator; false when the account was not one.
    async fn revoke_admin(&self, account: AccountId, at: i64, audit: &[NewAudit]) -> Result<bool>;

    async fn admins(&self) -> Result<Vec<AdminRecord>>;

    async fn admin(&self, account: AccountId) -> Result<Option<AdminRecord>>;

    async fn file_change(&self, change: &NewChange, audit: &[NewAudit]) -> Result<i64>;

    async fn change(&self, id: i64) -> Result<Option<ChangeRecord>>;

    /// Every change request, newest first.
    async fn changes(&self) -> Result<Vec<ChangeRecord>>;

    /// Applies a decision with its effects and audit rows in one transaction. A decision on a
    /// request no longer filed is a [`crate::StoreError::Conflict`] and changes nothing.
    async fn write_lifecycle(&self, write: &LifecycleWrite<'_>) -> Result<()>;

    /// The next free notice number of a year.
    async fn next_notice_number(&self, year: i32) -> Result<u32>;

    /// Stores a notice; its number taken already is a [`crate::StoreError::Conflict`].
    async fn insert_notice(&self, notice: &NewNotice, audit: &[NewAudit]) -> Result<i64>;

    async fn notice(&self, id: i64) -> Result<Option<NoticeRecord>>;

    /// Every notice, newest first.
    async fn notices(&self) -> Result<Vec<NoticeRecord>>;

    async fn inactivity_warnings(&self) -> Result<Vec<WarningRecord>>;

    /// The audit log in order.
    async fn audit_log(&self) -> Result<Vec<AuditRecord>>;

    /// Records the head of the audit log as `day`'s checkpoint, unless the day has one or the
    /// log is empty (`None` then). Taken under the chain's lock, so the head is a committed row.
    async fn add_checkpoint(&self, day: i64, at: i64) -> Result<Option<CheckpointRecord>>;

    /// Every checkpoint, oldest first.
    async fn checkpoints(&self) -> Result<Vec<CheckpointRecord>>;

    /// The newest `limit` rows of the audit log about `target` (exactly), newest first.
    async fn audit_for(&self, target: &str, limit: u32) -> Result<Vec<AuditRecord>>;

    /// Marks the first sign-in with a one-time password (kept if already set); returns when
    /// it was.
    async fn activate(&self, account: AccountId, at: i64) -> Result<i64>;

    /// Revoked accounts with when they were revoked: (account, revoked_at).
    async fn revoked_accounts(&self) -> Result<Vec<(AccountId, i64)>>;

    /// When a revoked account was revoked.
    async fn revoked_at(&self, account: AccountId) -> Result<Option<i64>>;

    /// Creates an account that is not a person of the directory, with `folders`, its
    /// exception row (`reason`, `created_by`, at `account.created_at`) and `audit`, in ONE
    /// transaction. An address taken already is a [`crate::StoreError::Conflict`] and writes
    /// nothing.
    async fn create_exception_account(
        &self,
        account: &crate::NewAccount,
        folders: &[(&str, Option<crate::SpecialUse>)],
        reason: &str,
        created_by: &str,
        audit: &[NewAudit],
    ) -> Result<AccountId>;

    /// Every recorded exception, by account id.
    async fn account_exceptions(&self) -> Result<Vec<AccountException>>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewDirectory, NewPerson, NewUnit, SpecialUse, Store, StoreError};

    use crate::testing::{Kind, on_each_backend};

    async fn open(kind: Kind) -> Store {
        crate::testing::open(kind).await.0
    }

    fn audit(action: &str) -> NewAudit {
        NewAudit {
            actor: "qtv@caobang.gov.vn".into(),
            action: action.into(),
            target: "change:{id}".into(),
            before: None,
            after: Some("{}".into()),
        }
    }

    async fn a_decision_applies_once_with_its_audit_rows_in_a_chain(kind: Kind) {
        let store = open(kind).await;
        let folders: &[(&str, Option<SpecialUse>)] = &[("INBOX", None)];
        let created = store
            .create_directory(&NewDirectory {
                units: &[NewUnit {
                    code: "U1".into(),
                    kind: "department".into(),
                    name: "Sở Nội vụ".into(),
                    parent_code: None,
                    address: "sonoivu@caobang.gov.vn".into(),
                    password_hash: "h".into(),
                    must_change_password: true,
                }],
                people: &[NewPerson {
                    full_name: "Nông Văn Đạt".into(),
                    unit_code: "U1".into(),
                    position: None,
                    staff_id: None,
                    phone: None,
                    address: "datnv@caobang.gov.vn".into(),
                    public: false,
                    head: false,
                    password_hash: "h".into(),
                    must_change_password: true,
                }],
                aliases: &[],
                folders,
                created_at: 1,
                audit: &[],
            })
            .await
            .unwrap();
        let (unit, _) = created.units[0];
        let (person, account) = created.people[0];
        let id = store
            .file_change(
                &NewChange {
                    kind: "retirement".into(),
                    unit,
                    person: Some(person),
                    payload: "{}".into(),
                    reason: String::new(),
                    filed_by: "cntt@caobang.gov.vn".into(),
                    filed_at: 10,
                },
                &[audit("change.file")],
            )
            .await
            .unwrap();
        let effects = [LifecycleEffect::SetPersonState {
            person,
            state: PersonState::Revoked,
        }];
        let write = LifecycleWrite {
            at: 20,
            decision: Some(Decision {
                change: id,
                state: ChangeState::Approved,
                by: "qtv@caobang.gov.vn".into(),
                note: None,
                person: None,
            }),
            effects: &effects,
            warnings: &[],
            audit: &[audit("change.approve")],
        };
        store.write_lifecycle(&write).await.unwrap();
        assert_eq!(store.revoked_at(account).await.unwrap(), Some(20));
        assert_eq!(
            store.account(account).await.unwrap().unwrap().state,
            crate::AccountState::Revoked
        );
        // Deciding again is refused and writes nothing (no third audit row).
        let err = store.write_lifecycle(&write).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        let log = store.audit_log().await.unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].target, format!("change:{id}"));
        assert_eq!(log[0].prev_hash, AUDIT_GENESIS);
        assert_eq!(log[1].prev_hash, log[0].hash);
        let row = NewAudit {
            target: log[1].target.clone(),
            ..audit("change.approve")
        };
        assert_eq!(log[1].hash, audit_hash(&log[0].hash, 20, &row));

        // Re-issue: active again, and the inactivity counts from the re-issue.
        store
            .write_lifecycle(&LifecycleWrite {
                at: 30,
                effects: &[LifecycleEffect::SetPersonState {
                    person,
                    state: PersonState::Active,
                }],
                ..LifecycleWrite::default()
            })
            .await
            .unwrap();
        let record = store.account(account).await.unwrap().unwrap();
        assert_eq!(record.state, crate::AccountState::Active);
        assert_eq!(record.last_access_at, Some(30));
        assert_eq!(store.revoked_at(account).await.unwrap(), None);
    }

    async fn a_notice_number_is_given_once_per_year(kind: Kind) {
        let store = open(kind).await;
        let folders: &[(&str, Option<SpecialUse>)] = &[("INBOX", None)];
        let created = store
            .create_directory(&NewDirectory {
                units: &[NewUnit {
                    code: "U1".into(),
                    kind: "department".into(),
                    name: "Sở Y tế".into(),
                    parent_code: None,
                    address: "soyte@caobang.gov.vn".into(),
                    password_hash: "h".into(),
                    must_change_password: true,
                }],
                people: &[],
                aliases: &[],
                folders,
                created_at: 1,
                audit: &[],
            })
            .await
            .unwrap();
        let notice = |year, number| NewNotice {
            year,
            number,
            reference: format!("{number}/TB-SKHCN"),
            unit: created.units[0].0,
            subject: "Về việc cấp hộp thư điện tử".into(),
            body_text: "x".into(),
            body_html: "<p>x</p>".into(),
            created_at: 5,
        };
        assert_eq!(store.next_notice_number(2026).await.unwrap(), 1);
        store.insert_notice(&notice(2026, 1), &[]).await.unwrap();
        assert_eq!(store.next_notice_number(2026).await.unwrap(), 2);
        assert_eq!(store.next_notice_number(2027).await.unwrap(), 1);
        let err = store
            .insert_notice(&notice(2026, 1), &[])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        store.insert_notice(&notice(2027, 1), &[]).await.unwrap();
        assert_eq!(store.notices().await.unwrap().len(), 2);
    }

    async fn checkpoints_anchor_the_head_once_a_day(kind: Kind) {
        let store = open(kind).await;
        assert_eq!(
            store.add_checkpoint(20_000, 5).await.unwrap(),
            None,
            "empty log"
        );
        let write = |at| LifecycleWrite {
            at,
            audit: &[],
            ..LifecycleWrite::default()
        };
        let row = [audit("admin.grant")];
        store
            .write_lifecycle(&LifecycleWrite {
                audit: &row,
                ..write(10)
            })
            .await
            .unwrap();
        let first = store.add_checkpoint(20_000, 11).await.unwrap().unwrap();
        let log = store.audit_log().await.unwrap();
        assert_eq!(
            (first.row_id, first.hash.as_str()),
            (log[0].id, log[0].hash.as_str())
        );
        assert_eq!(
            store.add_checkpoint(20_000, 12).await.unwrap(),
            None,
            "once a day"
        );
        store
            .write_lifecycle(&LifecycleWrite {
                audit: &row,
                ..write(20)
            })
            .await
            .unwrap();
        let second = store.add_checkpoint(20_001, 21).await.unwrap().unwrap();
        assert_eq!(second.row_id, store.audit_log().await.unwrap()[1].id);
        assert_eq!(store.checkpoints().await.unwrap(), vec![first, second]);
    }

    fn new_unit(code: &str, kind: &str, parent: Option<&str>, local: &str) -> NewUnit {
        NewUnit {
            code: code.into(),
            kind: kind.into(),
            name: format!("Đơn vị {code}"),
            parent_code: parent.map(Into::into),
            address: format!("{local}@caobang.gov.vn"),
            password_hash: "h".into(),
            must_change_password: true,
        }
    }

    async fn a_reorganisation_moves_units_people_mail_and_addresses_in_one_write(kind: Kind) {
        use crate::{AliasRecord, Delivery};
        let store = open(kind).await;
        let folders: &'static [(&'static str, Option<SpecialUse>)] =
            &[("INBOX", None), ("Sent", Some(SpecialUse::Sent))];
        let person = |unit: &str, local: &str| NewPerson {
            full_name: "Nông Văn Đạt".into(),
            unit_code: unit.into(),
            position: None,
            staff_id: None,
            phone: None,
            address: format!("{local}@caobang.gov.vn"),
            public: true,
            head: true,
            password_hash: "h".into(),
            must_change_password: true,
        };
        let created = store
            .create_directory(&NewDirectory {
                units: &[
                    new_unit("D1", "district", None, "baolac"),
                    new_unit("C1", "commune", Some("D1"), "hungdao.baolac"),
                    new_unit("C2", "commune", Some("D1"), "xuanhoa"),
                ],
                people: &[person("C1", "datnv"), person("C2", "hoanv")],
                aliases: &[AliasRecord {
                    address: "xuanhoa.cu@caobang.gov.vn".into(),
                    target: "xuanhoa@caobang.gov.vn".into(),
                }],
                folders,
                created_at: 1,
                audit: &[],
            })
            .await
            .unwrap();
        let [(d1, _), (c1, c1_account), (c2, c2_account)] = created.units[..] else {
            panic!("three units")
        };
        let c2_inbox = store
            .mailbox_by_name(c2_account, "INBOX")
            .await
            .unwrap()
            .unwrap();
        let body = b"Subject: x\r\n\r\nthu cua xa Xuan Hoa\r\n".to_vec();
        let blob = store
            .blobs()
            .put(std::sync::Arc::new(body.clone()))
            .await
            .unwrap();
        store
            .deliver(&Delivery {
                received: true,
                blob: &blob,
                size: body.len() as u32,
                internal_date: 1,
                targets: &crate::same_flags(&[c2_inbox.id], &hopthu_model::Flags::new()),
                queue: &[],
            })
            .await
            .unwrap();

        // A group of C2's people: it follows C2 into C1.
        store
            .create_group(
                &crate::NewGroup {
                    address: "nhom.xuanhoa@caobang.gov.vn".into(),
                    name: "Xuân Hòa".into(),
                    unit: Some(c2),
                    subtree: false,
                    heads: false,
                    members: Vec::new(),
                    senders: crate::GroupSenders::Anyone,
                    named_senders: Vec::new(),
                    created_by: "cli:test".into(),
                    created_at: 1,
                },
                &[],
            )
            .await
            .unwrap();

        // One write: a new top unit, C1 continues under a new code and address below it, C2's
        // people and mail go to C1, D1 is dissolved once empty.
        let effects: Vec<LifecycleEffect> = [
            UnitEffect::Create {
                units: vec![new_unit("N0", "province", None, "tinh")],
                folders,
            },
            UnitEffect::Rename {
                unit: c1,
                code: "N1".into(),
                kind: "commune".into(),
                name: "Xã Hưng Đạo".into(),
            },
            UnitEffect::Readdress {
                unit: c1,
                address: "hungdao@caobang.gov.vn".into(),
            },
            UnitEffect::Reparent {
                unit: c1,
                parent_code: Some("N0".into()),
            },
            UnitEffect::MovePeople {
                from: c2,
                into: "N1".into(),
            },
            UnitEffect::Merge {
                from: c2,
                into: "N1".into(),
                folder_prefix: "Lưu trữ/xuanhoa".into(),
            },
            UnitEffect::Dissolve { unit: d1 },
        ]
        .into_iter()
        .map(LifecycleEffect::Unit)
        .collect();
        store
            .write_lifecycle(&LifecycleWrite {
                at: 50,
                effects: &effects,
                audit: &[audit("directory.reorganise")],
                ..LifecycleWrite::default()
            })
            .await
            .unwrap();

        let units = store.units().await.unwrap();
        let codes: Vec<&str> = units.iter().map(|u| u.code.as_str()).collect();
        assert_eq!(codes, ["N1", "N0"], "merged and dissolved units leave");
        let n0 = units.iter().find(|u| u.code == "N0").unwrap();
        let n1 = units.iter().find(|u| u.code == "N1").unwrap();
        assert_eq!((n1.id, n1.parent), (c1, Some(n0.id)));
        assert_eq!(n1.address, "hungdao@caobang.gov.vn");
        assert_eq!(n1.head, created.people.first().map(|p| p.0));
        let people = store.people().await.unwrap();
        assert!(people.iter().all(|p| p.unit == c1), "{people:?}");
        let group = store
            .group_by_address("nhom.xuanhoa@caobang.gov.vn")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(group.unit, Some(c1), "the merged unit's group follows it");
        // The unit mailbox answers at its new address; the old ones are aliases of it, and an
        // alias to a merged address follows it (one hop).
        assert_eq!(
            store
                .account_by_address("hungdao@caobang.gov.vn")
                .await
                .unwrap()
                .map(|a| a.id),
            Some(c1_account)
        );
        for old in [
            "hungdao.baolac@caobang.gov.vn",
            "xuanhoa@caobang.gov.vn",
            "xuanhoa.cu@caobang.gov.vn",
        ] {
            assert_eq!(
                store.alias_target(old).await.unwrap().as_deref(),
                Some("hungdao@caobang.gov.vn"),
                "{old}"
            );
        }
        // C2's mail is in C1's mailbox under the prefix, without special use; its account is
        // gone.
        let names: Vec<(String, Option<SpecialUse>)> = store
            .mailboxes(c1_account)
            .await
            .unwrap()
            .into_iter()
            .map(|m| (m.name, m.special_use))
            .collect();
        for wanted in [
            "Lưu trữ",
            "Lưu trữ/xuanhoa",
            "Lưu trữ/xuanhoa/INBOX",
            "Lưu trữ/xuanhoa/Sent",
        ] {
            assert!(
                names.iter().any(|(n, u)| n == wanted && u.is_none()),
                "{wanted} in {names:?}"
            );
        }
        let moved = store
            .mailbox_by_name(c1_account, "Lưu trữ/xuanhoa/INBOX")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(store.messages(moved.id).await.unwrap().len(), 1);
        assert!(store.account(c2_account).await.unwrap().is_none());
        assert!(
            store
                .subscriptions(c1_account)
                .await
                .unwrap()
                .contains(&"Lưu trữ/xuanhoa/INBOX".to_string())
        );
        assert_eq!(store.audit_log().await.unwrap().len(), 1);

        // A unit that still holds people cannot go, and the failed write changes nothing.
        let err = store
            .write_lifecycle(&LifecycleWrite {
                at: 60,
                effects: &[
                    LifecycleEffect::Unit(UnitEffect::Reparent {
                        unit: c1,
                        parent_code: None,
                    }),
                    LifecycleEffect::Unit(UnitEffect::Dissolve { unit: c1 }),
                ],
                audit: &[audit("x")],
                ..LifecycleWrite::default()
            })
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        let n1 = store
            .units()
            .await
            .unwrap()
            .into_iter()
            .find(|u| u.code == "N1")
            .unwrap();
        assert_eq!(n1.parent, Some(n0.id));
        assert_eq!(store.audit_log().await.unwrap().len(), 1);
        // A cycle is refused.
        let err = store
            .write_lifecycle(&LifecycleWrite {
                at: 70,
                effects: &[LifecycleEffect::Unit(UnitEffect::Reparent {
                    unit: n0.id,
                    parent_code: Some("N1".into()),
                })],
                ..LifecycleWrite::default()
            })
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    }

    async fn an_address_change_keeps_the_old_address_as_an_alias(kind: Kind) {
        let store = open(kind).await;
        let folders: &[(&str, Option<SpecialUse>)] = &[("INBOX", None)];
        let person = |name: &str, address: &str| NewPerson {
            full_name: name.into(),
            unit_code: "U1".into(),
            position: Some("Chuyên viên".into()),
            staff_id: None,
            phone: Some("0206 385 2222".into()),
            address: address.into(),
            public: false,
            head: false,
            password_hash: "h".into(),
            must_change_password: true,
        };
        let created = store
            .create_directory(&NewDirectory {
                units: &[NewUnit {
                    code: "U1".into(),
                    kind: "department".into(),
                    name: "Sở Nội vụ".into(),
                    parent_code: None,
                    address: "sonoivu@caobang.gov.vn".into(),
                    password_hash: "h".into(),
                    must_change_password: true,
                }],
                people: &[
                    person("Nông Văn Đat", "datnv@caobang.gov.vn"),
                    person("Lục Thị Hoa", "hoalt@caobang.gov.vn"),
                ],
                aliases: &[crate::AliasRecord {
                    address: "dat.nong@caobang.gov.vn".into(),
                    target: "datnv@caobang.gov.vn".into(),
                }],
                folders,
                created_at: 1,
                audit: &[],
            })
            .await
            .unwrap();
        let (dat, account) = created.people[0];
        let (hoa, _) = created.people[1];
        let effects = [
            LifecycleEffect::SetPersonDetails {
                person: dat,
                full_name: Some("Nông Văn Đạt".into()),
                position: Some(None),
                phone: None,
                public: Some(true),
            },
            LifecycleEffect::ReaddressPerson {
                person: dat,
                address: "datnv2@caobang.gov.vn".into(),
            },
        ];
        store
            .write_lifecycle(&LifecycleWrite {
                at: 20,
                effects: &effects,
                audit: &[audit("change.approve.update")],
                ..LifecycleWrite::default()
            })
            .await
            .unwrap();
        let people = store.people().await.unwrap();
        let p = people.iter().find(|p| p.id == dat).unwrap();
        assert_eq!(p.full_name, "Nông Văn Đạt");
        assert_eq!(p.address, "datnv2@caobang.gov.vn");
        assert_eq!(p.position, None);
        assert_eq!(p.phone.as_deref(), Some("0206 385 2222"));
        assert!(p.public);
        let a = store.account(account).await.unwrap().unwrap();
        assert_eq!(a.address, "datnv2@caobang.gov.vn");
        assert_eq!(a.display_name, "Nông Văn Đạt");
        // The old address and the alias of it both reach the new one (one hop).
        for old in ["datnv@caobang.gov.vn", "dat.nong@caobang.gov.vn"] {
            assert_eq!(
                store.alias_target(old).await.unwrap().as_deref(),
                Some("datnv2@caobang.gov.vn"),
                "{old}"
            );
        }

        // An address already given is a conflict, and nothing of the write stays.
        for taken in [
            "hoalt@caobang.gov.vn",
            "datnv@caobang.gov.vn",
            "sonoivu@caobang.gov.vn",
        ] {
            let err = store
                .write_lifecycle(&LifecycleWrite {
                    at: 30,
                    effects: &[
                        LifecycleEffect::SetPersonDetails {
                            person: dat,
                            full_name: Some("Nông Văn Đạt Mới".into()),
                            position: None,
                            phone: None,
                            public: None,
                        },
                        LifecycleEffect::ReaddressPerson {
                            person: dat,
                            address: taken.into(),
                        },
                    ],
                    audit: &[audit("change.approve.update")],
                    ..LifecycleWrite::default()
                })
                .await
                .unwrap_err();
            assert!(matches!(err, StoreError::Conflict(_)), "{taken}: {err}");
        }
        let people = store.people().await.unwrap();
        let p = people.iter().find(|p| p.id == dat).unwrap();
        assert_eq!(
            (p.full_name.as_str(), p.address.as_str()),
            ("Nông Văn Đạt", "datnv2@caobang.gov.vn")
        );
        assert!(
            people
                .iter()
                .any(|p| p.id == hoa && p.address == "hoalt@caobang.gov.vn")
        );
        assert_eq!(store.audit_log().await.unwrap().len(), 1);
    }

    on_each_backend!(
        a_decision_applies_once_with_its_audit_rows_in_a_chain,
        a_notice_number_is_given_once_per_year,
        checkpoints_anchor_the_head_once_a_day,
        a_reorganisation_moves_units_people_mail_and_addresses_in_one_write,
        an_address_change_keeps_the_old_address_as_an_alias
    );
}
