//! SELECT and EXAMINE (RFC 3501 §6.3.1, §6.3.2): open a mailbox read-write or read-only.
//!
//! ```text
//! C: a SELECT INBOX
//! S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
//! S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted
//! S: * 172 EXISTS
//! S: * 2 RECENT
//! S: * OK [UNSEEN 12] First unseen
//! S: * OK [UIDVALIDITY 3857529045] UIDs valid
//! S: * OK [UIDNEXT 4392] Predicted next UID
//! S: * OK [HIGHESTMODSEQ 715] Highest
//! S: a OK [READ-WRITE] SELECT completed
//! ```
//!
//! A failed SELECT leaves no mailbox selected. `\Recent` (RFC 3501 §2.3.2): the messages no
//! session was told about yet are recent in this one (`Core::recent_mark`); after ENABLE
//! IMAP4rev2 there is no RECENT response and no `OK [UNSEEN]` (RFC 9051 dropped both).

use std::num::{NonZeroU32, NonZeroU64};

use hopthu_model::Uid;
use imap_codec::imap_types::command::SelectParameter;
use imap_codec::imap_types::core::Vec1;
use imap_codec::imap_types::fetch::MessageDataItem;
use imap_codec::imap_types::flag::{Flag, FlagPerm};
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::response::{Code, Data, StatusKind};
use imap_codec::imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};

use super::{imap_flag, mailbox_name};
use crate::errors::{CmdError, CmdResult, Done};
use crate::selected::Selected;
use crate::session::Session;

pub(crate) async fn run(
    s: &mut Session,
    mailbox: &Mailbox<'_>,
    read_only: bool,
    parameters: &[SelectParameter],
) -> CmdResult {
    let principal = s.principal()?;
    let mut resync = None;
    for parameter in parameters {
        match parameter {
            SelectParameter::CondStore => s.condstore = true,
            SelectParameter::QResync {
                uid_validity,
                mod_sequence_value,
                known_uids,
                ..
            } => {
                // RFC 7162 §3.2.5: QRESYNC before ENABLE QRESYNC is a protocol error.
                if !s.qresync {
                    return Err(CmdError::Bad("ENABLE QRESYNC first".into()));
                }
                resync = Some((
                    uid_validity.get(),
                    mod_sequence_value.get(),
                    known_uids.clone(),
                ));
            }
        }
    }
    if s.selected.is_some() {
        // RFC 7162 §3.2.11: the boundary between the old mailbox's responses and the new.
        s.reply(
            None,
            StatusKind::Ok,
            Some(Code::Closed),
            "Previous mailbox closed",
        );
    }
    s.deselect();
    let name = mailbox_name(mailbox, s.utf8);
    let record = s.core.mailbox(&principal, &name).await?;
    // Đ13.1: the person opened their own mailbox (EXAMINE counts as SELECT).
    if record.account_id == principal.account && record.name == "INBOX" {
        s.core.note_mailbox_opened(principal.account).await;
    }
    // Subscribe before reading, so a change committed meanwhile is seen at the next sync.
    s.subscribe();
    // From the last view another session built of this mailbox, brought up to date with what
    // changed since; else one lean query (UID, flags and modseq of every message, and the
    // highest modseq of the same snapshot). Nothing else is read per message.
    let mut selected = None;
    if let Some(snapshot) = s.views.get(record.id, record.uidvalidity) {
        let mut view = Selected::new(
            record.id,
            record.name.clone(),
            read_only,
            record.uidvalidity,
            (*snapshot).clone(),
        );
        match s
            .core
            .changes_since(&principal, record.id, view.modseq)
            .await
        {
            Ok(changes) => {
                // The client has seen nothing yet: the updates are not reported.
                let _ = view.apply(changes, true);
                selected = Some(view);
            }
            Err(_) => s.views.forget(record.id),
        }
    }
    let mut selected = match selected {
        Some(view) => view,
        None => {
            let index = s.core.message_index(&principal, record.id).await?;
            Selected::new(record.id, record.name, read_only, record.uidvalidity, index)
        }
    };
    s.views.put(&selected);
    if hopthu_core::shared::is_shared_name(&selected.name) {
        selected.rights = s
            .core
            .mailbox_access(&principal, selected.id)
            .await?
            .1
            .rights();
    }
    // RFC 3501 §2.3.2: the messages no session was told about are recent in this one; SELECT
    // claims them, EXAMINE only looks (§6.3.2). IMAP4rev2 has no `\Recent`.
    if !s.rev2 {
        let upto = selected.max_uid().map_or(0, |u| u.0);
        let after = s
            .core
            .recent_mark(&principal, selected.id, upto, !read_only)
            .await?;
        selected.add_recent(after, upto);
    }

    selected.announce_keywords();
    let (flags, permanent) = flag_responses(&selected);
    s.push_data(flags);
    s.reply(None, StatusKind::Ok, Some(permanent), "Flags permitted");
    s.push_data(Data::Exists(selected.count()));
    if !s.rev2 {
        s.push_data(Data::Recent(selected.recent_count()));
    }
    // RFC 9051 §7.1: IMAP4rev2 has no UNSEEN response code (a client asks SEARCH UNSEEN).
    if !s.rev2
        && let Some(unseen) = selected.first_unseen()
    {
        s.reply(
            None,
            StatusKind::Ok,
            Some(Code::Unseen(unseen)),
            "First unseen",
        );
    }
    if let Some(validity) = NonZeroU32::new(selected.uidvalidity) {
        s.reply(
            None,
            StatusKind::Ok,
            Some(Code::UidValidity(validity)),
            "UIDs valid",
        );
    }
    let uidnext = record
        .uidnext
        .max(selected.max_uid().map_or(1, |u| u.0.saturating_add(1)));
    if let Some(next) = NonZeroU32::new(uidnext) {
        s.reply(
            None,
            StatusKind::Ok,
            Some(Code::UidNext(next)),
            "Predicted next UID",
        );
    }
    if let Some(modseq) = NonZeroU64::new(selected.modseq) {
        s.reply(
            None,
            StatusKind::Ok,
            Some(Code::HighestModSeq(modseq)),
            "Highest",
        );
    }
    // RFC 9051 §6.3.2: an IMAP4rev2 SELECT also lists the mailbox with its attributes.
    if s.rev2
        && let Some(request) = super::list::ListRequest::exact(&selected.name)
    {
        super::list::run(s, request, false).await?;
    }
    let verb = if read_only { "EXAMINE" } else { "SELECT" };
    let view_modseq = selected.modseq;
    s.selected = Some(selected);
    if let Some((uidvalidity, since, known)) = resync
        && uidvalidity == s.selected()?.uidvalidity
    {
        resynchronize(s, since, known.as_ref(), view_modseq).await?;
    }
    let code = if read_only {
        Code::ReadOnly
    } else {
        Code::ReadWrite
    };
    Done::with_code(code, &format!("{verb} completed"))
}

