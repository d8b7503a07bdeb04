//! The activity ledger (Đ13.1, Đ17): what the six-monthly report counts, recorded as it happens
//! and never rewritten, so that a finished period's figures stay the same whatever happens to
//! the messages or the sign-in log later.

use hopthu_model::{AccountId, PersonId, UnitId};

use crate::Result;

/// The province's offset from UTC (Vietnam, UTC+7, no daylight saving): the ledger's days start
/// at its midnight.
pub const LEDGER_UTC_OFFSET: i64 = 7 * 3600;

/// The ledger's day of a Unix time: days since 1970-01-01 in the province's time.
pub fn ledger_day(at: i64) -> i64 {
    (at + LEDGER_UTC_OFFSET).div_euclid(86_400)
}

/// Messages one unit's mailboxes received and sent over a period, by the unit the mailbox
/// belonged to on the day (`None`: an account outside the directory).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MessageCounts {
    pub received: u64,
    pub sent: u64,
}

/// One (account, day) row of the ledger of openings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenDay {
    pub account: AccountId,
    /// The unit of the person whose mailbox it is, as when the day's first opening was
    /// counted (`None`: not a person's mailbox).
    pub unit: Option<UnitId>,
    /// Days since 1970-01-01 in the province's time.
    pub day: i64,
    pub opens: u32,
}

/// What happened to a person's mailbox (the Đ17 ledger of personal mailboxes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailboxEventKind {
    Created,
    Revoked,
    Reissued,
    /// The person moved to another unit (a transfer, a reorganisation): the event's unit is
    /// the new one.
    Moved,
}

impl MailboxEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MailboxEventKind::Created => "created",
            MailboxEventKind::Revoked => "revoked",
            MailboxEventKind::Reissued => "reissued",
            MailboxEventKind::Moved => "moved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "created" => MailboxEventKind::Created,
            "revoked" => MailboxEventKind::Revoked,
            "reissued" => MailboxEventKind::Reissued,
            "moved" => MailboxEventKind::Moved,
            _ => return None,
        })
    }
}

/// One row of the ledger of personal mailboxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxEvent {
    pub person: PersonId,
    pub at: i64,
    pub kind: MailboxEventKind,
    /// The person's unit when the event was written (for `Moved`, the unit moved to; `None`
    /// only for rows of a person already gone when the ledger learnt units).
    pub unit: Option<UnitId>,
}

/// The activity ledger in storage terms (part of the storage contract, [`crate::contract`]).
#[async_trait::async_trait]
pub trait LedgerStore: Send + Sync {
    /// Counts one opening of `account`'s mailbox on `day` (days since 1970-01-01 in the
    /// province's time); returns the day's count so far. The day's row keeps the unit of the
    /// account's person when it was first written. Rows are never removed.
    async fn record_open(&self, account: AccountId, day: i64) -> Result<u32>;

    /// Every opening row with `from_day <= day < to_day`, by day then account.
    async fn opens_between(&self, from_day: i64, to_day: i64) -> Result<Vec<OpenDay>>;

    /// Every event of the ledger of personal mailboxes (`created`, `revoked`, `reissued`,
    /// `moved`, each written with the change, with the person's unit then) before `to`, in
    /// order.
    async fn mailbox_events_before(&self, to: i64) -> Result<Vec<MailboxEvent>>;

    /// Counts one message submitted by `account` on `day` (SMTP submission or the webmail).
    /// Messages delivered into an INBOX are counted by the delivery itself, in its own
    /// transaction ([`crate::MailStore::deliver`]).
    async fn count_sent(&self, account: AccountId, day: i64) -> Result<()>;

    /// Messages received and sent per unit (as on the day) with `from_day <= day < to_day`.
    async fn messages_between(
        &self,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<(Option<UnitId>, MessageCounts)>>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Kind, on_each_backend};

    async fn openings_are_counted_per_day_and_kept(kind: Kind) {
        let (store, _dir) = crate::testing::open(kind).await;
        let (a, b) = (AccountId(7), AccountId(8));
        assert_eq!(store.record_open(a, 20_000).await.unwrap(), 1);
        assert_eq!(store.record_open(a, 20_000).await.unwrap(), 2);
        assert_eq!(store.record_open(a, 20_001).await.unwrap(), 1);
        assert_eq!(store.record_open(b, 20_001).await.unwrap(), 1);
        assert_eq!(store.record_open(b, 19_999).await.unwrap(), 1);
        // Accounts of no person: no unit.
        let row = |account, day, opens| OpenDay {
            account,
            unit: None,
            day,
            opens,
        };
        assert_eq!(
            store.opens_between(20_000, 20_002).await.unwrap(),
            vec![row(a, 20_000, 2), row(a, 20_001, 1), row(b, 20_001, 1)]
        );
        assert!(
            store
                .opens_between(20_002, 30_000)
                .await
                .unwrap()
                .is_empty()
        );
    }

