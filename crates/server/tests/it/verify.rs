//! Origin and integrity (Đ14.2) through the real binary: a dispatched document and mail
//! between two local accounts (SMTP submission and the webmail) carry a DKIM signature of the
//! domain that dkimpy verifies with the records of `hopthu dkim record`; `/verify.json` and
//! `/verify` say an intact `.eml` (fetched over IMAP) or the bare file was issued here, and a
//! changed byte in the attachment, the body or a signed header, a changed file or a message
//! from elsewhere was not; the webmail's reading page shows the same verdict.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::directory::password_of;
use super::dispatch::{dispatch, import_2011, status, text};
use super::harness::TestServer;
use super::needs;

const SYSTEM_PYTHON: &str = "/usr/bin/python3";

/// `curl -F file=@PATH` to `path`: the status code and the body.
fn post_file(server: &TestServer, path: &str, file: &Path) -> (u16, String) {
    let url = format!("http://127.0.0.1:{}{path}", server.port("http"));
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "30", "-w", "\n%{http_code}", "-F"])
        .arg(format!("file=@{}", file.display()))
        .arg(&url)
        .output()
        .expect("curl");
    assert!(out.status.success(), "curl {url}: {}", text(&out));
    let body = String::from_utf8(out.stdout).unwrap();
    let (body, code) = body.rsplit_once('\n').unwrap();
    (code.trim().parse().unwrap(), body.to_string())
}

/// The verdict of `/verify.json` on these bytes.
fn verdict(server: &TestServer, name: &str, bytes: &[u8]) -> Value {
    let file = server.data_dir().join(name);
    std::fs::write(&file, bytes).unwrap();
    let (code, body) = post_file(server, "/verify.json", &file);
    assert_eq!(code, 200, "{name}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{name}: {e}: {body}"))
}

fn refused(v: &Value, reason: &str, what: &str) {
    assert_eq!(v["verified"], false, "{what}: {v}");
    assert!(
        v["unit"].is_null() && v["number"].is_null() && v["date"].is_null(),
        "{what}: {v}"
    );
    assert!(
        v["reason"].as_str().unwrap().contains(reason),
        "{what}: want {reason:?}: {v}"
    );
}

/// Writes the INBOX message of `address` containing `needle` to `name`; its bytes.
fn fetch(server: &TestServer, address: &str, password: &str, needle: &str, name: &str) -> Vec<u8> {
    let out = server.data_dir().join(name);
    server.python(
        "verify_mail.py",
        &["fetch", address, password, needle, out.to_str().unwrap()],
    );
    std::fs::read(out).unwrap()
}

