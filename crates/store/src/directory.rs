//! The directory in storage terms: units of the organisation tree, people, aliases and reserved
//! names, and the bulk creation an import needs (every unit, person, mailbox and alias of a file
//! in one transaction).
//!
//! The address rules themselves (`hopthu_model::naming`) and every check on names and codes
//! live above the store; here a unit is found by its code and an address is unique, nothing
//! more.

use hopthu_model::{AccountId, PersonId, UnitId};

use crate::{Result, SpecialUse};

/// The state of a person's address (Đ8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonState {
    /// The mailbox works.
    Active,
    /// Sign-in and delivery are off; data and address are kept for the person.
    Revoked,
    /// The address is held for the person; there is no mailbox.
    Reserved,
}

impl PersonState {
    pub fn as_str(self) -> &'static str {
        match self {
            PersonState::Active => "active",
            PersonState::Revoked => "revoked",
            PersonState::Reserved => "reserved",
        }
    }

    pub fn parse(s: &str) -> Option<PersonState> {
        Some(match s {
            "active" => PersonState::Active,
            "revoked" => PersonState::Revoked,
            "reserved" => PersonState::Reserved,
            _ => return None,
        })
    }
}

/// A unit of the organisation tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRecord {
    pub id: UnitId,
    /// The province's stable code (CB11-002).
    pub code: String,
    /// A kind id of the naming configuration.
    pub kind: String,
    /// The Vietnamese display name (NFC).
    pub name: String,
    pub parent: Option<UnitId>,
    /// The unit address, `local@domain`.
    pub address: String,
    /// The unit mailbox.
    pub account: Option<AccountId>,
    /// The head of the unit.
    pub head: Option<PersonId>,
    pub created_at: i64,
    /// When the unit mailbox was last opened: by its own password, or by its owner or a
    /// delegate (to within an hour, as a person's sign-in).
    pub last_access_at: Option<i64>,
    /// When the inactivity sweep revoked the unit mailbox (`[lifecycle]
    /// sweep_unit_mailboxes`); `None` while it is open.
    pub revoked_at: Option<i64>,
}

/// A person of the directory, with the access time of their mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    pub id: PersonId,
    /// NFC, cleaned (rule R1).
    pub full_name: String,
    pub unit: UnitId,
    pub position: Option<String>,
    pub staff_id: Option<String>,
    pub phone: Option<String>,
    /// The one personal address, `local@domain`.
    pub address: String,
    pub account: Option<AccountId>,
    pub state: PersonState,
    /// Published in the public directory (Đ6).
    pub public: bool,
    pub created_at: i64,
    /// The last successful sign-in of the mailbox (Đ8.3).
    pub last_access_at: Option<i64>,
}

/// An alias: mail to `address` is delivered to `target` (both full addresses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasRecord {
    pub address: String,
    pub target: String,
}

/// A local part held back from the rules (R11), with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservedName {
    pub local: String,
    pub note: String,
}

/// A unit to create with its mailbox.
#[derive(Debug, Clone)]
pub struct NewUnit {
    pub code: String,
    pub kind: String,
    pub name: String,
    /// The parent's code: a unit of the same batch or one already stored.
    pub parent_code: Option<String>,
    pub address: String,
    pub password_hash: String,
    pub must_change_password: bool,
}

/// A person to create with their mailbox.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub full_name: String,
    /// The unit's code: a unit of the same batch or one already stored.
    pub unit_code: String,
    pub position: Option<String>,
    pub staff_id: Option<String>,
    pub phone: Option<String>,
    pub address: String,
    pub public: bool,
    /// The person becomes the head of their unit.
    pub head: bool,
    pub password_hash: String,
    pub must_change_password: bool,
}

/// Everything an import creates, written in one transaction.
#[derive(Debug, Clone)]
pub struct NewDirectory<'a> {
    pub units: &'a [NewUnit],
    pub people: &'a [NewPerson],
    /// Aliases to add; one already present with the same target is left alone.
    pub aliases: &'a [AliasRecord],
    /// The folders each new mailbox gets.
    pub folders: &'a [(&'a str, Option<SpecialUse>)],
    pub created_at: i64,
    /// The audit rows of the import, appended in the same transaction.
    pub audit: &'a [crate::NewAudit],
}

