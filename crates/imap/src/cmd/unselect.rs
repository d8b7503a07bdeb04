//! UNSELECT (RFC 3691): leaves the selected mailbox without expunging.
//!
//! ```text
//! C: a UNSELECT
//! S: a OK UNSELECT completed
//! ```

use crate::errors::{CmdResult, Done};
use crate::session::Session;

pub(crate) fn run(s: &mut Session) -> CmdResult {
    s.deselect();
    Done::ok("UNSELECT completed")
}
