//! Unit mailboxes delegated with rights (Đ12) through the real binary: `hopthu unit-mailbox
//! grant|revoke|list` on the imported sample province, its refusals (nothing changed), the
//! audit rows, and the unit mailbox's own password over IMAP before and after the first grant.

use std::process::Output;

use serde_json::Value;

use super::harness::{DOMAIN, TestServer};
use super::lifecycle::{import_province, make_head, unit_people};
use super::web::{get, sign_in};

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

/// Makes `password` the account's own (no change asked at the next sign-in), as the owner
/// would in the webmail.
fn set_password(server: &TestServer, address: &str, password: &str) {
    let out = server.cli(
        &["account", "password", address, "--no-force-change"],
        &format!("{password}\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
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
    set_password(&server, &unit, unit_password);
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
    set_password(&server, &unit, unit_password);
    let out = server.python("unit_mailbox_imap.py", &["--fill", &unit, unit_password]);
    assert_eq!(out.trim(), "filled");

    // The head: a person of the unit, made head as the directory would.
    let head = unit_people(&server, "CB25-002", 1).remove(0);
    assert!(head.ends_with(DOMAIN), "{head}");
    make_head(&server, "CB25-002", &head);
    let head_password = "Mat-khau-Truong-1";
    set_password(&server, &head, head_password);
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

/// One SMTP submission by `login` (Python's smtplib over implicit TLS): "sent" or "refused
/// CODE TEXT".
fn smtp_send(
    server: &TestServer,
    login: (&str, &str),
    mail_from: &str,
    from: &str,
    sender: Option<&str>,
    subject: &str,
    rcpt: &str,
) -> String {
    let out = server.python(
        "unit_mailbox_send.py",
        &[
            "send",
            login.0,
            login.1,
            mail_from,
            from,
            sender.unwrap_or("-"),
            subject,
            rcpt,
        ],
    );
    out.trim().to_string()
}

/// A refusal of the sending rules: `550 5.7.1`, Vietnamese first, then English.
fn assert_refused(out: &str, words: &[&str]) {
    assert!(out.starts_with("refused 550 5.7.1"), "{out}");
    assert!(out.contains(" / "), "{out}");
    for word in words {
        assert!(out.contains(word), "{out} lacks {word:?}");
    }
}

/// The subjects (folded, as the search index keeps them) and senders of the messages in the
/// Sent folder of the account `address`, in UID order.
fn sent_folder(server: &TestServer, address: &str) -> Vec<String> {
    server
        .sql(&format!(
            "SELECT t.subject || ' ' || t.hfrom FROM messages m \
               JOIN mailboxes b ON b.id = m.mailbox_id \
               JOIN accounts a ON a.id = b.account_id \
               JOIN search_text t ON t.blob_hash = m.blob_hash \
              WHERE a.address = '{address}' AND b.special_use = '\\Sent' ORDER BY m.uid"
        ))
        .lines()
        .map(str::to_string)
        .collect()
}

/// The audit rows of messages sent for a unit: action, actor, target, after.
fn sending_audit(server: &TestServer) -> Vec<(String, String, String, Value)> {
    server
        .sql(
            "SELECT action, actor, target, after FROM audit_log \
              WHERE action LIKE 'unit_mailbox.send%' ORDER BY id",
        )
        .lines()
        .map(|l| {
            let cols: Vec<&str> = l.splitn(4, '|').collect();
            (
                cols[0].to_string(),
                cols[1].to_string(),
                cols[2].to_string(),
                serde_json::from_str(cols[3]).unwrap_or_else(|e| panic!("{e}: {l}")),
            )
        })
        .collect()
}

/// Issue Đ12 sending over SMTP submission: `From:` the unit with `send-as`, `From:` the unit and
/// `Sender:` oneself with `send-on-behalf`, every other combination refused with `550 5.7.1`
/// (read only, no rights, the wrong right, `Sender:` someone else, an envelope sender of the
/// unit without a right); what was accepted arrives with its `From:`/`Sender:`, a copy is in
/// the unit mailbox's Sent, and each is in the audit log.
#[test]
fn delegates_send_as_and_on_behalf_of_the_unit_over_smtp() {
    let server = TestServer::start();
    import_province(&server);
    let unit = format!("sonoivu@{DOMAIN}");
    let hoa = server.add_account("hoalt", "Lục Thị Hoa", "Mat-khau-Hoa-1");
    let quang = server.add_account("quangvd", "Vi Đức Quang", "Mat-khau-Quang-1");
    let lan = server.add_account("lannt", "Nông Thị Lan", "Mat-khau-Lan-1");
    let tuan = server.add_account("tuanhv", "Hoàng Văn Tuấn", "Mat-khau-Tuan-1");
    let nhan = server.add_account("nhanpt", "Phạm Thị Nhàn", "Mat-khau-Nhan-1");
    for (who, rights) in [
        (&hoa, "read,send-as"),
        (&quang, "send-on-behalf"),
        (&lan, "read,manage"),
    ] {
        ok(
            &server,
            &["unit-mailbox", "grant", &unit, who, "--rights", rights],
        );
    }
    let hoa_login = (hoa.as_str(), "Mat-khau-Hoa-1");
    let quang_login = (quang.as_str(), "Mat-khau-Quang-1");
    let audit_before = server.sql("SELECT COUNT(*) FROM audit_log");

    // Refused: read only, no rights at all (at MAIL when the envelope is the unit's, else at
    // the end of DATA), send-as without the right, on behalf without Sender:, Sender: someone
    // else, a third envelope sender.
    for (login, mail_from) in [
        (("lannt", "Mat-khau-Lan-1"), &unit),
        (("tuanhv", "Mat-khau-Tuan-1"), &unit),
    ] {
        let login = (format!("{}@{DOMAIN}", login.0), login.1);
        let out = smtp_send(
            &server,
            (&login.0, login.1),
            mail_from,
            &unit,
            None,
            "tu-choi-mail",
            &nhan,
        );
        assert_refused(
            &out,
            &[&format!("<{unit}>"), "Không được gửi thư", "not yours"],
        );
        let out = smtp_send(
            &server,
            (&login.0, login.1),
            &login.0,
            &unit,
            None,
            "tu-choi-data",
            &nhan,
        );
        assert_refused(&out, &[&unit]);
    }
    let out = smtp_send(
        &server,
        (&lan, "Mat-khau-Lan-1"),
        &lan,
        &unit,
        None,
        "chi-doc",
        &nhan,
    );
    assert_refused(
        &out,
        &["read,manage", "không có quyền gửi thư", "not send-as"],
    );
    let out = smtp_send(
        &server,
        (&tuan, "Mat-khau-Tuan-1"),
        &tuan,
        &unit,
        Some(&tuan),
        "khong-quyen",
        &nhan,
    );
    assert_refused(&out, &["is not an address you may send as"]);
    let out = smtp_send(
        &server,
        hoa_login,
        &hoa,
        &unit,
        Some(&hoa),
        "thieu-quyen-thay-mat",
        &nhan,
    );
    assert_refused(&out, &["send-on-behalf", "leave out Sender:"]);
    let out = smtp_send(
        &server,
        quang_login,
        &quang,
        &unit,
        None,
        "thieu-sender",
        &nhan,
    );
    assert_refused(&out, &["send-as", &format!("needs Sender: <{quang}>")]);
    for login in [hoa_login, quang_login] {
        let out = smtp_send(
            &server,
            login,
            login.0,
            &unit,
            Some(&tuan),
            "sender-khac",
            &nhan,
        );
        assert_refused(
            &out,
            &[&format!("Sender: <{tuan}> must be your own address")],
        );
    }
    let out = smtp_send(
        &server,
        hoa_login,
        &tuan,
        &unit,
        None,
        "phong-bi-khac",
        &nhan,
    );
    assert!(out.starts_with("refused 550 5.7.1"), "{out}");
    // One's own message may not use the unit's envelope sender.
    let out = smtp_send(
        &server,
        hoa_login,
        &unit,
        &hoa,
        None,
        "phong-bi-don-vi",
        &nhan,
    );
    assert_refused(&out, &["MAIL FROM"]);
    assert_eq!(server.sql("SELECT COUNT(*) FROM audit_log"), audit_before);
    assert!(sent_folder(&server, &unit).is_empty());

    // Accepted: send-as with either envelope sender, on behalf with Sender: oneself.
    let out = smtp_send(
        &server,
        hoa_login,
        &hoa,
        &unit,
        None,
        "gui-voi-danh-nghia",
        &nhan,
    );
    assert_eq!(out, "sent");
    let out = smtp_send(
        &server,
        hoa_login,
        &unit,
        &unit,
        None,
        "phong-bi-cua-don-vi",
        &nhan,
    );
    assert_eq!(out, "sent");
    let out = smtp_send(
        &server,
        quang_login,
        &unit,
        &unit,
        Some(&quang),
        "gui-thay-mat",
        &nhan,
    );
    assert_eq!(out, "sent");

    // The recipient got exactly these, From: the unit, Sender: as sent.
    let inbox = server.python("unit_mailbox_send.py", &["inbox", &nhan, "Mat-khau-Nhan-1"]);
    let lines: Vec<&str> = inbox.lines().collect();
    assert_eq!(
        lines,
        [
            format!("gui-voi-danh-nghia|{unit}|-|<gui-voi-danh-nghia@test.caobang.gov.vn>"),
            format!("phong-bi-cua-don-vi|{unit}|-|<phong-bi-cua-don-vi@test.caobang.gov.vn>"),
            format!("gui-thay-mat|{unit}|{quang}|<gui-thay-mat@test.caobang.gov.vn>"),
        ],
        "{inbox}"
    );
    // A copy of each in the unit mailbox's Sent, none in the delegates' own.
    let sent = sent_folder(&server, &unit);
    assert_eq!(sent.len(), 3, "{sent:?}");
    for (row, subject) in
        sent.iter()
            .zip(["gui-voi-danh-nghia", "phong-bi-cua-don-vi", "gui-thay-mat"])
    {
        assert!(row.starts_with(subject) && row.contains(&unit), "{sent:?}");
    }
    assert!(sent_folder(&server, &hoa).is_empty());
    assert!(sent_folder(&server, &quang).is_empty());

    // The audit log names the person, the unit, the mode and the Message-ID; the chain holds.
    let rows = sending_audit(&server);
    assert_eq!(rows.len(), 3, "{rows:?}");
    let target = format!("unit_mailbox:{unit}");
    for ((action, actor, t, after), (who, mode, id)) in rows.iter().zip([
        (&hoa, "send-as", "gui-voi-danh-nghia"),
        (&hoa, "send-as", "phong-bi-cua-don-vi"),
        (&quang, "send-on-behalf", "gui-thay-mat"),
    ]) {
        assert_eq!(action, &format!("unit_mailbox.{}", mode.replace('-', "_")));
        assert_eq!(actor, who);
        assert_eq!(t, &target);
        assert_eq!(after["delegate"], who.as_str());
        assert_eq!(after["mode"], mode);
        assert_eq!(after["message_id"], format!("{id}@test.caobang.gov.vn"));
        assert_eq!(after["recipients"], 1);
    }
    ok(&server, &["lifecycle", "audit", "--verify"]);

    // A revoked right stops at once.
    ok(&server, &["unit-mailbox", "revoke", &unit, &hoa]);
    let out = smtp_send(&server, hoa_login, &hoa, &unit, None, "sau-thu-hoi", &nhan);
    assert_refused(&out, &[&format!("From: <{unit}>")]);
    assert_eq!(sending_audit(&server).len(), 3);
}

/// Sends the webmail's compose form (multipart, as the browser does) with a From choice.
fn web_send(
    server: &TestServer,
    session: &str,
    csrf: &str,
    from: &str,
    to: &str,
    subject: &str,
) -> String {
    web_form(server, session, csrf, from, to, subject, "send")
}

/// The compose form with `action` `send` or `draft`.
fn web_form(
    server: &TestServer,
    session: &str,
    csrf: &str,
    from: &str,
    to: &str,
    subject: &str,
    action: &str,
) -> String {
    super::submit::compose_post(
        server,
        session,
        &[
            ("csrf", csrf),
            ("from", from),
            ("to", to),
            ("cc", ""),
            ("bcc", ""),
            ("subject", subject),
            ("body", "Noi dung"),
            ("action", action),
        ],
    )
}

/// The webmail's From selector lists one's own address and the unit mailboxes one may send
/// for (send-as as the unit, send-on-behalf "thay mặt"); the compose POST goes through the
/// same rules as SMTP: allowed choices are delivered, copied to the unit's Sent (not one's own)
/// and audited; a forged choice without the right is refused (403) and nothing is sent.
#[test]
fn the_webmail_sends_for_a_unit_mailbox_from_its_selector() {
    let server = TestServer::start_with("[outbound]\nsmarthost = \"127.0.0.1:9\"\n");
    import_province(&server);
    let unit = format!("sonoivu@{DOMAIN}");
    let hoa = server.add_account("hoalt", "Lục Thị Hoa", "Mat-khau-Hoa-1");
    let quang = server.add_account("quangvd", "Vi Đức Quang", "Mat-khau-Quang-1");
    let lan = server.add_account("lannt", "Nông Thị Lan", "Mat-khau-Lan-1");
    let nhan = server.add_account("nhanpt", "Phạm Thị Nhàn", "Mat-khau-Nhan-1");
    ok(
        &server,
        &[
            "unit-mailbox",
            "grant",
            &unit,
            &hoa,
            "--rights",
            "read,send-as,send-on-behalf",
        ],
    );
    ok(
        &server,
        &[
            "unit-mailbox",
            "grant",
            &unit,
            &quang,
            "--rights",
            "send-on-behalf",
        ],
    );
    ok(
        &server,
        &["unit-mailbox", "grant", &unit, &lan, "--rights", "read"],
    );

    // The selector: Vietnamese labels, the unit's name, both modes for Hoa, only on behalf
    // for Quang, none for Lan (read only: no selector at all).
    let (session, csrf) = sign_in(&server, &hoa, "Mat-khau-Hoa-1");
    let (_, page) = get(&server, "/compose", &session);
    assert!(page.contains(r#"<select id="from" name="from">"#), "{page}");
    assert!(
        page.contains(r#"<option value="own" selected>Lục Thị Hoa &lt;hoalt@"#),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            r#"<option value="as:{unit}">Sở Nội vụ &lt;{unit}&gt;</option>"#
        )),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            r#"<option value="behalf:{unit}">Lục Thị Hoa &lt;{hoa}&gt; thay mặt Sở Nội vụ &lt;{unit}&gt;</option>"#
        )),
        "{page}"
    );
    let (q_session, q_csrf) = sign_in(&server, &quang, "Mat-khau-Quang-1");
    let (_, page) = get(&server, "/compose", &q_session);
    assert!(
        page.contains(&format!(r#"value="behalf:{unit}""#)),
        "{page}"
    );
    assert!(!page.contains(&format!(r#"value="as:{unit}""#)), "{page}");
    let (l_session, l_csrf) = sign_in(&server, &lan, "Mat-khau-Lan-1");
    let (_, page) = get(&server, "/compose", &l_session);
    assert!(!page.contains(r#"name="from""#), "{page}");

    // Refused, nothing sent: a forged choice without the right, and a wrong CSRF token.
    let out = web_send(
        &server,
        &l_session,
        &l_csrf,
        &format!("as:{unit}"),
        &nhan,
        "web-chi-doc",
    );
    assert!(out.starts_with("HTTP/1.1 403"), "{out}");
    assert!(out.contains("không có quyền gửi thư"), "{out}");
    let out = web_send(
        &server,
        &q_session,
        &q_csrf,
        &format!("as:{unit}"),
        &nhan,
        "web-sai-quyen",
    );
    assert!(out.starts_with("HTTP/1.1 403"), "{out}");
    assert!(out.contains("send-as"), "{out}");
    let out = web_send(
        &server,
        &session,
        &"0".repeat(64),
        &format!("as:{unit}"),
        &nhan,
        "web-csrf",
    );
    assert!(!out.starts_with("HTTP/1.1 303"), "{out}");
    let out = web_send(
        &server,
        &session,
        &csrf,
        "as:khong-phai-dia-chi",
        &nhan,
        "web-rac",
    );
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    assert!(sending_audit(&server).is_empty());

    // Allowed: as the unit (Hoa), on its behalf (Quang), and one's own as before.
    let out = web_send(
        &server,
        &session,
        &csrf,
        &format!("as:{unit}"),
        &nhan,
        "web-danh-nghia",
    );
    assert!(out.starts_with("HTTP/1.1 303"), "{out}");
    let out = web_send(
        &server,
        &q_session,
        &q_csrf,
        &format!("behalf:{unit}"),
        &nhan,
        "web-thay-mat",
    );
    assert!(out.starts_with("HTTP/1.1 303"), "{out}");
    let out = web_send(&server, &session, &csrf, "own", &nhan, "web-ca-nhan");
    assert!(out.starts_with("HTTP/1.1 303"), "{out}");

    let inbox = server.python("unit_mailbox_send.py", &["inbox", &nhan, "Mat-khau-Nhan-1"]);
    let lines: Vec<Vec<&str>> = inbox.lines().map(|l| l.split('|').collect()).collect();
    assert_eq!(lines.len(), 3, "{inbox}");
    assert_eq!(
        lines[0][..3],
        ["web-danh-nghia", &format!("Sở Nội vụ <{unit}>"), "-"],
        "{inbox}"
    );
    assert_eq!(
        lines[1][..3],
        [
            "web-thay-mat",
            &format!("Sở Nội vụ <{unit}>"),
            &format!("Vi Đức Quang <{quang}>")
        ],
        "{inbox}"
    );
    assert_eq!(
        lines[2][..3],
        ["web-ca-nhan", &format!("Lục Thị Hoa <{hoa}>"), "-"],
        "{inbox}"
    );

    // The unit's messages are in the unit's Sent, one's own in one's own.
    let sent = sent_folder(&server, &unit);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[0].starts_with("web-danh-nghia"), "{sent:?}");
    assert!(sent[1].starts_with("web-thay-mat"), "{sent:?}");
    let own = sent_folder(&server, &hoa);
    assert_eq!(own.len(), 1, "{own:?}");
    assert!(own[0].starts_with("web-ca-nhan"), "{own:?}");
    assert!(sent_folder(&server, &quang).is_empty());

    // Audited with the Message-ID the recipient got.
    let rows = sending_audit(&server);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].0, "unit_mailbox.send_as");
    assert_eq!(rows[0].1, hoa);
    assert_eq!(rows[1].0, "unit_mailbox.send_on_behalf");
    assert_eq!(rows[1].1, quang);
    for (row, line) in rows.iter().zip(&lines) {
        assert_eq!(
            format!("<{}>", row.3["message_id"].as_str().unwrap()),
            line[3]
        );
    }
    // The envelope sender (seen in the outbound queue, held by a smarthost that does not
    // answer): the unit's for send-as, so bounces reach the unit mailbox; one's own on behalf.
    let remote = "vanthu@example.org";
    let out = web_send(
        &server,
        &session,
        &csrf,
        &format!("as:{unit}"),
        remote,
        "web-ra-ngoai",
    );
    assert!(out.starts_with("HTTP/1.1 303"), "{out}");
    let out = web_send(
        &server,
        &q_session,
        &q_csrf,
        &format!("behalf:{unit}"),
        remote,
        "web-ra-ngoai-2",
    );
    assert!(out.starts_with("HTTP/1.1 303"), "{out}");
    let queued = server.sql("SELECT mail_from FROM queue ORDER BY id");
    assert_eq!(
        queued.lines().collect::<Vec<_>>(),
        [unit.as_str(), quang.as_str()],
        "{queued}"
    );
    assert_eq!(sending_audit(&server).len(), 4);
    ok(&server, &["lifecycle", "audit", "--verify"]);

    // A draft keeps its From choice when opened again; saving one sends nothing.
    let out = web_form(
        &server,
        &q_session,
        &q_csrf,
        &format!("behalf:{unit}"),
        &nhan,
        "web-nhap",
        "draft",
    );
    assert!(out.starts_with("HTTP/1.1 303"), "{out}");
    let draft = server.sql(&format!(
        "SELECT b.id || ' ' || MAX(m.uid) FROM messages m \
           JOIN mailboxes b ON b.id = m.mailbox_id JOIN accounts a ON a.id = b.account_id \
          WHERE a.address = '{quang}' AND b.special_use = '\\Drafts' GROUP BY b.id"
    ));
    let (mailbox, uid) = draft.trim().split_once(' ').unwrap();
    let (_, page) = get(
        &server,
        &format!("/compose?mailbox={mailbox}&uid={uid}&mode=draft"),
        &q_session,
    );
    assert!(
        page.contains(&format!(r#"<option value="behalf:{unit}" selected>"#)),
        "{page}"
    );
    assert_eq!(sending_audit(&server).len(), 4);
}

/// A head change (Đ12.3): filed and approved from the command line, the new head owns the
/// unit mailbox and sees every message and the numbered handover notice; the former head's
/// open IMAP session ends and the delegate's rights end; the handover is in the audit log.
#[test]
fn a_head_change_hands_the_unit_mailbox_over() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};

    let server = TestServer::start();
    import_province(&server);
    let unit = format!("sonoivu@{DOMAIN}");
    let unit_password = "Mat-khau-don-vi-1";
    set_password(&server, &unit, unit_password);
    let out = server.python("unit_mailbox_imap.py", &["--fill", &unit, unit_password]);
    assert_eq!(out.trim(), "filled");

    let people = unit_people(&server, "CB25-002", 2);
    let (old_head, new_head) = (people[0].clone(), people[1].clone());
    set_password(&server, &old_head, "Mat-khau-Cu-1");
    set_password(&server, &new_head, "Mat-khau-Moi-1");
    // The first head, by a head change like any other.
    let out = ok(
        &server,
        &[
            "lifecycle",
            "file",
            "head_change",
            "--unit",
            "CB25-002",
            "--person",
            &old_head,
            "--approve",
        ],
    );
    assert!(out.contains("approved"), "{out}");
    // Refusals change nothing: already the head, no unit, a unit without a mailbox.
    let before = state(&server);
    refused(
        &server,
        &[
            "lifecycle",
            "file",
            "head_change",
            "--unit",
            "CB25-002",
            "--person",
            &old_head,
        ],
    );
    refused(
        &server,
        &["lifecycle", "file", "head_change", "--person", &new_head],
    );
    assert_eq!(state(&server), before);

    let hoa = server.add_account("hoalt", "Lục Thị Hoa", "Mat-khau-Hoa-1");
    ok(
        &server,
        &["unit-mailbox", "grant", &unit, &hoa, "--rights", "read"],
    );
    // The unit mailbox's own password no longer signs in: it has an owner.
    let out = server.python("unit_mailbox_login.py", &[&unit, unit_password]);
    assert!(out.contains("[AUTHORIZATIONFAILED]"), "{out}");

    // The former head keeps the unit's INBOX open while the handover is approved.
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/py/unit_mailbox_handover.py");
    let mut hold = Command::new("python3")
        .arg(script)
        .args(["hold", &old_head, "Mat-khau-Cu-1", &unit])
        .envs(server.env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut lines = BufReader::new(hold.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a line").unwrap();
    // Three messages and the notice of the first head's appointment.
    assert_eq!(first, "selected 4");

    let out = ok(
        &server,
        &[
            "lifecycle",
            "file",
            "head_change",
            "--unit",
            "CB25-002",
            "--person",
            &new_head,
            "--reason",
            "Bổ nhiệm Giám đốc mới",
        ],
    );
    assert!(out.contains("head_change"), "{out}");
    let id = server
        .sql("SELECT MAX(id) FROM change_requests")
        .trim()
        .to_string();
    ok(&server, &["lifecycle", "approve", &id]);

    writeln!(hold.stdin.as_mut().unwrap(), "go").unwrap();
    let second = lines.next().expect("a line").unwrap();
    assert!(second.starts_with("bye: * BYE"), "{second}");
    assert!(hold.wait().unwrap().success());

    let out = server.python(
        "unit_mailbox_handover.py",
        &[
            "check",
            &new_head,
            "Mat-khau-Moi-1",
            &old_head,
            "Mat-khau-Cu-1",
            &hoa,
            "Mat-khau-Hoa-1",
            &unit,
        ],
    );
    assert_eq!(out.trim(), "done");
    assert_eq!(list_json(&server, &unit), Vec::<Value>::new());
    let handover = server.sql(
        "SELECT before || ' ' || after FROM audit_log WHERE action = 'unit_mailbox.handover' \
          ORDER BY id DESC LIMIT 1",
    );
    assert!(
        handover.contains(&format!(r#""head":"{old_head}""#)),
        "{handover}"
    );
    assert!(
        handover.contains(&format!(r#""delegate":"{hoa}""#)),
        "{handover}"
    );
    assert!(
        handover.contains(&format!(r#""head":"{new_head}","delegates":[]"#))
            || handover.contains(&format!(r#""delegates":[],"head":"{new_head}""#)),
        "{handover}"
    );

    // The head retires: a head_change request for the unit opens by itself, naming nobody;
    // it cannot be approved as it is, and a request naming the next head closes it.
    ok(
        &server,
        &[
            "lifecycle",
            "file",
            "retirement",
            "--person",
            &new_head,
            "--approve",
        ],
    );
    let open = server.sql(
        "SELECT c.id || ' ' || c.state || ' ' || COALESCE(c.person_id, 0) FROM change_requests c \
           JOIN units u ON u.id = c.unit_id \
          WHERE c.kind = 'head_change' AND u.code = 'CB25-002' ORDER BY c.id DESC LIMIT 1",
    );
    let open: Vec<&str> = open.split_whitespace().collect();
    assert_eq!(open[1..], ["filed", "0"], "{open:?}");
    let err = refused(&server, &["lifecycle", "approve", open[0]]);
    assert!(
        err.contains("head_change --unit CB25-002 --person"),
        "{err}"
    );
    // The retired head's mailbox is revoked: it owns nothing until the next head is named.
    let out = server.python("unit_mailbox_login.py", &[&new_head, "Mat-khau-Moi-1"]);
    assert!(out.starts_with("NO"), "{out}");
    ok(
        &server,
        &[
            "lifecycle",
            "file",
            "head_change",
            "--unit",
            "CB25-002",
            "--person",
            &old_head,
            "--approve",
        ],
    );
    let closed = server.sql(&format!(
        "SELECT state || ' ' || decision_note FROM change_requests WHERE id = {}",
        open[0]
    ));
    assert!(closed.starts_with("approved "), "{closed}");
    ok(&server, &["lifecycle", "audit", "--verify"]);
}

/// The `location` of a redirect.
fn location(head: &str) -> String {
    head.lines()
        .find_map(|l| {
            l.strip_prefix("location: ")
                .or_else(|| l.strip_prefix("Location: "))
        })
        .unwrap_or_else(|| panic!("no redirect: {head}"))
        .trim()
        .to_string()
}

/// A server with the sample province whose Sở Nội vụ mailbox holds three messages ("Unit
/// message 1..3", appended as the unit before any grant); a reader (`read`), a manager
/// (`manage`) and someone without rights. Returns the unit address and the three addresses.
fn unit_with_delegates(server: &TestServer) -> (String, String, String, String) {
    import_province(server);
    let unit = format!("sonoivu@{DOMAIN}");
    let unit_password = "Mat-khau-don-vi-1";
    let out = server.cli(
        &["account", "password", &unit, "--no-force-change"],
        &format!("{unit_password}\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = server.python("unit_mailbox_imap.py", &["--fill", &unit, unit_password]);
    assert_eq!(out.trim(), "filled");
    let hoa = server.add_account("hoalt", "Lục Thị Hoa", "Mat-khau-Hoa-1");
    let quang = server.add_account("quangvd", "Vi Đức Quang", "Mat-khau-Quang-1");
    let lan = server.add_account("lanbt", "Bế Thị Lan", "Mat-khau-Lan-1");
    ok(
        server,
        &["unit-mailbox", "grant", &unit, &hoa, "--rights", "read"],
    );
    ok(
        server,
        &["unit-mailbox", "grant", &unit, &quang, "--rights", "manage"],
    );
    (unit, hoa, quang, lan)
}

/// The messages of `address`'s own account, by subject line, from the database.
fn own_message_count(server: &TestServer, address: &str) -> String {
    server
        .sql(&format!(
            "SELECT COUNT(*) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id \
               JOIN accounts a ON a.id = b.account_id WHERE a.address = '{address}'"
        ))
        .trim()
        .to_string()
}

#[test]
fn the_webmail_switches_between_ones_own_and_a_unit_mailbox() {
    let server = TestServer::start_with("https = \"127.0.0.1:0\"\n");
    let (unit, hoa, quang, lan) = unit_with_delegates(&server);
    let (session, csrf) = sign_in(&server, &hoa, "Mat-khau-Hoa-1");

    // One's own mailbox: the switcher lists the unit by name and address; nothing of the unit
    // is among one's folders or messages.
    let (head, _) = get(&server, "/mail", &session);
    let own_inbox = location(&head);
    let (head, page) = get(&server, &own_inbox, &session);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(page.contains(r#"id="mailbox-switcher""#), "{page}");
    assert!(page.contains(&format!(r#"data-unit="{unit}""#)), "{page}");
    assert!(page.contains("Sở Nội vụ"), "the unit's name: {page}");
    assert!(
        page.contains(r#"id="switch-own" aria-current="page""#),
        "{page}"
    );
    assert!(!page.contains("Unit message"), "{page}");
    assert!(!page.contains("Shared/"), "{page}");

    // The unit mailbox: its INBOX first, its messages, only its folders (also as move targets).
    let (head, _) = get(
        &server,
        &format!("/mail?unit={}", unit.replace('@', "%40")),
        &session,
    );
    let unit_inbox = location(&head);
    assert_ne!(unit_inbox, own_inbox);
    let (head, page) = get(&server, &unit_inbox, &session);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    for i in 1..=3 {
        assert!(page.contains(&format!("Unit message {i}")), "{page}");
    }
    assert!(page.contains(r#"id="unit-shown""#), "{page}");
    assert!(!page.contains(r#"id="switch-own" aria-current"#), "{page}");
    assert!(page.contains(r#"aria-current="page">Sở Nội vụ"#), "{page}");
    let folders = &page[page.find(r#"id="folders""#).unwrap()..];
    let first_folder = folders.split("href=\"").nth(1).unwrap();
    assert!(
        first_folder.starts_with(&format!("{unit_inbox}\"")),
        "INBOX first: {folders}"
    );
    assert!(!page.contains(&format!("href=\"{own_inbox}\"")), "{page}");
    let own_id = own_inbox.rsplit('/').next().unwrap();
    assert!(
        !page.contains(&format!("option value=\"{own_id}\"")),
        "{page}"
    );
    assert!(
        !page.contains("Shared/"),
        "names without the prefix: {page}"
    );
    // Reading keeps to the unit mailbox.
    let (head, page) = get(&server, &format!("{unit_inbox}/1"), &session);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(page.contains("Unit message 1") && page.contains(&format!("href=\"{unit_inbox}\"")));
    assert!(page.contains(r#"aria-current="page">Sở Nội vụ"#), "{page}");

    // A reader is offered no delete or move; forged, they are refused with the way back, and
    // nothing moves.
    let (_, page) = get(&server, &unit_inbox, &session);
    assert!(!page.contains(r#"value="delete""#), "{page}");
    assert!(!page.contains(r#"value="move""#), "{page}");
    assert!(page.contains(r#"value="read""#), "{page}");
    let inbox_id = unit_inbox.rsplit('/').next().unwrap();
    let target = page
        .split(r#"data-mailbox=""#)
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .find(|id| *id != inbox_id)
        .expect("another unit folder")
        .to_string();
    for action in ["delete", "move"] {
        let (head, page) = super::web::post(
            &server,
            &format!("{unit_inbox}/act"),
            &session,
            &format!("csrf={csrf}&uid=2&action={action}&target={target}&back={unit_inbox}"),
        );
        assert!(head.starts_with("HTTP/1.1 403"), "{action}: {head}");
        assert!(page.contains(r#"id="refused""#), "{page}");
        assert!(page.contains("không có quyền"), "{page}");
        assert!(page.contains(&format!(r#"href="{unit_inbox}""#)), "{page}");
    }
    let (_, page) = get(&server, &unit_inbox, &session);
    assert!(page.contains("Unit message 2"), "{page}");
    // Another unit's mailbox is not reached by naming it.
    let (head, _) = get(
        &server,
        &format!("/mail?unit=sotuphap%40{DOMAIN}"),
        &session,
    );
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");

    // A manager deletes: the message goes to the unit's Trash, not to the manager's own.
    let (session, csrf) = sign_in(&server, &quang, "Mat-khau-Quang-1");
    let (head, _) = super::web::post(
        &server,
        &format!("{unit_inbox}/act"),
        &session,
        &format!("csrf={csrf}&uid=3&action=delete&back={unit_inbox}"),
    );
    assert!(head.starts_with("HTTP/1.1 303"), "{head}");
    assert_eq!(own_message_count(&server, &quang), "0");
    let (_, page) = get(&server, &unit_inbox, &session);
    assert!(!page.contains("Unit message 3"), "{page}");
    let in_unit_trash = server.sql(&format!(
        "SELECT COUNT(*) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id \
           JOIN accounts a ON a.id = b.account_id WHERE a.address = '{unit}' AND b.name = 'Trash'"
    ));
    assert_eq!(in_unit_trash.trim(), "1");

    // Someone with no rights has no switcher and no way in.
    let (session, _) = sign_in(&server, &lan, "Mat-khau-Lan-1");
    let (head, _) = get(&server, "/mail", &session);
    let (_, page) = get(&server, &location(&head), &session);
    assert!(!page.contains("mailbox-switcher"), "{page}");
    let (head, _) = get(&server, &unit_inbox, &session);
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");

    // In the browser: the reader switches to the unit mailbox, sees its INBOX, and back.
    if super::needs::require(super::needs::BROWSER) {
        server.browser("unit_mailbox.py", &[&hoa, "Mat-khau-Hoa-1", &unit]);
        assert!(
            super::harness::screenshots()
                .join("unit-mailbox-switched.png")
                .exists()
        );
    }
}

/// The unit mailboxes of the console's outlook (`id="unit-outlook"`): each row's text.
fn unit_outlook(server: &TestServer, cookie: &str) -> Vec<String> {
    let (head, page) = super::admin::get(server, "/admin/outlook", cookie);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let table = page
        .split(r#"id="unit-outlook""#)
        .nth(1)
        .expect("the unit mailbox table")
        .split("</table>")
        .next()
        .unwrap();
    table
        .split("<tr>")
        .skip(2)
        .map(|row| {
            row.replace("</td>", " |")
                .split('<')
                .map(|part| part.split_once('>').map_or(part, |(_, text)| text))
                .collect::<String>()
        })
        .collect()
}

/// Đ8.3 and unit mailboxes (`[lifecycle] sweep_unit_mailboxes`): by default the sweep leaves
/// them alone and the console's outlook lists those nobody opened; a delegate opening one over
/// IMAP counts as its access. With the rule on, an unopened unit mailbox is revoked (delivery
/// refused, gone from its delegates' folders, its head told) and a head change re-opens it.
#[test]
fn unit_mailboxes_are_swept_only_by_the_configured_rule() {
    use super::lifecycle::{addresses, sweep};

    for swept in [false, true] {
        let server = TestServer::start_with(&format!(
            "https = \"127.0.0.1:0\"\n[lifecycle]\nsweep_unit_mailboxes = {swept}\n"
        ));
        import_province(&server);
        let focal = server.add_account("qtv.skhcn", "Quản trị Sở KH&CN", "Mat-khau-Focal-1");
        let out = server.cli(&["admin", "grant", &focal, "--focal"], "");
        assert!(out.status.success(), "{}", text(&out));
        let cookie = super::admin::sign_in(&server, &focal, "Mat-khau-Focal-1").expect("signed in");
        // Sở Nội vụ's mailbox, opened by a delegate, and CB25-014's, which nobody opens.
        let noivu = format!("sonoivu@{DOMAIN}");
        let tuphap = server
            .sql("SELECT address FROM units WHERE code = 'CB25-014'")
            .trim()
            .to_string();
        let hoa = server.add_account("hoalt", "Lục Thị Hoa", "Mat-khau-Hoa-1");
        for unit in [&noivu, &tuphap] {
            ok(
                &server,
                &["unit-mailbox", "grant", unit, &hoa, "--rights", "read"],
            );
        }

        // Nobody opened any unit mailbox yet: both are listed, as never opened.
        let rows = unit_outlook(&server, &cookie);
        for unit in [&noivu, &tuphap] {
            let row = rows
                .iter()
                .find(|r| r.starts_with(unit.as_str()))
                .unwrap_or_else(|| panic!("{unit} not in {rows:?}"));
            assert!(row.contains("chưa bao giờ"), "{row}");
            assert_eq!(
                row.contains("miễn thu hồi"),
                !swept,
                "{row}: exempt only by the rule"
            );
        }
        // The delegate opens Sở Nội vụ's mailbox: it leaves the list, CB25-014's stays.
        let out = server.python(
            "unit_mailbox_imap.py",
            &["--open", &noivu, &hoa, "Mat-khau-Hoa-1"],
        );
        assert!(out.starts_with("opened "), "{out}");
        let rows = unit_outlook(&server, &cookie);
        assert!(
            !rows.iter().any(|r| r.starts_with(noivu.as_str())),
            "{rows:?}"
        );
        assert!(
            rows.iter().any(|r| r.starts_with(tuphap.as_str())),
            "{rows:?}"
        );

        // Seven months on, nobody having opened CB25-014's mailbox since.
        let dry = sweep(&server, 200, true);
        let revoked = addresses(&dry, "revoked");
        assert_eq!(revoked.contains(&tuphap), swept, "{revoked:?}");
        // Opened today: seven months on is past its deadline too (182 days), by the same rule.
        assert_eq!(revoked.contains(&noivu), swept, "{revoked:?}");
        // Backdate the import so that a real sweep today finds CB25-014's mailbox idle for
        // 200 days while Sở Nội vụ's was opened today.
        server.sql("UPDATE units SET created_at = created_at - 200 * 86400");
        let report = sweep(&server, 0, false);
        let revoked = addresses(&report, "revoked");
        assert!(!revoked.contains(&noivu), "{revoked:?}");
        assert_eq!(revoked.contains(&tuphap), swept, "{revoked:?}");
        let rcpt = server.python("lifecycle_mail.py", &["rcpt", &tuphap]);
        let open = server.python(
            "unit_mailbox_imap.py",
            &["--open", &tuphap, &hoa, "Mat-khau-Hoa-1"],
        );
        if !swept {
            assert!(rcpt.starts_with("250"), "{rcpt}");
            assert!(open.starts_with("opened "), "{open}");
            continue;
        }
        assert!(rcpt.starts_with("550"), "{rcpt}");
        assert!(open.starts_with("refused "), "{open}");
        let rows = unit_outlook(&server, &cookie);
        let row = rows
            .iter()
            .find(|r| r.starts_with(tuphap.as_str()))
            .unwrap();
        assert!(row.contains("đã thu hồi"), "{row}");
        let audit = server.sql(&format!(
            "SELECT action FROM audit_log WHERE target = 'unit_mailbox:{tuphap}'"
        ));
        assert!(audit.lines().any(|a| a == "sweep.revoke"), "{audit}");

        // A new head re-opens it, confirming the delegate: mail arrives, the delegate reads.
        let head = unit_people(&server, "CB25-014", 1).remove(0);
        ok(
            &server,
            &[
                "lifecycle",
                "file",
                "head_change",
                "--unit",
                "CB25-014",
                "--person",
                &head,
                "--keep-delegates",
                &hoa,
                "--approve",
            ],
        );
        let rcpt = server.python("lifecycle_mail.py", &["rcpt", &tuphap]);
        assert!(rcpt.starts_with("250"), "{rcpt}");
        let open = server.python(
            "unit_mailbox_imap.py",
            &["--open", &tuphap, &hoa, "Mat-khau-Hoa-1"],
        );
        assert!(open.starts_with("opened "), "{open}");
        assert_eq!(list_json(&server, &tuphap).len(), 1);
    }
}

/// A head change keeps the delegates the new head confirms and ends the others; a confirmed
/// address that is no delegate is refused and nothing is filed.
#[test]
fn a_head_change_keeps_the_delegates_the_new_head_confirms() {
    let server = TestServer::start();
    import_province(&server);
    let unit = format!("sonoivu@{DOMAIN}");
    let people = unit_people(&server, "CB25-002", 1);
    let hoa = server.add_account("hoalt", "Lục Thị Hoa", "Mat-khau-Hoa-1");
    let lan = server.add_account("lannt", "Nông Thị Lan", "Mat-khau-Lan-1");
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
        &["unit-mailbox", "grant", &unit, &lan, "--rights", "manage"],
    );
    let before = state(&server);
    let err = refused(
        &server,
        &[
            "lifecycle",
            "file",
            "head_change",
            "--unit",
            "CB25-002",
            "--person",
            &people[0],
            "--keep-delegates",
            &format!("khongco@{DOMAIN}"),
        ],
    );
    assert!(err.contains("không phải người được ủy quyền"), "{err}");
    assert_eq!(state(&server), before);
    ok(
        &server,
        &[
            "lifecycle",
            "file",
            "head_change",
            "--unit",
            "CB25-002",
            "--person",
            &people[0],
            "--keep-delegates",
            &hoa.to_uppercase(),
            "--approve",
        ],
    );
    let left = list_json(&server, &unit);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["delegate"], hoa.as_str());
    assert_eq!(left[0]["rights"], "read,send-as");
    let handover = server.sql(
        "SELECT after FROM audit_log WHERE action = 'unit_mailbox.handover' ORDER BY id DESC LIMIT 1",
    );
    assert!(
        handover.contains(&format!(r#""delegate":"{hoa}""#)),
        "{handover}"
    );
    assert!(!handover.contains(&lan), "{handover}");

    // The new head reads the unit mailbox's log in the webmail; the delegate may not.
    set_password(&server, &people[0], "Mat-khau-Moi-1");
    let (session, _) = sign_in(&server, &people[0], "Mat-khau-Moi-1");
    let (head, _) = get(&server, "/mail", &session);
    let inbox = super::web::header(&head, "location")[0].to_string();
    let (_, page) = get(&server, &inbox, &session);
    let encoded: String = unit
        .bytes()
        .map(|b| match b.is_ascii_alphanumeric() {
            true => (b as char).to_string(),
            false => format!("%{b:02X}"),
        })
        .collect();
    let log_link = format!("/unit-mailbox/log?unit={encoded}");
    assert!(
        page.contains(&log_link),
        "the switcher links the owner's log"
    );
    let (head, page) = get(&server, &log_link, &session);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        page.contains(r#"data-action="unit_mailbox.handover""#),
        "{page}"
    );
    assert!(
        page.contains(r#"data-action="unit_mailbox.grant""#),
        "{page}"
    );
    let delegates = page.split(r#"id="unit-delegates""#).nth(1).unwrap();
    assert!(
        delegates.split("</ul>").next().unwrap().contains(&hoa),
        "{delegates}"
    );
    let (session, _) = sign_in(&server, &hoa, "Mat-khau-Hoa-1");
    let (head, page) = get(&server, &log_link, &session);
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    assert!(!page.contains("unit_mailbox.handover"), "{page}");
}
