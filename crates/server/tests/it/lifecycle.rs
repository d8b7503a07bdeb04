//! The mailbox lifecycle through the real binary: change requests over the JSON API (curl) with
//! the scope of each administrator, approval creating, revoking and re-issuing mailboxes
//! (checked with IMAP sign-in and SMTP RCPT), the notices read back from the unit mailbox over
//! IMAP and downloaded from the API, the audit log's hash chain, and the inactivity sweep with
//! `hopthu lifecycle sweep --as-of`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

use super::directory::{password_of, sheet_path};
use super::harness::{DOMAIN, TestServer};

const FOCAL_PW: &str = "Focal-Password-1";
const OFFICER_PW: &str = "Officer-Password-1";

fn demo(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("demo")
        .join(name)
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Imports the 2025 sample province; returns its credentials sheet.
pub(super) fn import_province(server: &TestServer) -> PathBuf {
    let units = demo("units-2025.csv");
    let people = demo("people-2025.csv");
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
    sheet_path(&out)
}

/// The addresses of the first `n` people of the unit `code` (in the order imported).
pub(super) fn unit_people(server: &TestServer, code: &str, n: usize) -> Vec<String> {
    server
        .sql(&format!(
            "SELECT p.address FROM people p JOIN units u ON u.id = p.unit_id \
              WHERE u.code = '{code}' ORDER BY p.id LIMIT {n}"
        ))
        .lines()
        .map(str::to_string)
        .collect()
}

/// Makes `address` the head of the unit `code`, as the directory would (no request filed).
pub(super) fn make_head(server: &TestServer, code: &str, address: &str) {
    server.sql(&format!(
        "UPDATE units SET head_person_id = (SELECT id FROM people WHERE address = '{address}') \
          WHERE code = '{code}'"
    ));
}

/// The focal operator (Sở KH&CN) and an IT officer of Sở Nội vụ (CB25-002), granted by the CLI.
fn grant_admins(server: &TestServer) -> (String, String) {
    let focal = server.add_account("qtv.skhcn", "Quản trị Sở KH&CN", FOCAL_PW);
    let officer = server.add_account("cntt.sonoivu", "Cán bộ CNTT Sở Nội vụ", OFFICER_PW);
    let out = server.cli(&["admin", "grant", &focal, "--focal"], "");
    assert!(out.status.success(), "{}", text(&out));
    let out = server.cli(&["admin", "grant", &officer, "--unit", "CB25-002"], "");
    assert!(out.status.success(), "{}", text(&out));
    (focal, officer)
}

/// One API call with curl: (status, JSON body or the raw text as a JSON string).
pub(super) fn api(
    server: &TestServer,
    user: (&str, &str),
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("http://127.0.0.1:{}{path}", server.port("http"));
    let mut cmd = Command::new("curl");
    cmd.args([
        "-sS",
        "--max-time",
        "20",
        "-X",
        method,
        "-w",
        "\n%{http_code}",
    ]);
    if !user.0.is_empty() {
        cmd.args(["-u", &format!("{}:{}", user.0, user.1)]);
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
    let value = serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_string()));
    (status.trim().parse().unwrap(), value)
}

/// Whether the password is accepted over IMAP: signed in, or — for a one-time password, which
/// mail clients refuse until it is changed (Đ13.4) — refused with the notice to change it.
fn login_works(server: &TestServer, address: &str, password: &str) -> bool {
    server
        .python_output("login_check.py", &[address, password, "--accepted"])
        .status
        .success()
}

