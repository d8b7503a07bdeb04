//! LOGIN (RFC 3501 §6.2.3). Refused before STARTTLS on the plain port (LOGINDISABLED,
//! RFC 3501 §6.2.3 and RFC 8314): a password never crosses the network in clear.
//!
//! ```text
//! C: a LOGIN datnv@caobang.gov.vn "mat khau"
//! S: a OK [CAPABILITY IMAP4rev1 ...] Signed in
//! ```

use crate::errors::{CmdError, CmdResult, code};
use crate::session::Session;

pub(crate) async fn run(s: &mut Session, username: &[u8], password: &[u8]) -> CmdResult {
    if s.plain_port && !s.is_tls() {
        return Err(CmdError::No(
            Some(code("PRIVACYREQUIRED")),
            "LOGIN is disabled before STARTTLS".into(),
        ));
    }
    let (Ok(login), Ok(password)) = (std::str::from_utf8(username), std::str::from_utf8(password))
    else {
        return Err(CmdError::No(
            Some(code("AUTHENTICATIONFAILED")),
            "Invalid credentials".into(),
        ));
    };
    super::authenticate::sign_in(s, login, password).await
}
