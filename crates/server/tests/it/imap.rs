//! IMAP tests: the real server over loopback, driven by Python's imaplib (scripts
//! `py/imap_*.py`, which print OK when every check passed) and by raw lines for what no polite
//! client sends.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use super::harness::{LineClient, TestServer};

const PASSWORD: &str = "mat-khau-dat-1";

/// Starts a server with one account and runs a script with its address and password.
fn run_script(script: &str, extra_args: &[&str]) {
    let server = TestServer::start();
    let address = server.add_account("datnv", "Nông Văn Đạt", PASSWORD);
    let mut args = vec![address.as_str(), PASSWORD];
    args.extend_from_slice(extra_args);
    let out = server.python(script, &args);
    assert!(out.ends_with("OK\n"), "{script}: {out}");
}

#[track_caller]
fn expect(client: &mut LineClient, prefix: &str) -> String {
    let line = client.line();
    assert!(
        line.starts_with(prefix),
        "expected {prefix:?}, got {line:?}"
    );
    line
}

/// IMAPS and STARTTLS with LOGIN and AUTHENTICATE PLAIN (with and without SASL-IR); no
/// password before STARTTLS on the plain port.
#[test]
fn signs_in_over_imaps_and_starttls_only() {
    run_script("imap_login.py", &[]);
}

/// LIST shows INBOX, Sent, Drafts, Trash, Junk and Archive with SPECIAL-USE attributes;
/// Vietnamese folder names are created, listed, renamed and deleted in modified UTF-7.
#[test]
fn lists_standard_folders_with_special_use() {
    run_script("imap_folders.py", &[]);
}

/// APPEND then FETCH: BODY[] byte for byte, ENVELOPE, BODYSTRUCTURE, sections, partials,
/// \Seen, COPY and MOVE with UIDPLUS.
#[test]
fn appended_mail_is_fetched_byte_for_byte_with_structure() {
    run_script("imap_fetch.py", &[]);
}

/// SEARCH ignores case and diacritics ("dat" finds "Đạt") in every text criterion.
#[test]
fn search_ignores_case_and_vietnamese_diacritics() {
    run_script("imap_search.py", &[]);
}

/// SEARCH from the index: windows-1258 and base64 HTML bodies, "hoa" finds "Hòa" and
/// "Hoà", prefixes and phrases (substrings), ESEARCH.
#[test]
fn search_uses_the_index_for_decoded_vietnamese_text() {
    run_script("imap_search_index.py", &[]);
}

/// SEARCH finds the words of PDF (a Type0 font's ToUnicode map) and DOCX attachments, sent
/// by type or known by file name, over SMTP and by APPEND, folded like all text. A PDF whose
/// cross-reference chain loops is read in the sandbox child, which the kernel stops at its
/// CPU limit: the server goes on, the message is stored and found by its own text.
#[test]
fn search_finds_the_text_of_pdf_and_docx_attachments() {
    let server = TestServer::start();
    let address = server.add_account("datnv", "Nông Văn Đạt", PASSWORD);
    let out = server.python("search_attachments.py", &[&address, PASSWORD]);
    assert!(out.ends_with("OK\n"), "{out}");
    assert!(
        server.log().contains("attachment text not read"),
        "the looping PDF is logged: {}",
        server.log()
    );
}

/// SEARCH matches substrings (RFC 3501/9051 §6.4.4) in every text key, short needles and
/// LIKE/FTS special characters included; SENT* compare the Date header's own calendar date,
/// BEFORE/ON/SINCE the internal date, which also stands in for a missing or invalid Date.
#[test]
fn search_matches_substrings_and_dates_as_written() {
    run_script("imap_search_substring.py", &[]);
}

/// Two sessions on one mailbox see each other's flag changes, new mail and expunges, and no
/// EXPUNGE arrives during FETCH, STORE or SEARCH.
#[test]
fn two_sessions_see_each_others_changes() {
    run_script("imap_concurrent.py", &[]);
}

