//! The Đ13.1 figure from the ledger of mailbox openings, through the real binary: IMAP SELECT
//! and EXAMINE of INBOX, a POP3 session and the webmail's INBOX are counted per day, an SMTP
//! sign-in is not; `hopthu report --format json|csv` over a chosen week of written openings
//! gives the share of person-days with two openings, working days only (weekends and the
//! configured holidays left out), the same every time it is asked.

use serde_json::Value;

use super::harness::{DOMAIN, TestServer};

/// Days since 1970-01-01 of a date.
fn day(y: i32, m: u32, d: u32) -> i64 {
    (chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
        - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
    .num_days()
}

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The password of the small province's people.
const PASSWORD: &str = "Mat-khau-bao-cao-1";

/// Sở Y tế (Đạt, Hoa, Minh) and Sở Tư pháp (Lan), imported, each with [`PASSWORD`]; their
/// addresses.
fn small_province(server: &TestServer) -> [String; 4] {
    let dir = server.dir.join("files");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("units.csv"),
        "kind,code,name,parent\ndepartment,CB25-010,Sở Y tế,\ndepartment,CB25-003,Sở Tư pháp,\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("people.csv"),
        "full_name,unit\nNông Văn Đạt,CB25-010\nLục Thị Hoa,CB25-010\nHoàng Văn Minh,CB25-010\n\
         Bế Thị Lan,CB25-003\n",
    )
    .unwrap();
    ok(server.cli(
        &[
            "directory",
            "import",
            "--units",
            dir.join("units.csv").to_str().unwrap(),
            "--people",
            dir.join("people.csv").to_str().unwrap(),
        ],
        "",
    ));
    ["datnv", "hoalt", "minhhv", "lanbt"].map(|l| {
        let address = format!("{l}@{DOMAIN}");
        ok(server.cli(
            &["account", "password", &address, "--no-force-change"],
            &format!("{PASSWORD}\n"),
        ));
        address
    })
}

