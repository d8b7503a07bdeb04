//! CLOSE (RFC 3501 §6.4.2): removes the `\Deleted` messages silently (unless the mailbox was
//! opened with EXAMINE) and leaves the selected state.
//!
//! ```text
//! C: a CLOSE
//! S: a OK CLOSE completed
//! ```

use crate::errors::{CmdResult, Done};
use crate::session::Session;

pub(crate) async fn run(s: &mut Session) -> CmdResult {
    let principal = s.principal()?;
    let selected = s.selected()?;
    let (id, read_only) = (selected.id, selected.read_only);
    s.deselect();
    if !read_only {
        s.core.expunge(&principal, id, None).await?;
    }
    Done::ok("CLOSE completed")
}
