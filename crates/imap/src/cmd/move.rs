//! MOVE and UID MOVE (RFC 6851): copy, then flag `\Deleted` and expunge the originals. The
//! COPYUID code comes in an untagged OK before the EXPUNGE responses.
//!
//! ```text
//! C: a UID MOVE 42:43 Trash
//! S: * OK [COPYUID 432432 42:43 11:12] Moved
//! S: * 7 EXPUNGE
//! S: * 7 EXPUNGE
//! S: a OK MOVE completed
//! ```
//!
//! The three steps are separate core calls; if the second or third fails, the messages exist
//! in both mailboxes (never in neither).

use hopthu_model::{Flag, FlagOp, Flags};
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::response::StatusKind;
use imap_codec::imap_types::sequence::SequenceSet;

use super::uids_at;
use crate::errors::{CmdError, CmdResult, Done};
use crate::session::Session;

pub(crate) async fn run(
    s: &mut Session,
    set: &SequenceSet,
    mailbox: &Mailbox<'_>,
    uid: bool,
) -> CmdResult {
    let principal = s.principal()?;
    let selected = s.selected()?;
    if selected.read_only {
        return Err(CmdError::No(None, "Mailbox is read-only (EXAMINE)".into()));
    }
    let id = selected.id;
    let positions = selected.resolve(set, uid).map_err(CmdError::Bad)?;
    let uids = uids_at(s, &positions);
    let copied = super::copy::copy_to(s, &uids, mailbox).await?;
    if uids.is_empty() {
        return Done::ok("MOVE completed");
    }
    if let Some(code) = copied {
        s.reply(None, StatusKind::Ok, Some(code), "Moved");
    }
    let deleted = Flags::from_iter([Flag::Deleted]);
    s.core
        .store_flags(&principal, id, &uids, FlagOp::Add, &deleted, None)
        .await?;
    let removed = s.core.expunge(&principal, id, Some(&uids)).await?;
    let updates = s.selected_mut()?.remove(&removed);
    s.push_updates(updates);
    Done::ok("MOVE completed")
}
