//! CREATE (RFC 3501 §6.3.3): missing parents are created too; a trailing "/" is ignored.
//!
//! ```text
//! C: a CREATE "Cong van/Den"
//! S: a OK CREATE completed
//! ```

use imap_codec::imap_types::mailbox::Mailbox;

use super::mailbox_name;
use crate::errors::{CmdResult, Done};
use crate::session::Session;

pub(crate) async fn run(s: &mut Session, mailbox: &Mailbox<'_>) -> CmdResult {
    let principal = s.principal()?;
    let name = mailbox_name(mailbox);
    s.core.create_mailbox(&principal, &name, None).await?;
    Done::ok("CREATE completed")
}