/// IDLE wakes up for another session's APPEND, flag change and expunge, and for mail
/// delivered over SMTP.
#[test]
fn idle_reports_new_mail_at_once() {
    run_script("imap_idle.py", &["smtp"]);
}

/// A Thunderbird-shaped session: ID, ENABLE QRESYNC, LIST-STATUS, SELECT (QRESYNC ...),
/// CONDSTORE fetches, UID FETCH of headers, IDLE; a second session's changes arrive as FETCH
/// with MODSEQ, VANISHED and EXISTS; STORE UNCHANGEDSINCE, SEARCH MODSEQ, ESEARCH, QUOTA, MOVE.
#[test]
fn thunderbird_session_with_qresync_condstore_and_esearch() {
    run_script("imap_thunderbird.py", &[]);
}

/// Before sign-in a command holds at most 64 KiB, literals included: many LITERAL+ pairs end
/// with `* BYE [TOOBIG]`, synchronising literals past it get `NO [TOOBIG]`; LOGIN with
/// literals and a large APPEND after it still work.
#[test]
fn commands_before_sign_in_are_capped() {
    run_script("imap_preauth_limits.py", &[]);
}

/// Garbage, unknown commands, over-long lines and oversized literals get BAD/NO and the
/// connection keeps working; LOGIN before STARTTLS is refused; too many bad commands and
/// the idle timeout end the connection with BYE.
#[test]
fn malformed_input_is_refused_and_the_connection_survives() {
    let server = TestServer::start_with(
        "[limits]\nimap_max_line = 1000\nmax_message_size = 20000\nimap_idle_timeout = 3\n",
    );
    let mut c = server.connect("imap");
    let greeting = expect(&mut c, "* OK [CAPABILITY IMAP4REV1");
    assert!(
        greeting.contains("STARTTLS") && greeting.contains("LOGINDISABLED"),
        "{greeting}"
    );
    assert!(!greeting.contains("AUTH=PLAIN"), "{greeting}");

    c.send(b"\x00\x01 garbage \xff\xfe\r\n");
    expect(&mut c, "* BAD");
    c.send(b"a1 FROB the knob\r\n");
    expect(&mut c, "a1 BAD");
    c.send(b"a2 FETCH 1 (FLAGS)\r\n");
    expect(&mut c, "a2 BAD"); // not signed in
    c.send(b"a3 NOOP\r\n");
    expect(&mut c, "a3 OK");
    // Pipelined commands are answered in order.
    c.send(b"p1 NOOP\r\np2 CAPABILITY\r\np3 NOOP\r\n");
    expect(&mut c, "p1 OK");
    expect(&mut c, "* CAPABILITY");
    expect(&mut c, "p2 OK");
    expect(&mut c, "p3 OK");

    // Over-long line: BAD with the tag, the rest of the line dropped.
    c.send(format!("a4 SEARCH SUBJECT {}\r\n", "x".repeat(5000)).as_bytes());
    expect(&mut c, "a4 BAD [TOOBIG]");
    c.send(b"a5 NOOP\r\n");
    expect(&mut c, "a5 OK");

    // No password in clear.
    c.send(b"a6 LOGIN datnv@caobang.gov.vn mat-khau\r\n");
    expect(&mut c, "a6 NO [PRIVACYREQUIRED]");
    // A synchronising literal: `+`, then the rest of the command.
    c.send(b"a7 LOGIN {5}\r\n");
    expect(&mut c, "+ ");
    c.send(b"datnv {8}\r\n");
    expect(&mut c, "+ ");
    c.send(b"mat-khau\r\n");
    expect(&mut c, "a7 NO [PRIVACYREQUIRED]");
    // LITERAL+: no `+`.
    c.send(b"a8 LOGIN {5+}\r\ndatnv {8+}\r\nmat-khau\r\n");
    expect(&mut c, "a8 NO [PRIVACYREQUIRED]");

    // Literals over the message size limit are refused without being stored: a synchronising
    // one before it is sent, a non-synchronising one after it was read and dropped.
    c.send(b"a9 APPEND INBOX {50000}\r\n");
    expect(&mut c, "a9 NO [TOOBIG]");
    let mut big = b"a10 APPEND INBOX {50000+}\r\n".to_vec();
    big.extend(std::iter::repeat_n(b'A', 50000));
    big.extend(b"\r\n");
    c.send(&big);
    expect(&mut c, "a10 NO [TOOBIG]");
    c.send(b"a11 NOOP\r\n");
    expect(&mut c, "a11 OK");

    // Ten bad commands in a row: BYE and close.
    for i in 0..10 {
        c.send(format!("b{i} FROB\r\n").as_bytes());
    }
    let lines = c.until("* BYE");
    assert_eq!(lines.len(), 11, "{lines:?}");
    assert!(c.closed());

    // A silent client is disconnected after the idle timeout with BYE.
    let mut c = server.connect("imap");
    expect(&mut c, "* OK");
    let started = std::time::Instant::now();
    expect(&mut c, "* BYE");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(c.closed());
}

