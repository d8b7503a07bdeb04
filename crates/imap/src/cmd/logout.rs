//! LOGOUT (RFC 3501 §6.1.3).
//!
//! ```text
//! C: a LOGOUT
//! S: * BYE hopthu logging out
//! S: a OK LOGOUT completed
//! ```

use crate::errors::{CmdResult, Done};
use crate::session::Session;

pub(crate) fn run(s: &mut Session) -> CmdResult {
    s.deselect();
    s.bye("Logging out / Tam biet");
    Done::ok("LOGOUT completed")
}