/// The ids given by [`DirectoryStore::create_directory`], in the order of the batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreatedDirectory {
    pub units: Vec<(UnitId, AccountId)>,
    pub people: Vec<(PersonId, AccountId)>,
}

/// The province's directory in storage terms (part of the storage contract, [`crate::contract`]):
/// units, people, their addresses and aliases, and the reserved names of Đ7.3.
#[async_trait::async_trait]
pub trait DirectoryStore: Send + Sync {
    /// Creates units, people, their mailboxes (accounts with `folders`) and aliases, and
    /// appends `batch.audit`, in ONE transaction: all of it or nothing. A code or an address already taken is a
    /// [`crate::StoreError::Conflict`].
    async fn create_directory(&self, batch: &NewDirectory<'_>) -> Result<CreatedDirectory>;

    /// Every unit, by id.
    async fn units(&self) -> Result<Vec<UnitRecord>>;

    /// Every person, by id.
    async fn people(&self) -> Result<Vec<PersonRecord>>;

    /// The active people marked public (Đ6), by id.
    async fn public_people(&self) -> Result<Vec<PersonRecord>>;

    /// The address of every account (local parts given, whoever holds them).
    async fn account_addresses(&self) -> Result<Vec<String>>;

    async fn aliases(&self) -> Result<Vec<AliasRecord>>;

    /// The target of an alias, if `address` is one.
    async fn alias_target(&self, address: &str) -> Result<Option<String>>;

    /// Adds an alias with its `audit` rows in one transaction; [`crate::StoreError::Conflict`]
    /// when the address is an alias already (nothing written).
    async fn add_alias(
        &self,
        alias: &AliasRecord,
        created_at: i64,
        audit: &[crate::NewAudit],
    ) -> Result<()>;

    async fn reserved_names(&self) -> Result<Vec<ReservedName>>;

    /// Reserves a local part with its `audit` rows in one transaction;
    /// [`crate::StoreError::Conflict`] when it is reserved already (nothing written).
    async fn add_reserved_name(
        &self,
        name: &ReservedName,
        created_at: i64,
        audit: &[crate::NewAudit],
    ) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Store, StoreError};

    const FOLDERS: &[(&str, Option<SpecialUse>)] =
        &[("INBOX", None), ("Sent", Some(SpecialUse::Sent))];

    use crate::testing::{Kind, on_each_backend};

