//! SMTP replies: a code, an enhanced status code (RFC 3463, announced as ENHANCEDSTATUSCODES,
//! RFC 2034) and text; and the ONE function that maps a [`hopthu_core::Error`] to a reply.
//!
//! Reply text is protocol text, in English. Text that comes from elsewhere (a core error
//! message) is cleaned so it can never break the reply line.

use hopthu_core::{Error, ErrorKind};

/// One reply, possibly multi-line (RFC 5321 §4.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// Enhanced status code such as `"5.1.1"`; empty for replies that carry none (greeting,
    /// EHLO/HELO, 354, 334: RFC 2034 §3).
    pub status: &'static str,
    pub lines: Vec<String>,
}

impl Reply {
    /// A one-line reply with an enhanced status code.
    pub fn new(code: u16, status: &'static str, text: impl Into<String>) -> Reply {
        Reply {
            code,
            status,
            lines: vec![clean(&text.into())],
        }
    }

    /// A reply without an enhanced status code.
    pub fn bare(code: u16, text: impl Into<String>) -> Reply {
        Self::new(code, "", text)
    }

    /// A multi-line reply.
    pub fn multiline(code: u16, status: &'static str, lines: Vec<String>) -> Reply {
        Reply {
            code,
            status,
            lines: lines.iter().map(|l| clean(l)).collect(),
        }
    }

    pub fn is_positive(&self) -> bool {
        self.code < 400
    }

    /// Appends the reply in wire form to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let count = self.lines.len().max(1);
        for i in 0..count {
            let text = self.lines.get(i).map(String::as_str).unwrap_or("");
            let sep = if i + 1 < count { '-' } else { ' ' };
            out.extend_from_slice(self.code.to_string().as_bytes());
            out.push(sep as u8);
            if !self.status.is_empty() {
                out.extend_from_slice(self.status.as_bytes());
                if !text.is_empty() {
                    out.push(b' ');
                }
            }
            out.extend_from_slice(text.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }

    /// The first line without the code, for logs.
    pub fn text(&self) -> &str {
        self.lines.first().map(String::as_str).unwrap_or("")
    }
}

/// Removes control characters so foreign text cannot end a reply line early.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// THE mapping from a service error to an SMTP reply (RFC 5321 §4.2.2 codes, RFC 3463 enhanced
/// codes). Passing failures are 4xx so the sending server retries; a bug is also 4xx, since the
/// message itself may well be fine.
pub fn core_error_reply(error: &Error) -> Reply {
    let text = error.message.as_str();
    match error.kind {
        // 5.6.0: other or undefined media error (the content broke a rule).
        ErrorKind::Invalid => Reply::new(550, "5.6.0", format!("Message refused: {text}")),
        // 5.1.1: bad destination mailbox address.
        ErrorKind::NotFound => Reply::new(550, "5.1.1", format!("Mailbox unavailable: {text}")),
        // 5.7.1: delivery not authorized.
        ErrorKind::Forbidden => Reply::new(550, "5.7.1", format!("Not allowed: {text}")),
        // 5.2.2: mailbox full (RFC 5321 §4.5.3.1.10 allows 552 for compatibility).
        ErrorKind::QuotaExceeded => Reply::new(552, "5.2.2", format!("Quota exceeded: {text}")),
        ErrorKind::AlreadyExists
        | ErrorKind::HasChildren
        | ErrorKind::Temporary
        | ErrorKind::Internal => Reply::new(
            451,
            "4.3.0",
            "Temporary local problem, please try again later",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(reply: &Reply) -> String {
        let mut out = Vec::new();
        reply.write_to(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_replies() {
        assert_eq!(wire(&Reply::new(250, "2.0.0", "OK")), "250 2.0.0 OK\r\n");
        assert_eq!(wire(&Reply::bare(354, "Go ahead")), "354 Go ahead\r\n");
        assert_eq!(wire(&Reply::bare(334, "")), "334 \r\n");
        assert_eq!(
            wire(&Reply::multiline(
                250,
                "",
                vec!["host".into(), "PIPELINING".into()]
            )),
            "250-host\r\n250 PIPELINING\r\n"
        );
        assert_eq!(
            wire(&Reply::new(451, "4.3.0", "a\r\nb")),
            "451 4.3.0 a  b\r\n"
        );
    }

    #[test]
    fn maps_core_errors() {
        let cases = [
            (ErrorKind::Invalid, 550, "5.6.0"),
            (ErrorKind::NotFound, 550, "5.1.1"),
            (ErrorKind::Forbidden, 550, "5.7.1"),
            (ErrorKind::QuotaExceeded, 552, "5.2.2"),
            (ErrorKind::AlreadyExists, 451, "4.3.0"),
            (ErrorKind::Temporary, 451, "4.3.0"),
            (ErrorKind::Internal, 451, "4.3.0"),
        ];
        for (kind, code, status) in cases {
            let reply = core_error_reply(&Error::new(kind, "x"));
            assert_eq!((reply.code, reply.status), (code, status), "{kind:?}");
        }
    }
}
