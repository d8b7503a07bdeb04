//! SMTP tests: the real server over loopback, driven by Python's smtplib (with imaplib over
//! IMAPS to see what arrived) and by raw lines for what no polite client sends.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::harness::{DOMAIN, LineClient, TestServer};

/// Reads one reply line and checks how it starts.
#[track_caller]
fn expect(client: &mut LineClient, prefix: &str) -> String {
    let line = client.line();
    assert!(
        line.starts_with(prefix),
        "expected {prefix:?}, got {line:?}"
    );
    line
}

/// Connects to the MX port, reads the greeting and says EHLO.
fn mx_client(server: &TestServer) -> LineClient {
    let mut client = server.connect("smtp");
    expect(&mut client, "220 mail.caobang.gov.vn ESMTP");
    client.send(b"EHLO client.example.org\r\n");
    client.until("250 ");
    client
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/py")
        .join(name)
}

/// Test 1: a Vietnamese message (RFC 2047 subject via submission + STARTTLS + AUTH PLAIN;
/// raw UTF-8 subject with SMTPUTF8 via submissions + AUTH LOGIN) arrives byte for byte.
#[test]
fn vietnamese_mail_through_submission_arrives_byte_for_byte() {
    let server = TestServer::start();
    let sender = server.add_account("datnv", "Nông Văn Đạt", "mat-khau-dat-1");
    let recipient = server.add_account("hoant", "Nguyễn Thị Hoa", "mat-khau-hoa-2");
    let out = server.python(
        "smtp_send_utf8.py",
        &[&sender, "mat-khau-dat-1", &recipient, "mat-khau-hoa-2"],
    );
    print!("{out}");
    assert!(out.ends_with("OK\n"), "{out}");
}

/// Test 2: unknown users, relaying, AUTH before TLS, bad passwords, STARTTLS injection.
#[test]
fn refusals_unknown_user_relay_auth_and_starttls_injection() {
    let server = TestServer::start();
    let user = server.add_account("thuky", "Thư Ký", "mat-khau-thu-ky");
    let out = server.python("smtp_refusals.py", &[&user, "mat-khau-thu-ky"]);
    print!("{out}");
    assert!(out.ends_with("OK\n"), "{out}");
}

/// Test 3: concurrent clients deliver to the MX port; the server is SIGKILLed mid-stream and
/// restarted; every message that was answered 250 is in the INBOX (read over IMAPS).
#[test]
fn sigkill_loses_no_acknowledged_message() {
    let mut server = TestServer::start();
    let recipient = server.add_account("vanthu", "Văn Thư", "mat-khau-van-thu");
    let acked = server.dir.join("acked.txt");
    std::fs::write(&acked, "").unwrap();
    let mut clients = Command::new("python3")
        .arg(script("smtp_durability.py"))
        .args([acked.to_str().unwrap(), &recipient, "6"])
        .envs(server.env())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");

    // Kill once a fair number of messages have been acknowledged, while clients are sending.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let count = std::fs::read_to_string(&acked).unwrap().lines().count();
        if count >= 40 {
            break;
        }
        if let Some(status) = clients.try_wait().unwrap() {
            panic!("clients stopped early ({status}):\n{}", server.log());
        }
        assert!(Instant::now() < deadline, "too slow: {count} acknowledged");
        std::thread::sleep(Duration::from_millis(10));
    }
    server.kill();
    let out = clients.wait_with_output().unwrap();
    let client_report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "clients failed: {client_report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    server.restart();
    let check = server.python(
        "smtp_durability_check.py",
        &[acked.to_str().unwrap(), &recipient, "mat-khau-van-thu"],
    );
    println!("clients: {client_report}after restart: {check}");
    assert!(check.ends_with("OK\n"), "{check}");
}

