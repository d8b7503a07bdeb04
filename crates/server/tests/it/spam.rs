//! Spam (`[antispam]`): a DNS blocklist answered by a local DNS server scores MX mail, files it
//! into Junk or refuses it; forged `X-Spam-*` fields are removed; submission is not scored;
//! and users moving mail into and out of Junk teach the Bayesian classifier, which moves a new
//! message of the same kind into Junk. On both back-ends (`HOPTHU_TEST_STORE`).

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use crate::fake_dns::{A, Answer, FakeDns};
use crate::harness::TestServer;

/// `zen.example` lists 127.0.0.1 and 127.0.0.2, `bl2.example` lists 127.0.0.2: from
/// 127.0.0.1 a message scores the DNSBL weight (Junk), from 127.0.0.2 twice that (refused),
/// from 127.0.0.3 nothing (INBOX).
#[test]
fn a_dnsbl_answered_by_a_local_dns_server_files_into_junk_or_refuses() {
    let dns = FakeDns::start(|name, qtype| match (name, qtype) {
        ("1.0.0.127.zen.example", A) | ("2.0.0.127.zen.example", A) => {
            Answer::A(vec![Ipv4Addr::new(127, 0, 0, 2)])
        }
        ("2.0.0.127.bl2.example", A) => Answer::A(vec![Ipv4Addr::new(127, 0, 0, 4)]),
        _ => Answer::NxDomain,
    });
    let server = TestServer::start_with(&format!(
        "{}[antispam]\ndnsbl = [\"zen.example\", \"bl2.example\"]\njunk_threshold = 4.0\n\
         reject_threshold = 8.0\n",
        dns.config()
    ));
    let address = server.add_account("vanthu", "Văn Thư", "mat-khau-van-thu");
    let out = server.python("spam_mail.py", &["dnsbl", &address, "mat-khau-van-thu"]);
    print!("{out}");
    assert!(out.ends_with("OK\n"), "{out}\n{}", server.log());
    let asked = dns.queries();
    for name in [
        "1.0.0.127.zen.example",
        "2.0.0.127.bl2.example",
        "3.0.0.127.zen.example",
    ] {
        assert!(
            asked.iter().any(|(n, t)| n == name && *t == A),
            "{name} not asked: {asked:?}"
        );
    }
    let log = server.log();
    assert!(log.contains("message refused as spam"), "{log}");
}

/// `[antispam] rspamd_url`: a daemon answering `/checkv2` once with a score of 2.5 (then gone,
/// so the next look-up is refused): the first message carries `RSPAMD`, the second is
/// accepted all the same, scored without it.
#[test]
fn rspamd_adds_its_score_and_its_failure_loses_no_mail() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let daemon = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        // The head, then as many bytes as it announces.
        loop {
            let n = socket.read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got).to_string();
            if let Some(split) = text.find("\r\n\r\n") {
                let length: usize = text
                    .lines()
                    .find_map(|l| l.strip_prefix("Content-Length: "))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if got.len() >= split + 4 + length {
                    break;
                }
            }
            assert!(n > 0, "rspamd request cut short");
        }
        socket
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"score\": 2.5}")
            .unwrap();
        drop(socket);
        drop(listener);
        String::from_utf8_lossy(&got).to_string()
    });
    let server = TestServer::start_with(&format!("[antispam]\nrspamd_url = \"{url}\"\n"));
    let address = server.add_account("vanthu", "Văn Thư", "mat-khau-van-thu");
    let out = server.python("spam_mail.py", &["rspamd", &address, "mat-khau-van-thu"]);
    print!("{out}");
    let request = daemon.join().unwrap();
    assert!(
        request.starts_with("POST /checkv2 HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(request.contains("IP: 127.0.0.1\r\n"), "{request}");
    assert!(
        request.contains(&format!("Rcpt: {address}\r\n")),
        "{request}"
    );
    assert!(
        server.log().contains("rspamd gave no score"),
        "{}",
        server.log()
    );
}

/// The number of times the learner reported a job done.
fn trained(server: &TestServer) -> usize {
    server.log().matches("spam filter trained").count()
}

/// "Learning moves a message class": four ham moved out of Junk and four spam moved into it
/// (one of them out and back in, counted once) teach the domain's classifier; a new message
/// like the spam then scores higher than the same kind did before and lands in Junk.
#[test]
fn learning_moves_a_message_class() {
    let server = TestServer::start_with("[antispam]\nbayes_min_learned = 3\n");
    let address = server.add_account("vanthu", "Văn Thư", "mat-khau-van-thu");
    let before = server.python("spam_mail.py", &["train", &address, "mat-khau-van-thu"]);
    let before = before.trim().lines().last().unwrap_or_default().to_string();
    // Four moves taught something: ham out of Junk, spam in, one out, back in.
    let deadline = Instant::now() + Duration::from_secs(60);
    while trained(&server) < 4 {
        assert!(
            Instant::now() < deadline,
            "the learner did not finish:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        server
            .sql("SELECT domain, spam, ham FROM bayes_totals")
            .trim(),
        "caobang.gov.vn|4|4",
        "{}",
        server.log()
    );
    assert_eq!(
        server
            .sql("SELECT class, COUNT(*) FROM bayes_learned GROUP BY class ORDER BY class")
            .trim(),
        "1|4\n2|4"
    );
    let out = server.python(
        "spam_mail.py",
        &["probe", &address, "mat-khau-van-thu", &before],
    );
    print!("{out}");
    assert!(out.ends_with("OK\n"), "{out}\n{}", server.log());
}
