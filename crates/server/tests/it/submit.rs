//! The webmail's side of submission and of sign-in state, over plain HTTP on loopback (which
//! serves the application): the same recipient limits as SMTP, and web sessions that end with
//! every credential change, including the operator's `hopthu account password`.

use super::harness::TestServer;
use super::web::{get, header, http, post, sign_in};

/// Sends a message from the compose form (multipart, as the browser does).
fn send(server: &TestServer, session: &str, csrf: &str, to: &str, subject: &str) -> String {
    compose_post(
        server,
        session,
        &[
            ("csrf", csrf),
            ("to", to),
            ("cc", ""),
            ("bcc", ""),
            ("subject", subject),
            ("body", "Noi dung"),
            ("action", "send"),
        ],
    )
}

/// Posts the compose form with these fields (multipart, as the browser does); the response's
/// head and page.
pub(super) fn compose_post(server: &TestServer, session: &str, fields: &[(&str, &str)]) -> String {
    let boundary = "----hopthu-test-boundary";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let (head, page) = http(
        server,
        &format!(
            "POST /compose HTTP/1.1\r\nHost: x\r\nCookie: {session}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    format!("{head}\n{page}")
}

/// The webmail applies `max_recipients` per message, and the hourly limit
/// counts recipients as on SMTP.
#[test]
fn webmail_applies_the_recipient_limits() {
    let server = TestServer::start_with("[limits]\nmax_recipients = 2\nmessages_per_hour = 3\n");
    let password = "mat-khau-web-gui";
    let user = server.add_account("webgui", "Gửi Trên Web", password);
    let a = server.add_account("webmot", "Nhận Một", "mat-khau-web-mot");
    let b = server.add_account("webhai", "Nhận Hai", "mat-khau-web-hai");
    let c = server.add_account("webba", "Nhận Ba", "mat-khau-web-ba");
    let (session, csrf) = sign_in(&server, &user, password);

    let out = send(
        &server,
        &session,
        &csrf,
        &format!("{a}, {b}, {c}"),
        "Ba nguoi",
    );
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    assert!(out.contains("tối đa 2"), "{out}");

    let out = send(&server, &session, &csrf, &format!("{a}, {b}"), "Hai nguoi");
    assert!(out.starts_with("HTTP/1.1 303"), "{out}");
    // Two recipients of three this hour: two more are too many, one is not.
    let out = send(&server, &session, &csrf, &format!("{a}, {c}"), "Hai nua");
    assert!(out.starts_with("HTTP/1.1 503"), "{out}");
    let out = send(&server, &session, &csrf, &c, "Mot nua");
    assert!(out.starts_with("HTTP/1.1 303"), "{out}");
    let out = send(&server, &session, &csrf, &a, "Qua gioi han");
    assert!(out.starts_with("HTTP/1.1 503"), "{out}");
}

/// A webmail session ends when the operator sets a new password with
/// `hopthu account password` (as with a console reset or the owner's own change).
#[test]
fn webmail_session_ends_after_the_cli_password_change() {
    let server = TestServer::start();
    let password = "mat-khau-web-cu";
    let user = server.add_account("webdoi", "Đổi Trên CLI", password);
    let (session, _) = sign_in(&server, &user, password);
    let (head, _) = get(&server, "/settings", &session);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let out = server.cli(
        &["account", "password", &user, "--no-force-change"],
        "mat-khau-web-moi\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (head, _) = get(&server, "/settings", &session);
    assert!(
        head.starts_with("HTTP/1.1 303") && header(&head, "location") == ["/login"],
        "the old session still works: {head}"
    );
    // The owner's own change keeps the session it was made in.
    let (session, csrf) = sign_in(&server, &user, "mat-khau-web-moi");
    let (other, _) = sign_in(&server, &user, "mat-khau-web-moi");
    let (head, body) = post(
        &server,
        "/password",
        &session,
        &format!(
            "csrf={csrf}&current=mat-khau-web-moi&new=Mat-khau-rat-moi-2026&confirm=Mat-khau-rat-moi-2026"
        ),
    );
    assert!(head.starts_with("HTTP/1.1 303"), "{head}\n{body}");
    let (head, _) = get(&server, "/settings", &session);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let (head, _) = get(&server, "/settings", &other);
    assert!(head.starts_with("HTTP/1.1 303"), "{head}");
}
