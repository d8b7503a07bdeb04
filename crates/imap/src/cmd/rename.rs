//! RENAME (RFC 3501 §6.3.5, RFC 9051 §6.3.6): the mailbox moves with its children. Renaming
//! INBOX moves its messages into a new mailbox and leaves INBOX (and its children) in place.
//!
//! ```text
//! C: a RENAME "Du an" "Luu tru/Du an"
//! S: a OK RENAME completed
//! ```

use imap_codec::imap_types::mailbox::Mailbox;

use super::mailbox_name;
use crate::errors::{CmdResult, Done};
use crate::session::Session;

pub(crate) async fn run(s: &mut Session, from: &Mailbox<'_>, to: &Mailbox<'_>) -> CmdResult {
    let principal = s.principal()?;
    let sent = mailbox_name(to, s.utf8);
    let (from, to) = s
        .core
        .rename_mailbox(&principal, &mailbox_name(from, s.utf8), &sent)
        .await?;
    super::list::push_oldname(s, &to, &sent);
    if let Some(selected) = s.selected.as_mut()
        && from != "INBOX"
    {
        if selected.name == from {
            selected.name = to.clone();
        } else if let Some(rest) = selected.name.strip_prefix(&format!("{from}/")) {
            selected.name = format!("{to}/{rest}");
        }
    }
    Done::ok("RENAME completed")
}
