//! NOOP (RFC 3501 §6.1.2): does nothing but report what changed in the selected mailbox.
//!
//! ```text
//! C: a NOOP
//! S: * 3 EXPUNGE
//! S: * 5 EXISTS
//! S: * 2 FETCH (UID 7 FLAGS (\Seen))
//! S: a OK NOOP completed
//! ```

use crate::errors::{CmdResult, Done};
use crate::session::Session;

pub(crate) async fn run(s: &mut Session) -> CmdResult {
    s.sync(true, true).await?;
    Done::ok("NOOP completed")
}
