//! The many-mailboxes benchmark: an installation's worth of accounts (default 10,000, each with
//! the standard folders) receiving realistic small messages (default 100 each, 2–4 KB, bodies
//! stored as blobs, delivered with `deliver_indexed` so the search index is filled) from many
//! concurrent tasks, as the group commit sees them from SMTP sessions. Prints the fill rate,
//! then, on ~1,000 random mailboxes, the p50/p95/p99 latency of what a mail client makes the
//! store do when it opens a mailbox: `account_by_address`, `mailboxes`, `mailbox_status`,
//! `message_index`, `messages_by_uid` of the newest 20 messages, a `search_text` for a word and
//! `changes_since`; and the size of the database.
//!
//! ```text
//! cargo run --release -p hopthu-store --example mailboxes_bench -- \
//!     [--backend sqlite|postgres] [--url postgres://…/DB] [--dir DIR] [--accounts N]
//!     [--messages M] [--tasks T] [--sample S] [--fill-seconds SECS] [--no-blobs] [--keep]
//! ```
//!
//! SQLite and the blobs live in `--dir` (default: a temporary directory, removed at the end
//! unless `--keep`). On PostgreSQL the metadata go to the (empty) database `--url` names; without
//! `--url` a database is made for the run on the server `HOPTHU_BENCH_POSTGRES` names (default
//! `postgres://postgres@127.0.0.1:5432/postgres`, loopback) and dropped at the end.
//! `--fill-seconds` stops the fill after that long (mail goes to the accounts in turn, so every
//! mailbox then holds about the same number of messages; the figures say how many).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hopthu_model::text::search_fold;
use hopthu_model::{AccountId, Flag, Flags, MailboxId, Uid};
use hopthu_store::{Delivery, NewAccount, SearchField, SearchText, SpecialUse, Store};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use sqlx::Connection;

/// The folders every personal mailbox gets (as `hopthu_core::mail::STANDARD_FOLDERS`).
const FOLDERS: &[(&str, Option<SpecialUse>)] = &[
    ("INBOX", None),
    ("Sent", Some(SpecialUse::Sent)),
    ("Drafts", Some(SpecialUse::Drafts)),
    ("Trash", Some(SpecialUse::Trash)),
    ("Junk", Some(SpecialUse::Junk)),
    ("Archive", Some(SpecialUse::Archive)),
];

const GIVEN: &[&str] = &[
    "Đạt", "Hòa", "Hoà", "Lan", "Hùng", "Thảo", "Tuấn", "Ngọc", "Minh", "Phương", "Quân", "Hằng",
];
const FAMILY: &[&str] = &[
    "Nông", "Bế", "Hoàng", "Nguyễn", "Lục", "Đàm", "Triệu", "Lương", "Mông", "Vi",
];
const UNITS: &[&str] = &[
    "soyte",
    "sotnmt",
    "bandantoc",
    "baolac",
    "noivu.baolac",
    "sogiaoduc",
    "sotaichinh",
];
const VI: &str = "báo cáo kế hoạch công văn thông báo giấy mời họp giao ban quyết định tờ trình \
    dự thảo ngân sách quý năm tỉnh huyện xã phường đơn vị sở ban ngành triển khai thực hiện \
    nhiệm vụ kết quả đề nghị phê duyệt hướng dẫn tổng hợp số liệu đánh giá tình hình phòng \
    chống dịch bệnh giáo dục y tế tài nguyên môi trường đất đai xây dựng giao thông nông thôn \
    chuyển đổi số văn bản điện tử chữ ký thời hạn trước ngày kèm theo trân trọng kính gửi \
    khánh thủy điện lâm nghiệp sản xuất cầu đường trạm biên giới hồ sơ địa chính khoáng sản \
    rừng hộ thuế phí lệ chợ bến xe trường mầm non viện dân tộc lũ quét sạt lở hạ tầng mạng \
    cáp quang điểm du lịch thác bản giốc";
const EN: &str = "the report plan meeting budget review annual quarterly province district \
    office please find attached document deadline schedule update draft approval summary \
    figures health education environment transport digital transformation signature thanks";

/// The word searched for in each opened mailbox (folded): in about one message in ten.
const NEEDLE: &str = "giao thong";

