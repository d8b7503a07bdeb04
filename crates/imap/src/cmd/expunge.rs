//! EXPUNGE (RFC 3501 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1): remove `\Deleted` messages (only
//! those in the UID set for UID EXPUNGE), each reported as `* n EXPUNGE`, highest first.
//!
//! ```text
//! C: a EXPUNGE
//! S: * 8 EXPUNGE
//! S: * 3 EXPUNGE
//! S: a OK EXPUNGE completed
//! C: b UID EXPUNGE 3000:3002
//! ```

use imap_codec::imap_types::sequence::SequenceSet;

use super::uids_at;
use crate::errors::{CmdError, CmdResult, Done};
use crate::session::Session;

pub(crate) async fn run(s: &mut Session, uid_set: Option<&SequenceSet>) -> CmdResult {
    let principal = s.principal()?;
    let selected = s.selected()?;
    if selected.read_only {
        return Err(CmdError::No(None, "Mailbox is read-only (EXAMINE)".into()));
    }
    let id = selected.id;
    let uids = match uid_set {
        Some(set) => {
            let positions = selected.resolve(set, true).map_err(CmdError::Bad)?;
            Some(uids_at(s, &positions))
        }
        None => None,
    };
    if uids.as_ref().is_some_and(Vec::is_empty) {
        return Done::ok("EXPUNGE completed");
    }
    let removed = s.core.expunge(&principal, id, uids.as_deref()).await?;
    let updates = s.selected_mut()?.remove(&removed);
    s.push_updates(updates);
    Done::ok("EXPUNGE completed")
}