#[test]
fn openings_are_counted_and_the_report_shares_them_over_working_days() {
    // Wednesday 2026-06-03 is a holiday here.
    let server =
        TestServer::start_with("https = \"127.0.0.1:0\"\n[report]\nholidays = [\"2026-06-03\"]\n");
    let password = PASSWORD;
    let [dat, hoa, minh, lan] = small_province(&server);

    // Today, by the protocols: IMAP opens INBOX twice (the Sent folder between does not
    // count), POP3 once and the webmail once, SMTP not at all.
    server.python("report_opens.py", &["imap", &dat, password]);
    server.python("report_opens.py", &["pop3", &hoa, password]);
    let (session, _) = super::web::sign_in(&server, &hoa, password);
    let (head, _) = super::web::get(&server, "/mail", &session);
    let inbox = super::web::header(&head, "location")[0].to_string();
    let (head, _) = super::web::get(&server, &inbox, &session);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    server.python("report_opens.py", &["smtp", &minh, password]);
    let opens = |address: &str| {
        server
            .sql(&format!(
                "SELECT COALESCE(SUM(o.opens), 0) FROM mailbox_opens o \
                   JOIN accounts a ON a.id = o.account_id WHERE a.address = '{address}'"
            ))
            .trim()
            .to_string()
    };
    assert_eq!(opens(&dat), "2");
    assert_eq!(opens(&hoa), "2");
    assert_eq!(opens(&minh), "0");

    // A chosen week, written to the ledger: Monday 2026-06-01 to Sunday 2026-06-07.
    // Đạt opens twice every day (weekend and holiday included); Hoa twice on Monday and
    // Tuesday, once on Thursday; Minh never; Lan (Sở Tư pháp) twice on Friday.
    let account = |address: &str| account_id(&server, address);
    let monday = day(2026, 6, 1);
    let mut rows = Vec::new();
    for d in 0..7 {
        rows.push((account(&dat), monday + d, 2));
    }
    rows.push((account(&hoa), monday, 2));
    rows.push((account(&hoa), monday + 1, 3));
    rows.push((account(&hoa), monday + 3, 1));
    rows.push((account(&lan), monday + 4, 2));
    for (a, d, n) in rows {
        server.sql(&format!(
            "INSERT INTO mailbox_opens (account_id, day, opens, unit_id) \
             VALUES ({a}, {d}, {n}, (SELECT unit_id FROM people WHERE account_id = {a}))"
        ));
    }
    // The mailboxes existed before that week (their creation written back to May), and Minh
    // retires today: the week's figures still count him active, today's count him revoked.
    server.sql("UPDATE mailbox_events SET at = 1777593600 WHERE kind = 'created'");
    ok(server.cli(
        &[
            "lifecycle",
            "file",
            "retirement",
            "--person",
            &minh,
            "--approve",
        ],
        "",
    ));
    let report = |format: &str| {
        ok(server.cli(
            &[
                "report",
                "--from",
                "2026-06-01",
                "--to",
                "2026-06-07",
                "--format",
                format,
            ],
            "",
        ))
    };
    let json: Value = serde_json::from_str(&report("json")).unwrap();
    assert_eq!(json["from"], "2026-06-01");
    assert_eq!(json["to"], "2026-06-07");
    let unit = |code: &str| {
        json["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["code"] == code)
            .unwrap_or_else(|| panic!("{code} in {json}"))
            .clone()
    };
    // Working days: Mon, Tue, Thu, Fri (Wednesday is the holiday) = 4.
    // Sở Y tế: 3 people × 4 days = 12; Đạt 4, Hoa 2 (Thursday has one opening) → 6/12.
    let soyte = unit("CB25-010");
    assert_eq!(soyte["active"], 3);
    assert_eq!(soyte["open_share"].as_f64(), Some(0.5), "{soyte}");
    assert_eq!(soyte["name"], "Sở Y tế");
    // Sở Tư pháp: 1 person × 4 days; Lan 1 → 0.25.
    assert_eq!(unit("CB25-003")["open_share"].as_f64(), Some(0.25));
    // The province: 7 of 16.
    assert_eq!(json["province"]["open_share"].as_f64(), Some(7.0 / 16.0));
    assert_eq!(json["province"]["active"], 4);
    for key in [
        "new",
        "revoked",
        "received",
        "sent",
        "incidents",
        "documents",
    ] {
        assert!(soyte.get(key).is_some(), "{key} in {soyte}");
    }
    assert_eq!(soyte["revoked"], 0);
    // Asked again, the same figures.
    let again: Value = serde_json::from_str(&report("json")).unwrap();
    assert_eq!(again["units"], json["units"]);
    let today = (chrono::Utc::now() + chrono::Duration::hours(7))
        .format("%Y-%m-%d")
        .to_string();
    let now: Value = serde_json::from_str(&ok(
        server.cli(&["report", "--from", &today, "--to", &today], "")
    ))
    .unwrap();
    let soyte_now = now["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == "CB25-010")
        .unwrap()
        .clone();
    assert_eq!(
        (soyte_now["active"].as_u64(), soyte_now["revoked"].as_u64()),
        (Some(2), Some(1))
    );

    // CSV (UTF-8 with a BOM) to a file, with the province's row last.
    let out = server.dir.join("report.csv");
    let printed = server.cli(
        &[
            "report",
            "--from",
            "2026-06-01",
            "--to",
            "2026-06-07",
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
        ],
        "",
    );
    ok(printed);
    let csv = std::fs::read_to_string(&out).unwrap();
    let csv = csv.strip_prefix('\u{FEFF}').expect("a BOM");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "code,name,active,new,revoked,received,sent,open_share,incidents,documents"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("CB25-010,Sở Y tế,3,") && l.contains(",0.5000,")),
        "{csv}"
    );
    assert!(lines.last().unwrap().contains("Toàn tỉnh"), "{csv}");
    // The Excel workbook: the same figures, read back, with its two native charts.
    let xlsx = server.dir.join("report.xlsx");
    ok(server.cli(
        &[
            "report",
            "--from",
            "2026-06-01",
            "--to",
            "2026-06-07",
            "--format",
            "xlsx",
            "--out",
            xlsx.to_str().unwrap(),
        ],
        "",
    ));
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/py/xlsx_report.py");
    let read = std::process::Command::new("/usr/bin/python3")
        .arg(&script)
        .arg(&xlsx)
        .output()
        .expect("python3");
    let book: Value = serde_json::from_str(&ok(read)).unwrap();
    assert_eq!(book["sheets"], serde_json::json!(["Báo cáo"]));
    let rows = book["rows"].as_array().unwrap();
    let soyte = rows
        .iter()
        .find(|r| r[0] == "CB25-010")
        .unwrap_or_else(|| panic!("{book}"));
    assert_eq!(soyte[1], "Sở Y tế");
    assert_eq!(soyte[2].as_f64(), Some(3.0));
    assert_eq!(soyte[7].as_f64(), Some(0.5));
    assert!(
        rows.last().unwrap()[1]
            .as_str()
            .unwrap()
            .contains("Toàn tỉnh")
    );
    let charts = book["charts"].as_array().unwrap();
    assert_eq!(charts.len(), 2, "{book}");
    assert!(charts.iter().all(|c| c["type"] == "barChart"), "{book}");
    assert!(
        charts[0]["title"].as_str().unwrap().contains("Đ13.1"),
        "{book}"
    );
    assert_eq!(charts[1]["series"], 2);
    // Without --out there is nowhere to write a workbook.
    assert!(
        !server
            .cli(
                &[
                    "report",
                    "--from",
                    "2026-06-01",
                    "--to",
                    "2026-06-07",
                    "--format",
                    "xlsx"
                ],
                ""
            )
            .status
            .success()
    );
    // A period that ends before it starts is refused.
    let bad = server.cli(
        &["report", "--from", "2026-06-07", "--to", "2026-06-01"],
        "",
    );
    assert!(!bad.status.success());
}