struct Options {
    backend: String,
    url: Option<String>,
    dir: Option<PathBuf>,
    accounts: usize,
    messages: usize,
    tasks: usize,
    sample: usize,
    fill_seconds: Option<u64>,
    blobs: bool,
    keep: bool,
}

fn options() -> Options {
    let mut o = Options {
        backend: "sqlite".into(),
        url: None,
        dir: None,
        accounts: 10_000,
        messages: 100,
        tasks: 128,
        sample: 1_000,
        fill_seconds: None,
        blobs: true,
        keep: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        let number = |v: String| -> usize { v.parse().expect("a number") };
        match arg.as_str() {
            "--backend" => o.backend = value(),
            "--url" => o.url = Some(value()),
            "--dir" => o.dir = Some(value().into()),
            "--accounts" => o.accounts = number(value()),
            "--messages" => o.messages = number(value()),
            "--tasks" => o.tasks = number(value()).max(1),
            "--sample" => o.sample = number(value()).max(1),
            "--fill-seconds" => o.fill_seconds = Some(number(value()) as u64),
            "--no-blobs" => o.blobs = false,
            "--keep" => o.keep = true,
            _ => panic!("unknown argument {arg} (see the header of mailboxes_bench.rs)"),
        }
    }
    assert!(
        o.backend == "sqlite" || o.backend == "postgres",
        "--backend is sqlite or postgres"
    );
    o
}

fn sentence(rng: &mut StdRng, words: &[&str], n: usize) -> String {
    (0..n)
        .map(|_| words[rng.random_range(0..words.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

fn person(rng: &mut StdRng) -> (String, String) {
    let family = FAMILY[rng.random_range(0..FAMILY.len())];
    let given = GIVEN[rng.random_range(0..GIVEN.len())];
    let unit = UNITS[rng.random_range(0..UNITS.len())];
    let initial: String = family.chars().take(1).collect();
    let local = search_fold(&format!("{given}{initial}")).replace(' ', "");
    (
        format!("{family} Văn {given}"),
        format!("{local}{}@{unit}.caobang.gov.vn", rng.random_range(1..99)),
    )
}

fn address(account: usize) -> String {
    format!("canbo{account:05}@caobang.gov.vn")
}

/// One message as received (headers, UTF-8 as RFC 6532 allows, and a plain text body: 2–4 KB
/// in all) and its searchable text, folded as the core folds it.
fn message(rng: &mut StdRng, to: &str, vi: &[&str], en: &[&str]) -> (Vec<u8>, SearchText) {
    let (name, from) = person(rng);
    let english = rng.random_bool(0.3);
    let words = if english { en } else { vi };
    let n = rng.random_range(4..10);
    let subject = sentence(rng, words, n);
    let target = rng.random_range(1_200..3_000);
    let mut body = String::new();
    while body.len() < target {
        let n = rng.random_range(12..30);
        body.push_str(&sentence(rng, words, n));
        body.push_str(".\r\n");
    }
    body.push_str(&format!("--\r\n{name}\r\n{from}\r\n"));
    let sent_at = 1_700_000_000 + rng.random_range(0..40_000_000i64);
    let date = chrono::DateTime::from_timestamp(sent_at, 0)
        .expect("date")
        .with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).expect("offset"))
        .to_rfc2822();
    let id: u64 = rng.random();
    let raw = format!(
        "Return-Path: <{from}>\r\n\
         Received: from mail.caobang.gov.vn (mail.caobang.gov.vn [10.0.0.2])\r\n\
         \tby mx.caobang.gov.vn with ESMTPS id {id:016x}\r\n\
         \tfor <{to}>; {date}\r\n\
         Authentication-Results: mx.caobang.gov.vn; spf=pass smtp.mailfrom={from}; \
         dkim=pass header.d=caobang.gov.vn; dmarc=pass header.from=caobang.gov.vn\r\n\
         Message-ID: <{id:016x}@caobang.gov.vn>\r\n\
         Date: {date}\r\n\
         From: {name} <{from}>\r\n\
         To: <{to}>\r\n\
         Subject: {subject}\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=UTF-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\
         \r\n\
         {body}",
    );
    let text = SearchText {
        from: search_fold(&format!("{name} <{from}>")),
        to: search_fold(&format!("<{to}>")),
        cc: String::new(),
        bcc: String::new(),
        subject: search_fold(&subject),
        body: search_fold(&body),
        sent_at: Some(sent_at),
        sent_day: Some((sent_at + 25_200).div_euclid(86_400)),
        pending: false,
    };
    (raw.into_bytes(), text)
}

struct Account {
    id: AccountId,
    address: String,
    inbox: MailboxId,
}

async fn create_accounts(store: &Store, n: usize, tasks: usize) -> Vec<Account> {
    let started = Instant::now();
    let next = AtomicU64::new(0);
    let done = std::sync::Mutex::new(Vec::with_capacity(n));
    let (next, done_ref) = (&next, &done);
    let worker = || async move {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed) as usize;
            if i >= n {
                break;
            }
            let address = address(i);
            let id = store
                .create_account(
                    &NewAccount {
                        address: address.clone(),
                        display_name: format!("Cán bộ {i}"),
                        password_hash: "x".into(),
                        must_change_password: false,
                        created_at: 0,
                    },
                    FOLDERS,
                )
                .await
                .expect("create account");
            let inbox = store
                .mailbox_by_name(id, "INBOX")
                .await
                .expect("mailbox")
                .expect("INBOX")
                .id;
            done_ref
                .lock()
                .expect("lock")
                .push((i, Account { id, address, inbox }));
        }
    };
    futures_util::future::join_all((0..tasks).map(|_| worker())).await;
    let mut done = done.into_inner().expect("lock");
    done.sort_by_key(|(i, _)| *i);
    println!(
        "accounts: {n} created ({} folders each) in {:.1} s ({:.0}/s)",
        FOLDERS.len(),
        started.elapsed().as_secs_f64(),
        n as f64 / started.elapsed().as_secs_f64()
    );
    done.into_iter().map(|(_, a)| a).collect()
}