/// SIGTERM: an IDLEing session gets `* BYE` before the server exits cleanly.
#[test]
fn shutdown_says_bye_to_idling_sessions() {
    let mut server = TestServer::start();
    let address = server.add_account("datnv", "Nông Văn Đạt", PASSWORD);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/py/imap_shutdown.py");
    let mut child = Command::new("python3")
        .arg(script)
        .args([address.as_str(), PASSWORD])
        .envs(server.env())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "IDLING\n", "{}", server.log());
    assert_eq!(server.terminate(), Some(0), "{}", server.log());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && rest == "BYE\n",
        "{rest}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Đ13.3 in IMAP: `connections_per_ip` permits (BYE beyond them, room again after a logout)
/// and the throttled sign-in (after `auth_failures_per_ip` failures even the right password
/// gets `NO [UNAVAILABLE]`).
#[test]
fn connection_and_sign_in_limits() {
    let server =
        TestServer::start_with("[limits]\nconnections_per_ip = 3\nauth_failures_per_ip = 2\n");
    let address = server.add_account("datnv", "Nông Văn Đạt", PASSWORD);
    let out = server.python("imap_limits.py", &[&address, PASSWORD]);
    assert!(out.ends_with("OK\n"), "{out}");
}

/// curl as a second, independent client: APPEND by upload, LIST, UID FETCH of the message
/// byte for byte, a custom UID SEARCH without diacritics, all over IMAPS with certificate
/// verification; then the same message over POP3S (LIST and RETR).
#[test]
fn curl_reads_and_writes_over_imaps_and_pop3s() {
    let server = TestServer::start();
    let address = server.add_account("datnv", "Nông Văn Đạt", PASSWORD);
    let cert = server.data_dir().join("tls/cert.pem");
    let message = "From: Hoàng Thị Hòa <hoaht@caobang.gov.vn>\r\nTo: datnv@caobang.gov.vn\r\n\
                   Subject: Giấy mời họp\r\nMIME-Version: 1.0\r\n\
                   Content-Type: text/plain; charset=utf-8\r\n\r\nKính gửi đồng chí Đạt.\r\n";
    let file = server.dir.join("message.eml");
    std::fs::write(&file, message).unwrap();
    let curl = |url: String, extra: &[&str]| {
        let port = url
            .split(':')
            .nth(2)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_string();
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "20", "--cacert"])
            .arg(&cert)
            .args([
                "--resolve",
                &format!("mail.caobang.gov.vn:{port}:127.0.0.1"),
            ])
            .args(["-u", &format!("{address}:{PASSWORD}")])
            .args(extra)
            .arg(&url)
            .output()
            .expect("curl");
        assert!(
            out.status.success(),
            "curl {url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let imaps = server.port("imaps");
    let base = format!("imaps://mail.caobang.gov.vn:{imaps}");
    curl(format!("{base}/INBOX"), &["-T", file.to_str().unwrap()]);
    let list = curl(format!("{base}/"), &[]);
    assert!(list.contains("INBOX") && list.contains("Sent"), "{list}");
    let fetched = curl(format!("{base}/INBOX;UID=1"), &[]);
    assert_eq!(fetched, message);
    let found = curl(
        format!("{base}/INBOX"),
        &["-X", "UID SEARCH SUBJECT \"giay moi\""],
    );
    assert!(found.contains("SEARCH 1"), "{found}");
    let none = curl(
        format!("{base}/INBOX"),
        &["-X", "UID SEARCH BODY \"khong co\""],
    );
    assert!(!none.contains("SEARCH 1"), "{none}");
    let pop3s = server.port("pop3s");
    let pop = format!("pop3s://mail.caobang.gov.vn:{pop3s}");
    let listing = curl(format!("{pop}/"), &[]);
    assert_eq!(listing.trim(), format!("1 {}", message.len()));
    assert_eq!(curl(format!("{pop}/1"), &[]), message);
}

