//! STATUS (RFC 3501 §6.3.10) with DELETED and SIZE (RFC 9051 §6.3.11) and HIGHESTMODSEQ
//! (RFC 7162) when asked.
//!
//! ```text
//! C: a STATUS INBOX (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)
//! S: * STATUS INBOX (MESSAGES 231 UNSEEN 3 UIDNEXT 44292 UIDVALIDITY 1)
//! S: a OK STATUS completed
//! ```

use std::borrow::Cow;
use std::num::NonZeroU32;

use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::response::Data;
use imap_codec::imap_types::status::{StatusDataItem, StatusDataItemName};

use super::{mailbox_name, wire_mailbox};
use crate::errors::{CmdResult, Done};
use crate::session::Session;

pub(crate) async fn run(
    s: &mut Session,
    mailbox: &Mailbox<'_>,
    names: &[StatusDataItemName],
) -> CmdResult {
    let principal = s.principal()?;
    let name = mailbox_name(mailbox, s.utf8);
    let record = s.core.mailbox(&principal, &name).await?;
    push_status(s, record.id, names).await?;
    Done::ok("STATUS completed")
}

/// `* STATUS name (...)` for a mailbox of the principal (STATUS, and LIST-STATUS RFC 5819).
pub(crate) async fn push_status(
    s: &mut Session,
    id: hopthu_model::MailboxId,
    names: &[StatusDataItemName],
) -> Result<(), crate::errors::CmdError> {
    let principal = s.principal()?;
    let status = s.core.mailbox_status(&principal, id).await?;
    let needs_messages = names.iter().any(|n| {
        matches!(
            n,
            StatusDataItemName::Deleted | StatusDataItemName::DeletedStorage
        )
    });
    let (deleted, deleted_size) = if needs_messages {
        s.core.deleted_usage(&principal, id).await?
    } else {
        (0, 0)
    };
    // RECENT: the messages no session was told about yet (UIDs above the mark), plus this
    // session's own when it has the mailbox selected read-write.
    let unclaimed = if names.contains(&StatusDataItemName::Recent) {
        let mark = s.core.recent_mark(&principal, id, 0, false).await?;
        s.core
            .count_above(&principal, id, hopthu_model::Uid(mark))
            .await?
    } else {
        0
    };
    let own = s
        .selected
        .as_ref()
        .filter(|v| v.id == id && !v.read_only && !s.rev2)
        .map_or(0, |v| v.recent_count());
    let recent = (unclaimed + own).min(status.messages);
    let size = if names.contains(&StatusDataItemName::Size) {
        s.core.mailbox_size(&principal, id).await?
    } else {
        0
    };
    let one = NonZeroU32::MIN;
    let items: Vec<StatusDataItem> = names
        .iter()
        .filter_map(|n| {
            Some(match n {
                StatusDataItemName::Messages => StatusDataItem::Messages(status.messages),
                StatusDataItemName::Recent => StatusDataItem::Recent(recent),
                StatusDataItemName::UidNext => {
                    StatusDataItem::UidNext(NonZeroU32::new(status.mailbox.uidnext).unwrap_or(one))
                }
                StatusDataItemName::UidValidity => StatusDataItem::UidValidity(
                    NonZeroU32::new(status.mailbox.uidvalidity).unwrap_or(one),
                ),
                StatusDataItemName::Unseen => StatusDataItem::Unseen(status.unseen),
                StatusDataItemName::Deleted => StatusDataItem::Deleted(deleted),
                StatusDataItemName::DeletedStorage => StatusDataItem::DeletedStorage(deleted_size),
                StatusDataItemName::Size => StatusDataItem::Size(size),
                StatusDataItemName::HighestModSeq => {
                    StatusDataItem::HighestModSeq(status.mailbox.highestmodseq)
                }
                #[allow(unreachable_patterns)]
                _ => return None,
            })
        })
        .collect();
    s.push_data(Data::Status {
        mailbox: wire_mailbox(&status.mailbox.name, s.utf8),
        items: Cow::Owned(items),
    });
    Ok(())
}
