//! MOVE and UID MOVE (RFC 6851): one atomic core call (`Core::move_messages`, one store
//! transaction): the messages get new UIDs in the target and are expunged here, or nothing
//! happens. The COPYUID code comes in an untagged OK before the EXPUNGE (or, under QRESYNC,
//! VANISHED) responses. Into the selected mailbox itself it is the same: the messages get
//! new UIDs there (COPYUID), the old ones are expunged.
//!
//! ```text
//! C: a UID MOVE 42:43 Trash
//! S: * OK [COPYUID 432432 42:43 11:12] Moved
//! S: * 7 EXPUNGE
//! S: * 7 EXPUNGE
//! S: a OK MOVE completed
//! ```

use std::num::NonZeroU32;

use hopthu_model::Uid;
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::response::{Code, StatusKind};
use imap_codec::imap_types::sequence::SequenceSet;

use super::{mailbox_name, uid_set, uids_at};
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
    let target = match s
        .core
        .mailbox(&principal, &mailbox_name(mailbox, s.utf8))
        .await
    {
        Ok(target) => target,
        Err(e) if e.kind == hopthu_core::ErrorKind::NotFound => {
            return Err(CmdError::No(
                Some(Code::TryCreate),
                "No such mailbox".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if uids.is_empty() {
        return Done::ok("MOVE completed");
    }
    let outcome = s
        .core
        .move_messages(&principal, id, &uids, target.id)
        .await?;
    let sources: Vec<Uid> = outcome.pairs.iter().map(|p| p.0).collect();
    let destinations: Vec<Uid> = outcome.pairs.iter().map(|p| p.1).collect();
    if let (Some(uid_validity), Some(source), Some(destination)) = (
        NonZeroU32::new(outcome.uidvalidity),
        uid_set(&sources),
        uid_set(&destinations),
    ) {
        s.reply(
            None,
            StatusKind::Ok,
            Some(Code::CopyUid {
                uid_validity,
                source,
                destination,
            }),
            "Moved",
        );
    }
    let updates = s.selected_mut()?.remove(&sources);
    s.push_updates(updates);
    Done::ok("MOVE completed")
}