/// The INBOX of `address` over IMAP. A one-time password is first made the mailbox's own
/// (`hopthu account password --no-force-change`), as its owner would do in the webmail.
fn inbox(server: &TestServer, address: &str, password: &str, min: usize) -> Vec<Value> {
    let out = server.cli(
        &["account", "password", address, "--no-force-change"],
        &format!("{password}\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = server.python(
        "lifecycle_mail.py",
        &["inbox", address, password, &min.to_string()],
    );
    serde_json::from_str::<Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn hire_revoke_reissue_with_notices_in_the_unit_mailbox() {
    let server = TestServer::start();
    let sheet = import_province(&server);
    let (focal, officer) = grant_admins(&server);
    let focal = (focal.as_str(), FOCAL_PW);
    let officer = (officer.as_str(), OFFICER_PW);
    let unit_mailbox = format!("sonoivu@{DOMAIN}");
    let unit_password = password_of(&sheet, &unit_mailbox);

    // Who is who.
    let (status, me) = api(&server, officer, "GET", "/api/me", None);
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["scope"], "unit");
    assert_eq!(me["unit_code"], "CB25-002");
    let (status, _) = api(&server, ("", ""), "GET", "/api/me", None);
    assert_eq!(status, 401);
    let (status, _) = api(
        &server,
        (officer.0, "wrong-password"),
        "GET",
        "/api/me",
        None,
    );
    assert_eq!(status, 401);
    // A mailbox that is not an administrator.
    let (status, body) = api(
        &server,
        (&unit_mailbox, &unit_password),
        "GET",
        "/api/me",
        None,
    );
    assert_eq!(status, 403, "{body}");

    // The officer sees only their unit's people.
    let (_, people) = api(&server, officer, "GET", "/api/people", None);
    let people = people["people"].as_array().unwrap().clone();
    assert!(!people.is_empty());
    assert!(people.iter().all(|p| p["unit"] == "CB25-002"), "{people:?}");
    let (_, all) = api(&server, focal, "GET", "/api/people", None);
    assert!(all["people"].as_array().unwrap().len() > people.len());

    // Bad requests get a reason and change nothing; another unit is out of scope.
    let (status, body) = api(
        &server,
        officer,
        "POST",
        "/api/changes",
        Some(json!({"kind": "promotion", "unit": "CB25-002", "full_name": "A"})),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("promotion"),
        "{body}"
    );
    let (status, body) = api(
        &server,
        officer,
        "POST",
        "/api/changes",
        Some(json!({"kind": "new_hire", "unit": "CB25-002"})),
    );
    assert_eq!(status, 400, "{body}");
    let (status, body) = api(
        &server,
        officer,
        "POST",
        "/api/changes",
        Some(json!({"kind": "new_hire", "unit": "CB25-010", "full_name": "Lò Văn Tú"})),
    );
    assert_eq!(status, 403, "{body}");
    let (status, body) = api(
        &server,
        officer,
        "POST",
        "/api/changes",
        Some(json!("not an object")),
    );
    assert_eq!(status, 400, "{body}");
    let (_, list) = api(&server, officer, "GET", "/api/changes", None);
    assert_eq!(list["changes"].as_array().unwrap().len(), 0, "{list}");

    // New hire: filed by the unit, approved by the focal unit.
    let (status, filed) = api(
        &server,
        officer,
        "POST",
        "/api/changes",
        Some(
            json!({"kind": "new_hire", "unit": "CB25-002", "full_name": "Hoàng Thị Lan",
                    "position": "Chuyên viên", "reason": "Quyết định 12/QĐ-SNV"}),
        ),
    );
    assert_eq!(status, 201, "{filed}");
    assert_eq!(filed["state"], "filed");
    let id = filed["id"].as_i64().unwrap();
    let (status, _) = api(
        &server,
        officer,
        "POST",
        &format!("/api/changes/{id}/approve"),
        Some(json!({})),
    );
    assert_eq!(status, 403, "a unit officer cannot approve");
    let (status, approved) = api(
        &server,
        focal,
        "POST",
        &format!("/api/changes/{id}/approve"),
        Some(json!({"note": "Đồng ý"})),
    );
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["change"]["state"], "approved");
    let address = approved["credential"]["address"]
        .as_str()
        .unwrap()
        .to_string();
    let password = approved["credential"]["password"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(address, format!("lanht@{DOMAIN}"));
    let grant_notice = &approved["notices"][0];
    assert!(
        grant_notice["reference"]
            .as_str()
            .unwrap()
            .ends_with("/TB-SKHCN"),
        "{approved}"
    );
    // Approving twice does nothing more.
    let (status, body) = api(
        &server,
        focal,
        "POST",
        &format!("/api/changes/{id}/approve"),
        Some(json!({})),
    );
    assert_eq!(status, 400, "{body}");
    assert!(login_works(&server, &address, &password));

    // Resignation, filed by the unit itself: revoked, no notice.
    let (status, filed) = api(
        &server,
        officer,
        "POST",
        "/api/changes",
        Some(json!({"kind": "resignation", "person": address, "reason": "Xin thôi việc"})),
    );
    assert_eq!(status, 201, "{filed}");
    let (status, body) = api(
        &server,
        officer,
        "POST",
        "/api/changes",
        Some(json!({"kind": "retirement", "person": address})),
    );
    assert_eq!(status, 409, "one waiting request per person: {body}");
    let rid = filed["id"].as_i64().unwrap();
    let (status, approved) = api(
        &server,
        focal,
        "POST",
        &format!("/api/changes/{rid}/approve"),
        Some(json!({})),
    );
    assert_eq!(status, 200, "{approved}");
    assert_eq!(
        approved["notices"].as_array().unwrap().len(),
        0,
        "{approved}"
    );
    assert!(
        !login_works(&server, &address, &password),
        "a revoked mailbox cannot sign in"
    );
    let rcpt = server.python("lifecycle_mail.py", &["rcpt", &address]);
    assert!(rcpt.starts_with("550 5.2.1"), "{rcpt}");
    assert!(rcpt.contains("thu hoi / mailbox revoked"), "{rcpt}");
    let rcpt = server.python("lifecycle_mail.py", &["rcpt", &format!("khongco@{DOMAIN}")]);
    assert!(rcpt.starts_with("550 5.1.1"), "{rcpt}");

    // Re-issue: back, with a fresh one-time password, and a notice.
    let (_, filed) = api(
        &server,
        officer,
        "POST",
        "/api/changes",
        Some(json!({"kind": "reissue", "person": address})),
    );
    let xid = filed["id"].as_i64().unwrap();
    let (status, approved) = api(
        &server,
        focal,
        "POST",
        &format!("/api/changes/{xid}/approve"),
        Some(json!({})),
    );
    assert_eq!(status, 200, "{approved}");
    let new_password = approved["credential"]["password"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_password, password);
    assert!(!login_works(&server, &address, &password));
    assert!(login_works(&server, &address, &new_password));
    let rcpt = server.python("lifecycle_mail.py", &["rcpt", &address]);
    assert!(rcpt.starts_with("250"), "{rcpt}");

    // A transfer to Sở Y tế (CB25-010): the person leaves the officer's scope.
    let moving = people
        .iter()
        .find(|p| p["address"] != address.as_str())
        .unwrap()["address"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, filed) = api(
        &server,
        officer,
        "POST",
        "/api/changes",
        Some(json!({"kind": "transfer", "person": moving, "unit": "CB25-010"})),
    );
    assert_eq!(status, 201, "{filed}");
    let tid = filed["id"].as_i64().unwrap();
    let (status, approved) = api(
        &server,
        focal,
        "POST",
        &format!("/api/changes/{tid}/approve"),
        Some(json!({})),
    );
    assert_eq!(status, 200, "{approved}");
    assert_eq!(
        approved["notices"].as_array().unwrap().len(),
        2,
        "to both units: {approved}"
    );
    let (_, mine) = api(&server, officer, "GET", "/api/people", None);
    assert!(!mine.to_string().contains(&moving), "{mine}");
    let (status, body) = api(
        &server,
        officer,
        "POST",
        "/api/changes",
        Some(json!({"kind": "retirement", "person": moving})),
    );
    assert_eq!(status, 403, "no longer the officer's: {body}");

    // The notices in the unit mailbox, from the focal unit, in the administrative style.
    let messages = inbox(&server, &unit_mailbox, &unit_password, 3);
    assert_eq!(messages.len(), 3, "{messages:?}");
    let transfer = messages.iter().find(|m| {
        m["subject"]
            .as_str()
            .unwrap()
            .contains("về việc điều chuyển hộp thư điện tử")
    });
    assert!(
        transfer.unwrap()["text"]
            .as_str()
            .unwrap()
            .contains(&moving),
        "{messages:?}"
    );
    let messages: Vec<&Value> = messages
        .iter()
        .filter(|m| !m["subject"].as_str().unwrap().contains("điều chuyển"))
        .collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    for m in &messages {
        assert!(
            m["from"]
                .as_str()
                .unwrap()
                .contains(&format!("sokhcn@{DOMAIN}")),
            "{m}"
        );
        assert!(
            m["subject"]
                .as_str()
                .unwrap()
                .contains("về việc cấp hộp thư điện tử"),
            "{m}"
        );
        let body = m["text"].as_str().unwrap();
        assert!(
            body.contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
            "{body}"
        );
        assert!(body.contains("Kính gửi: Sở Nội vụ"), "{body}");
        assert!(
            body.contains(&format!("Hoàng Thị Lan — {address}")),
            "{body}"
        );
    }
    assert!(
        messages[0]["text"]
            .as_str()
            .unwrap()
            .contains("Lý do: Tuyển dụng mới")
    );
    assert!(
        messages[1]["text"]
            .as_str()
            .unwrap()
            .contains("Lý do: Cấp lại hộp thư")
    );

    // Download: the unit's officer may, an officer of another unit may not.
    let nid = grant_notice["id"].as_i64().unwrap();
    let (status, html) = api(
        &server,
        officer,
        "GET",
        &format!("/api/notices/{nid}"),
        None,
    );
    assert_eq!(status, 200);
    let html = html.as_str().unwrap();
    assert!(
        html.contains("THÔNG BÁO") && html.contains("Về việc cấp hộp thư điện tử"),
        "{html}"
    );
    let other = server.add_account("cntt.soyte", "CNTT Sở Y tế", OFFICER_PW);
    let out = server.cli(&["admin", "grant", &other, "--unit", "CB25-010"], "");
    assert!(out.status.success(), "{}", text(&out));
    let (status, _) = api(
        &server,
        (&other, OFFICER_PW),
        "GET",
        &format!("/api/notices/{nid}"),
        None,
    );
    assert_eq!(status, 403);
    let (_, list) = api(&server, (&other, OFFICER_PW), "GET", "/api/changes", None);
    assert_eq!(list["changes"].as_array().unwrap().len(), 0, "{list}");
    let (status, _) = api(&server, focal, "GET", "/api/notices/999", None);
    assert_eq!(status, 404);
    let (status, body) = api(&server, focal, "GET", "/api/notices/abc", None);
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].is_string(), "{body}");

    // Administrators over the API: focal only.
    let (status, _) = api(&server, officer, "GET", "/api/admins", None);
    assert_eq!(status, 403);
    let (status, body) = api(
        &server,
        officer,
        "POST",
        "/api/admins",
        Some(json!({"address": officer.0, "focal": true})),
    );
    assert_eq!(status, 403, "no one widens their own scope: {body}");
    let (status, body) = api(
        &server,
        focal,
        "POST",
        "/api/admins",
        Some(json!({"address": other, "focal": true, "unit": "CB25-010"})),
    );
    assert_eq!(status, 400, "{body}");
    let (status, body) = api(
        &server,
        focal,
        "DELETE",
        &format!("/api/admins/{other}"),
        None,
    );
    assert_eq!(status, 204, "{body}");
    let (status, _) = api(&server, (&other, OFFICER_PW), "GET", "/api/me", None);
    assert_eq!(status, 403, "no longer an administrator");
    let (_, admins) = api(&server, focal, "GET", "/api/admins", None);
    assert_eq!(admins["admins"].as_array().unwrap().len(), 2, "{admins}");
    let (status, report) = api(
        &server,
        focal,
        "POST",
        "/api/sweep",
        Some(json!({"dry_run": true})),
    );
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report["revoked"].as_array().unwrap().len(),
        0,
        "nobody is inactive today"
    );
    let (status, _) = api(
        &server,
        officer,
        "POST",
        "/api/sweep",
        Some(json!({"dry_run": true})),
    );
    assert_eq!(status, 403);

    // The audit log: focal only, every step, an intact chain (also checked by the CLI).
    let (status, _) = api(&server, officer, "GET", "/api/audit", None);
    assert_eq!(status, 403);
    let (status, audit) = api(&server, focal, "GET", "/api/audit", None);
    assert_eq!(status, 200);
    assert_eq!(audit["chain_ok"], true, "{audit}");
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "admin.grant",
        "change.file.new_hire",
        "change.approve.new_hire",
        "change.approve.resignation",
        "change.approve.reissue",
        "notice.issue",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    let approve = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "change.approve.resignation")
        .unwrap();
    assert_eq!(approve["actor"], focal.0);
    assert_eq!(approve["before"]["state"], "active");
    assert_eq!(approve["after"]["state"], "revoked");
    let out = server.cli(&["lifecycle", "audit", "--verify"], "");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("hash chain intact"));
}

