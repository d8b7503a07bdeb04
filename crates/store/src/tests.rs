//! The storage contract (`contract.rs`) checked on every back-end: UIDs, modseqs, the change
//! feed, blob references, counters kept by the database, search, sessions.

use std::sync::Arc;

use hopthu_model::{AccountId, Flag, FlagOp, Flags, MailboxId, Uid};

use crate::*;

use crate::testing::{Kind, on_each_backend, open};

async fn account(store: &Store, address: &str) -> (AccountId, MailboxId) {
    let id = store
        .create_account(
            &NewAccount {
                address: address.into(),
                display_name: "X".into(),
                password_hash: "h".into(),
                must_change_password: false,
                created_at: 0,
            },
            &[("INBOX", None), ("Trash", Some(SpecialUse::Trash))],
        )
        .await
        .unwrap();
    let inbox = store.mailbox_by_name(id, "INBOX").await.unwrap().unwrap();
    (id, inbox.id)
}

async fn put(store: &Store, body: &[u8], targets: &[MailboxId]) -> Vec<(MailboxId, Uid)> {
    put_as(store, body, targets, true).await
}

/// [`put`] as mail received (`true`: counted in the ledger) or as an APPEND (`false`).
async fn put_as(
    store: &Store,
    body: &[u8],
    targets: &[MailboxId],
    received: bool,
) -> Vec<(MailboxId, Uid)> {
    let blob = store.blobs().put(Arc::new(body.to_vec())).await.unwrap();
    store
        .deliver(&Delivery {
            received,
            blob: &blob,
            size: body.len() as u32,
            internal_date: 1,
            targets: &crate::same_flags(targets, &Flags::new()),
            queue: &[],
        })
        .await
        .unwrap()
}

async fn uids_ascend_and_changes_feed_reports_everything(kind: Kind) {
    let (store, dir) = open(kind).await;
    let (_, inbox) = account(&store, "a@x.vn").await;
    let start = store.mailbox(inbox).await.unwrap().unwrap().highestmodseq;
    for i in 0..3 {
        let uids = put(&store, format!("m{i}").as_bytes(), &[inbox]).await;
        assert_eq!(uids, vec![(inbox, Uid(i + 1))]);
    }
    let changes = store.changes_since(inbox, start).await.unwrap();
    assert_eq!(changes.changed.len(), 3);
    let after_appends = changes.highestmodseq;

    let deleted = Flags::from_iter([Flag::Deleted]);
    let out = store
        .store_flags(inbox, &[Uid(2), Uid(9)], FlagOp::Add, &deleted, None)
        .await
        .unwrap();
    assert_eq!(out.changed.len(), 1);
    let changes = store.changes_since(inbox, after_appends).await.unwrap();
    assert_eq!(
        changes.changed.iter().map(|m| m.uid).collect::<Vec<_>>(),
        vec![Uid(2)]
    );
    let after_flags = changes.highestmodseq;

    // Setting a flag that is already set changes nothing, not even the modseq.
    let out = store
        .store_flags(inbox, &[Uid(2)], FlagOp::Add, &deleted, None)
        .await
        .unwrap();
    assert!(out.changed.is_empty());
    assert_eq!(
        store.mailbox(inbox).await.unwrap().unwrap().highestmodseq,
        after_flags
    );

    // UNCHANGEDSINCE older than the message's modseq leaves it alone.
    let out = store
        .store_flags(
            inbox,
            &[Uid(2)],
            FlagOp::Remove,
            &deleted,
            Some(after_appends),
        )
        .await
        .unwrap();
    assert_eq!(out.failed, vec![Uid(2)]);

    assert_eq!(store.expunge(inbox, None).await.unwrap(), vec![Uid(2)]);
    let changes = store.changes_since(inbox, after_flags).await.unwrap();
    assert_eq!(changes.expunged, vec![Uid(2)]);
    assert!(changes.changed.is_empty());
    let uids: Vec<Uid> = store
        .messages(inbox)
        .await
        .unwrap()
        .iter()
        .map(|m| m.uid)
        .collect();
    assert_eq!(uids, vec![Uid(1), Uid(3)]);
    // A new message never reuses an expunged UID.
    assert_eq!(put(&store, b"m4", &[inbox]).await, vec![(inbox, Uid(4))]);
    std::fs::remove_dir_all(dir).unwrap();
}

async fn one_blob_for_many_recipients_and_copies(kind: Kind) {
    let (store, dir) = open(kind).await;
    let (_, a) = account(&store, "a@x.vn").await;
    let (b_id, b) = account(&store, "b@x.vn").await;
    put(&store, b"notice to every unit", &[a, b]).await;
    let trash = store.mailbox_by_name(b_id, "Trash").await.unwrap().unwrap();
    let pairs = store.copy_messages(b, &[Uid(1)], trash.id).await.unwrap();
    assert_eq!(pairs, vec![(Uid(1), Uid(1))]);
    let ma = store.messages(a).await.unwrap();
    let mt = store.messages(trash.id).await.unwrap();
    assert_eq!(ma[0].blob, mt[0].blob, "copies share the blob");
    let files = count_files(&dir.join("blobs"));
    assert_eq!(files, 1, "one blob file for three messages");
    std::fs::remove_dir_all(dir).unwrap();
}

async fn rename_moves_children_and_conflicts_are_reported(kind: Kind) {
    let (store, dir) = open(kind).await;
    let (id, _) = account(&store, "a@x.vn").await;
    store.create_mailbox(id, "Du an", None).await.unwrap();
    store.create_mailbox(id, "Du an/2026", None).await.unwrap();
    store.create_mailbox(id, "Du and", None).await.unwrap();
    assert!(matches!(
        store.create_mailbox(id, "Du an", None).await,
        Err(StoreError::Conflict(_))
    ));
    store.rename_mailbox(id, "Du an", "Lưu trữ").await.unwrap();
    let names: Vec<String> = store
        .mailboxes(id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert!(names.contains(&"Lưu trữ".to_string()));
    assert!(names.contains(&"Lưu trữ/2026".to_string()));
    assert!(
        names.contains(&"Du and".to_string()),
        "a sibling with the same prefix stays"
    );
    assert!(matches!(
        store.rename_mailbox(id, "Du and", "Trash").await,
        Err(StoreError::Conflict(_))
    ));
    std::fs::remove_dir_all(dir).unwrap();
}

async fn duplicate_account_is_a_conflict(kind: Kind) {
    let (store, dir) = open(kind).await;
    account(&store, "a@x.vn").await;
    let again = store
        .create_account(
            &NewAccount {
                address: "a@x.vn".into(),
                display_name: "Y".into(),
                password_hash: "h".into(),
                must_change_password: true,
                created_at: 0,
            },
            &[("INBOX", None)],
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))));
    assert_eq!(store.account_count().await.unwrap(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}

fn count_files(dir: &std::path::Path) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "tmp" {
                n += count_files(&entry.path());
            }
        } else if !entry.file_name().to_string_lossy().starts_with('.') {
            // Not a body: temporaries, the backup lease.
            n += 1;
        }
    }
    n
}

