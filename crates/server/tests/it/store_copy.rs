//! `hopthu store copy`: an embedded installation (SQLite and files) with mail from SMTP and
//! IMAP, the province's directory and an audit entry is stopped and copied into a fresh
//! PostgreSQL database (and an S3 bucket); a server started on the new configuration serves
//! the same mail byte for byte and the same SEARCH answers, signs the same people in, keeps the audit chain intact and
//! hands out new ids after the copied ones; a copy into a database that holds rows is refused
//! and changes nothing. These tests make their own databases, whatever `HOPTHU_TEST_STORE`.

use std::path::Path;
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

use super::backend;
use super::harness::{TestServer, s3_blobs_table, s3_env, unique_s3_prefix};
use super::lifecycle::import_province;
use super::needs;

const BIN: &str = env!("CARGO_BIN_EXE_hopthu");
const PW: &str = "mat-khau-chuyen-kho";

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn hopthu(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run hopthu")
}

fn file_hash(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// Every message of INBOX of `address`: UID and SHA-256 of its bytes (signs in over IMAP).
fn inbox(server: &TestServer, address: &str) -> String {
    server.python("backup_mail.py", &["list", address, PW])
}

/// The answers to a few SEARCHes of INBOX (the copied search index at work).
fn searches(server: &TestServer, address: &str) -> String {
    server.python("store_copy_search.py", &[address, PW])
}

fn count(server: &TestServer, table: &str) -> i64 {
    server
        .sql(&format!("SELECT COUNT(*) FROM {table}"))
        .trim()
        .parse()
        .unwrap()
}

/// An embedded server with mail and a directory, stopped; returns it and what it serves.
fn embedded_installation() -> (TestServer, Vec<(String, String)>) {
    // A resolver on loopback that never answers: mail for another domain stays queued.
    let mut server = TestServer::start_with(
        "[store]\n[blobs]\n[dns]\nresolvers = [\"127.0.0.1:9\"]\ntimeout = 1\n",
    );
    import_province(&server);
    let a = server.add_account("chuyenkho.a", "Nông Văn Chuyển", PW);
    let b = server.add_account("chuyenkho.b", "Hoàng Thị Kho", PW);
    // By SMTP (submission) and by IMAP APPEND, one body shared by two mailboxes.
    for (marker, kib) in [("chuyen-kho-1", 3), ("chuyen-kho-2", 200)] {
        let out = server.python(
            "s3_mail.py",
            &["send", &a, PW, marker, &kib.to_string(), &b],
        );
        assert!(out.contains("sent"), "{out}");
    }
    server.python("backup_mail.py", &["put", &a, PW, "Một", "Hai Đạt"]);
    // A queued message (queue rows, an identity `rowid`, a boolean).
    let out = server.python(
        "mta_send.py",
        &[&a, PW, &a, "chuyen-kho-queued", "xa@example.net"],
    );
    assert!(out.contains("sent 1"), "{out}");
    assert_eq!(count(&server, "queue_recipients"), 1);
    // An audit entry.
    let out = server.cli(&["admin", "grant", &a, "--focal"], "");
    assert!(out.status.success(), "{}", text(&out));
    assert!(count(&server, "audit_log") >= 1);
    let served = vec![
        (a.clone(), inbox(&server, &a)),
        (b.clone(), inbox(&server, &b)),
    ];
    assert_eq!(served[0].1.lines().count(), 3, "{}", served[0].1);
    assert_eq!(served[1].1.lines().count(), 3, "{}", served[1].1);
    let found = vec![searches(&server, &a), searches(&server, &b)];
    assert!(found[0].contains("SUBJECT hai dat 2"), "{}", found[0]);
    assert!(found[1].contains("SUBJECT chuyen-kho-2 2"), "{}", found[1]);
    assert!(found[1].contains("BODY dòng 12 1 2"), "{}", found[1]);
    let served = served
        .into_iter()
        .zip(found)
        .map(|((address, listed), found)| (address, format!("{listed}{found}")))
        .collect();
    // Not while the server runs.
    let out = server.cli(
        &["store", "copy", "--to-store", "postgres://127.0.0.1:9/none"],
        "",
    );
    assert!(
        !out.status.success() && text(&out).contains("stop it first"),
        "{}",
        text(&out)
    );
    assert_eq!(server.terminate(), Some(0));
    (server, served)
}

/// The configuration with `[store]` (and `[blobs]`) replaced.
fn switch_config(server: &TestServer, store_url: &str, blobs: &str) {
    let config = std::fs::read_to_string(&server.config).unwrap();
    let config = config.replacen("[store]\n", &format!("[store]\nurl = \"{store_url}\"\n"), 1);
    let config = config.replacen("[blobs]\n", blobs, 1);
    std::fs::write(&server.config, config).unwrap();
}

fn moved(to_blobs: Option<String>) {
    let (mut server, served) = embedded_installation();
    let embedded = server.dir.join("embedded.toml");
    std::fs::copy(&server.config, &embedded).unwrap();
    let embedded = embedded.display().to_string();
    let database = server.data_dir().join("hopthu.db");
    let before = file_hash(&database);
    let tables = [
        "accounts",
        "mailboxes",
        "messages",
        "blobs",
        "units",
        "people",
        "audit_log",
        "subscriptions",
        "search_text",
        "sign_ins",
        "queue",
        "queue_recipients",
    ];
    let counts: Vec<i64> = tables.iter().map(|t| count(&server, t)).collect();
    // The counters the triggers keep: copied as they were, not counted again on top.
    let sums = "SELECT SUM(used_bytes), SUM(used_messages), SUM(unseen_messages), MAX(uidnext), \
                MAX(highestmodseq) FROM mailboxes";
    let counters = server.sql(sums);

    let url = backend::new_database();
    server.store_url = Some(url.clone());
    let mut args = vec!["store", "copy", "--to-store", &url, "--config", &embedded];
    let bucket_args;
    let prefix = unique_s3_prefix();
    if let Some(bucket) = &to_blobs {
        bucket_args = [
            "--to-blobs".to_string(),
            format!("s3://{bucket}/{prefix}"),
            "--to-blobs-endpoint".into(),
            s3_env("ENDPOINT"),
            "--to-blobs-region".into(),
            s3_env("REGION"),
            "--to-blobs-access-key".into(),
            s3_env("ACCESS_KEY"),
        ];
        args.extend(bucket_args.iter().map(String::as_str));
    }
    let mut copy = Command::new(BIN);
    copy.args(&args);
    if to_blobs.is_some() {
        copy.env("HOPTHU_TO_BLOBS_SECRET_KEY", s3_env("SECRET_KEY"));
    }
    let out = copy.output().unwrap();
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("accounts") && said.contains("audit_log"),
        "{said}"
    );
    assert!(
        said.contains("[store]") && said.contains("url = \"postgres"),
        "{said}"
    );
    println!("{said}");
    // The source is only read.
    assert_eq!(file_hash(&database), before, "the source database changed");

    let blobs = if to_blobs.is_some() {
        // The bodies must come from the bucket now: the local folder goes aside.
        std::fs::rename(
            server.data_dir().join("blobs"),
            server.dir.join("blobs-before-copy"),
        )
        .unwrap();
        assert!(said.contains("[blobs]") && said.contains("s3://"), "{said}");
        s3_blobs_table(&prefix)
    } else {
        "[blobs]\n".to_string()
    };
    switch_config(&server, &url, &blobs);
    server.restart();
    for (table, n) in tables.iter().zip(&counts) {
        assert_eq!(count(&server, table), *n, "{table}");
    }
    assert_eq!(server.sql(sums), counters);
    // The same mail, byte for byte, to the same sign-in.
    for (address, listed) in &served {
        let now = format!("{}{}", inbox(&server, address), searches(&server, address));
        assert_eq!(&now, listed, "{address}");
    }
    // The audit chain as it was, and new rows after the copied ids.
    let out = server.cli(&["lifecycle", "audit", "--verify"], "");
    assert!(
        out.status.success() && text(&out).contains("hash chain intact"),
        "{}",
        text(&out)
    );
    let c = server.add_account("chuyenkho.c", "Người Mới", PW);
    server.python("backup_mail.py", &["put", &c, PW, "Sau khi chuyển"]);
    assert_eq!(inbox(&server, &c).lines().count(), 2);
    let out = server.cli(&["admin", "grant", &c, "--focal"], "");
    assert!(out.status.success(), "{}", text(&out));
    let out = server.cli(&["lifecycle", "audit", "--verify"], "");
    assert!(out.status.success(), "{}", text(&out));

    // Into a database that holds rows: refused, nothing changed there.
    let before: Vec<i64> = tables.iter().map(|t| count(&server, t)).collect();
    server.kill();
    let out = hopthu(&["store", "copy", "--to-store", &url, "--config", &embedded]);
    let said = text(&out);
    assert!(
        !out.status.success() && said.contains("not empty"),
        "{said}"
    );
    server.restart();
    let after: Vec<i64> = tables.iter().map(|t| count(&server, t)).collect();
    assert_eq!(before, after);
    // A configuration already on PostgreSQL is not a source.
    let out = server.cli(&["store", "copy", "--to-store", &url], "");
    assert!(
        !out.status.success() && text(&out).contains("PostgreSQL"),
        "{}",
        text(&out)
    );
}

#[test]
fn an_embedded_installation_moves_to_postgres() {
    if !needs::require(&[needs::PSQL]) {
        return;
    }
    moved(None);
}

#[test]
fn an_embedded_installation_moves_to_postgres_and_s3() {
    if !needs::require(&[needs::PSQL, needs::S3]) {
        return;
    }
    moved(Some(s3_env("BUCKET")));
}
