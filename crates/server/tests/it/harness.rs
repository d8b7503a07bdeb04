//! Starting the real server for a test and talking to it.
//!
//! [`TestServer::start`] writes a configuration whose listeners bind port 0, runs the `hopthu`
//! binary, and waits for `listeners.json` (which the server writes after binding) to learn the
//! ports. Python scripts under `tests/it/py/` get the ports in environment variables:
//! `HOPTHU_HOST`, `HOPTHU_SMTP_PORT`, `HOPTHU_SUBMISSION_PORT`, `HOPTHU_SUBMISSIONS_PORT`,
//! `HOPTHU_IMAP_PORT`, `HOPTHU_IMAPS_PORT`, `HOPTHU_HTTP_PORT`, `HOPTHU_CERT` (the server's
//! PEM certificate) and `HOPTHU_DOMAIN`.
//!
//! With `HOPTHU_TEST_BLOBS=s3`, every server keeps its message bodies in the S3 server of the
//! run (`HOPTHU_TEST_S3_*`, the Garage `tools/test` starts), under a key prefix of its own,
//! unless the test's configuration has a `[blobs]` table of its own (tests about the files of
//! the local store write an empty one).

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::backend;
use super::fake_dns::FakeDns;

pub const DOMAIN: &str = "caobang.gov.vn";
const BIN: &str = env!("CARGO_BIN_EXE_hopthu");

/// A running `hopthu serve` with its own data directory, removed when dropped.
pub struct TestServer {
    pub dir: PathBuf,
    pub config: PathBuf,
    child: Option<Child>,
    pub addrs: HashMap<String, SocketAddr>,
    /// The PostgreSQL database of this server (`HOPTHU_TEST_STORE=postgres`), dropped with it.
    pub store_url: Option<String>,
    /// The key prefix of its bodies in the run's S3 bucket, when they are there.
    pub s3_prefix: Option<String>,
}

/// An empty `[blobs]` table: the server keeps its bodies in `data_dir/blobs` even in a run
/// with `HOPTHU_TEST_BLOBS=s3`. For the tests about that folder's files (their mtimes,
/// tombstones, a folder that takes no write); `s3.rs` tests the same behaviour in a bucket.
pub const LOCAL_BLOBS: &str = "[blobs]\n";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The reason recorded for the test mailboxes [`TestServer::add_account`] creates.
pub const TEST_ACCOUNT: &str = "Tài khoản thử nghiệm / test account";

/// Where the browser scripts save their screenshots: `screenshots/` in the target directory.
pub fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("screenshots")
}

impl TestServer {
    /// Starts a server with every listener on a free port.
    pub fn start() -> TestServer {
        Self::start_with("")
    }