/// The search index follows every path: deliver with text, copy, move, expunge, index_blob
/// for messages stored without text, and mailbox deletion.
async fn search_index_follows_messages(kind: Kind) {
    let (store, dir) = open(kind).await;
    let (account_id, inbox) = account(&store, "s@x.vn").await;
    let trash = store
        .mailbox_by_name(account_id, "Trash")
        .await
        .unwrap()
        .unwrap()
        .id;
    let text = |subject: &str| SearchText {
        from: "nong van dat datnv@caobang.gov.vn".into(),
        subject: subject.into(),
        body: format!("noi dung {subject}"),
        sent_at: Some(1_700_000_000),
        sent_day: Some(19_675),
        ..SearchText::default()
    };
    let deliver = |body: &'static [u8], t: SearchText| {
        let store = &store;
        async move {
            let blob = store.blobs().put(Arc::new(body.to_vec())).await.unwrap();
            store
                .deliver_indexed(
                    &Delivery {
                        received: true,
                        blob: &blob,
                        size: body.len() as u32,
                        internal_date: 1,
                        targets: &crate::same_flags(&[inbox], &Flags::new()),
                        queue: &[],
                    },
                    Some(&t),
                )
                .await
                .unwrap()[0]
                .1
        }
    };
    let a = deliver(b"a", text("bao cao quy i")).await;
    let b = deliver(b"b", text("giay moi hop")).await;
    let find = |mailbox, field, s: &'static str| {
        let store = &store;
        async move { store.search_text(mailbox, field, s).await.unwrap() }
    };
    // Substrings (RFC 3501 §6.4.4), through the index (3+ characters) and by a scan (fewer).
    assert_eq!(find(inbox, SearchField::Subject, "bao").await, vec![a]);
    assert_eq!(find(inbox, SearchField::Subject, "ao c").await, vec![a]);
    assert_eq!(find(inbox, SearchField::Subject, "ca").await, vec![a]);
    assert_eq!(find(inbox, SearchField::Subject, "o").await, vec![a, b]);
    assert_eq!(find(inbox, SearchField::Subject, "cao quy").await, vec![a]);
    assert_eq!(find(inbox, SearchField::Subject, "quy cao").await, vec![]);
    assert_eq!(find(inbox, SearchField::Subject, "").await, vec![a, b]);
    assert_eq!(
        find(inbox, SearchField::From, "tnv@caobang.g").await,
        vec![a, b]
    );
    assert_eq!(
        find(inbox, SearchField::From, "datnv caobang").await,
        vec![]
    );
    assert_eq!(find(inbox, SearchField::Body, "op").await, vec![b]);
    assert_eq!(find(inbox, SearchField::Body, "ung giay").await, vec![b]);
    assert_eq!(find(inbox, SearchField::Text, "dat").await, vec![a, b]);
    assert_eq!(find(inbox, SearchField::To, "dat").await, vec![]);
    assert_eq!(find(inbox, SearchField::Body, "--").await, vec![]);
    assert_eq!(find(trash, SearchField::Body, "hop").await, vec![]);
    assert_eq!(find(trash, SearchField::Body, "h").await, vec![]);

    // Copy indexes the copy; move takes the entry along; expunge removes it.
    let copied = store.copy_messages(inbox, &[b], trash).await.unwrap();
    assert_eq!(
        find(trash, SearchField::Body, "hop").await,
        vec![copied[0].1]
    );
    let moved = store.move_messages(inbox, &[a], trash).await.unwrap();
    assert_eq!(moved.len(), 1);
    assert_eq!(find(inbox, SearchField::Subject, "bao").await, vec![]);
    assert_eq!(
        find(trash, SearchField::Subject, "bao").await,
        vec![moved[0].1]
    );
    let changes = store.changes_since(inbox, 0).await.unwrap();
    assert_eq!(changes.expunged, vec![a]);
    store
        .store_flags(
            trash,
            &[moved[0].1],
            FlagOp::Add,
            &Flags::from_iter([Flag::Deleted]),
            None,
        )
        .await
        .unwrap();
    store.expunge(trash, None).await.unwrap();
    assert_eq!(find(trash, SearchField::Subject, "bao").await, vec![]);

    // A message stored without text is found once its blob is indexed.
    let c = put(&store, b"c", &[inbox]).await[0].1;
    assert_eq!(store.unindexed_blobs(10).await.unwrap().len(), 1);
    assert_eq!(find(inbox, SearchField::Subject, "ke hoach").await, vec![]);
    let blob = BlobId::of(b"c");
    store
        .index_blob(&blob, &text("ke hoach nam"))
        .await
        .unwrap();
    assert!(store.unindexed_blobs(10).await.unwrap().is_empty());
    assert_eq!(find(inbox, SearchField::Subject, "ke hoach").await, vec![c]);
    let days = store.sent_days(inbox).await.unwrap();
    assert!(days.iter().all(|(_, d)| *d == Some(19_675)), "{days:?}");

    // Deleting a mailbox drops its entries (the cascade fires the trigger).
    store.delete_mailbox(trash).await.unwrap();
    assert_eq!(find(inbox, SearchField::Body, "hop").await, vec![b]);
    let (bytes, count) = store.account_usage(account_id).await.unwrap();
    assert_eq!((bytes, count), (2, 2));
    assert_eq!(store.messages_size(inbox, &[b, c]).await.unwrap(), 2);
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

async fn message_pages_are_keyset_newest_first(kind: Kind) {
    let (store, dir) = open(kind).await;
    let (_, inbox) = account(&store, "p@x.vn").await;
    for i in 0..7 {
        put(&store, format!("page{i}").as_bytes(), &[inbox]).await;
    }
    let uids = |page: Vec<MessageRecord>| page.iter().map(|m| m.uid.0).collect::<Vec<_>>();
    assert_eq!(
        uids(store.messages_page(inbox, None, 3).await.unwrap()),
        [7, 6, 5]
    );
    assert_eq!(
        uids(store.messages_page(inbox, Some(Uid(5)), 3).await.unwrap()),
        [4, 3, 2]
    );
    assert_eq!(
        uids(store.messages_page(inbox, Some(Uid(2)), 3).await.unwrap()),
        [1]
    );
    assert_eq!(
        uids(
            store
                .messages_by_uid(inbox, &[Uid(6), Uid(2), Uid(99)])
                .await
                .unwrap()
        ),
        [2, 6]
    );
    let _ = std::fs::remove_dir_all(dir);
}

async fn web_sessions_and_settings(kind: Kind) {
    let (store, dir) = open(kind).await;
    let (a, _) = account(&store, "s@x.vn").await;
    let session = |hash: &str, expires_at: i64| WebSessionRecord {
        token_hash: hash.into(),
        account_id: a,
        csrf_token: "c".into(),
        created_at: 100,
        last_seen_at: 100,
        expires_at,
    };
    store.create_web_session(&session("old", 50)).await.unwrap();
    store
        .create_web_session(&session("one", 500))
        .await
        .unwrap();
    // Creating a session removes the expired ones.
    assert!(store.web_session("old").await.unwrap().is_none());
    store
        .create_web_session(&session("two", 500))
        .await
        .unwrap();
    assert_eq!(
        store.web_session("one").await.unwrap().unwrap().csrf_token,
        "c"
    );
    assert_eq!(
        store.delete_web_sessions_of(a, Some("two")).await.unwrap(),
        1
    );
    assert!(store.web_session("one").await.unwrap().is_none());
    assert!(store.web_session("two").await.unwrap().is_some());
    store.delete_web_session("two").await.unwrap();
    assert!(store.web_session("two").await.unwrap().is_none());

    assert_eq!(
        store.web_settings(a).await.unwrap(),
        WebSettingsRecord::default()
    );
    let settings = WebSettingsRecord {
        language: "en".into(),
        signature: "Nông Văn Đạt\nSở TT&TT".into(),
    };
    store.set_web_settings(a, &settings).await.unwrap();
    assert_eq!(store.web_settings(a).await.unwrap(), settings);
    let _ = std::fs::remove_dir_all(dir);
}

async fn unseen_counters_follow_flags_moves_and_expunges(kind: Kind) {
    let (store, dir) = open(kind).await;
    let (a, inbox) = account(&store, "u@x.vn").await;
    let trash = store.mailbox_by_name(a, "Trash").await.unwrap().unwrap().id;
    for i in 0..5 {
        put(&store, format!("unseen{i}").as_bytes(), &[inbox]).await;
    }
    let seen = Flags::from_iter([Flag::Seen]);
    store
        .store_flags(inbox, &[Uid(1), Uid(2)], FlagOp::Add, &seen, None)
        .await
        .unwrap();
    store
        .move_messages(inbox, &[Uid(2), Uid(3)], trash)
        .await
        .unwrap();
    let deleted = Flags::from_iter([Flag::Deleted]);
    store
        .store_flags(inbox, &[Uid(4)], FlagOp::Add, &deleted, None)
        .await
        .unwrap();
    store.expunge(inbox, Some(&[Uid(4)])).await.unwrap();
    store
        .store_flags(inbox, &[Uid(1)], FlagOp::Remove, &seen, None)
        .await
        .unwrap();
    // Each counter agrees with a count over the messages themselves.
    for (mailbox, total, unseen) in store.mailbox_counts(a).await.unwrap() {
        let status = store.mailbox_status(mailbox).await.unwrap();
        assert_eq!(
            (total, unseen),
            (status.messages, status.unseen),
            "{mailbox}"
        );
    }
    let by_id: std::collections::HashMap<_, _> = store
        .mailbox_counts(a)
        .await
        .unwrap()
        .into_iter()
        .map(|(m, t, u)| (m, (t, u)))
        .collect();
    assert_eq!(by_id[&inbox], (2, 2)); // uids 1 (unseen again) and 5
    assert_eq!(by_id[&trash], (2, 1)); // 2 seen, 3 unseen
    // A move into the mailbox itself (RFC 6851): new UIDs, the old ones expunged, and the
    // counters as they were.
    let before = store.mailbox(inbox).await.unwrap().unwrap().highestmodseq;
    let moved = store
        .move_messages(inbox, &[Uid(1), Uid(5)], inbox)
        .await
        .unwrap();
    assert_eq!(moved, [(Uid(1), Uid(6)), (Uid(5), Uid(7))]);
    let changes = store.changes_since(inbox, before).await.unwrap();
    assert_eq!(changes.expunged, [Uid(1), Uid(5)]);
    let uids: Vec<Uid> = changes.changed.iter().map(|m| m.uid).collect();
    assert_eq!(uids, [Uid(6), Uid(7)]);
    let status = store.mailbox_status(inbox).await.unwrap();
    assert_eq!((status.messages, status.unseen), (2, 2));
    let _ = std::fs::remove_dir_all(dir);
}

