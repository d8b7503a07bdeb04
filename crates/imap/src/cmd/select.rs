//! SELECT and EXAMINE (RFC 3501 §6.3.1, §6.3.2): open a mailbox read-write or read-only.
//!
//! ```text
//! C: a SELECT INBOX
//! S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
//! S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted
//! S: * 172 EXISTS
//! S: * 0 RECENT
//! S: * OK [UNSEEN 12] First unseen
//! S: * OK [UIDVALIDITY 3857529045] UIDs valid
//! S: * OK [UIDNEXT 4392] Predicted next UID
//! S: * OK [HIGHESTMODSEQ 715] Highest
//! S: a OK [READ-WRITE] SELECT completed
//! ```
//!
//! A failed SELECT leaves no mailbox selected. `\Recent` is not kept (RFC 9051 dropped it):
//! RECENT is always 0.

use std::num::{NonZeroU32, NonZeroU64};

use hopthu_model::Flag as ModelFlag;
use imap_codec::imap_types::flag::{Flag, FlagPerm};
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::response::{Code, Data, StatusKind};

use super::{imap_flag, mailbox_name};
use crate::errors::{CmdResult, Done};
use crate::selected::Selected;
use crate::session::Session;

pub(crate) async fn run(s: &mut Session, mailbox: &Mailbox<'_>, read_only: bool) -> CmdResult {
    let principal = s.principal()?;
    s.deselect();
    let name = mailbox_name(mailbox);
    let record = s.core.mailbox(&principal, &name).await?;
    // Subscribe before reading, so a change committed meanwhile is seen at the next sync.
    s.subscribe();
    let status = s.core.mailbox_status(&principal, record.id).await?;
    let messages = s.core.messages(&principal, record.id).await?;
    let selected = Selected {
        id: record.id,
        name: record.name,
        read_only,
        uidvalidity: status.mailbox.uidvalidity,
        messages,
        modseq: status.mailbox.highestmodseq,
    };

    let mut flags = vec![
        Flag::Answered,
        Flag::Flagged,
        Flag::Deleted,
        Flag::Seen,
        Flag::Draft,
    ];
    let mut keywords: Vec<ModelFlag> = Vec::new();
    for message in &selected.messages {
        for flag in message.flags.iter() {
            if matches!(flag, ModelFlag::Keyword(_))
                && !keywords.contains(flag)
                && keywords.len() < 100
            {
                keywords.push(flag.clone());
            }
        }
    }
    flags.extend(keywords.iter().filter_map(imap_flag));
    s.push_data(Data::Flags(flags.clone()));
    let permanent = if read_only {
        Vec::new()
    } else {
        let mut p: Vec<FlagPerm<'static>> = flags.into_iter().map(FlagPerm::Flag).collect();
        p.push(FlagPerm::Asterisk);
        p
    };
    s.reply(
        None,
        StatusKind::Ok,
        Some(Code::PermanentFlags(permanent)),
        "Flags permitted",
    );
    s.push_data(Data::Exists(selected.count()));
    s.push_data(Data::Recent(0));
    if let Some(unseen) = selected.first_unseen() {
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
    let uidnext = status
        .mailbox
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
    let verb = if read_only { "EXAMINE" } else { "SELECT" };
    s.selected = Some(selected);
    let code = if read_only {
        Code::ReadOnly
    } else {
        Code::ReadWrite
    };
    Done::with_code(code, &format!("{verb} completed"))
}
