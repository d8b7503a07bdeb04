//! The blob collector (`hopthu blobs gc`, and after each sweep): the body of deleted mail
//! leaves the disk, and nothing still needed does — a body shared by another mailbox, queued
//! for another domain, held by a running backup, or written a moment ago.
//!
//! These tests look at the files of `data_dir/blobs`, so their servers keep bodies there
//! ([`LOCAL_BLOBS`]) also in a run with `HOPTHU_TEST_BLOBS=s3`; `s3.rs` covers a bucket.

use std::fs::File;
use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, SystemTime};

use super::harness::{LOCAL_BLOBS, TestServer};
use super::lifecycle::{import_province, people_of};

const PW: &str = "mat-khau-thu-rac";

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every body file of the server's blob folder (`ab/cd/<sha256>`).
fn body_files(server: &TestServer) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![(server.data_dir().join("blobs"), 0)];
    while let Some((dir, depth)) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name == "tmp" {
                continue;
            }
            if entry.file_type().unwrap().is_dir() && depth < 2 {
                dirs.push((entry.path(), depth + 1));
            } else if depth == 2 {
                out.push(entry.path());
            }
        }
    }
    out
}

/// The body files holding `marker`.
fn holding(server: &TestServer, marker: &str) -> Vec<PathBuf> {
    body_files(server)
        .into_iter()
        .filter(|p| {
            let bytes = std::fs::read(p).unwrap_or_default();
            bytes.windows(marker.len()).any(|w| w == marker.as_bytes())
        })
        .collect()
}

/// The single body file holding `marker`.
fn body_of(server: &TestServer, marker: &str) -> PathBuf {
    let files = holding(server, marker);
    assert_eq!(files.len(), 1, "{marker}: {files:?}");
    files[0].clone()
}

/// Makes every body look written two hours ago, past the collector's one-hour grace period.
fn age_bodies(server: &TestServer) {
    let old = SystemTime::now() - Duration::from_secs(2 * 3600);
    for path in body_files(server) {
        File::open(&path).unwrap().set_modified(old).unwrap();
    }
}

/// `hopthu blobs gc` (with `extra` arguments): success and the output.
fn gc(server: &TestServer, extra: &[&str]) -> (bool, String) {
    let mut args = vec!["blobs", "gc"];
    args.extend_from_slice(extra);
    let out = server.cli(&args, "");
    (out.status.success(), text(&out))
}

fn gc_ok(server: &TestServer) -> String {
    let (ok, out) = gc(server, &[]);
    assert!(ok, "{out}");
    out
}

fn imap(server: &TestServer, args: &[&str]) -> String {
    server.python("blob_mail.py", args).trim().to_string()
}

/// Deliver, expunge, collect: the body file is gone; the other mail of the mailbox is intact.
#[test]
fn an_expunged_body_leaves_the_disk() {
    let server = TestServer::start_with(LOCAL_BLOBS);
    let sender = server.add_account("guithu", "Người Gửi", PW);
    let address = server.add_account("xoathu", "Người Xoá", PW);
    let out = server.python(
        "mta_send.py",
        &[&sender, PW, &sender, "gc-expunged-1", &address],
    );
    assert!(out.contains("sent 1"), "{out}");
    imap(&server, &["append", &address, PW, "INBOX", "gc-kept-1"]);
    let file = body_of(&server, "gc-expunged-1");
    age_bodies(&server);
    // Referenced: nothing to free.
    let out = gc_ok(&server);
    assert!(out.contains("freed: 0 "), "{out}");
    assert!(file.exists());

    assert_eq!(
        imap(
            &server,
            &["expunge", &address, PW, "INBOX", "gc-expunged-1"]
        ),
        "1"
    );
    let (ok, out) = gc(&server, &["--dry-run"]);
    assert!(ok && out.contains("would free: 1 "), "{out}");
    assert!(file.exists(), "a dry run deletes nothing");
    let out = gc_ok(&server);
    assert!(out.contains("freed: 1 "), "{out}");
    assert!(!file.exists(), "the expunged body is still on disk");
    assert_eq!(imap(&server, &["read", &address, PW, "INBOX"]), "1");
    body_of(&server, "gc-kept-1");
    // The same body delivered again is stored anew and readable.
    let out = server.python(
        "mta_send.py",
        &[&sender, PW, &sender, "gc-expunged-1", &address],
    );
    assert!(out.contains("sent 1"), "{out}");
    assert_eq!(imap(&server, &["read", &address, PW, "INBOX"]), "2");
}

