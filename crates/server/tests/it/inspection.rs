//! Inspection (Đ16) through the real binary: an inspector granted with `hopthu admin grant
//! ADDRESS --inspector` reads the audit log, the report, the directory and every unit's
//! lifecycle history over the JSON API and the console, and is refused every change, which
//! then leaves no trace.

use serde_json::json;

use super::admin::{csrf_of, form_value, get, post, sign_in, status};
use super::harness::{DOMAIN, TestServer};
use super::lifecycle::{api, import_province, unit_people};

const FOCAL_PW: &str = "Focal-Password-1";
const INSPECTOR_PW: &str = "Inspector-Password-1";

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn an_inspector_reads_everything_and_changes_nothing() {
    let server = TestServer::start();
    import_province(&server);
    let focal = server.add_account("qtv.skhcn", "Quản trị Sở KH&CN", FOCAL_PW);
    ok(server.cli(&["admin", "grant", &focal, "--focal"], ""));
    let inspector = server.add_account("thanhtra.tinh", "Thanh tra tỉnh", INSPECTOR_PW);
    let granted = ok(server.cli(&["admin", "grant", &inspector, "--inspector"], ""));
    assert!(granted.contains("inspector"), "{granted}");
    // --inspector with --unit is refused by the command line.
    let both = server.cli(
        &[
            "admin",
            "grant",
            &inspector,
            "--inspector",
            "--unit",
            "CB25-002",
        ],
        "",
    );
    assert!(!both.status.success());

    // Something to read: a request of a unit the inspector has nothing to do with.
    let person = unit_people(&server, "CB25-010", 1).remove(0);
    let (status_code, filed) = api(
        &server,
        (&focal, FOCAL_PW),
        "POST",
        "/api/changes",
        Some(json!({"kind": "retirement", "person": person})),
    );
    assert_eq!(status_code, 201, "{filed}");
    let id = filed["id"].as_i64().unwrap();

    let me = (inspector.as_str(), INSPECTOR_PW);
    for path in [
        "/api/me".to_string(),
        "/api/units".to_string(),
        "/api/people".to_string(),
        "/api/changes".to_string(),
        format!("/api/changes/{id}"),
        "/api/notices".to_string(),
        "/api/audit".to_string(),
        "/api/admins".to_string(),
    ] {
        let (code, body) = api(&server, me, "GET", &path, None);
        assert_eq!(code, 200, "{path}: {body}");
    }
    let (_, me_body) = api(&server, me, "GET", "/api/me", None);
    assert_eq!(me_body["scope"], "inspector", "{me_body}");

    // Every change is refused, and none leaves a row in the audit log.
    let audit_rows = || {
        server
            .sql("SELECT COUNT(*) FROM audit_log")
            .trim()
            .to_string()
    };
    let before = audit_rows();
    for (method, path, body) in [
        (
            "POST",
            "/api/changes".to_string(),
            Some(json!({"kind": "new_hire", "unit": "CB25-002", "full_name": "Hoàng Thị Lan"})),
        ),
        (
            "POST",
            "/api/changes".to_string(),
            Some(json!({"kind": "unit_rename", "unit": "CB25-002", "name": "Sở Nội vụ mới"})),
        ),
        (
            "POST",
            format!("/api/changes/{id}/approve"),
            Some(json!({})),
        ),
        ("POST", format!("/api/changes/{id}/reject"), Some(json!({}))),
        (
            "POST",
            "/api/admins".to_string(),
            Some(json!({"address": inspector, "focal": true})),
        ),
        ("DELETE", format!("/api/admins/{focal}"), None),
        ("POST", "/api/sweep".to_string(), Some(json!({}))),
    ] {
        let (code, body) = api(&server, me, method, &path, body);
        assert_eq!(code, 403, "{method} {path}: {body}");
    }
    assert_eq!(audit_rows(), before);
    let (_, change) = api(&server, me, "GET", &format!("/api/changes/{id}"), None);
    assert_eq!(change["state"], "filed");

    // The console: the report, the audit log and a unit's page open; a password reset is
    // refused; the CLI still sees the inspector among the administrators.
    let session = sign_in(&server, &inspector, INSPECTOR_PW).expect("the inspector signs in");
    for path in [
        "/admin",
        "/admin/report",
        "/admin/audit",
        "/admin/units/CB25-010",
    ] {
        let (head, page) = get(&server, path, &session);
        assert_eq!(status(&head), 200, "{path}: {head}");
        if path == "/admin" {
            assert!(page.contains("chỉ xem"), "the scope is shown");
        }
    }
    let (_, page) = get(&server, "/admin/changes", &session);
    let csrf = csrf_of(&page);
    let target = format!("datnv@{DOMAIN}");
    let (head, _) = post(
        &server,
        "/admin/reset",
        &session,
        &format!("csrf={csrf}&address={}", form_value(&target)),
    );
    assert_eq!(status(&head), 403, "{head}");
    assert_eq!(audit_rows(), before);
    let list = ok(server.cli(&["admin", "list"], ""));
    assert!(
        list.contains(&inspector) && list.contains("inspector"),
        "{list}"
    );
}

