//! The directory after go-live through the real binary: the 2011 province reorganised into the
//! 2025 one (`hopthu directory reorganise`, dry run then run, counts checked against the files),
//! and the unit change requests (`hopthu lifecycle file unit_* --approve`, `/api/changes`), each
//! with its notice, and mail to an old address still delivered over SMTP.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};

use super::harness::{DOMAIN, TestServer};
use super::lifecycle::api;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/data")
        .join(name)
}

fn units_2025() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/units-2025.csv")
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `code → column` of a CSV file (header skipped), in file order.
fn csv_column(path: &Path, key: usize, value: usize) -> Vec<(String, String)> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    reader
        .records()
        .map(Result::unwrap)
        .map(|r| (r[key].to_string(), r[value].to_string()))
        .collect()
}

/// Sets a mailbox's password so IMAP accepts it (as its owner would in the webmail).
fn set_password(server: &TestServer, address: &str, password: &str) {
    ok(server.cli(
        &["account", "password", address, "--no-force-change"],
        &format!("{password}\n"),
    ));
}

/// Every folder of `address` with its message count (`None` for a `\Noselect` one).
fn folders(server: &TestServer, address: &str, password: &str) -> BTreeMap<String, Option<u64>> {
    let out = server.python("lifecycle_mail.py", &["folders", address, password]);
    let value: Value = serde_json::from_str(&out).unwrap();
    value
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64()))
        .collect()
}

