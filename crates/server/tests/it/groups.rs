//! Group addresses through the real binary: `hopthu group create|list|show|delete` on a small
//! province (a department with two communes below it, another department), mail to a group
//! over the MX listener and submission read back over IMAPS (one copy per member, one body
//! stored), the senders policies answered at RCPT, the CLI's refusals (nothing changed) and the
//! console's `/admin/groups` with each administrator's scope.

use std::process::Output;

use serde_json::Value;

use super::admin::{csrf_of, form_value, get, post, sign_in, status};
use super::harness::{DOMAIN, TestServer};
use super::lifecycle::make_head;
use super::submit::compose_post;
use super::web::sign_in as web_sign_in;

const UNITS: &str = "kind,code,name,parent\n\
                     department,CB25-002,Nội vụ,\n\
                     commune,CB25-950,Xã Kiểm Tra,CB25-002\n\
                     commune,CB25-951,Xã Thử Nghiệm,CB25-002\n\
                     department,CB25-003,Y tế,\n";

const PW: &str = "Mat-khau-Nhom-1";

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(server: &TestServer, args: &[&str]) -> String {
    let out = server.cli(args, "");
    assert!(out.status.success(), "{args:?}: {}", text(&out));
    String::from_utf8(out.stdout).unwrap()
}

fn refused(server: &TestServer, args: &[&str]) -> String {
    let out = server.cli(args, "");
    assert!(!out.status.success(), "{args:?} succeeded: {}", text(&out));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn count(server: &TestServer, sql: &str) -> u64 {
    server.sql(sql).trim().parse().unwrap()
}

/// The people of the small province, by role.
struct Province {
    /// Head of Nội vụ (CB25-002).
    head_noivu: String,
    /// Nội vụ.
    noivu: String,
    /// Head of Xã Kiểm Tra (CB25-950).
    head_kiemtra: String,
    /// Xã Thử Nghiệm (CB25-951).
    thunghiem: String,
    /// Head of Y tế (CB25-003).
    head_yte: String,
    /// Y tế.
    yte: String,
}

impl Province {
    /// Nội vụ and its subtree.
    fn subtree(&self) -> Vec<String> {
        let mut v = vec![
            self.head_noivu.clone(),
            self.noivu.clone(),
            self.head_kiemtra.clone(),
            self.thunghiem.clone(),
        ];
        v.sort();
        v
    }
}

fn province(server: &TestServer) -> Province {
    let units = server.dir.join("units.csv");
    std::fs::write(&units, UNITS).unwrap();
    ok(
        server,
        &["directory", "import", "--units", units.to_str().unwrap()],
    );
    let p = Province {
        head_noivu: server.add_person("CB25-002", "Nông Văn An", PW),
        noivu: server.add_person("CB25-002", "Lục Thị Bình", PW),
        head_kiemtra: server.add_person("CB25-950", "Hoàng Văn Chiến", PW),
        thunghiem: server.add_person("CB25-951", "Đàm Thị Dung", PW),
        head_yte: server.add_person("CB25-003", "Bế Văn Em", PW),
        yte: server.add_person("CB25-003", "Vi Thị Giang", PW),
    };
    make_head(server, "CB25-002", &p.head_noivu);
    make_head(server, "CB25-950", &p.head_kiemtra);
    make_head(server, "CB25-003", &p.head_yte);
    p
}

fn show(server: &TestServer, address: &str) -> Value {
    let out = ok(server, &["group", "show", address, "--format", "json"]);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn resolved(server: &TestServer, address: &str) -> Vec<String> {
    show(server, address)["resolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// How many messages with `subject` the INBOX of `address` holds, read over IMAPS.
fn copies(server: &TestServer, address: &str, subject: &str) -> u32 {
    server
        .python("group_mail.py", &["count", address, PW, subject])
        .trim()
        .parse()
        .unwrap()
}

/// Sends over the MX listener: the RCPT answers ("RCPT CODE TEXT" lines) and "sent".
fn mx(server: &TestServer, from: &str, subject: &str, rcpts: &[&str]) -> String {
    let mut args = vec!["mx", from, subject];
    args.extend_from_slice(rcpts);
    server.python("group_mail.py", &args)
}

/// Sends over submission, signed in as `login`.
fn submit(server: &TestServer, login: &str, subject: &str, rcpts: &[&str]) -> String {
    let mut args = vec!["submit", login, PW, subject];
    args.extend_from_slice(rcpts);
    server.python("group_mail.py", &args)
}

/// The RCPT answer's code for `rcpt` in a send's output.
fn rcpt_code(out: &str, rcpt: &str) -> u16 {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{rcpt} ")))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no answer for {rcpt}: {out}"))
        .parse()
        .unwrap()
}

#[test]
fn a_group_delivers_one_copy_per_member_and_stores_the_body_once() {
    let server = TestServer::start();
    let p = province(&server);
    let group = format!("toan.noivu@{DOMAIN}");
    let out = ok(
        &server,
        &[
            "group",
            "create",
            &group,
            "--name",
            "Toàn Sở Nội vụ",
            "--unit",
            "CB25-002",
            "--subtree",
        ],
    );
    assert!(out.contains(&group) && out.contains("4"), "{out}");
    assert_eq!(resolved(&server, &group), p.subtree());
    let shown = show(&server, &group);
    assert_eq!(shown["unit"], "CB25-002");
    assert_eq!(shown["subtree"], true);
    assert_eq!(shown["senders"], "anyone");

    // A group to a subtree, with one member also addressed directly: one copy each, one body.
    let blobs = count(&server, "SELECT COUNT(*) FROM blobs");
    let messages = count(&server, "SELECT COUNT(*) FROM messages");
    let out = mx(
        &server,
        "vanphong@example.org",
        "G1-subtree",
        &[&group, &p.noivu],
    );
    assert_eq!(rcpt_code(&out, &group), 250, "{out}");
    assert!(out.ends_with("sent\n"), "{out}");
    for member in p.subtree() {
        assert_eq!(copies(&server, &member, "G1-subtree"), 1, "{member}");
    }
    assert_eq!(copies(&server, &p.head_yte, "G1-subtree"), 0);
    assert_eq!(count(&server, "SELECT COUNT(*) FROM blobs"), blobs + 1);
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM messages"),
        messages + 4
    );

    // Without --subtree: the unit's own people; --heads: the heads only.
    let own = format!("noivu.rieng@{DOMAIN}");
    ok(
        &server,
        &[
            "group",
            "create",
            &own,
            "--name",
            "Nội vụ",
            "--unit",
            "CB25-002",
        ],
    );
    let mut expected = vec![p.head_noivu.clone(), p.noivu.clone()];
    expected.sort();
    assert_eq!(resolved(&server, &own), expected);
    let heads_subtree = format!("lanhdao.noivu@{DOMAIN}");
    ok(
        &server,
        &[
            "group",
            "create",
            &heads_subtree,
            "--name",
            "Lãnh đạo khối Nội vụ",
            "--unit",
            "CB25-002",
            "--subtree",
            "--heads",
        ],
    );
    let mut expected = vec![p.head_noivu.clone(), p.head_kiemtra.clone()];
    expected.sort();
    assert_eq!(resolved(&server, &heads_subtree), expected);

    // Every head of the province plus a hand-made member; two groups sharing members: one
    // copy each.
    let heads = format!("lanhdao@{DOMAIN}");
    ok(
        &server,
        &[
            "group",
            "create",
            &heads,
            "--name",
            "Lãnh đạo các đơn vị",
            "--heads",
            "--member",
            &p.yte,
        ],
    );
    let mut expected = vec![
        p.head_noivu.clone(),
        p.head_kiemtra.clone(),
        p.head_yte.clone(),
        p.yte.clone(),
    ];
    expected.sort();
    assert_eq!(resolved(&server, &heads), expected);
    let blobs = count(&server, "SELECT COUNT(*) FROM blobs");
    let out = mx(
        &server,
        "vanphong@example.org",
        "G2-heads",
        &[&heads, &group],
    );
    assert!(out.ends_with("sent\n"), "{out}");
    for member in [
        &p.head_noivu,
        &p.noivu,
        &p.head_kiemtra,
        &p.thunghiem,
        &p.head_yte,
        &p.yte,
    ] {
        assert_eq!(copies(&server, member, "G2-heads"), 1, "{member}");
    }
    assert_eq!(count(&server, "SELECT COUNT(*) FROM blobs"), blobs + 1);

    // The directory is read when mail arrives: a new person of a commune is a member at once.
    let newcomer = server.add_person("CB25-951", "La Văn Hùng", PW);
    assert!(resolved(&server, &group).contains(&newcomer));
    mx(&server, "vanphong@example.org", "G3-newcomer", &[&group]);
    assert_eq!(copies(&server, &newcomer, "G3-newcomer"), 1);

    // The list, and the delete: the address is unknown afterwards.
    let list: Value =
        serde_json::from_str(&ok(&server, &["group", "list", "--format", "json"])).unwrap();
    let addresses: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["address"].as_str().unwrap())
        .collect();
    let mut expected = vec![
        heads.as_str(),
        heads_subtree.as_str(),
        own.as_str(),
        group.as_str(),
    ];
    expected.sort();
    assert_eq!(addresses, expected, "by address");
    let out = ok(&server, &["group", "list"]);
    assert_eq!(out.lines().count(), 4, "{out}");
    ok(&server, &["group", "delete", &group]);
    let out = mx(&server, "vanphong@example.org", "G4-deleted", &[&group]);
    assert_eq!(rcpt_code(&out, &group), 550, "{out}");
    assert!(out.contains("5.1.1"), "{out}");
    refused(&server, &["group", "delete", &group]);
    let audit = server.sql(
        "SELECT action || ' ' || target FROM audit_log WHERE action LIKE 'group.%' ORDER BY id",
    );
    assert_eq!(
        audit.lines().collect::<Vec<_>>(),
        vec![
            format!("group.create group:{group}"),
            format!("group.create group:{own}"),
            format!("group.create group:{heads_subtree}"),
            format!("group.create group:{heads}"),
            format!("group.delete group:{group}"),
        ]
    );
}

