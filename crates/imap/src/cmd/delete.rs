//! DELETE (RFC 3501 §6.3.4): INBOX and mailboxes with children cannot be deleted. Deleting the
//! selected mailbox leaves the selected state.
//!
//! ```text
//! C: a DELETE "Cu"
//! S: a OK DELETE completed
//! ```

use imap_codec::imap_types::mailbox::Mailbox;

use super::mailbox_name;
use crate::errors::{CmdResult, Done};
use crate::session::Session;

pub(crate) async fn run(s: &mut Session, mailbox: &Mailbox<'_>) -> CmdResult {
    let principal = s.principal()?;
    let name = mailbox_name(mailbox, s.utf8);
    let record = s.core.mailbox(&principal, &name).await?;
    s.core.delete_mailbox(&principal, &name).await?;
    if s.selected.as_ref().is_some_and(|sel| sel.id == record.id) {
        s.deselect();
    }
    Done::ok("DELETE completed")
}
