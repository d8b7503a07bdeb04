//! Official documents dispatched to recipient units (Đ15) through the real binary: `hopthu
//! document dispatch|status` and `/api/documents` on the imported 2011 province, the body
//! stored once for every unit of the subtrees, the structured headers a recipient's client
//! reads, tracking as units open it over IMAP and in the webmail, and the refusals that
//! change nothing.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};

use super::directory::{password_of, sheet_path};
use super::harness::TestServer;
use super::lifecycle::api;

pub(super) fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/data")
        .join(name)
}

/// Imports the 2011 sample province (427 units); its credentials sheet.
pub(super) fn import_2011(server: &TestServer) -> PathBuf {
    let (units, people) = (data("units-2011.csv"), data("people-2011.csv"));
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

/// The codes of `root` and every unit under it in the 2011 file.
fn subtree(root: &str) -> Vec<String> {
    let file = std::fs::read_to_string(data("units-2011.csv")).unwrap();
    let rows: Vec<(String, String)> = file
        .lines()
        .skip(1)
        .map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            (cols[1].to_string(), cols[cols.len() - 1].to_string())
        })
        .collect();
    let mut out = vec![root.to_string()];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i].clone();
        out.extend(
            rows.iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| c.clone()),
        );
        i += 1;
    }
    out
}

/// `hopthu document dispatch … --format json`: the output or the refusal.
pub(super) fn dispatch(
    server: &TestServer,
    file: &Path,
    number: &str,
    kind: &str,
    to: &str,
) -> Output {
    server.cli(
        &[
            "document",
            "dispatch",
            "--from",
            "CB11-002",
            "--number",
            number,
            "--date",
            "2026-12-01",
            "--kind",
            kind,
            "--summary",
            "V/v tổng hợp số liệu cán bộ năm 2026",
            "--file",
            file.to_str().unwrap(),
            "--to",
            to,
            "--subtree",
            "--format",
            "json",
        ],
        "",
    )
}

pub(super) fn status(server: &TestServer, id: i64) -> Value {
    let out = server.cli(
        &["document", "status", &id.to_string(), "--format", "json"],
        "",
    );
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// What a refusal must leave as it was: documents, messages, blobs and the audit log.
fn counts(server: &TestServer) -> String {
    server.sql(
        "SELECT (SELECT COUNT(*) FROM documents) || ' ' || (SELECT COUNT(*) FROM messages) \
           || ' ' || (SELECT COUNT(*) FROM blobs) || ' ' || (SELECT COUNT(*) FROM audit_log)",
    )
}

fn recipient<'a>(status: &'a Value, address: &str) -> &'a Value {
    status["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == address)
        .unwrap_or_else(|| panic!("{address} not a recipient: {status}"))
}

