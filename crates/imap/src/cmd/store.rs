//! STORE and UID STORE (RFC 3501 §6.4.6): `FLAGS`, `+FLAGS`, `-FLAGS`, each optionally
//! `.SILENT`. Without `.SILENT` the new flags come back as untagged FETCH responses (with the
//! UID for UID STORE).
//!
//! ```text
//! C: a STORE 2:4 +FLAGS (\Deleted)
//! S: * 2 FETCH (FLAGS (\Deleted \Seen))
//! S: * 3 FETCH (FLAGS (\Deleted))
//! S: * 4 FETCH (FLAGS (\Deleted \Flagged \Seen))
//! S: a OK STORE completed
//! ```

use std::num::NonZeroU32;

use hopthu_model::FlagOp;
use imap_codec::imap_types::core::Vec1;
use imap_codec::imap_types::fetch::MessageDataItem;
use imap_codec::imap_types::flag::{Flag, StoreResponse, StoreType};
use imap_codec::imap_types::response::Data;
use imap_codec::imap_types::sequence::SequenceSet;

use super::{flag_fetch, model_flags, uids_at};
use crate::errors::{CmdError, CmdResult, Done};
use crate::session::Session;

pub(crate) async fn run(
    s: &mut Session,
    set: &SequenceSet,
    kind: StoreType,
    response: StoreResponse,
    flags: &[Flag<'_>],
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
    let op = match kind {
        StoreType::Add => FlagOp::Add,
        StoreType::Remove => FlagOp::Remove,
        StoreType::Replace => FlagOp::Replace,
    };
    if !uids.is_empty() {
        let outcome = s
            .core
            .store_flags(&principal, id, &uids, op, &model_flags(flags), None)
            .await?;
        s.selected_mut()?.set_flags(&outcome.changed);
    }
    if response == StoreResponse::Answer {
        let selected = s.selected()?;
        let mut responses = Vec::with_capacity(positions.len());
        for &i in &positions {
            let message = &selected.messages[i];
            let mut items = Vec::with_capacity(2);
            if uid && let Some(u) = NonZeroU32::new(message.uid.0) {
                items.push(MessageDataItem::Uid(u));
            }
            items.push(MessageDataItem::Flags(flag_fetch(&message.flags)));
            if let (Some(seq), Ok(items)) = (NonZeroU32::new(i as u32 + 1), Vec1::try_from(items)) {
                responses.push(Data::Fetch { seq, items });
            }
        }
        for data in responses {
            s.push_data(data);
        }
    }
    Done::ok("STORE completed")
}
