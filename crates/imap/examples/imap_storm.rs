//! The login storm with a client that costs little: the same short sessions as
//! `tools/imap-bench/imap_bench.py --logins` (TLS connect, LOGIN, SELECT INBOX, five of
//! FETCH/FETCH/STORE/STORE/EXPUNGE/APPEND at random, LOGOUT; every command one operation), from
//! `--clients` tasks on one thread of one process. Python's imaplib spends ~40 ms of CPU per
//! session (its TLS, its parsing, twenty interpreters), so on a 2-core machine that generator
//! measures mostly itself; this one spends a few, like the C stress generators, so what is left
//! of the machine goes to the server under test.
//!
//! ```text
//! cargo run --release -p hopthu-imap --example imap_storm -- --port 19993 \
//!     --user bench@caobang.gov.vn --password PW [--users 20] [--clients 20] [--seconds 40] \
//!     [--inbox 50]
//! ```
//!
//! Accounts are numbered (`bench@d` → `bench1@d` … `benchN@d`, one password); each INBOX is
//! first topped up to `--inbox` messages. Loopback only; it stops by itself after `--seconds`.
//! The server's certificate is not checked (test servers have self-signed ones); its handshake
//! signature is.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls;

const OPS: &[&str] = &[
    "connect", "login", "select", "fetch", "store", "expunge", "append", "logout",
];
const WORDS: &str = "báo cáo kế hoạch công văn thông báo giấy mời họp giao ban quyết định tờ trình \
    dự thảo ngân sách tỉnh huyện xã đơn vị cán bộ công chức viên chức tổng hợp số liệu tháng quý \
    năm triển khai thực hiện chỉ đạo ủy ban nhân dân sở ban ngành phòng tổ chức hành chính đề \
    nghị góp ý kiến phê duyệt hồ sơ văn bản đính kèm kính gửi trân trọng cảm ơn khẩn hỏa tốc";
const NAMES: &[&str] = &[
    "Nông Văn Đạt",
    "Bế Thị Hòa",
    "Hoàng Đức Lan",
    "Nguyễn Minh Hùng",
    "Lục Thị Thảo",
    "Đàm Văn Tuấn",
];

struct Args {
    addr: SocketAddr,
    user: String,
    password: String,
    users: usize,
    clients: usize,
    seconds: u64,
    inbox: usize,
}

fn args() -> Args {
    let mut a = Args {
        addr: "127.0.0.1:993".parse().unwrap(),
        user: String::new(),
        password: String::new(),
        users: 0,
        clients: 20,
        seconds: 40,
        inbox: 50,
    };
    let (mut host, mut port) = ("127.0.0.1".to_string(), 993u16);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| die(&format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--host" => host = value(),
            "--port" => port = value().parse().unwrap_or_else(|_| die("--port")),
            "--user" => a.user = value(),
            "--password" => a.password = value(),
            "--users" => a.users = value().parse().unwrap_or_else(|_| die("--users")),
            "--clients" => a.clients = value().parse().unwrap_or_else(|_| die("--clients")),
            "--seconds" => a.seconds = value().parse().unwrap_or_else(|_| die("--seconds")),
            "--inbox" => a.inbox = value().parse().unwrap_or_else(|_| die("--inbox")),
            other => die(&format!("unknown argument {other}")),
        }
    }
    let ip: IpAddr = host
        .parse()
        .unwrap_or_else(|_| die("--host: an IP address"));
    if !ip.is_loopback() {
        die("the storm targets loopback only");
    }
    a.addr = SocketAddr::new(ip, port);
    if a.user.is_empty() || !a.user.contains('@') || a.password.is_empty() {
        die("--user LOCAL@DOMAIN and --password are needed");
    }
    if a.users == 0 {
        a.users = a.clients;
    }
    a
}

fn die(why: &str) -> ! {
    eprintln!("imap_storm: {why}");
    std::process::exit(2)
}

