//! Sieve at local delivery: scripts stored with `hopthu sieve put`, mail sent through the MX
//! with smtplib, the result read back over IMAPS (folders, flags), the queue through
//! `hopthu queue list`, the store's rows through SQL.

use std::path::PathBuf;

use super::harness::{DOMAIN, TestServer};

const PW: &str = "mat-khau-bo-loc";

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Stores `script` as the active script of `address`.
fn put_script(server: &TestServer, address: &str, name: &str, script: &str) {
    let file = write_file(server, &format!("{name}.sieve"), script.as_bytes());
    let out = server.cli(
        &[
            "sieve",
            "put",
            address,
            name,
            file.to_str().unwrap(),
            "--activate",
        ],
        "",
    );
    assert!(out.status.success(), "sieve put: {}", text(&out));
}

fn write_file(server: &TestServer, name: &str, bytes: &[u8]) -> PathBuf {
    let path = server.data_dir().join("..").join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Sends `raw` through the MX from `mail_from` ("" for `<>`) to `rcpts`.
fn send(server: &TestServer, mail_from: &str, rcpts: &[&str], raw: &str) {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let file = write_file(
        server,
        &format!("msg-{n}.eml"),
        raw.replace('\n', "\r\n").as_bytes(),
    );
    let out = server.python(
        "sieve_mail.py",
        &["send", mail_from, &rcpts.join(","), file.to_str().unwrap()],
    );
    assert_eq!(out.trim(), "SENT", "{out}");
}

/// Sends `raw` signed in as `login` through submission (port 587, STARTTLS).
fn submit(server: &TestServer, login: &str, rcpts: &[&str], raw: &str) {
    let file = write_file(
        server,
        "submitted.eml",
        raw.replace('\n', "\r\n").as_bytes(),
    );
    let out = server.python(
        "sieve_mail.py",
        &[
            "submit",
            login,
            PW,
            &rcpts.join(","),
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.trim(), "SENT", "{out}");
}

/// The messages of a folder: (flags, raw), or `None` when there is no such folder.
fn folder(server: &TestServer, login: &str, name: &str) -> Option<Vec<(String, String)>> {
    let out = server.python("sieve_mail.py", &["folder", login, PW, name]);
    let value: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON");
    value.as_array().map(|list| {
        list.iter()
            .map(|m| {
                (
                    m["flags"].as_str().unwrap().to_string(),
                    m["raw"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    })
}

fn subjects(messages: &[(String, String)]) -> Vec<String> {
    messages
        .iter()
        .filter_map(|(_, raw)| {
            raw.lines()
                .find_map(|l| l.strip_prefix("Subject: ").map(|s| s.trim().to_string()))
        })
        .collect()
}

fn message(from: &str, to: &str, subject: &str, extra: &str, body: &str) -> String {
    format!(
        "From: {from}\nTo: {to}\nSubject: {subject}\nMessage-ID: <{}@example.org>\n{extra}\n{body}\n",
        subject.replace(' ', "-")
    )
}

fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !check() {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// fileinto + addflag, the tests (envelope, header, body, relational, variables), discard,
/// a refused broken script, the spam mark's Junk, and one blob for two recipients whose
/// scripts file the message differently.
#[test]
fn scripts_file_flag_discard_and_keep_one_blob() {
    let server = TestServer::start();
    let user = server.add_account("boloc", "Người Lọc Thư", PW);
    let other = server.add_account("nguoikhac", "Người Khác", PW);
    server.add_account("ketoan", "Kế Toán", PW);

    // A broken script is refused with the compiler's message, and nothing is stored.
    let broken = write_file(
        &server,
        "broken.sieve",
        b"require \"fileinto\";\nfileinto \"x\"\n",
    );
    let out = server.cli(
        &["sieve", "put", &user, "broken", broken.to_str().unwrap()],
        "",
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("line"),
        "the compiler's message: {}",
        text(&out)
    );
    // So is one requiring an extension delivery does not carry out.
    let reject = write_file(
        &server,
        "reject.sieve",
        b"require \"reject\";\nreject \"no\";\n",
    );
    let out = server.cli(
        &["sieve", "put", &user, "tuchoi", reject.to_str().unwrap()],
        "",
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("not supported"), "{}", text(&out));
    let list = server.cli(&["sieve", "list", &user], "");
    assert!(
        !String::from_utf8_lossy(&list.stdout).contains("broken"),
        "{}",
        text(&list)
    );

    put_script(
        &server,
        &user,
        "chinh",
        r#"require ["fileinto", "imap4flags", "envelope", "body", "relational", "variables",
          "comparator-i;ascii-numeric", "mailbox"];
# Reports from the accounting office go to their folder, flagged.
if address :is "from" "ketoan@caobang.gov.vn" {
    addflag "\\Flagged";
    addflag "$BaoCao";
    fileinto "Báo cáo";
    stop;
}
if envelope :domain :is "from" "dieuhanh.vn" {
    fileinto :create "Điều hành";
    stop;
}
if allof (header :matches "Subject" "Hop *", body :contains "khẩn") {
    set "ngay" "${1}";
    if string :value "ge" :comparator "i;ascii-numeric" "${ngay}" "20" {
        fileinto :flags "\\Seen" "Họp";
        stop;
    }
}
if header :count "gt" :comparator "i;ascii-numeric" "X-Loai" "1" {
    discard;
    stop;
}
if header :contains "Subject" "quảng cáo" {
    discard;
}
"#,
    );
    // Neither "Báo cáo" nor "Họp" exists yet (and no :create): those fall back to INBOX.
    assert_eq!(folder(&server, &user, "INBOX"), Some(vec![]));

    let ketoan = format!("ketoan@{DOMAIN}");
    send(
        &server,
        &ketoan,
        &[&user],
        &message(&ketoan, &user, "Bao cao quy", "", "So lieu."),
    );
    send(
        &server,
        "vanthu@dieuhanh.vn",
        &[&user],
        &message("vanthu@dieuhanh.vn", &user, "Chi dao", "", "Noi dung."),
    );
    send(
        &server,
        "a@example.org",
        &[&user],
        &message("a@example.org", &user, "Hop 25", "", "Việc khẩn."),
    );
    send(
        &server,
        "a@example.org",
        &[&user],
        &message("a@example.org", &user, "Hop 5", "", "Việc khẩn."),
    );
    send(
        &server,
        "a@example.org",
        &[&user],
        &message(
            "a@example.org",
            &user,
            "Hai loai",
            "X-Loai: a\nX-Loai: b\n",
            "x",
        ),
    );
    send(
        &server,
        "a@example.org",
        &[&user],
        &message(
            "a@example.org",
            &user,
            "=?utf-8?q?qu=E1=BA=A3ng_c=C3=A1o?=",
            "",
            "x",
        ),
    );

    // "Báo cáo" did not exist and there was no :create: kept in INBOX with the flags.
    let inbox = folder(&server, &user, "INBOX").unwrap();
    let inbox_subjects = subjects(&inbox);
    assert!(
        inbox_subjects.contains(&"Bao cao quy".to_string()),
        "{inbox_subjects:?}"
    );
    let report = inbox
        .iter()
        .find(|(_, raw)| raw.contains("Subject: Bao cao quy"))
        .unwrap();
    assert!(
        report.0.contains("\\Flagged") && report.0.contains("$BaoCao"),
        "{}",
        report.0
    );
    assert!(server.log().contains("no such folder, kept in INBOX"));
    // :create made "Điều hành".
    let made = folder(&server, &user, "Điều hành").expect("the folder was created");
    assert_eq!(subjects(&made), vec!["Chi dao"]);
    // "Hop 25": relational on the matched variable, into "Họp" (created below, so INBOX now).
    assert!(
        inbox_subjects.contains(&"Hop 25".to_string()),
        "{inbox_subjects:?}"
    );
    assert!(
        inbox_subjects.contains(&"Hop 5".to_string()),
        "{inbox_subjects:?}"
    );
    // Discarded: two X-Loai fields, and the encoded subject.
    assert!(
        !inbox_subjects.iter().any(|s| s.contains("Hai loai")),
        "{inbox_subjects:?}"
    );
    assert_eq!(inbox.len(), 3, "{inbox_subjects:?}");

    // With the folders there, the same mail is filed (and flagged) in them.
    let out = server.python("sieve_mail.py", &["create", &user, PW, "Báo cáo", "Họp"]);
    assert_eq!(out.trim(), "CREATED", "{out}");
    send(
        &server,
        &ketoan,
        &[&user],
        &message(&ketoan, &user, "Bao cao thang", "", "x"),
    );
    send(
        &server,
        "a@example.org",
        &[&user],
        &message("a@example.org", &user, "Hop 30", "", "Rất khẩn."),
    );
    let reports = folder(&server, &user, "Báo cáo").expect("Báo cáo");
    assert_eq!(subjects(&reports), vec!["Bao cao thang"]);
    assert!(
        reports[0].0.contains("\\Flagged") && reports[0].0.contains("$BaoCao"),
        "{}",
        reports[0].0
    );
    let meetings = folder(&server, &user, "Họp").expect("Họp");
    assert_eq!(subjects(&meetings), vec!["Hop 30"]);
    assert!(meetings[0].0.contains("\\Seen"), "{}", meetings[0].0);

    // Two recipients: one files it, the other keeps it; one blob, two rows.
    put_script(
        &server,
        &other,
        "khac",
        "require \"fileinto\";\nif header :contains \"Subject\" \"chung\" { fileinto \"Archive\"; }\n",
    );
    let blobs_before: i64 = server
        .sql("SELECT COUNT(*) FROM blobs")
        .trim()
        .parse()
        .unwrap();
    send(
        &server,
        "a@example.org",
        &[&user, &other],
        &message("a@example.org", &user, "Thu chung", "", "x"),
    );
    let blobs_after: i64 = server
        .sql("SELECT COUNT(*) FROM blobs")
        .trim()
        .parse()
        .unwrap();
    assert_eq!(blobs_after, blobs_before + 1, "the message is stored once");
    let refs = server.sql("SELECT refcount FROM blobs ORDER BY refcount DESC LIMIT 1");
    assert!(subjects(&folder(&server, &user, "INBOX").unwrap()).contains(&"Thu chung".to_string()));
    assert_eq!(
        subjects(&folder(&server, &other, "Archive").unwrap()),
        vec!["Thu chung"]
    );
    assert!(
        !subjects(&folder(&server, &other, "INBOX").unwrap()).contains(&"Thu chung".to_string())
    );
    assert!(refs.trim().parse::<i64>().unwrap() >= 2, "{refs}");

    // The spam check's mark: the implicit keep files into Junk; an explicit keep wins.
    // Signed in, through submission: the MX strips a mark that comes from outside.
    let spam = message(&user, &other, "Trung thuong", "X-Spam-Flag: YES\n", "x");
    submit(&server, &user, &[&other], &spam);
    assert_eq!(
        subjects(&folder(&server, &other, "Junk").unwrap()),
        vec!["Trung thuong"]
    );
    put_script(&server, &other, "giu", "keep;\n");
    // Signed in, through submission: the MX strips a mark that comes from outside.
    let spam = message(&user, &other, "Giu lai", "X-Spam-Flag: YES\n", "x");
    submit(&server, &user, &[&other], &spam);
    assert!(subjects(&folder(&server, &other, "INBOX").unwrap()).contains(&"Giu lai".to_string()));

    // A script that fails at run time keeps the message (here: a missing included script,
    // before a discard it never reaches).
    put_script(
        &server,
        &other,
        "hong",
        "require \"include\";\ninclude :personal \"khong-co\";\ndiscard;\n",
    );
    send(
        &server,
        "a@example.org",
        &[&other],
        &message("a@example.org", &other, "Van giu", "", "x"),
    );
    assert!(subjects(&folder(&server, &other, "INBOX").unwrap()).contains(&"Van giu".to_string()));
    assert!(server.log().contains("sieve script failed"), "logged");
    put_script(&server, &other, "giu", "keep;\n");

    // list / show / activate --none / delete through the CLI.
    let list = text(&server.cli(&["sieve", "list", &other], ""));
    assert!(list.contains("giu") && list.contains("active"), "{list}");
    let show = server.cli(&["sieve", "show", &other, "giu"], "");
    let show = String::from_utf8_lossy(&show.stdout);
    assert_eq!(show, "keep;\n");
    let refused = server.cli(&["sieve", "delete", &other, "giu"], "");
    assert!(
        !refused.status.success(),
        "the active script is not deleted"
    );
    assert!(
        server
            .cli(&["sieve", "activate", &other, "--none"], "")
            .status
            .success()
    );
    assert!(
        server
            .cli(&["sieve", "delete", &other, "giu"], "")
            .status
            .success()
    );
    let list = text(&server.cli(&["sieve", "list", &other], ""));
    assert!(!list.contains("giu"), "{list}");
}

/// Mail for outside stays in the queue: the only relay refuses connections (a temporary
/// failure, retried later), so `hopthu queue list` shows what was queued.
const HOLD_QUEUE: &str = "[outbound]\nsmarthost = \"127.0.0.1:9\"\n";

const VACATION: &str = r#"require ["vacation"];
vacation :days 3 :subject "Vắng mặt" "Tôi nghỉ phép đến thứ Hai.";
"#;

/// Out-of-office: one reply per sender within :days, none to list mail, to auto-generated
/// mail or to `<>`; the reply is `Auto-Submitted: auto-replied`, answers the message, and
/// comes from the recipient. A local sender gets it in their INBOX.
#[test]
fn vacation_replies_once_per_sender_and_never_to_lists_or_robots() {
    let server = TestServer::start_with(HOLD_QUEUE);
    let away = server.add_account("vangmat", "Người Vắng Mặt", PW);
    let asker = server.add_account("nguoihoi", "Người Hỏi", PW);
    put_script(&server, &away, "vang", VACATION);

    let mail = |subject: &str, extra: &str| message(&asker, &away, subject, extra, "Xin chao.");
    send(&server, &asker, &[&away], &mail("Cau hoi", ""));
    send(&server, &asker, &[&away], &mail("Cau hoi hai", ""));
    send(
        &server,
        &asker,
        &[&away],
        &mail("Danh sach", "List-Id: <tin.example.org>\n"),
    );
    send(
        &server,
        &asker,
        &[&away],
        &mail("Tu dong", "Auto-Submitted: auto-generated\n"),
    );
    send(
        &server,
        &asker,
        &[&away],
        &mail("Hang loat", "Precedence: bulk\n"),
    );
    send(&server, "", &[&away], &mail("Thu bao loi", ""));
    // Not addressed to the recipient in To/Cc (a Bcc): no reply either.
    send(
        &server,
        "khac@example.org",
        &[&away],
        &message("khac@example.org", "ai@example.org", "Bcc", "", "x"),
    );

    // Every message is kept; the sender got one reply.
    assert_eq!(folder(&server, &away, "INBOX").unwrap().len(), 7);
    let replies = folder(&server, &asker, "INBOX").unwrap();
    assert_eq!(replies.len(), 1, "{:?}", subjects(&replies));
    let reply = &replies[0].1;
    assert!(reply.contains("Auto-Submitted: auto-replied"), "{reply}");
    assert!(
        reply.contains("In-Reply-To: <Cau-hoi@example.org>"),
        "{reply}"
    );
    assert!(
        reply.contains("References: <Cau-hoi@example.org>"),
        "{reply}"
    );
    assert!(
        reply.contains(&format!("<{away}>")),
        "from the recipient: {reply}"
    );
    assert!(
        reply.contains("=?utf-8?"),
        "the Vietnamese subject is encoded: {reply}"
    );
    // The period is recorded in the store (one row: sender and handle).
    let rows = server.sql("SELECT sender FROM vacation_replies");
    assert_eq!(rows.trim(), asker, "{rows}");
    // An outside sender's reply goes through the queue, with the null MAIL FROM.
    send(
        &server,
        "ban@example.org",
        &[&away],
        &message("ban@example.org", &away, "Tu ngoai", "", "x"),
    );
    let queue = text(&server.cli(&["queue", "list"], ""));
    assert!(
        queue
            .lines()
            .any(|l| l.contains("ban@example.org") && l.contains("\t<>\t")),
        "{queue}"
    );
}

/// Redirect: to a local address it is a new local delivery; outside, refused by the default
/// policy (kept, logged); allowed by `[policy] external_forwarding = true`, then queued under
/// an SRS0 MAIL FROM, and a bounce to that address goes back to the original sender.
#[test]
fn redirect_local_and_outside_by_policy_with_srs() {
    let server = TestServer::start_with(HOLD_QUEUE);
    let from = server.add_account("chuyendi", "Người Chuyển", PW);
    let to = server.add_account("nhanve", "Người Nhận", PW);
    put_script(
        &server,
        &from,
        "chuyen",
        &format!(
            "if header :contains \"Subject\" \"noi bo\" {{ redirect \"{to}\"; }}\n\
             if header :contains \"Subject\" \"ra ngoai\" {{ redirect \"rieng@gmail.example\"; }}\n"
        ),
    );
    send(
        &server,
        "a@example.org",
        &[&from],
        &message("a@example.org", &from, "Thu noi bo", "", "x"),
    );
    assert_eq!(
        subjects(&folder(&server, &to, "INBOX").unwrap()),
        vec!["Thu noi bo"]
    );
    assert!(
        folder(&server, &from, "INBOX").unwrap().is_empty(),
        "redirect cancels the keep"
    );

    send(
        &server,
        "a@example.org",
        &[&from],
        &message("a@example.org", &from, "Thu ra ngoai", "", "x"),
    );
    assert_eq!(
        subjects(&folder(&server, &from, "INBOX").unwrap()),
        vec!["Thu ra ngoai"]
    );
    assert!(
        server
            .log()
            .contains("refused by [policy] external_forwarding")
    );
    let queue = text(&server.cli(&["queue", "list"], ""));
    assert!(!queue.contains("gmail.example"), "{queue}");
    drop(server);

    let server = TestServer::start_with(&format!(
        "{HOLD_QUEUE}[policy]\nexternal_forwarding = true\n"
    ));
    let from = server.add_account("chuyendi", "Người Chuyển", PW);
    put_script(
        &server,
        &from,
        "chuyen",
        "redirect \"rieng@gmail.example\";\n",
    );
    send(
        &server,
        "a@example.org",
        &[&from],
        &message("a@example.org", &from, "Thu ra ngoai", "", "x"),
    );
    assert!(folder(&server, &from, "INBOX").unwrap().is_empty());
    let queue = text(&server.cli(&["queue", "list"], ""));
    let line = queue
        .lines()
        .find(|l| l.contains("SRS0="))
        .unwrap_or_else(|| panic!("an SRS0 MAIL FROM: {queue}"));
    let srs = line
        .split('\t')
        .find(|f| f.contains("SRS0="))
        .unwrap()
        .trim()
        .trim_matches(['<', '>'])
        .to_string();
    assert!(srs.ends_with(&format!("=example.org=a@{DOMAIN}")), "{srs}");
    assert!(line.contains("rieng@gmail.example"), "{line}");
    // A bounce to the SRS address is accepted and goes on to a@example.org.
    send(
        &server,
        "",
        &[&srs],
        &message("MAILER-DAEMON@gmail.example", &srs, "Undelivered", "", "x"),
    );
    wait_for("the bounce queued for the original sender", || {
        let queue = text(&server.cli(&["queue", "list"], ""));
        queue
            .lines()
            .any(|l| l.contains("a@example.org") && !l.contains("SRS0="))
    });
    // A forged SRS address is refused at RCPT.
    let out = server.python_output(
        "sieve_mail.py",
        &[
            "send",
            "",
            &format!("SRS0=AAAAAA=AB=example.org=a@{DOMAIN}"),
            write_file(&server, "forged.eml", b"Subject: x\r\n\r\nx\r\n")
                .to_str()
                .unwrap(),
        ],
    );
    assert!(!out.status.success(), "{}", text(&out));
}
