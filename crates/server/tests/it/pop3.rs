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
