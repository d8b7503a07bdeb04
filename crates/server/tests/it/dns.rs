//! DNS trouble and the DNS cache (issue 19), against [`FakeDns`] on loopback: a resolver that
//! never answers (`[dns] message_budget` ends the checks with `temperror`; DMARC `p=reject` is
//! not applied; `[inbound] defer_on_dns_error` answers 451 4.4.3; the outbound queue defers an
//! MX look-up that runs out of time and frees the domain's worker), and one that serves the
//! records of a signed domain and counts the queries (the shared cache answers every repeat).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::fake_dns::{Answer, FakeDns, TXT};
use super::harness::TestServer;

const SYSTEM_PYTHON: &str = "/usr/bin/python3";

fn tempdir(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "hopthu-dns-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `py/dns_inbound.py` with `python` and the server's environment; panics unless it
/// printed OK.
fn dns_inbound(server: &TestServer, python: &str, args: &[&str]) -> String {
    let out: Output = Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/py/dns_inbound.py"))
        .args(args)
        .envs(server.env())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && stdout.ends_with("OK\n"),
        "dns_inbound.py {args:?}\n{stdout}{}\n--- server log\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
    stdout
}

/// `[dns]` for `dns` with a long per-answer timeout (so only the budget can end a wait) and
/// a budget of one second.
fn slow_dns_config(dns: &FakeDns) -> String {
    format!("{}timeout = 30\nmessage_budget = 1\n", dns.config())
}

fn metrics(server: &TestServer) -> String {
    server
        .http(
            "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            Duration::from_secs(20),
        )
        .1
}

/// The value of one sample line (`name{labels} value`) of `/metrics`.
fn sample(text: &str, line_start: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(line_start)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {line_start} in\n{text}"))
}

/// A resolver that answers nothing: the message on the MX port is accepted once the budget
/// is spent (not after every look-up's own timeout), marked `spf=temperror` and
/// `dmarc=temperror`, and the budget overrun is counted.
#[test]
fn silent_resolver_accepts_within_budget_as_temperror() {
    let dns = FakeDns::swallow();
    let server = TestServer::start_with(&slow_dns_config(&dns));
    let rcpt = server.add_account("vanthu", "Văn Thư", "mat-khau-van-thu");
    let out = dns_inbound(
        &server,
        "python3",
        &[
            "accept",
            &rcpt,
            "mat-khau-van-thu",
            "slow.example",
            "spf=temperror",
            "dmarc=temperror",
        ],
    );
    print!("{out}");
    assert!(dns.query_count() > 0, "the server asked the fake resolver");
    let text = metrics(&server);
    assert!(
        sample(&text, "hopthu_dns_budget_exceeded_total ") >= 1,
        "{text}"
    );
}

/// The resolver serves the DMARC record (`p=reject`) of slow.example but never answers for
/// its SPF record: SPF ends as temperror, DMARC is temperror with the policy known, and the
/// message is accepted, not refused as a DMARC failure.
#[test]
fn dmarc_reject_is_not_applied_on_temperror() {
    let dns = FakeDns::start(|name, qtype| match (name, qtype) {
        ("_dmarc.slow.example", TXT) => Answer::Txt("v=DMARC1; p=reject".into()),
        (n, _) if n == "slow.example" || n.ends_with(".slow.example") => Answer::Swallow,
        _ => Answer::NxDomain,
    });
    let server = TestServer::start_with(&format!(
        "{}[inbound]\nverify = true\ndmarc_reject = true\n",
        slow_dns_config(&dns)
    ));
    let rcpt = server.add_account("vanthu", "Văn Thư", "mat-khau-van-thu");
    let out = dns_inbound(
        &server,
        "python3",
        &[
            "accept",
            &rcpt,
            "mat-khau-van-thu",
            "slow.example",
            "spf=temperror",
            "dmarc=temperror",
            "policy.dmarc=reject",
        ],
    );
    print!("{out}");
}

/// `[inbound] defer_on_dns_error = true`: the same silence gets `451 4.4.3`, so the sender
/// retries, and nothing is delivered.
#[test]
fn silent_resolver_defers_when_configured() {
    let dns = FakeDns::swallow();
    let server = TestServer::start_with(&format!(
        "{}[inbound]\ndefer_on_dns_error = true\n",
        slow_dns_config(&dns)
    ));
    let rcpt = server.add_account("vanthu", "Văn Thư", "mat-khau-van-thu");
    let out = dns_inbound(&server, "python3", &["defer", &rcpt, "slow.example"]);
    print!("{out}");
}

/// A resolver that serves sender.example's SPF, DKIM key and DMARC record and counts the
/// queries: after the first signed message, 49 more (over several connections at once) send
/// no query at all, every one still passes SPF, DKIM and DMARC, and `/metrics` shows the
/// cache hits.
#[test]
fn repeated_senders_are_answered_from_the_cache() {
    use super::needs;
    if !needs::require(&[needs::SYSTEM_PYTHON, needs::DKIMPY, needs::OPENSSL]) {
        return;
    }
    let tmp = tempdir("cache");
    let (key, public) = super::mta::dkim_key(&tmp);
    let dns = FakeDns::txt(HashMap::from([
        (
            "sender.example".to_string(),
            "v=spf1 ip4:127.0.0.1 -all".to_string(),
        ),
        (
            "sel._domainkey.sender.example".to_string(),
            format!("v=DKIM1; k=rsa; p={public}"),
        ),
        (
            "_dmarc.sender.example".to_string(),
            "v=DMARC1; p=reject".to_string(),
        ),
    ]));
    let server = TestServer::start_with(&format!(
        "{}timeout = 5\n[inbound]\nverify = true\n",
        dns.config()
    ));
    let rcpt = server.add_account("vanthu", "Văn Thư", "mat-khau-van-thu");
    let key = key.display().to_string();
    dns_inbound(
        &server,
        SYSTEM_PYTHON,
        &["signed", &key, &rcpt, "mat-khau-van-thu", "1", "1"],
    );
    let first = dns.queries();
    assert!(
        first
            .iter()
            .any(|(n, _)| n == "sel._domainkey.sender.example"),
        "{first:?}"
    );
    dns_inbound(
        &server,
        SYSTEM_PYTHON,
        &["signed", &key, &rcpt, "mat-khau-van-thu", "2", "49"],
    );
    let all = dns.queries();
    assert_eq!(
        all.len(),
        first.len(),
        "queries after the first message: {:?}",
        &all[first.len()..]
    );
    let text = metrics(&server);
    let hits = sample(&text, "hopthu_dns_cache_lookups_total{result=\"hit\"} ");
    let misses = sample(&text, "hopthu_dns_cache_lookups_total{result=\"miss\"} ");
    assert!(hits >= 49 * 3, "hits {hits}:\n{text}");
    assert!(
        misses >= 1 && misses <= first.len() as u64,
        "misses {misses}:\n{text}"
    );
    assert_eq!(
        sample(&text, "hopthu_dns_queries_sent_total "),
        first.len() as u64,
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

/// Outbound: the MX look-up of slow.example is never answered. The attempt ends when the
/// budget is spent, as a temporary failure (4.4.3) with a retry scheduled, like a 4xx; the
/// domain's worker is then free, so `queue retry` makes a second attempt at once.
#[test]
fn outbound_mx_timeout_defers_and_frees_the_worker() {
    let dns = FakeDns::start(|name, _| {
        if name == "slow.example" || name.ends_with(".slow.example") {
            Answer::Swallow
        } else {
            Answer::NxDomain
        }
    });
    let server = TestServer::start_with(&format!(
        "{}[outbound]\npoll_interval = 1\nretry_initial = 3600\n",
        slow_dns_config(&dns)
    ));
    let sender = server.add_account("thuky", "Thư Ký", "mat-khau-thu-ky");
    let out = server.python(
        "mta_send.py",
        &[
            &sender,
            "mat-khau-thu-ky",
            &sender,
            "Bao cao",
            "ban@slow.example",
        ],
    );
    assert_eq!(out.trim(), "sent 1", "{out}");
    let cli = |args: &[&str]| {
        let out = server.cli(args, "");
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let wait_show = |attempts: u32| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let list = cli(&["queue", "list"]);
            if let Some(id) = list
                .split('\t')
                .next()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                let show = cli(&["queue", "show", id]);
                if show.contains(&format!("[pending] attempts {attempts}")) {
                    return (id.to_string(), show);
                }
            }
            assert!(
                Instant::now() < deadline,
                "no attempt {attempts}:\n{list}\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let (id, show) = wait_show(1);
    assert!(show.contains("4.4.3"), "{show}");
    assert!(show.contains("next attempt"), "{show}");
    assert!(
        dns.queries()
            .iter()
            .any(|(n, q)| n == "slow.example" && *q == 15),
        "{:?}",
        dns.queries()
    );
    cli(&["queue", "retry", &id]);
    let (_, show) = wait_show(2);
    assert!(show.contains("4.4.3"), "{show}");
    assert!(
        server.log().contains("took longer than"),
        "{}",
        server.log()
    );
}
