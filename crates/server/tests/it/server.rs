//! Server-level tests: configuration, the account CLI, HTTP, the demo seed, graceful shutdown.

use std::process::Command;
use std::time::Duration;

use super::harness::{DOMAIN, TestServer};

const BIN: &str = env!("CARGO_BIN_EXE_hopthu");

#[test]
fn first_start_creates_database_blobs_and_certificate() {
    let server = TestServer::start();
    let data = server.data_dir();
    // The metadata: SQLite in data_dir, or the test's PostgreSQL database, migrated.
    let accounts = server.sql("SELECT COUNT(*) FROM accounts");
    assert_eq!(accounts.trim(), "0");
    for path in ["blobs", "tls/cert.pem", "tls/key.pem", "listeners.json"] {
        assert!(data.join(path).exists(), "{path} missing");
    }
    if server.store_url.is_some() {
        assert!(
            !data.join("hopthu.db").exists(),
            "SQLite used beside PostgreSQL"
        );
        return;
    }
    let mode = std::fs::metadata(data.join("tls/key.pem")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        mode.permissions().mode() & 0o077,
        0,
        "private key readable by others"
    );
    // The database is in WAL mode.
    let header = std::fs::read(data.join("hopthu.db")).unwrap();
    assert_eq!(&header[18..20], &[2, 2], "SQLite WAL read/write versions");
}