    async fn open(kind: Kind) -> Store {
        crate::testing::open(kind).await.0
    }

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
            position: Some("Chủ tịch".into()),
            staff_id: None,
            phone: None,
            address: format!("{local}@caobang.gov.vn"),
            public: true,
            head,
            password_hash: "h".into(),
            must_change_password: true,
        }
    }

    async fn a_batch_is_written_whole_or_not_at_all(kind: Kind) {
        let store = open(kind).await;
        // A child before its parent in the same batch.
        let units = [
            unit("C1", Some("D1"), "hungdao.baolac"),
            unit("D1", None, "baolac"),
        ];
        let people = [person("C1", "datnv", true)];
        let aliases = [AliasRecord {
            address: "datnv.cu@caobang.gov.vn".into(),
            target: "datnv@caobang.gov.vn".into(),
        }];
        let created = store
            .create_directory(&NewDirectory {
                units: &units,
                people: &people,
                aliases: &aliases,
                folders: FOLDERS,
                created_at: 100,
                audit: &[],
            })
            .await
            .unwrap();
        assert_eq!((created.units.len(), created.people.len()), (2, 1));
        let stored = store.units().await.unwrap();
        assert_eq!(stored[0].parent, Some(stored[1].id));
        assert_eq!(stored[0].head, Some(created.people[0].0));
        let (_, account) = created.people[0];
        assert_eq!(store.mailboxes(account).await.unwrap().len(), 2);
        assert_eq!(
            store
                .alias_target("datnv.cu@caobang.gov.vn")
                .await
                .unwrap()
                .as_deref(),
            Some("datnv@caobang.gov.vn")
        );
        assert_eq!(store.public_people().await.unwrap().len(), 1);

        // A second batch under a stored parent; one of its addresses is taken: nothing is written.
        let units = [unit("C2", Some("D1"), "xuanhoa")];
        let people = [person("C2", "datnv2", false), person("C2", "datnv", false)];
        let err = store
            .create_directory(&NewDirectory {
                units: &units,
                people: &people,
                aliases: &[],
                folders: FOLDERS,
                created_at: 200,
                audit: &[],
            })
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        assert_eq!(store.units().await.unwrap().len(), 2);
        assert_eq!(store.people().await.unwrap().len(), 1);
        assert_eq!(store.account_count().await.unwrap(), 3);

        // A code already stored is a conflict too.
        let err = store
            .create_directory(&NewDirectory {
                units: &[unit("D1", None, "baolac2")],
                people: &[],
                aliases: &[],
                folders: FOLDERS,
                created_at: 300,
                audit: &[],
            })
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        assert_eq!(store.account_count().await.unwrap(), 3);
    }

    fn audit(action: &str) -> crate::NewAudit {
        crate::NewAudit {
            actor: "cli:root".into(),
            action: action.into(),
            target: format!("test:{action}"),
            before: None,
            after: Some("{}".into()),
        }
    }

    async fn actions(store: &Store) -> Vec<String> {
        store
            .audit_log()
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.action)
            .collect()
    }

    async fn administrative_writes_commit_their_audit_rows_or_nothing(kind: Kind) {
        let store = open(kind).await;
        let units = [unit("D1", None, "baolac")];
        let people = [person("D1", "datnv", false)];
        store
            .create_directory(&NewDirectory {
                units: &units,
                people: &people,
                aliases: &[],
                folders: FOLDERS,
                created_at: 100,
                audit: &[audit("directory.import"), audit("directory.override")],
            })
            .await
            .unwrap();
        // A conflicting import writes neither its rows nor its audit.
        let err = store
            .create_directory(&NewDirectory {
                units: &[unit("D2", None, "baolac")],
                people: &[],
                aliases: &[],
                folders: FOLDERS,
                created_at: 110,
                audit: &[audit("directory.import.refused")],
            })
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");

        let alias = AliasRecord {
            address: "dat@caobang.gov.vn".into(),
            target: "datnv@caobang.gov.vn".into(),
        };
        store
            .add_alias(&alias, 120, &[audit("directory.alias")])
            .await
            .unwrap();
        let err = store
            .add_alias(&alias, 121, &[audit("directory.alias.again")])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        let name = ReservedName {
            local: "vanthu".into(),
            note: "văn thư".into(),
        };
        store
            .add_reserved_name(&name, 130, &[audit("directory.reserve")])
            .await
            .unwrap();
        let err = store
            .add_reserved_name(&name, 131, &[audit("directory.reserve.again")])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");

        let account = crate::NewAccount {
            address: "postmaster@caobang.gov.vn".into(),
            display_name: "Postmaster".into(),
            password_hash: "h".into(),
            must_change_password: false,
            created_at: 140,
        };
        let id = store
            .create_exception_account(
                &account,
                FOLDERS,
                "RFC 5321 postmaster",
                "cli:root",
                &[audit("account.add_exception")],
            )
            .await
            .unwrap();
        assert_eq!(store.mailboxes(id).await.unwrap().len(), 2);
        // The address is taken: no account, no exception row, no audit.
        let err = store
            .create_exception_account(
                &crate::NewAccount {
                    address: "datnv@caobang.gov.vn".into(),
                    ..account.clone()
                },
                FOLDERS,
                "test",
                "cli:root",
                &[audit("account.add_exception.again")],
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        let exceptions = store.account_exceptions().await.unwrap();
        assert_eq!(
            exceptions,
            vec![crate::AccountException {
                account: id,
                address: "postmaster@caobang.gov.vn".into(),
                display_name: "Postmaster".into(),
                reason: "RFC 5321 postmaster".into(),
                created_by: "cli:root".into(),
                created_at: 140,
            }]
        );

        assert_eq!(
            actions(&store).await,
            [
                "directory.import",
                "directory.override",
                "directory.alias",
                "directory.reserve",
                "account.add_exception"
            ]
        );
        // One chain.
        let log = store.audit_log().await.unwrap();
        let mut prev = crate::AUDIT_GENESIS.to_string();
        for row in &log {
            assert_eq!(row.prev_hash, prev);
            prev = row.hash.clone();
        }
    }

    on_each_backend!(
        a_batch_is_written_whole_or_not_at_all,
        administrative_writes_commit_their_audit_rows_or_nothing
    );
}