/// Test 4a: a pipelined batch is answered in order, in one go.
#[test]
fn pipelined_batch_is_answered_in_order() {
    let server = TestServer::start();
    let user = server.add_account("tonghop", "Tổng Hợp", "mat-khau-tong-hop");
    let mut client = mx_client(&server);
    client.send(
        format!(
            "MAIL FROM:<a@example.org>\r\nRCPT TO:<{user}>\r\nRCPT TO:<khongco@{DOMAIN}>\r\n\
             RCPT TO:<b@example.net>\r\nRCPT TO:<{user}>\r\nDATA\r\n"
        )
        .as_bytes(),
    );
    expect(&mut client, "250 2.1.0");
    expect(&mut client, "250 2.1.5");
    expect(&mut client, "550 5.1.1");
    expect(&mut client, "550 5.7.1");
    expect(&mut client, "250 2.1.5");
    expect(&mut client, "354 ");
    // The content, the end marker and the next transaction in one write (RFC 2920 allows
    // commands after the end of data in the same batch).
    client.send(
        format!(
            "Subject: pipelined\r\n\r\n..one\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<{user}>\r\n\
             DATA\r\n"
        )
        .as_bytes(),
    );
    expect(&mut client, "250 2.0.0");
    expect(&mut client, "250 2.1.0");
    expect(&mut client, "250 2.1.5");
    expect(&mut client, "354 ");
    // An empty message, then BDAT in the same batch.
    client.send(
        format!(
            ".\r\nMAIL FROM:<c@example.org>\r\nRCPT TO:<{user}>\r\nBDAT 7\r\nSubject\
             BDAT 5 LAST\r\n: x\r\nQUIT\r\n"
        )
        .as_bytes(),
    );
    expect(&mut client, "250 2.0.0");
    expect(&mut client, "250 2.1.0");
    expect(&mut client, "250 2.1.5");
    expect(&mut client, "250 2.0.0 7 octets");
    expect(&mut client, "250 2.0.0 OK");
    expect(&mut client, "221 2.0.0");
    assert!(client.closed());

    // DATA with no accepted recipient: 554, and the content is never expected.
    let mut client = mx_client(&server);
    client.send(
        format!("MAIL FROM:<a@example.org>\r\nRCPT TO:<khongco@{DOMAIN}>\r\nDATA\r\nNOOP\r\n")
            .as_bytes(),
    );
    expect(&mut client, "250 2.1.0");
    expect(&mut client, "550 5.1.1");
    expect(&mut client, "554 5.5.1");
    expect(&mut client, "250 2.0.0");
}

/// Test 4b: garbage, invalid UTF-8, NUL and over-long lines get protocol errors; the session
/// goes on and so do others; 20 errors close the session with 421.
#[test]
fn garbage_and_long_lines_get_errors_and_the_server_keeps_serving() {
    let server = TestServer::start();
    let user = server.add_account("kiemtra", "Kiểm Tra", "mat-khau-kiem-tra");
    let mut bad = mx_client(&server);
    let mut good = mx_client(&server);

    let long = format!("MAIL FROM:<{}@example.org>\r\n", "a".repeat(600));
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"\x00\x01\x02\r\n".to_vec(), "500 5.5.2"),
        (b"\xff\xfe\xfd garbage\r\n".to_vec(), "500 5.5.2"),
        (b"NOOP \xc3\x28\r\n".to_vec(), "500 5.5.2"),
        (b"XYZZY plugh\r\n".to_vec(), "500 5.5.1"),
        (b"MAIL FROM:<not an address>\r\n".to_vec(), "501 "),
        (
            b"MAIL FROM:<a@example.org> FOO=BAR\r\n".to_vec(),
            "555 5.5.4",
        ),
        (b"RCPT TO:<x@example.org>\r\n".to_vec(), "503 5.5.1"),
        (b"EHLO\r\n".to_vec(), "501 5.5.4"),
        (long.into_bytes(), "500 5.5.2 Line too long"),
        (
            [vec![b'x'; 70_000], b"\r\n".to_vec()].concat(),
            "500 5.5.2 Line too long",
        ),
    ];
    for (line, reply) in &cases {
        bad.send(line);
        expect(&mut bad, reply);
        // Meanwhile another client is served normally.
        good.send(b"NOOP\r\n");
        expect(&mut good, "250 2.0.0");
    }
    // The bad session still works.
    bad.send(format!("MAIL FROM:<a@example.org>\r\nRCPT TO:<{user}>\r\nRSET\r\n").as_bytes());
    expect(&mut bad, "250 2.1.0");
    expect(&mut bad, "250 2.1.5");
    expect(&mut bad, "250 2.0.0");
    // A line over 512 octets in small pieces without any LF yet: answered once it is too long.
    for _ in 0..6 {
        bad.send(&[b'y'; 100]);
    }
    expect(&mut bad, "500 5.5.2 Line too long");
    bad.send(b"\r\nNOOP\r\n");
    expect(&mut bad, "250 2.0.0");

    // Twenty protocol errors: 421 and the connection is closed.
    let mut flood = mx_client(&server);
    flood.send("BOGUS\r\n".repeat(25).as_bytes());
    let lines = flood.until("421 ");
    assert_eq!(lines.len(), 21, "{lines:?}");
    assert!(
        lines[..20].iter().all(|l| l.starts_with("500 5.5.1")),
        "{lines:?}"
    );
    assert!(flood.closed());

    good.send(b"QUIT\r\n");
    expect(&mut good, "221 2.0.0");
}