/// The chain's hash of one row, as the store computes it (`hopthu_store::audit_hash`).
fn row_hash(prev: &str, fields: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in std::iter::once(prev).chain(fields.iter().copied()) {
        h.update(part.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

#[test]
fn a_checkpoint_is_mailed_and_a_rewritten_log_shows_against_it() {
    let server = TestServer::start();
    import_province(&server);
    let inspector = server.add_account("thanhtra.tinh", "Thanh tra tỉnh", INSPECTOR_PW);
    ok(server.cli(&["admin", "grant", &inspector, "--inspector"], ""));
    let person = unit_people(&server, "CB25-010", 1).remove(0);
    ok(server.cli(
        &[
            "lifecycle",
            "file",
            "retirement",
            "--person",
            &person,
            "--approve",
        ],
        "",
    ));

    // Today's checkpoint: the chain's head, mailed to the inspector; once a day only (the
    // server's own sweep may have taken it already, a minute after it started).
    ok(server.cli(&["lifecycle", "checkpoint"], ""));
    let again = ok(server.cli(&["lifecycle", "checkpoint"], ""));
    assert!(again.contains("today has a checkpoint already"), "{again}");
    let checkpoint = server.sql("SELECT row_id, hash FROM audit_checkpoints");
    let (row_id, hash) = checkpoint.trim().split_once('|').unwrap();
    let row_id: i64 = row_id.parse().unwrap();
    assert_eq!(
        server
            .sql(&format!("SELECT hash FROM audit_log WHERE id = {row_id}"))
            .trim(),
        hash
    );
    let inbox = server.python(
        "lifecycle_mail.py",
        &["inbox", &inspector, INSPECTOR_PW, "1"],
    );
    let inbox: serde_json::Value = serde_json::from_str(&inbox).unwrap();
    let mail = inbox
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["subject"]
                .as_str()
                .unwrap_or_default()
                .contains("checkpoint")
        })
        .unwrap_or_else(|| panic!("no checkpoint mail: {inbox}"));
    assert!(mail["text"].as_str().unwrap().contains(hash), "{mail}");
    let verified = ok(server.cli(&["lifecycle", "audit", "--verify"], ""));
    assert!(verified.contains("1 checkpoints"), "{verified}");

    // Someone with the database rewrites the log: the checkpointed row says something else,
    // and every hash from there on is computed again, so the chain alone looks intact.
    if super::backend::on_postgres() {
        server.sql("ALTER TABLE audit_log DISABLE TRIGGER USER");
    } else {
        server.sql("DROP TRIGGER audit_log_no_update");
    }
    let mut prev = server
        .sql(&format!(
            "SELECT prev_hash FROM audit_log WHERE id = {row_id}"
        ))
        .trim()
        .to_string();
    let rows = server.sql(&format!(
        "SELECT id, at, actor, action, target, COALESCE(before, ''), COALESCE(after, '') \
           FROM audit_log WHERE id >= {row_id} ORDER BY id"
    ));
    let forged = r#"{"state":"active"}"#;
    for line in rows.lines() {
        let f: Vec<&str> = line.split('|').collect();
        assert_eq!(f.len(), 7, "{line}");
        let after = if f[0] == row_id.to_string() {
            forged
        } else {
            f[6]
        };
        let hash = row_hash(&prev, &[f[1], f[2], f[3], f[4], f[5], after]);
        server.sql(&format!(
            "UPDATE audit_log SET after = '{}', prev_hash = '{prev}', hash = '{hash}' \
              WHERE id = {}",
            after.replace('\'', "''"),
            f[0]
        ));
        prev = hash;
    }
    let rewritten = server.cli(&["lifecycle", "audit", "--verify"], "");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&rewritten.stdout),
        String::from_utf8_lossy(&rewritten.stderr)
    );
    assert!(!rewritten.status.success(), "{said}");
    assert!(
        said.contains("does not match 1 checkpoint") && !said.contains("hash chain broken"),
        "the chain alone looks intact, the checkpoint does not: {said}"
    );
}