/// xorshift64*: the same sequence for the same seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A realistic small message (1–5 KB of Vietnamese text), as `imap_bench.py` makes them.
fn message(rng: &mut Rng, i: u64) -> Vec<u8> {
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    let mut phrase = |n: usize| {
        (0..n)
            .map(|_| *rng.pick(&words))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let subject = phrase(5);
    let lines = 8 + (i as usize % 33);
    let body: Vec<String> = (0..lines).map(|_| phrase(14)).collect();
    format!(
        "From: {} <user{}@soyte.caobang.gov.vn>\r\nTo: bench@caobang.gov.vn\r\n\
         Subject: {subject}\r\nDate: Mon, 5 Feb 2024 08:{:02}:00 +0700\r\n\
         Message-ID: <{i}.{}@storm>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
        NAMES[i as usize % NAMES.len()],
        i % 997,
        i % 60,
        rng.next() % (1 << 30),
        body.join("\r\n")
    )
    .into_bytes()
}

/// Accepts any certificate (test servers' are self-signed) but checks the handshake
/// signatures, as a client would.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn connector() -> TlsConnector {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// One IMAP connection: commands out, responses in until the tagged one.
struct Conn {
    io: BufReader<TlsStream<TcpStream>>,
    tag: u32,
    line: Vec<u8>,
}

/// What a command's untagged responses said that the storm needs.
#[derive(Default)]
struct Reply {
    exists: Option<usize>,
    expunged: usize,
}

type Failure = String;

impl Conn {
    async fn open(addr: SocketAddr, tls: &TlsConnector) -> Result<Conn, Failure> {
        let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let _ = tcp.set_nodelay(true);
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
        let stream = tls.connect(name, tcp).await.map_err(|e| e.to_string())?;
        let mut conn = Conn {
            io: BufReader::new(stream),
            tag: 0,
            line: Vec::new(),
        };
        conn.read_line().await?;
        if !conn.line.starts_with(b"* OK") {
            return Err(format!(
                "greeting {:?}",
                String::from_utf8_lossy(&conn.line)
            ));
        }
        Ok(conn)
    }

    async fn read_line(&mut self) -> Result<(), Failure> {
        self.line.clear();
        let n = self
            .io
            .read_until(b'\n', &mut self.line)
            .await
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed".into());
        }
        Ok(())
    }

    /// Sends `command` (with `literal` after a `+`, when given) and reads to its tagged
    /// response, which must be OK.
    async fn run(&mut self, command: &str, literal: Option<&[u8]>) -> Result<Reply, Failure> {
        self.tag += 1;
        let tag = format!("s{}", self.tag);
        let mut out = format!("{tag} {command}").into_bytes();
        if let Some(body) = literal {
            out.extend_from_slice(format!(" {{{}}}\r\n", body.len()).as_bytes());
            self.send(&out).await?;
            self.read_line().await?;
            if !self.line.starts_with(b"+") {
                return Err(format!(
                    "{command}: {}",
                    String::from_utf8_lossy(&self.line).trim_end()
                ));
            }
            let mut data = body.to_vec();
            data.extend_from_slice(b"\r\n");
            self.send(&data).await?;
        } else {
            out.extend_from_slice(b"\r\n");
            self.send(&out).await?;
        }
        let mut reply = Reply::default();
        loop {
            self.read_line().await?;
            self.skip_literals().await?;
            let line = String::from_utf8_lossy(&self.line).into_owned();
            if let Some(rest) = line.strip_prefix(&format!("{tag} ")) {
                return if rest.starts_with("OK") {
                    Ok(reply)
                } else {
                    Err(format!("{command}: {}", line.trim_end()))
                };
            }
            let mut words = line.split_whitespace().skip(1);
            if let (Some(n), Some(kind)) = (words.next(), words.next()) {
                match kind {
                    "EXISTS" => reply.exists = n.parse().ok(),
                    "EXPUNGE" => reply.expunged += 1,
                    _ => {}
                }
            }
        }
    }

    /// A response line ending in `{n}` goes on after n octets: read them and the rest of the
    /// line (repeatedly), keeping only the lines.
    async fn skip_literals(&mut self) -> Result<(), Failure> {
        loop {
            let text = self.line.strip_suffix(b"\r\n").unwrap_or(&self.line);
            let Some(open) = text.iter().rposition(|&b| b == b'{') else {
                return Ok(());
            };
            let Some(n) = text
                .get(open + 1..text.len().saturating_sub(1))
                .filter(|_| text.ends_with(b"}"))
                .and_then(|d| std::str::from_utf8(d).ok())
                .and_then(|d| d.trim_end_matches('+').parse::<u64>().ok())
            else {
                return Ok(());
            };
            let mut head = self.line[..open].to_vec();
            tokio::io::copy(&mut (&mut self.io).take(n), &mut tokio::io::sink())
                .await
                .map_err(|e| e.to_string())?;
            self.read_line().await?;
            head.extend_from_slice(&self.line);
            self.line = head;
        }
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        let stream = self.io.get_mut();
        stream.write_all(bytes).await.map_err(|e| e.to_string())?;
        stream.flush().await.map_err(|e| e.to_string())
    }
}