#[test]
fn a_document_reaches_every_unit_of_the_subtrees_stored_once_and_is_tracked() {
    let server = TestServer::start();
    let sheet = import_2011(&server);
    let districts = ["CB11-048", "CB11-049", "CB11-050", "CB11-051"];
    let expected: Vec<String> = districts.iter().flat_map(|d| subtree(d)).collect();
    assert!(expected.len() >= 100, "{}", expected.len());
    let file = server.data_dir().join("12-SNV.pdf");
    let signed = b"%PDF-1.7\n% van ban da ky so\n1 0 obj << >> endobj\n%%EOF\n".repeat(40);
    std::fs::write(&file, &signed).unwrap();
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&signed))
    };

    let out = dispatch(&server, &file, "12/SNV", "cong_van", &districts.join(","));
    assert!(out.status.success(), "{}", text(&out));
    let id = serde_json::from_slice::<Value>(&out.stdout).unwrap()["id"]
        .as_i64()
        .expect("{\"id\": …}");

    // Every unit of the four districts got it, in one body referenced once per copy.
    let st = status(&server, id);
    assert_eq!(st["number"], "12/SNV");
    assert_eq!(st["sha256"], sha.as_str());
    let recipients = st["recipients"].as_array().unwrap();
    let mut got: Vec<String> = recipients
        .iter()
        .map(|r| r["unit"].as_str().unwrap().to_string())
        .collect();
    let mut want = expected.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    assert!(
        recipients
            .iter()
            .all(|r| r["delivered"] == true && r["opened_at"].is_null())
    );
    let blobs = server.sql(&format!(
        "SELECT COUNT(DISTINCT m.blob_hash) || ' ' || COUNT(*) FROM messages m \
           JOIN document_recipients r ON r.mailbox_id = m.mailbox_id AND r.uid = m.uid \
          WHERE r.document_id = {id}"
    ));
    assert_eq!(blobs.trim(), format!("1 {}", expected.len()));
    let refcount = server.sql(&format!(
        "SELECT b.refcount FROM blobs b WHERE b.hash = (SELECT m.blob_hash FROM messages m \
           JOIN document_recipients r ON r.mailbox_id = m.mailbox_id AND r.uid = m.uid \
          WHERE r.document_id = {id} LIMIT 1)"
    ));
    assert_eq!(refcount.trim(), expected.len().to_string());

    // A recipient's mail client reads the fields as headers and the signed file intact; its
    // reading (FETCH BODY[] sets \Seen) marks the document opened by that mailbox.
    let district = recipients.iter().find(|r| r["unit"] == "CB11-049").unwrap()["address"]
        .as_str()
        .unwrap()
        .to_string();
    let password = password_of(&sheet, &district);
    let out = server.cli(
        &["account", "password", &district, "--no-force-change"],
        &format!("{password}\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    let read: Value =
        serde_json::from_str(&server.python("document_open.py", &[&district, &password])).unwrap();
    assert_eq!(read["X-Document-Number"], "12/SNV");
    assert_eq!(read["X-Document-Date"], "2026-12-01");
    assert_eq!(read["X-Document-Issuer"], "CB11-002");
    assert_eq!(read["X-Document-Issuer-Name"], "Sở Nội vụ");
    assert_eq!(read["X-Document-Kind"], "cong_van");
    assert_eq!(
        read["X-Document-Summary"],
        "V/v tổng hợp số liệu cán bộ năm 2026"
    );
    assert_eq!(read["X-Document-SHA256"], sha.as_str());
    assert_eq!(read["attachment"], "12-SNV.pdf");
    assert_eq!(read["attachment_sha256"], sha.as_str());
    assert!(read["flags"].as_str().unwrap().contains("\\Seen"), "{read}");
    let st = status(&server, id);
    let opened = recipient(&st, &district);
    assert!(opened["opened_at"].is_i64(), "{opened}");
    assert_eq!(opened["opened_by"], district.as_str());

    // Another unit views it in the webmail: opened by that unit.
    let commune = recipients
        .iter()
        .map(|r| r["address"].as_str().unwrap().to_string())
        .find(|a| *a != district)
        .unwrap();
    let password = password_of(&sheet, &commune);
    let out = server.cli(
        &["account", "password", &commune, "--no-force-change"],
        &format!("{password}\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    let (session, _) = super::web::sign_in(&server, &commune, &password);
    let (head, _) = super::web::get(&server, "/mail", &session);
    let inbox = super::web::header(&head, "location")[0].to_string();
    let (_, page) = super::web::get(&server, &inbox, &session);
    let uid = server.sql(&format!(
        "SELECT r.uid FROM document_recipients r JOIN units u ON u.id = r.unit_id \
          WHERE r.document_id = {id} AND u.address = '{commune}'"
    ));
    assert!(page.contains("12/SNV"), "{page}");
    let (head, _) = super::web::get(&server, &format!("{inbox}/{}", uid.trim()), &session);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let st = status(&server, id);
    assert_eq!(recipient(&st, &commune)["opened_by"], commune.as_str());
    let opened: Vec<&Value> = st["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["opened_at"].is_null())
        .collect();
    assert_eq!(opened.len(), 2, "{opened:?}");

    // The API gives the same table to an administrator of the issuing unit.
    let focal = server.add_account("qtv.skhcn", "Quản trị", "Mat-khau-Focal-1");
    let out = server.cli(&["admin", "grant", &focal, "--focal"], "");
    assert!(out.status.success(), "{}", text(&out));
    let (code, body) = api(
        &server,
        (&focal, "Mat-khau-Focal-1"),
        "GET",
        &format!("/api/documents/{id}"),
        None,
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["recipients"], st["recipients"]);
}

#[test]
fn refused_dispatches_change_nothing() {
    let server = TestServer::start();
    import_2011(&server);
    let file = server.data_dir().join("qd.pdf");
    std::fs::write(&file, b"%PDF-1.7 signed").unwrap();
    let out = dispatch(&server, &file, "7/SNV", "cong_van", "CB11-052");
    assert!(out.status.success(), "{}", text(&out));
    let before = counts(&server);
    for (number, kind, to, words) in [
        ("7/SNV", "cong_van", "CB11-053", "đã ban hành"),
        ("8/SNV", "khong_co", "CB11-053", "danh mục"),
        ("8/SNV", "cong_van", "CB11-999", "CB11-999"),
        ("", "cong_van", "CB11-053", "số/ký hiệu"),
    ] {
        let out = dispatch(&server, &file, number, kind, to);
        assert!(
            !out.status.success(),
            "{number} {kind} {to}: {}",
            text(&out)
        );
        assert!(text(&out).contains(words), "{words}: {}", text(&out));
        assert_eq!(counts(&server), before, "{number} {kind} {to}");
    }

    // A secret document never goes by e-mail (Đ9): refused and audited, nothing stored.
    let out = server.cli(
        &[
            "document",
            "dispatch",
            "--from",
            "CB11-002",
            "--number",
            "8/SNV",
            "--date",
            "2026-12-01",
            "--kind",
            "cong_van",
            "--summary",
            "[MẬT] Kế hoạch bảo vệ",
            "--file",
            file.to_str().unwrap(),
            "--to",
            "CB11-053",
        ],
        "",
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("văn bản mật"), "{}", text(&out));
    let audit = server.sql(
        "SELECT after FROM audit_log WHERE action = 'document.secret_refused' ORDER BY id DESC LIMIT 1",
    );
    assert!(audit.contains(r#""detected_by":"summary""#), "{audit}");
    let (documents, messages) = counts(&server)
        .split_once(' ')
        .map(|(d, r)| (d.to_string(), r.to_string()))
        .unwrap();
    let (before_documents, before_rest) = before.split_once(' ').unwrap();
    assert_eq!(documents, before_documents);
    assert_eq!(
        messages.rsplit_once(' ').unwrap().0,
        before_rest.rsplit_once(' ').unwrap().0,
        "no message or body"
    );

    // Over the API: an officer of another unit may not dispatch for Sở Nội vụ; a bad date and
    // a file that is not base64 are refused with the reason.
    let officer = server.add_account("cntt.sotuphap", "CNTT Sở Tư pháp", "Mat-khau-Officer-1");
    let out = server.cli(&["admin", "grant", &officer, "--unit", "CB11-003"], "");
    assert!(out.status.success(), "{}", text(&out));
    let body = |date: &str, file: &str| {
        json!({
            "from": "CB11-002", "number": "9/SNV", "date": date, "kind": "cong_van",
            "summary": "V/v thử", "file_name": "qd.pdf", "file": file, "to": ["CB11-053"],
        })
    };
    let user = (officer.as_str(), "Mat-khau-Officer-1");
    let (code, reply) = api(
        &server,
        user,
        "POST",
        "/api/documents",
        Some(body("2026-12-01", "JVBERi0=")),
    );
    assert_eq!(code, 403, "{reply}");
    let focal = server.add_account("qtv.skhcn", "Quản trị", "Mat-khau-Focal-1");
    let out = server.cli(&["admin", "grant", &focal, "--focal"], "");
    assert!(out.status.success(), "{}", text(&out));
    let user = (focal.as_str(), "Mat-khau-Focal-1");
    let before = counts(&server);
    let (code, reply) = api(
        &server,
        user,
        "POST",
        "/api/documents",
        Some(body("01/12/2026", "JVBERi0=")),
    );
    assert_eq!(code, 400, "{reply}");
    assert!(
        reply["error"].as_str().unwrap().contains("YYYY-MM-DD"),
        "{reply}"
    );
    let (code, reply) = api(
        &server,
        user,
        "POST",
        "/api/documents",
        Some(body("2026-12-01", "%%%")),
    );
    assert_eq!(code, 400, "{reply}");
    assert_eq!(counts(&server), before);
    let (code, reply) = api(
        &server,
        user,
        "POST",
        "/api/documents",
        Some(body("2026-12-01", "JVBERi0=")),
    );
    assert_eq!(code, 201, "{reply}");
    let id = reply["id"].as_i64().unwrap();
    let (code, st) = api(&server, user, "GET", &format!("/api/documents/{id}"), None);
    assert_eq!(code, 200, "{st}");
    assert_eq!(st["recipients"].as_array().unwrap().len(), 1);
    let (code, _) = api(&server, user, "GET", "/api/documents/99999", None);
    assert_eq!(code, 404);
}

/// A multipart POST of the webmail with one file field named `file`.
fn multipart(
    server: &TestServer,
    path: &str,
    session: &str,
    fields: &[(&str, String)],
    file: (&str, &[u8]),
) -> (String, String) {
    let boundary = "----hopthu-dispatch-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: application/pdf\r\n\r\n",
            file.0
        )
        .as_bytes(),
    );
    body.extend_from_slice(file.1);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nCookie: {session}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    super::web::http(server, &String::from_utf8(request).unwrap())
}

/// The webmail: the unit's head issues a document from the form (and a browser does the
/// same), someone without send-as may not, the recipient unit's delegate reads it and
/// acknowledges it with the button, another recipient acknowledges by replying; the issuing
/// unit follows it all on the document's page.
#[test]
fn the_webmail_issues_documents_and_recipients_acknowledge_them() {
    use super::lifecycle::{import_province, make_head, unit_people};
    use super::web::{get, post, sign_in};

    let server = TestServer::start_with("https = \"127.0.0.1:0\"\n");
    import_province(&server);
    let head = unit_people(&server, "CB25-002", 1).remove(0);
    make_head(&server, "CB25-002", &head);
    let set_password = |address: &str, password: &str| {
        let out = server.cli(
            &["account", "password", address, "--no-force-change"],
            &format!("{password}\n"),
        );
        assert!(out.status.success(), "{}", text(&out));
    };
    set_password(&head, "Mat-khau-Head-1");
    let noivu = server
        .sql("SELECT address FROM units WHERE code = 'CB25-002'")
        .trim()
        .to_string();
    // Recipients: CB25-014's mailbox read by a delegate, CB25-060's signing in itself.
    let delegate = server.add_account("hoalt", "Lục Thị Hoa", "Mat-khau-Hoa-1");
    let first = server
        .sql("SELECT address FROM units WHERE code = 'CB25-014'")
        .trim()
        .to_string();
    let second = server
        .sql("SELECT address FROM units WHERE code = 'CB25-060'")
        .trim()
        .to_string();
    let out = server.cli(
        &[
            "unit-mailbox",
            "grant",
            &first,
            &delegate,
            "--rights",
            "read",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out));
    set_password(&second, "Mat-khau-Second-1");

    let (session, csrf) = sign_in(&server, &head, "Mat-khau-Head-1");
    let (head_line, page) = get(
        &server,
        &format!("/documents/new?unit={}", noivu.replace('@', "%40")),
        &session,
    );
    assert!(head_line.starts_with("HTTP/1.1 200"), "{head_line}");
    assert!(
        page.contains(r#"option value="giay_moi""#),
        "the catalogue's kinds"
    );
    assert!(
        page.contains(r#"option value="CB25-014""#),
        "the directory's units"
    );
    let fields = |number: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("unit", noivu.clone()),
            ("from", "CB25-002".to_string()),
            ("number", number.to_string()),
            ("date", "2026-12-02".to_string()),
            ("kind", "giay_moi".to_string()),
            ("summary", "Mời họp giao ban".to_string()),
            ("to", "CB25-014".to_string()),
            ("to", "CB25-060".to_string()),
        ]
    };
    let send = |session: &str, f: &[(&'static str, String)]| {
        multipart(
            &server,
            "/documents",
            session,
            f,
            ("giay-moi.pdf", b"%PDF-1.7 giay moi"),
        )
    };
    let (head_line, _) = send(&session, &fields("3/GM-SNV"));
    assert!(head_line.starts_with("HTTP/1.1 303"), "{head_line}");
    let id = server
        .sql("SELECT MAX(id) FROM documents")
        .trim()
        .to_string();
    // The same number again: refused on the form with the reason, nothing more stored.
    let (head_line, page) = send(&session, &fields("3/GM-SNV"));
    assert!(head_line.starts_with("HTTP/1.1 409"), "{head_line}");
    assert!(page.contains(r#"id="dispatch-error""#), "{page}");
    assert_eq!(server.sql("SELECT COUNT(*) FROM documents").trim(), "1");

    // The delegate of CB25-014 may read it but not issue for Sở Nội vụ.
    let (d_session, d_csrf) = sign_in(&server, &delegate, "Mat-khau-Hoa-1");
    let mut forged = fields("4/GM-SNV");
    forged[0].1 = d_csrf.clone();
    let (head_line, _) = send(&d_session, &forged);
    assert!(head_line.starts_with("HTTP/1.1 403"), "{head_line}");
    // The delegate opens the copy in CB25-014's mailbox and acknowledges it.
    let uid = server.sql(&format!(
        "SELECT r.mailbox_id || '/' || r.uid FROM document_recipients r JOIN units u ON u.id = r.unit_id \
          WHERE r.document_id = {id} AND u.code = 'CB25-014'"
    ));
    let message = format!("/mail/{}", uid.trim());
    let (head_line, page) = get(&server, &message, &d_session);
    assert!(head_line.starts_with("HTTP/1.1 200"), "{head_line}");
    assert!(
        page.contains(r#"id="document""#) && page.contains("3/GM-SNV"),
        "{page}"
    );
    assert!(page.contains(r#"id="acknowledge""#), "{page}");
    let (head_line, _) = post(
        &server,
        &format!("/documents/{id}/ack"),
        &d_session,
        &format!(
            "csrf={d_csrf}&unit={}&back={message}",
            first.replace('@', "%40")
        ),
    );
    assert!(head_line.starts_with("HTTP/1.1 303"), "{head_line}");
    let (_, page) = get(&server, &message, &d_session);
    assert!(page.contains(r#"id="acknowledged""#), "{page}");
    // Nobody acknowledges for a unit they cannot read.
    let (head_line, _) = post(
        &server,
        &format!("/documents/{id}/ack"),
        &d_session,
        &format!("csrf={d_csrf}&unit={}", second.replace('@', "%40")),
    );
    assert!(head_line.starts_with("HTTP/1.1 403"), "{head_line}");

    // CB25-060 replies over SMTP submission: that acknowledges it.
    let message_id = server.sql(&format!("SELECT message_id FROM documents WHERE id = {id}"));
    let out = server.python(
        "document_reply.py",
        &[&second, "Mat-khau-Second-1", &noivu, message_id.trim()],
    );
    assert_eq!(out.trim(), "sent");

    // The head's page of the document: both opened... and both acknowledged.
    let (head_line, page) = get(&server, &format!("/documents/{id}"), &session);
    assert!(head_line.starts_with("HTTP/1.1 200"), "{head_line}");
    let row = |code: &str| {
        page.split(&format!(r#"data-unit="{code}""#))
            .nth(1)
            .unwrap()
            .split("</tr>")
            .next()
            .unwrap()
            .to_string()
    };
    assert!(row("CB25-014").contains(&delegate), "{page}");
    assert!(row("CB25-060").contains(&second), "{page}");
    let status = status(&server, id.parse().unwrap());
    let acked: Vec<&str> = status["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["acknowledged_by"].as_str())
        .collect();
    assert_eq!(acked.len(), 2, "{status}");
    assert!(
        acked.contains(&delegate.as_str()) && acked.contains(&second.as_str()),
        "{status}"
    );
    // The delegate's own view of Sở Nội vụ's documents is refused (they cannot read it).
    let (head_line, _) = get(&server, &format!("/documents/{id}"), &d_session);
    assert!(head_line.starts_with("HTTP/1.1 404"), "{head_line}");

    // The Đ17 report counts the document for Sở Nội vụ this half-year, and none for the others.
    let focal = server.add_account("qtv.skhcn", "Quản trị", "Mat-khau-Focal-1");
    let out = server.cli(&["admin", "grant", &focal, "--focal"], "");
    assert!(out.status.success(), "{}", text(&out));
    let console = super::admin::sign_in(&server, &focal, "Mat-khau-Focal-1").expect("signed in");
    let (_, csv) = super::admin::get(&server, "/admin/report?format=csv", &console);
    let header = csv.lines().next().unwrap();
    assert!(header.ends_with(",documents"), "{header}");
    let documents_of = |code: &str| {
        csv.lines()
            .find(|l| l.starts_with(&format!("{code},")))
            .and_then(|l| l.rsplit(',').next())
            .unwrap_or_else(|| panic!("{code} not in {csv}"))
            .to_string()
    };
    assert_eq!(documents_of("CB25-002"), "1");
    assert_eq!(documents_of("CB25-014"), "0");

    // In the browser: the head issues another from the form to two districts' subtrees.
    if super::needs::require(super::needs::BROWSER) {
        let file = server.data_dir().join("giay-moi-15.pdf");
        std::fs::write(&file, b"%PDF-1.7 giay moi 15").unwrap();
        let expected = server.sql(
            "SELECT COUNT(*) FROM units WHERE code IN ('CB25-014', 'CB25-060') \
                OR parent_id IN (SELECT id FROM units WHERE code IN ('CB25-014', 'CB25-060'))",
        );
        server.browser(
            "dispatch.py",
            &[
                &head,
                "Mat-khau-Head-1",
                &noivu,
                file.to_str().unwrap(),
                "CB25-014",
                "CB25-060",
                expected.trim(),
            ],
        );
        assert!(
            super::harness::screenshots()
                .join("dispatch-tracking.png")
                .exists()
        );
    }
}