/// Unix seconds now plus `days`, as RFC 3339.
fn days_from_now(days: i64) -> String {
    let t = chrono::Utc::now() + chrono::Duration::days(days);
    t.to_rfc3339()
}

pub(super) fn sweep(server: &TestServer, days: i64, dry_run: bool) -> Value {
    let as_of = days_from_now(days);
    let mut args = vec!["lifecycle", "sweep", "--as-of", &as_of, "--format", "json"];
    if dry_run {
        args.push("--dry-run");
    }
    let out = server.cli(&args, "");
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

pub(super) fn addresses(report: &Value, key: &str) -> Vec<String> {
    report[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["address"].as_str().unwrap().to_string())
        .collect()
}

/// (address, password) of the people of a unit in a credentials sheet.
pub(super) fn people_of(sheet: &Path, unit: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(sheet).unwrap();
    let text = text.trim_start_matches('\u{FEFF}');
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (u, k, a, p) = (
        col("unit_code"),
        col("kind"),
        col("address"),
        col("password"),
    );
    reader
        .records()
        .map(Result::unwrap)
        .filter(|r| &r[u] == unit && &r[k] == "person")
        .map(|r| (r[a].to_string(), r[p].to_string()))
        .collect()
}

#[test]
fn the_inactivity_sweep_warns_then_revokes() {
    let server = TestServer::start();
    let sheet = import_province(&server);
    let staff = people_of(&sheet, "CB25-002");
    assert!(staff.len() >= 2, "{staff:?}");
    let (person, password) = staff[0].clone();
    let unit_mailbox = format!("sonoivu@{DOMAIN}");
    let unit_password = password_of(&sheet, &unit_mailbox);

    // Nothing is due a month in.
    let report = sweep(&server, 30, false);
    assert!(addresses(&report, "warned").is_empty() && addresses(&report, "revoked").is_empty());

    // 160 days in: the 30-day warning, once.
    let dry = sweep(&server, 160, true);
    assert!(addresses(&dry, "warned").contains(&person), "{dry}");
    let report = sweep(&server, 160, false);
    assert!(addresses(&report, "warned").contains(&person), "{report}");
    let item = report["warned"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["address"] == person.as_str())
        .unwrap();
    let days_left = item["days_left"].as_i64().unwrap();
    assert!((8..=30).contains(&days_left), "{item}");
    let again = sweep(&server, 161, false);
    assert!(!addresses(&again, "warned").contains(&person), "{again}");
    // 178 days in: the 7-day warning.
    let report = sweep(&server, 178, false);
    assert!(addresses(&report, "warned").contains(&person), "{report}");

    // 183 days in: a dry run changes nothing, then the sweep revokes.
    let dry = sweep(&server, 183, true);
    assert!(addresses(&dry, "revoked").contains(&person), "{dry}");
    assert!(
        !addresses(&dry, "revoked").contains(&unit_mailbox),
        "unit mailboxes are not swept"
    );
    // A dry run revokes nothing: the person still signs in and finds both warnings.
    let own = inbox(&server, &person, &password, 2);
    assert_eq!(own.len(), 2, "{own:?}");
    assert!(
        own.iter()
            .all(|m| m["text"].as_str().unwrap().contains(&person)),
        "{own:?}"
    );
    let report = sweep(&server, 183, false);
    let revoked = addresses(&report, "revoked");
    let (other, other_password) = staff[1].clone();
    assert!(
        revoked.contains(&person) && revoked.contains(&other),
        "{report}"
    );
    assert!(!login_works(&server, &person, &password));
    assert!(!login_works(&server, &other, &other_password));
    // Nothing left to do the next day.
    let next = sweep(&server, 184, false);
    assert!(addresses(&next, "revoked").is_empty(), "{next}");
    let rcpt = server.python("lifecycle_mail.py", &["rcpt", &other]);
    assert!(rcpt.starts_with("550 5.2.1"), "{rcpt}");

    // The unit got both warnings for each of its people and one revocation notice.
    let messages = inbox(&server, &unit_mailbox, &unit_password, 1);
    let warnings: Vec<&Value> = messages
        .iter()
        .filter(|m| m["subject"].as_str().unwrap().contains("Cảnh báo thu hồi"))
        .collect();
    assert_eq!(warnings.len(), 2, "one list per sweep: {warnings:?}");
    for w in &warnings {
        let body = w["text"].as_str().unwrap();
        assert!(body.contains(&person) && body.contains(&other), "{body}");
    }
    let subjects: Vec<&str> = messages
        .iter()
        .map(|m| m["subject"].as_str().unwrap())
        .collect();
    assert!(
        subjects.iter().any(|s| s.contains("Cảnh báo thu hồi")),
        "{subjects:?}"
    );
    let notice = messages
        .iter()
        .find(|m| {
            m["subject"]
                .as_str()
                .unwrap()
                .contains("về việc thu hồi hộp thư điện tử")
        })
        .unwrap_or_else(|| panic!("no revocation notice in {subjects:?}"));
    let body = notice["text"].as_str().unwrap();
    assert!(body.contains(&other) && body.contains(&person), "{body}");
    assert!(
        !body.contains(&format!("hoant@{DOMAIN}")),
        "another unit's people: {body}"
    );
    assert!(body.contains("Không sử dụng quá 182 ngày"), "{body}");

    // After the retention (365 days) the data goes; the address stays reserved for the person,
    // and a re-issue gives them a new, empty mailbox at it.
    let report = sweep(&server, 183 + 366, false);
    let purged = addresses(&report, "purged");
    assert!(
        purged.contains(&person) && purged.contains(&other),
        "{report}"
    );
    let rcpt = server.python("lifecycle_mail.py", &["rcpt", &other]);
    assert!(rcpt.starts_with("550 5.1.1"), "{rcpt}");
    let out = server.cli(
        &[
            "lifecycle",
            "file",
            "reissue",
            "--person",
            &other,
            "--approve",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out));
    let printed = text(&out);
    let new_password = printed
        .split("one-time password: ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no password printed: {printed}"));
    assert!(login_works(&server, &other, new_password));
    assert!(inbox(&server, &other, new_password, 0).is_empty());
}

