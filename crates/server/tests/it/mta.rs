//! Outbound mail against real peers on loopback: a private Postfix instance (its own
//! main.cf/master.cf, queue and maildir under a temporary folder, a high port) as the remote MX,
//! found through MX records served by a private dnsmasq on a high port (`[dns] resolvers`,
//! `[outbound] port`). dkimpy checks hopthu's DKIM signatures against the records printed by
//! `hopthu dkim record`.
//!
//! Postfix, dnsmasq and python3-dkim come from Debian (`tools/test` installs them). When one is
//! missing the test fails with the reason (`needs::require`).

use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::harness::{DOMAIN, TestServer};
use super::needs::{self, DKIMPY, DNSMASQ, OPENSSL, POSTFIX, Tool};

/// True when a tool the test needs is missing and the run allows skipping (`needs::require`:
/// otherwise the test fails with the reason).
fn missing(tools: &[Tool]) -> bool {
    !needs::require(tools)
}

const POSTFIX_BIN: &str = "/usr/sbin/postfix";
const DNSMASQ_BIN: &str = "/usr/sbin/dnsmasq";
const SYSTEM_PYTHON: &str = "/usr/bin/python3";

/// An RSA key for dkimpy (`dir/dkim.pem`) and its public half, base64 DER, for a DKIM record.
pub(super) fn dkim_key(dir: &Path) -> (PathBuf, String) {
    let key = dir.join("dkim.pem");
    let status = Command::new("/usr/bin/openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(&key)
        .arg("2048")
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "openssl genrsa");
    let der = Command::new("/bin/sh")
        .arg("-c")
        .arg("/usr/bin/openssl rsa -pubout -outform DER -in \"$1\" 2>/dev/null | /usr/bin/openssl base64 -A")
        .arg("sh")
        .arg(&key)
        .output()
        .unwrap();
    assert!(der.status.success(), "openssl rsa -pubout");
    (
        key,
        String::from_utf8(der.stdout).unwrap().trim().to_string(),
    )
}

/// A port free on 127.0.0.1 for both TCP and UDP at the time of asking, for a listener that
/// another program (Postfix, dnsmasq) binds later. It is taken below the kernel's ephemeral
/// range (`ip_local_port_range`): a port of that range, free now, can become the source port
/// of any outgoing connection of a parallel test before Postfix binds it ("Address already in
/// use"), while ports below it are only ever bound on purpose.
fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let low: u32 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap_or(32768)
        .clamp(12_000, 65_000);
    let span = low - 10_000;
    // Each test binary starts at its own place (by process id), then walks the range.
    let start = std::process::id().wrapping_mul(7919) % span;
    for _ in 0..span {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = (10_000 + (start + n.wrapping_mul(97)) % span) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok()
            && UdpSocket::bind(("127.0.0.1", port)).is_ok()
        {
            return port;
        }
    }
    panic!("no free port below {low} on 127.0.0.1");
}

/// Polls `f` until it returns `Some`, for at most `limit`.
fn wait_for<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A private dnsmasq answering for `example.net` (MX → mx.example.net → 127.0.0.1).
struct Dns {
    child: Child,
    port: u16,
}

impl Dns {
    fn start(dir: &Path) -> Dns {
        Self::start_with(dir, &[])
    }

