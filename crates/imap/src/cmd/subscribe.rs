//! SUBSCRIBE and UNSUBSCRIBE (RFC 3501 §6.3.6, §6.3.7): which mailboxes LSUB lists.
//!
//! ```text
//! C: a SUBSCRIBE Archive
//! S: a OK SUBSCRIBE completed
//! ```

use imap_codec::imap_types::mailbox::Mailbox;

use super::mailbox_name;
use crate::errors::{CmdResult, Done};
use crate::session::Session;

pub(crate) async fn run(s: &mut Session, mailbox: &Mailbox<'_>, on: bool) -> CmdResult {
    let principal = s.principal()?;
    let name = mailbox_name(mailbox, s.utf8);
    s.core.set_subscribed(&principal, &name, on).await?;
    Done::ok(if on {
        "SUBSCRIBE completed"
    } else {
        "UNSUBSCRIBE completed"
    })
}