#[test]
fn an_initial_password_expires_hours_after_its_first_use() {
    let server = TestServer::start();
    let sheet = import_province(&server);
    let (person, password) = people_of(&sheet, "CB25-010")[0].clone();
    assert!(login_works(&server, &person, &password));
    // Its first use was seven hours ago (the default limit is six).
    let seven_hours_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 7 * 3600;
    server.sql(&format!(
        "UPDATE accounts SET activated_at = {seven_hours_ago} WHERE address = '{person}'"
    ));
    assert!(!login_works(&server, &person, &password));
    // Said as such (RFC 5530 EXPIRED), not as a revoked mailbox or a wrong password, and kept
    // in the sign-in history.
    let out = server.python_output("login_check.py", &[&person, &password, "--accepted"]);
    assert!(text(&out).contains("[EXPIRED]"), "{}", text(&out));
    let out = server.cli(&["account", "sign-ins", &person], "");
    assert!(text(&out).contains(" expired"), "{}", text(&out));
    // Another person's password, first used now, still works.
    let (other, other_password) = people_of(&sheet, "CB25-002")[0].clone();
    assert!(login_works(&server, &other, &other_password));
}

#[test]
fn bulk_requests_from_a_file_are_checked_whole_then_applied() {
    let server = TestServer::start();
    let sheet = import_province(&server);
    let (leaving, password) = people_of(&sheet, "CB25-002")[0].clone();

    // A bad row refuses the whole file with its line; nothing is filed.
    let bad = server.dir.join("bad.csv");
    std::fs::write(
        &bad,
        format!("kind,person,unit,full_name,reason\nretirement,{leaving},,,\npromotion,,,,\n"),
    )
    .unwrap();
    let out = server.cli(
        &["lifecycle", "bulk", bad.to_str().unwrap(), "--approve"],
        "",
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("bad.csv:3"), "{}", text(&out));
    let out = server.cli(&["lifecycle", "list", "--format", "json"], "");
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        json!([]),
        "{}",
        text(&out)
    );
    assert!(login_works(&server, &leaving, &password));

    let good = server.dir.join("good.csv");
    std::fs::write(
        &good,
        format!(
            "\u{FEFF}kind,person,unit,full_name,position,reason\r\n\
             new_hire,,CB25-010,Lò Thị Mai,Bác sĩ,Tuyển dụng 2026\r\n\
             retirement,{leaving},,,,Đủ tuổi nghỉ hưu\r\n"
        ),
    )
    .unwrap();
    let out = server.cli(
        &["lifecycle", "bulk", good.to_str().unwrap(), "--approve"],
        "",
    );
    assert!(out.status.success(), "{}", text(&out));
    let printed = text(&out);
    assert!(printed.contains(&format!("mailt@{DOMAIN}")), "{printed}");
    assert!(!login_works(&server, &leaving, &password));
    let out = server.cli(&["lifecycle", "list", "--format", "json"], "");
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let states: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["approved", "approved"], "{list}");
    // The console is the focal unit: its revocation gets a notice too.
    let out = server.cli(&["lifecycle", "notice", "2"], "");
    assert!(out.status.success(), "{}", text(&out));
    let notice = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        notice.contains("Về việc thu hồi hộp thư điện tử"),
        "{notice}"
    );
    assert!(
        notice.contains(&leaving) && notice.contains("Nghỉ hưu"),
        "{notice}"
    );
}