#[test]
fn who_may_send_to_a_group_is_decided_at_rcpt() {
    let server = TestServer::start();
    let p = province(&server);

    // Members only: an outsider and an unauthenticated local address are refused at RCPT; a
    // member signed in is accepted, a local person who is no member refused.
    let members = format!("hop.noivu@{DOMAIN}");
    ok(
        &server,
        &[
            "group",
            "create",
            &members,
            "--name",
            "Họp Nội vụ",
            "--unit",
            "CB25-002",
            "--senders",
            "members",
        ],
    );
    let out = mx(&server, "ai.do@example.org", "S1-outsider", &[&members]);
    assert_eq!(rcpt_code(&out, &members), 550, "{out}");
    assert!(out.contains("5.7.1") && out.contains("members"), "{out}");
    assert!(out.contains("thanh vien"), "{out}");
    assert!(out.ends_with("not sent\n"), "{out}");
    let out = mx(&server, &p.noivu, "S1-spoofed", &[&members]);
    assert_eq!(rcpt_code(&out, &members), 550, "{out}");
    let out = submit(&server, &p.noivu, "S1-member", &[&members]);
    assert_eq!(rcpt_code(&out, &members), 250, "{out}");
    assert_eq!(copies(&server, &p.head_noivu, "S1-member"), 1);
    let out = submit(&server, &p.yte, "S1-not-member", &[&members]);
    assert_eq!(rcpt_code(&out, &members), 550, "{out}");
    assert_eq!(copies(&server, &p.head_noivu, "S1-outsider"), 0);
    // The webmail asks the same: a member sends, a person who is no member is told why.
    let compose = |login: &str, subject: &str| {
        let (session, csrf) = web_sign_in(&server, login, PW);
        compose_post(
            &server,
            &session,
            &[
                ("csrf", csrf.as_str()),
                ("to", members.as_str()),
                ("cc", ""),
                ("bcc", ""),
                ("subject", subject),
                ("body", "Noi dung"),
                ("action", "send"),
            ],
        )
    };
    let out = compose(&p.noivu, "S1-webmail-member");
    assert!(out.starts_with("HTTP/1.1 303"), "{out}");
    assert_eq!(copies(&server, &p.head_noivu, "S1-webmail-member"), 1);
    let out = compose(&p.yte, "S1-webmail-other");
    assert!(out.starts_with("HTTP/1.1 403"), "{out}");
    assert!(out.contains("thành viên"), "{out}");
    assert_eq!(copies(&server, &p.head_noivu, "S1-webmail-other"), 0);

    // The province only: any signed-in person of ours, nobody from outside.
    let province = format!("toantinh@{DOMAIN}");
    ok(
        &server,
        &[
            "group",
            "create",
            &province,
            "--name",
            "Lãnh đạo toàn tỉnh",
            "--heads",
            "--senders",
            "province",
        ],
    );
    let out = submit(&server, &p.thunghiem, "S2-local", &[&province]);
    assert_eq!(rcpt_code(&out, &province), 250, "{out}");
    assert_eq!(copies(&server, &p.head_yte, "S2-local"), 1);
    let out = mx(&server, "ai.do@example.org", "S2-outside", &[&province]);
    assert_eq!(rcpt_code(&out, &province), 550, "{out}");
    assert!(out.contains("5.7.1") && out.contains("province"), "{out}");
    let out = mx(&server, &p.thunghiem, "S2-spoofed", &[&province]);
    assert_eq!(rcpt_code(&out, &province), 550, "{out}");

    // Named addresses: one outside (trusted on its MAIL FROM), one of ours (signed in).
    let named = format!("tin.yte@{DOMAIN}");
    let senders = format!("vanthu@example.org,{}", p.head_noivu);
    ok(
        &server,
        &[
            "group",
            "create",
            &named,
            "--name",
            "Tin Y tế",
            "--unit",
            "CB25-003",
            "--senders",
            &senders,
        ],
    );
    // Kept by address.
    assert_eq!(
        show(&server, &named)["senders"],
        format!("{},vanthu@example.org", p.head_noivu).as_str()
    );
    let out = mx(&server, "vanthu@example.org", "S3-named", &[&named]);
    assert_eq!(rcpt_code(&out, &named), 250, "{out}");
    assert_eq!(copies(&server, &p.yte, "S3-named"), 1);
    let out = mx(&server, "khac@example.org", "S3-other", &[&named]);
    assert_eq!(rcpt_code(&out, &named), 550, "{out}");
    let out = mx(&server, &p.head_noivu, "S3-spoofed", &[&named]);
    assert_eq!(rcpt_code(&out, &named), 550, "{out}");
    let out = submit(&server, &p.head_noivu, "S3-signed-in", &[&named]);
    assert_eq!(rcpt_code(&out, &named), 250, "{out}");
    let out = submit(&server, &p.noivu, "S3-not-named", &[&named]);
    assert_eq!(rcpt_code(&out, &named), 550, "{out}");
    assert_eq!(copies(&server, &p.yte, "S3-signed-in"), 1);
    assert_eq!(copies(&server, &p.yte, "S3-other"), 0);
}