fn user_of(args: &Args, n: usize) -> String {
    let (local, domain) = args.user.split_once('@').expect("checked");
    format!("{local}{n}@{domain}")
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Tops each account's INBOX up to `--inbox` messages, one account after the other.
async fn fill(args: &Args, tls: &TlsConnector) -> Result<(), Failure> {
    let mut rng = Rng(7);
    for n in 1..=args.users {
        let user = user_of(args, n);
        let mut conn = Conn::open(args.addr, tls).await?;
        conn.run(
            &format!("LOGIN {} {}", quoted(&user), quoted(&args.password)),
            None,
        )
        .await?;
        let have = conn.run("SELECT INBOX", None).await?.exists.unwrap_or(0);
        for i in have..args.inbox {
            let raw = message(&mut rng, (n * 1000 + i) as u64);
            conn.run("APPEND INBOX", Some(&raw)).await?;
        }
        let _ = conn.run("LOGOUT", None).await;
    }
    println!(
        "logins: {} accounts with {} messages in INBOX",
        args.users, args.inbox
    );
    Ok(())
}

type Times = BTreeMap<&'static str, Vec<f64>>;

/// One client until the deadline: short sessions, every command timed.
async fn client(
    args: Arc<Args>,
    tls: TlsConnector,
    k: usize,
    deadline: Instant,
) -> (Times, Vec<Failure>) {
    let mut rng = Rng(5000 + k as u64);
    let mut times: Times = OPS.iter().map(|op| (*op, Vec::new())).collect();
    let mut errors = Vec::new();
    let user = user_of(&args, k % args.users + 1);
    let login = format!("LOGIN {} {}", quoted(&user), quoted(&args.password));
    while Instant::now() < deadline {
        let session = async {
            let t = Instant::now();
            let mut conn = Conn::open(args.addr, &tls).await?;
            times
                .get_mut("connect")
                .unwrap()
                .push(t.elapsed().as_secs_f64());
            macro_rules! timed {
                ($op:expr, $cmd:expr, $lit:expr) => {{
                    let t = Instant::now();
                    let reply = conn.run($cmd, $lit).await?;
                    times.get_mut($op).unwrap().push(t.elapsed().as_secs_f64());
                    reply
                }};
            }
            timed!("login", &login, None);
            let mut exists = timed!("select", "SELECT INBOX", None).exists.unwrap_or(0);
            for _ in 0..5 {
                let op = *rng.pick(&["fetch", "fetch", "store", "store", "expunge", "append"]);
                match op {
                    "fetch" if exists > 0 => {
                        let start = 1 + rng.below(exists);
                        let cmd = format!(
                            "FETCH {start}:{} (UID FLAGS ENVELOPE RFC822.SIZE BODY.PEEK[HEADER])",
                            exists.min(start + 9)
                        );
                        timed!("fetch", &cmd, None);
                    }
                    "store" if exists > 0 => {
                        let flag = if rng.below(5) == 0 {
                            "\\Deleted"
                        } else {
                            *rng.pick(&["\\Seen", "\\Flagged"])
                        };
                        let sign = *rng.pick(&["+", "-"]);
                        let cmd = format!("STORE {} {sign}FLAGS ({flag})", 1 + rng.below(exists));
                        timed!("store", &cmd, None);
                    }
                    "expunge" => {
                        let gone = timed!("expunge", "EXPUNGE", None).expunged;
                        exists = exists.saturating_sub(gone);
                        if rng.below(10) < 3 {
                            exists = timed!("select", "SELECT INBOX", None)
                                .exists
                                .unwrap_or(exists);
                        }
                    }
                    "append" => {
                        let i = rng.next() % (1 << 20);
                        let raw = message(&mut rng, i);
                        timed!("append", "APPEND INBOX", Some(&raw));
                        exists += 1;
                    }
                    _ => {}
                }
                if exists < args.inbox / 2 {
                    let i = rng.next() % (1 << 20);
                    let raw = message(&mut rng, i);
                    timed!("append", "APPEND INBOX", Some(&raw));
                    exists += 1;
                }
            }
            timed!("logout", "LOGOUT", None);
            Ok::<(), Failure>(())
        };
        if let Err(e) = session.await {
            errors.push(format!("{user}: {e}"));
        }
    }
    (times, errors)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    1000.0 * sorted[((p / 100.0 * sorted.len() as f64) as usize).min(sorted.len() - 1)]
}

fn main() {
    let args = Arc::new(args());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let tls = connector();
        if let Err(e) = fill(&args, &tls).await {
            die(&format!("fill: {e}"));
        }
        println!(
            "logins: {} clients on {} accounts for {} s, ~7 commands per session",
            args.clients, args.users, args.seconds
        );
        let started = Instant::now();
        let deadline = started + Duration::from_secs(args.seconds);
        let tasks: Vec<_> = (0..args.clients)
            .map(|k| tokio::spawn(client(args.clone(), tls.clone(), k, deadline)))
            .collect();
        let mut all: Times = OPS.iter().map(|op| (*op, Vec::new())).collect();
        let mut errors = Vec::new();
        for task in tasks {
            let (times, errs) = task.await.expect("client task");
            for (op, v) in times {
                all.get_mut(op).unwrap().extend(v);
            }
            errors.extend(errs);
        }
        let elapsed = started.elapsed().as_secs_f64();
        for e in errors.iter().take(5) {
            println!("  error: {e}");
        }
        println!(
            "{:<16} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "operation", "count", "mean ms", "p50 ms", "p90 ms", "p99 ms"
        );
        let mut commands = 0;
        for op in OPS {
            let v = all.get_mut(op).unwrap();
            v.sort_by(f64::total_cmp);
            if *op != "connect" {
                commands += v.len();
            }
            let mean = if v.is_empty() {
                f64::NAN
            } else {
                1000.0 * v.iter().sum::<f64>() / v.len() as f64
            };
            println!(
                "{:<16} {:>8} {:>8.1} {:>8.1} {:>8.1} {:>8.1}",
                op,
                v.len(),
                mean,
                pct(v, 50.0),
                pct(v, 90.0),
                pct(v, 99.0)
            );
        }
        println!(
            "logins: {:.1} operations/s (commands, TLS connects not counted), {:.1} logins/s, {} errors",
            commands as f64 / elapsed,
            all["login"].len() as f64 / elapsed,
            errors.len()
        );
    });
}