#[test]
fn account_add_while_running_prints_a_one_time_password() {
    let server = TestServer::start();
    let units = server.dir.join("units.csv");
    std::fs::write(
        &units,
        "kind,code,name,parent\ndepartment,CB25-002,Nội vụ,\n",
    )
    .unwrap();
    let out = server.cli(
        &["directory", "import", "--units", units.to_str().unwrap()],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = server.cli(
        &[
            "account",
            "add",
            "--unit",
            "CB25-002",
            "--full-name",
            "Nguyễn Thị Hoa",
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains(&format!("created: hoant@{DOMAIN}")),
        "{stdout}"
    );
    let otp = stdout
        .lines()
        .find_map(|l| l.split("one-time password: ").nth(1))
        .unwrap_or_else(|| panic!("no password printed: {stdout}"))
        .trim()
        .to_string();
    assert!(otp.len() >= 12, "{otp}");
    assert!(stdout.contains("must be changed"), "{stdout}");
    // The running server knows the new account at once; mail clients are refused until the
    // one-time password is changed, and told where (Đ13.4).
    let out = server.python(
        "login_check.py",
        &[&format!("hoant@{DOMAIN}"), &otp, "--one-time"],
    );
    assert!(out.starts_with("MUST-CHANGE"), "{out}");
    for protocol in ["IMAP", "POP3", "SMTP"] {
        let line = out
            .lines()
            .find(|l| l.starts_with(protocol))
            .unwrap_or_else(|| panic!("{protocol}: {out}"));
        assert!(line.contains(&format!("https://mail.{DOMAIN}/")), "{line}");
        assert!(line.contains("Mat khau dung mot lan"), "{line}");
    }
    assert!(out.contains("AUTHENTICATIONFAILED"), "{out}");
    assert!(out.contains("[ALERT]") || out.contains("ALERT"), "{out}");
    assert!(out.contains("-ERR [AUTH]"), "{out}");
    assert!(out.contains("SMTP 535 5.7.8"), "{out}");
    // After a new password is set, they are served.
    let out = server.cli(
        &[
            "account",
            "password",
            &format!("hoant@{DOMAIN}"),
            "--no-force-change",
        ],
        "mat-khau-moi-2026\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = server.python(
        "login_check.py",
        &[&format!("hoant@{DOMAIN}"), "mat-khau-moi-2026"],
    );
    assert!(out.contains("OK"), "{out}");

    // The same address twice is refused, and nothing changes.
    let again = server.cli(
        &[
            "account",
            "add",
            &format!("hoant@{DOMAIN}"),
            "--name",
            "Someone Else",
            "--exception",
            "test",
        ],
        "",
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    // Another domain, an empty name, a short password are refused with a reason.
    for (args, stdin, reason) in [
        (
            vec![
                "account",
                "add",
                "a@example.org",
                "--name",
                "A",
                "--exception",
                "test",
            ],
            "",
            "domain",
        ),
        (
            vec![
                "account",
                "add",
                "b@caobang.gov.vn",
                "--name",
                "  ",
                "--exception",
                "test",
            ],
            "",
            "name",
        ),
        (
            vec![
                "account",
                "add",
                "c@caobang.gov.vn",
                "--name",
                "C",
                "--exception",
                "test",
                "--password-stdin",
            ],
            "short\n",
            "at least",
        ),
    ] {
        let out = server.cli(&args, stdin);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(reason), "{args:?}: {err}");
    }
}

/// `/healthz` answers `ok`, and 503 with the reason when the blob folder takes no write; the
/// home page is served on loopback.
#[test]
fn http_serves_health_and_home_page_on_loopback() {
    // The blob folder is what this test breaks; a bucket's health is tested in `s3.rs`.
    let server = TestServer::start_with(super::harness::LOCAL_BLOBS);
    let port = server.port("http");
    let out = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "10",
            &format!("http://127.0.0.1:{port}/healthz"),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok");
    // A blob folder that takes no write (here: a file in its place) fails the check.
    let blobs = server.data_dir().join("blobs");
    let moved = server.data_dir().join("blobs.away");
    std::fs::rename(&blobs, &moved).unwrap();
    std::fs::write(&blobs, b"not a folder").unwrap();
    let (head, body) = server.http(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    );
    std::fs::remove_file(&blobs).unwrap();
    std::fs::rename(&moved, &blobs).unwrap();
    assert!(
        head.starts_with("HTTP/1.1 503") && body.contains("blob folder"),
        "{head}{body}"
    );
    let (head, _) = server.http(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let out = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "10",
            &format!("http://127.0.0.1:{port}/"),
        ])
        .output()
        .unwrap();
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(
        page.contains("Hệ thống thư điện tử caobang.gov.vn"),
        "{page}"
    );
}

/// `GET /metrics` on loopback: Prometheus text with the counters the traffic moved (sign-ins
/// by result, connections, a submitted and delivered message) and the gauges read from the
/// store (accounts by state, messages stored).
#[test]
fn metrics_count_sign_ins_connections_and_deliveries() {
    let server = TestServer::start();
    let address = server.add_account("datnv", "Nông Văn Đạt", "mat-khau-do-kiem");
    server.python("metrics_traffic.py", &[&address, "mat-khau-do-kiem"]);
    let (head, body) = server.http(
        "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    );
    assert!(
        head.starts_with("HTTP/1.1 200") && head.contains("text/plain; version=0.0.4"),
        "{head}"
    );
    let value = |name: &str| -> u64 {
        body.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in\n{body}"))
    };
    assert_eq!(value("hopthu_sign_ins_total{result=\"ok\"}"), 2, "{body}");
    assert_eq!(
        value("hopthu_sign_ins_total{result=\"failed\"}"),
        1,
        "{body}"
    );
    assert!(value("hopthu_connections_total") >= 3, "{body}");
    assert_eq!(value("hopthu_submissions_total"), 1, "{body}");
    assert!(value("hopthu_messages_accepted_total") >= 1, "{body}");
    assert!(value("hopthu_local_deliveries_total") >= 1, "{body}");
    assert_eq!(value("hopthu_accounts{state=\"active\"}"), 1, "{body}");
    assert!(value("hopthu_messages_stored") >= 1, "{body}");
    assert!(
        body.contains("# TYPE hopthu_sign_ins_total counter"),
        "{body}"
    );
}

/// The counter `name` of `GET /metrics`.
fn metric(server: &TestServer, name: &str) -> u64 {
    let (_, body) = server.http(
        "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    );
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{body}"))
}

/// `[auth] cache_seconds`: a second sign-in with the same password skips the argon2id hash
/// (counted by `/metrics`), a wrong password always costs the hash, and once the password is
/// changed the old one is refused at once although it was remembered.
#[test]
fn remembered_sign_ins_skip_the_hash_and_forget_a_changed_password() {
    let server = TestServer::start();
    let old = "mat-khau-cu-123";
    let new = "mat-khau-moi-456";
    let address = server.add_account("cachenv", "Bộ Nhớ Đệm", old);
    let hashed = r#"hopthu_password_checks_total{by="hash"}"#;
    let cached = r#"hopthu_password_checks_total{by="cache"}"#;
    let signs_in = |password: &str| {
        server
            .python_output("login_check.py", &[&address, password])
            .status
            .success()
    };
    assert!(signs_in(old));
    assert_eq!((metric(&server, hashed), metric(&server, cached)), (1, 0));
    assert!(signs_in(old));
    assert!(signs_in(old));
    assert_eq!((metric(&server, hashed), metric(&server, cached)), (1, 2));
    assert!(!signs_in("mat-khau-sai-789"));
    assert_eq!((metric(&server, hashed), metric(&server, cached)), (2, 2));

    let out = server.cli(
        &["account", "password", &address, "--no-force-change"],
        &format!("{new}\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !signs_in(old),
        "the old password must not come back from the cache"
    );
    assert!(signs_in(new));
    assert!(signs_in(new));
    assert_eq!((metric(&server, hashed), metric(&server, cached)), (4, 3));
}

/// Every sign-in attempt on an account is in its history, newest first, with the protocol,
/// the IP and the result; `hopthu account sign-ins` shows it to the operator.
#[test]
fn sign_in_history_records_every_protocol_and_result() {
    let server = TestServer::start();
    let address = server.add_account("datnv", "Nông Văn Đạt", "mat-khau-lich-su");
    server.python("metrics_traffic.py", &[&address, "mat-khau-lich-su"]);
    let out = server.cli(&["account", "sign-ins", &address], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().skip(2).collect())
        .collect();
    assert_eq!(
        rows,
        vec![
            vec!["smtp", "127.0.0.1", "ok"],
            vec!["imap", "127.0.0.1", "failed"],
            vec!["imap", "127.0.0.1", "ok"],
        ],
        "{text}"
    );
    let out = server.cli(&["account", "sign-ins", "khongco@caobang.gov.vn"], "");
    assert!(!out.status.success());
    // A right one-time password that the mail clients refuse is not an "ok".
    let first = server.add_first_time_account("moi", "Người Mới", "mat-khau-mot-lan-1");
    let out = server.python(
        "login_check.py",
        &[&first, "mat-khau-mot-lan-1", "--one-time"],
    );
    assert!(out.starts_with("MUST-CHANGE"), "{out}");
    let out = server.cli(&["account", "sign-ins", &first], "");
    let text = String::from_utf8(out.stdout).unwrap();
    // (smtplib tries PLAIN, then LOGIN: two SMTP attempts.)
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().skip(2).collect())
        .collect();
    assert!(rows.iter().all(|r| r[2] == "must_change"), "{text}");
    for via in ["imap", "pop3", "smtp"] {
        assert!(rows.iter().any(|r| r[0] == via), "{via}: {text}");
    }
}

#[test]
fn https_uses_the_generated_certificate() {
    let server = TestServer::start_with("https = \"127.0.0.1:0\"\n");
    let port = server.port("https");
    let cert = server.data_dir().join("tls/cert.pem");
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--cacert"])
        .arg(&cert)
        .args([
            "--resolve",
            &format!("mail.{DOMAIN}:{port}:127.0.0.1"),
            &format!("https://mail.{DOMAIN}:{port}/healthz"),
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ok",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn invalid_configuration_is_refused_with_every_key() {
    let dir = std::env::temp_dir().join(format!("hopthu-badconf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("bad.toml");
    std::fs::write(
        &config,
        "domain = \"not a domain\"\n[listen]\nimap = \"nowhere\"\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("domain:") && err.contains("listen.imap:"),
        "{err}"
    );
    assert!(
        !dir.join("data").exists(),
        "nothing may be created from a bad configuration"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sigterm_stops_cleanly_and_data_survives() {
    let mut server = TestServer::start();
    server.add_account("lanbt", "Bế Thị Lan", "mat-khau-123");
    let code = server.terminate();
    assert_eq!(code, Some(0), "exit status\n{}", server.log());
    let log = server.log();
    assert!(
        log.contains("shutting down") && log.contains("stopped"),
        "{log}"
    );
    assert!(!server.data_dir().join("listeners.json").exists());
    server.restart();
    let out = server.python(
        "login_check.py",
        &[&format!("lanbt@{DOMAIN}"), "mat-khau-123"],
    );
    assert!(out.contains("OK"), "{out}");
}

#[test]
fn demo_seeds_the_sample_province_once() {
    let dir = std::env::temp_dir().join(format!("hopthu-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // `serve --demo` without --config uses the built-in defaults relative to the working
    // directory; here a config with port 0 keeps the test parallel-safe.
    std::fs::write(
        dir.join("hopthu.toml"),
        format!(
            "data_dir = \"data\"\n[listen]\nimaps = \"127.0.0.1:0\"\nhttp = \"127.0.0.1:0\"\n{}",
            super::harness::with_loopback_resolver("")
        ),
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--demo", "--config"])
        .arg(dir.join("hopthu.toml"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let listeners = dir.join("data/listeners.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !listeners.exists() {
        assert!(std::time::Instant::now() < deadline, "demo did not start");
        assert!(child.try_wait().unwrap().is_none(), "demo exited early");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The published directory shows the seeded people marked public.
    let bound: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&listeners).unwrap()).unwrap();
    let http = bound["http"].as_str().unwrap().to_string();
    let curl = |args: &[&str]| {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "20"])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let directory: serde_json::Value =
        serde_json::from_str(&curl(&[&format!("http://{http}/directory.json")])).unwrap();
    let text = directory.to_string();
    assert!(text.contains("Sở Nội vụ"), "{text}");
    assert!(text.contains(&format!("datnv@{DOMAIN}")), "{text}");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains(&format!("qtv@{DOMAIN}")), "{stdout}");
    assert!(
        stdout.contains(&format!("cntt.sonoivu@{DOMAIN}")),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("datnv@{DOMAIN}")), "{stdout}");
    assert!(stdout.contains(&format!("sonoivu@{DOMAIN}")), "{stdout}");
    let credentials_path = dir.join("data/demo-credentials.csv");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&credentials_path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "demo-credentials.csv is private");
    }
    let credentials = std::fs::read_to_string(&credentials_path).unwrap();
    assert!(credentials.lines().count() > 100, "{credentials}");
    // The three namesakes "Nông Văn Đạt" get distinct addresses.
    assert!(credentials.contains("datnv@") && credentials.contains("datnv2@"));
    // Sở Nội vụ's sample document reached its two recipient units.
    let out = Command::new(BIN)
        .args(["document", "status", "1", "--format", "json", "--config"])
        .arg(dir.join("hopthu.toml"))
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["number"], "1/SNV");
    assert_eq!(
        status["recipients"].as_array().unwrap().len(),
        2,
        "{status}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every file and folder of the data directory and of a backup is private to the service
/// account (folders 0700, files 0600): database, WAL, DKIM key, message bodies. A data
/// directory opened up by hand (or made before this rule) is private again after a start.
#[test]
fn data_and_backups_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::symlink_metadata(p).unwrap().permissions().mode();
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            }
            out.push(path);
        }
    }
    let mut server = TestServer::start();
    let embedded = server.store_url.is_none();
    let (pass, address) = (
        "mat-khau-rieng-tu",
        server.add_account("datnv", "Nông Văn Đạt", "mat-khau-rieng-tu"),
    );
    server.python("backup_mail.py", &["put", &address, pass, "Một"]);
    let folder = server.dir.join("sao-luu");
    let out = server.cli(&["backup", "create", &folder.display().to_string()], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let data = server.data_dir();
    // On PostgreSQL the database is elsewhere; with S3 the bodies are.
    let local_bodies = server.s3_prefix.is_none();
    let mut musts = vec!["dkim"];
    if embedded {
        musts.extend(["hopthu.db", "hopthu.db-wal"]);
    }
    if local_bodies {
        musts.push("blobs");
    }
    for must in musts {
        assert!(data.join(must).exists(), "{must} missing");
    }
    let dump = if embedded {
        "hopthu.db"
    } else {
        "hopthu.pgdump"
    };
    assert!(
        folder.join(dump).is_file(),
        "{dump} missing from the backup"
    );
    for root in [&data, &folder] {
        let mut all = vec![root.to_path_buf()];
        walk(root, &mut all);
        assert!(
            (root == &data && !local_bodies)
                || all
                    .iter()
                    .any(|p| p.is_file() && p.starts_with(root.join("blobs")))
        );
        for path in all {
            let m = mode(&path);
            let want = if path.is_dir() { 0o700 } else { 0o600 };
            // Folders of blobs may be made 0700 by the umask alone; nothing is open to others.
            assert_eq!(m & 0o077, 0, "{} is {:o}", path.display(), m & 0o777);
            if path.parent() == Some(root.as_path()) || path == *root {
                assert_eq!(m & 0o777, want, "{} is {:o}", path.display(), m & 0o777);
            }
        }
    }
    // Opened up by hand: private again once the server starts.
    let mut opened = vec![(data.clone(), 0o755), (data.join("dkim"), 0o755)];
    if embedded {
        opened.push((data.join("hopthu.db"), 0o644));
    }
    for (path, m) in &opened {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(*m)).unwrap();
    }
    server.restart();
    assert_eq!(mode(&data) & 0o777, 0o700);
    if embedded {
        assert_eq!(mode(&data.join("hopthu.db")) & 0o777, 0o600);
    }
    assert_eq!(mode(&data.join("dkim")) & 0o777, 0o700);
}

/// `hopthu backup create` while the server runs, again into the same folder (only the new
/// body is copied), `verify` finding a damaged body, `restore` refusing a damaged backup and a
/// data directory that has a database, and a restore after the data directory is lost: the
/// mailbox comes back byte for byte with the same UIDs, and the password still works.
#[test]
fn backup_while_running_and_restore_after_loss() {
    let mut server = TestServer::start();
    let embedded = server.store_url.is_none();
    let dump = if embedded {
        "hopthu.db"
    } else {
        "hopthu.pgdump"
    };
    let address = server.add_account("datnv", "Nông Văn Đạt", "mat-khau-sao-luu");
    let pass = "mat-khau-sao-luu";
    server.python(
        "backup_mail.py",
        &["put", &address, pass, "Một", "Hai", "Ba"],
    );
    let folder = server.dir.join("sao-luu");
    let folder_arg = folder.display().to_string();
    let run = |out: std::process::Output| {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let (ok, text) = run(server.cli(&["backup", "create", &folder_arg], ""));
    assert!(ok && !text.contains(", 0 new"), "{text}");
    assert!(folder.join("backup.json").is_file() && folder.join(dump).is_file());
    // A copy of this first backup, to damage later.
    let damaged = server.dir.join("hong");
    copy_tree(&folder, &damaged);

    server.python("backup_mail.py", &["put", &address, pass, "Bốn"]);
    let before = server.python("backup_mail.py", &["list", &address, pass]);
    assert_eq!(before.lines().count(), 5, "{before}");
    let (ok, text) = run(server.cli(&["backup", "create", &folder_arg], ""));
    assert!(ok && text.contains(", 1 new"), "{text}");

    let verify = |dir: &std::path::Path| {
        run(std::process::Command::new(env!("CARGO_BIN_EXE_hopthu"))
            .args(["backup", "verify", &dir.display().to_string()])
            .output()
            .unwrap())
    };
    let (ok, text) = verify(&folder);
    assert!(ok && text.contains("intact"), "{text}");
    // Damage one body in the copy: verify names it, restore refuses and writes nothing.
    let blob = first_file(&damaged.join("blobs"));
    std::fs::write(&blob, b"hong roi").unwrap();
    let (ok, text) = verify(&damaged);
    assert!(!ok && text.contains("bytes, the database says"), "{text}");
    // The running server's data directory (or database) has a database: refused.
    let (ok, text) = run(server.cli(&["backup", "restore", &folder_arg], ""));
    assert!(!ok && text.contains("already holds"), "{text}");

    // The data directory (and the database) is lost.
    server.kill();
    std::fs::remove_dir_all(server.data_dir()).unwrap();
    if !embedded {
        server.sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    }
    let (ok, text) = run(server.cli(&["backup", "restore", &damaged.display().to_string()], ""));
    assert!(!ok && text.contains("damaged"), "{text}");
    assert!(!server.data_dir().join("hopthu.db").exists());
    if !embedded {
        let tables = server
            .sql("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'");
        assert_eq!(tables.trim(), "0", "a damaged backup wrote to the database");
    }
    let (ok, text) = run(server.cli(&["backup", "restore", &folder_arg], ""));
    assert!(ok, "{text}");
    server.restart();
    let after = server.python("backup_mail.py", &["list", &address, pass]);
    assert_eq!(after, before);
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The first message body (by name) under a blob folder.
fn first_file(dir: &std::path::Path) -> std::path::PathBuf {
    fn walk(dir: &std::path::Path) -> Option<std::path::PathBuf> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .ok()?
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        entries.into_iter().find_map(|path| {
            if path.is_dir() {
                walk(&path)
            } else {
                Some(path)
            }
        })
    }
    walk(dir).unwrap_or_else(|| panic!("no file under {}", dir.display()))
}
