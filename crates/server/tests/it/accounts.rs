//! One address per person (issue 16): `hopthu account add` makes a person of a unit through
//! the directory (the address by the rules), or an account recorded as an exception with its
//! reason; anything else is refused with nothing created. Administrators are people or
//! exceptions. Every administrative act — import, address override, alias, reserved name,
//! account add, password set by the CLI and the console, grant — leaves its row in the audit
//! log, whose hash chain `hopthu lifecycle audit --verify` still verifies.

use std::process::Output;

use serde_json::Value;

use super::admin::{csrf_of, form_value, get, post, sign_in, status};
use super::harness::{DOMAIN, TestServer};

const UNITS: &str = "kind,code,name,parent\n\
                     department,CB25-002,Nội vụ,\n\
                     department,CB25-003,Y tế,\n";

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}", text(out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn refused(out: &Output) -> String {
    assert!(!out.status.success(), "accepted: {}", text(out));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Imports two departments (sonoivu@, soyte@), and `people` (a people file) when given.
fn import(server: &TestServer, people: Option<&str>, extra: &[&str]) {
    let units = server.dir.join("units.csv");
    std::fs::write(&units, UNITS).unwrap();
    let mut args = vec!["directory", "import", "--units", units.to_str().unwrap()];
    let people_path = server.dir.join("people.csv");
    if let Some(people) = people {
        std::fs::write(&people_path, people).unwrap();
        args.extend(["--people", people_path.to_str().unwrap()]);
    }
    args.extend_from_slice(extra);
    ok(&server.cli(&args, ""));
}

fn count(server: &TestServer, table: &str) -> u64 {
    server
        .sql(&format!("SELECT COUNT(*) FROM {table}"))
        .trim()
        .parse()
        .unwrap()
}

/// The audit log as (actor, action, target, after), oldest first.
fn audit(server: &TestServer) -> Vec<(String, String, String, String)> {
    let out = ok(&server.cli(&["lifecycle", "audit"], ""));
    out.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() == 7).then(|| (f[2].into(), f[3].into(), f[4].into(), f[6].into()))
        })
        .collect()
}

/// The one audit row with this action and target: (actor, after).
fn audited(server: &TestServer, action: &str, target: &str) -> (String, String) {
    let rows: Vec<_> = audit(server)
        .into_iter()
        .filter(|r| r.1 == action && r.2 == target)
        .collect();
    assert_eq!(rows.len(), 1, "{action} {target}: {:?}", audit(server));
    (rows[0].0.clone(), rows[0].3.clone())
}

#[test]
fn a_person_added_by_unit_gets_the_rules_address_and_signs_in() {
    let server = TestServer::start();
    import(&server, None, &[]);
    let out = server.cli(
        &[
            "account",
            "add",
            "--unit",
            "CB25-002",
            "--full-name",
            "Nông Văn Đạt",
            "--position",
            "Chuyên viên",
        ],
        "",
    );
    let stdout = ok(&out);
    let address = format!("datnv@{DOMAIN}");
    assert!(stdout.contains(&format!("created: {address}")), "{stdout}");
    let otp = stdout
        .lines()
        .find_map(|l| l.split("one-time password: ").nth(1))
        .unwrap_or_else(|| panic!("no password printed: {stdout}"))
        .trim()
        .to_string();
    // The printed one-time password is right, and must be changed before mail clients.
    let result = server.python("login_check.py", &[&address, &otp, "--one-time"]);
    assert!(result.starts_with("MUST-CHANGE"), "{result}");
    // A person of the directory, in the unit, with the position.
    assert_eq!(
        server
            .sql(&format!(
                "SELECT u.code FROM people p JOIN units u ON u.id = p.unit_id \
                  WHERE p.address = '{address}' AND p.position = 'Chuyên viên' \
                    AND p.account_id IS NOT NULL"
            ))
            .trim(),
        "CB25-002"
    );
    let (actor, after) = audited(&server, "account.add", &format!("account:{address}"));
    assert!(actor.starts_with("cli:"), "{actor}");
    assert!(after.contains("CB25-002"), "{after}");

    // A namesake in another unit gets the next address by the rules, and signs in over IMAP
    // with the password given.
    let second = server.add_person("CB25-003", "Nông Văn Đạt", "Mat-khau-rieng-1");
    assert_eq!(second, format!("datnv2@{DOMAIN}"));
    let result = server.python("login_check.py", &[&second, "Mat-khau-rieng-1"]);
    assert!(result.contains("OK"), "{result}");

    // The same person in the same unit again: refused, nothing created.
    let accounts = count(&server, "accounts");
    let err = refused(&server.cli(
        &[
            "account",
            "add",
            "--unit",
            "CB25-002",
            "--full-name",
            "Nông Văn Đạt",
        ],
        "",
    ));
    assert!(err.contains("already in the directory"), "{err}");
    assert_eq!(count(&server, "accounts"), accounts);
    // A namesake in the same unit is told apart by a staff id, and numbered by the rules.
    let third = ok(&server.cli(
        &[
            "account",
            "add",
            "--unit",
            "CB25-002",
            "--full-name",
            "Nông Văn Đạt",
            "--staff-id",
            "NV-0042",
        ],
        "",
    ));
    assert!(
        third.contains(&format!("created: datnv3@{DOMAIN}")),
        "{third}"
    );
    let accounts = count(&server, "accounts");
    // An unknown unit: refused.
    let err = refused(&server.cli(
        &[
            "account",
            "add",
            "--unit",
            "CB99-999",
            "--full-name",
            "Ai Đó",
        ],
        "",
    ));
    assert!(err.contains("CB99-999"), "{err}");
    assert_eq!(count(&server, "accounts"), accounts);
}