#[allow(dead_code, reason = "held only to be dropped")]
/// What holds up the group-commit writer in the group-commit tests ([`hold_writer`]).
enum Held {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Holds up the group-commit writer so that every write started meanwhile waits at once: on
/// SQLite by holding its one connection, on PostgreSQL by locking the mailboxes' rows.
async fn hold_writer(store: &Store, mailboxes: [MailboxId; 2]) -> Held {
    match &store.meta {
        Meta::Sqlite(db) => Held::Sqlite(db.write.acquire().await.unwrap()),
        Meta::Postgres(db) => {
            let mut tx = db.write.begin().await.unwrap();
            sqlx::query("SELECT id FROM mailboxes WHERE id IN ($1, $2) FOR UPDATE")
                .bind(mailboxes[0].0)
                .bind(mailboxes[1].0)
                .execute(&mut *tx)
                .await
                .unwrap();
            Held::Postgres(tx)
        }
    }
}

/// Waits until the writer has been handed `n` writes in all.
async fn wait_submitted(store: &Store, n: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while meta!(store, db => db.group_stats()).0 < n {
        assert!(std::time::Instant::now() < deadline, "writes not submitted");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// Concurrent deliveries share one commit (group commit), each gets its own UID, and one that
/// fails (its mailbox is gone) is rolled back alone without failing the others of its batch.
async fn concurrent_deliveries_share_a_commit_and_fail_alone(kind: Kind) {
    let (store, dir) = open(kind).await;
    let store = Arc::new(store);
    let (account_a, inbox) = account(&store, "g@x.vn").await;
    let (_, other) = account(&store, "h@x.vn").await;
    let held = hold_writer(&store, [inbox, other]).await;
    let group_stats = || meta!(store, db => db.group_stats());
    let gone = MailboxId(999_999);
    let mut tasks = Vec::new();
    for i in 0..20u32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let body = format!("group {i}").into_bytes();
            let blob = store.blobs().put(Arc::new(body.clone())).await.unwrap();
            let targets = if i == 9 {
                vec![inbox, gone]
            } else {
                vec![inbox, other]
            };
            store
                .deliver(&Delivery {
                    received: true,
                    blob: &blob,
                    size: body.len() as u32,
                    internal_date: 1,
                    targets: &crate::same_flags(&targets, &Flags::new()),
                    queue: &[],
                })
                .await
        }));
    }
    wait_submitted(&store, 20).await;
    drop(held);
    let mut uids = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        let result = task.await.unwrap();
        if i == 9 {
            assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
        } else {
            let got = result.unwrap();
            assert_eq!(got[0].0, inbox);
            uids.push(got[0].1);
        }
    }
    // The writer may have taken the first delivery alone before the rest arrived: at most two
    // transactions for twenty deliveries.
    let (submitted, commits) = group_stats();
    assert_eq!(submitted, 20);
    assert!(commits <= 2, "{commits} commits");
    uids.sort();
    assert_eq!(uids, (1..=19).map(Uid).collect::<Vec<_>>());
    // The failed delivery left nothing behind: no row, no usage, no blob reference.
    let messages = store.messages(inbox).await.unwrap();
    assert_eq!(messages.len(), 19);
    let failed = BlobId::of(b"group 9");
    assert!(messages.iter().all(|m| m.blob != failed));
    assert_eq!(store.messages(other).await.unwrap().len(), 19);
    assert_eq!(store.account_usage(account_a).await.unwrap().1, 19);
    let refs: Option<i64> = meta!(store, db => sqlx::query_scalar(
        "SELECT refcount FROM blobs WHERE hash = $1"
    )
    .bind(failed.as_str())
    .fetch_optional(&db.read)
    .await
    .unwrap());
    assert_eq!(refs, None);
    // A lone delivery afterwards commits on its own.
    put(&store, b"after", &[inbox]).await;
    assert_eq!(group_stats().1, commits + 1);
    drop(store);
    std::fs::remove_dir_all(dir).unwrap();
}

/// How durable a commit is: mail waits for the disk, the state of mail already kept (flags)
/// does not, and the writer connection never carries the lighter setting into the next
/// write (SQLite's `synchronous` belongs to the connection; PostgreSQL's is set per
/// transaction). On SQLite a delivery is answered only after the syncer's fsync of the WAL.
async fn mail_commits_wait_for_the_disk_and_flag_changes_do_not(kind: Kind) {
    let (store, dir) = open(kind).await;
    let (_, inbox) = account(&store, "d@x.vn").await;
    // The writer connection's setting as the last commit left it.
    async fn synchronous(store: &Store) -> String {
        match &store.meta {
            Meta::Sqlite(db) => {
                let n: i64 = sqlx::query_scalar("PRAGMA synchronous")
                    .fetch_one(&db.write)
                    .await
                    .unwrap();
                n.to_string()
            }
            Meta::Postgres(db) => sqlx::query_scalar("SHOW synchronous_commit")
                .fetch_one(&db.write)
                .await
                .unwrap(),
        }
    }
    let syncs = || meta!(store, db => db.wal_syncs());
    let sqlite = matches!(&store.meta, Meta::Sqlite(_));
    // SET LOCAL ends with its transaction: PostgreSQL's connection is back to "on" at once.
    let (full, light) = if sqlite { ("2", "1") } else { ("on", "on") };
    let before = syncs();
    put(&store, b"one", &[inbox]).await;
    // Answered, so synced: by the syncer on SQLite, by the commit itself on PostgreSQL.
    assert_eq!(
        syncs(),
        before + u64::from(sqlite),
        "a delivery's WAL fsync"
    );
    let seen = Flags::from_iter([Flag::Seen]);
    store
        .store_flags(inbox, &[Uid(1)], FlagOp::Add, &seen, None)
        .await
        .unwrap();
    assert_eq!(synchronous(&store).await, light, "after a flag change");
    assert_eq!(syncs(), before + u64::from(sqlite), "no fsync for flags");
    // The next write of any kind says its own setting.
    account(&store, "e@x.vn").await;
    assert_eq!(
        synchronous(&store).await,
        full,
        "after a write outside the group"
    );
    store
        .store_flags(inbox, &[Uid(1)], FlagOp::Remove, &seen, None)
        .await
        .unwrap();
    put(&store, b"two", &[inbox]).await;
    assert_eq!(
        syncs(),
        before + 2 * u64::from(sqlite),
        "a delivery's WAL fsync"
    );
    // The flag change is kept all the same.
    let changes = store.changes_since(inbox, 0).await.unwrap();
    assert!(changes.changed[0].flags.is_empty(), "{:?}", changes.changed);
    drop(dir);
}

/// STORE, COPY, MOVE and EXPUNGE from concurrent sessions share the deliveries' group commit:
/// one transaction for all of them, each with its own result, and one that fails (COPY into a
/// mailbox that is gone) is rolled back alone.
async fn concurrent_mail_writes_share_a_commit_and_fail_alone(kind: Kind) {
    let (store, dir) = open(kind).await;
    let store = Arc::new(store);
    let (account_a, inbox) = account(&store, "w@x.vn").await;
    let (_, other) = account(&store, "v@x.vn").await;
    for i in 1..=7u8 {
        put(&store, &[b'm', i], &[inbox]).await;
    }
    let deleted = Flags::from_iter([Flag::Deleted]);
    store
        .store_flags(inbox, &[Uid(4)], FlagOp::Add, &deleted, None)
        .await
        .unwrap();
    let before = meta!(store, db => db.group_stats());
    let held = hold_writer(&store, [inbox, other]).await;
    let seen = Flags::from_iter([Flag::Seen]);
    let s = store.clone();
    let flags = tokio::spawn(async move {
        s.store_flags(inbox, &[Uid(1), Uid(2)], FlagOp::Add, &seen, None)
            .await
    });
    let s = store.clone();
    let expunge = tokio::spawn(async move { s.expunge(inbox, Some(&[Uid(4)])).await });
    let s = store.clone();
    let copy = tokio::spawn(async move { s.copy_messages(inbox, &[Uid(5)], other).await });
    let s = store.clone();
    let moved = tokio::spawn(async move { s.move_messages(inbox, &[Uid(6)], other).await });
    let s = store.clone();
    let lost =
        tokio::spawn(async move { s.copy_messages(inbox, &[Uid(7)], MailboxId(999_999)).await });
    wait_submitted(&store, before.0 + 5).await;
    drop(held);
    let flags = flags.await.unwrap().unwrap();
    assert_eq!(
        flags.changed.iter().map(|m| m.uid).collect::<Vec<_>>(),
        [Uid(1), Uid(2)]
    );
    assert_eq!(expunge.await.unwrap().unwrap(), [Uid(4)]);
    assert_eq!(copy.await.unwrap().unwrap(), [(Uid(5), Uid(1))]);
    let moved = moved.await.unwrap().unwrap();
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].0, Uid(6));
    let lost = lost.await.unwrap();
    assert!(matches!(lost, Err(StoreError::NotFound(_))), "{lost:?}");
    let (submitted, commits) = meta!(store, db => db.group_stats());
    assert_eq!(submitted, before.0 + 5);
    assert!(
        commits <= before.1 + 2,
        "{} commits for 5 writes",
        commits - before.1
    );
    // Each took effect, the failed copy left nothing.
    let left: Vec<_> = store.messages(inbox).await.unwrap();
    assert_eq!(
        left.iter().map(|m| m.uid.0).collect::<Vec<_>>(),
        [1, 2, 3, 5, 7]
    );
    assert!(left[..2].iter().all(|m| m.flags.contains(&Flag::Seen)));
    assert_eq!(store.messages(other).await.unwrap().len(), 2);
    assert_eq!(store.account_usage(account_a).await.unwrap().1, 5);
    let refs: i64 = meta!(store, db => sqlx::query_scalar(
        "SELECT refcount FROM blobs WHERE hash = $1"
    )
    .bind(BlobId::of(&[b'm', 7]).as_str())
    .fetch_one(&db.read)
    .await
    .unwrap());
    assert_eq!(refs, 1, "the failed COPY took no blob reference");
    drop(store);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Sign-ins of a login storm (history rows and last accesses) share a commit with each other
