//! Group addresses in storage terms: one address whose mail goes to many mailboxes. A group
//! keeps its directory rule (a unit, with or without its subtree, and whether only heads of
//! units), its hand-made members, and who may send to it; its members are resolved from the
//! directory when mail arrives ([`MailGroupStore::directory_members`]), so a group follows
//! the directory without being rewritten. Which addresses may be a group, a member or a
//! sender is decided in core. Every write takes its audit rows in the SAME transaction
//! ([`crate::contract`] §6, §26).

use hopthu_model::{AccountId, UnitId};

use crate::Result;
use crate::lifecycle::NewAudit;

/// Who may send to a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupSenders {
    /// Anyone, from anywhere.
    Anyone,
    /// Only its members, signed in.
    Members,
    /// Only people of the province signed in through submission.
    Province,
    /// Only the addresses of [`GroupRecord::senders`].
    Named,
}

impl GroupSenders {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupSenders::Anyone => "anyone",
            GroupSenders::Members => "members",
            GroupSenders::Province => "province",
            GroupSenders::Named => "named",
        }
    }

    pub fn parse(s: &str) -> Option<GroupSenders> {
        Some(match s {
            "anyone" => GroupSenders::Anyone,
            "members" => GroupSenders::Members,
            "province" => GroupSenders::Province,
            "named" => GroupSenders::Named,
            _ => return None,
        })
    }
}

/// A group to create.
#[derive(Debug, Clone)]
pub struct NewGroup {
    /// `local@domain`, lower case.
    pub address: String,
    pub name: String,
    /// The unit whose people (or heads) are members; `None`: no unit (with `heads`, every
    /// head of the province).
    pub unit: Option<UnitId>,
    /// With `unit`: the units below it too.
    pub subtree: bool,
    /// Only the heads of the units.
    pub heads: bool,
    /// The hand-made members' addresses.
    pub members: Vec<String>,
    pub senders: GroupSenders,
    /// With [`GroupSenders::Named`]: who may send.
    pub named_senders: Vec<String>,
    pub created_by: String,
    pub created_at: i64,
}

/// A group as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    pub id: i64,
    pub address: String,
    pub name: String,
    pub unit: Option<UnitId>,
    pub subtree: bool,
    pub heads: bool,
    /// The hand-made members, by address.
    pub members: Vec<String>,
    pub senders: GroupSenders,
    /// The named senders, by address.
    pub named_senders: Vec<String>,
    pub created_by: String,
    pub created_at: i64,
}

/// Group addresses (part of the storage contract, [`crate::contract`] §26).
#[async_trait::async_trait]
pub trait MailGroupStore: Send + Sync {
    /// Creates a group with its members and named senders, and `audit`, in one transaction;
    /// an address already a group's is a [`crate::StoreError::Conflict`] and nothing is
    /// written.
    async fn create_group(&self, group: &NewGroup, audit: &[NewAudit]) -> Result<i64>;

    /// Every group, by address.
    async fn groups(&self) -> Result<Vec<GroupRecord>>;

    /// The group at `address` (exactly as stored, lower case), if any: one indexed look-up,
    /// asked for every local recipient at RCPT and delivery.
    async fn group_by_address(&self, address: &str) -> Result<Option<GroupRecord>>;

    /// Deletes the group at `address` with its members and senders, and writes `audit`; true
    /// when it existed, false (and nothing written, not even `audit`) when not.
    async fn delete_group(&self, address: &str, at: i64, audit: &[NewAudit]) -> Result<bool>;

