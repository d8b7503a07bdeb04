//! UNAUTHENTICATE (RFC 8437): back to the not-authenticated state on the same connection, so
//! a client can sign in as someone else without a new TLS handshake. The selected mailbox is
//! left without expunging, and what ENABLE turned on is off again.
//!
//! ```text
//! C: a UNAUTHENTICATE
//! S: a OK UNAUTHENTICATE completed
//! ```
//!
//! imap-codec does not parse the command; [`parse`] recognises it.

use crate::errors::{CmdResult, Done};
use crate::session::Session;

/// The tag of a `tag UNAUTHENTICATE` line.
pub(crate) fn parse(bytes: &[u8]) -> Option<String> {
    let line = bytes.strip_suffix(b"\r\n")?;
    let (tag, verb) = line.split_at(line.iter().position(|&b| b == b' ')?);
    if !verb[1..].eq_ignore_ascii_case(b"UNAUTHENTICATE") {
        return None;
    }
    crate::framing::recover_tag(tag)
}

pub(crate) fn run(s: &mut Session) -> CmdResult {
    s.principal()?;
    s.deselect();
    s.principal = None;
    s.condstore = false;
    s.qresync = false;
    s.rev2 = false;
    s.utf8 = false;
    Done::ok("UNAUTHENTICATE completed")
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn recognises_the_command() {
        assert_eq!(parse(b"a1 UNAUTHENTICATE\r\n").as_deref(), Some("a1"));
        assert_eq!(parse(b"b unauthenticate\r\n").as_deref(), Some("b"));
        assert_eq!(parse(b"c UNAUTHENTICATE x\r\n"), None);
        assert_eq!(parse(b"UNAUTHENTICATE\r\n"), None);
    }
}
