//! How a command fails, and the ONE mapping from a service error ([`hopthu_core::ErrorKind`]) to
//! an IMAP reply with its response code (RFC 5530).

use std::io;

use hopthu_core::ErrorKind;
use imap_codec::imap_types::core::Text;
use imap_codec::imap_types::response::{Code, CodeOther, StatusKind};

/// A command's failure, turned into the tagged reply by the dispatcher.
#[derive(Debug)]
pub(crate) enum CmdError {
    /// Protocol error: syntax, wrong state, bad arguments (`BAD`).
    Bad(String),
    /// Refused (`NO`), with an optional response code.
    No(Option<Code<'static>>, String),
    /// A service error, answered by [`reply_for`].
    Core(hopthu_core::Error),
    /// The connection broke while answering; the session ends.
    Io(io::Error),
    /// The session ends without a tagged reply (`* BYE` was sent, e.g. shutdown during IDLE).
    Closed,
}

impl From<hopthu_core::Error> for CmdError {
    fn from(e: hopthu_core::Error) -> Self {
        CmdError::Core(e)
    }
}

impl From<io::Error> for CmdError {
    fn from(e: io::Error) -> Self {
        CmdError::Io(e)
    }
}

pub(crate) type CmdResult<T = Done> = Result<T, CmdError>;

/// A command's success: the tagged `OK` with an optional response code.
#[derive(Debug)]
pub(crate) struct Done {
    pub(crate) code: Option<Code<'static>>,
    pub(crate) text: String,
}

impl Done {
    pub(crate) fn ok(text: &str) -> CmdResult {
        Ok(Done {
            code: None,
            text: text.to_string(),
        })
    }

    pub(crate) fn with_code(code: Code<'static>, text: &str) -> CmdResult {
        Ok(Done {
            code: Some(code),
            text: text.to_string(),
        })
    }
}

/// A response code without a typed variant in imap-types (RFC 5530 and friends).
pub(crate) fn code(name: &'static str) -> Code<'static> {
    Code::Other(CodeOther::unvalidated(name.as_bytes()))
}

/// The reply to a service error. RFC 5530 codes tell clients what happened:
/// `NONEXISTENT` (no such mailbox), `ALREADYEXISTS`, `HASCHILDREN` (RFC 9051), `CANNOT` (breaks a rule of the server),
/// `NOPERM`, `OVERQUOTA`, `UNAVAILABLE` (try again later), `SERVERBUG`. Every service error is
/// a `NO`: `BAD` is kept for protocol errors, which the service never sees.
pub(crate) fn reply_for(error: &hopthu_core::Error) -> (StatusKind, Option<Code<'static>>, String) {
    let (kind, code_name) = match error.kind {
        ErrorKind::Invalid => (StatusKind::No, "CANNOT"),
        ErrorKind::NotFound => (StatusKind::No, "NONEXISTENT"),
        ErrorKind::Forbidden => (StatusKind::No, "NOPERM"),
        ErrorKind::AlreadyExists => (StatusKind::No, "ALREADYEXISTS"),
        // RFC 9051 §6.3.5: DELETE of a mailbox with inferior names.
        ErrorKind::HasChildren => (StatusKind::No, "HASCHILDREN"),
        ErrorKind::QuotaExceeded => (StatusKind::No, "OVERQUOTA"),
        ErrorKind::Temporary => (StatusKind::No, "UNAVAILABLE"),
        ErrorKind::Internal => (StatusKind::No, "SERVERBUG"),
    };
    (kind, Some(code(code_name)), error.message.clone())
}

/// Human-readable text for a status response: IMAP text is ASCII without CR/LF (RFC 3501
/// §9 `text`), so anything else is replaced; never empty.
pub(crate) fn text(s: &str) -> Text<'static> {
    let mut cleaned: String = s
        .chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect();
    if cleaned.trim().is_empty() {
        cleaned = "done".to_string();
    }
    // Ambiguity with a response code: a text must not begin with "[" when no code precedes it.
    if cleaned.starts_with('[') {
        cleaned.insert(0, ' ');
    }
    Text::try_from(cleaned).unwrap_or_else(|_| Text::try_from("done").expect("valid text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_every_kind_to_no_with_a_code() {
        for (kind, want) in [
            (ErrorKind::Invalid, "CANNOT"),
            (ErrorKind::NotFound, "NONEXISTENT"),
            (ErrorKind::Forbidden, "NOPERM"),
            (ErrorKind::AlreadyExists, "ALREADYEXISTS"),
            (ErrorKind::HasChildren, "HASCHILDREN"),
            (ErrorKind::QuotaExceeded, "OVERQUOTA"),
            (ErrorKind::Temporary, "UNAVAILABLE"),
            (ErrorKind::Internal, "SERVERBUG"),
        ] {
            let (status, c, _) = reply_for(&hopthu_core::Error::new(kind, "x"));
            assert_eq!(status, StatusKind::No);
            assert_eq!(c, Some(code(want)));
        }
    }

    #[test]
    fn text_is_always_valid() {
        assert_eq!(text("Đã xong\r\n").inner(), "?? xong??");
        assert_eq!(text("").inner(), "done");
        assert_eq!(text("[x]").inner(), " [x]");
    }
}
