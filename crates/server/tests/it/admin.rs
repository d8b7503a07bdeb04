//! The admin console (`/admin`) through the real binary: headless Chromium driven by
//! `browser/admin.py` (the focal administrator's flows, a unit IT officer refused another unit's
//! people by URL, the import preview and confirmation; screenshots `admin-*.png` under
//! `target/screenshots/`), and over plain HTTP with a raw client: a forged form without the CSRF
//! token changes nothing, a unit officer is refused everything outside their subtree, and an
//! import confirmation applies only the plan that was shown.

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use super::directory::password_of;
use super::harness::{TestServer, screenshots};
use super::lifecycle::{make_head, unit_people};

const FOCAL_PW: &str = "Focal-Password-1";
const OFFICER_PW: &str = "Officer-Password-1";
const USER_PW: &str = "User-Password-12";

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A server with the 2025 sample province, a focal administrator, an IT officer of Sở Nội vụ
/// (CB25-002) and a plain user, all made with the CLI; and the import's credentials sheet.
fn province() -> (TestServer, String, String, String, PathBuf) {
    let server = TestServer::start_with("https = \"127.0.0.1:0\"\n");
    let sheet = super::lifecycle::import_province(&server);
    let focal = server.add_account("qtv.skhcn", "Quản trị Sở KH&CN", FOCAL_PW);
    let officer = server.add_account("cntt.sonoivu", "Cán bộ CNTT Sở Nội vụ", OFFICER_PW);
    let user = server.add_account("nguoidung.thu", "Người dùng thử", USER_PW);
    let out = server.cli(&["admin", "grant", &focal, "--focal"], "");
    assert!(out.status.success(), "{}", text(&out));
    let out = server.cli(&["admin", "grant", &officer, "--unit", "CB25-002"], "");
    assert!(out.status.success(), "{}", text(&out));
    (server, focal, officer, user, sheet)
}

#[test]
fn browser_flows() {
    if !super::needs::require(super::needs::BROWSER) {
        return;
    }
    let (server, focal, officer, user, _) = province();
    server.browser(
        "admin.py",
        &[
            focal.as_str(),
            FOCAL_PW,
            officer.as_str(),
            OFFICER_PW,
            user.as_str(),
            USER_PW,
        ],
    );
    for name in [
        "tree",
        "unit",
        "approved",
        "import-preview",
        "officer-refused",
    ] {
        assert!(screenshots().join(format!("admin-{name}.png")).exists());
    }
}

/// One HTTP/1.1 request over plain HTTP (loopback serves the application): head and body.
pub(super) fn http(server: &TestServer, request: &str) -> (String, String) {
    server.http(request, Duration::from_secs(30))
}

pub(super) fn status(head: &str) -> u16 {
    head.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The value of cookie `name` set by a response.
pub(super) fn set_cookie(head: &str, name: &str) -> Option<String> {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.trim().eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, v)| v.trim().split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

pub(super) fn get(server: &TestServer, path: &str, cookie: &str) -> (String, String) {
    http(
        server,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        ),
    )
}