/// Test 4c: an idle session is closed with 421 4.4.2 after `limits.smtp_timeout`.
#[test]
fn idle_session_times_out_with_421() {
    let server = TestServer::start_with("[limits]\nsmtp_timeout = 1\n");
    let started = Instant::now();
    let mut client = mx_client(&server);
    expect(&mut client, "421 4.4.2");
    assert!(client.closed());
    assert!(started.elapsed() >= Duration::from_millis(900));
}

/// Test 5: SIZE is announced; over the limit, MAIL SIZE= and the content itself are refused
/// with 552 5.3.4 and the session goes on. Also the recipient limit (452 4.5.3).
#[test]
fn size_and_recipient_limits_are_enforced() {
    let server = TestServer::start_with("[limits]\nmax_message_size = 4096\nmax_recipients = 2\n");
    let user = server.add_account("nhan", "Người Nhận", "mat-khau-nguoi-nhan");
    let second = server.add_account("nhan2", "Người Nhận Hai", "mat-khau-nguoi-nhan");
    let third = server.add_account("nhan3", "Người Nhận Ba", "mat-khau-nguoi-nhan");
    let mut client = server.connect("smtp");
    expect(&mut client, "220 ");
    client.send(b"EHLO client.example.org\r\n");
    let ehlo = client.until("250 ");
    assert!(ehlo.iter().any(|l| l == "250-SIZE 4096\r\n"), "{ehlo:?}");

    client.send(b"MAIL FROM:<a@example.org> SIZE=5000\r\n");
    expect(&mut client, "552 5.3.4");

    // No SIZE given: the content is read to its end, then refused.
    let body = "Nội dung quá lớn.\r\n".repeat(400);
    client.send(format!("MAIL FROM:<a@example.org>\r\nRCPT TO:<{user}>\r\nDATA\r\n").as_bytes());
    expect(&mut client, "250 2.1.0");
    expect(&mut client, "250 2.1.5");
    expect(&mut client, "354 ");
    client.send(format!("Subject: big\r\n\r\n{body}.\r\n").as_bytes());
    expect(&mut client, "552 5.3.4");

    // The same with BDAT.
    client.send(format!("MAIL FROM:<a@example.org>\r\nRCPT TO:<{user}>\r\n").as_bytes());
    expect(&mut client, "250 2.1.0");
    expect(&mut client, "250 2.1.5");
    client.send(format!("BDAT {} LAST\r\n{body}", body.len()).as_bytes());
    expect(&mut client, "552 5.3.4");

    // limits.max_recipients: the third recipient waits for another transaction.
    client.send(
        format!("MAIL FROM:<a@example.org>\r\nRCPT TO:<{user}>\r\nRCPT TO:<{second}>\r\nRCPT TO:<{third}>\r\nRSET\r\n")
            .as_bytes(),
    );
    expect(&mut client, "250 2.1.0");
    expect(&mut client, "250 2.1.5");
    expect(&mut client, "250 2.1.5");
    expect(&mut client, "452 4.5.3");
    expect(&mut client, "250 2.0.0");

    // A message under the limit still goes through on the same session.
    client.send(
        format!("MAIL FROM:<a@example.org> SIZE=100\r\nRCPT TO:<{user}>\r\nDATA\r\n").as_bytes(),
    );
    expect(&mut client, "250 2.1.0");
    expect(&mut client, "250 2.1.5");
    expect(&mut client, "354 ");
    client.send(b"Subject: small\r\n\r\nOK\r\n.\r\n");
    expect(&mut client, "250 2.0.0");
}

