//! The webmail in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`) driven by `browser/webmail.py` with Debian's `python3-selenium`, against
//! the real binary over HTTPS on loopback. Screenshots of the main screens are written to
//! `target/screenshots/` (or `$CARGO_TARGET_DIR/screenshots/`) as CI artefacts. Plus checks
//! over plain HTTP with a raw client: headers, CSRF, sessions.

use std::path::Path;
use std::time::Duration;

use super::harness::{TestServer, screenshots};

fn start() -> TestServer {
    TestServer::start_with("https = \"127.0.0.1:0\"\n")
}

#[test]
fn browser_flows() {
    if !super::needs::require(super::needs::BROWSER) {
        return;
    }
    let server = start();
    let units = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/data/units-2011.csv");
    let out = server.cli(
        &["directory", "import", "--units", units.to_str().unwrap()],
        "",
    );
    assert!(
        out.status.success(),
        "import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = server.add_first_time_account("nvan.test", "Nông Văn An", "Mk-cap-lan-dau-7");
    let colleague = server.add_account("ltbich.test", "Lê Thị Bích", "Bich-mat-khau-2026");
    server.browser(
        "webmail.py",
        &[
            first.as_str(),
            "Mk-cap-lan-dau-7",
            colleague.as_str(),
            "Bich-mat-khau-2026",
        ],
    );
    assert!(screenshots().join("06-reading.png").exists());
}

/// One HTTP/1.1 request over plain HTTP (loopback serves the application): status line and
/// headers, and the body.
pub(super) fn http(server: &TestServer, request: &str) -> (String, String) {
    server.http(request, Duration::from_secs(20))
}

pub(super) fn header<'a>(head: &'a str, name: &str) -> Vec<&'a str> {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
        .collect()
}

pub(super) fn get(server: &TestServer, path: &str, cookie: &str) -> (String, String) {
    http(
        server,
        &format!("GET {path} HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"),
    )
}

