//! CHECK (RFC 3501 §6.4.1): every change is already durable, so this is a NOOP that reports
//! what changed in the selected mailbox.
//!
//! ```text
//! C: a CHECK
//! S: a OK CHECK completed
//! ```

use crate::errors::{CmdResult, Done};
use crate::session::Session;

pub(crate) async fn run(s: &mut Session) -> CmdResult {
    s.sync(true, true).await?;
    Done::ok("CHECK completed")
}
