//! STORE and UID STORE (RFC 3501 §6.4.6): `FLAGS`, `+FLAGS`, `-FLAGS`, each optionally
//! `.SILENT`. Without `.SILENT` the new flags come back as untagged FETCH responses (with the
//! UID for UID STORE, and MODSEQ under CONDSTORE).
//!
//! With `(UNCHANGEDSINCE m)` (RFC 7162 §3.1.3) a message changed after `m` is left alone and
//! listed in the tagged `[MODIFIED set]` (sequence numbers, or UIDs for UID STORE).
//!
//! ```text
//! C: a STORE 2:4 +FLAGS (\Deleted)
//! S: * 2 FETCH (FLAGS (\Deleted \Seen))
//! S: * 3 FETCH (FLAGS (\Deleted))
//! S: * 4 FETCH (FLAGS (\Deleted \Flagged \Seen))
//! S: a OK STORE completed
//! C: b UID STORE 7,9 (UNCHANGEDSINCE 320) +FLAGS (\Seen)
//! S: * 5 FETCH (UID 7 FLAGS (\Seen) MODSEQ (321))
//! S: b OK [MODIFIED 9] Conditional STORE failed for some messages
//! ```

use std::collections::HashSet;
use std::num::{NonZeroU32, NonZeroU64};

use hopthu_model::{FlagOp, Uid};
use imap_codec::imap_types::command::StoreModifier;
use imap_codec::imap_types::core::Vec1;
use imap_codec::imap_types::fetch::MessageDataItem;
use imap_codec::imap_types::flag::{Flag, StoreResponse, StoreType};
use imap_codec::imap_types::response::{Code, Data};
use imap_codec::imap_types::sequence::SequenceSet;

use super::{check_flags, flag_fetch, model_flags, number_set, uids_at};
use crate::errors::{CmdError, CmdResult, Done};
use crate::session::Session;

/// What a STORE asks for.
pub(crate) struct FlagChange<'f, 'a> {
    pub(crate) kind: StoreType,
    pub(crate) response: StoreResponse,
    pub(crate) flags: &'f [Flag<'a>],
}

pub(crate) async fn run(
    s: &mut Session,
    set: &SequenceSet,
    change: FlagChange<'_, '_>,
    uid: bool,
    modifiers: &[StoreModifier],
) -> CmdResult {
    check_flags(change.flags)?;
    let principal = s.principal()?;
    let unchanged_since = modifiers
        .iter()
        .map(|m| match m {
            StoreModifier::UnchangedSince(m) => *m,
        })
        .next();
    if unchanged_since.is_some() {
        // RFC 7162 §3.1: a CONDSTORE enabling command.
        s.condstore = true;
    }
    let selected = s.selected()?;
    if selected.read_only {
        return Err(CmdError::No(None, "Mailbox is read-only (EXAMINE)".into()));
    }
    let id = selected.id;
    let positions = selected.resolve(set, uid).map_err(CmdError::Bad)?;
    let uids = uids_at(s, &positions);
    let op = match change.kind {
        StoreType::Add => FlagOp::Add,
        StoreType::Remove => FlagOp::Remove,
        StoreType::Replace => FlagOp::Replace,
    };
    let mut failed: HashSet<Uid> = HashSet::new();
    if !uids.is_empty() {
        let outcome = s
            .core
            .store_flags(
                &principal,
                id,
                &uids,
                op,
                &model_flags(change.flags),
                unchanged_since,
            )
            .await?;
        s.selected_mut()?.set_flags(&outcome.changed);
        failed = outcome.failed.into_iter().collect();
    }
    // A keyword new to the mailbox is announced before the FETCH that shows it (§7.2.6).
    s.announce_keywords();
    let condstore = s.condstore;
    if change.response == StoreResponse::Answer {
        let selected = s.selected()?;
        let mut responses = Vec::with_capacity(positions.len());
        for &i in &positions {
            let message_uid = selected.uid(i);
            if failed.contains(&message_uid) {
                continue;
            }
            let mut items = Vec::with_capacity(3);
            if uid && let Some(u) = NonZeroU32::new(message_uid.0) {
                items.push(MessageDataItem::Uid(u));
            }
            items.push(MessageDataItem::Flags(flag_fetch(
                selected.flags(i),
                !s.rev2 && selected.is_recent(message_uid),
            )));
            if condstore && let Some(m) = NonZeroU64::new(selected.modseq_at(i)) {
                items.push(MessageDataItem::ModSeq(m));
            }
            if let (Some(seq), Ok(items)) = (NonZeroU32::new(i as u32 + 1), Vec1::try_from(items)) {
                responses.push(Data::Fetch { seq, items });
            }
        }
        for data in responses {
            s.push_data(data);
        }
    }
    if !failed.is_empty() {
        let selected = s.selected()?;
        let numbers = positions
            .iter()
            .map(|&i| (i, selected.uid(i)))
            .filter(|(_, u)| failed.contains(u))
            .map(|(i, u)| if uid { u.0 } else { i as u32 + 1 });
        if let Some(set) = number_set(numbers) {
            return Done::with_code(
                Code::Modified(set),
                "Conditional STORE failed for some messages",
            );
        }
    }
    Done::ok("STORE completed")
}
