//! `STARTTLS` (RFC 3207): upgrade the connection to TLS.
//!
//! RFC 3207 §4.2: after the handshake the session starts over (no EHLO, no AUTH, no
//! transaction), and bytes the client pipelined after STARTTLS in plain text are discarded (the
//! command injection of CVE-2011-0411).

use crate::reply::Reply;
use crate::session::{Session, Stop};

pub(crate) async fn starttls(session: &mut Session) -> Result<(), Stop> {
    if session.is_tls() {
        session.reply(Reply::new(503, "5.5.1", "TLS already active"));
        return Ok(());
    }
    session.reply(Reply::new(220, "2.0.0", "Ready to start TLS"));
    session.start_tls().await
}