/// Graceful shutdown: SIGTERM during DATA lets the transaction finish (250), then the session,
/// now waiting for a command, gets 421 4.3.2; an idle session gets 421 4.3.2 at once.
#[test]
fn shutdown_finishes_the_transaction_then_answers_421() {
    let mut server = TestServer::start();
    let user = server.add_account("ketthuc", "Kết Thúc", "mat-khau-ket-thuc");
    let log_path = server.dir.join("server.log");
    let mut idle = mx_client(&server);
    let mut busy = mx_client(&server);
    busy.send(format!("MAIL FROM:<a@example.org>\r\nRCPT TO:<{user}>\r\nDATA\r\n").as_bytes());
    expect(&mut busy, "250 2.1.0");
    expect(&mut busy, "250 2.1.5");
    expect(&mut busy, "354 ");
    busy.send(b"Subject: in flight\r\n\r\nfirst half\r\n");

    std::thread::scope(|scope| {
        let stopping = scope.spawn(|| server.terminate());
        // The idle session is told at once.
        expect(&mut idle, "421 4.3.2");
        assert!(idle.closed());
        let deadline = Instant::now() + Duration::from_secs(30);
        while !std::fs::read_to_string(&log_path)
            .unwrap_or_default()
            .contains("shutting down")
        {
            assert!(Instant::now() < deadline, "no shutdown in the log");
            std::thread::sleep(Duration::from_millis(10));
        }
        busy.send(b"second half\r\n.\r\n");
        expect(&mut busy, "250 2.0.0");
        expect(&mut busy, "421 4.3.2");
        assert!(busy.closed());
        assert_eq!(stopping.join().unwrap(), Some(0));
    });
}

/// Đ13.3 limits (`[limits]` set low): connections per IP (`421 4.7.0`), messages per user per
/// hour (`451 4.7.1`), failed AUTH per account and per IP (`454 4.7.0`).
#[test]
fn limits_connections_messages_and_failed_auth() {
    let server = TestServer::start_with(
        "[limits]\nconnections_per_ip = 3\nmessages_per_hour = 3\n\
         auth_failures_per_account = 2\nauth_failures_per_ip = 4\nauth_failure_window = 600\n",
    );
    let a = server.add_account("gioihana", "Giới Hạn A", "mat-khau-gioi-han-a");
    let b = server.add_account("gioihanb", "Giới Hạn B", "mat-khau-gioi-han-b");
    let out = server.python(
        "smtp_limits.py",
        &[&a, "mat-khau-gioi-han-a", &b, "mat-khau-gioi-han-b"],
    );
    print!("{out}");
    assert!(out.ends_with("OK\n"), "{out}");
}

/// A private clamd (Debian's clamav-daemon) on a free loopback port, with a database holding
/// only the EICAR test signature (written here: the real database cannot be downloaded).
struct Clamd {
    child: std::process::Child,
    port: u16,
}

impl Clamd {
    const BIN: &str = "/usr/sbin/clamd";

