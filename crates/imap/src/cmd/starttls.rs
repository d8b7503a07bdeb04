//! STARTTLS (RFC 3501 §6.2.1), on the plain port only. The handshake starts once the tagged
//! OK is written; whatever the client pipelined after the command is discarded (a
//! man-in-the-middle could have injected it before TLS).
//!
//! ```text
//! C: a STARTTLS
//! S: a OK Begin TLS negotiation now
//! <TLS handshake>
//! ```

use crate::errors::{CmdError, CmdResult, Done};
use crate::session::Session;

pub(crate) fn run(s: &mut Session) -> CmdResult {
    if !s.plain_port || s.is_tls() {
        return Err(CmdError::Bad("TLS is already active".into()));
    }
    s.start_tls = true;
    Done::ok("Begin TLS negotiation now")
}