    /// Starts a server; `extra` is appended to the configuration (after the `[listen]`
    /// table, so start it with a table header). Its resolver is always on loopback
    /// ([`with_loopback_resolver`]): a test server never asks the machine's resolver.
    pub fn start_with(extra: &str) -> TestServer {
        let dir = std::env::temp_dir().join(format!(
            "hopthu-it-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("hopthu.toml");
        let mut extra = with_loopback_resolver(extra);
        let mut s3_prefix = None;
        if s3_for_every_server() && !extra.lines().any(|l| l.trim() == "[blobs]") {
            let prefix = unique_s3_prefix();
            extra.push_str(&s3_blobs_table(&prefix));
            s3_prefix = Some(prefix);
        }
        if let Some(prefix) = extra.lines().find_map(|l| {
            l.trim()
                .strip_prefix("url = \"s3://")
                .and_then(|rest| rest.trim_end_matches('"').split_once('/'))
                .map(|(_, p)| p.to_string())
        }) {
            s3_prefix = Some(prefix);
        }
        // The whole suite runs on PostgreSQL when asked: a database per test server.
        let store_url = (backend::on_postgres() && !extra.lines().any(|l| l.trim() == "[store]"))
            .then(backend::new_database);
        if let Some(url) = &store_url {
            extra.push_str(&format!("\n[store]\nurl = \"{url}\"\n"));
        }
        std::fs::write(
            &config,
            format!(
                r#"domain = "{DOMAIN}"
hostname = "mail.{DOMAIN}"
data_dir = "data"
[listen]
smtp = "127.0.0.1:0"
submission = "127.0.0.1:0"
submissions = "127.0.0.1:0"
imap = "127.0.0.1:0"
imaps = "127.0.0.1:0"
pop3 = "127.0.0.1:0"
pop3s = "127.0.0.1:0"
managesieve = "127.0.0.1:0"
http = "127.0.0.1:0"
{extra}"#
            ),
        )
        .unwrap();
        let mut server = TestServer {
            dir,
            config,
            child: None,
            addrs: HashMap::new(),
            store_url,
            s3_prefix,
        };
        server.launch();
        server
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Runs `sql` on this server's database, SQLite or PostgreSQL ([`backend::sql`]).
    pub fn sql(&self, sql: &str) -> String {
        backend::sql(self.store_url.as_deref(), &self.data_dir(), sql)
    }

    /// Runs `hopthu serve` and waits until it has written `listeners.json`.
    fn launch(&mut self) {
        let listeners = self.data_dir().join("listeners.json");
        let _ = std::fs::remove_file(&listeners);
        let log = std::fs::File::create(self.dir.join("server.log")).unwrap();
        let child = Command::new(BIN)
            .args(["serve", "--config"])
            .arg(&self.config)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start hopthu");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(text) = std::fs::read_to_string(&listeners)
                && let Ok(map) = serde_json::from_str::<HashMap<String, String>>(&text)
            {
                self.addrs = map
                    .into_iter()
                    .map(|(k, v)| (k, v.parse().unwrap()))
                    .collect();
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("hopthu exited early ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "server did not start:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    pub fn addr(&self, listener: &str) -> SocketAddr {
        *self
            .addrs
            .get(listener)
            .unwrap_or_else(|| panic!("no listener {listener}"))
    }

    pub fn port(&self, listener: &str) -> u16 {
        self.addr(listener).port()
    }

    /// Kills the server with SIGKILL (no chance to flush anything).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Sends SIGTERM and waits (bounded) for a clean exit; returns the exit status code.
    pub fn terminate(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.code();
            }
            if Instant::now() > deadline {
                child.kill().unwrap();
                panic!("server did not stop on SIGTERM:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the server again on the same data directory (ports change).
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    /// Runs the `hopthu` CLI with this server's configuration.
    pub fn cli(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(BIN)
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Creates an account `local@caobang.gov.vn` with `password` (no forced change), recorded
    /// as an exception to the directory (a test mailbox, not a person), and returns its
    /// address.
    pub fn add_account(&self, local: &str, name: &str, password: &str) -> String {
        self.add_account_with(local, name, password, &["--no-force-change"])
    }

    /// Like [`TestServer::add_account`], but the password must be changed at first sign-in.
    pub fn add_first_time_account(&self, local: &str, name: &str, password: &str) -> String {
        self.add_account_with(local, name, password, &[])
    }

    /// `hopthu account add local@caobang.gov.vn --name <name> --exception <test account>
    /// --password-stdin <extra>`.
    fn add_account_with(&self, local: &str, name: &str, password: &str, extra: &[&str]) -> String {
        let address = format!("{local}@{DOMAIN}");
        let mut args = vec![
            "account",
            "add",
            &address,
            "--name",
            name,
            "--exception",
            TEST_ACCOUNT,
            "--password-stdin",
        ];
        args.extend_from_slice(extra);
        let out = self.cli(&args, &format!("{password}\n"));
        assert!(
            out.status.success(),
            "account add failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        address
    }

    /// `hopthu account add --unit <unit> --full-name <full_name> --password-stdin
    /// --no-force-change`: a person of the directory (the unit must exist); returns the
    /// address the rules gave.
    pub fn add_person(&self, unit: &str, full_name: &str, password: &str) -> String {
        let out = self.cli(
            &[
                "account",
                "add",
                "--unit",
                unit,
                "--full-name",
                full_name,
                "--password-stdin",
                "--no-force-change",
            ],
            &format!("{password}\n"),
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "account add --unit failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
            .lines()
            .find_map(|l| l.split("created: ").nth(1))
            .unwrap_or_else(|| panic!("no address printed: {stdout}"))
            .trim()
            .to_string()
    }

    /// Environment for client scripts.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("HOPTHU_HOST".to_string(), "127.0.0.1".to_string()),
            ("HOPTHU_DOMAIN".to_string(), DOMAIN.to_string()),
            (
                "HOPTHU_CERT".to_string(),
                self.data_dir().join("tls/cert.pem").display().to_string(),
            ),
        ];
        for (name, addr) in &self.addrs {
            env.push((
                format!("HOPTHU_{}_PORT", name.to_ascii_uppercase()),
                addr.port().to_string(),
            ));
        }
        env
    }

    /// Runs `tests/it/py/<script>` with `python3` and the server's environment; panics with
    /// the script's output and the server log when it fails. Returns its standard output.
    pub fn python(&self, script: &str, args: &[&str]) -> String {
        let out = self.python_output(script, args);
        self.assert_script_ok(script, &out);
        String::from_utf8(out.stdout).unwrap()
    }

    /// Like [`TestServer::python`] but returns the output whatever the exit status.
    pub fn python_output(&self, script: &str, args: &[&str]) -> Output {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/it/py")
            .join(script);
        Command::new("python3")
            .arg(path)
            .args(args)
            .envs(self.env())
            .stdin(Stdio::null())
            .output()
            .expect("python3")
    }

    /// Runs `tests/it/browser/<script>` (headless Chromium, Selenium) with `/usr/bin/python3`,
    /// the server's environment, its TLS key (`HOPTHU_KEY`) and `HOPTHU_SCREENSHOTS`; panics
    /// with the script's output and the server log when it fails.
    pub fn browser(&self, script: &str, args: &[&str]) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/it/browser")
            .join(script);
        let out = Command::new("/usr/bin/python3")
            .arg(&path)
            .args(args)
            .envs(self.env())
            .env(
                "HOPTHU_KEY",
                self.data_dir().join("tls/key.pem").display().to_string(),
            )
            .env("HOPTHU_SCREENSHOTS", screenshots())
            .output()
            .expect("/usr/bin/python3");
        self.assert_script_ok(script, &out);
    }

    /// Panics with a client script's output and the server log unless it succeeded.
    fn assert_script_ok(&self, script: &str, out: &Output) {
        assert!(
            out.status.success(),
            "{script} failed ({})\n--- stdout\n{}\n--- stderr\n{}\n--- server log\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }

    /// One HTTP/1.1 request over plain HTTP (loopback serves the application), read to the
    /// end with `read_timeout`: the status line and headers, and the body.
    pub fn http(&self, request: &str, read_timeout: Duration) -> (String, String) {
        let mut s = TcpStream::connect(self.addr("http")).unwrap();
        s.set_read_timeout(Some(read_timeout)).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let text = String::from_utf8_lossy(&raw).into_owned();
        match text.split_once("\r\n\r\n") {
            Some((head, body)) => (head.to_string(), body.to_string()),
            None => (text, String::new()),
        }
    }

    /// A plain TCP connection to a listener, with a read timeout so a test never hangs.
    pub fn connect(&self, listener: &str) -> LineClient {
        let stream = TcpStream::connect(self.addr(listener)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        LineClient {
            reader: BufReader::new(stream.try_clone().unwrap()),
            stream,
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        if let Some(url) = &self.store_url {
            backend::drop_database(url);
        }
    }
}

/// A line-oriented client for raw protocol tests (garbage, over-long lines).
pub struct LineClient {
    pub stream: TcpStream,
    pub reader: BufReader<TcpStream>,
}

impl LineClient {
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Reads one line (with its CRLF); empty when the server closed the connection.
    pub fn line(&mut self) -> String {
        let mut buf = Vec::new();
        match self.reader.read_until(b'\n', &mut buf) {
            Ok(_) => String::from_utf8_lossy(&buf).into_owned(),
            Err(e) => panic!("read failed: {e}"),
        }
    }

    /// Reads lines until one starts with `prefix`; returns all lines read.
    pub fn until(&mut self, prefix: &str) -> Vec<String> {
        let mut lines = Vec::new();
        for _ in 0..10_000 {
            let line = self.line();
            if line.is_empty() {
                panic!("connection closed; read so far: {lines:?}");
            }
            let done = line.starts_with(prefix);
            lines.push(line);
            if done {
                return lines;
            }
        }
        panic!("no line starting with {prefix:?}: {lines:?}");
    }

    /// True when the server has closed the connection (reads until EOF, bounded).
    pub fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        self.reader.read_to_end(&mut rest).is_ok()
    }
}

/// Whether this run keeps every test server's bodies in S3 (`HOPTHU_TEST_BLOBS=s3`).
pub fn s3_for_every_server() -> bool {
    match std::env::var("HOPTHU_TEST_BLOBS").as_deref() {
        Ok("s3") => true,
        Ok("") | Ok("local") | Err(_) => false,
        Ok(other) => panic!("HOPTHU_TEST_BLOBS={other:?}: use \"s3\" or \"local\""),
    }
}

/// A key prefix no other server of any run uses.
pub fn unique_s3_prefix() -> String {
    format!(
        "it-{}-{}-{:08x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    )
}

/// One `HOPTHU_TEST_S3_*` value; panics with how to get an S3 server when it is missing.
pub fn s3_env(name: &str) -> String {
    if let Some(reason) = super::needs::missing(&[super::needs::S3]) {
        panic!("S3 blobs asked for, but {reason}");
    }
    std::env::var(format!("HOPTHU_TEST_S3_{name}")).unwrap()
}

/// The `[blobs]` table for the run's S3 bucket under `prefix`.
pub fn s3_blobs_table(prefix: &str) -> String {
    format!(
        "\n[blobs]\nurl = \"s3://{}/{prefix}\"\nendpoint = \"{}\"\nregion = \"{}\"\naccess_key = \"{}\"\nsecret_key = \"{}\"\n",
        s3_env("BUCKET"),
        s3_env("ENDPOINT"),
        s3_env("REGION"),
        s3_env("ACCESS_KEY"),
        s3_env("SECRET_KEY"),
    )
}

/// `extra` (configuration tables) with a resolver on loopback: the `resolvers` a test gave
/// (each must be a 127.x address), else the test process's [`FakeDns::shared`] (NXDOMAIN to
/// every query), put into the test's own `[dns]` table when it has one.
pub fn with_loopback_resolver(extra: &str) -> String {
    let shared = FakeDns::shared().config();
    if let Some(line) = extra
        .lines()
        .find(|l| l.trim_start().starts_with("resolvers"))
    {
        let addresses = line.split_once('[').map_or("", |(_, a)| a);
        assert!(
            addresses
                .split(',')
                .map(|a| a.trim().trim_matches(|c| c == '"' || c == ']'))
                .all(|a| a.starts_with("127.")),
            "a test resolver must be on loopback: {line}"
        );
        return extra.to_string();
    }
    if extra.lines().any(|l| l.trim() == "[dns]") {
        // shared is "[dns]\nresolvers = …\n": its resolvers line goes under the test's header.
        let resolvers = shared.trim_start_matches("[dns]\n");
        return extra
            .lines()
            .map(|l| {
                if l.trim() == "[dns]" {
                    format!("[dns]\n{}", resolvers.trim_end())
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n";
    }
    format!("{extra}\n{shared}")
}

#[test]
fn every_test_server_resolves_on_loopback() {
    let port = FakeDns::shared().port();
    let ours = format!("resolvers = [\"127.0.0.1:{port}\"]");
    assert!(with_loopback_resolver("").contains(&format!("[dns]\n{ours}")));
    let own_table = with_loopback_resolver("[dns]\nmessage_budget = 1\n[limits]\nx = 1\n");
    assert!(own_table.contains(&format!("[dns]\n{ours}\nmessage_budget = 1")));
    assert_eq!(own_table.matches("[dns]").count(), 1);
    let given = "[dns]\nresolvers = [\"127.0.0.1:5353\"]\n";
    assert_eq!(with_loopback_resolver(given), given);
    assert!(
        std::panic::catch_unwind(|| with_loopback_resolver(
            "[dns]\nresolvers = [\"8.8.8.8:53\"]\n"
        ))
        .is_err()
    );
}