/// One message to two people is one body on disk: it stays while either still has it.
#[test]
fn a_shared_body_stays_until_its_last_message_goes() {
    let server = TestServer::start_with(LOCAL_BLOBS);
    let sender = server.add_account("vanthu", "Văn Thư", PW);
    let a = server.add_account("nguoia", "Người A", PW);
    let b = server.add_account("nguoib", "Người B", PW);
    let rcpts = format!("{a},{b}");
    let out = server.python(
        "mta_send.py",
        &[&sender, PW, &sender, "gc-shared-1", &rcpts],
    );
    assert!(out.contains("sent 1"), "{out}");
    let file = body_of(&server, "gc-shared-1");
    age_bodies(&server);
    assert_eq!(
        imap(&server, &["expunge", &a, PW, "INBOX", "gc-shared-1"]),
        "1"
    );
    gc_ok(&server);
    assert!(file.exists(), "B's copy lost its body");
    assert_eq!(imap(&server, &["read", &b, PW, "INBOX"]), "1");
    assert_eq!(
        imap(&server, &["expunge", &b, PW, "INBOX", "gc-shared-1"]),
        "1"
    );
    let out = gc_ok(&server);
    assert!(out.contains("freed: 1 "), "{out}");
    assert!(!file.exists());
}

/// A body only the outbound queue refers to (mail for another domain, not yet delivered)
/// stays; once the queue lets it go, it is freed.
#[test]
fn a_queued_body_stays_until_the_queue_lets_it_go() {
    // A resolver on loopback that never answers: the message waits in the queue.
    let server = TestServer::start_with(&format!(
        "{LOCAL_BLOBS}[dns]\nresolvers = [\"127.0.0.1:9\"]\ntimeout = 1\n"
    ));
    let sender = server.add_account("guidi", "Người Gửi Đi", PW);
    let local = server.add_account("nhan", "Người Nhận", PW);
    let rcpts = format!("{local},xa@example.net");
    let out = server.python(
        "mta_send.py",
        &[&sender, PW, &sender, "gc-queued-1", &rcpts],
    );
    assert!(out.contains("sent 1"), "{out}");
    let file = body_of(&server, "gc-queued-1");
    age_bodies(&server);
    // The local copy goes; the queue still needs the body.
    assert_eq!(
        imap(&server, &["expunge", &local, PW, "INBOX", "gc-queued-1"]),
        "1"
    );
    gc_ok(&server);
    assert!(file.exists(), "the queued message lost its body");
    let list = server.cli(&["queue", "list"], "");
    let list = String::from_utf8_lossy(&list.stdout).to_string();
    let id = list.split('\t').next().unwrap().trim().to_string();
    assert!(id.parse::<i64>().is_ok(), "{list}");
    let show = server.cli(&["queue", "show", &id], "");
    assert!(show.status.success(), "{}", text(&show));
    let out = server.cli(&["queue", "delete", &id], "");
    assert!(out.status.success(), "{}", text(&out));
    let out = gc_ok(&server);
    assert!(!file.exists(), "{out}");
}

/// While a backup holds its lease (as `backup create` does from its snapshot to its last copy)
/// the collector deletes nothing and says so; afterwards it frees what no message needs. The
/// next backup into the same folder drops the deleted mail's body too, and still verifies.
#[test]
fn a_running_backup_keeps_its_bodies() {
    let server = TestServer::start_with(LOCAL_BLOBS);
    let address = server.add_account("saoluu", "Sao Lưu", PW);
    imap(&server, &["append", &address, PW, "INBOX", "gc-backup-1"]);
    imap(&server, &["append", &address, PW, "INBOX", "gc-backup-2"]);
    let file = body_of(&server, "gc-backup-1");
    let folder = server.dir.join("sao-luu");
    let backup = || {
        let out = server.cli(&["backup", "create", &folder.display().to_string()], "");
        assert!(out.status.success(), "{}", text(&out));
        text(&out)
    };
    backup();
    let in_backup = folder.join(file.strip_prefix(server.data_dir()).unwrap());
    assert!(in_backup.exists(), "{in_backup:?}");
    age_bodies(&server);
    assert_eq!(
        imap(&server, &["expunge", &address, PW, "INBOX", "gc-backup-1"]),
        "1"
    );

    let lease = File::open(server.data_dir().join("blobs/.backup-lease")).unwrap();
    lease.lock_shared().unwrap();
    let (ok, out) = gc(&server, &[]);
    assert!(!ok && out.contains("a backup"), "{out}");
    assert!(file.exists(), "deleted under a running backup");
    drop(lease);

    let out = gc_ok(&server);
    assert!(out.contains("freed: 1 "), "{out}");
    assert!(!file.exists());
    let out = backup();
    assert!(out.contains(", 1 of deleted mail removed"), "{out}");
    assert!(!in_backup.exists(), "the backup keeps deleted mail");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hopthu"))
        .args(["backup", "verify", &folder.display().to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("1 message bodies"), "{}", text(&out));
}

/// A body just written with no message row yet (a delivery between its write and its commit)
/// is kept for the grace period; an old file nothing names (a delivery that failed after
/// writing its body) is freed.
#[test]
fn a_fresh_body_without_a_row_survives_the_grace_period() {
    let server = TestServer::start_with(LOCAL_BLOBS);
    let body = b"Subject: gc-fresh-1\r\n\r\nchua co dong nao\r\n";
    let out = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(body)?;
            child.wait_with_output()
        })
        .unwrap();
    let hash = String::from_utf8(out.stdout).unwrap()[..64].to_string();
    let dir = server
        .data_dir()
        .join("blobs")
        .join(&hash[0..2])
        .join(&hash[2..4]);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(&hash);
    std::fs::write(&file, body).unwrap();
    let out = gc_ok(&server);
    assert!(
        out.contains("freed: 0 ") && out.contains("1 chưa đủ hạn"),
        "{out}"
    );
    assert!(file.exists(), "a fresh body was deleted");
    age_bodies(&server);
    let out = gc_ok(&server);
    assert!(out.contains("freed: 1 "), "{out}");
    assert!(!file.exists());
}