/// The sweep empties Trash and Junk of what was put there more than `trash_days`/`junk_days`
/// ago, counted from when it was put there (a message dated 2020 moved to Trash today stays a
/// month), and touches nothing else; a dry run deletes nothing.
#[test]
fn the_sweep_empties_old_trash_and_junk_only() {
    let server = TestServer::start_with("[lifecycle]\ntrash_days = 30\njunk_days = 10\n");
    let address = server.add_account("datnv", "Nông Văn Đạt", "mat-khau-thung-rac");
    let pass = "mat-khau-thung-rac";
    server.python("trash_mail.py", &["put", &address, pass]);
    let count = || server.python("trash_mail.py", &["count", &address, pass]);
    assert_eq!(count(), "INBOX 1 Trash 2 Junk 1\nOK\n");
    assert_eq!(sweep(&server, 1, false)["emptied"], 0);
    assert_eq!(sweep(&server, 400, true)["emptied"], 0);
    assert_eq!(count(), "INBOX 1 Trash 2 Junk 1\nOK\n");
    assert_eq!(sweep(&server, 11, false)["emptied"], 1);
    assert_eq!(count(), "INBOX 1 Trash 2 Junk 0\nOK\n");
    assert_eq!(sweep(&server, 31, false)["emptied"], 2);
    assert_eq!(count(), "INBOX 1 Trash 0 Junk 0\nOK\n");
}