/// Delivers `messages` messages to each account, account after account in turn (message k of
/// every account before message k + 1 of any), from `tasks` concurrent tasks. Returns how
/// many were delivered (fewer when `limit` ran out).
async fn fill(store: &Store, accounts: &[Account], o: &Options) -> u64 {
    let total = (accounts.len() * o.messages) as u64;
    let vi: Vec<&str> = VI.split_whitespace().collect();
    let en: Vec<&str> = EN.split_whitespace().collect();
    let seen: Flags = [Flag::Seen].into_iter().collect();
    let unseen = Flags::new();
    let next = AtomicU64::new(0);
    let delivered = Arc::new(AtomicU64::new(0));
    let bytes = AtomicU64::new(0);
    let started = Instant::now();
    let deadline = o.fill_seconds.map(|s| started + Duration::from_secs(s));
    let progress = {
        let delivered = delivered.clone();
        tokio::spawn(async move {
            let mut last = 0;
            let mut tick = tokio::time::interval(Duration::from_secs(30));
            tick.tick().await;
            loop {
                tick.tick().await;
                let now = delivered.load(Ordering::Relaxed);
                eprintln!(
                    "  {:>6.0} s  {now:>9} messages  {:>6.0}/s over the last 30 s",
                    started.elapsed().as_secs_f64(),
                    (now - last) as f64 / 30.0
                );
                last = now;
            }
        })
    };
    let (vi, en, seen, unseen, next, bytes, delivered_ref) =
        (&vi, &en, &seen, &unseen, &next, &bytes, &delivered);
    let worker = || async move {
        loop {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= total {
                break;
            }
            let account = &accounts[(i % accounts.len() as u64) as usize];
            let mut rng = StdRng::seed_from_u64(i);
            let (raw, text) = message(&mut rng, &account.address, vi, en);
            let size = raw.len() as u32;
            bytes.fetch_add(size as u64, Ordering::Relaxed);
            let blob = if o.blobs {
                store.blobs().put(Arc::new(raw)).await.expect("blob")
            } else {
                hopthu_store::BlobId::of(&raw)
            };
            let flags = if rng.random_bool(0.7) { seen } else { unseen };
            store
                .deliver_indexed(
                    &Delivery {
                        received: true,
                        blob: &blob,
                        size,
                        internal_date: text.sent_at.unwrap_or(0) + 60,
                        targets: &hopthu_store::same_flags(&[account.inbox], flags),
                        queue: &[],
                    },
                    Some(&text),
                )
                .await
                .expect("deliver");
            delivered_ref.fetch_add(1, Ordering::Relaxed);
        }
    };
    futures_util::future::join_all((0..o.tasks).map(|_| worker())).await;
    progress.abort();
    let elapsed = started.elapsed().as_secs_f64();
    let n = delivered.load(Ordering::Relaxed);
    println!(
        "fill: {n} of {total} messages ({:.1} per mailbox, {:.2} KB average, bodies {}) in \
         {elapsed:.1} s: {:.0} messages/s, {} concurrent tasks",
        n as f64 / accounts.len() as f64,
        bytes.load(Ordering::Relaxed) as f64 / n.max(1) as f64 / 1024.0,
        if o.blobs {
            "written as blob files, fsynced"
        } else {
            "not written"
        },
        n as f64 / elapsed,
        o.tasks
    );
    n
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

const STEPS: &[&str] = &[
    "account_by_address",
    "mailboxes",
    "mailbox_status",
    "message_index",
    "messages_by_uid 20",
    "search_text BODY",
    "changes_since",
    "all of the above",
];

/// Opens `sample` random mailboxes one after the other as a client would, timing each call.
async fn measure(store: &Store, accounts: &[Account], sample: usize, backend: &str) {
    let mut rng = StdRng::seed_from_u64(0x6d61696c);
    let mut order: Vec<usize> = (0..accounts.len()).collect();
    order.shuffle(&mut rng);
    order.truncate(sample);
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(sample); STEPS.len()];
    let (mut rows, mut hits, mut changed) = (0usize, 0usize, 0usize);
    for &a in &order {
        let account = &accounts[a];
        let mut step = 0;
        let all = Instant::now();
        let mut time = |times: &mut Vec<Vec<Duration>>, started: Instant| {
            times[step].push(started.elapsed());
            step += 1;
        };
        let t = Instant::now();
        let record = store
            .account_by_address(&account.address)
            .await
            .expect("account_by_address")
            .expect("account");
        time(&mut times, t);
        let t = Instant::now();
        let boxes = store.mailboxes(record.id).await.expect("mailboxes");
        time(&mut times, t);
        assert_eq!(boxes.len(), FOLDERS.len());
        assert_eq!(record.id, account.id);
        let t = Instant::now();
        let status = store
            .mailbox_status(account.inbox)
            .await
            .expect("mailbox_status");
        time(&mut times, t);
        let t = Instant::now();
        let index = store
            .message_index(account.inbox)
            .await
            .expect("message_index");
        time(&mut times, t);
        assert_eq!(index.uids.len(), status.messages as usize);
        rows += index.uids.len();
        let newest: Vec<Uid> = index.uids.iter().rev().take(20).rev().copied().collect();
        let t = Instant::now();
        let records = store
            .messages_by_uid(account.inbox, &newest)
            .await
            .expect("messages_by_uid");
        time(&mut times, t);
        assert_eq!(records.len(), newest.len());
        let t = Instant::now();
        hits += store
            .search_text(account.inbox, SearchField::Body, NEEDLE)
            .await
            .expect("search_text")
            .len();
        time(&mut times, t);
        let t = Instant::now();
        changed += store
            .changes_since(account.inbox, index.highestmodseq.saturating_sub(5))
            .await
            .expect("changes_since")
            .changed
            .len();
        time(&mut times, t);
        times[step].push(all.elapsed());
    }
    let n = order.len();
    println!(
        "open mailbox: {n} random INBOXes, one after the other ({:.1} messages each, \
         search {NEEDLE:?}: {:.1} hits each, changes_since highestmodseq-5: {:.1} each)",
        rows as f64 / n as f64,
        hits as f64 / n as f64,
        changed as f64 / n as f64
    );
    println!(
        "{:<8} {:<20} {:>9} {:>9} {:>9}",
        "backend", "call", "p50 ms", "p95 ms", "p99 ms"
    );
    for (name, mut t) in STEPS.iter().zip(times) {
        t.sort();
        let ms = |p| percentile(&t, p).as_secs_f64() * 1000.0;
        println!(
            "{backend:<8} {name:<20} {:>9.3} {:>9.3} {:>9.3}",
            ms(0.5),
            ms(0.95),
            ms(0.99)
        );
    }
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The database name of a URL, and the same server with another database.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    match base.rfind('/') {
        Some(i) if i > "postgres://".len() => format!("{}/{name}{query}", &base[..i]),
        _ => format!("{base}/{name}{query}"),
    }
}