#[test]
fn an_account_neither_a_person_nor_an_exception_is_refused_and_nothing_is_created() {
    let server = TestServer::start();
    import(&server, None, &[]);
    let accounts = count(&server, "accounts");
    let audit_rows = count(&server, "audit_log");
    let address = format!("hoant@{DOMAIN}");
    let err = refused(&server.cli(
        &["account", "add", &address, "--name", "Nguyễn Thị Hoa"],
        "",
    ));
    assert!(err.contains("one address per person"), "{err}");
    assert!(err.contains("Mỗi người một địa chỉ"), "{err}");
    assert!(err.contains("--unit"), "{err}");
    assert!(err.contains("--exception"), "{err}");
    for args in [
        vec!["account", "add", "--name", "Nguyễn Thị Hoa"],
        // The rules give a person's address: none may be named.
        vec![
            "account",
            "add",
            &address,
            "--unit",
            "CB25-002",
            "--full-name",
            "Nguyễn Thị Hoa",
        ],
        vec![
            "account",
            "add",
            "--unit",
            "CB25-002",
            "--full-name",
            "Nguyễn Thị Hoa",
            "--exception",
            "x",
        ],
        // An exception needs a reason.
        vec![
            "account",
            "add",
            &address,
            "--name",
            "Hoa",
            "--exception",
            "  ",
        ],
    ] {
        refused(&server.cli(&args, "Mat-khau-dung-1\n"));
    }
    assert_eq!(count(&server, "accounts"), accounts);
    assert_eq!(count(&server, "account_exceptions"), 0);
    assert_eq!(count(&server, "audit_log"), audit_rows);
}

#[test]
fn an_exception_is_recorded_listed_and_administrators_are_people_or_exceptions() {
    let server = TestServer::start();
    import(&server, None, &[]);
    let postmaster = format!("postmaster@{DOMAIN}");
    let stdout = ok(&server.cli(
        &[
            "account",
            "add",
            &postmaster,
            "--name",
            "Postmaster",
            "--exception",
            "Hộp thư postmaster (RFC 5321) / the postmaster mailbox",
        ],
        "",
    ));
    assert!(stdout.contains("one-time password: "), "{stdout}");
    let listed = ok(&server.cli(&["account", "exceptions"], ""));
    assert!(listed.contains(&postmaster), "{listed}");
    assert!(listed.contains("Hộp thư postmaster (RFC 5321)"), "{listed}");
    let json: Value = serde_json::from_str(&ok(
        &server.cli(&["account", "exceptions", "--format", "json"], "")
    ))
    .unwrap();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{json}");
    assert_eq!(rows[0]["address"], postmaster.as_str());
    assert_eq!(rows[0]["name"], "Postmaster");
    assert!(rows[0]["created_by"].as_str().unwrap().starts_with("cli:"));
    let (_, after) = audited(
        &server,
        "account.add_exception",
        &format!("account:{postmaster}"),
    );
    assert!(after.contains("RFC 5321"), "{after}");

    // The directory's namespace is not an exception's: a unit's address, a person's, an alias,
    // a reserved name.
    let person = server.add_person("CB25-002", "Nông Văn Đạt", "Mat-khau-dung-1");
    ok(&server.cli(&["directory", "alias", "noivu", "sonoivu"], ""));
    ok(&server.cli(&["directory", "reserve", "vanthu", "--note", "văn thư"], ""));
    let accounts = count(&server, "accounts");
    for local in ["sonoivu", "datnv", "noivu", "vanthu"] {
        let err = refused(&server.cli(
            &[
                "account",
                "add",
                &format!("{local}@{DOMAIN}"),
                "--name",
                "X",
                "--exception",
                "test",
            ],
            "",
        ));
        assert!(err.contains("already exists"), "{local}: {err}");
    }
    assert_eq!(count(&server, "accounts"), accounts);
    assert_eq!(count(&server, "account_exceptions"), 1);

    // An administrator is a person or an exception; a unit's mailbox is neither.
    let err = refused(&server.cli(
        &["admin", "grant", &format!("sonoivu@{DOMAIN}"), "--focal"],
        "",
    ));
    assert!(
        err.contains("not a person of the directory nor a recorded exception"),
        "{err}"
    );
    ok(&server.cli(&["admin", "grant", &person, "--unit", "CB25-002"], ""));
    ok(&server.cli(&["admin", "grant", &postmaster, "--focal"], ""));
    assert_eq!(count(&server, "admins"), 2);
}

