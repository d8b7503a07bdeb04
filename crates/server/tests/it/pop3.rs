//! POP3 tests with Python's poplib and raw sockets.

use super::harness::TestServer;

#[test]
fn poplib_full_session_over_stls_and_pop3s() {
    let server = TestServer::start();
    let address = server.add_account("thanhlv", "Lò Văn Thành", "mat-khau-pop3");
    let out = server.python("pop3_session.py", &[&address, "mat-khau-pop3"]);
    assert!(out.contains("OK"), "{out}");
}

#[test]
fn garbage_and_long_lines_get_errors_and_the_session_goes_on() {
    let server = TestServer::start();
    let mut c = server.connect("pop3");
    assert!(c.line().starts_with("+OK"));
    c.send(b"\x00\xff\xfe garbage\r\n");
    assert!(c.line().starts_with("-ERR"));
    let long = vec![b'A'; 100_000];
    c.send(&long);
    c.send(b"\r\n");
    assert!(c.line().starts_with("-ERR line too long"));
    c.send(b"STAT\r\n");
    assert!(c.line().starts_with("-ERR"), "STAT before sign-in");
    c.send(b"CAPA\r\n");
    let caps = c.until(".");
    assert!(caps.iter().any(|l| l.starts_with("STLS")), "{caps:?}");
    c.send(b"QUIT\r\n");
    assert!(c.line().starts_with("+OK"));
    assert!(c.closed());
}

/// POP3 keeps the maildrop it opened while IMAP expunges meanwhile, and QUIT removes only what
/// it deleted.
#[test]
fn pop3_session_survives_a_concurrent_imap_expunge() {
    let server = TestServer::start();
    let address = server.add_account("thanhlv", "Lò Văn Thành", "mat-khau-pop3");
    let out = server.python("pop3_imap_expunge.py", &[&address, "mat-khau-pop3"]);
    assert!(out.ends_with("OK\n"), "{out}");
}

/// `[limits] command_burst` and `commands_per_second` pace a client that floods commands, in
/// POP3 and in IMAP: every command is still answered (nothing is refused), but those beyond
/// the burst wait their turn. The check is a lower bound on the time taken, which a slow
/// machine cannot break.
#[test]
fn a_flood_of_commands_is_paced_not_refused() {
    let server = TestServer::start_with("[limits]\ncommand_burst = 3\ncommands_per_second = 4\n");
    let started = std::time::Instant::now();
    let mut pop = server.connect("pop3");
    assert!(pop.line().starts_with("+OK"));
    pop.send(&b"CAPA\r\n".repeat(7));
    for _ in 0..7 {
        let caps = pop.until(".");
        assert!(caps[0].starts_with("+OK"), "{caps:?}");
    }
    // Three pass at once; each later one takes a quarter of a second's token, and the wait
    // comes after its answer: answers 5, 6 and 7 come 0.25, 0.5 and 0.75 s late.
    let pop_took = started.elapsed();
    assert!(
        pop_took >= std::time::Duration::from_millis(700),
        "{pop_took:?}"
    );

    let started = std::time::Instant::now();
    let mut imap = server.connect("imap");
    assert!(imap.line().starts_with("* OK"));
    let commands: String = (0..7).map(|i| format!("n{i} NOOP\r\n")).collect();
    imap.send(commands.as_bytes());
    for i in 0..7 {
        let line = imap.until(&format!("n{i} "));
        assert!(
            line.last().unwrap().starts_with(&format!("n{i} OK")),
            "{line:?}"
        );
    }
    let imap_took = started.elapsed();
    assert!(
        imap_took >= std::time::Duration::from_millis(700),
        "{imap_took:?}"
    );
}