#[test]
fn people_who_seldom_open_their_mailbox_are_reminded_once_a_week() {
    let server = TestServer::start_with("[report]\nholidays = [\"2026-06-03\"]\n");
    let password = PASSWORD;
    let [dat, hoa, minh, lan] = small_province(&server);
    // The week of Monday 2026-06-01: four working days (Wednesday is a holiday). Đạt opens on
    // all four, Hoa on two (half: enough), Minh on one and on the Saturday, Lan never.
    let account = |address: &str| account_id(&server, address);
    let monday = day(2026, 6, 1);
    let mut rows = vec![];
    for d in [0, 1, 3, 4] {
        rows.push((account(&dat), monday + d));
    }
    rows.push((account(&hoa), monday));
    rows.push((account(&hoa), monday + 4));
    rows.push((account(&minh), monday + 1));
    rows.push((account(&minh), monday + 5));
    for (a, d) in rows {
        server.sql(&format!(
            "INSERT INTO mailbox_opens (account_id, day, opens, unit_id) \
             VALUES ({a}, {d}, 1, (SELECT unit_id FROM people WHERE account_id = {a}))"
        ));
    }
    let remind = |extra: &[&str]| {
        let mut args = vec![
            "lifecycle",
            "remind",
            "--as-of",
            "2026-06-08",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let v: Value = serde_json::from_str(&ok(server.cli(&args, ""))).unwrap();
        v
    };
    let dry = remind(&["--dry-run"]);
    assert_eq!(
        (dry["from"].as_str(), dry["to"].as_str()),
        (Some("2026-06-01"), Some("2026-06-07"))
    );
    let who: Vec<&str> = dry["reminded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["address"].as_str().unwrap())
        .collect();
    assert_eq!(who, [minh.as_str(), lan.as_str()], "{dry}");
    assert_eq!(dry["reminded"][0]["days_opened"], 1);
    assert_eq!(dry["reminded"][0]["working_days"], 4);
    assert_eq!(dry["units"], serde_json::json!(["CB25-003", "CB25-010"]));

    let sent = remind(&[]);
    assert_eq!(sent["already_sent"], false);
    let inbox = |address: &str, min: &str| {
        let out = server.python("lifecycle_mail.py", &["inbox", address, password, min]);
        let v: Value = serde_json::from_str(&out).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .filter(|m| m["subject"].as_str().unwrap_or_default().contains("Đ13.1"))
            .count()
    };
    assert_eq!(inbox(&minh, "1"), 1);
    assert_eq!(inbox(&lan, "1"), 1);
    assert_eq!(inbox(&hoa, "0"), 0);
    let unit_mail = server.sql(&format!(
        "SELECT COUNT(*) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id \
           JOIN accounts a ON a.id = b.account_id WHERE a.address = 'soyte@{DOMAIN}'"
    ));
    assert_eq!(unit_mail.trim(), "1", "one list to Sở Y tế");
    // Once a week: the second run sends nothing.
    let again = remind(&[]);
    assert_eq!(again["already_sent"], true);
    assert_eq!(inbox(&minh, "1"), 1);
}

/// `hopthu report --format pdf`: the written report in the Vietnamese administrative layout,
/// its text real text (pdftotext reads it back with its marks): the issuer under the
/// province's committee with its number, the quốc hiệu and tiêu ngữ, the place and date,
/// "BÁO CÁO" and its period, the province's figures, a row per unit with its figures, and
/// "Nơi nhận:".
#[test]
fn the_pdf_report_is_a_vietnamese_administrative_document_of_real_text() {
    if !super::needs::require(&[super::needs::PDFTOTEXT]) {
        return;
    }
    let server = TestServer::start_with("[report]\nholidays = [\"2026-06-03\"]\n");
    let [dat, hoa, _minh, lan] = small_province(&server);
    let account = |address: &str| account_id(&server, address);
    let unit = |code: &str| unit_id(&server, code);
    // The week of Monday 2026-06-01 (four working days): Đạt opens twice on each, Hoa on
    // two; Sở Y tế receives 12 and sends 5 messages, Sở Tư pháp receives 3.
    let monday = day(2026, 6, 1);
    for d in [0, 1, 3, 4] {
        server.sql(&format!(
            "INSERT INTO mailbox_opens (account_id, day, opens, unit_id) \
             VALUES ({a}, {}, 2, (SELECT unit_id FROM people WHERE account_id = {a}))",
            monday + d,
            a = account(&dat),
        ));
    }
    for d in [0, 1] {
        server.sql(&format!(
            "INSERT INTO mailbox_opens (account_id, day, opens, unit_id) \
             VALUES ({a}, {}, 3, (SELECT unit_id FROM people WHERE account_id = {a}))",
            monday + d,
            a = account(&hoa),
        ));
    }
    for (who, u, received, sent) in [
        (&dat, "CB25-010", 7, 5),
        (&hoa, "CB25-010", 5, 0),
        (&lan, "CB25-003", 3, 0),
    ] {
        server.sql(&format!(
            "INSERT INTO message_days (account_id, day, unit_id, received, sent) \
             VALUES ({}, {}, {}, {received}, {sent})",
            account(who),
            monday + 1,
            unit(u)
        ));
    }
    server.sql("UPDATE mailbox_events SET at = 1777593600 WHERE kind = 'created'");

    let pdf = server.dir.join("bao-cao.pdf");
    let args = |format: &str, number: &str| {
        let mut a = vec![
            "report".to_string(),
            "--from".into(),
            "2026-06-01".into(),
            "--to".into(),
            "2026-06-07".into(),
            "--format".into(),
            format.into(),
            "--out".into(),
            pdf.to_str().unwrap().into(),
        ];
        if !number.is_empty() {
            a.extend(["--number".to_string(), number.to_string()]);
        }
        a
    };
    let run = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        server.cli(&a, "")
    };
    ok(run(args("pdf", "15")));
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"), "a PDF");
    let text = std::process::Command::new("pdftotext")
        .args(["-layout", pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext");
    let text = ok(text);
    for want in [
        "UBND TỈNH CAO BẰNG",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: 15/BC-",
        "BÁO CÁO",
        "Tình hình sử dụng hệ thống thư điện tử",
        "từ ngày 01/06/2026 đến ngày 07/06/2026",
        "I. SỐ LIỆU TOÀN TỈNH",
        "- Thư nhận: 15; thư gửi: 5.",
        "Nơi nhận:",
        "- Lưu: VT.",
    ] {
        assert!(text.contains(want), "{want:?} in\n{text}");
    }
    // "Cao Bằng, ngày DD tháng M năm YYYY": today in Vietnam.
    let today = chrono::Utc::now() + chrono::Duration::hours(7);
    let month = today.format("%m").to_string();
    let month = if month.as_str() < "03" {
        month
    } else {
        month.trim_start_matches('0').to_string()
    };
    let dated = format!(
        "Cao Bằng, ngày {} tháng {month} năm {}",
        today.format("%d"),
        today.format("%Y")
    );
    assert!(text.contains(&dated), "{dated:?} in\n{text}");
    // A row per unit with its figures: code, name, active, new, revoked, received, sent,
    // the Đ13.1 share (Sở Y tế: 6 of 12 person-days), incidents, documents.
    let row = |code: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(code))
            .unwrap_or_else(|| panic!("{code} in\n{text}"))
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<String>>()
    };
    assert_eq!(
        row("CB25-010"),
        [
            "CB25-010", "Sở", "Y", "tế", "3", "0", "0", "12", "5", "50,0%", "0", "0"
        ],
        "\n{text}"
    );
    assert_eq!(
        row("CB25-003"),
        [
            "CB25-003", "Sở", "Tư", "pháp", "1", "0", "0", "3", "0", "0,0%", "0", "0"
        ],
        "\n{text}"
    );
    // The province: 4 active, 6 of 16 person-days.
    let total = text
        .lines()
        .find(|l| l.contains("Toàn tỉnh"))
        .unwrap_or_else(|| panic!("the province's row in\n{text}"));
    assert!(
        total
            .split_whitespace()
            .collect::<Vec<_>>()
            .ends_with(&["4", "0", "0", "15", "5", "37,5%", "0", "0"]),
        "{total}"
    );
    // Without --out there is nowhere to write it; --number is a number, and for the PDF only.
    let mut no_out = args("pdf", "");
    no_out.truncate(7);
    assert!(!run(no_out).status.success());
    assert!(!run(args("pdf", "mười")).status.success());
    assert!(!run(args("csv", "15")).status.success());
}

/// A finished period's figures stay where they were when a person later moves: Minh is
/// active and opens his mailbox in Sở Y tế during a past week, receives and sends there, and is
/// transferred to Sở Tư pháp afterwards. The report of that week is the same before and after
/// the transfer (Sở Y tế keeps his mailbox, openings and messages; Sở Tư pháp gets none of
/// them), while a report of today counts him in Sở Tư pháp, with today's openings and mail.
#[test]
fn a_transfer_after_a_period_leaves_its_figures_in_the_old_unit() {
    let server =
        TestServer::start_with("https = \"127.0.0.1:0\"\n[report]\nholidays = [\"2026-06-03\"]\n");
    let [_dat, _hoa, minh, lan] = small_province(&server);
    let account = |address: &str| account_id(&server, address);
    let unit = |code: &str| unit_id(&server, code);
    let (soyte, tuphap) = (unit("CB25-010"), unit("CB25-003"));
    // The mailboxes existed before the week (their creation written back to May).
    server.sql("UPDATE mailbox_events SET at = 1777593600 WHERE kind = 'created'");
    // The week of Monday 2026-06-01 (four working days, Wednesday the holiday), written to the
    // ledger as it was then: Minh opens twice on each working day, in Sở Y tế; he receives 4
    // and sends 2 messages there, Lan (Sở Tư pháp) receives 1.
    let monday = day(2026, 6, 1);
    for d in [0, 1, 3, 4] {
        server.sql(&format!(
            "INSERT INTO mailbox_opens (account_id, day, opens, unit_id) \
             VALUES ({}, {}, 2, {soyte})",
            account(&minh),
            monday + d
        ));
    }
    for (who, u, received, sent) in [(&minh, &soyte, 4, 2), (&lan, &tuphap, 1, 0)] {
        server.sql(&format!(
            "INSERT INTO message_days (account_id, day, unit_id, received, sent) \
             VALUES ({}, {}, {u}, {received}, {sent})",
            account(who),
            monday + 1
        ));
    }
    let report = |from: &str, to: &str| -> Value {
        serde_json::from_str(&ok(server.cli(
            &["report", "--from", from, "--to", to, "--format", "json"],
            "",
        )))
        .unwrap()
    };
    let figures = |json: &Value, code: &str| {
        let u = json["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["code"] == code)
            .unwrap_or_else(|| panic!("{code} in {json}"))
            .clone();
        (
            u["active"].as_u64().unwrap(),
            u["received"].as_u64().unwrap(),
            u["sent"].as_u64().unwrap(),
            u["open_share"].as_f64(),
        )
    };
    let week = || report("2026-06-01", "2026-06-07");
    let before = week();
    // Sở Y tế: 3 people × 4 working days, Minh's 4 → 1/3; Sở Tư pháp: Lan, no opening.
    assert_eq!(
        figures(&before, "CB25-010"),
        (3, 4, 2, Some(4.0 / 12.0)),
        "{before}"
    );
    assert_eq!(
        figures(&before, "CB25-003"),
        (1, 1, 0, Some(0.0)),
        "{before}"
    );

    // Minh moves to Sở Tư pháp today.
    ok(server.cli(
        &[
            "lifecycle",
            "file",
            "transfer",
            "--person",
            &minh,
            "--unit",
            "CB25-003",
            "--approve",
        ],
        "",
    ));
    assert_eq!(
        server
            .sql(&format!(
                "SELECT p.unit_id FROM people p WHERE p.address = '{minh}'"
            ))
            .trim(),
        tuphap,
        "the transfer happened"
    );
    let moved = server.sql(&format!(
        "SELECT e.unit_id FROM mailbox_events e JOIN people p ON p.id = e.person_id \
          WHERE p.address = '{minh}' AND e.kind = 'moved'"
    ));
    assert_eq!(moved.trim(), tuphap, "the move is in the ledger");
    // The past week: the same figures, every unit.
    let after = week();
    assert_eq!(after["units"], before["units"]);
    assert_eq!(after["province"], before["province"]);

    // Today he opens his mailbox (IMAP, INBOX twice) and receives a message: both count in
    // Sở Tư pháp, as does his mailbox.
    server.python("report_opens.py", &["imap", &minh, PASSWORD]);
    let opened_in = server.sql(&format!(
        "SELECT unit_id FROM mailbox_opens WHERE account_id = {}",
        account(&minh)
    ));
    let opened_in: Vec<&str> = opened_in.lines().map(str::trim).collect();
    assert!(opened_in.contains(&tuphap.as_str()), "{opened_in:?}");
    let today = (chrono::Utc::now() + chrono::Duration::hours(7))
        .format("%Y-%m-%d")
        .to_string();
    // (The transfer's own notices were delivered today too: counted before the message.)
    let earlier = report(&today, &today);
    let mut smtp = server.connect("smtp");
    assert!(smtp.line().starts_with("220 "));
    smtp.send(b"EHLO client.example.org\r\n");
    smtp.until("250 ");
    smtp.send(format!("MAIL FROM:<a@example.org>\r\nRCPT TO:<{minh}>\r\nDATA\r\n").as_bytes());
    assert!(smtp.line().starts_with("250 "));
    assert!(smtp.line().starts_with("250 "));
    assert!(smtp.line().starts_with("354 "));
    smtp.send(b"Subject: Cong van\r\n\r\nNoi dung\r\n.\r\n");
    assert!(smtp.line().starts_with("250 "));
    let now = report(&today, &today);
    let received = |json: &Value, code: &str| figures(json, code).1;
    assert_eq!(figures(&now, "CB25-003").0, 2, "{now}");
    assert_eq!(figures(&now, "CB25-010").0, 2, "{now}");
    assert_eq!(
        received(&now, "CB25-003"),
        received(&earlier, "CB25-003") + 1,
        "{earlier}\n{now}"
    );
    assert_eq!(
        received(&now, "CB25-010"),
        received(&earlier, "CB25-010"),
        "{earlier}\n{now}"
    );
    // And the past week still reads the same.
    assert_eq!(week()["units"], before["units"]);
}

/// The row id of an account, as SQL text to write into ledger rows.
fn account_id(server: &TestServer, address: &str) -> String {
    server
        .sql(&format!(
            "SELECT id FROM accounts WHERE address = '{address}'"
        ))
        .trim()
        .to_string()
}

/// The row id of a unit, as SQL text to write into ledger rows.
fn unit_id(server: &TestServer, code: &str) -> String {
    server
        .sql(&format!("SELECT id FROM units WHERE code = '{code}'"))
        .trim()
        .to_string()
}
