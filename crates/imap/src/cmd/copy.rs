//! COPY and UID COPY (RFC 3501 §6.4.7) with COPYUID (RFC 4315). The copies share the stored
//! message; flags are copied.
//!
//! ```text
//! C: a COPY 2:4 Archive
//! S: a OK [COPYUID 38505 304,319:320 3956:3958] COPY completed
//! ```

use std::num::NonZeroU32;

use hopthu_model::Uid;
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::response::Code;
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
    let positions = s.selected()?.resolve(set, uid).map_err(CmdError::Bad)?;
    let uids = uids_at(s, &positions);
    match copy_to(s, &uids, mailbox).await? {
        Some(code) => Done::with_code(code, "COPY completed"),
        None => Done::ok("COPY completed"),
    }
}

/// Copies `uids` of the selected mailbox; returns the COPYUID code (none when nothing was
/// copied).
pub(crate) async fn copy_to(
    s: &mut Session,
    uids: &[Uid],
    mailbox: &Mailbox<'_>,
) -> Result<Option<Code<'static>>, CmdError> {
    let principal = s.principal()?;
    let source = s.selected()?.id;
    let name = mailbox_name(mailbox, s.utf8);
    let target = match s.core.mailbox(&principal, &name).await {
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
        return Ok(None);
    }
    let (validity, pairs) = s
        .core
        .copy_messages(&principal, source, uids, target.id)
        .await?;
    let sources: Vec<Uid> = pairs.iter().map(|p| p.0).collect();
    let destinations: Vec<Uid> = pairs.iter().map(|p| p.1).collect();
    Ok(
        match (
            NonZeroU32::new(validity),
            uid_set(&sources),
            uid_set(&destinations),
        ) {
            (Some(uid_validity), Some(source), Some(destination)) => Some(Code::CopyUid {
                uid_validity,
                source,
                destination,
            }),
            _ => None,
        },
    )
}