pub(super) fn post(server: &TestServer, path: &str, cookie: &str, body: &str) -> (String, String) {
    http(
        server,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

pub(super) fn cookie_value(head: &str, name: &str) -> String {
    header(head, "set-cookie")
        .into_iter()
        .filter_map(|c| c.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .unwrap_or_else(|| panic!("no cookie {name} in {head}"))
}

pub(super) fn csrf_of(body: &str) -> String {
    let at = body.find(r#"name="csrf" value=""#).expect("a csrf field") + 19;
    body[at..at + 64].to_string()
}

pub(super) fn sign_in(server: &TestServer, address: &str, password: &str) -> (String, String) {
    let (head, body) = get(server, "/login", "");
    let login_token = cookie_value(&head, "hopthu_login");
    assert_eq!(csrf_of(&body), login_token);
    let (head, _) = post(
        server,
        "/login",
        &format!("hopthu_login={login_token}"),
        &format!(
            "csrf={login_token}&lang=vi&login={}&password={password}",
            address.replace('@', "%40")
        ),
    );
    assert!(head.starts_with("HTTP/1.1 303"), "{head}");
    let cookies = header(&head, "set-cookie").join("\n");
    assert!(
        cookies.contains("HttpOnly")
            && cookies.contains("Secure")
            && cookies.contains("SameSite=Lax"),
        "{cookies}"
    );
    let session = format!("hopthu_session={}", cookie_value(&head, "hopthu_session"));
    let (_, body) = get(server, "/settings", &session);
    (session, csrf_of(&body))
}

#[test]
fn sessions_csrf_and_headers() {
    let server = start();
    let address = server.add_account("tvminh.test", "Trần Văn Minh", "Minh-mat-khau-2026");
    let hidden = server.add_account("bcc.test", "Người nhận ẩn", "An-mat-khau-2026");

    // No session: every mail page sends to the sign-in.
    let (head, _) = get(&server, "/mail", "");
    assert!(
        head.starts_with("HTTP/1.1 303") && head.contains("location: /login"),
        "{head}"
    );
    // A forged session cookie opens nothing.
    let (head, _) = get(
        &server,
        "/mail",
        &format!("hopthu_session={}", "ab".repeat(32)),
    );
    assert!(head.contains("location: /login"), "{head}");

    // The sign-in form refuses a post without its double-submit token.
    let (head, body) = post(
        &server,
        "/login",
        "",
        &format!("login={address}&password=Minh-mat-khau-2026"),
    );
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    assert!(!head.contains("hopthu_session"), "{head}");
    assert!(body.contains("hết hạn"), "{body}");

    // Wrong password: 401, no session.
    let (h, b) = get(&server, "/login", "");
    let token = cookie_value(&h, "hopthu_login");
    assert_eq!(csrf_of(&b), token);
    let (head, body) = post(
        &server,
        "/login",
        &format!("hopthu_login={token}"),
        &format!("csrf={token}&login={address}&password=wrong"),
    );
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    assert!(body.contains("Sai địa chỉ thư hoặc mật khẩu"), "{body}");

    let (session, csrf) = sign_in(&server, &address, "Minh-mat-khau-2026");
    let (head, body) = get(&server, "/mail", &session);
    assert!(head.starts_with("HTTP/1.1 303"), "{head}");
    let inbox = header(&head, "location")[0].to_string();
    let (head, body2) = get(&server, &inbox, &session);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}\n{body}");
    assert!(body2.contains("Hộp thư đến") && body2.contains("lang=\"vi\""));
    let csp = header(&head, "content-security-policy").join(" ");
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(header(&head, "x-content-type-options"), ["nosniff"]);

    // A form without the CSRF token changes nothing (the session still works).
    let (head, _) = post(&server, "/logout", &session, "");
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    let (head, _) = post(&server, "/logout", &session, "csrf=0000");
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    let (head, _) = get(&server, &inbox, &session);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");

    // Without JavaScript: a plain multipart form sends a message (with a Vietnamese file
    // name) to oneself; it arrives in INBOX and is kept in Sent.
    let boundary = "----hopthu-test-boundary";
    let mut form = String::new();
    for (name, value) in [
        ("csrf", csrf.as_str()),
        ("to", address.as_str()),
        ("cc", ""),
        ("bcc", hidden.as_str()),
        ("subject", "Thư không cần JavaScript"),
        ("body", "Nội dung thư."),
        ("action", "send"),
    ] {
        form.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    form.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"Kế hoạch.txt\"\r\nContent-Type: text/plain\r\n\r\nKế hoạch năm\r\n--{boundary}--\r\n"
    ));
    let (head, body) = http(
        &server,
        &format!(
            "POST /compose HTTP/1.1\r\nHost: x\r\nCookie: {session}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        ),
    );
    assert!(head.contains("location: /mail?sent=1"), "{head}\n{body}");
    let (_, list) = get(&server, &inbox, &session);
    assert_eq!(
        list.matches(">Thư không cần JavaScript</a>").count(),
        1,
        "{list}"
    );
    let at = list.find("\">Thư không cần JavaScript</a>").unwrap();
    let href_at = list[..at].rfind("href=\"").unwrap() + 6;
    let href = &list[href_at..href_at + list[href_at..].find('"').unwrap()];
    let (_, reading) = get(&server, href, &session);
    assert!(reading.contains("Kế hoạch.txt"), "{reading}");
    // Recipients never see the Bcc; the sender's Sent copy does.
    assert!(!reading.contains(&hidden), "{reading}");
    let href_of = |page: &str, text: &str| {
        let at = page
            .find(text)
            .unwrap_or_else(|| panic!("no {text} in {page}"));
        let start = page[..at].rfind("href=\"").unwrap() + 6;
        page[start..start + page[start..].find('"').unwrap()].to_string()
    };
    let (_, sent) = get(&server, &href_of(&list, ">Đã gửi"), &session);
    let (_, sent_reading) = get(
        &server,
        &href_of(&sent, "\">Thư không cần JavaScript</a>"),
        &session,
    );
    assert!(
        sent_reading.contains("<dt>Bcc</dt>") && sent_reading.contains(&hidden),
        "{sent_reading}"
    );
    let (hidden_session, _) = sign_in(&server, &hidden, "An-mat-khau-2026");
    let (head, _) = get(&server, "/mail", &hidden_session);
    let hidden_inbox = header(&head, "location")[0].to_string();
    let (_, hidden_list) = get(&server, &hidden_inbox, &hidden_session);
    assert!(
        hidden_list.contains(">Thư không cần JavaScript</a>"),
        "{hidden_list}"
    );
    // A compose post without the CSRF token sends nothing.
    let forged = form.replace(&csrf, &"0".repeat(64));
    let (head, _) = http(
        &server,
        &format!(
            "POST /compose HTTP/1.1\r\nHost: x\r\nCookie: {session}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{forged}",
            forged.len()
        ),
    );
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    let (_, list) = get(&server, &inbox, &session);
    assert_eq!(
        list.matches(">Thư không cần JavaScript</a>").count(),
        1,
        "{list}"
    );

    // Two sessions; "sign out everywhere" from one ends both.
    let (other, _) = sign_in(&server, &address, "Minh-mat-khau-2026");
    let (head, _) = post(&server, "/logout-all", &session, &format!("csrf={csrf}"));
    assert!(head.contains("location: /login"), "{head}");
    for s in [&session, &other] {
        let (head, _) = get(&server, &inbox, s);
        assert!(head.contains("location: /login"), "{head}");
    }

    // The static files are cached for a year.
    let (head, body) = get(&server, "/static/app.css?v=1", "");
    assert!(head.contains("max-age=31536000"), "{head}");
    assert!(body.contains("--accent"));
}

/// "My account is compromised" (Đ13.4) from the settings page: without the confirmation box
/// nothing happens; with it the mailbox is locked at once — this and every other web session
/// end, the old password no longer signs in anywhere, the audit log has it — and the
/// operator's reset then gives a password that works.
#[test]
fn reporting_a_compromised_account_locks_it_until_a_reset() {
    let server = start();
    let password = "Minh-mat-khau-2026";
    let address = server.add_account("minh", "Trần Văn Minh", password);
    let (session, csrf) = sign_in(&server, &address, password);
    let (other, _) = sign_in(&server, &address, password);
    let (head, _) = post(
        &server,
        "/settings/compromised",
        &session,
        &format!("csrf={csrf}"),
    );
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    let (head, _) = get(&server, "/settings", &other);
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "unconfirmed: nothing changed\n{head}"
    );

    let (head, body) = post(
        &server,
        "/settings/compromised",
        &session,
        &format!("csrf={csrf}&confirm=yes"),
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(body.contains("Hộp thư đã được khoá"), "{body}");
    for cookie in [&session, &other] {
        let (head, _) = get(&server, "/settings", cookie);
        assert!(
            head.starts_with("HTTP/1.1 303") && header(&head, "location") == ["/login"],
            "{head}"
        );
    }
    let out = server.python_output("login_check.py", &[&address, password]);
    assert!(!out.status.success(), "the old password still signs in");
    let audit = server.cli(&["lifecycle", "audit"], "");
    let audit = String::from_utf8_lossy(&audit.stdout);
    assert!(audit.contains("account.compromised"), "{audit}");

    // The report opened an incident: category compromised, severity high, the owner as
    // reporter, with the deadline of a high one (24 hours).
    let incident = compromise_incident(&server, &address);
    assert_eq!(incident["status"], "new", "{incident}");
    let id = incident["id"].as_i64().unwrap();
    assert_eq!(
        incident["deadline_at"].as_i64().unwrap() - incident["created_at"].as_i64().unwrap(),
        24 * 3600
    );
    // It is not closed by hand: only the reset with the confirmation ends it.
    let out = server.cli(
        &["incident", "resolve", &id.to_string(), "--note", "xong"],
        "",
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("văn bản xác nhận"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let fresh = "Minh-mat-khau-moi-2026";
    let set_password = |extra: &[&str]| {
        let mut args = vec!["account", "password", &address, "--no-force-change"];
        args.extend_from_slice(extra);
        server.cli(&args, &format!("{fresh}\n"))
    };
    // Without the agency's written confirmation: refused, in Vietnamese, nothing changed.
    let out = set_password(&[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("đính kèm văn bản xác nhận của cơ quan"),
        "{stderr}"
    );
    assert!(
        !server
            .python_output("login_check.py", &[&address, fresh])
            .status
            .success(),
        "the refused reset set no password"
    );
    // A file that is neither a PDF nor an image: refused too.
    let files = server.dir.join("files");
    std::fs::create_dir_all(&files).unwrap();
    let note = files.join("ghi-chu.txt");
    std::fs::write(&note, "không phải văn bản").unwrap();
    let out = set_password(&["--confirmation", note.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("PDF hoặc ảnh"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(compromise_incident(&server, &address)["status"], "new");

    // With it: the password is set, the file kept, the incident resolved naming it, and the
    // audit row of the reset names it.
    let confirmation = files.join("xac-nhan-so-noi-vu.pdf");
    let pdf = b"%PDF-1.4\n% Xac nhan cua co quan\n%%EOF\n";
    std::fs::write(&confirmation, pdf).unwrap();
    let out = set_password(&["--confirmation", confirmation.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = server.python("login_check.py", &[&address, fresh]);
    assert!(out.contains("OK"), "{out}");
    let resolved = compromise_incident(&server, &address);
    assert_eq!(resolved["status"], "resolved", "{resolved}");
    assert!(
        resolved["note"]
            .as_str()
            .unwrap()
            .contains("xac-nhan-so-noi-vu.pdf"),
        "{resolved}"
    );
    let kept = server.sql(&format!(
        "SELECT file_name || ' ' || content_type || ' ' || size || ' ' || blob_hash \
           FROM incident_confirmations WHERE incident_id = {id}"
    ));
    let sha256 = sha256_hex(pdf);
    assert_eq!(
        kept.trim(),
        format!(
            "xac-nhan-so-noi-vu.pdf application/pdf {} {sha256}",
            pdf.len()
        )
    );
    let audit = server.cli(&["lifecycle", "audit"], "");
    let audit = String::from_utf8_lossy(&audit.stdout);
    let row = audit
        .lines()
        .find(|l| l.contains("account.set_password") && l.contains(&address))
        .unwrap_or_else(|| panic!("{audit}"));
    assert!(
        row.contains("xac-nhan-so-noi-vu.pdf") && row.contains(&sha256),
        "{row}"
    );
    assert!(
        audit
            .lines()
            .any(|l| l.contains("incident.resolve") && l.contains(&format!("incident:{id}"))),
        "{audit}"
    );
    // Unlocked now: a confirmation is not asked for, and one given is refused.
    let out = set_password(&["--confirmation", confirmation.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(set_password(&[]).status.success());
}

/// The incident "my account is compromised" of `address`, from `hopthu incident list`.
fn compromise_incident(server: &TestServer, address: &str) -> serde_json::Value {
    let out = server.cli(&["incident", "list", "--format", "json"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mine: Vec<&serde_json::Value> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["reporter"] == address && i["category"] == "compromised")
        .collect();
    assert_eq!(mine.len(), 1, "{all}");
    assert_eq!(mine[0]["severity"], "high");
    assert_eq!(mine[0]["locks_account"], true);
    mine[0].clone()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The console's reset of a mailbox locked as compromised (Đ13.4): its form asks for the
/// agency's written confirmation; posted without it (as a plain form, or with no file chosen)
/// the reset is refused with the reason and changes nothing; with a PDF the one-time password
/// is shown, the file kept and the incident resolved.
#[test]
fn the_console_resets_a_compromised_mailbox_only_with_the_agencys_confirmation() {
    let server = start();
    let files = server.dir.join("files");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(
        files.join("units.csv"),
        "kind,code,name,parent\ndepartment,CB25-010,Sở Y tế,\n",
    )
    .unwrap();
    std::fs::write(
        files.join("people.csv"),
        "full_name,unit\nNông Văn Đạt,CB25-010\n",
    )
    .unwrap();
    let ok = |out: std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(server.cli(
        &[
            "directory",
            "import",
            "--units",
            files.join("units.csv").to_str().unwrap(),
            "--people",
            files.join("people.csv").to_str().unwrap(),
        ],
        "",
    ));
    let dat = "datnv@caobang.gov.vn";
    let password = "Dat-mat-khau-2026";
    ok(server.cli(
        &["account", "password", dat, "--no-force-change"],
        &format!("{password}\n"),
    ));
    let focal_pw = "Focal-Password-1";
    let focal = server.add_account("qtv.skhcn", "Quản trị", focal_pw);
    ok(server.cli(&["admin", "grant", &focal, "--focal"], ""));

    let (session, csrf) = sign_in(&server, dat, password);
    let (head, _) = post(
        &server,
        "/settings/compromised",
        &session,
        &format!("csrf={csrf}&confirm=yes"),
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let id = compromise_incident(&server, dat)["id"].as_i64().unwrap();

    let (admin, _) = sign_in(&server, &focal, focal_pw);
    // Open, the incident is not resolved by hand: the page says how it ends.
    let (_, page) = get(&server, "/admin/incidents", &admin);
    assert!(page.contains("Hộp thư đang khoá"), "{page}");
    let (_, page) = get(&server, "/admin/units/CB25-010", &admin);
    assert!(
        page.contains(r#"enctype="multipart/form-data""#)
            && page.contains(r#"name="confirmation""#),
        "the locked mailbox's reset asks for the file\n{page}"
    );
    let csrf = csrf_of(&page);
    let multipart = |file: Option<(&str, &str)>| {
        let boundary = "hopthu-xac-nhan";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"address\"\r\n\r\n{dat}\r\n"
        );
        let (name, content) = file.unwrap_or(("", ""));
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"confirmation\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n{content}\r\n--{boundary}--\r\n"
        ));
        http(
            &server,
            &format!(
                "POST /admin/reset HTTP/1.1\r\nHost: x\r\nCookie: {admin}\r\n\
                 Content-Type: multipart/form-data; boundary={boundary}\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        )
    };
    // Refused: as a plain form, and with no file chosen.
    let (head, body) = post(
        &server,
        "/admin/reset",
        &admin,
        &format!("csrf={csrf}&address={}", dat.replace('@', "%40")),
    );
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    assert!(body.contains("văn bản xác nhận của cơ quan"), "{body}");
    let (head, body) = multipart(None);
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    assert!(body.contains("văn bản xác nhận của cơ quan"), "{body}");
    assert_eq!(compromise_incident(&server, dat)["status"], "new");
    assert_eq!(
        server
            .sql(&format!(
                "SELECT COUNT(*) FROM incident_confirmations WHERE incident_id = {id}"
            ))
            .trim(),
        "0"
    );
    // With the confirmation: the one-time password, once.
    let (head, body) = multipart(Some(("Công văn xác nhận.pdf", "%PDF-1.5\nxac nhan\n%%EOF")));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}\n{body}");
    assert!(body.contains(r#"id="otp""#), "{body}");
    let resolved = compromise_incident(&server, dat);
    assert_eq!(resolved["status"], "resolved");
    assert!(
        resolved["note"]
            .as_str()
            .unwrap()
            .contains("Công văn xác nhận.pdf"),
        "{resolved}"
    );
    assert_eq!(
        server
            .sql(&format!(
                "SELECT file_name FROM incident_confirmations WHERE incident_id = {id}"
            ))
            .trim(),
        "Công văn xác nhận.pdf"
    );
    let audit = server.cli(&["lifecycle", "audit"], "");
    let audit = String::from_utf8_lossy(&audit.stdout);
    assert!(
        audit
            .lines()
            .any(|l| l.contains("account.reset_password") && l.contains("Công văn xác nhận.pdf")),
        "{audit}"
    );
    // The form is an ordinary one again.
    let (_, page) = get(&server, "/admin/units/CB25-010", &admin);
    assert!(!page.contains(r#"name="confirmation""#), "{page}");
    // The incidents page links the confirmation, which downloads as it was given.
    let (_, page) = get(&server, "/admin/incidents", &admin);
    let link = format!("/admin/incidents/{id}/confirmation");
    assert!(page.contains(&link), "{page}");
    let (head, body) = get(&server, &link, &admin);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(header(&head, "content-type"), ["application/pdf"]);
    assert!(
        header(&head, "content-disposition")[0].starts_with("attachment;"),
        "{head}"
    );
    assert_eq!(body, "%PDF-1.5\nxac nhan\n%%EOF");
}

/// Search results come in pages like the folder: 50 at a time, newest first, with a link to
/// the older matches that keeps the words, until the last page.
#[test]
fn search_results_are_paged_with_their_words() {
    let server = start();
    let password = "Minh-mat-khau-2026";
    let address = server.add_account("minh", "Trần Văn Minh", password);
    server.python("many_messages.py", &[&address, password, "Báo cáo", "60"]);
    server.python("many_messages.py", &[&address, password, "Giấy mời", "5"]);
    let (session, _) = sign_in(&server, &address, password);
    let (head, _) = get(&server, "/mail", &session);
    let inbox = header(&head, "location")[0].to_string();
    let rows = |body: &str| body.matches(r#"<td class="subject">"#).count();
    let (_, first) = get(&server, &format!("{inbox}?q=bao+cao"), &session);
    assert_eq!(rows(&first), 50, "{first}");
    assert!(
        first.contains("Báo cáo 59") && !first.contains("Báo cáo 9<"),
        "newest first"
    );
    let marker = r#"rel="next" href=""#;
    let at = first.find(marker).expect("a next page") + marker.len();
    let next = first[at..first[at..].find('"').unwrap() + at].replace("&amp;", "&");
    assert!(
        next.contains("q=bao%20cao") || next.contains("q=bao+cao"),
        "{next}"
    );
    let (_, second) = get(&server, &next, &session);
    assert_eq!(rows(&second), 10, "{second}");
    assert!(
        second.contains("Báo cáo 0<") && !second.contains("Giấy mời"),
        "{second}"
    );
    assert!(!second.contains(r#"rel="next""#), "the last page");
    // "Move to" offers Archive first, not the folder that sorts first (Drafts).
    let at = first.find(" selected>").expect("a preselected folder") + 10;
    assert!(
        first[at..].starts_with("Lưu trữ<"),
        "{}",
        &first[at..at + 40]
    );
}