/// A rejected request changes nothing, and the unit mailbox and the officer who filed it are
/// told why.
#[test]
fn a_rejection_is_explained_to_the_unit_and_the_filer() {
    let server = TestServer::start();
    let sheet = import_province(&server);
    let (focal, officer) = grant_admins(&server);
    let unit_mailbox = format!("sonoivu@{DOMAIN}");
    let unit_password = password_of(&sheet, &unit_mailbox);
    let (status, filed) = api(
        &server,
        (officer.as_str(), OFFICER_PW),
        "POST",
        "/api/changes",
        Some(json!({"kind": "new_hire", "unit": "CB25-002", "full_name": "Hoàng Thị Lan"})),
    );
    assert_eq!(status, 201, "{filed}");
    let id = filed["id"].as_i64().unwrap();
    let (status, rejected) = api(
        &server,
        (focal.as_str(), FOCAL_PW),
        "POST",
        &format!("/api/changes/{id}/reject"),
        Some(json!({"note": "Chưa có quyết định tuyển dụng"})),
    );
    assert_eq!(status, 200, "{rejected}");
    for (address, password) in [
        (unit_mailbox.as_str(), unit_password.as_str()),
        (officer.as_str(), OFFICER_PW),
    ] {
        let messages = inbox(&server, address, password, 1);
        let told = messages
            .iter()
            .find(|m| {
                m["subject"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("Đề nghị số {id} không được chấp thuận"))
            })
            .unwrap_or_else(|| panic!("{address}: {messages:?}"));
        let text = told["text"].as_str().unwrap();
        assert!(
            text.contains("Chưa có quyết định tuyển dụng") && text.contains("Hoàng Thị Lan"),
            "{text}"
        );
    }
}