#[test]
fn an_incident_goes_from_the_webmail_to_resolution_and_into_the_report() {
    let server = TestServer::start();
    import_province(&server);
    let reporter = unit_people(&server, "CB25-010", 1).remove(0);
    let password = "Mat-khau-su-co-1";
    ok(server.cli(
        &["account", "password", &reporter, "--no-force-change"],
        &format!("{password}\n"),
    ));

    // The user reports from the webmail (the form's double-submit token is required).
    let (session, csrf) = super::web::sign_in(&server, &reporter, password);
    let (head, page) = super::web::get(&server, "/incidents", &session);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(page.contains("incident-form"), "{page}");
    let form = "summary=Nh%E1%BA%ADn+th%C6%B0+l%E1%BA%A1+%C4%91%C3%B2i+m%E1%BA%ADt+kh%E1%BA%A9u\
                &details=Th%C6%B0+gi%E1%BA%A3+danh+qu%E1%BA%A3n+tr%E1%BB%8B&happened=2026-06-01T08%3A30\
                &message=%3Cabc%40example.org%3E&category=phishing&severity=high";
    let (head, _) = super::web::post(&server, "/incidents", &session, form);
    assert!(head.starts_with("HTTP/1.1 403"), "no token: {head}");
    let (head, _) = super::web::post(
        &server,
        "/incidents",
        &session,
        &format!("csrf={csrf}&{form}"),
    );
    assert!(head.starts_with("HTTP/1.1 303"), "{head}");
    let list = ok(server.cli(&["incident", "list", "--format", "json"], ""));
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let incident = &list[0];
    assert_eq!(incident["summary"], "Nhận thư lạ đòi mật khẩu");
    assert_eq!(incident["category"], "phishing");
    assert_eq!(incident["unit_code"], "CB25-010");
    assert_eq!(incident["status"], "new");
    assert_eq!(incident["message_ref"], "<abc@example.org>");
    // High severity: a day to resolve it.
    assert_eq!(
        incident["deadline_at"].as_i64().unwrap() - incident["created_at"].as_i64().unwrap(),
        24 * 3600
    );
    let id = incident["id"].as_i64().unwrap().to_string();

    // The console: assign, wait for the reporter, resolve; a resolution needs a note.
    let officer = format!("cntt.soyte@{DOMAIN}");
    ok(server.cli(&["incident", "assign", &id, &officer], ""));
    ok(server.cli(
        &[
            "incident",
            "status",
            &id,
            "waiting",
            "--note",
            "Xin gửi kèm thư gốc",
        ],
        "",
    ));
    assert!(
        !server
            .cli(&["incident", "resolve", &id, "--note", " "], "")
            .status
            .success()
    );
    ok(server.cli(
        &[
            "incident",
            "resolve",
            &id,
            "--note",
            "Đã chặn địa chỉ gửi, đổi mật khẩu",
        ],
        "",
    ));
    let again = server.cli(&["incident", "resolve", &id, "--note", "lần nữa"], "");
    assert!(
        !again.status.success(),
        "a resolved incident stays resolved"
    );
    let shown: serde_json::Value =
        serde_json::from_str(&ok(server.cli(&["incident", "show", &id], ""))).unwrap();
    assert_eq!(shown["status"], "resolved");
    assert_eq!(shown["assignee"], officer.as_str());

    // The reporter was told at each step, and sees the status in the webmail.
    let inbox = server.python("lifecycle_mail.py", &["inbox", &reporter, password, "4"]);
    let inbox: serde_json::Value = serde_json::from_str(&inbox).unwrap();
    let told: Vec<&str> = inbox
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["subject"].as_str())
        .filter(|s| s.contains(&format!("Incident {id}")))
        .collect();
    assert_eq!(told.len(), 4, "filed, assigned, waiting, resolved: {inbox}");
    let (_, page) = super::web::get(&server, "/incidents", &session);
    assert!(page.contains("đã xử lý"), "{page}");
    // Audited, and counted in the report of the period.
    assert_eq!(
        server
            .sql(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE target = 'incident:{id}'"
            ))
            .trim(),
        "4"
    );
    let today = chrono::Utc::now() + chrono::Duration::hours(7);
    let day = today.format("%Y-%m-%d").to_string();
    let report: serde_json::Value = serde_json::from_str(&ok(
        server.cli(&["report", "--from", &day, "--to", &day], "")
    ))
    .unwrap();
    let soyte = report["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == "CB25-010")
        .unwrap()
        .clone();
    assert_eq!(soyte["incidents"], 1, "{soyte}");
    assert_eq!(soyte["incidents_resolved"], 1, "{soyte}");
    assert!(soyte["incident_hours"].as_f64().unwrap() < 1.0, "{soyte}");
}