#[tokio::main]
async fn main() {
    let o = options();
    let dir = o.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("hopthu-mailboxes-bench-{}", rand::random::<u64>()))
    });
    // PostgreSQL: the database given, or one made for the run (dropped at the end).
    let mut made: Option<(sqlx::PgConnection, String)> = None;
    let url = if o.backend == "postgres" {
        Some(match &o.url {
            Some(url) => url.clone(),
            None => {
                let server = std::env::var("HOPTHU_BENCH_POSTGRES")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
                let name = format!("hopthu_mailboxes_{:016x}", rand::random::<u64>());
                let mut admin = sqlx::PgConnection::connect(&server)
                    .await
                    .expect("PostgreSQL server (HOPTHU_BENCH_POSTGRES)");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await
                    .expect("create database");
                let url = with_database(&server, &name);
                made = Some((admin, name));
                url
            }
        })
    } else {
        None
    };
    println!(
        "mailboxes_bench: {} accounts × {} messages on {} ({}), data in {}",
        o.accounts,
        o.messages,
        o.backend,
        url.as_deref().unwrap_or("hopthu.db"),
        dir.display()
    );
    let store = Store::open(&dir, url.as_deref(), None)
        .await
        .expect("open store");
    let accounts = create_accounts(&store, o.accounts, o.tasks.min(32)).await;
    let delivered = fill(&store, &accounts, &o).await;
    if let Some(url) = &url {
        // What autovacuum does after a big load: statistics for the planner.
        let started = Instant::now();
        let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
        sqlx::raw_sql("ANALYZE")
            .execute(&mut conn)
            .await
            .expect("analyze");
        eprintln!("  ANALYZE in {:.1} s", started.elapsed().as_secs_f64());
    }
    if delivered > 0 {
        measure(&store, &accounts, o.sample, &o.backend).await;
    }
    match &url {
        Some(url) => {
            let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
            let (size,): (i64,) = sqlx::query_as("SELECT pg_database_size(current_database())")
                .fetch_one(&mut conn)
                .await
                .expect("database size");
            println!(
                "size: PostgreSQL database {:.0} MiB ({:.0} bytes per message)",
                mib(size as u64),
                size as f64 / delivered.max(1) as f64
            );
            let largest: Vec<(String, i64, i64)> = sqlx::query_as(
                "SELECT c.relname::text, pg_table_size(c.oid), pg_indexes_size(c.oid)
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind = 'r' AND n.nspname = 'public'
                 ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 4",
            )
            .fetch_all(&mut conn)
            .await
            .expect("table sizes");
            for (table, data, indexes) in largest {
                println!(
                    "      {table:<14} table {:>7.0} MiB  indexes {:>7.0} MiB",
                    mib(data as u64),
                    mib(indexes as u64)
                );
            }
        }
        None => {
            let db = file_size(&dir.join("hopthu.db"));
            let wal = file_size(&dir.join("hopthu.db-wal"));
            println!(
                "size: SQLite hopthu.db {:.0} MiB + WAL {:.0} MiB ({:.0} bytes per message)",
                mib(db),
                mib(wal),
                (db + wal) as f64 / delivered.max(1) as f64
            );
        }
    }
    store.close().await;
    if !o.keep {
        let started = Instant::now();
        let _ = std::fs::remove_dir_all(&dir);
        if let Some((mut admin, name)) = made {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE {name} WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await
            .expect("drop database");
        }
        eprintln!("  cleaned up in {:.1} s", started.elapsed().as_secs_f64());
    }
}