/// A head change through `/api/changes` (Đ12.3): filed by the unit's IT officer, approved by
/// the focal unit only; the new head owns the unit mailbox and a handover notice is issued.
#[test]
fn a_head_change_goes_through_the_api() {
    let server = TestServer::start();
    import_province(&server);
    let (focal, officer) = grant_admins(&server);
    let focal = (focal.as_str(), FOCAL_PW);
    let officer = (officer.as_str(), OFFICER_PW);
    let head = unit_people(&server, "CB25-002", 1).remove(0);
    // Without a unit, or for a unit outside the officer's subtree: refused, nothing filed.
    let (status, body) = api(
        &server,
        officer,
        "POST",
        "/api/changes",
        Some(json!({"kind": "head_change", "person": head})),
    );
    assert_eq!(status, 400, "{body}");
    let (status, body) = api(
        &server,
        officer,
        "POST",
        "/api/changes",
        Some(json!({"kind": "head_change", "unit": "CB25-003", "person": head})),
    );
    assert_eq!(status, 403, "{body}");
    let (status, filed) = api(
        &server,
        officer,
        "POST",
        "/api/changes",
        Some(
            json!({"kind": "head_change", "unit": "CB25-002", "person": head,
                    "reason": "Quyết định bổ nhiệm"}),
        ),
    );
    assert_eq!(status, 201, "{filed}");
    assert_eq!(filed["kind"], "head_change");
    let id = filed["id"].as_i64().unwrap();
    let (status, _) = api(
        &server,
        officer,
        "POST",
        &format!("/api/changes/{id}/approve"),
        Some(json!({})),
    );
    assert_eq!(status, 403, "a unit officer cannot approve");
    let (status, approved) = api(
        &server,
        focal,
        "POST",
        &format!("/api/changes/{id}/approve"),
        Some(json!({})),
    );
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["change"]["state"], "approved");
    assert!(
        approved["notices"][0]["subject"]
            .as_str()
            .unwrap_or_default()
            .contains("bàn giao"),
        "{approved}"
    );
    let owner = server.sql(
        "SELECT p.address FROM units u JOIN people p ON p.id = u.head_person_id \
          WHERE u.code = 'CB25-002'",
    );
    assert_eq!(owner.trim(), head);

    // The next head confirms one of two delegates through the API: the other's rights end.
    let unit = format!("sonoivu@{DOMAIN}");
    let hoa = server.add_account("hoalt", "Lục Thị Hoa", "Mat-khau-Hoa-1");
    let lan = server.add_account("lannt", "Nông Thị Lan", "Mat-khau-Lan-1");
    for d in [&hoa, &lan] {
        let out = server.cli(&["unit-mailbox", "grant", &unit, d, "--rights", "read"], "");
        assert!(out.status.success(), "{}", text(&out));
    }
    let next = unit_people(&server, "CB25-002", 2).remove(1);
    let (status, body) = api(
        &server,
        officer,
        "POST",
        "/api/changes",
        Some(
            json!({"kind": "head_change", "unit": "CB25-002", "person": next,
                    "keep_delegates": ["nobody@example.org"]}),
        ),
    );
    assert_eq!(status, 400, "not a delegate: {body}");
    let (status, filed) = api(
        &server,
        officer,
        "POST",
        "/api/changes",
        Some(
            json!({"kind": "head_change", "unit": "CB25-002", "person": next,
                    "keep_delegates": [hoa]}),
        ),
    );
    assert_eq!(status, 201, "{filed}");
    assert_eq!(filed["keep_delegates"], json!([hoa]));
    let id = filed["id"].as_i64().unwrap();
    let (status, _) = api(
        &server,
        focal,
        "POST",
        &format!("/api/changes/{id}/approve"),
        Some(json!({})),
    );
    assert_eq!(status, 200);
    let delegates = server.sql(
        "SELECT a.address FROM unit_delegates d JOIN accounts a ON a.id = d.delegate_account_id",
    );
    assert_eq!(delegates.trim(), hoa);
}

/// The address of the person named `full_name` in the unit `code`.
fn address_of(server: &TestServer, code: &str, full_name: &str) -> String {
    server
        .sql(&format!(
            "SELECT p.address FROM people p JOIN units u ON u.id = p.unit_id \
              WHERE u.code = '{code}' AND p.full_name = '{full_name}'"
        ))
        .trim()
        .to_string()
}