#[test]
fn a_unit_officer_files_and_handles_incidents_from_the_console() {
    let server = TestServer::start();
    import_province(&server);
    let officer = server.add_account("cntt.soyte", "Cán bộ CNTT Sở Y tế", FOCAL_PW);
    ok(server.cli(&["admin", "grant", &officer, "--unit", "CB25-010"], ""));
    let inspector = server.add_account("thanhtra.tinh", "Thanh tra tỉnh", INSPECTOR_PW);
    ok(server.cli(&["admin", "grant", &inspector, "--inspector"], ""));
    let ours = unit_people(&server, "CB25-010", 1).remove(0);
    let theirs = unit_people(&server, "CB25-002", 1).remove(0);

    let session = sign_in(&server, &officer, FOCAL_PW).expect("the officer signs in");
    let (head, page) = get(&server, "/admin/incidents", &session);
    assert_eq!(status(&head), 200, "{head}");
    let csrf = csrf_of(&page);
    let file = |reporter: &str| {
        post(
            &server,
            "/admin/incidents",
            &session,
            &format!(
                "csrf={csrf}&reporter={}&summary=Kh%C3%B4ng+nh%E1%BA%ADn+%C4%91%C6%B0%E1%BB%A3c+th%C6%B0&category=mailbox&severity=normal",
                form_value(reporter)
            ),
        )
    };
    // A person of another unit is outside the officer's scope.
    assert_eq!(status(&file(&theirs).0), 403);
    assert_eq!(status(&file(&ours).0), 303);
    let (_, page) = get(&server, "/admin/incidents", &session);
    assert!(
        page.contains(r#"id="incident-1""#) && page.contains("Không nhận được thư"),
        "{page}"
    );

    let act = |session: &str, action: &str, value: &str| {
        post(
            &server,
            "/admin/incidents/1",
            session,
            &format!("csrf={csrf}&action={action}&value={}", form_value(value)),
        )
        .0
    };
    assert_eq!(status(&act(&session, "assign", &officer)), 303);
    // The inspector sees it and changes nothing.
    let watching = sign_in(&server, &inspector, INSPECTOR_PW).expect("the inspector signs in");
    let (_, seen) = get(&server, "/admin/incidents", &watching);
    assert!(seen.contains(r#"id="incident-1""#), "{seen}");
    let (_, page) = get(&server, "/admin/incidents", &watching);
    let inspector_csrf = csrf_of(&page);
    let (head, _) = post(
        &server,
        "/admin/incidents/1",
        &watching,
        &format!("csrf={inspector_csrf}&action=resolve&value=x"),
    );
    assert_eq!(status(&head), 403);
    assert_eq!(
        status(&act(&session, "resolve", "Đã cấp lại mật khẩu")),
        303
    );
    let (_, page) = get(&server, "/admin/incidents", &session);
    assert!(page.contains(r#"data-status="resolved""#), "{page}");
    let shown: serde_json::Value =
        serde_json::from_str(&ok(server.cli(&["incident", "show", "1"], ""))).unwrap();
    assert_eq!(shown["assignee"], officer.as_str());
    assert_eq!(shown["note"], "Đã cấp lại mật khẩu");
}
