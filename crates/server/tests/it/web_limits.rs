//! The web listeners and web sign-in under attack, through the real binary: idle sockets that
//! never start a TLS handshake do not stall HTTPS, a client trickling its headers is cut off,
//! the per-IP connection limit, HSTS; `X-Forwarded-For` believed only from a trusted proxy;
//! `/password` throttled and recorded like a sign-in; the JSON API refusing an administrator on
//! a one-time password and a real sweep dated in the future; the console's password reset
//! confined to narrower rights, with a notice to the owner; formulas defused in every CSV
//! export; a login literal with CRLF not forging log lines; the body frame's `cid:` images.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::directory::{password_of, sheet_path};
use super::harness::{DOMAIN, TestServer};

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `curl` to the HTTPS listener, checking the server's certificate: (headers, body).
fn https_get(server: &TestServer, path: &str, max_time: &str) -> (String, String) {
    let port = server.port("https");
    let out = Command::new("curl")
        .args(["-sS", "-D", "-", "--max-time", max_time, "--cacert"])
        .arg(server.data_dir().join("tls/cert.pem"))
        .args([
            "--resolve",
            &format!("mail.{DOMAIN}:{port}:127.0.0.1"),
            &format!("https://mail.{DOMAIN}:{port}{path}"),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "curl: {}", text(&out));
    let all = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = all.split_once("\r\n\r\n").unwrap_or((&all, ""));
    (head.to_string(), body.to_string())
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

#[test]
fn https_answers_while_idle_sockets_never_say_hello() {
    let server = TestServer::start_with("https = \"127.0.0.1:0\"\n");
    let idle: Vec<TcpStream> = (0..20)
        .map(|_| TcpStream::connect(server.addr("https")).unwrap())
        .collect();
    // Let the server accept them all before the real client comes.
    std::thread::sleep(Duration::from_millis(300));
    let (head, body) = https_get(&server, "/healthz", "5");
    assert_eq!(body, "ok", "{head}");
    // HSTS on HTTPS, and not on plain HTTP.
    assert_eq!(
        header(&head, "strict-transport-security"),
        Some("max-age=31536000"),
        "{head}"
    );
    let (head, _) = server.http(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    );
    assert!(
        header(&head, "strict-transport-security").is_none(),
        "{head}"
    );
    drop(idle);
}

/// Reads until the server closes the connection (or `limit` passes): what it sent.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Result<Vec<u8>, String> {
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Ok(got),
            Err(e) => return Err(format!("not closed: {e}; got {got:?}")),
        }
    }
}

#[test]
fn a_client_trickling_its_headers_is_cut_off() {
    let server = TestServer::start();
    // A client that trickles its headers is cut off (hyper's header read timeout), however
    // long it would go on.
    let mut slow = TcpStream::connect(server.addr("http")).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let slow_result = read_until_closed(&mut slow, Duration::from_secs(60));
    assert!(slow_result.is_ok(), "{slow_result:?}");
}

