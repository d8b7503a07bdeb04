//! Tools from outside the project that some tests drive (Postfix, dnsmasq, clamd, swaks,
//! Chromium…). `tools/test` installs them; a test whose tool is missing fails with the reason,
//! unless the run allows skipping (`HOPTHU_TESTS_ALLOW_SKIP=1`, for a quick local run), in which
//! case it says so and is listed in `HOPTHU_SKIP_LOG` for the summary at the end of the run.

use std::io::Write;
use std::path::Path;

/// A program or Python module a test needs, with the Debian package that brings it.
pub enum Tool {
    /// An executable at this path.
    Bin(&'static str, &'static str),
    /// A module importable by Debian's `/usr/bin/python3`.
    PyModule(&'static str, &'static str),
    /// A server the test runner starts, described by these environment variables, with how
    /// to get one.
    Env(&'static [&'static str], &'static str),
}

impl Tool {
    fn present(&self) -> bool {
        match self {
            Tool::Bin(path, _) => Path::new(path).exists(),
            Tool::PyModule(module, _) => std::process::Command::new("/usr/bin/python3")
                .args(["-c", &format!("import {module}")])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success()),
            Tool::Env(vars, _) => vars
                .iter()
                .all(|v| std::env::var(v).is_ok_and(|v| !v.is_empty())),
        }
    }

    fn describe(&self) -> String {
        match self {
            Tool::Bin(path, package) => format!("{path} (Debian {package})"),
            Tool::PyModule(module, package) => {
                format!("Python module {module} for /usr/bin/python3 (Debian {package})")
            }
            Tool::Env(vars, how) => format!("{} ({how})", vars.join(", ")),
        }
    }
}

pub const POSTFIX: Tool = Tool::Bin("/usr/sbin/postfix", "postfix");
pub const DNSMASQ: Tool = Tool::Bin("/usr/sbin/dnsmasq", "dnsmasq-base");
pub const OPENSSL: Tool = Tool::Bin("/usr/bin/openssl", "openssl");
pub const SYSTEM_PYTHON: Tool = Tool::Bin("/usr/bin/python3", "python3");
pub const DKIMPY: Tool = Tool::PyModule("dkim", "python3-dkim");
pub const CLAMD: Tool = Tool::Bin("/usr/sbin/clamd", "clamav-daemon");
pub const SWAKS: Tool = Tool::Bin("/usr/bin/swaks", "swaks");
pub const CHROMIUM: Tool = Tool::Bin("/usr/bin/chromium", "chromium");
pub const CHROMEDRIVER: Tool = Tool::Bin("/usr/bin/chromedriver", "chromium-driver");
pub const SELENIUM: Tool = Tool::PyModule("selenium", "python3-selenium");
/// pdftotext: the report's PDF read back as text.
pub const PDFTOTEXT: Tool = Tool::Bin("/usr/bin/pdftotext", "poppler-utils");
/// vdirsyncer: a real CardDAV client syncing the address books (`contacts.rs`).
pub const VDIRSYNCER: Tool = Tool::Bin("/usr/bin/vdirsyncer", "vdirsyncer");
/// sieve-connect: a real ManageSieve client (RFC 5804).
pub const SIEVE_CONNECT: Tool = Tool::Bin("/usr/bin/sieve-connect", "sieve-connect");
/// psql and pg_dump: the PostgreSQL runs (`HOPTHU_TEST_STORE=postgres`) and backups.
pub const PSQL: Tool = Tool::Bin("/usr/bin/psql", "postgresql-client");

/// An S3-compatible server with a bucket and a key: the Garage `tools/test` starts.
pub const S3: Tool = Tool::Env(
    &[
        "HOPTHU_TEST_S3_ENDPOINT",
        "HOPTHU_TEST_S3_REGION",
        "HOPTHU_TEST_S3_BUCKET",
        "HOPTHU_TEST_S3_ACCESS_KEY",
        "HOPTHU_TEST_S3_SECRET_KEY",
    ],
    "an S3 server: tools/test starts one with tools/garage; by hand, \
     `tools/garage start DIR` and export the lines of DIR/env",
);

/// What the browser tests need.
pub const BROWSER: &[Tool] = &[SYSTEM_PYTHON, CHROMIUM, CHROMEDRIVER, SELENIUM];

/// The reason a test cannot run, or `None` when every tool is there.
pub fn missing(tools: &[Tool]) -> Option<String> {
    let absent: Vec<String> = tools
        .iter()
        .filter(|t| !t.present())
        .map(Tool::describe)
        .collect();
    (!absent.is_empty()).then(|| format!("not installed: {}", absent.join(", ")))
}

/// Whether skipping a test for a missing tool is allowed in this run.
pub fn skipping_allowed() -> bool {
    std::env::var("HOPTHU_TESTS_ALLOW_SKIP").is_ok_and(|v| v == "1")
}

/// True when the calling test may run. When a tool is missing it panics with the reason, or,
/// when the run allows skipping, prints `SKIPPED`, records the test in `HOPTHU_SKIP_LOG` and
/// returns false.
pub fn require(tools: &[Tool]) -> bool {
    let Some(reason) = missing(tools) else {
        return true;
    };
    // libtest names each test's thread after the test.
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    if !skipping_allowed() {
        panic!(
            "{test}: {reason}. Run `tools/test`, which installs what the tests need, \
             or set HOPTHU_TESTS_ALLOW_SKIP=1 to skip such tests in a quick local run"
        );
    }
    println!("SKIPPED {test}: {reason}");
    if let Some(log) = std::env::var_os("HOPTHU_SKIP_LOG")
        && let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
    {
        let _ = writeln!(f, "{test}: {reason}");
    }
    false
}

#[test]
fn a_missing_tool_fails_unless_skipping_is_allowed() {
    const ABSENT: Tool = Tool::Bin("/nonexistent/hopthu-test-tool", "no-such-package");
    assert!(require(&[OPENSSL_OR_SH]));
    let reason = missing(&[ABSENT]).unwrap();
    assert!(reason.contains("/nonexistent/hopthu-test-tool (Debian no-such-package)"));
    if !skipping_allowed() {
        let failed = std::panic::catch_unwind(|| require(&[ABSENT]));
        assert!(failed.is_err(), "a missing tool must fail the test");
    }
}

/// A program every machine has, for the check above.
const OPENSSL_OR_SH: Tool = Tool::Bin("/bin/sh", "dash");
