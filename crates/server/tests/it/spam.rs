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