pub(super) fn post(server: &TestServer, path: &str, cookie: &str, body: &str) -> (String, String) {
    http(
        server,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

/// Percent-encodes a form value.
pub(super) fn form_value(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Signs in through `/login` (its double-submit token) and returns the session cookie, or
/// None when the password is refused.
pub(super) fn sign_in(server: &TestServer, login: &str, password: &str) -> Option<String> {
    let (head, body) = get(server, "/login", "");
    let token = set_cookie(&head, "hopthu_login").expect("sign-in token cookie");
    assert!(body.contains(&token), "the form carries the same token");
    let form = format!(
        "csrf={token}&lang=vi&login={}&password={}",
        form_value(login),
        form_value(password)
    );
    let (head, _) = post(server, "/login", &format!("hopthu_login={token}"), &form);
    set_cookie(&head, "hopthu_session").map(|s| format!("hopthu_session={s}"))
}

/// The session's CSRF token, read from a console page's forms.
pub(super) fn csrf_of(page: &str) -> String {
    let at = page
        .find(r#"name="csrf" value=""#)
        .expect("a form with a token")
        + 19;
    page[at..at + 64].to_string()
}

#[test]
fn forged_forms_change_nothing() {
    let (server, focal, officer, _, _) = province();
    let session = sign_in(&server, &focal, FOCAL_PW).expect("focal signs in");

    // A new-hire request without the token: refused, nothing filed.
    let forged = "kind=new_hire&unit=CB25-002&full_name=Gi%E1%BA%A3+M%E1%BA%A1o&reason=x";
    let (head, _) = post(&server, "/admin/changes", &session, forged);
    assert_eq!(status(&head), 403, "{head}");
    let (head, page) = get(&server, "/admin/changes", &session);
    assert_eq!(status(&head), 200, "{head}");
    assert!(!page.contains("Giả Mạo"), "nothing was filed");
    // With a wrong token: the same.
    let (head, _) = post(
        &server,
        "/admin/changes",
        &session,
        &format!("csrf={}&{forged}", "0".repeat(64)),
    );
    assert_eq!(status(&head), 403, "{head}");

    // A password reset without the token: refused, the password still works.
    let (head, _) = post(
        &server,
        "/admin/reset",
        &session,
        &format!("address={}", form_value(&officer)),
    );
    assert_eq!(status(&head), 403, "{head}");
    assert!(
        sign_in(&server, &officer, OFFICER_PW).is_some(),
        "the officer's password was not reset"
    );

    // The same form with the session's token goes through: the refusal above was the token.
    let csrf = csrf_of(&page);
    let (head, _) = post(
        &server,
        "/admin/changes",
        &session,
        &format!("csrf={csrf}&{forged}"),
    );
    assert_eq!(status(&head), 303, "{head}");
    let (_, page) = get(&server, "/admin/changes", &session);
    assert!(page.contains("Giả Mạo"), "filed with the token");
    let (head, _) = post(
        &server,
        "/admin/reset",
        &session,
        &format!("csrf={csrf}&address={}", form_value(&officer)),
    );
    // The officer's mailbox is not in the directory (a CLI account): core says so.
    assert_eq!(status(&head), 404, "{head}");

    // An import confirmation without the token, or with a forged upload id: refused.
    let (head, _) = post(
        &server,
        "/admin/import/confirm",
        &session,
        &format!("upload={}&digest=x", "a".repeat(64)),
    );
    assert_eq!(status(&head), 403, "{head}");
    let (head, _) = post(
        &server,
        "/admin/import/confirm",
        &session,
        &format!("csrf={csrf}&upload=..%2F..%2Fetc&digest=x"),
    );
    assert_eq!(status(&head), 400, "{head}");
}

/// The text of the element with `id="{id}"`.
fn span(page: &str, id: &str) -> String {
    let at = page
        .find(&format!(r#"id="{id}""#))
        .unwrap_or_else(|| panic!("no #{id}"));
    let start = page[at..].find('>').unwrap() + at + 1;
    let end = page[start..].find('<').unwrap() + start;
    page[start..end].to_string()
}

#[test]
fn an_officer_is_confined_to_their_subtree() {
    let (server, focal, officer, _, sheet) = province();
    let focal_session = sign_in(&server, &focal, FOCAL_PW).expect("focal signs in");
    let (head, page) = get(&server, "/admin/units/CB25-003", &focal_session);
    assert_eq!(status(&head), 200, "{head}");
    let other_unit = span(&page, "unit-address");
    let other_pw = password_of(&sheet, &other_unit);

    let session = sign_in(&server, &officer, OFFICER_PW).expect("officer signs in");
    let (head, page) = get(&server, "/admin/units/CB25-002", &session);
    assert_eq!(status(&head), 200, "{head}");
    let csrf = csrf_of(&page);

    // Their own unit's mailbox and the unit's head (its owner, Đ12): only the focal unit
    // resets those; a plain member of the unit the officer may.
    let own_unit = server
        .sql("SELECT address FROM units WHERE code = 'CB25-002'")
        .trim()
        .to_string();
    let members = unit_people(&server, "CB25-002", 2);
    make_head(&server, "CB25-002", &members[0]);
    for target in [own_unit.as_str(), members[0].as_str()] {
        let (head, page) = post(
            &server,
            "/admin/reset",
            &session,
            &format!("csrf={csrf}&address={}", form_value(target)),
        );
        assert_eq!(status(&head), 403, "{target}: {head}");
        assert!(page.contains("đơn vị đầu mối"), "{target}: {page}");
        assert!(!page.contains(r#"id="otp""#), "{target}");
    }
    let (head, page) = post(
        &server,
        "/admin/reset",
        &session,
        &format!("csrf={csrf}&address={}", form_value(&members[1])),
    );
    assert_eq!(status(&head), 200, "{head}");
    assert!(page.contains(r#"id="otp""#));

    // Another unit's page by URL: refused, nothing of it shown.
    let (head, page) = get(&server, "/admin/units/CB25-003", &session);
    assert_eq!(status(&head), 403, "{head}");
    assert!(!page.contains("Sở Tư pháp") && !page.contains(&other_unit));
    // Its unit mailbox's password: not reset, the one-time password still signs in.
    let (head, page) = post(
        &server,
        "/admin/reset",
        &session,
        &format!("csrf={csrf}&address={}", form_value(&other_unit)),
    );
    assert_eq!(status(&head), 403, "{head}");
    assert!(!page.contains(r#"id="otp""#));
    let other_session = sign_in(&server, &other_unit, &other_pw).expect("still signs in");
    let (head, _) = get(&server, "/password", &other_session);
    assert_eq!(status(&head), 200, "{head}");
    // A request for another unit: refused, nothing filed.
    let hire = |unit: &str, name: &str| {
        format!(
            "csrf={csrf}&kind=new_hire&unit={unit}&full_name={}&reason=x",
            form_value(name)
        )
    };
    let (head, _) = post(
        &server,
        "/admin/changes",
        &session,
        &hire("CB25-003", "Người Ngoài Phạm Vi"),
    );
    assert_eq!(status(&head), 403, "{head}");
    // In their own unit: filed, and only the focal unit may approve it.
    let (head, _) = post(
        &server,
        "/admin/changes",
        &session,
        &hire("CB25-002", "Hà Văn Trong"),
    );
    assert_eq!(status(&head), 303, "{head}");
    let location = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("location: ")
                .or_else(|| l.strip_prefix("Location: "))
        })
        .expect("a redirect");
    let id = location.rsplit('=').next().unwrap().trim().to_string();
    let (_, page) = get(&server, "/admin/changes", &session);
    assert!(page.contains("Hà Văn Trong"));
    assert!(
        !page.contains(&format!("approve-{id}")),
        "no approval for an officer"
    );
    let (head, _) = post(
        &server,
        &format!("/admin/changes/{id}/approve"),
        &session,
        &format!("csrf={csrf}&note="),
    );
    assert_eq!(status(&head), 403, "{head}");
    let (_, page) = get(&server, "/admin/changes", &focal_session);
    assert!(!page.contains("Người Ngoài Phạm Vi"));
    assert!(
        page.contains(&format!("approve-{id}")),
        "waiting for the focal unit"
    );
    // The import is the focal unit's.
    let (head, _) = get(&server, "/admin/import", &session);
    assert_eq!(status(&head), 403, "{head}");

    // The focal unit resets that unit mailbox: a fresh one-time password, shown on a page that
    // is never cached; the old one stops working.
    let (_, page) = get(&server, "/admin", &focal_session);
    let focal_csrf = csrf_of(&page);
    let (head, page) = post(
        &server,
        "/admin/reset",
        &focal_session,
        &format!("csrf={focal_csrf}&address={}", form_value(&other_unit)),
    );
    assert_eq!(status(&head), 200, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("cache-control: no-store"),
        "{head}"
    );
    let fresh = span(&page, "otp");
    assert_eq!(fresh.len(), 14);
    assert!(sign_in(&server, &other_unit, &other_pw).is_none());
    let (head, _) = get(&server, "/password", &other_session);
    assert_eq!(status(&head), 303, "the old session is ended: {head}");
    assert!(sign_in(&server, &other_unit, &fresh).is_some());
}

/// The value of the hidden input `name`.
fn input_value(page: &str, name: &str) -> String {
    let key = format!(r#"name="{name}" value=""#);
    let at = page.find(&key).unwrap_or_else(|| panic!("no input {name}")) + key.len();
    let end = page[at..].find('"').unwrap() + at;
    page[at..end].to_string()
}

#[test]
fn an_import_applies_only_the_plan_shown() {
    let (server, focal, _, _, _) = province();
    let session = sign_in(&server, &focal, FOCAL_PW).expect("focal signs in");
    let (_, page) = get(&server, "/admin/import", &session);
    let csrf = csrf_of(&page);
    let units = "kind,code,name,parent\r\ncommune,CB25-950,Xã Kiểm Tra,CB25-002\r\n";
    let boundary = "hopthu-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"units\"; filename=\"don-vi.csv\"\r\nContent-Type: text/csv\r\n\r\n{units}\r\n\
         --{boundary}--\r\n"
    );
    let (head, page) = http(
        &server,
        &format!(
            "POST /admin/import HTTP/1.1\r\nHost: localhost\r\nCookie: {session}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert_eq!(status(&head), 200, "{head}\n{page}");
    assert!(page.contains(r#"id="plan""#) && page.contains("Xã Kiểm Tra"));
    let upload = input_value(&page, "upload");
    let digest = input_value(&page, "digest");
    let confirm = |digest: &str| {
        post(
            &server,
            "/admin/import/confirm",
            &session,
            &format!("csrf={csrf}&upload={upload}&digest={digest}"),
        )
    };
    // The preview wrote nothing; a confirmation of another plan writes nothing either.
    let (_, tree) = get(&server, "/admin", &session);
    assert!(!tree.contains("Xã Kiểm Tra"));
    let (head, _) = confirm(&"0".repeat(64));
    assert_eq!(status(&head), 409, "{head}");
    let (_, tree) = get(&server, "/admin", &session);
    assert!(!tree.contains("Xã Kiểm Tra"));

    // The directory changes in between (the same unit imported from the CLI): the plan shown
    // is no longer what would happen, so nothing is applied.
    let file = server.dir.join("don-vi.csv");
    std::fs::write(&file, units).unwrap();
    let out = server.cli(
        &["directory", "import", "--units", file.to_str().unwrap()],
        "",
    );
    assert!(out.status.success(), "{}", text(&out));
    let (head, page) = confirm(&digest);
    assert_eq!(status(&head), 409, "{head}");
    assert!(
        page.contains("xem lại"),
        "the operator is told to review again"
    );
    let (_, tree) = get(&server, "/admin", &session);
    assert_eq!(
        tree.matches("Xã Kiểm Tra").count(),
        1,
        "created once, by the CLI"
    );
}

/// The audit log page (focal unit only): words without diacritics find the grants, the chain
/// is reported intact, the CSV export holds the same rows, and a unit IT officer is refused.
/// R4: the console's import preview shows a look-alike letter as a warning on its row, with
/// its code point, and the plan can be confirmed.
#[test]
fn the_import_preview_shows_a_lookalike_warning() {
    let (server, focal, _, _, _) = province();
    let session = sign_in(&server, &focal, FOCAL_PW).expect("focal signs in");
    let (_, page) = get(&server, "/admin/import", &session);
    let csrf = csrf_of(&page);
    let units = "kind,code,name,parent\r\ncommune,CB25-951,X\u{e3} H\u{01b0}ng \u{00D0}\u{1ea1}o,CB25-002\r\n";
    let boundary = "hopthu-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"units\"; filename=\"don-vi.csv\"\r\nContent-Type: text/csv\r\n\r\n{units}\r\n\
         --{boundary}--\r\n"
    );
    let (head, page) = http(
        &server,
        &format!(
            "POST /admin/import HTTP/1.1\r\nHost: localhost\r\nCookie: {session}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert_eq!(status(&head), 200, "{head}\n{page}");
    assert!(page.contains(r#"id="plan""#), "{page}");
    assert!(page.contains("U+00D0 \u{00D0}"), "{page}");
    let (upload, digest) = (input_value(&page, "upload"), input_value(&page, "digest"));
    let (head, _) = post(
        &server,
        "/admin/import/confirm",
        &session,
        &format!("csrf={csrf}&upload={upload}&digest={digest}"),
    );
    assert!(status(&head) < 400, "{head}");
    let address = server.sql("SELECT address FROM units WHERE code = 'CB25-951'");
    assert!(address.trim().starts_with("hungdao"), "{address}");
}

#[test]
fn the_audit_log_is_searched_and_exported_by_the_focal_unit_only() {
    let (server, focal, officer, _, _) = province();
    let session = sign_in(&server, &focal, FOCAL_PW).expect("focal signs in");
    let (head, page) = get(&server, "/admin/audit?q=ADMIN.GRANT+cntt", &session);
    assert_eq!(status(&head), 200, "{head}");
    assert!(page.contains("Chuỗi băm của nhật ký nguyên vẹn"), "{page}");
    assert!(
        page.contains(&format!("account:{officer}")) || page.contains(&officer),
        "{page}"
    );
    assert!(page.contains("1 mục khớp"), "{page}");
    let (head, csv) = get(&server, "/admin/audit?q=admin.grant&format=csv", &session);
    assert_eq!(status(&head), 200, "{head}");
    assert!(
        head.to_ascii_lowercase().contains("content-type: text/csv"),
        "{head}"
    );
    assert!(
        csv.starts_with("\u{FEFF}id,time,actor,action,target,before,after,hash\r\n"),
        "{csv}"
    );
    assert_eq!(csv.matches("admin.grant").count(), 2, "{csv}");
    // A date range before anything happened matches nothing.
    let (_, page) = get(
        &server,
        "/admin/audit?from=2020-01-01&to=2020-12-31",
        &session,
    );
    assert!(page.contains("0 mục khớp"), "{page}");
    let officer_session = sign_in(&server, &officer, OFFICER_PW).expect("officer signs in");
    let (head, _) = get(&server, "/admin/audit", &officer_session);
    assert_eq!(status(&head), 403, "{head}");
}

/// The activity report (Đ17) per unit: a message to a unit mailbox counts as received in the
/// current period, imported people count as new, a period before everything counts nothing,
/// and a unit IT officer sees only their own units.
#[test]
fn the_activity_report_counts_per_unit_within_the_scope() {
    let (server, focal, officer, _, _) = province();
    let session = sign_in(&server, &focal, FOCAL_PW).expect("focal signs in");
    let row = |csv: &str, code: &str| -> Vec<u64> {
        let line = csv
            .lines()
            .find(|l| l.starts_with(code))
            .unwrap_or_else(|| panic!("no {code} in {csv}"));
        line.split(',')
            .skip(2)
            .take(6)
            .map(|v| v.parse().unwrap())
            .collect()
    };
    let (head, before) = get(&server, "/admin/report?format=csv", &session);
    assert_eq!(status(&head), 200, "{head}");
    assert!(
        before.starts_with(
            "\u{FEFF}unit_code,unit_name,active,new,revoked,received,sent,signed_in,compliance_percent,documents\r\n"
        )
    );
    let before = row(&before, "CB25-002");
    assert!(
        before[1] >= 1,
        "imported people are new this half-year: {before:?}"
    );

    let mut smtp = server.connect("smtp");
    assert!(smtp.line().starts_with("220 "));
    smtp.send(b"EHLO client.example.org\r\n");
    smtp.until("250 ");
    smtp.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<sonoivu@caobang.gov.vn>\r\nDATA\r\n");
    assert!(smtp.line().starts_with("250 "));
    let rcpt = smtp.line();
    assert!(rcpt.starts_with("250 "), "{rcpt}");
    assert!(smtp.line().starts_with("354 "));
    smtp.send(b"Subject: Cong van\r\n\r\nNoi dung\r\n.\r\n");
    assert!(smtp.line().starts_with("250 "));

    let (_, after) = get(&server, "/admin/report?format=csv", &session);
    let after = row(&after, "CB25-002");
    assert_eq!(after[3], before[3] + 1, "received: {before:?} → {after:?}");
    let (_, old) = get(
        &server,
        "/admin/report?from=2020-01-01&to=2020-06-30&format=csv",
        &session,
    );
    // Nobody had a mailbox yet then: active at that period's end is 0 (the ledger of mailboxes).
    assert_eq!(row(&old, "CB25-002"), vec![0, 0, 0, 0, 0, 0]);
    // The people existed before the week below (their creation written back to January).
    server.sql("UPDATE mailbox_events SET at = 1767200400 WHERE kind = 'created'");

    // Đ13.1: of the unit's people, one opened the mailbox twice on each working day of a past
    // week (and on the Saturday, which does not count): 5 of people × 5 person-days.
    // Written straight into the ledger of openings: one person of CB25-002 opens the mailbox
    // twice a day from Monday 2 March 2026 (day 20514 in Vietnam) to Saturday 7 March. A
    // sign-in alone (SMTP, an idle client) counts nothing.
    let monday = 20_514_i64;
    for day in 0..6 {
        server.sql(&format!(
            "INSERT INTO mailbox_opens (account_id, day, opens, unit_id)
             SELECT p.account_id, {}, 2, p.unit_id FROM people p
               JOIN units u ON u.id = p.unit_id
              WHERE u.code = 'CB25-002' AND p.account_id IS NOT NULL
              ORDER BY p.id LIMIT 1",
            monday + day
        ));
    }
    let (_, week) = get(
        &server,
        "/admin/report?from=2026-03-02&to=2026-03-08&format=csv",
        &session,
    );
    let line = week.lines().find(|l| l.starts_with("CB25-002")).unwrap();
    let active = after[0];
    assert!(
        line.ends_with(&format!(",{},0", 5 * 100 / (active * 5))),
        "5 compliant person-days of {active} people × 5 working days, no document: {line}"
    );

    // The charts are server-rendered SVG: the week's Đ13.1 bar of Sở Nội vụ carries its figure.
    let (_, week_page) = get(
        &server,
        "/admin/report?from=2026-03-02&to=2026-03-08",
        &session,
    );
    assert!(
        week_page.contains(r#"<svg id="chart-open""#)
            && week_page.contains(r#"<svg id="chart-mail""#),
        "{week_page}"
    );
    assert!(
        week_page.contains(&format!(r#"data-value="{}""#, 5 * 100 / (active * 5))),
        "the bar of Sở Nội vụ"
    );
    let (head, page) = get(&server, "/admin/report", &session);
    assert_eq!(status(&head), 200, "{head}");
    assert!(
        page.contains("Tổng cộng") && page.contains("Sở Tư pháp"),
        "{page}"
    );
    let officer_session = sign_in(&server, &officer, OFFICER_PW).expect("officer signs in");
    let (_, page) = get(&server, "/admin/report", &officer_session);
    assert!(
        page.contains("Sở Nội vụ") && !page.contains("Sở Tư pháp"),
        "{page}"
    );
}

/// The `data-…` attribute values of the rows of table `id`, in the page's order.
fn row_values(page: &str, table: &str, attribute: &str) -> Vec<String> {
    let Some(at) = page.find(&format!(r#"id="{table}""#)) else {
        return Vec::new();
    };
    let rest = &page[at..];
    let rest = &rest[..rest.find("</table>").unwrap_or(rest.len())];
    rest.split(&format!(r#"{attribute}=""#))
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

fn delegations(server: &TestServer) -> String {
    server.sql(
        "SELECT (SELECT COUNT(*) FROM unit_delegates) || ' ' || (SELECT COUNT(*) FROM audit_log)",
    )
}

#[test]
fn the_console_grants_and_revokes_unit_mailbox_rights_and_shows_its_log() {
    let (server, focal, officer, user, _) = province();
    let unit = format!("sonoivu@{}", super::harness::DOMAIN);
    // The unit's mailbox holds a message, appended as the unit before any grant.
    let out = server.cli(
        &["account", "password", &unit, "--no-force-change"],
        "Mat-khau-don-vi-1\n",
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = server.python(
        "unit_mailbox_imap.py",
        &["--fill", &unit, "Mat-khau-don-vi-1"],
    );
    assert_eq!(out.trim(), "filled");
    // The unit's head, as the directory sets it.
    let head = unit_people(&server, "CB25-002", 1).remove(0);
    make_head(&server, "CB25-002", &head);
    // An IT officer of another unit (Sở Tư pháp).
    let stranger = server.add_account("cntt.sotuphap", "Cán bộ CNTT Sở Tư pháp", OFFICER_PW);
    let out = server.cli(&["admin", "grant", &stranger, "--unit", "CB25-003"], "");
    assert!(out.status.success(), "{}", text(&out));

    let session = sign_in(&server, &officer, OFFICER_PW).expect("officer signs in");
    let (head_line, page) = get(&server, "/admin/units/CB25-002", &session);
    assert_eq!(status(&head_line), 200, "{head_line}");
    assert_eq!(span(&page, "owner"), head);
    assert!(row_values(&page, "delegates", "data-delegate").is_empty());
    let csrf = csrf_of(&page);
    let grant =
        |csrf: &str, rights: &str| format!("csrf={csrf}&person={}{rights}", form_value(&user));

    // Refused, nothing changed: no token, no right chosen, an officer of another unit.
    let before = delegations(&server);
    let (h, _) = post(
        &server,
        "/admin/units/CB25-002/delegates",
        &session,
        &grant("", "&read=1"),
    );
    assert_eq!(status(&h), 403, "{h}");
    let (h, page) = post(
        &server,
        "/admin/units/CB25-002/delegates",
        &session,
        &grant(&csrf, ""),
    );
    assert_eq!(status(&h), 400, "{h}");
    assert!(page.contains("ít nhất một quyền"), "{page}");
    let other = sign_in(&server, &stranger, OFFICER_PW).expect("the other officer signs in");
    let (_, page) = get(&server, "/admin/units/CB25-003", &other);
    let other_csrf = csrf_of(&page);
    let (h, _) = post(
        &server,
        "/admin/units/CB25-002/delegates",
        &other,
        &grant(&other_csrf, "&read=1&send_as=1"),
    );
    assert_eq!(status(&h), 403, "{h}");
    let (h, page) = get(&server, "/admin/units/CB25-002", &other);
    assert_eq!(status(&h), 403, "{h}");
    assert!(!page.contains(&head), "{page}");
    assert_eq!(delegations(&server), before);

    // The officer of the unit grants read and send-as.
    let (h, _) = post(
        &server,
        "/admin/units/CB25-002/delegates",
        &session,
        &grant(&csrf, "&read=1&send_as=1"),
    );
    assert_eq!(status(&h), 303, "{h}");
    let (_, page) = get(&server, "/admin/units/CB25-002?granted=x", &session);
    assert_eq!(
        row_values(&page, "delegates", "data-delegate"),
        [user.as_str()]
    );
    assert_eq!(
        row_values(&page, "delegates", "data-rights"),
        ["read,send-as"]
    );
    assert_eq!(
        row_values(&page, "unit-audit", "data-action"),
        ["unit_mailbox.grant"]
    );
    // The other officer cannot take it back either.
    let (h, _) = post(
        &server,
        "/admin/units/CB25-002/delegates/revoke",
        &other,
        &format!("csrf={other_csrf}&person={}", form_value(&user)),
    );
    assert_eq!(status(&h), 403, "{h}");
    assert_eq!(
        server.sql("SELECT COUNT(*) FROM unit_delegates").trim(),
        "1"
    );

    // The delegate reads the unit's message in the webmail: the console shows it, newest first.
    let reader = sign_in(&server, &user, USER_PW).expect("the delegate signs in");
    let (h, _) = get(
        &server,
        &format!("/mail?unit={}", form_value(&unit)),
        &reader,
    );
    assert_eq!(status(&h), 303, "{h}");
    let inbox = h
        .lines()
        .find_map(|l| l.strip_prefix("location: "))
        .expect("the unit's INBOX")
        .trim()
        .to_string();
    let (h, _) = get(&server, &format!("{inbox}/1"), &reader);
    assert_eq!(status(&h), 200, "{h}");
    let (_, page) = get(&server, "/admin/units/CB25-002", &session);
    assert_eq!(
        row_values(&page, "unit-audit", "data-action"),
        ["unit_mailbox.read", "unit_mailbox.grant"]
    );
    let log = &page[page.find(r#"id="unit-audit""#).unwrap()..];
    assert!(log.contains(&user) && log.contains("Đọc thư"), "{log}");

    // The focal unit sees the same, and the officer revokes.
    let focal_session = sign_in(&server, &focal, FOCAL_PW).expect("focal signs in");
    let (_, page) = get(&server, "/admin/units/CB25-002", &focal_session);
    assert_eq!(
        row_values(&page, "delegates", "data-delegate"),
        [user.as_str()]
    );
    let (h, _) = post(
        &server,
        "/admin/units/CB25-002/delegates/revoke",
        &session,
        &format!("csrf={csrf}&person={}", form_value(&user)),
    );
    assert_eq!(status(&h), 303, "{h}");
    let (_, page) = get(&server, "/admin/units/CB25-002", &session);
    assert!(row_values(&page, "delegates", "data-delegate").is_empty());
    assert_eq!(
        row_values(&page, "unit-audit", "data-action"),
        [
            "unit_mailbox.revoke",
            "unit_mailbox.read",
            "unit_mailbox.grant"
        ]
    );
    // The delegate's way in is gone.
    let (h, _) = get(&server, &inbox, &reader);
    assert_eq!(status(&h), 404, "{h}");
    // Revoking again: nothing to revoke, said plainly.
    let (h, _) = post(
        &server,
        "/admin/units/CB25-002/delegates/revoke",
        &session,
        &format!("csrf={csrf}&person={}", form_value(&user)),
    );
    assert_eq!(status(&h), 404, "{h}");
}