    fn start(dir: &Path) -> Clamd {
        let db = dir.join("clamav-db");
        std::fs::create_dir_all(&db).unwrap();
        let eicar = concat!(
            "X5O!P%@AP[4\\PZX54(P^)7CC)7}$",
            "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
        );
        let hex: String = eicar.bytes().map(|b| format!("{b:02x}")).collect();
        std::fs::write(
            db.join("eicar.ndb"),
            format!("Eicar-Test-Signature:0:*:{hex}\n"),
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let conf = dir.join("clamd.conf");
        std::fs::write(
            &conf,
            format!(
                "Foreground yes\nTCPSocket {port}\nTCPAddr 127.0.0.1\nDatabaseDirectory {}\n\
                 LogFile {}\nPidFile {}\n",
                db.display(),
                dir.join("clamd.log").display(),
                dir.join("clamd.pid").display()
            ),
        )
        .unwrap();
        let child = Command::new(Self::BIN)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start clamd");
        let deadline = Instant::now() + Duration::from_secs(120);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "clamd did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Clamd { child, port }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Clamd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// ClamAV through INSTREAM: the EICAR test file is refused with `554 5.7.0` on the MX port and
/// at submission; with clamd down, `on_error = "tempfail"` answers `451 4.7.0` and
/// `on_failure = "accept"` accepts with `X-Virus-Scan: unavailable`.
#[test]
fn antivirus_refuses_eicar_and_handles_a_dead_scanner() {
    if !super::needs::require(&[super::needs::CLAMD]) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("hopthu-clamd-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut clamd = Clamd::start(&dir);
    let config = format!(
        "[antivirus]\nclamd = \"127.0.0.1:{}\"\non_error = \"tempfail\"\ntimeout = 30\n",
        clamd.port
    );
    let server = TestServer::start_with(&config);
    let user = server.add_account("quetvirus", "Quét Virus", "mat-khau-quet-virus");
    let out = server.python(
        "smtp_antivirus.py",
        &["infected", &user, "mat-khau-quet-virus"],
    );
    print!("{out}");
    assert!(out.ends_with("OK\n"), "{out}");

    clamd.stop();
    let out = server.python(
        "smtp_antivirus.py",
        &["tempfail", &user, "mat-khau-quet-virus"],
    );
    print!("{out}");
    assert!(out.ends_with("OK\n"), "{out}");

    let accepting = TestServer::start_with(&format!(
        "[antivirus]\nclamd = \"127.0.0.1:{}\"\non_failure = \"accept\"\n",
        clamd.port
    ));
    let user = accepting.add_account("quetvirus", "Quét Virus", "mat-khau-quet-virus");
    let out = accepting.python(
        "smtp_antivirus.py",
        &["accept", &user, "mat-khau-quet-virus"],
    );
    print!("{out}");
    assert!(out.ends_with("OK\n"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Submission adds Message-ID (in our domain) and Date when a client leaves them out, and keeps
/// those a client wrote.
#[test]
fn submission_adds_message_id_and_date_when_missing() {
    let server = TestServer::start();
    let user = server.add_account("vanthu", "Văn Thư", "mat-khau-van-thu");
    let boss = server.add_account("chanhvp", "Chánh Văn Phòng", "mat-khau-chanh-vp");
    let out = server.python(
        "smtp_submission_headers.py",
        &[&user, "mat-khau-van-thu", &boss, "mat-khau-chanh-vp"],
    );
    assert_eq!(out.trim(), "ok", "{out}");
}

/// swaks, a client built to probe SMTP servers: a pipelined transaction for two mailboxes, a
/// recipient over `max_recipients` (452 4.5.3, the others still get the message), a message
/// over `max_message_size` (552 5.3.4, stored nowhere), and sessions abandoned after RCPT or
/// after the 354 of DATA (nothing stored); the server keeps serving throughout.
#[test]
fn swaks_pipelining_limits_and_abandoned_transactions() {
    const SWAKS: &str = "/usr/bin/swaks";
    if !super::needs::require(&[super::needs::SWAKS]) {
        return;
    }
    let server = TestServer::start_with("[limits]\nmax_message_size = 8192\nmax_recipients = 2\n");
    let a = server.add_account("mot", "Người Một", "mat-khau-nguoi-mot");
    let b = server.add_account("hai", "Người Hai", "mat-khau-nguoi-hai");
    let c = server.add_account("ba", "Người Ba", "mat-khau-nguoi-ba");
    let port = server.port("smtp").to_string();
    let swaks = |subject: &str, to: &str, extra: &[&str]| -> (bool, String) {
        let out = Command::new(SWAKS)
            .args(["--server", "127.0.0.1", "--port", &port])
            .args([
                "--helo",
                "client.example.org",
                "--from",
                "ngoai@example.org",
            ])
            .args(["--to", to, "--header", &format!("Subject: {subject}")])
            .args(extra)
            .stdin(Stdio::null())
            .output()
            .expect("swaks");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let subjects = |who: &str, password: &str| -> Vec<String> {
        server
            .python("mta_inbox.py", &[who, password])
            .lines()
            .filter_map(|l| l.strip_prefix("SUBJECT ").map(str::to_string))
            .collect()
    };

    let (ok, out) = swaks("Ong duc", &format!("{a},{b}"), &["--pipeline"]);
    assert!(ok, "{out}");
    assert!(out.contains("250-PIPELINING"), "{out}");
    assert!(
        out.contains("<~  250 2.0.0") || out.contains("<-  250 2.0.0"),
        "{out}"
    );

    let (_, out) = swaks("Qua nhieu", &format!("{a},{b},{c}"), &["--pipeline"]);
    assert!(out.contains("452 4.5.3"), "{out}");
    assert!(
        out.contains("250 2.0.0"),
        "the accepted recipients still get it: {out}"
    );

    let big = "Nội dung rất dài của một công văn.\r\n".repeat(300);
    let (ok, out) = swaks("Qua lon", &a, &["--body", &big]);
    assert!(!ok, "{out}");
    assert!(out.contains("552 5.3.4"), "{out}");

    let (_, out) = swaks("Bo do sau RCPT", &a, &["--quit-after", "RCPT"]);
    assert!(out.contains("250 2.1.5"), "{out}");
    let (_, out) = swaks("Bo do trong DATA", &a, &["--drop-after", "DATA"]);
    assert!(out.contains("354 "), "{out}");

    let (ok, out) = swaks("Van phuc vu", &c, &[]);
    assert!(ok, "{out}");
    assert_eq!(subjects(&a, "mat-khau-nguoi-mot"), ["Ong duc", "Qua nhieu"]);
    assert_eq!(subjects(&b, "mat-khau-nguoi-hai"), ["Ong duc", "Qua nhieu"]);
    assert_eq!(subjects(&c, "mat-khau-nguoi-ba"), ["Van phuc vu"]);
}

/// NOTIFY=SUCCESS on a local recipient brings the sender a success notice (RFC 3461 §5.2.2),
/// only for the recipients that asked, with ENVID and ORCPT, and without the body.
#[test]
fn local_delivery_with_notify_success_reports_delivered() {
    let server = TestServer::start();
    let user = server.add_account("guibaonhan", "Người Gửi", "mat-khau-nguoi-gui");
    let wants = server.add_account("nhanmot", "Người Nhận Một", "mat-khau-nhan-mot");
    let quiet = server.add_account("nhanhai", "Người Nhận Hai", "mat-khau-nhan-hai");
    let out = server.python(
        "smtp_success_dsn.py",
        &[&user, "mat-khau-nguoi-gui", &wants, &quiet],
    );
    assert_eq!(out.trim(), "OK", "{out}");
}

/// One message to `rcpt` over the MX port; returns the RCPT reply (the message is sent only
/// when it is 250, and then must be accepted).
fn send_one(client: &mut LineClient, rcpt: &str, subject: &str) -> String {
    client.send(format!("MAIL FROM:<a@example.org>\r\nRCPT TO:<{rcpt}>\r\n").as_bytes());
    expect(client, "250 2.1.0");
    let reply = client.line();
    if !reply.starts_with("250 ") {
        client.send(b"RSET\r\n");
        expect(client, "250 ");
        return reply;
    }
    client.send(b"DATA\r\n");
    expect(client, "354 ");
    let body = format!("{}\r\n", "x".repeat(70)).repeat(100);
    client.send(format!("Subject: {subject}\r\n\r\n{body}.\r\n").as_bytes());
    expect(client, "250 2.0.0");
    reply
}

/// A mailbox at `[limits] account_quota` defers new mail at RCPT with `452 4.2.2` (the sender
/// keeps it and retries); crossing `quota_warn_percent` brings one warning into the INBOX, and
/// another only after the use has fallen below the threshold and crossed it again.
#[test]
fn a_full_mailbox_defers_mail_and_its_owner_is_warned_once_per_crossing() {
    let server =
        TestServer::start_with("[limits]\naccount_quota = 20000\nquota_warn_percent = 50\n");
    let user = server.add_account("day", "Hộp Thư Đầy", "mat-khau-hop-thu");
    let pass = "mat-khau-hop-thu";
    let mut client = mx_client(&server);
    let warning = "Hộp thư sắp đầy / Your mailbox is almost full";
    // ~7.4 kB each: under half, over half (warned), over half again (not warned), full.
    for subject in ["mot", "hai", "ba"] {
        let reply = send_one(&mut client, &user, subject);
        assert!(reply.starts_with("250 2.1.5"), "{subject}: {reply}");
    }
    let reply = send_one(&mut client, &user, "bon");
    assert!(reply.starts_with("452 4.2.2"), "{reply}");
    let subjects = server.python("quota_inbox.py", &["subjects", &user, pass]);
    assert_eq!(
        subjects.lines().collect::<Vec<_>>(),
        ["mot", "hai", warning, "ba", "OK"],
        "{subjects}"
    );
    // Room again: mail is accepted, and the next crossing warns anew.
    server.python(
        "quota_inbox.py",
        &["expunge", &user, pass, "mot", "hai", "ba"],
    );
    for subject in ["nam", "sau"] {
        let reply = send_one(&mut client, &user, subject);
        assert!(reply.starts_with("250 2.1.5"), "{subject}: {reply}");
    }
    let subjects = server.python("quota_inbox.py", &["subjects", &user, pass]);
    assert_eq!(
        subjects.lines().collect::<Vec<_>>(),
        [warning, "nam", "sau", warning, "OK"],
        "{subjects}"
    );
}

/// Issue 11 §4, SMTP smuggling: on the MX port and on submission, no fake end of data (bare
/// LF/CR around the dot, `\r\n.\r\r\n`, a NUL before the dot…) ends DATA or starts a second
/// transaction; such content is refused with 554 after the real `CRLF . CRLF`, and only a clean
/// message is delivered.
#[test]
fn smtp_smuggling_never_starts_a_second_transaction() {
    let server = TestServer::start_with("[inbound]\nverify = false\n");
    let user = server.add_account("guilau", "Người Gửi", "mat-khau-gui-lau");
    let rcpt = server.add_account("nhanlau", "Người Nhận", "mat-khau-nhan-lau");
    let out = server.python(
        "smtp_smuggling.py",
        &[&user, "mat-khau-gui-lau", &rcpt, "mat-khau-nhan-lau"],
    );
    assert_eq!(out.trim(), "OK", "{out}");
}

/// Issue 11 §2: RFC 5322 §3.6 allows one From: (and one Sender:, Subject:, Reply-To:…). A
/// submission with two From: (another person's first, the sender's own last, or the reverse),
/// or other repeated fields, is refused with 550 5.6.0 and nothing is delivered; the MX
/// listener refuses two From: as well (DMARC would judge one author and the reader see the
/// other).
#[test]
fn duplicate_from_and_other_single_fields_are_refused() {
    let server = TestServer::start_with("[inbound]\nverify = false\n");
    let user = server.add_account("nhanvien", "Nhân Viên", "mat-khau-nhan-vien");
    let boss = server.add_account("giamdoc", "Giám Đốc", "mat-khau-giam-doc");
    let rcpt = server.add_account("ketoan", "Kế Toán", "mat-khau-ke-toan");
    let out = server.python(
        "smtp_duplicate_from.py",
        &[
            &user,
            "mat-khau-nhan-vien",
            &boss,
            &rcpt,
            "mat-khau-ke-toan",
        ],
    );
    assert_eq!(out.trim(), "OK", "{out}");

    let mut client = mx_client(&server);
    for froms in [
        "From: giamdoc@example.org\r\nFrom: ke@example.org\r\n",
        "From: giamdoc@example.org\r\nfrom : ke@example.org\r\n",
    ] {
        client
            .send(format!("MAIL FROM:<ke@example.org>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n").as_bytes());
        expect(&mut client, "250 ");
        expect(&mut client, "250 ");
        expect(&mut client, "354 ");
        client.send(format!("{froms}Subject: hai From\r\n\r\nbody\r\n.\r\n").as_bytes());
        expect(&mut client, "550 5.6.0");
    }
    // One From: is fine.
    client.send(format!("MAIL FROM:<ke@example.org>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n").as_bytes());
    expect(&mut client, "250 ");
    expect(&mut client, "250 ");
    expect(&mut client, "354 ");
    client.send(b"From: ke@example.org\r\nSubject: mot From\r\n\r\nbody\r\n.\r\n");
    expect(&mut client, "250 2.0.0");
}

/// Issue 11 §3: a submission session signed in before `hopthu account password` ends with
/// `421 4.7.0` at its next command, as IMAP and POP3 sessions do.
#[test]
fn submission_session_ends_after_a_password_change() {
    use std::io::{BufRead, BufReader, Write};
    let server = TestServer::start();
    let user = server.add_account("doimatkhau", "Đổi Mật Khẩu", "mat-khau-cu-2026");
    let rcpt = server.add_account("nhandoi", "Người Nhận", "mat-khau-nhan-doi");
    let mut child = Command::new("python3")
        .arg(script("smtp_session_revoked.py"))
        .args([&user, "mat-khau-cu-2026", &rcpt])
        .envs(server.env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "READY", "{line}\n{}", server.log());
    let out = server.cli(
        &["account", "password", &user, "--no-force-change"],
        "mat-khau-moi-2026\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(
        status.success() && rest.trim() == "OK",
        "{rest}\n{}",
        server.log()
    );
}

/// Issue 11 §13: the hourly sending limit counts recipients, at RCPT and at MAIL.
#[test]
fn hourly_sending_limit_counts_recipients() {
    let server = TestServer::start_with("[limits]\nmessages_per_hour = 3\n");
    let user = server.add_account("guinhieu", "Gửi Nhiều", "mat-khau-gui-nhieu");
    let a = server.add_account("nhanmot", "Nhận Một", "mat-khau-nhan-mot");
    let b = server.add_account("nhanhai", "Nhận Hai", "mat-khau-nhan-hai");
    let out = server.python(
        "smtp_rate_recipients.py",
        &[&user, "mat-khau-gui-nhieu", &a, &b],
    );
    assert_eq!(out.trim(), "OK", "{out}");
}

/// Issue 11 §11, backscatter: an unauthenticated message on the MX port asking
/// `NOTIFY=SUCCESS` for a forged MAIL FROM (SPF not passed) is delivered, but no success
/// notice goes to that address: the queue stays empty.
#[test]
fn no_success_notice_for_an_unverified_mx_sender() {
    // A resolver on loopback that answers nothing: the queue never reaches the Internet.
    let server =
        TestServer::start_with("[inbound]\nverify = false\n[dns]\nresolvers = [\"127.0.0.1:9\"]\n");
    let rcpt = server.add_account("nhanbaonhan", "Người Nhận", "mat-khau-nhan-bao");
    let mut client = mx_client(&server);
    client.send(
        format!(
            "MAIL FROM:<nannhan@example.net> RET=HDRS ENVID=x1\r\n\
             RCPT TO:<{rcpt}> NOTIFY=SUCCESS,FAILURE\r\nDATA\r\n"
        )
        .as_bytes(),
    );
    expect(&mut client, "250 ");
    expect(&mut client, "250 ");
    expect(&mut client, "354 ");
    client.send(b"From: nannhan@example.net\r\nSubject: bao nhan\r\n\r\nbody\r\n.\r\n");
    expect(&mut client, "250 2.0.0");
    client.send(b"QUIT\r\n");
    expect(&mut client, "221 ");
    std::thread::sleep(Duration::from_millis(500));
    let out = server.cli(&["queue", "list"], "");
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && list.contains("empty") && !list.contains("nannhan"),
        "{list}"
    );
}

/// Issue 11 §11: success notices are rate-limited per address (60 an hour), so even a
/// signed-in sender cannot make us flood one mailbox with them.
#[test]
fn success_notices_are_rate_limited_per_address() {
    let server = TestServer::start();
    let user = server.add_account("baonhannhieu", "Báo Nhận Nhiều", "mat-khau-bao-nhieu");
    let rcpt = server.add_account("nhannhieu", "Nhận Nhiều", "mat-khau-nhan-nhieu");
    let out = server.python(
        "smtp_success_dsn_limit.py",
        &[
            &user,
            "mat-khau-bao-nhieu",
            &rcpt,
            "mat-khau-nhan-nhieu",
            "63",
            "60",
        ],
    );
    assert_eq!(out.trim(), "OK", "{out}");
}
