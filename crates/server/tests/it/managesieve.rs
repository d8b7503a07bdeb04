//! Sieve filters, edited over ManageSieve (RFC 5804) — by Debian's `sieve-connect` and by hand
//! over a socket — and in the webmail (`/settings/rules`, `/settings/vacation`), then seen at
//! work by delivering mail over SMTP.

use std::process::{Command, Stdio};

use super::harness::TestServer;
use super::web::{get, post, sign_in};

/// The outbound queue looks often, so a vacation reply (queued like any message) comes soon.
fn start() -> TestServer {
    TestServer::start_with("[outbound]\npoll_interval = 1\n")
}

/// A form value, percent-encoded.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn protocol_by_hand_follows_rfc_5804() {
    let server = start();
    let address = server.add_account("thuydt", "Đinh Thị Thuỷ", "Thuy-mat-khau-2026");
    let first = server.add_first_time_account("moi.nv", "Nguyễn Văn Mới", "Mk-cap-lan-dau-9");
    let out = server.python(
        "managesieve_protocol.py",
        &[&address, "Thuy-mat-khau-2026", &first, "Mk-cap-lan-dau-9"],
    );
    assert!(out.ends_with("OK\n"), "{out}");
}

/// Without TLS: the greeting, passwords refused, malformed lines answered with NO, bare LF
/// accepted, LOGOUT.
#[test]
fn plain_connection_refuses_passwords_and_survives_garbage() {
    let server = start();
    let mut c = server.connect("managesieve");
    let caps = c.until("OK");
    assert!(
        caps.iter().any(|l| l.starts_with("\"STARTTLS\"")),
        "{caps:?}"
    );
    assert!(
        caps.iter().any(|l| l.starts_with("\"SASL\" \"\"")),
        "{caps:?}"
    );
    c.send(b"AUTHENTICATE \"PLAIN\" \"AHRodXlkdEBleGFtcGxlAHgK\"\r\n");
    assert!(c.line().starts_with("NO (ENCRYPT-NEEDED)"));
    c.send(b"\x00\xff garbage \"unterminated\r\n");
    assert!(c.line().starts_with("NO"));
    c.send(b"PUTSCRIPT \"x\" {5+}\r\nkeep;\r\n");
    assert!(c.line().starts_with("NO"), "not signed in");
    let long = vec![b'A'; 100_000];
    c.send(&long);
    c.send(b"\r\n");
    assert!(c.line().starts_with("NO"));
    c.send(b"NOOP\n");
    assert!(c.line().starts_with("OK"));
    c.send(b"CAPABILITY\r\n");
    let caps = c.until("OK");
    assert!(
        caps.iter().any(|l| l.starts_with("\"VERSION\" \"1.0\"")),
        "{caps:?}"
    );
    c.send(b"LOGOUT\r\n");
    assert!(c.line().starts_with("OK"));
    assert!(c.closed());
}