#[test]
fn every_administrative_act_is_in_the_audit_log_and_the_chain_verifies() {
    let server = TestServer::start();
    // An import whose people file gives one address itself, with the duplicate style
    // overridden.
    import(
        &server,
        Some(&format!(
            "full_name,unit,email\n\
             Hà Thị Hòa,CB25-002,hoa.noivu@{DOMAIN}\n\
             Lý A Sần,CB25-003,\n"
        )),
        &["--person-duplicates", "unit"],
    );
    ok(&server.cli(&["directory", "alias", "noivu", "sonoivu"], ""));
    ok(&server.cli(&["directory", "reserve", "vanthu", "--note", "văn thư"], ""));
    let person = server.add_person("CB25-002", "Nông Văn Đạt", "Mat-khau-dung-1");
    let admin = server.add_account("qtv", "Quản trị", "Quan-tri-dung-1");
    ok(&server.cli(
        &["account", "password", &person, "--no-force-change"],
        "Mat-khau-moi-2026\n",
    ));
    ok(&server.cli(&["admin", "grant", &admin, "--focal"], ""));
    // The console's reset by the administrator.
    let session = sign_in(&server, &admin, "Quan-tri-dung-1").expect("the administrator signs in");
    let (_, page) = get(&server, "/admin", &session);
    let csrf = csrf_of(&page);
    let (head, _) = post(
        &server,
        "/admin/reset",
        &session,
        &format!("csrf={csrf}&address={}", form_value(&person)),
    );
    assert_eq!(status(&head), 200, "{head}");

    let (actor, after) = audited(&server, "directory.import", "directory");
    assert!(actor.starts_with("cli:"), "{actor}");
    assert!(after.contains(r#""people":2"#), "{after}");
    assert!(after.contains(r#""person_duplicates":"unit""#), "{after}");
    let (_, after) = audited(
        &server,
        "directory.override",
        &format!("account:hoa.noivu@{DOMAIN}"),
    );
    assert!(after.contains(r#""line":2"#), "{after}");
    audited(&server, "directory.alias", &format!("alias:noivu@{DOMAIN}"));
    audited(&server, "directory.reserve", "reserved:vanthu");
    audited(&server, "account.add", &format!("account:{person}"));
    audited(
        &server,
        "account.add_exception",
        &format!("account:{admin}"),
    );
    let (actor, _) = audited(
        &server,
        "account.set_password",
        &format!("account:{person}"),
    );
    assert!(actor.starts_with("cli:"), "{actor}");
    audited(&server, "admin.grant", &format!("account:{admin}"));
    let (actor, _) = audited(
        &server,
        "account.reset_password",
        &format!("account:{person}"),
    );
    assert_eq!(actor, admin);
    // Only the one override is recorded as such.
    assert_eq!(
        audit(&server)
            .iter()
            .filter(|r| r.1 == "directory.override")
            .count(),
        1
    );

    // The console's audit page lists the exceptions with their reasons.
    let (head, page) = get(&server, "/admin/audit", &session);
    assert_eq!(status(&head), 200, "{head}");
    let listed = &page[page
        .find(r#"id="exceptions""#)
        .expect("the exceptions table")..];
    assert!(listed.contains(&admin), "{listed}");
    assert!(listed.contains(super::harness::TEST_ACCOUNT), "{listed}");

    let out = ok(&server.cli(&["lifecycle", "audit", "--verify"], ""));
    assert!(out.contains("hash chain intact"), "{out}");
}