#[test]
fn the_per_ip_limit_refuses_web_connections() {
    let server = TestServer::start_with("[limits]\nconnections_per_ip = 3\n");
    // Three connections from this address are held open; a fourth is closed unanswered.
    let held: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(server.addr("http")).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut fourth = TcpStream::connect(server.addr("http")).unwrap();
    let _ = fourth.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let answer = read_until_closed(&mut fourth, Duration::from_secs(10)).expect("closed");
    assert!(
        answer.is_empty(),
        "answered beyond the limit: {}",
        String::from_utf8_lossy(&answer)
    );
    // Once one closes, the next one is served.
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut s = TcpStream::connect(server.addr("http")).unwrap();
        let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let answer = read_until_closed(&mut s, Duration::from_secs(10)).unwrap_or_default();
        if String::from_utf8_lossy(&answer).ends_with("ok") {
            break;
        }
        assert!(Instant::now() < deadline, "the permits were not released");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One API call with curl from `source` (a loopback address), with extra headers.
fn api_from(
    server: &TestServer,
    source: &str,
    user: (&str, &str),
    method: &str,
    path: &str,
    headers: &[&str],
    body: Option<Value>,
) -> (u16, String) {
    let url = format!("http://127.0.0.1:{}{path}", server.port("http"));
    let mut cmd = Command::new("curl");
    cmd.args([
        "-sS",
        "--max-time",
        "30",
        "--interface",
        source,
        "-X",
        method,
        "-w",
        "\n%{http_code}",
        "-u",
        &format!("{}:{}", user.0, user.1),
    ]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    if let Some(body) = body {
        cmd.args([
            "-H",
            "Content-Type: application/json",
            "-d",
            &body.to_string(),
        ]);
    }
    let out = cmd.arg(&url).output().expect("curl");
    assert!(out.status.success(), "curl: {}", text(&out));
    let all = String::from_utf8(out.stdout).unwrap();
    let (body, status) = all.rsplit_once('\n').unwrap();
    (status.trim().parse().unwrap(), body.to_string())
}

/// The IP addresses of an account's sign-in history, newest first.
fn history_ips(server: &TestServer, address: &str) -> Vec<String> {
    let out = server.cli(&["account", "sign-ins", address], "");
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(3).map(str::to_string))
        .collect()
}

#[test]
fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    let server = TestServer::start_with("[web]\ntrusted_proxies = [\"127.0.0.1\"]\n");
    let user = server.add_account("chuyentiep", "Chuyển Tiếp", "Mat-khau-chuyen-tiep-1");
    let wrong = (user.as_str(), "sai-mat-khau");
    // From 127.0.0.2, not a trusted proxy: the header is the client's own say, ignored.
    let (status, _) = api_from(
        &server,
        "127.0.0.2",
        wrong,
        "GET",
        "/api/me",
        &["X-Forwarded-For: 203.0.113.77"],
        None,
    );
    assert_eq!(status, 401);
    assert_eq!(history_ips(&server, &user), ["127.0.0.2"]);
    // From the trusted proxy: the right-most address it did not add itself.
    let (status, _) = api_from(
        &server,
        "127.0.0.1",
        wrong,
        "GET",
        "/api/me",
        &["X-Forwarded-For: 198.51.100.1, 203.0.113.9, 127.0.0.1"],
        None,
    );
    assert_eq!(status, 401);
    assert_eq!(history_ips(&server, &user)[0], "203.0.113.9");

    // /metrics: the loopback check is on the real peer, and a forwarded request is a remote
    // client's even though the proxy is local.
    let (head, _) = server.http(
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let (head, _) = server.http(
        "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    );
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
}

const FOCAL_PW: &str = "Focal-Password-1";

/// A server with the 2025 sample province and a focal administrator.
fn province(extra: &str) -> (TestServer, String, std::path::PathBuf) {
    let server = TestServer::start_with(extra);
    let sheet = super::lifecycle::import_province(&server);
    let focal = server.add_account("qtv.skhcn", "Quản trị Sở KH&CN", FOCAL_PW);
    let out = server.cli(&["admin", "grant", &focal, "--focal"], "");
    assert!(out.status.success(), "{}", text(&out));
    (server, focal, sheet)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn the_api_refuses_a_one_time_password_and_a_real_sweep_in_the_future() {
    let (server, focal, _) = province("");
    let focal = (focal.as_str(), FOCAL_PW);
    // An administrator whose one-time password was never changed has no rights yet.
    let fresh = server.add_first_time_account("qtv.moi", "Quản trị mới", "Mot-lan-dau-12");
    let out = server.cli(&["admin", "grant", &fresh, "--focal"], "");
    assert!(out.status.success(), "{}", text(&out));
    let (status, body) = api_from(
        &server,
        "127.0.0.1",
        (&fresh, "Mot-lan-dau-12"),
        "GET",
        "/api/me",
        &[],
        None,
    );
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("one-time password"), "{body}");
    let (status, body) = api_from(&server, "127.0.0.1", focal, "GET", "/api/me", &[], None);
    assert_eq!(status, 200, "{body}");

    // A real sweep dated a year ahead would revoke everyone at once: refused, nothing done.
    let ahead = now() + 365 * 86_400;
    let (status, body) = api_from(
        &server,
        "127.0.0.1",
        focal,
        "POST",
        "/api/sweep",
        &[],
        Some(json!({ "as_of": ahead })),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("future"), "{body}");
    // A forecast may look ahead, and a sweep as of now runs.
    let (status, body) = api_from(
        &server,
        "127.0.0.1",
        focal,
        "POST",
        "/api/sweep",
        &[],
        Some(json!({ "as_of": ahead, "dry_run": true })),
    );
    assert_eq!(status, 200, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    assert!(!report["revoked"].as_array().unwrap().is_empty(), "{body}");
    let (status, body) = api_from(
        &server,
        "127.0.0.1",
        focal,
        "POST",
        "/api/sweep",
        &[],
        Some(json!({})),
    );
    assert_eq!(status, 200, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    assert!(report["revoked"].as_array().unwrap().is_empty(), "{body}");
}

// ---- the console over plain HTTP ------------------------------------------------------------

use super::admin::{form_value, get, post, sign_in, status};

fn csrf_of(page: &str) -> String {
    let at = page
        .find(r#"name="csrf" value=""#)
        .expect("a form with a token")
        + 19;
    page[at..at + 64].to_string()
}

#[test]
fn password_changes_are_throttled_and_recorded() {
    let server = TestServer::start_with(
        "[limits]\nauth_failures_per_account = 2\nauth_failures_per_ip = 50\n",
    );
    let user = server.add_account("doimatkhau", "Đổi Mật Khẩu", "Mat-khau-cu-2026");
    let session = sign_in(&server, &user, "Mat-khau-cu-2026").expect("signs in");
    let (_, page) = get(&server, "/settings", &session);
    let csrf = csrf_of(&page);
    let change = |current: &str| {
        post(
            &server,
            "/password",
            &session,
            &format!(
                "csrf={csrf}&current={}&new=Mat-khau-moi-2026-x&confirm=Mat-khau-moi-2026-x",
                form_value(current)
            ),
        )
    };
    for guess in ["doan-1", "doan-2"] {
        let (head, _) = change(guess);
        assert_eq!(status(&head), 400, "{head}");
    }
    // A stolen session cannot go on guessing: even the right password now waits.
    let (head, _) = change("Mat-khau-cu-2026");
    assert_eq!(status(&head), 429, "{head}");
    let out = server.cli(&["account", "sign-ins", &user], "");
    let history = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(history.matches(" failed").count(), 2, "{history}");
    assert!(history.contains(" throttled"), "{history}");
    // The password is unchanged.
    assert!(sign_in(&server, &user, "Mat-khau-moi-2026-x").is_none());
}

/// The messages of `address`'s INBOX (subjects), read over IMAP.
fn inbox_subjects(server: &TestServer, address: &str, password: &str) -> String {
    let out = server.cli(
        &["account", "password", address, "--no-force-change"],
        &format!("{password}\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    server.python("lifecycle_mail.py", &["inbox", address, password, "1"])
}

#[test]
fn a_reset_never_reaches_wider_rights_and_the_owner_is_told() {
    let (server, focal, sheet) = province("");
    // Hoàng Văn Minh of the focal unit (CB25-008) is a focal administrator; an officer whose
    // subtree is the focal unit, and two officers of Sở Nội vụ (CB25-002).
    let minh = {
        let text = std::fs::read_to_string(&sheet).unwrap();
        text.lines()
            .find(|l| l.contains("Hoàng Văn Minh"))
            .and_then(|l| l.split(',').find(|f| f.contains('@')))
            .expect("Hoàng Văn Minh in the sheet")
            .to_string()
    };
    let focal_unit_mailbox = format!("sokhcn@{DOMAIN}");
    password_of(&sheet, &focal_unit_mailbox);
    let grant = |who: &str, scope: &[&str]| {
        let mut args = vec!["admin", "grant", who];
        args.extend_from_slice(scope);
        let out = server.cli(&args, "");
        assert!(out.status.success(), "{}", text(&out));
    };
    grant(&minh, &["--focal"]);
    let it_kh = server.add_account("cntt.skhcn", "CNTT Sở KH&CN", "Officer-Password-8");
    grant(&it_kh, &["--unit", "CB25-008"]);
    let session = sign_in(&server, &it_kh, "Officer-Password-8").expect("officer signs in");
    let (_, page) = get(&server, "/admin/units/CB25-008", &session);
    let csrf = csrf_of(&page);
    let reset = |session: &str, csrf: &str, address: &str| {
        post(
            &server,
            "/admin/reset",
            session,
            &format!("csrf={csrf}&address={}", form_value(address)),
        )
    };
    // The focal unit's mailbox and a focal administrator: out of reach of a unit officer.
    for target in [&focal_unit_mailbox, &minh] {
        let (head, page) = reset(&session, &csrf, target);
        assert_eq!(status(&head), 403, "{target}: {head}");
        assert!(!page.contains(r#"id="otp""#), "{target}");
    }

    // Two officers of the same subtree cannot take over each other; the focal unit can.
    let people: Vec<String> = {
        let text = std::fs::read_to_string(&sheet).unwrap();
        text.lines()
            .filter(|l| l.starts_with("CB25-002,") && l.contains(",person,"))
            .filter_map(|l| l.split(',').find(|f| f.contains('@')).map(str::to_string))
            .collect()
    };
    assert!(people.len() >= 3, "three people of Sở Nội vụ: {people:?}");
    let (a, b, c) = (&people[0], &people[1], &people[2]);
    // C, of Sở Nội vụ, is a focal administrator.
    grant(c, &["--focal"]);
    let a_pw = password_of(&sheet, a);
    let b_pw = password_of(&sheet, b);
    for (who, pw) in [(a, &a_pw), (b, &b_pw)] {
        let out = server.cli(
            &["account", "password", who, "--no-force-change"],
            &format!("{pw}\n"),
        );
        assert!(out.status.success(), "{}", text(&out));
        grant(who, &["--unit", "CB25-002"]);
    }
    let session_a = sign_in(&server, a, &a_pw).expect("officer A signs in");
    let (_, page) = get(&server, "/admin/units/CB25-002", &session_a);
    let csrf_a = csrf_of(&page);
    for target in [b, c] {
        let (head, _) = reset(&session_a, &csrf_a, target);
        assert_eq!(status(&head), 403, "{target}: {head}");
    }
    assert!(sign_in(&server, b, &b_pw).is_some(), "B's password stands");

    let focal_session = sign_in(&server, &focal, FOCAL_PW).expect("focal signs in");
    let (_, page) = get(&server, "/admin", &focal_session);
    let focal_csrf = csrf_of(&page);
    let (head, _) = reset(&focal_session, &focal_csrf, b);
    assert_eq!(status(&head), 200, "{head}");
    // B is told, in the INBOX.
    let subjects = inbox_subjects(&server, b, "Mat-khau-sau-cap-lai-1");
    assert!(
        subjects.contains("Mật khẩu hộp thư đã được cấp lại") && subjects.contains(&focal),
        "{subjects}"
    );
}

#[test]
fn every_csv_export_defuses_formulas() {
    let server = TestServer::start();
    let dir = &server.dir;
    let units = dir.join("units.csv");
    std::fs::write(
        &units,
        "kind,code,name,parent\ndepartment,CB25-002,Sở Nội vụ,\ndepartment,CB25-003,-Sở Tư pháp,\n",
    )
    .unwrap();
    let people = dir.join("people.csv");
    std::fs::write(
        &people,
        "full_name,unit,position,staff_id,phone,public\n\
         Nông Văn Đạt,CB25-002,\"=HYPERLINK(\"\"http://evil.example/\"\",\"\"x\"\")\",NV-1,,1\n",
    )
    .unwrap();
    let out = server.cli(
        &[
            "directory",
            "import",
            "--units",
            units.to_str().unwrap(),
            "--people",
            people.to_str().unwrap(),
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out));
    let defused = |what: &str, csv: &str, formula: &str| {
        assert!(csv.contains(&format!("'{formula}")), "{what}: {csv}");
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(csv.trim_start_matches('\u{FEFF}').as_bytes());
        for record in reader.records() {
            for cell in record.unwrap().iter() {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{what}: a live formula {cell:?}"
                );
            }
        }
    };
    // The credentials sheet.
    let sheet = std::fs::read_to_string(sheet_path(&out)).unwrap();
    defused("credentials", &sheet, "=HYPERLINK");
    // The published directory.
    let (head, body) = get(&server, "/directory.csv", "");
    assert_eq!(status(&head), 200, "{head}");
    defused("directory", &body, "=HYPERLINK");
    defused("directory", &body, "-Sở Tư pháp");

    // The audit log and the report, to an administrator whose address is a formula.
    let admin = server.add_account("=1+2", "Quản trị", FOCAL_PW);
    let out = server.cli(&["admin", "grant", &admin, "--focal"], "");
    assert!(out.status.success(), "{}", text(&out));
    let session = sign_in(&server, &admin, FOCAL_PW).expect("signs in");
    let (_, page) = get(&server, "/admin", &session);
    let csrf = csrf_of(&page);
    let (head, _) = post(
        &server,
        "/admin/changes",
        &session,
        &format!(
            "csrf={csrf}&kind=new_hire&unit=CB25-002&full_name={}&reason=x",
            form_value("-Hà Văn Trừ")
        ),
    );
    assert_eq!(status(&head), 303, "{head}");
    let (head, body) = get(&server, "/admin/audit?format=csv", &session);
    assert_eq!(status(&head), 200, "{head}");
    defused("audit", &body, "=1+2@");
    let (head, body) = get(&server, "/admin/report?format=csv", &session);
    assert_eq!(status(&head), 200, "{head}");
    defused("report", &body, "-Sở Tư pháp");
}

#[test]
fn a_crlf_in_an_imap_login_does_not_forge_log_lines() {
    let server = TestServer::start();
    let out = server.python("imap_log_injection.py", &[]);
    assert!(out.contains("refused"), "{out}");
    let log = server.log();
    assert!(
        !log.lines().any(|l| l.starts_with("FORGED")),
        "a forged log line:\n{log}"
    );
    assert!(log.contains("FORGED"), "the attempt was logged:\n{log}");
}

#[test]
fn the_body_frame_shows_every_cid_image() {
    let server = TestServer::start();
    let user = server.add_account("bahinh", "Ba Hình", "Mat-khau-ba-hinh-1");
    server.python("append_cid_message.py", &[&user, "Mat-khau-ba-hinh-1"]);
    let session = sign_in(&server, &user, "Mat-khau-ba-hinh-1").expect("signs in");
    let (head, _) = get(&server, "/mail", &session);
    let inbox = header(&head, "location").expect("the INBOX").to_string();
    let (head, body) = get(&server, &format!("{inbox}/1/body"), &session);
    assert_eq!(status(&head), 200, "{head}");
    // Three images, each its own part.
    let mut images: Vec<&str> = body
        .split("data:image/png;base64,")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap_or(rest.len())])
        .collect();
    assert_eq!(images.len(), 3, "{body}");
    images.sort_unstable();
    images.dedup();
    assert_eq!(images.len(), 3, "{body}");
    assert!(!body.contains("cid:"), "{body}");
}