fn subjects(server: &TestServer, address: &str, password: &str, min: usize) -> Vec<String> {
    let out = server.python(
        "lifecycle_mail.py",
        &["inbox", address, password, &min.to_string()],
    );
    serde_json::from_str::<Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["subject"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn send(server: &TestServer, to: &str, subject: &str) {
    server.python("lifecycle_mail.py", &["send", to, subject]);
}

fn rcpt(server: &TestServer, address: &str) -> String {
    server.python("lifecycle_mail.py", &["rcpt", address])
}

#[test]
fn the_2011_province_is_reorganised_into_the_2025_one() {
    let server = TestServer::start();
    let (units_2011, people_2011) = (data("units-2011.csv"), data("people-2011.csv"));
    let (new_units, map) = (units_2025(), data("map-2011-2025.csv"));
    ok(server.cli(
        &[
            "directory",
            "import",
            "--units",
            units_2011.to_str().unwrap(),
            "--people",
            people_2011.to_str().unwrap(),
        ],
        "",
    ));
    // A letter to Sở Kế hoạch và Đầu tư before the reform; it merges into Sở Tài chính.
    send(
        &server,
        &format!("sokhdt@{DOMAIN}"),
        "Công văn gửi Sở KH&ĐT năm 2024",
    );
    let waited = std::time::Instant::now();
    while server
        .sql(
            "SELECT COUNT(*) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id \
               JOIN accounts a ON a.id = b.account_id WHERE a.address LIKE 'sokhdt@%'",
        )
        .trim()
        != "1"
    {
        assert!(waited.elapsed().as_secs() < 20, "the letter did not arrive");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    let args = |extra: &[&'static str]| {
        let mut all = vec![
            "directory",
            "reorganise",
            "--units",
            new_units.to_str().unwrap(),
            "--map",
            map.to_str().unwrap(),
        ];
        all.extend_from_slice(extra);
        all.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let run = |extra: &[&'static str]| {
        let owned = args(extra);
        let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
        server.cli(&refs, "")
    };

    // The dry run, checked against the files.
    let plan: Value = serde_json::from_str(&ok(run(&["--dry-run", "--format", "json"]))).unwrap();
    let old_units = csv_column(&units_2011, 1, 2);
    let new_rows = csv_column(&new_units, 1, 2);
    let dest: HashMap<String, String> = csv_column(&map, 0, 1).into_iter().collect();
    assert_eq!(plan["units_before"], old_units.len());
    assert_eq!(plan["units_after"], new_rows.len());
    let units = plan["units"].as_array().unwrap();
    let merged = plan["merged"].as_array().unwrap();
    assert_eq!(units.len(), new_rows.len());
    let continuing: Vec<&Value> = units.iter().filter(|u| u["from"].is_string()).collect();
    assert_eq!(
        continuing.len() + merged.len(),
        old_units.len(),
        "every old unit continues or merges"
    );
    for m in merged {
        let code = m["code"].as_str().unwrap();
        assert_eq!(m["into"].as_str(), Some(dest[code].as_str()), "{m}");
    }
    for u in &continuing {
        let from = u["from"].as_str().unwrap();
        assert_eq!(u["code"].as_str(), Some(dest[from].as_str()), "{u}");
    }
    // People move as the map says: each of the people file's rows lands in its unit's place.
    let mut wanted: BTreeMap<String, u64> = BTreeMap::new();
    for (_, unit) in csv_column(&people_2011, 0, 1) {
        *wanted.entry(dest[&unit].clone()).or_default() += 1;
    }
    let planned: BTreeMap<String, u64> = units
        .iter()
        .filter(|u| u["people"].as_u64().unwrap() > 0)
        .map(|u| {
            (
                u["code"].as_str().unwrap().to_string(),
                u["people"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(planned, wanted);
    let by_code = |code: &str| units.iter().find(|u| u["code"] == code).unwrap();
    // Sở Nội vụ goes on with its address; Sở Tài chính takes Sở KH&ĐT.
    assert_eq!(by_code("CB25-002")["fate"], "continues");
    assert_eq!(by_code("CB25-002")["address"], format!("sonoivu@{DOMAIN}"));
    assert_eq!(by_code("CB25-004")["from"], "CB11-005");
    // Xã Bảo Lâm is new and named like the retired district (R10.2): prefixed; the district's
    // address becomes its alias.
    assert_eq!(by_code("CB25-044")["fate"], "created");
    assert_eq!(by_code("CB25-044")["address"], format!("xabaolam@{DOMAIN}"));
    let alias_of = |address: String| {
        plan["aliases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["address"] == address.as_str())
            .map(|a| a["target"].as_str().unwrap().to_string())
    };
    assert_eq!(
        alias_of(format!("baolam@{DOMAIN}")),
        Some(format!("xabaolam@{DOMAIN}"))
    );
    assert_eq!(
        alias_of(format!("sokhdt@{DOMAIN}")),
        Some(format!("sotaichinh@{DOMAIN}"))
    );
    let text_plan = ok(run(&["--dry-run"]));
    assert!(text_plan.contains("CB11-004"), "{text_plan}");
    assert!(
        text_plan.contains("dry run: nothing changed"),
        "{text_plan}"
    );
    // Nothing changed.
    assert_eq!(
        server
            .sql("SELECT COUNT(*) FROM units WHERE dissolved_at IS NULL")
            .trim(),
        old_units.len().to_string()
    );

    // The run.
    let out = ok(run(&[]));
    assert!(out.contains("notices sent"), "{out}");
    assert_eq!(
        server
            .sql("SELECT COUNT(*) FROM units WHERE dissolved_at IS NULL")
            .trim(),
        new_rows.len().to_string()
    );
    let stored: BTreeMap<String, u64> = server
        .sql(
            "SELECT u.code, COUNT(*) FROM people p JOIN units u ON u.id = p.unit_id \
              GROUP BY u.code ORDER BY u.code",
        )
        .lines()
        .map(|l| {
            let (code, n) = l.split_once('|').unwrap();
            (code.to_string(), n.parse().unwrap())
        })
        .collect();
    assert_eq!(stored, wanted, "people by unit after the run");
    let stored_units: BTreeMap<String, String> = server
        .sql("SELECT code, name FROM units WHERE dissolved_at IS NULL ORDER BY code")
        .lines()
        .map(|l| {
            let (code, name) = l.split_once('|').unwrap();
            (code.to_string(), name.to_string())
        })
        .collect();
    let expected: BTreeMap<String, String> = new_rows.into_iter().collect();
    assert_eq!(stored_units, expected);

    // Mail to the old addresses still arrives; the old letter is in the archive folder.
    let sotc = format!("sotaichinh@{DOMAIN}");
    set_password(&server, &sotc, "Mat-khau-So-Tai-chinh-1");
    send(
        &server,
        &format!("sokhdt@{DOMAIN}"),
        "Gửi địa chỉ cũ của Sở KH&ĐT",
    );
    let inbox = subjects(&server, &sotc, "Mat-khau-So-Tai-chinh-1", 2);
    assert!(
        inbox.iter().any(|s| s == "Gửi địa chỉ cũ của Sở KH&ĐT"),
        "{inbox:?}"
    );
    assert!(
        inbox.iter().any(|s| s.contains("sắp xếp đơn vị")),
        "the notice: {inbox:?}"
    );
    let tree = folders(&server, &sotc, "Mat-khau-So-Tai-chinh-1");
    assert_eq!(tree.get("Lưu trữ/sokhdt/INBOX"), Some(&Some(1)), "{tree:?}");
    let xabaolam = format!("xabaolam@{DOMAIN}");
    assert!(rcpt(&server, &format!("baolam@{DOMAIN}")).starts_with("250"));
    set_password(&server, &xabaolam, "Mat-khau-Bao-Lam-1");
    send(&server, &format!("baolam@{DOMAIN}"), "Gửi Huyện Bảo Lâm cũ");
    let inbox = subjects(&server, &xabaolam, "Mat-khau-Bao-Lam-1", 2);
    assert!(
        inbox.iter().any(|s| s == "Gửi Huyện Bảo Lâm cũ"),
        "{inbox:?}"
    );

    // The published directory follows at once.
    let (_, body) = api(
        &server,
        ("", ""),
        "GET",
        "/directory.json?unit=CB25-044",
        None,
    );
    assert!(body.to_string().contains("Xã Bảo Lâm"), "{body}");

    // Audited, and the chain holds; the same files again are refused and change nothing.
    let audit = server.sql("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'unit.reorganise.%'");
    assert_eq!(audit.trim(), (units.len() + merged.len()).to_string());
    ok(server.cli(&["lifecycle", "audit", "--verify"], ""));
    let again = run(&[]);
    assert!(!again.status.success());
    assert!(
        text(&again).contains("not a unit of the directory"),
        "{}",
        text(&again)
    );
}

#[test]
fn unit_changes_are_filed_approved_announced_and_keep_old_addresses() {
    let server = TestServer::start();
    let dir = server.dir.join("files");
    std::fs::create_dir_all(&dir).unwrap();
    let units = dir.join("units.csv");
    std::fs::write(
        &units,
        "kind,code,name,parent\n\
         department,CB25-008,Sở Khoa học và Công nghệ,\n\
         department,CB25-010,Sở Y tế,\n\
         department,CB25-099,Sở Thông tin và Truyền thông,\n\
         commune,CB25-047,Xã Hưng Đạo,\n\
         commune,CB25-060,Xã Minh Tâm,\n",
    )
    .unwrap();
    let people = dir.join("people.csv");
    std::fs::write(
        &people,
        "full_name,unit,position\n\
         Nông Văn Đạt,CB25-099,Chuyên viên\n\
         Lục Thị Hoa,CB25-060,Công chức\n",
    )
    .unwrap();
    ok(server.cli(
        &[
            "directory",
            "import",
            "--units",
            units.to_str().unwrap(),
            "--people",
            people.to_str().unwrap(),
        ],
        "",
    ));
    let file = |args: &[&str]| {
        let mut all = vec!["lifecycle", "file"];
        all.extend_from_slice(args);
        server.cli(&all, "")
    };

    // unit_create: a new department with its mailbox, under the rules.
    let out = ok(file(&[
        "unit_create",
        "--code",
        "CB25-014",
        "--kind",
        "department",
        "--name",
        "Sở Dân tộc và Tôn giáo",
        "--approve",
    ]));
    assert!(out.contains(&format!("sodttg@{DOMAIN}")), "{out}");
    assert!(rcpt(&server, &format!("sodttg@{DOMAIN}")).starts_with("250"));

    // unit_rename: a new address by the rules; the old one still delivers (alias).
    send(&server, &format!("sotttt@{DOMAIN}"), "Trước khi đổi tên");
    ok(file(&[
        "unit_rename",
        "--unit",
        "CB25-099",
        "--name",
        "Sở Chuyển đổi số",
        "--approve",
    ]));
    let renamed = format!("socds@{DOMAIN}");
    assert_eq!(
        server
            .sql("SELECT address FROM units WHERE code = 'CB25-099'")
            .trim(),
        renamed
    );
    set_password(&server, &renamed, "Mat-khau-CDS-1");
    send(&server, &format!("sotttt@{DOMAIN}"), "Gửi địa chỉ cũ");
    let inbox = subjects(&server, &renamed, "Mat-khau-CDS-1", 3);
    for wanted in ["Trước khi đổi tên", "Gửi địa chỉ cũ"] {
        assert!(inbox.iter().any(|s| s == wanted), "{wanted}: {inbox:?}");
    }
    assert!(
        inbox.iter().any(|s| s.contains("sắp xếp đơn vị")),
        "the notice: {inbox:?}"
    );

    // unit_move: under another unit, the address stays.
    ok(file(&[
        "unit_move",
        "--unit",
        "CB25-099",
        "--parent",
        "CB25-008",
        "--approve",
    ]));
    assert_eq!(
        server
            .sql(
                "SELECT p.code, u.address FROM units u JOIN units p ON p.id = u.parent_id \
                  WHERE u.code = 'CB25-099'"
            )
            .trim(),
        format!("CB25-008|{renamed}")
    );
    // A move under its own subtree is refused and nothing is filed.
    let refused = file(&["unit_move", "--unit", "CB25-008", "--parent", "CB25-099"]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("subtree"), "{}", text(&refused));

    // unit_merge through the API: Xã Minh Tâm into Xã Hưng Đạo, its person, mail and address.
    let focal = server.add_account("qtv.skhcn", "Quản trị Sở KH&CN", "Focal-Password-1");
    ok(server.cli(&["admin", "grant", &focal, "--focal"], ""));
    let minhtam = format!("minhtam@{DOMAIN}");
    send(&server, &minhtam, "Thư gửi Xã Minh Tâm");
    let (status, filed) = api(
        &server,
        (&focal, "Focal-Password-1"),
        "POST",
        "/api/changes",
        Some(
            json!({"kind": "unit_merge", "unit": "CB25-060", "into": "CB25-047",
                    "reason": "Nghị quyết sắp xếp đơn vị hành chính"}),
        ),
    );
    assert_eq!(status, 201, "{filed}");
    let id = filed["id"].as_i64().unwrap();
    let (status, approved) = api(
        &server,
        (&focal, "Focal-Password-1"),
        "POST",
        &format!("/api/changes/{id}/approve"),
        Some(json!({})),
    );
    assert_eq!(status, 200, "{approved}");
    assert!(
        approved["notices"][0]["subject"]
            .as_str()
            .unwrap_or_default()
            .contains("sắp xếp"),
        "{approved}"
    );
    let hungdao = format!("hungdao@{DOMAIN}");
    assert_eq!(
        server
            .sql(
                "SELECT u.code FROM people p JOIN units u ON u.id = p.unit_id \
                  WHERE p.full_name = 'Lục Thị Hoa'"
            )
            .trim(),
        "CB25-047"
    );
    set_password(&server, &hungdao, "Mat-khau-Hung-Dao-1");
    send(&server, &minhtam, "Gửi Xã Minh Tâm sau hợp nhất");
    let inbox = subjects(&server, &hungdao, "Mat-khau-Hung-Dao-1", 2);
    assert!(
        inbox.iter().any(|s| s == "Gửi Xã Minh Tâm sau hợp nhất"),
        "{inbox:?}"
    );
    let tree = folders(&server, &hungdao, "Mat-khau-Hung-Dao-1");
    assert_eq!(
        tree.get("Lưu trữ/minhtam/INBOX"),
        Some(&Some(1)),
        "{tree:?}"
    );
    assert!(
        server
            .sql("SELECT code FROM units WHERE dissolved_at IS NULL")
            .lines()
            .all(|c| c != "CB25-060")
    );

    // unit_dissolve: refused while people remain, then done; mail to it is refused.
    let refused = file(&["unit_dissolve", "--unit", "CB25-047"]);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("move them first"),
        "{}",
        text(&refused)
    );
    ok(file(&["unit_dissolve", "--unit", "CB25-010", "--approve"]));
    assert!(rcpt(&server, &format!("soyte@{DOMAIN}")).starts_with("550"));
    let notices = server.sql("SELECT COUNT(*) FROM notices");
    assert!(notices.trim().parse::<u32>().unwrap() >= 6, "{notices}");
    // Every approval is in the audit log, whose chain holds.
    for kind in [
        "unit_create",
        "unit_rename",
        "unit_move",
        "unit_merge",
        "unit_dissolve",
    ] {
        let n = server.sql(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'change.approve.{kind}'"
        ));
        assert_eq!(n.trim(), "1", "{kind}");
    }
    ok(server.cli(&["lifecycle", "audit", "--verify"], ""));
}