/// SORT by folded text (Vietnamese order), dates, size, arrival, with UID SORT, charsets and
/// errors; THREAD=REFERENCES by references and base subject.
#[test]
fn sort_and_thread() {
    run_script("imap_sort_thread.py", &[]);
}

/// RFC conformance (`imap_conformance.py`): SORT by base subject and first local part
/// (RFC 5256), \Recent claimed once through the store and kept across a restart, new keywords
/// announced before a FETCH shows them and NIL refused as a flag list, BINARY partials with
/// their origin, ENVELOPE groups, BODY[n.TEXT] with an encapsulated epilogue, LIST-EXTENDED as
/// RFC 5258 §5's examples, and MOVE into the selected mailbox.
#[test]
fn rfc_conformance_sort_recent_keywords_binary_envelope_list_move() {
    let mut server = TestServer::start();
    let address = server.add_account("datnv", "Nông Văn Đạt", PASSWORD);
    let out = server.python("imap_conformance.py", &[&address, PASSWORD, "before"]);
    assert!(out.ends_with("OK\n"), "before: {out}");
    server.restart();
    let out = server.python("imap_conformance.py", &[&address, PASSWORD, "after"]);
    assert!(out.ends_with("OK\n"), "after the restart: {out}");
}

/// LITERAL+ beyond 4096 octets and TOOBIG beyond APPENDLIMIT, CREATE with USE (RFC 6154),
/// `\Recent` in exactly one session, and ENABLE IMAP4rev2 (no `\Recent`).
#[test]
fn literals_special_use_recent_and_imap4rev2() {
    run_script("imap_rev2.py", &[]);
}

/// IMAP4rev2 names in UTF-8 (modified UTF-7 for IMAP4rev1 clients of the same account), no
/// `OK [UNSEEN]`, subscriptions as names (`\NonExistent`, CHILDINFO), several LIST patterns,
/// SEARCHRES (`$`) with a concurrent expunge, HASCHILDREN and UNAUTHENTICATE.
#[test]
fn imap4rev2_names_subscriptions_searchres_and_unauthenticate() {
    run_script("imap_rev2_names.py", &[]);
}

/// A password reset reaches sessions already signed in: the next IMAP command gets `* BYE`
/// and POP3 `-ERR [AUTH]` (nothing it marked is deleted), and the new password works.
#[test]
fn a_password_reset_ends_open_sessions() {
    let server = TestServer::start();
    let address = server.add_account("datnv", "Nông Văn Đạt", PASSWORD);
    let config = server.config.display().to_string();
    let out = server.python(
        "session_reset.py",
        &[&address, PASSWORD, env!("CARGO_BIN_EXE_hopthu"), &config],
    );
    assert!(out.ends_with("OK\n"), "{out}");
}