/// The demonstration: Debian's `sieve-connect` uploads (over STARTTLS, checking the
/// server's certificate) a script that files into a folder and replies with a vacation
/// message, activates it; mail delivered over SMTP is filed, and the sender gets one reply
/// for two messages.
#[test]
fn sieve_connect_uploads_a_script_that_files_and_replies() {
    if !super::needs::require(&[super::needs::SIEVE_CONNECT, super::needs::SYSTEM_PYTHON]) {
        return;
    }
    let server = start();
    let a = server.add_account("hoanglm", "Hoàng Lê Minh", "Minh-mat-khau-2026");
    let b = server.add_account("vuthc", "Vũ Thị Hà", "Ha-mat-khau-2026");
    server.python(
        "sieve_delivery.py",
        &["mkfolder", &a, "Minh-mat-khau-2026", "Bao-cao"],
    );
    let script = server.data_dir().join("../filters.sieve");
    std::fs::write(
        &script,
        "require [\"fileinto\", \"vacation\"];\r\n\
         vacation :days 1 :subject \"Vắng mặt\" \"Tôi đang đi công tác đến thứ Hai.\";\r\n\
         if header :contains \"subject\" \"báo cáo\" {\r\n  fileinto \"Bao-cao\";\r\n}\r\n",
    )
    .unwrap();
    let port = server.port("managesieve").to_string();
    let cert = server.data_dir().join("tls/cert.pem");
    let sieve_connect = |action: &[&str]| -> String {
        let mut child = Command::new("/usr/bin/sieve-connect")
            .args(["--server", "127.0.0.1", "--port", &port, "--user", &a])
            .args(["--authmech", "PLAIN", "--passwordfd", "0", "--noclearauth"])
            .args(["--tlscafile", cert.to_str().unwrap()])
            .args(["--tlshostname", "mail.caobang.gov.vn"])
            .args(action)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sieve-connect");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"Minh-mat-khau-2026\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "sieve-connect {action:?}: {text}\n--- server log\n{}",
            server.log()
        );
        text
    };
    let script_path = script.to_str().unwrap();
    sieve_connect(&[
        "--upload",
        "--localsieve",
        script_path,
        "--remotesieve",
        "cong-tac",
    ]);
    sieve_connect(&["--activate", "--remotesieve", "cong-tac"]);
    let list = sieve_connect(&["--list"]);
    assert!(list.contains("cong-tac"), "{list}");
    let back = server.data_dir().join("../back.sieve");
    sieve_connect(&[
        "--download",
        "--remotesieve",
        "cong-tac",
        "--localsieve",
        back.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read(&back).unwrap(),
        std::fs::read(&script).unwrap()
    );

    for _ in 0..2 {
        server.python(
            "sieve_delivery.py",
            &[
                "send",
                &b,
                "Ha-mat-khau-2026",
                &a,
                "Báo cáo tháng 12 của phòng",
            ],
        );
    }
    server.python(
        "sieve_delivery.py",
        &[
            "count",
            &a,
            "Minh-mat-khau-2026",
            "Bao-cao",
            "tháng 12",
            "2",
        ],
    );
    server.python(
        "sieve_delivery.py",
        &["count", &a, "Minh-mat-khau-2026", "INBOX", "tháng 12", "0"],
    );
    // One reply for two messages (`:days 1`), marked as automatic (RFC 3834).
    server.python(
        "sieve_delivery.py",
        &["count", &b, "Ha-mat-khau-2026", "INBOX", "Vắng mặt", "1"],
    );
    let reply = server.python(
        "sieve_delivery.py",
        &["reply", &b, "Ha-mat-khau-2026", "Vắng mặt"],
    );
    assert!(reply.contains("Auto-Submitted: auto-replied"), "{reply}");
}

