//! The search benchmark: fills one mailbox with 100,000 realistic Vietnamese/English messages
//! (through the store API: `deliver_indexed`, many at once, so the group commit writes them in
//! big transactions), then times IMAP-style substring searches (`SearchStore::search_text`) of
//! BODY, TEXT, SUBJECT and FROM — a word, a mid-word substring, a 2-letter needle and a needle
//! with no hit — and prints the median and p95 of each, on SQLite and on PostgreSQL.
//!
//! ```text
//! cargo run --release -p hopthu-store --example search_bench [-- MESSAGES [sqlite|postgres]]
//! ```
//!
//! SQLite lives in a temporary directory; PostgreSQL in a database made for the run on the
//! server `HOPTHU_BENCH_POSTGRES` names (default `postgres://postgres@127.0.0.1:5432/postgres`,
//! loopback), dropped at the end. Only metadata and search text are written: searches never
//! read message bodies, so the bodies' files are not written.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hopthu_model::text::search_fold;
use hopthu_model::{Flags, MailboxId};
use hopthu_store::{BlobId, Delivery, NewAccount, SearchField, SearchText, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::Connection;

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
    chuyển đổi số văn bản điện tử chữ ký thời hạn trước ngày kèm theo trân trọng kính gửi";
const EN: &str = "the report plan meeting budget review annual quarterly province district \
    office please find attached document deadline schedule update draft approval summary \
    figures health education environment transport digital transformation signature thanks";

/// Syllables of the rarer two-syllable terms: 48 × 48 terms, 6 per body, so each one is in
/// about 0.26% of the messages, as a topic word is in real mail.
const SYLLABLES: &[&str] = &[
    "khánh",
    "thủy",
    "điện",
    "lâm",
    "nghiệp",
    "sản",
    "xuất",
    "cầu",
    "đường",
    "trạm",
    "biên",
    "giới",
    "hồ",
    "sơ",
    "địa",
    "chính",
    "khoáng",
    "rừng",
    "phòng",
    "hộ",
    "thuế",
    "phí",
    "lệ",
    "chợ",
    "bến",
    "xe",
    "trường",
    "mầm",
    "non",
    "bệnh",
    "viện",
    "dân",
    "tộc",
    "lũ",
    "quét",
    "sạt",
    "lở",
    "hạ",
    "tầng",
    "mạng",
    "cáp",
    "quang",
    "điểm",
    "du",
    "lịch",
    "thác",
    "bản",
    "giốc",
];

fn term(i: usize) -> String {
    format!(
        "{} {}",
        SYLLABLES[i / SYLLABLES.len() % SYLLABLES.len()],
        SYLLABLES[i % SYLLABLES.len()]
    )
}

/// The needles timed per field: (what, needle). "word" is a rarer term ("thác bản"), "common"
/// a word of most messages of its language.
fn needles(field: SearchField) -> [(&'static str, &'static str); 5] {
    match field {
        SearchField::From => [
            ("word", "hoang"),
            ("common", "caobang"),
            ("mid-word", "uye"),
            ("2 letters", "ng"),
            ("no hit", "qxzj"),
        ],
        SearchField::Subject => [
            ("word", "trinh"),
            ("common", "bao"),
            ("mid-word", "rin"),
            ("2 letters", "uy"),
            ("no hit", "qxzj"),
        ],
        _ => [
            ("word", "thac ban"),
            ("common", "budget"),
            ("mid-word", "hac ba"),
            ("2 letters", "ng"),
            ("no hit", "qxzj"),
        ],
    }
}

const RUNS: usize = 20;

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

/// One message's searchable text, folded as the core folds it.
fn message(rng: &mut StdRng, vi: &[&str], en: &[&str]) -> SearchText {
    let (name, address) = person(rng);
    let (to_name, to_address) = person(rng);
    let english = rng.random_bool(0.3);
    let words = if english { en } else { vi };
    let n = rng.random_range(4..10);
    let subject = sentence(rng, words, n);
    let mut body = String::new();
    for _ in 0..rng.random_range(3..9) {
        let n = rng.random_range(12..30);
        body.push_str(&sentence(rng, words, n));
        body.push_str(".\n");
    }
    let terms = SYLLABLES.len() * SYLLABLES.len();
    for _ in 0..6 {
        let i = rng.random_range(0..terms);
        body.push_str(&term(i));
        body.push_str(", ");
    }
    body.push_str(&format!("\n--\n{name}\n{address}\n"));
    let sent_at = 1_700_000_000 + rng.random_range(0..40_000_000i64);
    SearchText {
        from: search_fold(&format!("{name} <{address}>")),
        to: search_fold(&format!("{to_name} <{to_address}>")),
        cc: String::new(),
        bcc: String::new(),
        subject: search_fold(&subject),
        body: search_fold(&body),
        sent_at: Some(sent_at),
        sent_day: Some((sent_at + 25_200).div_euclid(86_400)),
        pending: false,
    }
}

async fn fill(store: &Store, messages: usize) -> MailboxId {
    let account = store
        .create_account(
            &NewAccount {
                address: "bench@caobang.gov.vn".into(),
                display_name: "Bench".into(),
                password_hash: "x".into(),
                must_change_password: false,
                created_at: 0,
            },
            &[("INBOX", None)],
        )
        .await
        .expect("account");
    let inbox = store
        .mailbox_by_name(account, "INBOX")
        .await
        .expect("mailbox")
        .expect("INBOX")
        .id;
    let vi: Vec<&str> = VI.split_whitespace().collect();
    let en: Vec<&str> = EN.split_whitespace().collect();
    let started = Instant::now();
    let flags = Flags::new();
    futures_util::stream::iter(0..messages)
        .map(|i| {
            let mut rng = StdRng::seed_from_u64(i as u64);
            let text = message(&mut rng, &vi, &en);
            let flags = &flags;
            async move {
                let blob = BlobId::of(format!("bench message {i}").as_bytes());
                store
                    .deliver_indexed(
                        &Delivery {
                            received: true,
                            blob: &blob,
                            size: text.body.len() as u32 + 400,
                            internal_date: text.sent_at.unwrap_or(0) + 60,
                            targets: &hopthu_store::same_flags(&[inbox], flags),
                            queue: &[],
                        },
                        Some(&text),
                    )
                    .await
                    .expect("deliver");
            }
        })
        .buffer_unordered(512)
        .enumerate()
        .for_each(|(n, ())| async move {
            if (n + 1) % 20_000 == 0 {
                eprintln!("  {} messages", n + 1);
            }
        })
        .await;
    eprintln!(
        "  filled {messages} messages in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    inbox
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

async fn measure(store: &Store, inbox: MailboxId, backend: &str) {
    for field in [
        SearchField::Body,
        SearchField::Text,
        SearchField::Subject,
        SearchField::From,
    ] {
        for (what, needle) in needles(field) {
            let hits = store
                .search_text(inbox, field, needle)
                .await
                .expect("search")
                .len();
            let mut times = Vec::with_capacity(RUNS);
            for _ in 0..RUNS {
                let started = Instant::now();
                store
                    .search_text(inbox, field, needle)
                    .await
                    .expect("search");
                times.push(started.elapsed());
            }
            times.sort();
            println!(
                "{backend:<8} {:<8} {what:<10} {:<12} {hits:>6} hits  median {:>7.1} ms  p95 {:>7.1} ms",
                format!("{field:?}").to_uppercase(),
                format!("{needle:?}"),
                percentile(&times, 0.5).as_secs_f64() * 1000.0,
                percentile(&times, 0.95).as_secs_f64() * 1000.0,
            );
        }
    }
}

async fn sqlite(messages: usize) {
    let dir = std::env::temp_dir().join(format!("hopthu-search-bench-{}", rand::random::<u64>()));
    eprintln!("sqlite: {}", dir.display());
    let store = Store::open(&dir, None, None).await.expect("open sqlite");
    let inbox = fill(&store, messages).await;
    measure(&store, inbox, "sqlite").await;
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

async fn postgres(messages: usize) {
    let server = std::env::var("HOPTHU_BENCH_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("hopthu_bench_{:016x}", rand::random::<u64>());
    let url = match server.rfind('/') {
        Some(i) if i > "postgres://".len() => format!("{}/{name}", &server[..i]),
        _ => format!("{server}/{name}"),
    };
    let mut admin = sqlx::PgConnection::connect(&server)
        .await
        .expect("PostgreSQL server (HOPTHU_BENCH_POSTGRES)");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create database");
    eprintln!("postgres: database {name}");
    let dir = std::env::temp_dir().join(format!("hopthu-search-bench-{}", rand::random::<u64>()));
    let store = Store::open(&dir, Some(&url), None)
        .await
        .expect("open postgres");
    let inbox = fill(&store, messages).await;
    // What autovacuum would do after such a load: statistics for the planner.
    let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
    for table in ["search_text", "messages"] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("VACUUM ANALYZE {table}")))
            .execute(&mut conn)
            .await
            .expect("analyze");
    }
    drop(conn);
    measure(&store, inbox, "postgres").await;
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .expect("drop database");
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let messages: usize = args
        .next()
        .map(|a| a.parse().expect("MESSAGES is a number"))
        .unwrap_or(100_000);
    let only = args.next();
    if only.as_deref() != Some("postgres") {
        sqlite(messages).await;
    }
    if only.as_deref() != Some("sqlite") {
        postgres(messages).await;
    }
}