/// Trash emptied by the sweep, and a revoked mailbox purged after its retention: their
/// bodies leave the disk in the same `lifecycle sweep` run, not before.
#[test]
fn the_sweep_frees_emptied_trash_and_purged_mailboxes() {
    let server = TestServer::start_with(LOCAL_BLOBS);
    let sheet = import_province(&server);
    let (person, _) = people_of(&sheet, "CB25-002")[0].clone();
    let sender = server.add_account("vanthu", "Văn Thư", PW);
    let out = server.python(
        "mta_send.py",
        &[&sender, PW, &sender, "gc-purged-1", &person],
    );
    assert!(out.contains("sent 1"), "{out}");
    imap(&server, &["append", &sender, PW, "Trash", "gc-trash-1"]);
    imap(&server, &["append", &sender, PW, "INBOX", "gc-inbox-1"]);
    let purged = body_of(&server, "gc-purged-1");
    let trash = body_of(&server, "gc-trash-1");
    let out = server.cli(
        &[
            "lifecycle",
            "file",
            "resignation",
            "--person",
            &person,
            "--approve",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out));
    age_bodies(&server);
    let sweep = |days: i64| {
        let as_of = (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339();
        let out = server.cli(&["lifecycle", "sweep", "--as-of", &as_of], "");
        assert!(out.status.success(), "{}", text(&out));
        text(&out)
    };
    // A month on: the Trash is emptied, the revoked mailbox kept (retention).
    let out = sweep(31);
    assert!(out.contains("Đã giải phóng / freed: 1 "), "{out}");
    assert!(!trash.exists(), "the emptied Trash's body is still on disk");
    assert!(purged.exists(), "a retained mailbox lost a body");
    // After the retention: the mailbox's data goes, its bodies with it.
    let out = sweep(367);
    assert!(out.contains("purge\t"), "{out}");
    assert!(
        !purged.exists(),
        "the purged mailbox's body is still on disk: {out}"
    );
    body_of(&server, "gc-inbox-1");
}

/// `serve` collects after each periodic sweep on its own, and `/metrics` counts what it freed.
#[test]
fn serve_collects_after_its_sweep_and_counts_it() {
    let server = TestServer::start_with(&format!("{LOCAL_BLOBS}[lifecycle]\nsweep_interval = 1\n"));
    let address = server.add_account("tudong", "Tự Động", PW);
    imap(&server, &["append", &address, PW, "INBOX", "gc-serve-1"]);
    let file = body_of(&server, "gc-serve-1");
    age_bodies(&server);
    assert_eq!(
        imap(&server, &["expunge", &address, PW, "INBOX", "gc-serve-1"]),
        "1"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while file.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "serve never collected:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The collector counts a body once its deletion is done, a moment after the file goes.
    let body = loop {
        let (_, body) = server.http(
            "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            Duration::from_secs(10),
        );
        if body.contains("\nhopthu_blobs_freed_total 1\n") || std::time::Instant::now() > deadline {
            break body;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(body.contains("\nhopthu_blobs_freed_total 1\n"), "{body}");
    let line = body
        .lines()
        .find(|l| l.starts_with("hopthu_blob_bytes_freed_total "))
        .unwrap_or_else(|| panic!("{body}"));
    assert!(!line.ends_with(" 0"), "{line}");
}
