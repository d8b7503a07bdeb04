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

    let out = server.cli(
        &["account", "password", &address, "--no-force-change"],
        "Minh-mat-khau-moi-2026\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = server.python("login_check.py", &[&address, "Minh-mat-khau-moi-2026"]);
    assert!(out.contains("OK"), "{out}");
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