/// and with the mail writes waiting at the same time; each is in the database when its call
/// returns, and one that fails (its account is gone) fails alone. The history still prunes
/// an account's rows older than [`SIGN_IN_HISTORY_DAYS`].
async fn concurrent_sign_ins_share_a_commit_and_fail_alone(kind: Kind) {
    const SIGN_INS: i64 = 20;
    let (store, dir) = open(kind).await;
    let store = Arc::new(store);
    let (first, inbox) = account(&store, "s1@x.vn").await;
    let (second, other) = account(&store, "s2@x.vn").await;
    put(&store, b"storm", &[inbox]).await;
    let before = meta!(store, db => db.group_stats());
    let held = hold_writer(&store, [inbox, other]).await;
    // A STORE first: the writer takes it and waits behind `held` (on PostgreSQL the sign-ins
    // alone would not wait, they lock no mailbox), so every sign-in below queues meanwhile.
    let s = store.clone();
    let flags = tokio::spawn(async move {
        let seen = Flags::from_iter([Flag::Seen]);
        s.store_flags(inbox, &[Uid(1)], FlagOp::Add, &seen, None)
            .await
    });
    wait_submitted(&store, before.0 + 1).await;
    let gone = AccountId(999_999);
    let mut sign_ins = Vec::new();
    for i in 0..SIGN_INS {
        let account = match i {
            7 => gone,
            i if i % 2 == 0 => first,
            _ => second,
        };
        let s = store.clone();
        sign_ins.push(tokio::spawn(async move {
            s.record_sign_in(&SignInRecord {
                account,
                at: 1_000 + i,
                via: "imap".into(),
                ip: format!("192.0.2.{i}"),
                result: "ok".into(),
            })
            .await
        }));
    }
    let mut accesses = Vec::new();
    for (account, at) in [(first, 5_000), (second, 6_000), (gone, 7_000)] {
        let s = store.clone();
        accesses.push(tokio::spawn(
            async move { s.record_access(account, at).await },
        ));
    }
    let writes = 1 + SIGN_INS as u64 + 3;
    wait_submitted(&store, before.0 + writes).await;
    drop(held);
    let changed = flags.await.unwrap().unwrap().changed;
    assert_eq!(changed.iter().map(|m| m.uid).collect::<Vec<_>>(), [Uid(1)]);
    for (i, task) in sign_ins.into_iter().enumerate() {
        let result = task.await.unwrap();
        assert_eq!(result.is_err(), i == 7, "sign-in {i}: {result:?}");
    }
    for task in accesses {
        // An UPDATE of no row (the account is gone) is no error, as before.
        task.await.unwrap().unwrap();
    }
    // The writer may have taken the STORE alone before the sign-ins arrived: at most two
    // transactions for the 24 writes.
    let (submitted, commits) = meta!(store, db => db.group_stats());
    assert_eq!(submitted, before.0 + writes);
    assert!(
        commits <= before.1 + 2,
        "{} commits for {writes} writes",
        commits - before.1
    );
    // Every row is there, the failed one left nothing.
    let ats = |records: Vec<SignInRecord>| records.iter().map(|r| r.at).collect::<Vec<_>>();
    let evens: Vec<i64> = (0..SIGN_INS).rev().filter(|i| i % 2 == 0).collect();
    let odds: Vec<i64> = (0..SIGN_INS)
        .rev()
        .filter(|i| i % 2 == 1 && *i != 7)
        .collect();
    assert_eq!(
        ats(store.sign_ins(first, 100).await.unwrap()),
        evens.iter().map(|i| 1_000 + i).collect::<Vec<_>>()
    );
    let history = store.sign_ins(second, 100).await.unwrap();
    assert_eq!(
        ats(history.clone()),
        odds.iter().map(|i| 1_000 + i).collect::<Vec<_>>()
    );
    assert_eq!(history[0].ip, "192.0.2.19");
    assert!(store.sign_ins(gone, 100).await.unwrap().is_empty());
    for (account, at) in [(first, 5_000), (second, 6_000)] {
        let record = store.account(account).await.unwrap().unwrap();
        assert_eq!(record.last_access_at, Some(at));
    }
    // A sign-in past the history's length prunes the account's older rows, and only its own.
    let late = 1_000 + SIGN_IN_HISTORY_DAYS * 86_400 + 5;
    store
        .record_sign_in(&SignInRecord {
            account: first,
            at: late,
            via: "pop3".into(),
            ip: "192.0.2.99".into(),
            result: "ok".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        ats(store.sign_ins(first, 100).await.unwrap()),
        [late, 1_018, 1_016, 1_014, 1_012, 1_010, 1_008, 1_006]
    );
    assert_eq!(store.sign_ins(second, 100).await.unwrap().len(), 9);
    drop(store);
    std::fs::remove_dir_all(dir).unwrap();
}

async fn message_index_agrees_with_the_full_records(kind: Kind) {
    let (store, dir) = open(kind).await;
    let (_, inbox) = account(&store, "a@x.vn").await;
    let empty = store.message_index(inbox).await.unwrap();
    assert!(empty.uids.is_empty() && empty.flag_sets.is_empty());
    for i in 0..5 {
        put(&store, format!("m{i}").as_bytes(), &[inbox]).await;
    }
    let seen = Flags::from_iter([Flag::Seen, Flag::Keyword("$Forwarded".into())]);
    store
        .store_flags(inbox, &[Uid(2), Uid(4)], FlagOp::Add, &seen, None)
        .await
        .unwrap();
    store
        .store_flags(
            inbox,
            &[Uid(3)],
            FlagOp::Add,
            &Flags::from_iter([Flag::Deleted]),
            None,
        )
        .await
        .unwrap();
    store.expunge(inbox, None).await.unwrap();
    let index = store.message_index(inbox).await.unwrap();
    let full = store.messages(inbox).await.unwrap();
    assert_eq!(index.uids, full.iter().map(|m| m.uid).collect::<Vec<_>>());
    assert_eq!(index.uids, vec![Uid(1), Uid(2), Uid(4), Uid(5)]);
    for (k, m) in full.iter().enumerate() {
        assert_eq!(index.flag_sets[index.flags[k] as usize], m.flags);
        assert_eq!(index.modseqs[k], m.modseq);
    }
    // Two distinct sets (none, and \Seen $Forwarded), each once.
    assert_eq!(index.flag_sets.len(), 2);
    let status = store.mailbox(inbox).await.unwrap().unwrap();
    assert_eq!(index.highestmodseq, status.highestmodseq);
    let picked = store
        .messages_by_uid(inbox, &[Uid(5), Uid(3), Uid(1)])
        .await
        .unwrap();
    assert_eq!(
        picked.iter().map(|m| m.uid).collect::<Vec<_>>(),
        vec![Uid(1), Uid(5)]
    );
    assert_eq!(store.deleted_usage(inbox).await.unwrap(), (0, 0));
    let total: u64 = store
        .messages_by_uid(inbox, &index.uids)
        .await
        .unwrap()
        .iter()
        .map(|m| u64::from(m.size))
        .sum();
    assert!(total > 0);
    assert_eq!(store.mailbox_size(inbox).await.unwrap(), total);
    let above = index.uids.iter().filter(|u| u.0 > index.uids[0].0).count() as u32;
    assert_eq!(
        store.count_above(inbox, index.uids[0]).await.unwrap(),
        above
    );
    assert_eq!(
        store.count_above(inbox, Uid(0)).await.unwrap(),
        index.uids.len() as u32
    );
    let _ = std::fs::remove_dir_all(dir);
}

// ---- the blob collector ---------------------------------------------------------------------

fn blob_file(dir: &std::path::Path, id: &BlobId) -> std::path::PathBuf {
    let h = id.as_str();
    dir.join("blobs").join(&h[0..2]).join(&h[2..4]).join(h)
}

/// Makes a body's file look written a day ago (past any grace period).
fn age(dir: &std::path::Path, id: &BlobId) {
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(86_400);
    std::fs::File::open(blob_file(dir, id))
        .unwrap()
        .set_modified(old)
        .unwrap();
}

async fn unreferenced(store: &Store) -> Vec<BlobId> {
    meta!(store, db => db.unreferenced_blobs().await)
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

async fn delete(store: &Store, mailbox: MailboxId, uid: Uid) {
    store
        .store_flags(
            mailbox,
            &[uid],
            FlagOp::Add,
            &Flags::from_iter([Flag::Deleted]),
            None,
        )
        .await
        .unwrap();
    assert_eq!(store.expunge(mailbox, Some(&[uid])).await.unwrap(), [uid]);
}

/// A body is unreferenced only when no message of any mailbox of any account and no queued
/// message names it: a shared body stays while one copy is left, a queued one while queued.
async fn the_reference_query_sees_every_mailbox_and_the_queue(kind: Kind) {
    let (store, dir) = open(kind).await;
    let (_, a) = account(&store, "a@x.vn").await;
    let (_, b) = account(&store, "b@x.vn").await;
    let shared = BlobId::of(b"shared");
    let placed = put(&store, b"shared", &[a, b]).await;
    // One body, one row, two messages.
    assert_eq!(placed.len(), 2);
    assert!(unreferenced(&store).await.is_empty());
    delete(&store, a, placed[0].1).await;
    assert!(unreferenced(&store).await.is_empty(), "b still has it");
    delete(&store, b, placed[1].1).await;
    assert_eq!(unreferenced(&store).await, std::slice::from_ref(&shared));

    // A body both delivered and queued stays while the queue holds it.
    let queued = BlobId::of(b"queued");
    store
        .blobs()
        .put(Arc::new(b"queued".to_vec()))
        .await
        .unwrap();
    let rcpts = vec!["x@remote.vn".to_string()];
    let uids = store
        .deliver(&Delivery {
            received: true,
            blob: &queued,
            size: 6,
            internal_date: 1,
            targets: &crate::same_flags(&[a], &Flags::new()),
            queue: &[QueueEntry {
                mail_from: "a@x.vn",
                recipients: &rcpts,
                dsn: None,
            }],
        })
        .await
        .unwrap();
    delete(&store, a, uids[0].1).await;
    assert_eq!(unreferenced(&store).await, std::slice::from_ref(&shared));
    let id = store.queued_messages().await.unwrap()[0].id;
    assert!(store.delete_queued(id).await.unwrap());
    let mut left = unreferenced(&store).await;
    left.sort_by(|x, y| x.as_str().cmp(y.as_str()));
    let mut want = vec![shared, queued];
    want.sort_by(|x, y| x.as_str().cmp(y.as_str()));
    assert_eq!(left, want);

    // Moving and copying keep the body referenced; deleting the mailbox releases it.
    let moved = put(&store, b"moved", &[a]).await;
    let trash = store.mailbox_by_name(
        store
            .account_by_address("a@x.vn")
            .await
            .unwrap()
            .unwrap()
            .id,
        "Trash",
    );
    let trash = trash.await.unwrap().unwrap().id;
    store.move_messages(a, &[moved[0].1], trash).await.unwrap();
    assert!(!unreferenced(&store).await.contains(&BlobId::of(b"moved")));
    store.delete_mailbox(trash).await.unwrap();
    assert!(unreferenced(&store).await.contains(&BlobId::of(b"moved")));
    drop(store);
    let _ = std::fs::remove_dir_all(dir);
}

/// Every column of the schema that may hold a blob hash (by name or by a foreign key to
/// `blobs`) is one the reference query covers, or the derived search text. A migration adding
/// another must extend `sqlite::blob_gc`'s `referenced!`.
async fn every_blob_column_is_a_known_reference(kind: Kind) {
    let (reference_columns, derived_columns) = match kind {
        Kind::Sqlite => (
            crate::sqlite::blob_gc::REFERENCE_COLUMNS,
            crate::sqlite::blob_gc::DERIVED_COLUMNS,
        ),
        Kind::Postgres => (
            crate::postgres::blob_gc::REFERENCE_COLUMNS,
            crate::postgres::blob_gc::DERIVED_COLUMNS,
        ),
    };
    let (store, dir) = open(kind).await;
    // (table, column, whether it is a foreign key to `blobs`) of every column.
    let columns: Vec<(String, String, bool)> = match &store.meta {
        Meta::Sqlite(db) => sqlx::query_as(
            "SELECT t.name, c.name, EXISTS (SELECT 1 FROM pragma_foreign_key_list(t.name) f
                                             WHERE f.\"table\" = 'blobs' AND f.\"from\" = c.name)
               FROM sqlite_master t, pragma_table_info(t.name) c
              WHERE t.type = 'table' AND t.name NOT LIKE 'sqlite_%'",
        )
        .fetch_all(&db.read)
        .await
        .unwrap(),
        Meta::Postgres(db) => sqlx::query_as(
            "SELECT c.table_name::text, c.column_name::text, EXISTS (
                    SELECT 1 FROM information_schema.key_column_usage k
                      JOIN information_schema.referential_constraints r
                        ON r.constraint_name = k.constraint_name
                      JOIN information_schema.constraint_column_usage u
                        ON u.constraint_name = r.unique_constraint_name
                     WHERE k.table_name = c.table_name AND k.column_name = c.column_name
                       AND u.table_name = 'blobs')
               FROM information_schema.columns c
              WHERE c.table_schema = current_schema()",
        )
        .fetch_all(&db.read)
        .await
        .unwrap(),
    };
    let mut found = Vec::new();
    for (table, column, to_blobs) in columns {
        if table != "blobs" && (to_blobs || column.contains("blob") || column == "sha256") {
            found.push(format!("{table}.{column}"));
        }
    }
    for column in &found {
        assert!(
            reference_columns.contains(&column.as_str())
                || derived_columns.contains(&column.as_str()),
            "{column} names a blob but the collector does not know it"
        );
    }
    for column in reference_columns {
        assert!(
            found.iter().any(|f| f == column),
            "{column} not in the schema"
        );
    }
    drop(store);
    let _ = std::fs::remove_dir_all(dir);
}

/// A NUL in a header (an APPEND of a literal8 may carry one, RFC 3516) is stored and the rest
/// of the text found, on every back-end.
async fn text_with_a_nul_is_stored(kind: Kind) {
    let (store, dir) = open(kind).await;
    let (_, inbox) = account(&store, "n@x.vn").await;
    let body = b"Subject: \x00\r\n\r\nx\x00y\r\n";
    let blob = store.blobs().put(Arc::new(body.to_vec())).await.unwrap();
    let text = SearchText {
        subject: "nul\0here".into(),
        body: "x\0y".into(),
        ..SearchText::default()
    };
    let delivery = Delivery {
        received: true,
        blob: &blob,
        size: body.len() as u32,
        internal_date: 1,
        targets: &crate::same_flags(&[inbox], &Flags::new()),
        queue: &[],
    };
    let uid = store.deliver_indexed(&delivery, Some(&text)).await.unwrap()[0].1;
    let found = store
        .search_text(inbox, SearchField::Subject, "here")
        .await
        .unwrap();
    assert_eq!(found, vec![uid]);
    // The NUL is a space on every back-end, in the text and in the needle.
    let found = store
        .search_text(inbox, SearchField::Body, "x\0y")
        .await
        .unwrap();
    assert_eq!(found, vec![uid]);
    drop(store);
    let _ = std::fs::remove_dir_all(dir);
}

/// `\Recent` marks (contract §13): a mailbox starts at 0, a claim returns the mark before
/// and raises it (never lowers it), and of concurrent claims exactly one gets each message.
async fn recent_is_claimed_once(kind: Kind) {
    let (store, dir) = open(kind).await;
    let store = Arc::new(store);
    let (_, inbox) = account(&store, "r@x.vn").await;
    for i in 0..3 {
        put(&store, format!("r{i}").as_bytes(), &[inbox]).await;
    }
    assert_eq!(store.recent_mark(inbox).await.unwrap(), 0);
    assert_eq!(store.claim_recent(inbox, Uid(3)).await.unwrap(), 0);
    assert_eq!(store.recent_mark(inbox).await.unwrap(), 3);
    assert_eq!(store.claim_recent(inbox, Uid(3)).await.unwrap(), 3);
    assert_eq!(store.claim_recent(inbox, Uid(1)).await.unwrap(), 3);
    assert_eq!(store.recent_mark(inbox).await.unwrap(), 3, "never lowered");
    for i in 3..5 {
        put(&store, format!("r{i}").as_bytes(), &[inbox]).await;
    }
    let claims: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.claim_recent(inbox, Uid(5)).await.unwrap() })
        })
        .collect();
    let mut before = Vec::new();
    for claim in claims {
        before.push(claim.await.unwrap());
    }
    before.sort_unstable();
    assert_eq!(
        before,
        [3, 5, 5, 5, 5, 5, 5, 5],
        "one claim gets UIDs 4 and 5"
    );
    assert!(matches!(
        store.claim_recent(MailboxId(999_999), Uid(1)).await,
        Err(StoreError::NotFound(_))
    ));
    std::fs::remove_dir_all(dir).unwrap();
}