/// The webmail's rules and out-of-office pages write one script; mail delivered then is
/// moved, flagged and answered. A script uploaded over ManageSieve is not replaced without the
/// confirmation box.
#[test]
fn webmail_rules_and_out_of_office() {
    let server = start();
    let a = server.add_account("lananh", "Trần Lan Anh", "Anh-mat-khau-2026");
    let b = server.add_account("quangnd", "Nguyễn Đức Quang", "Quang-mat-khau-2026");
    server.python(
        "sieve_delivery.py",
        &["mkfolder", &a, "Anh-mat-khau-2026", "Cong-van"],
    );
    let (session, csrf) = sign_in(&server, &a, "Anh-mat-khau-2026");
    let (_, settings) = get(&server, "/settings", &session);
    assert!(settings.contains("href=\"/settings/rules\""), "{settings}");
    assert!(settings.contains("href=\"/settings/vacation\""));

    let add = |field: &str, contains: &str, action: &str, folder: &str, forward: &str| {
        let body = format!(
            "csrf={csrf}&op=add&field={field}&contains={}&action={action}&folder={}&forward={}",
            enc(contains),
            enc(folder),
            enc(forward)
        );
        post(&server, "/settings/rules", &session, &body)
    };
    let (head, _) = add("subject", "công văn", "move", "Cong-van", "");
    assert!(head.starts_with("HTTP/1.1 303"), "{head}");
    let (head, _) = add("from", &b, "flag", "", "");
    assert!(head.starts_with("HTTP/1.1 303"), "{head}");
    // A folder that does not exist, a bad address, a wrong CSRF token: refused.
    let (head, body) = add("subject", "x", "move", "Không có", "");
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    assert!(body.contains("id=\"error\""), "{body}");
    let (head, _) = add("subject", "x", "forward", "", "not an address");
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    let forged = format!(
        "csrf={}&op=add&field=subject&contains=x&action=discard",
        "0".repeat(64)
    );
    let (head, _) = post(&server, "/settings/rules", &session, &forged);
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    // A third rule, moved to the top, then deleted.
    let (head, _) = add("subject", "quảng cáo", "discard", "", "");
    assert!(head.starts_with("HTTP/1.1 303"), "{head}");
    for index in [2, 1] {
        let (head, _) = post(
            &server,
            "/settings/rules",
            &session,
            &format!("csrf={csrf}&op=up&index={index}"),
        );
        assert!(head.starts_with("HTTP/1.1 303"), "{head}");
    }
    let (_, page) = get(&server, "/settings/rules", &session);
    let first = page.find("quảng cáo").expect("the third rule");
    assert!(first < page.find("công văn").unwrap(), "moved up");
    let (head, _) = post(
        &server,
        "/settings/rules",
        &session,
        &format!("csrf={csrf}&op=delete&index=0"),
    );
    assert!(head.starts_with("HTTP/1.1 303"), "{head}");
    let (_, page) = get(&server, "/settings/rules", &session);
    assert!(
        !page.contains("quảng cáo") && page.contains("công văn"),
        "{page}"
    );

    // Out of office from yesterday to next week (dd/mm/yyyy, Vietnam time), two days apart.
    let day = |offset: i64| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
            + 7 * 3600
            + offset * 86400;
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = t.div_euclid(86400) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        format!("{d:02}/{m:02}/{y}")
    };
    let vacation = format!(
        "csrf={csrf}&enabled=yes&start={}&end={}&subject={}&text={}&days=2",
        enc(&day(-1)),
        enc(&day(7)),
        enc("Nghỉ phép"),
        enc("Tôi nghỉ phép đến tuần sau.\r\nViệc gấp xin gọi phòng.")
    );
    let (head, _) = post(&server, "/settings/vacation", &session, &vacation);
    assert!(head.starts_with("HTTP/1.1 303"), "{head}");
    let (_, page) = get(&server, "/settings/vacation?saved=1", &session);
    assert!(page.contains(&day(-1)) && page.contains(&day(7)), "{page}");
    assert!(
        page.contains("Nghỉ phép") && page.contains("checked"),
        "{page}"
    );
    let (head, body) = post(
        &server,
        "/settings/vacation",
        &session,
        &format!("csrf={csrf}&enabled=yes&start=32%2F13%2F2026&subject=x&text=y&days=2"),
    );
    assert!(
        head.starts_with("HTTP/1.1 400") && body.contains("dd/mm/yyyy"),
        "{head}"
    );
    // The rules survived the out-of-office save: both live in one script.
    let (_, page) = get(&server, "/settings/rules", &session);
    assert!(page.contains("công văn"), "{page}");

    server.python(
        "sieve_delivery.py",
        &["send", &b, "Quang-mat-khau-2026", &a, "Công văn số 12"],
    );
    server.python(
        "sieve_delivery.py",
        &["send", &b, "Quang-mat-khau-2026", &a, "Hỏi thăm"],
    );
    server.python(
        "sieve_delivery.py",
        &[
            "count",
            &a,
            "Anh-mat-khau-2026",
            "Cong-van",
            "Công văn số 12",
            "1",
        ],
    );
    server.python(
        "sieve_delivery.py",
        &[
            "count",
            &a,
            "Anh-mat-khau-2026",
            "INBOX",
            "Hỏi thăm",
            "1",
            "\\Flagged",
        ],
    );
    server.python(
        "sieve_delivery.py",
        &[
            "count",
            &b,
            "Quang-mat-khau-2026",
            "INBOX",
            "Nghỉ phép",
            "1",
        ],
    );

    // A hand-written script activated over ManageSieve: the pages say so and do not replace
    // it unless confirmed.
    let out = server.python(
        "managesieve_put.py",
        &[&a, "Anh-mat-khau-2026", "tu-viet", "keep;\r\n"],
    );
    assert!(out.ends_with("OK\n"), "{out}");
    let (_, page) = get(&server, "/settings/rules", &session);
    assert!(
        page.contains("id=\"other-active\"") && page.contains("tu-viet"),
        "{page}"
    );
    let (head, body) = add("subject", "mới", "discard", "", "");
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    assert!(body.contains("tu-viet"), "{body}");
    let (head, _) = post(
        &server,
        "/settings/rules",
        &session,
        &format!("csrf={csrf}&op=activate&replace=yes"),
    );
    assert!(head.starts_with("HTTP/1.1 303"), "{head}");
    let (_, page) = get(&server, "/settings/rules", &session);
    assert!(!page.contains("id=\"other-active\""), "{page}");
}