#[test]
fn bad_groups_are_refused_and_change_nothing() {
    let server = TestServer::start();
    let p = province(&server);
    let existing = format!("nhom@{DOMAIN}");
    ok(
        &server,
        &["group", "create", &existing, "--name", "Nhóm", "--heads"],
    );
    let state = || {
        server.sql(
            "SELECT (SELECT COUNT(*) FROM mail_groups) || ' ' || \
                    (SELECT COUNT(*) FROM mail_group_addresses) || ' ' || \
                    (SELECT COUNT(*) FROM audit_log)",
        )
    };
    let before = state();
    let free = format!("moi@{DOMAIN}");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--name", "X", "--unit", "CB25-999"], "CB25-999"),
        (
            vec![
                "--name",
                "X",
                "--unit",
                "CB25-002",
                "--senders",
                "members,@@",
            ],
            "--senders",
        ),
        (
            vec!["--name", "X", "--member", "khongco@caobang.gov.vn"],
            "khongco@caobang.gov.vn",
        ),
        (vec!["--name", "X"], "--member"),
        (vec!["--name", " ", "--heads"], "name"),
        (vec!["--name", "X", "--subtree"], "--unit"),
        (
            vec!["--name", "X", "--heads", "--member", existing.as_str()],
            "group",
        ),
    ];
    for (extra, word) in cases {
        let mut args = vec!["group", "create", free.as_str()];
        args.extend(extra.iter().copied());
        let err = refused(&server, &args);
        assert!(err.contains(word), "{args:?}: {err}");
    }
    // Taken addresses: a person's, a unit's, a system name, another group, another domain.
    let unit_address = server.sql("SELECT address FROM units WHERE code = 'CB25-002'");
    for (address, word) in [
        (p.noivu.as_str(), "already exists"),
        (unit_address.trim(), "already exists"),
        ("postmaster@caobang.gov.vn", "already exists"),
        (existing.as_str(), "already exists"),
        ("nhom@example.org", "domain"),
    ] {
        let err = refused(
            &server,
            &["group", "create", address, "--name", "X", "--heads"],
        );
        assert!(err.contains(word), "{address}: {err}");
    }
    assert_eq!(state(), before);
    // And the other way: an account may not take a group's address.
    let out = server.cli(
        &[
            "account",
            "add",
            &existing,
            "--name",
            "X",
            "--exception",
            "thử",
            "--password-stdin",
        ],
        "Mat-khau-Thu-12\n",
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("already exists"), "{}", text(&out));
    // Nor an alias, nor a person of a later import.
    let err = refused(&server, &["directory", "alias", &existing, &p.noivu]);
    assert!(err.contains("already given"), "{err}");
    // (The rules would give "Mạc Nho" nhom@.)
    let given = server.add_person("CB25-002", "Mạc Nho", PW);
    assert!(given.starts_with("nhom"), "{given}");
    assert_ne!(given, existing, "the rules gave another address");
    let err = refused(&server, &["group", "show", "khongco@caobang.gov.vn"]);
    assert!(err.contains("no such group"), "{err}");
}