/// Rate-limit events (contract §14): counts sum the weights since the time asked, with the
/// oldest event; each key and kind counts alone; a clear forgets one key; recording forgets
/// what is older than `forget_before`; two handles on one database see each other's events.
async fn rate_events_are_counted_and_forgotten(kind: Kind) {
    let dir = std::env::temp_dir().join(format!("hopthu-store-{}", rand::random::<u64>()));
    let url = match kind {
        Kind::Sqlite => None,
        Kind::Postgres => Some(crate::testing::new_database().await),
    };
    let store = Store::open(&dir, url.as_deref(), None).await.unwrap();
    let event = |kind, key: &str, at, weight| RateEvent {
        kind,
        key: key.to_string(),
        at,
        weight,
    };
    let ask = |kind, key, since| RateAsk { kind, key, since };
    store
        .rate_record(
            &[
                event(RateKind::FailureBySource, "192.0.2.7", 1_000, 1),
                event(RateKind::FailureBySource, "192.0.2.7", 2_000, 1),
                event(RateKind::FailureByAccount, "a@x.vn", 2_000, 1),
                event(RateKind::Sent, "a@x.vn", 3_000, 40),
            ],
            0,
        )
        .await
        .unwrap();
    store
        .rate_record(&[event(RateKind::Sent, "a@x.vn", 4_000, 2)], 0)
        .await
        .unwrap();
    let counts = store
        .rate_counts(&[
            ask(RateKind::FailureBySource, "192.0.2.7", 0),
            ask(RateKind::FailureBySource, "192.0.2.7", 1_500),
            ask(RateKind::FailureBySource, "192.0.2.8", 0),
            ask(RateKind::FailureByAccountSource, "a@x.vn", 0),
            ask(RateKind::Sent, "a@x.vn", 0),
        ])
        .await
        .unwrap();
    let count = |weight, oldest| RateCount { weight, oldest };
    assert_eq!(
        counts,
        [
            count(2, Some(1_000)),
            count(1, Some(2_000)),
            count(0, None),
            count(0, None),
            count(42, Some(3_000)),
        ]
    );
    store
        .rate_clear(RateKind::FailureBySource, "192.0.2.7")
        .await
        .unwrap();
    // Recording at 5 s forgets what happened before 2.5 s, of every key.
    store
        .rate_record(&[event(RateKind::SuccessNotice, "b@x.vn", 5_000, 1)], 2_500)
        .await
        .unwrap();
    let counts = store
        .rate_counts(&[
            ask(RateKind::FailureBySource, "192.0.2.7", 0),
            ask(RateKind::FailureByAccount, "a@x.vn", 0),
            ask(RateKind::Sent, "a@x.vn", 0),
            ask(RateKind::SuccessNotice, "b@x.vn", 0),
        ])
        .await
        .unwrap();
    assert_eq!(
        counts,
        [
            count(0, None),
            count(0, None),
            count(42, Some(3_000)),
            count(1, Some(5_000)),
        ]
    );
    // Another handle on the same database (another node) counts the same events.
    let other = Store::open(&dir, url.as_deref(), None).await.unwrap();
    assert_eq!(
        other
            .rate_counts(&[ask(RateKind::Sent, "a@x.vn", 0)])
            .await
            .unwrap(),
        [count(42, Some(3_000))]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// Outbound work is claimed: concurrent claims by two nodes never take the same recipient,
/// what a node holds is taken again by another only after its lease, recording an outcome
/// ends the hold, and a node can give back what it holds.
async fn queue_claims_are_exclusive_and_end(kind: Kind) {
    let (store, dir) = open(kind).await;
    let store = Arc::new(store);
    let now = chrono::Utc::now().timestamp() + 10;
    for i in 0..20 {
        let body = format!("queued {i}").into_bytes();
        let blob = store.blobs().put(Arc::new(body.clone())).await.unwrap();
        let recipients = vec![format!("r{i}@a.example"), format!("r{i}@b.example")];
        store
            .deliver(&Delivery {
                received: true,
                blob: &blob,
                size: body.len() as u32,
                internal_date: 1,
                targets: &[],
                queue: &[QueueEntry {
                    mail_from: "s@x.vn",
                    recipients: &recipients,
                    dsn: None,
                }],
            })
            .await
            .unwrap();
    }
    // Two nodes claim at once, 25 each at most: between them they hold all 40, never one twice.
    let claim = |node: &'static str| {
        let store = store.clone();
        tokio::spawn(async move {
            let due = store.claim_queued(now, 25, node, i64::MAX).await.unwrap();
            due.iter()
                .flat_map(|m| {
                    m.recipients
                        .iter()
                        .filter(|r| r.lease_owner.as_deref() == Some(node))
                        .map(|r| (m.id, r.address.clone()))
                })
                .collect::<Vec<_>>()
        })
    };
    let (a, b) = (claim("node-a"), claim("node-b"));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert_eq!(a.len() + b.len(), 40, "every recipient claimed once");
    assert!(
        a.iter().all(|k| !b.contains(k)),
        "a recipient claimed twice"
    );
    // Held until the lease ends: another node gets nothing before, everything after.
    let leased = store
        .claim_queued(now, 100, "node-c", now + 60)
        .await
        .unwrap();
    assert!(
        leased.is_empty(),
        "held recipients taken before their lease ended"
    );
    store.release_queued("node-a", None).await.unwrap();
    store.release_queued("node-b", None).await.unwrap();
    let c = store
        .claim_queued(now, 100, "node-c", now + 60)
        .await
        .unwrap();
    let held_by_c = |messages: &[QueuedMessage]| {
        messages
            .iter()
            .flat_map(|m| m.recipients.iter())
            .filter(|r| r.lease_owner.as_deref() == Some("node-c"))
            .count()
    };
    assert_eq!(held_by_c(&c), 40);
    // After c's lease, d may take them; an outcome ends the hold for good.
    let d = store
        .claim_queued(now + 61, 1, "node-d", now + 120)
        .await
        .unwrap();
    let m = &d[0];
    let r = m
        .recipients
        .iter()
        .find(|r| r.lease_owner.as_deref() == Some("node-d"));
    let r = r.expect("d holds one").address.clone();
    store
        .update_queue_recipients(&[RecipientUpdate {
            queue_id: m.id,
            address: r.clone(),
            state: RecipientState::Pending,
            next_attempt_at: now,
            attempted: true,
            last_error: Some("4.0.0 try later".into()),
            remote_mta: None,
        }])
        .await
        .unwrap();
    let after = store.queued_message(m.id).await.unwrap().unwrap();
    let r = after.recipients.iter().find(|x| x.address == r).unwrap();
    assert_eq!((r.lease_owner.as_deref(), r.attempts), (None, 1));
    drop(store);
    let _ = std::fs::remove_dir_all(dir);
}

/// The collector frees an unreferenced body (file and row), keeps a referenced one, keeps a
/// young file with no row yet, does nothing while a backup holds the lease, and puts back a
/// body left aside by an interrupted run when it is referenced.
async fn the_collector_frees_only_old_unreferenced_bodies(kind: Kind) {
    let (store, dir) = open(kind).await;
    let (_, a) = account(&store, "a@x.vn").await;
    let keep = BlobId::of(b"keep");
    let gone = BlobId::of(b"gone");
    put(&store, b"keep", &[a]).await;
    let placed = put(&store, b"gone", &[a]).await;
    delete(&store, a, placed[0].1).await;
    // Written, no row yet (a delivery between its put and its commit).
    let fresh = store
        .blobs()
        .put(Arc::new(b"fresh".to_vec()))
        .await
        .unwrap();
    // An orphan of a failed delivery, long ago.
    let orphan = store
        .blobs()
        .put(Arc::new(b"orphan".to_vec()))
        .await
        .unwrap();
    for id in [&keep, &gone, &orphan] {
        age(&dir, id);
    }

    // A backup holds the lease: nothing happens.
    let lease = BackupLease::acquire(&dir).unwrap();
    let report = store.collect_blobs(&GcOptions::default()).await.unwrap();
    assert!(report.busy, "{report:?}");
    assert!(blob_file(&dir, &gone).exists());
    drop(lease);

    let dry = store
        .collect_blobs(&GcOptions {
            dry_run: true,
            ..GcOptions::default()
        })
        .await
        .unwrap();
    assert_eq!((dry.freed, dry.freed_bytes), (2, 10), "{dry:?}");
    assert!(blob_file(&dir, &gone).exists());
    assert_eq!(unreferenced(&store).await, std::slice::from_ref(&gone));

    let report = store.collect_blobs(&GcOptions::default()).await.unwrap();
    assert_eq!((report.freed, report.freed_bytes), (2, 10), "{report:?}");
    assert_eq!(report.rows, 1);
    assert_eq!(report.young, 1);
    assert!(!blob_file(&dir, &gone).exists());
    assert!(!blob_file(&dir, &orphan).exists());
    assert!(blob_file(&dir, &keep).exists());
    assert!(blob_file(&dir, &fresh).exists());
    assert!(unreferenced(&store).await.is_empty());
    // The freed body can come again: a new delivery stores it anew.
    put(&store, b"gone", &[a]).await;
    assert_eq!(store.blobs().get(&gone).await.unwrap(), b"gone");

    // A crash left a referenced body aside: the next run puts it back.
    let tomb = blob_file(&dir, &keep).with_file_name(format!(".gc.{}", keep.as_str()));
    std::fs::rename(blob_file(&dir, &keep), &tomb).unwrap();
    let report = store.collect_blobs(&GcOptions::default()).await.unwrap();
    assert_eq!(report.restored, 1, "{report:?}");
    assert_eq!(store.blobs().get(&keep).await.unwrap(), b"keep");
    assert!(!tomb.exists());
    drop(store);
    let _ = std::fs::remove_dir_all(dir);
}

/// Text indexed before substring search (SQLite migration 0014, PostgreSQL 0002) is found by
/// substrings as soon as the store opens, dated in UTC+7 until its header is read again, and
/// handed to the background indexer, whose `index_blob` replaces it everywhere.
async fn older_search_text_is_kept_then_extracted_again(kind: Kind) {
    let dir = std::env::temp_dir().join(format!("hopthu-store-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = match kind {
        Kind::Sqlite => None,
        Kind::Postgres => Some(crate::testing::new_database().await),
    };
    // The schema before: word-prefix search, no `sent_day`.
    let meta = match &url {
        None => {
            let db = crate::sqlite::SqliteMeta::connect(&dir.join(backup::DATABASE))
                .await
                .unwrap();
            db.migrate_to(13).await.unwrap();
            Meta::Sqlite(db)
        }
        Some(url) => {
            let db = crate::postgres::PgMeta::connect(url).await.unwrap();
            db.migrate_to(1).await.unwrap();
            Meta::Postgres(Box::new(db))
        }
    };
    let store = Store {
        meta,
        blobs: BlobStore::open_local(&dir.join(backup::BLOBS)).unwrap(),
    };
    // The message is appended, not received: mail received is also counted in the ledger
    // (`message_days`), a table the old schema does not have yet.
    let (account_id, _) = account(&store, "m@x.vn").await;
    let inbox = store
        .mailbox_by_name(account_id, "Trash")
        .await
        .unwrap()
        .unwrap()
        .id;
    let body = b"Subject: Beautiful World\r\n\r\nhello old";
    let blob = BlobId::of(body);
    // 2024-02-07 20:00 UTC: 8 February in UTC+7.
    let sent_at = 1_707_336_000i64;
    match &store.meta {
        Meta::Sqlite(db) => {
            sqlx::query(
                "INSERT INTO search_text (blob_hash, hfrom, hto, hcc, hbcc, subject, body, sent_at)
                 VALUES ($1, 'user-from@example.org', '', '', '', 'beautiful world',
                         'hello old.', $2)",
            )
            .bind(blob.as_str())
            .bind(sent_at)
            .execute(&db.write)
            .await
            .unwrap();
        }
        Meta::Postgres(db) => {
            sqlx::query(
                "INSERT INTO search_text (blob_hash, hfrom, hto, hcc, hbcc, subject, body, sent_at,
                                          w_from, w_to, w_cc, w_bcc, w_subject)
                 VALUES ($1, 'user-from@example.org', '', '', '', 'beautiful world',
                         ' hello old ', $2, ' user from example org ', ' ', ' ', ' ',
                         ' beautiful world ')",
            )
            .bind(blob.as_str())
            .bind(sent_at)
            .execute(&db.write)
            .await
            .unwrap();
        }
    }
    let uid = put_as(&store, body, &[inbox], false).await[0].1;
    store.close().await;

    let store = Store::open(&dir, url.as_deref(), None).await.unwrap();
    let find = |field, s: &'static str| {
        let store = &store;
        async move { store.search_text(inbox, field, s).await.unwrap() }
    };
    assert_eq!(find(SearchField::Subject, "eautiful worl").await, vec![uid]);
    assert_eq!(find(SearchField::From, "ser-fro").await, vec![uid]);
    assert_eq!(find(SearchField::Body, "llo ol").await, vec![uid]);
    assert_eq!(find(SearchField::Text, "ld").await, vec![uid]);
    let day = |y, m, d| {
        (chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap() - chrono::NaiveDate::default())
            .num_days()
    };
    assert_eq!(
        store.sent_days(inbox).await.unwrap(),
        vec![(uid, Some(day(2024, 2, 8)))]
    );
    assert_eq!(store.unindexed_blobs(10).await.unwrap(), vec![blob.clone()]);

    // A body that cannot be read keeps its text, no longer stale.
    store.keep_text(&blob).await.unwrap();
    assert!(store.unindexed_blobs(10).await.unwrap().is_empty());
    assert_eq!(find(SearchField::Body, "llo ol").await, vec![uid]);

    // Extracted again: the new text replaces the old one, in the index too.
    let text = SearchText {
        from: "user-from@example.org".into(),
        subject: "beautiful world".into(),
        body: "hello, new world!".into(),
        sent_at: Some(sent_at),
        sent_day: Some(day(2024, 2, 7)),
        ..SearchText::default()
    };
    store.index_blob(&blob, &text).await.unwrap();
    assert!(store.unindexed_blobs(10).await.unwrap().is_empty());
    assert_eq!(find(SearchField::Body, "o, new world!").await, vec![uid]);
    assert_eq!(find(SearchField::Body, "old").await, vec![]);
    assert_eq!(find(SearchField::Subject, "eautiful worl").await, vec![uid]);
    assert_eq!(
        store.sent_days(inbox).await.unwrap(),
        vec![(uid, Some(day(2024, 2, 7)))]
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// Contract §17: a document is delivered with its rows in one transaction (one body, a message
/// per recipient's INBOX, a recipient row each, its audit), a number is unique per unit and
/// year (the conflict writes nothing), and the first opening and acknowledgement stay.
async fn a_document_is_delivered_with_its_rows(kind: Kind) {
    use crate::documents::NewDocument;
    use hopthu_model::UnitId;
    let store = open(kind).await.0;
    let unit = |code: &str, address: &str| NewUnit {
        code: code.into(),
        kind: "department".into(),
        name: code.into(),
        parent_code: None,
        address: address.into(),
        password_hash: "h".into(),
        must_change_password: false,
    };
    let created = store
        .create_directory(&NewDirectory {
            units: &[
                unit("U1", "sotttt@caobang.gov.vn"),
                unit("U2", "sonoivu@caobang.gov.vn"),
                unit("U3", "sotuphap@caobang.gov.vn"),
            ],
            people: &[],
            aliases: &[],
            folders: &[("INBOX", None)],
            created_at: 1,
            audit: &[],
        })
        .await
        .unwrap();
    let units: Vec<UnitId> = store.units().await.unwrap().iter().map(|u| u.id).collect();
    let inbox = |i: usize| {
        let account = created.units[i].1;
        let store = &store;
        async move {
            store
                .mailbox_by_name(account, "INBOX")
                .await
                .unwrap()
                .unwrap()
                .id
        }
    };
    let targets = [inbox(1).await, inbox(2).await];
    let blob = BlobId::of(b"document");
    let audit = [NewAudit {
        actor: "cli:root".into(),
        action: "document.dispatch".into(),
        target: "unit:U1".into(),
        before: None,
        after: None,
    }];
    let recipients = [units[1], units[2]];
    let doc = NewDocument {
        unit: units[0],
        number: "12/STTTT",
        issued_on: "2026-12-01",
        year: 2026,
        kind: "cong_van",
        summary: "V/v thử",
        file_name: "qd.pdf",
        file_sha256: "ab",
        message_id: "m1@x",
        dispatched_by: "cli:root",
        dispatched_at: 50,
        recipients: &recipients,
        audit: &audit,
    };
    let delivery = Delivery {
        received: true,
        blob: &blob,
        size: 8,
        internal_date: 50,
        targets: &crate::same_flags(&targets, &Flags::new()),
        queue: &[],
    };
    let audit_before = store.audit_log().await.unwrap().len();
    let (id, uids) = store
        .dispatch_document(&doc, &delivery, None)
        .await
        .unwrap();
    assert_eq!(uids.len(), 2);
    assert_eq!(store.audit_log().await.unwrap().len(), audit_before + 1);
    for target in targets {
        assert_eq!(store.messages(target).await.unwrap().len(), 1);
    }
    let record = store.document(id).await.unwrap().unwrap();
    assert_eq!(
        (record.number.as_str(), record.unit),
        ("12/STTTT", units[0])
    );
    assert_eq!(
        store.documents_by_file("ab").await.unwrap(),
        vec![record.clone()]
    );
    assert_eq!(
        store.document_by_message_id("m1@x").await.unwrap(),
        Some(record.clone())
    );
    assert_eq!(
        store.documents_of_unit(units[0], 10).await.unwrap(),
        vec![record]
    );
    assert_eq!(
        store.documents_dispatched(50, 51).await.unwrap(),
        vec![(units[0], 1)]
    );
    assert!(store.documents_dispatched(51, 99).await.unwrap().is_empty());
    // The same number again this year: a conflict, and nothing of it is written.
    let again = store.dispatch_document(&doc, &delivery, None).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    for target in targets {
        assert_eq!(store.messages(target).await.unwrap().len(), 1);
    }
    assert_eq!(store.audit_log().await.unwrap().len(), audit_before + 1);

    let rows = store.document_recipients(id).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|r| r.delivered_at == Some(50) && r.opened_at.is_none())
    );
    // Opening another message of the folder changes nothing; the copy's first opening stays.
    let (mailbox, uid) = uids[0];
    assert_eq!(
        store
            .document_opened(mailbox, &[Uid(uid.0 + 7)], "a@x", 60)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .document_opened(mailbox, &[uid], "a@x", 60)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .document_opened(mailbox, &[uid], "b@x", 70)
            .await
            .unwrap(),
        0
    );
    assert!(
        store
            .acknowledge_document(id, units[1], "a@x", 80)
            .await
            .unwrap()
    );
    assert!(
        store
            .acknowledge_document(id, units[1], "b@x", 90)
            .await
            .unwrap()
    );
    assert!(
        !store
            .acknowledge_document(id, units[0], "a@x", 90)
            .await
            .unwrap()
    );
    let rows = store.document_recipients(id).await.unwrap();
    let first = rows.iter().find(|r| r.unit == units[1]).unwrap();
    assert_eq!(
        (first.opened_at, first.opened_by.as_deref()),
        (Some(60), Some("a@x"))
    );
    assert_eq!(
        (first.acknowledged_at, first.acknowledged_by.as_deref()),
        (Some(80), Some("a@x"))
    );
    assert_eq!((first.mailbox, first.uid), (Some(mailbox), Some(uid)));
    let other = rows.iter().find(|r| r.unit == units[2]).unwrap();
    assert!(other.opened_at.is_none() && other.acknowledged_at.is_none());
}

