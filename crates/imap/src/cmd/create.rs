//! CREATE (RFC 3501 §6.3.3): missing parents are created too; a trailing "/" is ignored.
//! CREATE-SPECIAL-USE (RFC 6154 §3): `CREATE name (USE (\Drafts))` gives the new mailbox that
//! special use (one per mailbox); an unknown or second use is refused with `NO [USEATTR]`
//! and creates nothing. imap-codec does not parse the `USE` parameter: [`parse_extended`]
//! takes it off and lets imap-codec parse the rest.
//!
//! ```text
//! C: a CREATE "Cong van/Den"
//! S: a OK CREATE completed
//! C: b CREATE Nhap (USE (\Drafts))
//! S: b OK CREATE completed
//! ```

use hopthu_core::SpecialUse;
use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::mailbox::Mailbox;

use super::mailbox_name;
use crate::errors::{CmdError, CmdResult, Done, code};
use crate::session::Session;

pub(crate) async fn run(s: &mut Session, mailbox: &Mailbox<'_>) -> CmdResult {
    let principal = s.principal()?;
    let name = mailbox_name(mailbox, s.utf8);
    let id = s.core.create_mailbox(&principal, &name, None).await?;
    let stored = s.core.mailbox_by_id(&principal, id).await?.name;
    super::list::push_oldname(s, &stored, &name);
    Done::ok("CREATE completed")
}

/// A CREATE with a `USE` parameter, parsed by hand.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct CreateSpecial {
    pub(crate) name: String,
    /// The requested uses as sent (`\Drafts`, ...).
    pub(crate) uses: Vec<String>,
}

/// `tag CREATE mailbox (USE (attr ...))`: the tag and the request, or `None` when the command
/// is not of that form (it then gets the ordinary parse error).
pub(crate) fn parse_extended(bytes: &[u8], utf8: bool) -> Option<(String, CreateSpecial)> {
    let tag_end = bytes.iter().position(|&b| b == b' ')?;
    let tag = crate::framing::recover_tag(&bytes[..tag_end])?;
    let rest = &bytes[tag_end + 1..];
    if rest.len() < 7 || !rest[..7].eq_ignore_ascii_case(b"CREATE ") {
        return None;
    }
    let line = rest[7..].strip_suffix(b"\r\n")?;
    let upper = line.to_ascii_uppercase();
    let at = upper.windows(7).rposition(|w| w == b" (USE (")?;
    let uses = line[at + 7..].strip_suffix(b"))")?;
    let uses = std::str::from_utf8(uses).ok()?;
    if uses.contains(['(', ')', '"', '{']) {
        return None;
    }
    let uses: Vec<String> = uses.split_ascii_whitespace().map(str::to_string).collect();
    let mut plain = format!("{tag} CREATE ").into_bytes();
    plain.extend_from_slice(&line[..at]);
    plain.extend_from_slice(b"\r\n");
    let (rest, command) = CommandCodec::default().decode(&plain).ok()?;
    if !rest.is_empty() {
        return None;
    }
    let CommandBody::Create { mailbox } = command.body else {
        return None;
    };
    Some((
        tag,
        CreateSpecial {
            name: mailbox_name(&mailbox, utf8),
            uses,
        },
    ))
}

/// Runs a CREATE with a `USE` parameter.
pub(crate) async fn run_special(s: &mut Session, request: CreateSpecial) -> CmdResult {
    let principal = s.principal()?;
    let special = match request.uses.as_slice() {
        [] => None,
        [one] => Some(SpecialUse::parse(one).ok_or_else(|| {
            CmdError::No(
                Some(code("USEATTR")),
                format!("Special use {one} is not supported"),
            )
        })?),
        _ => {
            return Err(CmdError::No(
                Some(code("USEATTR")),
                "A mailbox has at most one special use".into(),
            ));
        }
    };
    s.core
        .create_mailbox(&principal, &request.name, special)
        .await?;
    Done::ok("CREATE completed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_with_use() {
        let parsed = |s: &str| parse_extended(s.as_bytes(), false);
        let (tag, r) = parsed("a1 CREATE Nhap (USE (\\Drafts))\r\n").unwrap();
        assert_eq!(tag, "a1");
        assert_eq!(r.name, "Nhap");
        assert_eq!(r.uses, vec!["\\Drafts".to_string()]);
        let (_, r) = parsed("b create \"Luu tru/2026\" (use (\\Archive \\All))\r\n").unwrap();
        assert_eq!(r.name, "Luu tru/2026");
        assert_eq!(r.uses.len(), 2);
        let (_, r) = parsed("c CREATE x (USE ())\r\n").unwrap();
        assert!(r.uses.is_empty());
        assert_eq!(parsed("d CREATE x\r\n"), None);
        assert_eq!(parsed("e CREATE x (USE (\\Drafts)\r\n"), None);
        assert_eq!(parsed("f CREATE a b (USE (\\Drafts))\r\n"), None);
        assert_eq!(parsed("g DELETE x (USE (\\Drafts))\r\n"), None);
    }
}
