//! CAPABILITY (RFC 3501 §6.1.1).
//!
//! ```text
//! C: a CAPABILITY
//! S: * CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED LITERAL+ IDLE ...
//! S: a OK CAPABILITY completed
//! ```

use imap_codec::imap_types::response::Data;

use crate::errors::{CmdResult, Done};
use crate::session::Session;

pub(crate) fn run(s: &mut Session) -> CmdResult {
    let capabilities = s.capabilities();
    s.push_data(Data::Capability(capabilities));
    Done::ok("CAPABILITY completed")
}
