//! APPEND (RFC 3501 §6.3.11) with APPENDUID (RFC 4315). The literal was already size-checked
//! before it was read (APPENDLIMIT, RFC 7889).
//!
//! ```text
//! C: a APPEND Sent (\Seen) "07-Feb-2024 10:00:00 +0700" {310}
//! S: + Ready for literal data
//! C: <310 octets>
//! S: a OK [APPENDUID 38505 3955] APPEND completed
//! ```

use std::num::NonZeroU32;

use imap_codec::imap_types::datetime::DateTime;
use imap_codec::imap_types::extensions::binary::LiteralOrLiteral8;
use imap_codec::imap_types::flag::Flag;
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::response::Code;

use super::{check_flags, mailbox_name, model_flags};
use crate::errors::{CmdError, CmdResult, Done, code};
use crate::session::Session;

pub(crate) async fn run(
    s: &mut Session,
    mailbox: &Mailbox<'_>,
    flags: &[Flag<'_>],
    date: Option<&DateTime>,
    message: LiteralOrLiteral8<'_>,
) -> CmdResult {
    check_flags(flags)?;
    let principal = s.principal()?;
    let name = mailbox_name(mailbox, s.utf8);
    let data = match message {
        LiteralOrLiteral8::Literal(literal) => literal.into_inner().into_owned(),
        LiteralOrLiteral8::Literal8(literal) => literal.data.into_owned(),
    };
    if data.len() as u64 > s.max_message_size {
        return Err(CmdError::No(
            Some(code("TOOBIG")),
            "Message too large".into(),
        ));
    }
    let target = match s.core.mailbox(&principal, &name).await {
        Ok(target) => target,
        // RFC 3501 §6.3.11: TRYCREATE tells the client it may create the mailbox and retry.
        Err(e) if e.kind == hopthu_core::ErrorKind::NotFound => {
            return Err(CmdError::No(
                Some(Code::TryCreate),
                "No such mailbox".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let internal_date = date.map(|d| d.as_ref().timestamp());
    let outcome = s
        .core
        .append(
            &principal,
            target.id,
            data,
            &model_flags(flags),
            internal_date,
        )
        .await?;
    match (
        NonZeroU32::new(outcome.uidvalidity),
        NonZeroU32::new(outcome.uid.0),
    ) {
        (Some(uid_validity), Some(uid)) => {
            Done::with_code(Code::AppendUid { uid_validity, uid }, "APPEND completed")
        }
        _ => Done::ok("APPEND completed"),
    }
}