    /// The directory's side of a group's members, read now: the accounts (with their
    /// addresses) of the active people of `units` whose mailbox is active, or with `heads`
    /// of the heads of `units` (of every unit not dissolved when `units` is `None`); each
    /// account once, by address.
    async fn directory_members(
        &self,
        units: Option<&[UnitId]>,
        heads: bool,
    ) -> Result<Vec<(AccountId, String)>>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Kind, on_each_backend};
    use crate::{
        LifecycleEffect, LifecycleWrite, NewDirectory, NewPerson, NewUnit, PersonState, SpecialUse,
        StoreError,
    };

    fn unit(code: &str, parent: Option<&str>, local: &str) -> NewUnit {
        NewUnit {
            code: code.into(),
            kind: "commune".into(),
            name: format!("Xã {code}"),
            parent_code: parent.map(Into::into),
            address: format!("{local}@caobang.gov.vn"),
            password_hash: "h".into(),
            must_change_password: true,
        }
    }

    fn person(unit: &str, local: &str, head: bool) -> NewPerson {
        NewPerson {
            full_name: "Nông Văn Đạt".into(),
            unit_code: unit.into(),
            position: None,
            staff_id: None,
            phone: None,
            address: format!("{local}@caobang.gov.vn"),
            public: true,
            head,
            password_hash: "h".into(),
            must_change_password: true,
        }
    }

    fn audit(action: &str) -> NewAudit {
        NewAudit {
            actor: "cli:root".into(),
            action: action.into(),
            target: "group:x".into(),
            before: None,
            after: None,
        }
    }

    fn addresses(rows: &[(AccountId, String)]) -> Vec<&str> {
        rows.iter()
            .map(|(_, a)| a.split('@').next().unwrap())
            .collect()
    }

    async fn groups_are_stored_resolved_from_the_directory_and_deleted(kind: Kind) {
        let (store, _dir) = crate::testing::open(kind).await;
        let units = [
            unit("D1", None, "baolac"),
            unit("C1", Some("D1"), "hungdao"),
            unit("D2", None, "hoaan"),
        ];
        let people = [
            person("D1", "an", true),
            person("D1", "binh", false),
            person("C1", "chi", true),
            person("C1", "dung", false),
            person("D2", "em", true),
        ];
        let created = store
            .create_directory(&NewDirectory {
                units: &units,
                people: &people,
                aliases: &[],
                folders: &[("INBOX", None), ("Sent", Some(SpecialUse::Sent))],
                created_at: 1,
                audit: &[],
            })
            .await
            .unwrap();
        let (d1, c1) = (created.units[0].0, created.units[1].0);

        let group = NewGroup {
            address: "toanxa@caobang.gov.vn".into(),
            name: "Toàn xã".into(),
            unit: Some(d1),
            subtree: true,
            heads: false,
            members: vec!["ngoai@caobang.gov.vn".into()],
            senders: GroupSenders::Named,
            named_senders: vec!["vanthu@caobang.gov.vn".into(), "x@example.org".into()],
            created_by: "cli:root".into(),
            created_at: 10,
        };
        let id = store
            .create_group(&group, &[audit("group.create")])
            .await
            .unwrap();
        // The address is taken: nothing is written, not even the audit row.
        let audit_rows = store.audit_log().await.unwrap().len();
        let err = store
            .create_group(&group, &[audit("group.create")])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        assert_eq!(store.audit_log().await.unwrap().len(), audit_rows);

        let stored = store
            .group_by_address("toanxa@caobang.gov.vn")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.id, id);
        assert_eq!(stored.unit, Some(d1));
        assert!(stored.subtree && !stored.heads);
        assert_eq!(stored.members, vec!["ngoai@caobang.gov.vn".to_string()]);
        assert_eq!(stored.senders, GroupSenders::Named);
        assert_eq!(
            stored.named_senders,
            vec!["vanthu@caobang.gov.vn".to_string(), "x@example.org".into()]
        );
        assert_eq!(store.groups().await.unwrap(), vec![stored]);
        assert_eq!(
            store.group_by_address("khac@caobang.gov.vn").await.unwrap(),
            None
        );

        // People of units, heads of units, heads of every unit.
        let both = [d1, c1];
        let rows = store.directory_members(Some(&both), false).await.unwrap();
        assert_eq!(addresses(&rows), vec!["an", "binh", "chi", "dung"]);
        let rows = store.directory_members(Some(&[d1]), false).await.unwrap();
        assert_eq!(addresses(&rows), vec!["an", "binh"]);
        let rows = store.directory_members(Some(&both), true).await.unwrap();
        assert_eq!(addresses(&rows), vec!["an", "chi"]);
        let rows = store.directory_members(None, true).await.unwrap();
        assert_eq!(addresses(&rows), vec!["an", "chi", "em"]);

        // A revoked person is no member.
        let effects = [LifecycleEffect::SetPersonState {
            person: created.people[1].0,
            state: PersonState::Revoked,
        }];
        store
            .write_lifecycle(&LifecycleWrite {
                at: 20,
                decision: None,
                effects: &effects,
                warnings: &[],
                audit: &[],
            })
            .await
            .unwrap();
        let rows = store.directory_members(Some(&both), false).await.unwrap();
        assert_eq!(addresses(&rows), vec!["an", "chi", "dung"]);

        assert!(
            store
                .delete_group("toanxa@caobang.gov.vn", 30, &[audit("group.delete")])
                .await
                .unwrap()
        );
        assert!(
            !store
                .delete_group("toanxa@caobang.gov.vn", 31, &[audit("group.delete")])
                .await
                .unwrap()
        );
        assert!(store.groups().await.unwrap().is_empty());
        let log = store.audit_log().await.unwrap();
        assert_eq!(
            log.iter()
                .filter(|r| r.action.starts_with("group."))
                .count(),
            2
        );
    }

    on_each_backend!(groups_are_stored_resolved_from_the_directory_and_deleted);
}