#[test]
fn the_console_manages_groups_within_each_administrators_scope() {
    let server = TestServer::start_with("https = \"127.0.0.1:0\"\n");
    let p = province(&server);
    let focal = server.add_account("qtv.skhcn", "Quản trị Sở KH&CN", PW);
    let officer = server.add_account("cntt.kiemtra", "Cán bộ CNTT Xã Kiểm Tra", PW);
    ok(&server, &["admin", "grant", &focal, "--focal"]);
    ok(&server, &["admin", "grant", &officer, "--unit", "CB25-950"]);

    let session = sign_in(&server, &focal, PW).expect("focal signs in");
    let (head, page) = get(&server, "/admin/groups", &session);
    assert_eq!(status(&head), 200, "{head}");
    assert!(page.contains("Nhóm thư") && page.contains(r#"id="group-form""#));
    let (_, tree) = get(&server, "/admin", &session);
    assert!(
        tree.contains(r#"href="/admin/groups""#),
        "linked from the navigation"
    );
    let csrf = csrf_of(&page);
    let group = format!("toan.noivu@{DOMAIN}");
    let form = format!(
        "address={}&name={}&unit=CB25-002&subtree=1&members=&senders=members&named=",
        form_value(&group),
        form_value("Toàn Sở Nội vụ")
    );
    // Without the token: refused, nothing created.
    let (head, _) = post(&server, "/admin/groups", &session, &form);
    assert_eq!(status(&head), 403, "{head}");
    assert_eq!(count(&server, "SELECT COUNT(*) FROM mail_groups"), 0);
    let (head, _) = post(
        &server,
        "/admin/groups",
        &session,
        &format!("csrf={csrf}&{form}"),
    );
    assert_eq!(status(&head), 303, "{head}");
    let (_, page) = get(&server, "/admin/groups", &session);
    assert!(page.contains(&format!(r#"data-group="{group}""#)), "{page}");
    assert!(page.contains(r#"data-senders="members""#));
    assert_eq!(resolved(&server, &group), p.subtree());
    // A bad one is refused with the reason.
    let (head, page) = post(
        &server,
        "/admin/groups",
        &session,
        &format!("csrf={csrf}&address=x%40caobang.gov.vn&name=X&unit=CB25-999&senders=anyone"),
    );
    assert_eq!(status(&head), 400, "{head}");
    assert!(page.contains("CB25-999"));

    // The unit officer of Xã Kiểm Tra: their commune only.
    let officer_session = sign_in(&server, &officer, PW).expect("officer signs in");
    let (head, page) = get(&server, "/admin/groups", &officer_session);
    assert_eq!(status(&head), 200, "{head}");
    assert!(
        !page.contains(&group),
        "a group above their unit is not shown"
    );
    let csrf = csrf_of(&page);
    let create = |address: &str, unit: &str| {
        post(
            &server,
            "/admin/groups",
            &officer_session,
            &format!(
                "csrf={csrf}&address={}&name=X&unit={unit}&heads=1&senders=anyone",
                form_value(address)
            ),
        )
    };
    let (head, _) = create(&format!("lanhdao.kiemtra@{DOMAIN}"), "CB25-950");
    assert_eq!(status(&head), 303, "{head}");
    let (head, _) = create(&format!("lanhdao.yte@{DOMAIN}"), "CB25-003");
    assert_eq!(status(&head), 403, "{head}");
    let (head, _) = create(&format!("lanhdao.tinh@{DOMAIN}"), "");
    assert_eq!(status(&head), 403, "{head}");
    let (head, _) = post(
        &server,
        "/admin/groups/delete",
        &officer_session,
        &format!("csrf={csrf}&address={}", form_value(&group)),
    );
    assert_eq!(status(&head), 404, "{head}");
    assert_eq!(count(&server, "SELECT COUNT(*) FROM mail_groups"), 2);
    let (_, page) = get(&server, "/admin/groups", &officer_session);
    assert!(page.contains(&format!("lanhdao.kiemtra@{DOMAIN}")));

    // The focal unit deletes.
    let (_, page) = get(&server, "/admin/groups", &session);
    let csrf = csrf_of(&page);
    let (head, _) = post(
        &server,
        "/admin/groups/delete",
        &session,
        &format!("csrf={csrf}&address={}", form_value(&group)),
    );
    assert_eq!(status(&head), 303, "{head}");
    let (_, page) = get(&server, "/admin/groups", &session);
    assert!(!page.contains(&format!(r#"data-group="{group}""#)));
    assert_eq!(count(&server, "SELECT COUNT(*) FROM mail_groups"), 1);
}