    /// Like [`Dns::start`] with more dnsmasq options (e.g. `--txt-record=…`).
    fn start_with(dir: &Path, extra: &[String]) -> Dns {
        let port = free_port();
        let child = Command::new(DNSMASQ_BIN)
            .args(extra)
            .args([
                "--keep-in-foreground",
                "--no-resolv",
                "--no-hosts",
                "--no-poll",
                "--bind-interfaces",
                "--listen-address=127.0.0.1",
                "--user=root",
                &format!("--port={port}"),
                &format!("--pid-file={}", dir.join("dnsmasq.pid").display()),
                &format!("--log-facility={}", dir.join("dnsmasq.log").display()),
                "--mx-host=example.net,mx.example.net,10",
                "--host-record=mx.example.net,127.0.0.1",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dnsmasq");
        // dnsmasq binds before it forks off nothing (foreground): wait for its UDP port.
        wait_for(Duration::from_secs(10), "dnsmasq", || {
            UdpSocket::bind(("127.0.0.1", port)).err().map(|_| ())
        });
        Dns { child, port }
    }
}

impl Drop for Dns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private Postfix: receives for `example.net` into one maildir; `access` holds
/// `check_recipient_access` rules (texthash) to refuse or defer chosen recipients.
struct Postfix {
    dir: PathBuf,
    port: u16,
    running: bool,
}

impl Postfix {
    fn new(dir: &Path, access: &str) -> Postfix {
        let dir = dir.join("postfix");
        std::fs::create_dir_all(dir.join("queue")).unwrap();
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::create_dir_all(dir.join("mail")).unwrap();
        let port = free_port();
        let d = dir.display();
        let id = |flag: &str| {
            let out = Command::new("id").args([flag, "postfix"]).output().unwrap();
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        };
        let (uid, gid) = (id("-u"), id("-g"));
        Command::new("chown")
            .args([
                &format!("{uid}:{gid}"),
                &format!("{d}/mail"),
                &format!("{d}/data"),
            ])
            .status()
            .unwrap();
        // A certificate so that Postfix offers STARTTLS.
        let status = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args(["-subj", "/CN=mx.example.net"])
            .arg("-keyout")
            .arg(dir.join("key.pem"))
            .arg("-out")
            .arg(dir.join("cert.pem"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "openssl req");
        std::fs::write(dir.join("access"), access).unwrap();
        std::fs::write(
            dir.join("main.cf"),
            format!(
                "compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.example.net
mydomain = example.net
myorigin = example.net
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
virtual_mailbox_domains = example.net
virtual_mailbox_base = {d}/mail
virtual_mailbox_maps = static:box/
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_minimum_uid = 1
smtpd_recipient_restrictions = check_recipient_access texthash:{d}/access, permit_mynetworks, reject_unauth_destination
maillog_file = {d}/maillog
maillog_file_prefixes = {d}
smtpd_tls_security_level = may
smtpd_tls_cert_file = {d}/cert.pem
smtpd_tls_key_file = {d}/key.pem
smtpd_tls_received_header = yes
"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("master.cf"),
            format!(
                "127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
virtual   unix  - n n - - virtual
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"
            ),
        )
        .unwrap();
        Postfix {
            dir,
            port,
            running: false,
        }
    }

    fn postfix(&self, verb: &str) {
        let out = Command::new(POSTFIX_BIN)
            .arg("-c")
            .arg(&self.dir)
            .arg(verb)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "postfix {verb}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }

    fn start(&mut self) {
        self.postfix("start");
        self.running = true;
        wait_for(Duration::from_secs(20), "postfix to listen", || {
            std::net::TcpStream::connect(("127.0.0.1", self.port))
                .ok()
                .map(|_| ())
        });
    }

    /// Relays mail for `domain` to hopthu's MX listener (instead of its MX records), with
    /// STARTTLS when offered. Call before [`Postfix::start`].
    fn relay_to(&self, domain: &str, port: u16) {
        let mut cf = std::fs::read_to_string(self.dir.join("main.cf")).unwrap();
        cf.push_str(&format!(
            "relay_domains = {domain}\n\
             transport_maps = inline:{{ {domain}=smtp:[127.0.0.1]:{port} }}\n\
             smtp_tls_security_level = may\n"
        ));
        std::fs::write(self.dir.join("main.cf"), cf).unwrap();
    }

    fn set_access(&self, access: &str) {
        std::fs::write(self.dir.join("access"), access).unwrap();
        self.postfix("reload");
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("maillog")).unwrap_or_default()
    }

    /// Every message delivered into the maildir.
    fn messages(&self) -> Vec<Vec<u8>> {
        let new = self.dir.join("mail/box/new");
        let mut out = Vec::new();
        if let Ok(entries) = std::fs::read_dir(new) {
            for e in entries.flatten() {
                // Maildir files have local (LF) line ends; give the message its wire form.
                let lf = std::fs::read(e.path()).unwrap();
                let mut crlf = Vec::with_capacity(lf.len() + lf.len() / 40);
                for &b in &lf {
                    if b == b'\n' {
                        crlf.push(b'\r');
                    }
                    crlf.push(b);
                }
                out.push(crlf);
            }
        }
        out
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        if self.running {
            let _ = Command::new(POSTFIX_BIN)
                .arg("-c")
                .arg(&self.dir)
                .arg("stop")
                .output();
        }
    }
}

/// The configuration tables pointing hopthu at the private DNS and Postfix.
fn outbound_config(dns: &Dns, postfix: &Postfix) -> String {
    format!(
        "[dns]\nresolvers = [\"127.0.0.1:{}\"]\ntimeout = 2\n\
         [outbound]\nport = {}\npoll_interval = 1\nretry_initial = 1\nretry_max = 2\ntimeout = 30\n",
        dns.port, postfix.port
    )
}

fn header(message: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(message);
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or("")
        .replace("\r\n\t", " ");
    let head = head.replace("\r\n ", " ");
    head.lines()
        .find(|l| {
            l.len() > name.len()
                && l[..name.len()].eq_ignore_ascii_case(name)
                && l.as_bytes()[name.len()] == b':'
        })
        .map(|l| l[name.len() + 1..].trim().to_string())
}

/// Every (subject, recipient) of `messages` arrived exactly once, `count` in all.
fn assert_each_once(messages: &[Vec<u8>], count: usize) {
    let mut seen = std::collections::HashMap::new();
    for m in messages {
        let subject = header(m, "Subject").unwrap();
        let to = String::from_utf8_lossy(m)
            .lines()
            .find(|l| l.starts_with("X-Original-To:") || l.starts_with("Delivered-To:"))
            .unwrap_or_default()
            .to_string();
        *seen.entry((subject, to)).or_insert(0) += 1;
    }
    assert_eq!(messages.len(), count, "{seen:?}");
    assert!(seen.values().all(|&n| n == 1), "duplicates: {seen:?}");
    assert_eq!(seen.len(), count);
}

fn queue_cli(server: &TestServer, args: &[&str]) -> String {
    let out = server.cli(args, "");
    assert!(
        out.status.success(),
        "hopthu {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Mail to another domain goes out through the MX that dnsmasq names, over STARTTLS, signed
/// with both DKIM keys; dkimpy verifies both signatures with the published records.
#[test]
fn delivers_through_mx_with_starttls_and_verifiable_dkim() {
    if missing(&[POSTFIX, DNSMASQ, needs::SYSTEM_PYTHON, DKIMPY, OPENSSL]) {
        return;
    }
    let tmp = tempdir("mx");
    let dns = Dns::start(&tmp);
    let mut postfix = Postfix::new(&tmp, "");
    postfix.start();
    let server = TestServer::start_with(&outbound_config(&dns, &postfix));
    let sender = server.add_account("vanthu", "Văn Thư", "mat-khau-van-thu");
    let out = server.python(
        "mta_send.py",
        &[
            &sender,
            "mat-khau-van-thu",
            &sender,
            "Cong van so 12",
            "ban@example.net",
        ],
    );
    assert_eq!(out.trim(), "sent 1", "{out}");
    let message = wait_for(Duration::from_secs(60), "delivery to postfix", || {
        postfix.messages().into_iter().next()
    });
    let text = String::from_utf8_lossy(&message).to_string();
    assert!(
        text.contains("(using TLS"),
        "no TLS in Postfix's Received:\n{text}"
    );
    assert!(text.contains("Kính gửi các đơn vị"), "{text}");
    assert!(
        text.contains("\r\n.dòng bắt đầu"),
        "dot-unstuffed line: {text}"
    );
    assert_eq!(
        header(&message, "Subject").as_deref(),
        Some("Cong van so 12")
    );

    // DKIM: the records as an operator would publish them, checked by dkimpy.
    let records = queue_cli(&server, &["dkim", "record"]);
    assert!(
        records.contains(&format!("hopthu-rsa._domainkey.{DOMAIN}.")),
        "{records}"
    );
    std::fs::write(tmp.join("records.txt"), &records).unwrap();
    std::fs::write(tmp.join("message.eml"), &message).unwrap();
    let verify = Command::new(SYSTEM_PYTHON)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/py/dkim_verify.py"))
        .arg(tmp.join("message.eml"))
        .arg(tmp.join("records.txt"))
        .output()
        .unwrap();
    let verdict = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success() && verdict.contains("verified 2"),
        "dkimpy: {verdict}{}",
        String::from_utf8_lossy(&verify.stderr)
    );

    // Delivered mail leaves the queue.
    wait_for(Duration::from_secs(10), "an empty queue", || {
        queue_cli(&server, &["queue", "list"])
            .contains("empty")
            .then_some(())
    });
}

/// A recipient answered 4xx stays queued and is retried until it is accepted; one answered
/// 5xx is bounced at once, and the bounce (RFC 3464, Vietnamese and English) arrives in the
/// sender's INBOX.
#[test]
fn temporary_failure_is_retried_and_permanent_failure_bounces() {
    if missing(&[POSTFIX, DNSMASQ, OPENSSL]) {
        return;
    }
    let tmp = tempdir("retry");
    let dns = Dns::start(&tmp);
    let mut postfix = Postfix::new(
        &tmp,
        "later@example.net 451 4.7.1 Greylisted, try again later\n\
         nobody@example.net 550 5.1.1 No such user here\n",
    );
    postfix.start();
    let server = TestServer::start_with(&outbound_config(&dns, &postfix));
    let sender = server.add_account("thuky", "Thư Ký", "mat-khau-thu-ky");
    let out = server.python(
        "mta_send.py",
        &[
            &sender,
            "mat-khau-thu-ky",
            &sender,
            "Bao cao thang",
            "later@example.net,nobody@example.net",
        ],
    );
    assert_eq!(out.trim(), "sent 1", "{out}");

    // The bounce for nobody@ arrives in the sender's INBOX.
    let inbox = wait_for(Duration::from_secs(60), "the bounce", || {
        let out = server.python("mta_inbox.py", &[&sender, "mat-khau-thu-ky", "Undelivered"]);
        out.contains("Undelivered Mail").then_some(out)
    });
    assert!(inbox.contains("PART multipart/report"), "{inbox}");
    assert!(inbox.contains("PART message/delivery-status"), "{inbox}");
    assert!(
        inbox.contains("Final-Recipient: rfc822; nobody@example.net"),
        "{inbox}"
    );
    assert!(inbox.contains("Action: failed"), "{inbox}");
    assert!(inbox.contains("Status: 5.1.1"), "{inbox}");
    assert!(inbox.contains("No such user here"), "{inbox}");
    assert!(inbox.contains("KHÔNG gửi được"), "{inbox}");
    assert!(inbox.contains("could NOT be delivered"), "{inbox}");
    assert!(
        !inbox.contains("later@example.net\n"),
        "later@ is not bounced: {inbox}"
    );

    // later@ is still queued, retried, with Postfix's 451 as its last error.
    let list = queue_cli(&server, &["queue", "list"]);
    let id = list.split('\t').next().unwrap().trim().to_string();
    let show = wait_for(Duration::from_secs(30), "a second attempt", || {
        let show = queue_cli(&server, &["queue", "show", &id]);
        (show.contains("later@example.net [pending] attempts 2") || show.contains("attempts 3"))
            .then_some(show)
    });
    assert!(
        show.contains("451 4.7.1") && show.contains("Greylisted"),
        "{show}"
    );
    assert!(!show.contains("nobody@example.net [pending]"), "{show}");

    // Postfix stops deferring: the next retry delivers, and the queue empties.
    postfix.set_access("nobody@example.net 550 5.1.1 No such user here\n");
    queue_cli(&server, &["queue", "retry", &id]);
    let delivered = wait_for(Duration::from_secs(60), "delivery after the retry", || {
        postfix
            .messages()
            .into_iter()
            .find(|m| String::from_utf8_lossy(m).contains("later@example.net"))
    });
    assert_eq!(
        header(&delivered, "Subject").as_deref(),
        Some("Bao cao thang")
    );
    wait_for(Duration::from_secs(10), "an empty queue", || {
        queue_cli(&server, &["queue", "list"])
            .contains("empty")
            .then_some(())
    });
    assert_eq!(postfix.messages().len(), 1, "one copy only");
}

/// With the remote MX down, messages pile up in the queue; the server is SIGKILLed and
/// restarted, the MX comes up, and every message arrives exactly once.
#[test]
fn sigkill_with_a_full_queue_then_restart_delivers_each_message_once() {
    if missing(&[POSTFIX, DNSMASQ, OPENSSL]) {
        return;
    }
    const COUNT: usize = 25;
    let tmp = tempdir("kill");
    let dns = Dns::start(&tmp);
    let mut postfix = Postfix::new(&tmp, "");
    // Postfix is not started yet: connections are refused and everything stays queued.
    let mut server = TestServer::start_with(&outbound_config(&dns, &postfix));
    let sender = server.add_account("vanphong", "Văn Phòng", "mat-khau-van-phong");
    let out = server.python(
        "mta_send.py",
        &[
            &sender,
            "mat-khau-van-phong",
            &sender,
            "Thong bao",
            "a@example.net,b@example.net",
            &COUNT.to_string(),
        ],
    );
    assert_eq!(out.trim(), format!("sent {COUNT}"), "{out}");
    let list = wait_for(Duration::from_secs(30), "deferred entries", || {
        let list = queue_cli(&server, &["queue", "list"]);
        (list.lines().count() == COUNT).then_some(list)
    });
    assert!(list.contains("a@example.net,b@example.net"), "{list}");

    server.kill();
    postfix.start();
    server.restart();

    let messages = wait_for(Duration::from_secs(120), "every message", || {
        let m = postfix.messages();
        (m.len() >= 2 * COUNT).then_some(m)
    });
    // Give a duplicate the chance to show up before counting.
    wait_for(Duration::from_secs(20), "an empty queue", || {
        queue_cli(&server, &["queue", "list"])
            .contains("empty")
            .then_some(())
    });
    let messages = if postfix.messages().len() > messages.len() {
        postfix.messages()
    } else {
        messages
    };
    assert_each_once(&messages, 2 * COUNT);
}

/// Two nodes share one PostgreSQL database and one S3 bucket; mail queued through node A piles
/// up while the remote MX is down, both nodes try it, node A is SIGKILLed, the MX comes up,
/// and node B delivers every message exactly once (what A held is taken again when its
/// `claim_lease` ends).
#[test]
fn two_nodes_one_killed_with_a_full_queue_deliver_each_message_once() {
    if missing(&[POSTFIX, DNSMASQ, OPENSSL]) {
        return;
    }
    let Some(shared) = super::nodes::Shared::new() else {
        return;
    };
    const COUNT: usize = 20;
    let tmp = tempdir("two-nodes");
    let dns = Dns::start(&tmp);
    let mut postfix = Postfix::new(&tmp, "");
    let config = format!("{}claim_lease = 5\n", outbound_config(&dns, &postfix));
    let mut a = shared.start_node(&config);
    let b = shared.start_node(&config);
    let sender = a.add_account("hainut", "Hai Nut", "mat-khau-hai-nut");
    let out = a.python(
        "mta_send.py",
        &[
            &sender,
            "mat-khau-hai-nut",
            &sender,
            "Hai nut",
            "a@example.net,b@example.net",
            &COUNT.to_string(),
        ],
    );
    assert_eq!(out.trim(), format!("sent {COUNT}"), "{out}");
    // Both nodes see one queue (and try it: the MX refuses them).
    wait_for(Duration::from_secs(30), "the queue on node B", || {
        (queue_cli(&b, &["queue", "list"]).lines().count() == COUNT).then_some(())
    });
    a.kill();
    postfix.start();
    let messages = wait_for(Duration::from_secs(120), "every message", || {
        let m = postfix.messages();
        (m.len() >= 2 * COUNT).then_some(m)
    });
    wait_for(Duration::from_secs(20), "an empty queue", || {
        queue_cli(&b, &["queue", "list"])
            .contains("empty")
            .then_some(())
    });
    let messages = if postfix.messages().len() > messages.len() {
        postfix.messages()
    } else {
        messages
    };
    assert_each_once(&messages, 2 * COUNT);
}

/// A user may send only as their own address: a foreign envelope sender is refused at MAIL
/// (550 5.7.1), a foreign From: at the end of DATA (550 5.7.1); Message-ID and Date are added
/// when a client leaves them out.
#[test]
fn sender_spoofing_is_refused() {
    let server = TestServer::start();
    let user = server.add_account("canbo", "Cán Bộ", "mat-khau-can-bo");
    let boss = server.add_account("giamdoc", "Giám Đốc", "mat-khau-giam-doc");
    let out = server.python(
        "mta_send.py",
        &[&user, "mat-khau-can-bo", &boss, "Gia mao", &boss],
    );
    assert!(out.starts_with("refused 550 5.7.1"), "{out}");
    assert!(out.contains("Không được gửi thư với địa chỉ"), "{out}");
    let out = server.python(
        "mta_send.py",
        &[
            &user,
            "mat-khau-can-bo",
            &user,
            "Gia mao",
            &boss,
            "1",
            &boss,
        ],
    );
    assert!(out.starts_with("refused 550 5.7.1"), "{out}");
    let out = server.python(
        "mta_send.py",
        &[&user, "mat-khau-can-bo", &user, "That", &boss, "1", &user],
    );
    assert_eq!(out.trim(), "sent 1");
    let inbox = server.python("mta_inbox.py", &[&boss, "mat-khau-giam-doc"]);
    assert_eq!(inbox.trim(), "SUBJECT That", "{inbox}");
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "hopthu-mta-{name}-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
}

/// DSN extension (RFC 3461) on the server side: RET/ENVID on MAIL and NOTIFY/ORCPT on RCPT
/// are syntax-checked (`501 5.5.4`), kept in the queue (`hopthu queue show`), and honoured by
/// the bounce: NOTIFY=NEVER gets no report, RET=HDRS returns only the header, ENVID and ORCPT
/// come back in the delivery-status part.
#[test]
fn dsn_parameters_are_kept_and_honoured() {
    if missing(&[POSTFIX, DNSMASQ, OPENSSL]) {
        return;
    }
    let tmp = tempdir("dsn");
    let dns = Dns::start(&tmp);
    let mut postfix = Postfix::new(
        &tmp,
        "later@example.net 451 4.7.1 Greylisted, try again later\n\
         nobody@example.net 550 5.1.1 No such user here\n\
         never@example.net 550 5.1.1 No such user here either\n",
    );
    postfix.start();
    let server = TestServer::start_with(&outbound_config(&dns, &postfix));
    let sender = server.add_account("baocao", "Báo Cáo", "mat-khau-bao-cao");
    let out = server.python("mta_dsn.py", &[&sender, "mat-khau-bao-cao"]);
    assert_eq!(out.trim(), "sent", "{out}");

    let list = queue_cli(&server, &["queue", "list"]);
    let id = list.split('\t').next().unwrap().trim().to_string();
    let show = queue_cli(&server, &["queue", "show", &id]);
    assert!(show.contains("envid: env+2B42"), "{show}");
    assert!(show.contains("ret: HDRS"), "{show}");
    assert!(
        show.contains("nobody@example.net [")
            && show.contains("notify=FAILURE orcpt=rfc822;nobody@example.net"),
        "{show}"
    );
    assert!(show.contains("notify=NEVER"), "{show}");
    assert!(show.contains("notify=FAILURE,DELAY"), "{show}");

    let inbox = wait_for(Duration::from_secs(60), "the bounce", || {
        let out = server.python(
            "mta_inbox.py",
            &[&sender, "mat-khau-bao-cao", "Undelivered"],
        );
        out.contains("Undelivered Mail").then_some(out)
    });
    assert!(
        inbox.contains("Final-Recipient: rfc822; nobody@example.net"),
        "{inbox}"
    );
    assert!(
        inbox.contains("Original-Recipient: rfc822;nobody@example.net"),
        "{inbox}"
    );
    assert!(inbox.contains("Original-Envelope-Id: env+2B42"), "{inbox}");
    assert!(
        !inbox.contains("never@example.net"),
        "NOTIFY=NEVER: {inbox}"
    );
    assert!(
        inbox.contains("PART text/rfc822-headers"),
        "RET=HDRS: {inbox}"
    );
    assert!(
        !inbox.contains("THE-BODY-MUST-NOT-COME-BACK"),
        "RET=HDRS: {inbox}"
    );
}

/// Inbound checks on the MX listener: records served by the private dnsmasq; a message signed
/// by dkimpy gets `Authentication-Results: …; dkim=pass; spf=pass; dmarc=pass` (a forged one
/// with our hostname is removed); an unsigned message claiming a `p=reject` domain is refused
/// at DATA with `550 5.7.1`.
#[test]
fn inbound_spf_dkim_dmarc_and_reject_policy() {
    if missing(&[DNSMASQ, needs::SYSTEM_PYTHON, DKIMPY, OPENSSL]) {
        return;
    }
    let tmp = tempdir("inbound");
    let (key, public) = dkim_key(&tmp);
    assert!(public.len() > 300, "public key: {public}");
    // TXT strings are at most 255 bytes: split the key record into several (on dnsmasq's
    // command line commas separate the strings and quotes would be kept literally).
    let record = format!("v=DKIM1; k=rsa; p={public}");
    let strings: Vec<String> = record
        .as_bytes()
        .chunks(200)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let dns = Dns::start_with(
        &tmp,
        &[
            // NXDOMAIN (not REFUSED) for every other name under `example`: the DMARC tree
            // walk (RFC 9989) also asks for `_dmarc.example`.
            "--local=/example/".to_string(),
            "--txt-record=sender.example,v=spf1 ip4:127.0.0.1 -all".to_string(),
            "--txt-record=_dmarc.sender.example,v=DMARC1; p=reject".to_string(),
            format!(
                "--txt-record=sel._domainkey.sender.example,{}",
                strings.join(",")
            ),
            "--txt-record=spoofed.example,v=spf1 -all".to_string(),
            "--txt-record=_dmarc.spoofed.example,v=DMARC1; p=reject".to_string(),
        ],
    );
    let server = TestServer::start_with(&format!(
        "[dns]\nresolvers = [\"127.0.0.1:{}\"]\ntimeout = 2\n[inbound]\nverify = true\ndmarc_reject = true\n",
        dns.port
    ));
    let rcpt = server.add_account("vanthu", "Văn Thư", "mat-khau-van-thu");
    let out = Command::new(SYSTEM_PYTHON)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/py/inbound_auth.py"))
        .arg(&key)
        .args([rcpt.as_str(), "mat-khau-van-thu"])
        .envs(server.env())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    assert!(
        out.status.success() && stdout.ends_with("OK\n"),
        "{stdout}{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
}

/// The other direction: Postfix relays to hopthu's MX port (STARTTLS, hopthu's SPF check sees
/// the relaying host pass), and hopthu's refusal of an unknown mailbox (550 5.1.1) makes
/// Postfix bounce to the sender.
#[test]
fn postfix_relays_into_hopthu_and_bounces_its_refusal() {
    if missing(&[POSTFIX, DNSMASQ, OPENSSL]) {
        return;
    }
    let tmp = tempdir("from-postfix");
    let dns = Dns::start_with(
        &tmp,
        &[
            "--local=/example.net/".to_string(),
            "--txt-record=example.net,v=spf1 ip4:127.0.0.1 -all".to_string(),
        ],
    );
    let server = TestServer::start_with(&format!(
        "[dns]\nresolvers = [\"127.0.0.1:{}\"]\ntimeout = 2\n[inbound]\nverify = true\n",
        dns.port
    ));
    let rcpt = server.add_account("vanphong", "Văn Phòng", "mat-khau-van-phong");
    let mut postfix = Postfix::new(&tmp, "");
    postfix.relay_to(DOMAIN, server.port("smtp"));
    postfix.start();
    let unknown = format!("khongco@{DOMAIN}");
    let out = server.python(
        "mta_from_postfix.py",
        &[
            &postfix.port.to_string(),
            &rcpt,
            "mat-khau-van-phong",
            &unknown,
        ],
    );
    assert_eq!(out.trim(), "OK", "{out}\n{}", postfix.log());
    // The sender's domain is Postfix's own: the bounce lands in its maildir.
    let bounce = wait_for(Duration::from_secs(60), "Postfix's bounce", || {
        postfix
            .messages()
            .into_iter()
            .find(|m| String::from_utf8_lossy(m).contains("Undelivered Mail"))
    });
    let bounce = String::from_utf8_lossy(&bounce);
    assert!(bounce.contains(&unknown), "{bounce}");
    assert!(bounce.contains("5.1.1"), "{bounce}");
}

/// A relay started from `py/fake_smarthost.py` (STARTTLS with the given certificate, AUTH
/// PLAIN), killed on drop.
struct FakeSmarthost {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl FakeSmarthost {
    fn start(dir: &Path, cert: &Path, key: &Path) -> FakeSmarthost {
        let port = free_port();
        let log = dir.join(format!("smarthost-{port}.log"));
        let child = Command::new(SYSTEM_PYTHON)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/py/fake_smarthost.py"))
            .arg(port.to_string())
            .arg(cert)
            .arg(key)
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        wait_for(Duration::from_secs(20), "the fake smarthost", || {
            std::net::TcpStream::connect(("127.0.0.1", port))
                .ok()
                .map(|_| ())
        });
        FakeSmarthost { child, port, log }
    }

    fn events(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for FakeSmarthost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Issue 11 §12: the smarthost's password goes only over TLS whose certificate verified. With
/// a certificate from a private CA nobody configured as trusted, the relay sees a failed handshake
/// and no AUTH, and the message stays queued with an error naming the certificate; with the
/// certificate's CA (`smarthost_ca_file`) or its SHA-256 (`smarthost_fingerprint`) configured,
/// AUTH and the message go through.
#[test]
fn smarthost_gets_auth_only_over_a_verified_certificate() {
    if missing(&[needs::SYSTEM_PYTHON, OPENSSL]) {
        return;
    }
    let dir = tempdir("smarthost");
    // A private CA (like a ministry's) and the relay's certificate issued by it.
    let ca = dir.join("relay-ca.pem");
    let ca_key = dir.join("relay-ca-key.pem");
    let cert = dir.join("relay-cert.pem");
    let key = dir.join("relay-key.pem");
    let csr = dir.join("relay.csr");
    let ext = dir.join("relay.ext");
    std::fs::write(
        &ext,
        "subjectAltName=IP:127.0.0.1,DNS:relay.test\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    let openssl = |args: &[&str]| {
        let status = Command::new("/usr/bin/openssl")
            .args(args)
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "openssl {args:?}");
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=Relay Test CA",
        "-keyout",
        "relay-ca-key.pem",
        "-out",
        "relay-ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=relay.test",
        "-keyout",
        "relay-key.pem",
        "-out",
        "relay.csr",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "relay.csr",
        "-CA",
        "relay-ca.pem",
        "-CAkey",
        "relay-ca-key.pem",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "relay.ext",
        "-out",
        "relay-cert.pem",
    ]);
    assert!(ca.exists() && ca_key.exists() && csr.exists() && cert.exists());
    let fingerprint = Command::new("/usr/bin/openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(&cert)
        .output()
        .unwrap();
    let fingerprint = String::from_utf8(fingerprint.stdout).unwrap();
    let fingerprint = fingerprint.trim().rsplit('=').next().unwrap().to_string();
    let relay = FakeSmarthost::start(&dir, &cert, &key);
    let config = |trust: &str| {
        format!(
            "[dns]\nresolvers = [\"127.0.0.1:9\"]\n\
             [outbound]\nsmarthost = \"127.0.0.1:{}\"\nsmarthost_user = \"hopthu-relay\"\n\
             smarthost_password = \"mat-khau-relay\"\npoll_interval = 1\nretry_initial = 1\n\
             {trust}\n",
            relay.port
        )
    };
    let send = |server: &TestServer, subject: &str| {
        let user = server.add_account("guiqua", "Gửi Qua Relay", "mat-khau-gui-qua");
        let out = server.python(
            "mta_send.py",
            &[
                &user,
                "mat-khau-gui-qua",
                &user,
                subject,
                "nguoinhan@example.net",
            ],
        );
        assert!(out.contains("sent 1"), "{out}");
    };

    // Not trusted: no AUTH, the message waits in the queue with the reason.
    let server = TestServer::start_with(&config(""));
    send(&server, "Khong tin cay");
    let show = wait_for(Duration::from_secs(60), "a failed attempt", || {
        let events = relay.events();
        assert!(
            !events.contains("auth "),
            "AUTH sent without a verified certificate: {events}"
        );
        let list = queue_cli(&server, &["queue", "list"]);
        if list.contains("empty") {
            return None;
        }
        let id = list.split('\t').next()?.trim().to_string();
        let show = queue_cli(&server, &["queue", "show", &id]);
        show.contains("not sending the smarthost password")
            .then_some(show)
    });
    assert!(show.to_lowercase().contains("certificate"), "{show}");
    let events = relay.events();
    assert!(events.contains("tls-failed"), "{events}");
    assert!(
        !events.contains("auth "),
        "AUTH sent without a verified certificate: {events}"
    );
    assert!(!events.contains("message"), "{events}");
    drop(server);

    // Trusted through the CA file, then through the fingerprint.
    for trust in [
        format!("smarthost_ca_file = \"{}\"", ca.display()),
        format!("smarthost_fingerprint = \"{fingerprint}\""),
    ] {
        let before = relay.events().matches("message ").count();
        let server = TestServer::start_with(&config(&trust));
        send(&server, "Tin cay");
        wait_for(Duration::from_secs(60), "delivery to the relay", || {
            (relay.events().matches("message ").count() > before).then_some(())
        });
        let events = relay.events();
        assert!(
            events.contains("auth hopthu-relay mat-khau-relay tls=True"),
            "{trust}: {events}"
        );
        wait_for(Duration::from_secs(30), "an empty queue", || {
            queue_cli(&server, &["queue", "list"])
                .contains("empty")
                .then_some(())
        });
    }
}
