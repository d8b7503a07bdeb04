//! Unit mailboxes delegated with rights (Đ12) through the real binary: `hopthu unit-mailbox
//! grant|revoke|list` on the imported sample province, its refusals (nothing changed), the
//! audit rows, and the unit mailbox's own password over IMAP before and after the first grant.

use std::process::Output;

use serde_json::Value;

use super::harness::{DOMAIN, TestServer};
use super::lifecycle::import_province;

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs the CLI and expects success; its standard output.
fn ok(server: &TestServer, args: &[&str]) -> String {
    let out = server.cli(args, "");
    assert!(out.status.success(), "{args:?}: {}", text(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the CLI and expects a refusal; its standard error.
fn refused(server: &TestServer, args: &[&str]) -> String {
    let out = server.cli(args, "");
    assert!(!out.status.success(), "{args:?} succeeded: {}", text(&out));
    String::from_utf8(out.stderr).unwrap()
}

/// What a refusal must leave as it was: the delegations and the audit log.
fn state(server: &TestServer) -> String {
    server.sql(
        "SELECT (SELECT COUNT(*) FROM unit_delegates) || ' ' || \
                (SELECT COUNT(*) FROM audit_log) || ' ' || \
                COALESCE((SELECT MAX(granted_at) FROM unit_delegates), 0)",
    )
}

fn list_json(server: &TestServer, unit: &str) -> Vec<Value> {
    let out = ok(server, &["unit-mailbox", "list", unit, "--format", "json"]);
    serde_json::from_str::<Value>(&out)
        .unwrap_or_else(|e| panic!("{e}: {out}"))
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn delegates_are_granted_listed_revoked_and_audited() {
    let server = TestServer::start();
    import_province(&server);
    let unit = format!("sonoivu@{DOMAIN}");
    let hoa = server.add_account("hoalt", "Lục Thị Hoa", "Mat-khau-Hoa-1");
    let minh = server.add_account("quangvd", "Vi Đức Quang", "Mat-khau-Quang-1");

    assert_eq!(list_json(&server, &unit), Vec::<Value>::new());
    let out = ok(
        &server,
        &[
            "unit-mailbox",
            "grant",
            &unit,
            &hoa,
            "--rights",
            "send-as,READ",
        ],
    );
    assert!(out.contains("read,send-as"), "{out}");
    // `manage` is stored with `read`.
    ok(
        &server,
        &["unit-mailbox", "grant", &unit, &minh, "--rights", "manage"],
    );

    let rows = list_json(&server, &unit);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["unit"], unit.as_str());
    assert_eq!(rows[0]["delegate"], hoa.as_str());
    assert_eq!(rows[0]["rights"], "read,send-as");
    assert!(rows[0]["granted_by"].as_str().unwrap().starts_with("cli:"));
    assert!(rows[0]["granted_at"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(rows[1]["delegate"], minh.as_str());
    assert_eq!(rows[1]["rights"], "read,manage");

    // Text: one line per delegate with rights, who granted and when.
    let out = ok(&server, &["unit-mailbox", "list", &unit]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with(&format!("{hoa}\tread,send-as\tcli:")),
        "{out}"
    );
    assert!(lines[0].ends_with(" UTC"), "{out}");
    assert!(
        lines[1].starts_with(&format!("{minh}\tread,manage\tcli:")),
        "{out}"
    );

    // A second grant replaces the rights.
    ok(
        &server,
        &[
            "unit-mailbox",
            "grant",
            &unit,
            &hoa,
            "--rights",
            "read,manage,send-as,send-on-behalf",
        ],
    );
    let rows = list_json(&server, &unit);
    assert_eq!(rows[0]["rights"], "read,manage,send-as,send-on-behalf");

    // Refusals change nothing: bad rights, an address that is no unit's mailbox, a unit
    // mailbox as the delegate, an unknown person, a revocation of someone without rights.
    let before = state(&server);
    let err = refused(
        &server,
        &[
            "unit-mailbox",
            "grant",
            &unit,
            &minh,
            "--rights",
            "read,write",
        ],
    );
    assert!(err.contains("\"write\""), "{err}");
    let err = refused(
        &server,
        &["unit-mailbox", "grant", &unit, &minh, "--rights", ""],
    );
    assert!(err.contains("no rights"), "{err}");
    let err = refused(
        &server,
        &["unit-mailbox", "grant", &hoa, &minh, "--rights", "read"],
    );
    assert!(err.contains("không phải hộp thư của một đơn vị"), "{err}");
    assert!(err.contains("not the mailbox of a unit"), "{err}");
    let err = refused(&server, &["unit-mailbox", "list", &hoa]);
    assert!(err.contains("not the mailbox of a unit"), "{err}");
    let other_unit = format!("sotuphap@{DOMAIN}");
    let err = refused(
        &server,
        &[
            "unit-mailbox",
            "grant",
            &unit,
            &other_unit,
            "--rights",
            "read",
        ],
    );
    assert!(err.contains("not a personal mailbox"), "{err}");
    let err = refused(
        &server,
        &[
            "unit-mailbox",
            "grant",
            &unit,
            &format!("khongco@{DOMAIN}"),
            "--rights",
            "read",
        ],
    );
    assert!(err.contains("no such mailbox"), "{err}");
    let err = refused(&server, &["unit-mailbox", "revoke", &other_unit, &hoa]);
    assert!(err.contains("has no rights"), "{err}");
    assert_eq!(state(&server), before);
    assert_eq!(list_json(&server, &other_unit), Vec::<Value>::new());

    let out = ok(&server, &["unit-mailbox", "revoke", &unit, &minh]);
    assert!(out.contains(&minh), "{out}");
    let err = refused(&server, &["unit-mailbox", "revoke", &unit, &minh]);
    assert!(err.contains("has no rights"), "{err}");
    let rows = list_json(&server, &unit);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["delegate"], hoa.as_str());

    // Each grant and revocation is in the audit log: who, unit, person, rights; and the chain
    // still verifies.
    let log = server.sql(
        "SELECT action, actor, target, COALESCE(before, '-'), COALESCE(after, '-') \
           FROM audit_log WHERE action LIKE 'unit_mailbox.%' ORDER BY id",
    );
    let rows: Vec<Vec<&str>> = log.lines().map(|l| l.split('|').collect()).collect();
    assert_eq!(rows.len(), 4, "{log}");
    let target = format!("unit_mailbox:{unit}");
    for row in &rows {
        assert!(row[1].starts_with("cli:"), "{log}");
        assert_eq!(row[2], target, "{log}");
    }
    assert_eq!(rows[0][0], "unit_mailbox.grant");
    assert_eq!(rows[0][3], "-");
    let after: Value = serde_json::from_str(rows[0][4]).unwrap();
    assert_eq!(after["delegate"], hoa.as_str());
    assert_eq!(after["rights"], "read,send-as");
    let before: Value = serde_json::from_str(rows[2][3]).unwrap();
    assert_eq!(before["rights"], "read,send-as");
    let after: Value = serde_json::from_str(rows[2][4]).unwrap();
    assert_eq!(after["rights"], "read,manage,send-as,send-on-behalf");
    assert_eq!(rows[3][0], "unit_mailbox.revoke");
    let before: Value = serde_json::from_str(rows[3][3]).unwrap();
    assert_eq!(before["delegate"], minh.as_str());
    assert_eq!(rows[3][4], "-");
    ok(&server, &["lifecycle", "audit", "--verify"]);
}

#[test]
fn the_unit_mailbox_password_stops_at_the_first_grant() {
    let server = TestServer::start();
    import_province(&server);
    let unit = format!("sonoivu@{DOMAIN}");
    let unit_password = "Mat-khau-don-vi-1";
    // The unit's one-time password made its own, as the unit would in the webmail.
    let out = server.cli(
        &["account", "password", &unit, "--no-force-change"],
        &format!("{unit_password}\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    let hoa = server.add_account("hoalt", "Lục Thị Hoa", "Mat-khau-Hoa-1");

    // Before any grant it works as it always did, on every protocol.
    let out = server.python("unit_mailbox_login.py", &[&unit, unit_password, "--all"]);
    assert_eq!(out, "IMAP OK\nPOP3 OK\nSMTP OK\n");

    // A refused grant (bad rights) does not stop it.
    refused(
        &server,
        &["unit-mailbox", "grant", &unit, &hoa, "--rights", "owner"],
    );
    let out = server.python("unit_mailbox_login.py", &[&unit, unit_password]);
    assert_eq!(out.trim(), "OK");

    ok(
        &server,
        &["unit-mailbox", "grant", &unit, &hoa, "--rights", "read"],
    );
    let out = server.python("unit_mailbox_login.py", &[&unit, unit_password, "--all"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("IMAP NO "), "{out}");
    assert!(lines[0].contains("[AUTHORIZATIONFAILED]"), "{out}");
    assert!(lines[1].starts_with("POP3 NO -ERR [AUTH]"), "{out}");
    assert!(lines[2].starts_with("SMTP NO 535 5.7.8"), "{out}");
    for line in lines {
        assert!(line.contains("delegated"), "{out}");
        assert!(
            line.contains("hay dang nhap bang tai khoan cua chinh minh"),
            "{out}"
        );
    }
    // The right password is no guess: no failure counted against the source or the account
    // (the office's phones still set up with it must not lock the office out).
    assert_eq!(server.sql("SELECT COUNT(*) FROM rate_events").trim(), "0");
    // A wrong password is still just a wrong password.
    let out = server.python("unit_mailbox_login.py", &[&unit, "Sai-mat-khau-1"]);
    assert!(out.contains("[AUTHENTICATIONFAILED]"), "{out}");
    // The delegate signs in as themselves.
    let out = server.python("unit_mailbox_login.py", &[&hoa, "Mat-khau-Hoa-1"]);
    assert_eq!(out.trim(), "OK");
    // The refusal is in the sign-in history with its reason.
    let history = server.sql(&format!(
        "SELECT s.result FROM sign_ins s JOIN accounts a ON a.id = s.account_id \
          WHERE a.address = '{unit}' ORDER BY s.id"
    ));
    assert!(history.lines().any(|r| r == "delegated"), "{history}");
}

/// The unit's head owns its mailbox and its delegates reach it under their own accounts over
/// IMAP (RFC 2342 shared namespace, RFC 4314 ACL), each with their rights; the head grants
/// and revokes with SETACL/DELETEACL, audited as the console's grants are.
#[test]
fn delegates_and_the_owner_reach_the_unit_mailbox_over_imap() {
    let server = TestServer::start();
    import_province(&server);
    let unit = format!("sonoivu@{DOMAIN}");
    let unit_password = "Mat-khau-don-vi-1";
    let out = server.cli(
        &["account", "password", &unit, "--no-force-change"],
        &format!("{unit_password}\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = server.python("unit_mailbox_imap.py", &["--fill", &unit, unit_password]);
    assert_eq!(out.trim(), "filled");

    // The head: a person of the unit, made head as the directory would.
    let head = server
        .sql(
            "SELECT p.address FROM people p JOIN units u ON u.id = p.unit_id \
              WHERE u.code = 'CB25-002' ORDER BY p.id LIMIT 1",
        )
        .trim()
        .to_string();
    assert!(head.ends_with(DOMAIN), "{head}");
    server.sql(&format!(
        "UPDATE units SET head_person_id = (SELECT id FROM people WHERE address = '{head}') \
          WHERE code = 'CB25-002'"
    ));
    let head_password = "Mat-khau-Truong-1";
    let out = server.cli(
        &["account", "password", &head, "--no-force-change"],
        &format!("{head_password}\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    let hoa = server.add_account("hoalt", "Lục Thị Hoa", "Mat-khau-Hoa-1");
    let quang = server.add_account("quangvd", "Vi Đức Quang", "Mat-khau-Quang-1");
    let other = server.add_account("lanbt", "Bế Thị Lan", "Mat-khau-Lan-1");
    ok(
        &server,
        &[
            "unit-mailbox",
            "grant",
            &unit,
            &hoa,
            "--rights",
            "read,send-as",
        ],
    );
    ok(
        &server,
        &["unit-mailbox", "grant", &unit, &quang, "--rights", "manage"],
    );

    let out = server.python(
        "unit_mailbox_imap.py",
        &[
            &unit,
            &hoa,
            "Mat-khau-Hoa-1",
            &quang,
            "Mat-khau-Quang-1",
            &head,
            head_password,
            &other,
            "Mat-khau-Lan-1",
        ],
    );
    assert_eq!(out.trim(), "done");

    // What the head did over IMAP is what the console shows, and kept send-as.
    let rows = list_json(&server, &unit);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["delegate"], hoa.as_str(), "{rows:?}");
    assert_eq!(rows[0]["rights"], "read,manage,send-as", "{rows:?}");
    assert_eq!(rows[0]["granted_by"], head.as_str(), "{rows:?}");
    let audit = server.sql(&format!(
        "SELECT action FROM audit_log WHERE actor = '{head}' ORDER BY id"
    ));
    assert_eq!(
        audit.lines().collect::<Vec<_>>(),
        ["unit_mailbox.grant", "unit_mailbox.revoke"],
        "{audit}"
    );
    // Each person's actions on the unit mailbox, by the person (Đ12).
    let actions = server.sql(
        "SELECT actor || ' ' || action || ' ' || after FROM audit_log \
          WHERE action LIKE 'unit_mailbox.%' \
            AND action NOT IN ('unit_mailbox.grant', 'unit_mailbox.revoke') ORDER BY id",
    );
    let expected = [
        format!(r#"{hoa} unit_mailbox.read {{"mailbox":"INBOX","uids":"1"}}"#),
        format!(r#"{hoa} unit_mailbox.copy {{"mailbox":"INBOX","to":"INBOX","uids":"2"}}"#),
        format!(r#"{quang} unit_mailbox.delete {{"mailbox":"INBOX","uids":"3"}}"#),
        format!(r#"{quang} unit_mailbox.expunge {{"mailbox":"INBOX","uids":"3"}}"#),
        format!(
            r#"{quang} unit_mailbox.move {{"mailbox":"INBOX","to":"Shared/{unit}/Cong van den","uids":"2"}}"#
        ),
        format!(r#"{quang} unit_mailbox.append {{"mailbox":"Cong van den","uids":"1"}}"#),
    ];
    assert_eq!(actions.lines().collect::<Vec<_>>(), expected, "{actions}");
    ok(&server, &["lifecycle", "audit", "--verify"]);
    // Each message is where the delegates put it: 1 left in INBOX, 1 moved to the new folder,
    // 1 expunged; the reader's copy in their own INBOX.
    let counts = server.sql(&format!(
        "SELECT mb.name || ':' || COUNT(m.id) FROM mailboxes mb JOIN accounts a ON a.id = mb.account_id \
           LEFT JOIN messages m ON m.mailbox_id = mb.id \
          WHERE a.address IN ('{unit}', '{hoa}') AND mb.name IN ('INBOX', 'Cong van den') \
          GROUP BY a.address, mb.name ORDER BY a.address DESC, mb.name"
    ));
    assert_eq!(
        counts.lines().collect::<Vec<_>>(),
        ["Cong van den:1", "INBOX:1", "INBOX:1"],
        "{counts}"
    );
}