/// RFC 7162 §3.2.5.1: what changed since the client's modseq, as `VANISHED (EARLIER)` for UIDs
/// expunged since (limited to the client's known UIDs when given) and FETCH (UID FLAGS MODSEQ)
/// for messages changed since, all as of the view just opened.
async fn resynchronize(
    s: &mut Session,
    since: u64,
    known: Option<&SequenceSet>,
    view_modseq: u64,
) -> Result<(), crate::errors::CmdError> {
    let principal = s.principal()?;
    let id = s.selected()?.id;
    let changes = s.core.changes_since(&principal, id, since).await?;
    let selected = s.selected()?;
    let max_uid = selected.max_uid().map_or(0, |u| u.0);
    let mut vanished: Vec<Uid> = changes
        .expunged
        .iter()
        .copied()
        .filter(|uid| selected.index_of(*uid).is_none())
        .filter(|uid| known.is_none_or(|set| set_contains(set, uid.0, max_uid)))
        .collect();
    let mut fetches = Vec::new();
    for record in changes.changed {
        if record.modseq > view_modseq {
            continue; // newer than the view: reported by the next sync
        }
        if let Some(i) = selected.index_of(record.uid) {
            let mut items = vec![
                MessageDataItem::Uid(NonZeroU32::new(record.uid.0).unwrap_or(NonZeroU32::MIN)),
                MessageDataItem::Flags(super::flag_fetch(
                    selected.flags(i),
                    !s.rev2 && selected.is_recent(record.uid),
                )),
            ];
            if let Some(modseq) = NonZeroU64::new(selected.modseq_at(i)) {
                items.push(MessageDataItem::ModSeq(modseq));
            }
            if let (Some(seq), Ok(items)) = (NonZeroU32::new(i as u32 + 1), Vec1::try_from(items)) {
                fetches.push(Data::Fetch { seq, items });
            }
        }
    }
    s.push_vanished(&mut vanished, true);
    for data in fetches {
        s.push_data(data);
    }
    Ok(())
}

/// Whether a UID is in a set (`*` is the highest UID).
pub(crate) fn set_contains(set: &SequenceSet, n: u32, star: u32) -> bool {
    set.0.as_ref().iter().any(|sequence| {
        let value = |x: &SeqOrUid| match x {
            SeqOrUid::Value(v) => v.get(),
            SeqOrUid::Asterisk => star,
        };
        let (lo, hi) = match sequence {
            Sequence::Single(x) => (value(x), value(x)),
            Sequence::Range(a, b) => (value(a).min(value(b)), value(a).max(value(b))),
        };
        (lo..=hi).contains(&n)
    })
}

/// The untagged FLAGS and the `OK [PERMANENTFLAGS]` code for a view: the system flags and the
/// keywords announced to this session (RFC 3501 §7.2.6; none permanent when read-only). Sent
/// by SELECT, and again whenever a keyword new to the session comes into use
/// (`Session::announce_keywords`).
pub(crate) fn flag_responses(selected: &Selected) -> (Data<'static>, Code<'static>) {
    let mut flags = vec![
        Flag::Answered,
        Flag::Flagged,
        Flag::Deleted,
        Flag::Seen,
        Flag::Draft,
    ];
    flags.extend(selected.announced_keywords().iter().filter_map(imap_flag));
    let permanent = if selected.read_only {
        Vec::new()
    } else {
        // RFC 4314 §4: \Seen needs `s`, \Deleted `t`, the other flags and `\*` need `w`.
        let may = |flag: &Flag<'_>| match flag {
            Flag::Seen => selected.rights.contains('s'),
            Flag::Deleted => selected.rights.contains('t'),
            _ => selected.rights.contains('w'),
        };
        let mut p: Vec<FlagPerm<'static>> = flags
            .iter()
            .filter(|f| may(f))
            .cloned()
            .map(FlagPerm::Flag)
            .collect();
        if selected.rights.contains('w') {
            p.push(FlagPerm::Asterisk);
        }
        p
    };
    (Data::Flags(flags), Code::PermanentFlags(permanent))
}