/// The published directory's entry for `address` (`/directory.json`), if listed.
fn published(server: &TestServer, address: &str) -> Option<Value> {
    let (status, directory) = api(server, ("", ""), "GET", "/directory.json", None);
    assert_eq!(status, 200, "{directory}");
    directory["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["address"] == address)
        .cloned()
}

/// Issue 16 item 1: a person's details change by an `update` request. A corrected name keeps
/// the address (Đ7.3) and the published directory shows the new details at once; only the
/// focal unit may ask for a new address, which then receives mail while the old one, now an
/// alias, still delivers into the same mailbox.
#[test]
fn an_update_keeps_the_address_unless_the_focal_unit_gives_a_new_one() {
    let server = TestServer::start();
    let sheet = import_province(&server);
    let (focal, officer) = grant_admins(&server);
    let focal = (focal.as_str(), FOCAL_PW);
    let officer = (officer.as_str(), OFFICER_PW);

    // A spelling fix from the CLI (the focal unit): the address stays.
    let yen = address_of(&server, "CB25-002", "Vũ Minh Yến");
    assert!(!yen.is_empty());
    assert_eq!(published(&server, &yen), None, "not public yet");
    let out = server.cli(
        &[
            "lifecycle",
            "file",
            "update",
            "--person",
            &yen,
            "--full-name",
            "Vũ Minh Yên",
            "--position",
            "Chuyên viên chính",
            "--phone",
            "0206 3852 222",
            "--public",
            "yes",
            "--reason",
            "Sai chính tả",
            "--approve",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(address_of(&server, "CB25-002", "Vũ Minh Yên"), yen);
    let entry = published(&server, &yen).expect("listed");
    assert_eq!(entry["name"], "Vũ Minh Yên", "{entry}");
    assert_eq!(entry["position"], "Chuyên viên chính", "{entry}");
    let (_, people) = api(&server, focal, "GET", "/api/people", None);
    let person = people["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["address"] == yen.as_str())
        .unwrap()
        .clone();
    assert_eq!(person["phone"], "0206 3852 222", "{person}");
    assert_eq!(
        server
            .sql(&format!(
                "SELECT display_name FROM accounts WHERE address = '{yen}'"
            ))
            .trim(),
        "Vũ Minh Yên"
    );
    let notice = server.cli(&["lifecycle", "notice", "1"], "");
    let notice = String::from_utf8_lossy(&notice.stdout).into_owned();
    assert!(
        notice.contains("Về việc cập nhật thông tin hộp thư điện tử")
            && notice.contains("Vũ Minh Yến → Vũ Minh Yên")
            && notice.contains("giữ nguyên địa chỉ"),
        "{notice}"
    );
    // The same again changes nothing: refused.
    let out = server.cli(
        &[
            "lifecycle",
            "file",
            "update",
            "--person",
            &yen,
            "--full-name",
            "Vũ Minh Yên",
        ],
        "",
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("nothing to change"), "{}", text(&out));

    // Through the API: a unit officer may correct a name, but not ask for a new address.
    let dieu = address_of(&server, "CB25-002", "Triệu Thị Dịu");
    let (status, body) = api(
        &server,
        officer,
        "POST",
        "/api/changes",
        Some(
            json!({"kind": "update", "person": dieu, "full_name": "Triệu Thị Diệu",
                    "new_address": true}),
        ),
    );
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("focal unit"),
        "{body}"
    );
    let (_, list) = api(&server, officer, "GET", "/api/changes", None);
    assert!(
        list["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["person"] != dieu.as_str()),
        "nothing filed: {list}"
    );
    let (status, filed) = api(
        &server,
        officer,
        "POST",
        "/api/changes",
        Some(
            json!({"kind": "update", "person": dieu, "full_name": "Triệu Thị Diệu",
                    "public": false}),
        ),
    );
    assert_eq!(status, 201, "{filed}");
    assert_eq!(filed["kind"], "update");
    assert_eq!(filed["update"]["full_name"], "Triệu Thị Diệu", "{filed}");
    assert_eq!(filed["update"]["new_address"], false, "{filed}");
    let id = filed["id"].as_i64().unwrap();
    let (status, approved) = api(
        &server,
        focal,
        "POST",
        &format!("/api/changes/{id}/approve"),
        Some(json!({})),
    );
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["change"]["person"], dieu.as_str(), "{approved}");
    assert_eq!(address_of(&server, "CB25-002", "Triệu Thị Diệu"), dieu);

    // The focal unit gives the corrected name its own address: the old one becomes an alias.
    // An IMAP session signed in under the old address ends at its next command.
    let password = password_of(&sheet, &dieu);
    let out = server.cli(
        &["account", "password", &dieu, "--no-force-change"],
        &format!("{password}\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    let mut session = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/py/lifecycle_session.py"))
        .args([&dieu, &password])
        .envs(server.env())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let mut said = std::io::BufReader::new(session.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut said, &mut line).unwrap();
    assert_eq!(line.trim(), "signed-in");
    let out = server.cli(
        &[
            "lifecycle",
            "file",
            "update",
            "--person",
            &dieu,
            "--new-address",
            "--approve",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out));
    std::io::Write::write_all(session.stdin.as_mut().unwrap(), b"go\n").unwrap();
    line.clear();
    std::io::BufRead::read_line(&mut said, &mut line).unwrap();
    assert_eq!(line.trim(), "bye", "{}", server.log());
    assert!(session.wait().unwrap().success());
    let new = address_of(&server, "CB25-002", "Triệu Thị Diệu");
    assert_ne!(new, dieu);
    assert!(new.starts_with("dieutt"), "{new}");
    assert!(text(&out).contains("thông báo"), "{}", text(&out));
    assert_eq!(
        server
            .sql(&format!(
                "SELECT target FROM aliases WHERE address = '{dieu}'"
            ))
            .trim(),
        new
    );
    // Mail to either address lands in the one mailbox; sign-in is by the new address.
    server.python("lifecycle_mail.py", &["send", &new, "Gửi địa chỉ mới"]);
    server.python("lifecycle_mail.py", &["send", &dieu, "Gửi địa chỉ cũ"]);
    let messages = inbox(&server, &new, &password, 2);
    let subjects: Vec<&str> = messages
        .iter()
        .map(|m| m["subject"].as_str().unwrap())
        .collect();
    assert!(
        subjects.contains(&"Gửi địa chỉ mới") && subjects.contains(&"Gửi địa chỉ cũ"),
        "{subjects:?}"
    );
    assert!(!login_works(&server, &dieu, &password));
    let audit = server.cli(&["lifecycle", "audit", "--verify"], "");
    assert!(audit.status.success(), "{}", text(&audit));
    let audit = String::from_utf8_lossy(&audit.stdout).into_owned();
    let row = audit
        .lines()
        .rfind(|l| l.contains("\tchange.approve.update\t"))
        .unwrap_or_else(|| panic!("{audit}"));
    assert!(row.contains(&dieu) && row.contains(&new), "{row}");
    // The unit's notice names both addresses.
    let unit_mailbox = format!("sonoivu@{DOMAIN}");
    let unit_password = password_of(&sheet, &unit_mailbox);
    let notices = inbox(&server, &unit_mailbox, &unit_password, 3);
    assert!(
        notices.iter().any(|m| {
            let text = m["text"].as_str().unwrap();
            text.contains(&new) && text.contains(&dieu)
        }),
        "{notices:?}"
    );
}