/// dkimpy verifies both DKIM signatures of `message` with the records `hopthu dkim record`
/// prints (not DNS).
fn assert_dkim_valid(server: &TestServer, message: &[u8], what: &str) {
    let out = server.cli(&["dkim", "record"], "");
    assert!(out.status.success(), "{}", text(&out));
    let records = server.data_dir().join("records.txt");
    std::fs::write(&records, &out.stdout).unwrap();
    let eml = server.data_dir().join("dkim-check.eml");
    std::fs::write(&eml, message).unwrap();
    let check = Command::new(SYSTEM_PYTHON)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/py/dkim_verify.py"))
        .arg(&eml)
        .arg(&records)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success() && said.contains("verified 2"),
        "{what}: dkimpy: {said}{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

/// `bytes` with the byte at `at` replaced by another of the same class (a letter by a letter,
/// a digit by a digit), so the encoding stays valid.
fn changed_at(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] = match out[at] {
        b'0'..=b'8' | b'a'..=b'y' | b'A'..=b'Y' => out[at] + 1,
        b'9' => b'0',
        b'z' => b'a',
        b'Z' => b'A',
        other => panic!("not a letter or digit: {other}"),
    };
    out
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> usize {
    from + haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap_or_else(|| panic!("{} not found", String::from_utf8_lossy(needle)))
}

/// The first letter or digit of the content of the part whose headers contain `marker`.
fn part_content(message: &[u8], marker: &[u8]) -> usize {
    let at = find(message, marker, 0);
    let mut at = find(message, b"\r\n\r\n", at) + 4;
    while !message[at].is_ascii_alphanumeric() {
        at += 1;
    }
    at
}

/// Makes `address` (a unit of the imported province) usable with its sheet password.
fn open_account(server: &TestServer, sheet: &Path, address: &str) -> String {
    let password = password_of(sheet, address);
    let out = server.cli(
        &["account", "password", address, "--no-force-change"],
        &format!("{password}\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    password
}

/// The webmail's reading page of the INBOX message of `address` whose subject contains
/// `subject`.
fn read_page(server: &TestServer, address: &str, password: &str, subject: &str) -> String {
    let (session, _) = super::web::sign_in(server, address, password);
    let row = server.sql(&format!(
        "SELECT b.id || '/' || m.uid FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id \
           JOIN accounts a ON a.id = b.account_id JOIN search_text t ON t.blob_hash = m.blob_hash \
          WHERE a.address = '{address}' AND b.name = 'INBOX' AND t.subject LIKE '%{}%'",
        subject.to_lowercase()
    ));
    let (head, page) = super::web::get(server, &format!("/mail/{}", row.trim()), &session);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    page
}

#[test]
fn a_dispatched_document_verifies_and_a_changed_one_does_not() {
    let server = TestServer::start();
    let sheet = import_2011(&server);
    // Binary, so the attachment travels base64-encoded.
    let mut signed = b"%PDF-1.7\n".to_vec();
    signed.extend((0..4000u32).map(|i| (i * 7 % 256) as u8));
    let file: PathBuf = server.data_dir().join("15-SNV.pdf");
    std::fs::write(&file, &signed).unwrap();
    let out = dispatch(&server, &file, "15/SNV", "cong_van", "CB11-052");
    assert!(out.status.success(), "{}", text(&out));
    let id = serde_json::from_slice::<Value>(&out.stdout).unwrap()["id"]
        .as_i64()
        .unwrap();
    let st = status(&server, id);
    let unit = st["recipients"][0]["address"].as_str().unwrap().to_string();
    let password = open_account(&server, &sheet, &unit);
    let eml = fetch(
        &server,
        &unit,
        &password,
        "X-Document-Number",
        "document.eml",
    );

    // The intact message, as a mail client saves it.
    let v = verdict(&server, "intact.eml", &eml);
    assert_eq!(v["verified"], true, "{v}");
    assert_eq!(v["unit"], "CB11-002");
    assert_eq!(v["number"], "15/SNV");
    assert_eq!(v["date"], "2026-12-01");
    assert!(v["reason"].as_str().unwrap().contains("nguyên vẹn"), "{v}");
    if needs::require(&[needs::DKIMPY]) {
        assert_dkim_valid(&server, &eml, "dispatched document");
    }

    // One changed byte: in the attachment, in the body text, in a signed header.
    let attachment = part_content(&eml, b"Content-Disposition: attachment");
    let v = verdict(&server, "attachment.eml", &changed_at(&eml, attachment));
    refused(&v, "tệp đã bị sửa đổi / the file was changed", "attachment");
    let body = part_content(&eml, b"text/plain");
    let v = verdict(&server, "body.eml", &changed_at(&eml, body));
    refused(
        &v,
        "chữ ký DKIM không hợp lệ / DKIM signature invalid",
        "body",
    );
    let header = find(&eml, b"X-Document-Date: 2026-12-0", 0) + 26;
    let v = verdict(&server, "header.eml", &changed_at(&eml, header));
    refused(
        &v,
        "chữ ký DKIM không hợp lệ / DKIM signature invalid",
        "header",
    );
    // The signatures removed: not vouched for.
    let unsigned: Vec<u8> = String::from_utf8_lossy(&eml)
        .replace("DKIM-Signature:", "X-Old-Signature:")
        .into_bytes();
    let v = verdict(&server, "unsigned.eml", &unsigned);
    refused(&v, "DKIM", "no signature");

    // The recipient resends it as its own, Message-ID and file kept: signed by us, but not
    // the issuing unit's message.
    let text_eml = String::from_utf8_lossy(&eml).to_string();
    let from_line = text_eml.lines().find(|l| l.starts_with("From: ")).unwrap();
    let issuer = &from_line[from_line.find('<').unwrap() + 1..from_line.find('>').unwrap()];
    let (head, body) = text_eml.split_once("\r\n\r\n").unwrap();
    let mut kept = String::new();
    let mut skip = false;
    for line in head.split("\r\n") {
        if !line.starts_with([' ', '\t']) {
            skip = line.starts_with("DKIM-Signature:") || line.starts_with("Received:");
        }
        if !skip {
            kept.push_str(line);
            kept.push_str("\r\n");
        }
    }
    assert!(kept.contains("Message-ID: <vb."), "{kept}");
    let resent = format!("{kept}\r\n{body}").replace(issuer, &unit);
    let resent_file = server.data_dir().join("resent.eml");
    std::fs::write(&resent_file, resent).unwrap();
    let other = server.add_account("nhan.lai", "Người nhận lại", "Mat-khau-Nhan-2026");
    server.python(
        "verify_mail.py",
        &[
            "send-file",
            &unit,
            &password,
            &other,
            resent_file.to_str().unwrap(),
        ],
    );
    let resent = fetch(
        &server,
        &other,
        "Mat-khau-Nhan-2026",
        "X-Document-Number",
        "resent.eml",
    );
    let v = verdict(&server, "resent.eml", &resent);
    refused(
        &v,
        "not issued through this system",
        "resent by a recipient",
    );

    // The bare file verifies; a changed file does not.
    let v = verdict(&server, "bare.pdf", &signed);
    assert_eq!(
        (&v["verified"], &v["unit"], &v["number"], &v["date"]),
        (
            &Value::Bool(true),
            &Value::from("CB11-002"),
            &Value::from("15/SNV"),
            &Value::from("2026-12-01")
        ),
        "{v}"
    );
    let mut changed = signed.clone();
    changed[100] ^= 1;
    let v = verdict(&server, "changed.pdf", &changed);
    refused(&v, "tệp đã bị sửa đổi", "changed file");

    // A message from elsewhere.
    let foreign = b"From: Ai do <ai@example.org>\r\nTo: <x@example.org>\r\nSubject: Cong van\r\n\
        Message-ID: <1@example.org>\r\nX-Document-Number: 15/SNV\r\n\r\nNoi dung\r\n";
    let v = verdict(&server, "foreign.eml", foreign);
    refused(
        &v,
        "không do hệ thống này ban hành / not issued through this system",
        "foreign",
    );

    // The public page: a form (no sign-in), and the same verdict rendered.
    let (head, page) = super::web::get(&server, "/verify", "");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        page.contains(r#"enctype="multipart/form-data""#) && page.contains("Kiểm tra văn bản"),
        "{page}"
    );
    let saved = server.data_dir().join("page.eml");
    std::fs::write(&saved, &eml).unwrap();
    let (code, page) = post_file(&server, "/verify", &saved);
    assert_eq!(code, 200, "{page}");
    assert!(
        page.contains(r#"id="document-verdict""#)
            && page.contains("ban hành, số 15/SNV, ngày 01/12/2026: nguyên vẹn / unchanged"),
        "{page}"
    );
    let (code, body) = post_file(&server, "/verify.json", Path::new("/dev/null"));
    assert_eq!(code, 400, "{body}");

    // The recipient's webmail says the same beside the document.
    let page = read_page(&server, &unit, &password, "15/SNV");
    assert!(
        page.contains(r#"id="document-verdict""#)
            && page.contains("Sở Nội vụ")
            && page.contains("số 15/SNV, ngày 01/12/2026: nguyên vẹn / unchanged"),
        "{page}"
    );
}

#[test]
fn mail_between_agencies_is_signed_and_a_forged_document_is_flagged() {
    let server = TestServer::start();
    let a = server.add_account("vanthu.snv", "Văn thư Sở Nội vụ", "Mat-khau-Snv-2026");
    let b = server.add_account("vanthu.stc", "Văn thư Sở Tài chính", "Mat-khau-Stc-2026");

    // SMTP submission, local recipient: signed before it was stored.
    server.python(
        "verify_mail.py",
        &["send", &a, "Mat-khau-Snv-2026", &b, "Qua SMTP 15"],
    );
    let smtp = fetch(&server, &b, "Mat-khau-Stc-2026", "Qua SMTP 15", "smtp.eml");
    assert!(
        String::from_utf8_lossy(&smtp).contains("DKIM-Signature:"),
        "{}",
        String::from_utf8_lossy(&smtp)
    );
    // Webmail.
    let (session, csrf) = super::web::sign_in(&server, &a, "Mat-khau-Snv-2026");
    let head = super::submit::compose_post(
        &server,
        &session,
        &[
            ("csrf", &csrf),
            ("to", &b),
            ("cc", ""),
            ("bcc", ""),
            ("subject", "Qua webmail 15"),
            ("body", "Noi dung"),
            ("action", "send"),
        ],
    );
    assert!(head.starts_with("HTTP/1.1 303"), "{head}");
    let web = fetch(
        &server,
        &b,
        "Mat-khau-Stc-2026",
        "Qua webmail 15",
        "web.eml",
    );
    if needs::require(&[needs::DKIMPY]) {
        assert_dkim_valid(&server, &smtp, "SMTP submission");
        assert_dkim_valid(&server, &web, "webmail");
    }
    // Signed, but no document.
    let v = verdict(&server, "web.eml", &web);
    refused(&v, "not issued through this system", "ordinary mail");

    // A colleague's message dressed as a document: the reader is told it was not issued here.
    server.python(
        "verify_mail.py",
        &["send-document", &a, "Mat-khau-Snv-2026", &b, "Gia mao 15"],
    );
    let page = read_page(&server, &b, "Mat-khau-Stc-2026", "Gia mao 15");
    assert!(
        page.contains(r#"id="document-verdict""#)
            && page.contains("không do hệ thống này ban hành / not issued through this system"),
        "{page}"
    );
}