    async fn deliveries_and_submissions_are_counted_when_they_happen(kind: Kind) {
        use crate::{Delivery, NewDirectory, NewPerson, NewUnit, SpecialUse};
        let (store, _dir) = crate::testing::open(kind).await;
        let folders: &[(&str, Option<SpecialUse>)] = &[
            ("INBOX", None),
            ("Archive", Some(SpecialUse::Archive)),
            ("Junk", Some(SpecialUse::Junk)),
        ];
        let created = store
            .create_directory(&NewDirectory {
                units: &[NewUnit {
                    code: "U1".into(),
                    kind: "department".into(),
                    name: "Sở Y tế".into(),
                    parent_code: None,
                    address: "soyte@x.vn".into(),
                    password_hash: "h".into(),
                    must_change_password: true,
                }],
                people: &[NewPerson {
                    full_name: "Nông Văn Đạt".into(),
                    unit_code: "U1".into(),
                    position: None,
                    staff_id: None,
                    phone: None,
                    address: "datnv@x.vn".into(),
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
        let (unit, unit_account) = created.units[0];
        let (_, person) = created.people[0];
        let inbox = store
            .mailbox_by_name(person, "INBOX")
            .await
            .unwrap()
            .unwrap();
        let archive = store
            .mailbox_by_name(person, "Archive")
            .await
            .unwrap()
            .unwrap();
        let unit_inbox = store
            .mailbox_by_name(unit_account, "INBOX")
            .await
            .unwrap()
            .unwrap();
        let body = b"Subject: x\r\n\r\nx\r\n".to_vec();
        let blob = store
            .blobs()
            .put(std::sync::Arc::new(body.clone()))
            .await
            .unwrap();
        let junk = store
            .mailbox_by_name(person, "Junk")
            .await
            .unwrap()
            .unwrap();
        // Received: one delivery to the person's INBOX and the unit mailbox's (2); one a
        // filter filed in two folders of the person (1: once per account); one set aside in
        // Junk (0). Not received: an APPEND (a client's filing).
        for (targets, received) in [
            (vec![inbox.id, unit_inbox.id], true),
            (vec![archive.id, inbox.id], true),
            (vec![junk.id], true),
            (vec![archive.id], false),
        ] {
            store
                .deliver(&Delivery {
                    received,
                    blob: &blob,
                    size: body.len() as u32,
                    internal_date: 1,
                    targets: &crate::same_flags(&targets, &hopthu_model::Flags::new()),
                    queue: &[],
                })
                .await
                .unwrap();
        }
        let today = ledger_day(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64,
        );
        store.count_sent(person, today).await.unwrap();
        store.count_sent(person, today).await.unwrap();
        let counts = store.messages_between(today, today + 1).await.unwrap();
        assert_eq!(
            counts,
            vec![(
                Some(unit),
                MessageCounts {
                    received: 3,
                    sent: 2
                }
            )]
        );
        // Deleting the messages changes nothing already counted.
        let uids: Vec<_> = store
            .messages(inbox.id)
            .await
            .unwrap()
            .iter()
            .map(|m| m.uid)
            .collect();
        store
            .store_flags(
                inbox.id,
                &uids,
                hopthu_model::FlagOp::Add,
                &hopthu_model::Flags::from_iter([hopthu_model::Flag::Deleted]),
                None,
            )
            .await
            .unwrap();
        store.expunge(inbox.id, None).await.unwrap();
        assert_eq!(
            store.messages_between(today, today + 1).await.unwrap(),
            counts
        );
        assert!(
            store
                .messages_between(today + 1, today + 9)
                .await
                .unwrap()
                .is_empty()
        );
    }

    async fn mailboxes_created_revoked_and_reissued_are_recorded_with_the_change(kind: Kind) {
        use crate::{LifecycleEffect, LifecycleWrite, NewDirectory, NewPerson, NewUnit};
        let (store, _dir) = crate::testing::open(kind).await;
        let created = store
            .create_directory(&NewDirectory {
                units: &[NewUnit {
                    code: "U1".into(),
                    kind: "department".into(),
                    name: "Sở Y tế".into(),
                    parent_code: None,
                    address: "soyte@x.vn".into(),
                    password_hash: "h".into(),
                    must_change_password: true,
                }],
                people: &[NewPerson {
                    full_name: "Lục Thị Hoa".into(),
                    unit_code: "U1".into(),
                    position: None,
                    staff_id: None,
                    phone: None,
                    address: "hoalt@x.vn".into(),
                    public: false,
                    head: false,
                    password_hash: "h".into(),
                    must_change_password: true,
                }],
                aliases: &[],
                folders: &[("INBOX", None)],
                created_at: 10,
                audit: &[],
            })
            .await
            .unwrap();
        let (person, _) = created.people[0];
        for (at, state) in [
            (50, crate::PersonState::Revoked),
            (60, crate::PersonState::Active),
        ] {
            store
                .write_lifecycle(&LifecycleWrite {
                    at,
                    effects: &[LifecycleEffect::SetPersonState { person, state }],
                    ..LifecycleWrite::default()
                })
                .await
                .unwrap();
        }
        let unit = created.units[0].0;
        let kinds = |events: Vec<MailboxEvent>| {
            events
                .into_iter()
                .map(|e| {
                    assert_eq!((e.person, e.unit), (person, Some(unit)));
                    (e.at, e.kind)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            kinds(store.mailbox_events_before(55).await.unwrap()),
            [
                (10, MailboxEventKind::Created),
                (50, MailboxEventKind::Revoked)
            ]
        );
        assert_eq!(store.mailbox_events_before(61).await.unwrap().len(), 3);
    }

    /// A person moved to another unit leaves the ledger's rows of before in the old unit: the
    /// openings and events written then keep it, and the move is an event of its own.
    async fn a_move_leaves_the_rows_of_before_in_the_old_unit(kind: Kind) {
        use crate::{
            LifecycleEffect, LifecycleWrite, NewDirectory, NewPerson, NewUnit, UnitEffect,
        };
        let (store, _dir) = crate::testing::open(kind).await;
        let unit = |code: &str, address: &str| NewUnit {
            code: code.into(),
            kind: "department".into(),
            name: format!("Đơn vị {code}"),
            parent_code: None,
            address: address.into(),
            password_hash: "h".into(),
            must_change_password: true,
        };
        let person = |name: &str, address: &str| NewPerson {
            full_name: name.into(),
            unit_code: "A".into(),
            position: None,
            staff_id: None,
            phone: None,
            address: address.into(),
            public: false,
            head: false,
            password_hash: "h".into(),
            must_change_password: true,
        };
        let created = store
            .create_directory(&NewDirectory {
                units: &[
                    unit("A", "a@x.vn"),
                    unit("B", "b@x.vn"),
                    unit("C", "c@x.vn"),
                ],
                people: &[
                    person("Hoàng Văn Minh", "minhhv@x.vn"),
                    person("Đàm Thị Lan", "landt@x.vn"),
                ],
                aliases: &[],
                folders: &[("INBOX", None)],
                created_at: 10,
                audit: &[],
            })
            .await
            .unwrap();
        let (a, b, c) = (created.units[0].0, created.units[1].0, created.units[2].0);
        let (minh, minh_account) = created.people[0];
        let (lan, lan_account) = created.people[1];
        // Both open their mailboxes in A on day 100.
        store.record_open(minh_account, 100).await.unwrap();
        store.record_open(lan_account, 100).await.unwrap();
        // Minh is transferred to B at 200; later the reorganisation moves A's people (Lan) to C
        // at 300; a move to the unit one is already in is no move.
        let write = |at, effects: &[LifecycleEffect]| {
            let effects = effects.to_vec();
            let store = &store;
            async move {
                store
                    .write_lifecycle(&LifecycleWrite {
                        at,
                        effects: &effects,
                        ..LifecycleWrite::default()
                    })
                    .await
                    .unwrap()
            }
        };
        write(
            200,
            &[LifecycleEffect::MovePerson {
                person: minh,
                unit: b,
            }],
        )
        .await;
        write(
            250,
            &[LifecycleEffect::MovePerson {
                person: minh,
                unit: b,
            }],
        )
        .await;
        write(
            300,
            &[LifecycleEffect::Unit(UnitEffect::MovePeople {
                from: a,
                into: "C".into(),
            })],
        )
        .await;
        // Openings after the moves count in the new units; those of day 100 stay in A.
        store.record_open(minh_account, 101).await.unwrap();
        store.record_open(lan_account, 101).await.unwrap();
        let open = |account, unit, day| OpenDay {
            account,
            unit: Some(unit),
            day,
            opens: 1,
        };
        assert_eq!(
            store.opens_between(100, 102).await.unwrap(),
            vec![
                open(minh_account, a, 100),
                open(lan_account, a, 100),
                open(minh_account, b, 101),
                open(lan_account, c, 101),
            ]
        );
        let event = |person, at, kind, unit| MailboxEvent {
            person,
            at,
            kind,
            unit: Some(unit),
        };
        assert_eq!(
            store.mailbox_events_before(i64::MAX).await.unwrap(),
            vec![
                event(minh, 10, MailboxEventKind::Created, a),
                event(lan, 10, MailboxEventKind::Created, a),
                event(minh, 200, MailboxEventKind::Moved, b),
                event(lan, 300, MailboxEventKind::Moved, c),
            ]
        );
        // A revocation after the move is written in the unit of then.
        write(
            400,
            &[LifecycleEffect::SetPersonState {
                person: minh,
                state: crate::PersonState::Revoked,
            }],
        )
        .await;
        assert_eq!(
            store.mailbox_events_before(401).await.unwrap().last(),
            Some(&event(minh, 400, MailboxEventKind::Revoked, b))
        );
    }

    /// Rows written before the ledger learnt units (SQLite migration 0027, PostgreSQL 0016)
    /// get the unit of the person today, and a move can be written after the upgrade.
    async fn rows_of_before_get_the_unit_of_today(kind: Kind) {
        let dir = std::env::temp_dir().join(format!("hopthu-store-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = match kind {
            Kind::Sqlite => None,
            Kind::Postgres => Some(crate::testing::new_database().await),
        };
        let meta = match &url {
            None => {
                let db = crate::sqlite::SqliteMeta::connect(&dir.join(crate::backup::DATABASE))
                    .await
                    .unwrap();
                db.migrate_to(26).await.unwrap();
                crate::Meta::Sqlite(db)
            }
            Some(url) => {
                let db = crate::postgres::PgMeta::connect(url).await.unwrap();
                db.migrate_to(15).await.unwrap();
                crate::Meta::Postgres(Box::new(db))
            }
        };
        let store = crate::Store {
            meta,
            blobs: crate::BlobStore::open_local(&dir.join(crate::backup::BLOBS)).unwrap(),
        };
        let account = store
            .create_account(
                &crate::NewAccount {
                    address: "hoalt@x.vn".into(),
                    display_name: "Lục Thị Hoa".into(),
                    password_hash: "h".into(),
                    must_change_password: false,
                    created_at: 10,
                },
                &[("INBOX", None)],
            )
            .await
            .unwrap();
        // The old schema's rows: two units, a person of the second, her mailbox's creation and
        // an opening, as the store wrote them then (no unit).
        let old_rows = [
            "INSERT INTO units (id, code, kind, name, address, created_at)
             VALUES (1, 'A', 'department', 'A', 'a@x.vn', 1),
                    (2, 'B', 'department', 'B', 'b@x.vn', 1)"
                .to_string(),
            format!(
                "INSERT INTO people (id, full_name, unit_id, address, account_id, state,
                                     public, created_at)
                 VALUES (5, 'Lục Thị Hoa', 2, 'hoalt@x.vn', {}, 'active', FALSE, 10)",
                account.0
            ),
            "INSERT INTO mailbox_events (at, person_id, kind) VALUES (10, 5, 'created')".into(),
            format!(
                "INSERT INTO mailbox_opens (account_id, day, opens) VALUES ({}, 100, 2)",
                account.0
            ),
        ];
        for sql in old_rows {
            let sql = sqlx::AssertSqlSafe(sql);
            match &store.meta {
                crate::Meta::Sqlite(db) => {
                    sqlx::query(sql).execute(&db.write).await.unwrap();
                }
                crate::Meta::Postgres(db) => {
                    sqlx::query(sql).execute(&db.write).await.unwrap();
                }
            }
        }
        store.close().await;

        let store = crate::Store::open(&dir, url.as_deref(), None)
            .await
            .unwrap();
        let (person, b, a) = (PersonId(5), UnitId(2), UnitId(1));
        assert_eq!(
            store.opens_between(100, 101).await.unwrap(),
            vec![OpenDay {
                account,
                unit: Some(b),
                day: 100,
                opens: 2
            }]
        );
        store
            .write_lifecycle(&crate::LifecycleWrite {
                at: 20,
                effects: &[crate::LifecycleEffect::MovePerson { person, unit: a }],
                ..crate::LifecycleWrite::default()
            })
            .await
            .unwrap();
        let event = |at, kind, unit| MailboxEvent {
            person,
            at,
            kind,
            unit: Some(unit),
        };
        assert_eq!(
            store.mailbox_events_before(100).await.unwrap(),
            vec![
                event(10, MailboxEventKind::Created, b),
                event(20, MailboxEventKind::Moved, a)
            ]
        );
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    on_each_backend!(
        mailboxes_created_revoked_and_reissued_are_recorded_with_the_change,
        rows_of_before_get_the_unit_of_today,
        a_move_leaves_the_rows_of_before_in_the_old_unit,
        openings_are_counted_per_day_and_kept,
        deliveries_and_submissions_are_counted_when_they_happen
    );
}