/// Contract §16: a delegation is granted (and replaced), listed from both sides, revoked once,
/// each write with its audit rows in one chain, and it goes with either account.
async fn delegations_are_granted_listed_revoked_and_audited(kind: Kind) {
    use hopthu_model::{DelegateRight, DelegateRights};
    let store = open(kind).await.0;
    let person = |name: &str, address: &str| NewPerson {
        full_name: name.into(),
        unit_code: "U1".into(),
        position: None,
        staff_id: None,
        phone: None,
        address: address.into(),
        public: false,
        head: false,
        password_hash: "h".into(),
        must_change_password: false,
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
                must_change_password: false,
            }],
            people: &[
                person("Nông Văn Đạt", "datnv@caobang.gov.vn"),
                person("Lục Thị Hoa", "hoalt@caobang.gov.vn"),
            ],
            aliases: &[],
            folders: &[("INBOX", None)],
            created_at: 1,
            audit: &[],
        })
        .await
        .unwrap();
    let (_, unit) = created.units[0];
    let (_, dat) = created.people[0];
    let (hoa_person, hoa) = created.people[1];
    let audit = |action: &str, who: &str| NewAudit {
        actor: "cli:root".into(),
        action: action.into(),
        target: "account:sonoivu@caobang.gov.vn".into(),
        before: None,
        after: Some(format!(r#"{{"delegate":"{who}"}}"#)),
    };
    let read = DelegateRights::parse("read").unwrap();
    let all = DelegateRights::parse("manage,send-as,send-on-behalf").unwrap();

    assert!(!store.has_delegates(unit).await.unwrap());
    assert!(store.delegates(unit).await.unwrap().is_empty());
    store
        .grant_delegate(
            unit,
            hoa,
            read,
            "cli:root",
            10,
            &[audit("unit.grant", "hoa")],
        )
        .await
        .unwrap();
    store
        .grant_delegate(
            unit,
            dat,
            read,
            "cli:root",
            11,
            &[audit("unit.grant", "dat")],
        )
        .await
        .unwrap();
    // A second grant replaces the rights, who granted and when.
    store
        .grant_delegate(
            unit,
            dat,
            all,
            "qtv@caobang.gov.vn",
            12,
            &[audit("unit.grant", "dat")],
        )
        .await
        .unwrap();
    assert!(store.has_delegates(unit).await.unwrap());
    assert!(store.taken_over(unit).await.unwrap());
    assert!(!store.has_delegates(dat).await.unwrap());
    let delegates = store.delegates(unit).await.unwrap();
    assert_eq!(
        delegates,
        vec![
            DelegateRecord {
                unit,
                unit_address: "sonoivu@caobang.gov.vn".into(),
                delegate: dat,
                delegate_address: "datnv@caobang.gov.vn".into(),
                rights: all,
                granted_by: "qtv@caobang.gov.vn".into(),
                granted_at: 12,
            },
            DelegateRecord {
                unit,
                unit_address: "sonoivu@caobang.gov.vn".into(),
                delegate: hoa,
                delegate_address: "hoalt@caobang.gov.vn".into(),
                rights: read,
                granted_by: "cli:root".into(),
                granted_at: 10,
            },
        ]
    );
    assert!(
        delegates[0].rights.has(DelegateRight::Read),
        "manage keeps read"
    );
    assert_eq!(
        store.delegations_of(dat).await.unwrap(),
        vec![delegates[0].clone()]
    );
    assert!(store.delegations_of(unit).await.unwrap().is_empty());
    // Rights without any right are refused and change nothing.
    assert!(
        store
            .grant_delegate(unit, dat, DelegateRights::NONE, "cli:root", 13, &[])
            .await
            .is_err()
    );
    assert_eq!(store.delegates(unit).await.unwrap(), delegates);

    assert!(
        store
            .revoke_delegate(unit, dat, 20, &[audit("unit.revoke", "dat")])
            .await
            .unwrap()
    );
    // Revoking again removes nothing and writes no audit row.
    assert!(
        !store
            .revoke_delegate(unit, dat, 21, &[audit("unit.revoke", "dat")])
            .await
            .unwrap()
    );
    assert!(store.delegations_of(dat).await.unwrap().is_empty());
    let log = store.audit_log().await.unwrap();
    let actions: Vec<(&str, i64)> = log.iter().map(|r| (r.action.as_str(), r.at)).collect();
    assert_eq!(
        actions,
        [
            ("unit.grant", 10),
            ("unit.grant", 11),
            ("unit.grant", 12),
            ("unit.revoke", 20)
        ]
    );
    for pair in log.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    // One target's newest rows, newest first.
    let newest = store
        .audit_for("account:sonoivu@caobang.gov.vn", 2)
        .await
        .unwrap();
    assert_eq!(newest, vec![log[3].clone(), log[2].clone()]);
    assert!(store.audit_for("account:x", 5).await.unwrap().is_empty());

    // The delegate's account purged: its delegation goes with it.
    store
        .write_lifecycle(&LifecycleWrite {
            at: 30,
            effects: &[LifecycleEffect::PurgeMailbox { person: hoa_person }],
            ..LifecycleWrite::default()
        })
        .await
        .unwrap();
    assert!(!store.has_delegates(unit).await.unwrap());
}

/// Contract §16: the owner of a unit mailbox is its unit's head while the head is an active
/// person with an account; a unit without a head has none.
async fn a_unit_mailbox_is_owned_by_its_head(kind: Kind) {
    let store = open(kind).await.0;
    let unit = |code: &str, address: &str| NewUnit {
        code: code.into(),
        kind: "department".into(),
        name: code.into(),
        parent_code: None,
        address: address.into(),
        password_hash: "h".into(),
        must_change_password: false,
    };
    let person = |unit_code: &str, address: &str, head: bool| NewPerson {
        full_name: "Nông Văn Đạt".into(),
        unit_code: unit_code.into(),
        position: None,
        staff_id: None,
        phone: None,
        address: address.into(),
        public: false,
        head,
        password_hash: "h".into(),
        must_change_password: false,
    };
    let created = store
        .create_directory(&NewDirectory {
            units: &[
                unit("U1", "sonoivu@caobang.gov.vn"),
                unit("U2", "soyte@caobang.gov.vn"),
            ],
            people: &[
                person("U1", "datnv@caobang.gov.vn", true),
                person("U1", "hoalt@caobang.gov.vn", false),
            ],
            aliases: &[],
            folders: &[("INBOX", None)],
            created_at: 1,
            audit: &[],
        })
        .await
        .unwrap();
    let (_, noivu) = created.units[0];
    let (_, yte) = created.units[1];
    let (dat_person, dat) = created.people[0];
    let (_, hoa) = created.people[1];
    assert_eq!(store.unit_owner(noivu).await.unwrap(), Some(dat));
    assert_eq!(store.unit_owner(yte).await.unwrap(), None);
    assert!(store.taken_over(noivu).await.unwrap());
    assert!(!store.taken_over(yte).await.unwrap());
    assert_eq!(store.unit_owner(dat).await.unwrap(), None);
    assert_eq!(
        store.owned_unit_mailboxes(dat).await.unwrap(),
        vec![(noivu, "sonoivu@caobang.gov.vn".to_string())]
    );
    assert!(store.owned_unit_mailboxes(hoa).await.unwrap().is_empty());
    // A head whose mailbox is purged owns nothing any more.
    store
        .write_lifecycle(&LifecycleWrite {
            at: 30,
            effects: &[LifecycleEffect::PurgeMailbox { person: dat_person }],
            ..LifecycleWrite::default()
        })
        .await
        .unwrap();
    assert_eq!(store.unit_owner(noivu).await.unwrap(), None);
    assert!(!store.taken_over(noivu).await.unwrap());
}

on_each_backend!(
    uids_ascend_and_changes_feed_reports_everything,
    one_blob_for_many_recipients_and_copies,
    rename_moves_children_and_conflicts_are_reported,
    duplicate_account_is_a_conflict,
    search_index_follows_messages,
    message_pages_are_keyset_newest_first,
    web_sessions_and_settings,
    unseen_counters_follow_flags_moves_and_expunges,
    concurrent_deliveries_share_a_commit_and_fail_alone,
    concurrent_mail_writes_share_a_commit_and_fail_alone,
    mail_commits_wait_for_the_disk_and_flag_changes_do_not,
    concurrent_sign_ins_share_a_commit_and_fail_alone,
    message_index_agrees_with_the_full_records,
    the_reference_query_sees_every_mailbox_and_the_queue,
    the_collector_frees_only_old_unreferenced_bodies,
    text_with_a_nul_is_stored,
    queue_claims_are_exclusive_and_end,
    recent_is_claimed_once,
    rate_events_are_counted_and_forgotten,
    every_blob_column_is_a_known_reference,
    older_search_text_is_kept_then_extracted_again,
    delegations_are_granted_listed_revoked_and_audited,
    a_unit_mailbox_is_owned_by_its_head,
    a_document_is_delivered_with_its_rows,
);

/// PostgreSQL across a network: `sslmode=verify-full` with the server's CA in `sslrootcert`
/// gets a TLS connection (this machine's server uses Debian's self-signed `localhost`
/// certificate), and a CA that did not sign the server's certificate is refused.
#[tokio::test]
async fn postgres_over_tls_checks_the_server_certificate() {
    crate::testing::run(async {
        let url = crate::testing::new_database().await;
        let database = url
            .rsplit('/')
            .next()
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .to_string();
        let over_tls = |ca: &str| {
            format!(
                "postgres://postgres@localhost:5432/{database}?sslmode=verify-full&sslrootcert={ca}"
            )
        };
        let snakeoil = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
        let meta = crate::postgres::PgMeta::open(&over_tls(snakeoil))
            .await
            .expect("TLS to the local PostgreSQL with its own certificate as the CA");
        let ssl: bool =
            sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                .fetch_one(&meta.read)
                .await
                .unwrap();
        assert!(ssl, "the connection is not encrypted");
        NodeStore::close(&meta).await;
        // Some other CA: the server is not who it claims to be.
        let other = std::env::temp_dir().join(format!("hopthu-ca-{}.pem", rand::random::<u64>()));
        let ca = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        std::fs::write(&other, ca.cert.pem()).unwrap();
        let refused = crate::postgres::PgMeta::connect(&over_tls(other.to_str().unwrap())).await;
        std::fs::remove_file(&other).unwrap();
        assert!(
            refused.is_err(),
            "a certificate signed by another CA was accepted"
        );
    })
    .await;
}

/// Several nodes on one database: a backup running on one node (the collector's lock held
/// shared on its connection, as `backup_postgres` does) keeps the blob collector of another
/// node off, although that node's own lease file is free; once the backup ends it runs.
#[tokio::test]
async fn a_backup_on_another_node_keeps_the_collector_off() {
    use sqlx::Connection;
    crate::testing::run(async {
        let url = crate::testing::new_database().await;
        let dir = std::env::temp_dir().join(format!("hopthu-store-{}", rand::random::<u64>()));
        let store = Store::open(&dir, Some(&url), None).await.unwrap();
        let options = GcOptions::default();
        assert!(!store.collect_blobs(&options).await.unwrap().busy);
        let mut backup = sqlx::PgConnection::connect(&url).await.unwrap();
        crate::backup::hold_collector_off(&mut backup)
            .await
            .unwrap();
        assert!(
            store.collect_blobs(&options).await.unwrap().busy,
            "the collector ran during a backup on another node"
        );
        backup.close().await.unwrap();
        assert!(!store.collect_blobs(&options).await.unwrap().busy);
        store.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    })
    .await;
}
