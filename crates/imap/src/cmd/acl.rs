//! ACL (RFC 4314): the rights people have on unit mailboxes (Đ12), read and changed over
//! IMAP. A delegation covers every folder of a unit mailbox, so the ACL of any of its folders
//! is the unit's ([`hopthu_core::shared`]).
//!
//! ```text
//! C: a MYRIGHTS "Shared/vanphong.sonoivu@caobang.gov.vn/INBOX"
//! S: * MYRIGHTS "Shared/vanphong.sonoivu@caobang.gov.vn/INBOX" lrsw
//! S: a OK MYRIGHTS completed
//! C: b SETACL "Shared/vanphong.sonoivu@caobang.gov.vn/INBOX" hoalt@caobang.gov.vn lrswipkxte
//! S: b OK SETACL completed
//! C: c GETACL INBOX
//! S: * ACL INBOX datnv@caobang.gov.vn lrswipkxtea
//! S: c OK GETACL completed
//! C: d LISTRIGHTS INBOX hoalt@caobang.gov.vn
//! S: * LISTRIGHTS INBOX hoalt@caobang.gov.vn "" lrsw ipkxte
//! S: d OK LISTRIGHTS completed
//! ```
//!
//! imap-codec does not parse these commands; [`parse`] recognises them (atoms, quoted strings
//! and literals).

use crate::errors::{CmdResult, Done};
use crate::session::Session;

/// One ACL command with its arguments (mailbox names as sent on the wire).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AclCommand {
    GetAcl(Vec<u8>),
    SetAcl(Vec<u8>, String, String),
    DeleteAcl(Vec<u8>, String),
    ListRights(Vec<u8>, String),
    MyRights(Vec<u8>),
}

impl AclCommand {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            AclCommand::GetAcl(_) => "GETACL",
            AclCommand::SetAcl(..) => "SETACL",
            AclCommand::DeleteAcl(..) => "DELETEACL",
            AclCommand::ListRights(..) => "LISTRIGHTS",
            AclCommand::MyRights(_) => "MYRIGHTS",
        }
    }
}

/// Why a line that names an ACL command is not one.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Malformed(pub(crate) String);

/// `tag VERB args…` for the five ACL verbs: `None` when the verb is another one; `Some(Err)`
/// (with the tag) when the arguments are wrong, which gets BAD.
pub(crate) fn parse(bytes: &[u8]) -> Option<(String, Result<AclCommand, Malformed>)> {
    let line = bytes.strip_suffix(b"\r\n")?;
    let tag_end = line.iter().position(|&b| b == b' ')?;
    let tag = crate::framing::recover_tag(&line[..tag_end])?;
    let rest = &line[tag_end + 1..];
    let verb_end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
    let verb = String::from_utf8_lossy(&rest[..verb_end]).to_ascii_uppercase();
    let arity = match verb.as_str() {
        "GETACL" | "MYRIGHTS" => 1,
        "DELETEACL" | "LISTRIGHTS" => 2,
        "SETACL" => 3,
        _ => return None,
    };
    let args = match astrings(&rest[verb_end..]) {
        Some(args) if args.len() == arity => args,
        _ => {
            return Some((
                tag,
                Err(Malformed(format!("{verb} takes {arity} argument(s)"))),
            ));
        }
    };
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut args = args.into_iter();
    let mailbox = args.next().unwrap_or_default();
    let command = match verb.as_str() {
        "GETACL" => AclCommand::GetAcl(mailbox),
        "MYRIGHTS" => AclCommand::MyRights(mailbox),
        "DELETEACL" => AclCommand::DeleteAcl(mailbox, text(&args.next().unwrap_or_default())),
        "LISTRIGHTS" => AclCommand::ListRights(mailbox, text(&args.next().unwrap_or_default())),
        _ => {
            let who = text(&args.next().unwrap_or_default());
            AclCommand::SetAcl(mailbox, who, text(&args.next().unwrap_or_default()))
        }
    };
    Some((tag, Ok(command)))
}

/// Space-separated astrings (RFC 3501 §9: atom, quoted string or literal); `None` when one is
/// malformed.
fn astrings(mut input: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    loop {
        if input.is_empty() {
            return Some(out);
        }
        input = input.strip_prefix(b" ")?;
        match *input.first()? {
            b'"' => {
                let (word, used) = crate::framing::quoted_string(input)?;
                out.push(word);
                input = &input[used..];
            }
            b'{' => {
                let close = input.iter().position(|&b| b == b'}')?;
                let digits = input[1..close]
                    .strip_suffix(b"+")
                    .unwrap_or(&input[1..close]);
                let length: usize = std::str::from_utf8(digits).ok()?.parse().ok()?;
                let data = input[close + 1..].strip_prefix(b"\r\n")?;
                if data.len() < length {
                    return None;
                }
                out.push(data[..length].to_vec());
                input = &data[length..];
            }
            _ => {
                let end = input.iter().position(|&c| c == b' ').unwrap_or(input.len());
                let word = &input[..end];
                let atom_char = |c: &u8| {
                    c.is_ascii_graphic()
                        && !matches!(c, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\')
                };
                if word.is_empty() || !word.iter().all(atom_char) {
                    return None;
                }
                out.push(word.to_vec());
                input = &input[end..];
            }
        }
    }
}

/// A string on the wire as a quoted string (or a literal when it cannot be quoted).
fn quoted(text: &str) -> String {
    if text.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return format!("{{{}}}\r\n{text}", text.len());
    }
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A mailbox name as the client sent it, in UTF-8.
fn name_of(s: &Session, wire: &[u8]) -> String {
    if wire.eq_ignore_ascii_case(b"INBOX") {
        "INBOX".to_string()
    } else if s.utf8 {
        String::from_utf8_lossy(wire).into_owned()
    } else {
        crate::mutf7::from_wire(wire)
    }
}

/// A stored mailbox name on the wire (modified UTF-7 unless UTF-8 is enabled), quoted.
fn wire_name(s: &Session, name: &str) -> String {
    if s.utf8 {
        quoted(name)
    } else {
        quoted(&crate::mutf7::encode(name))
    }
}

pub(crate) async fn run(s: &mut Session, command: AclCommand) -> CmdResult {
    let principal = s.principal()?;
    match command {
        AclCommand::MyRights(wire) => {
            let name = name_of(s, &wire);
            let rights = s.core.my_rights(&principal, &name).await?;
            let line = format!("* MYRIGHTS {} {rights}\r\n", wire_name(s, &name));
            s.wire.push_raw(line.as_bytes());
            Done::ok("MYRIGHTS completed")
        }
        AclCommand::GetAcl(wire) => {
            let name = name_of(s, &wire);
            let acl = s.core.mailbox_acl(&principal, &name).await?;
            let mut line = format!("* ACL {}", wire_name(s, &name));
            for (identifier, rights) in acl {
                line.push_str(&format!(" {} {rights}", quoted(&identifier)));
            }
            line.push_str("\r\n");
            s.wire.push_raw(line.as_bytes());
            Done::ok("GETACL completed")
        }
        AclCommand::ListRights(wire, identifier) => {
            let name = name_of(s, &wire);
            let (required, groups) = s.core.list_rights(&principal, &name, &identifier).await?;
            let mut line = format!(
                "* LISTRIGHTS {} {} {}",
                wire_name(s, &name),
                quoted(&identifier),
                quoted(&required)
            );
            for group in groups {
                line.push(' ');
                line.push_str(group);
            }
            line.push_str("\r\n");
            s.wire.push_raw(line.as_bytes());
            Done::ok("LISTRIGHTS completed")
        }
        AclCommand::SetAcl(wire, identifier, rights) => {
            let name = name_of(s, &wire);
            s.core
                .set_mailbox_acl(&principal, &name, &identifier, &rights)
                .await?;
            Done::ok("SETACL completed")
        }
        AclCommand::DeleteAcl(wire, identifier) => {
            let name = name_of(s, &wire);
            s.core
                .delete_mailbox_acl(&principal, &name, &identifier)
                .await?;
            Done::ok("DELETEACL completed")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(line: &[u8]) -> Option<(String, Result<AclCommand, Malformed>)> {
        parse(line)
    }

    #[test]
    fn parses_the_five_commands() {
        assert_eq!(
            command(b"a GETACL INBOX\r\n"),
            Some(("a".into(), Ok(AclCommand::GetAcl(b"INBOX".to_vec()))))
        );
        assert_eq!(
            command(b"b myrights \"Shared/x@y.vn/INBOX\"\r\n"),
            Some((
                "b".into(),
                Ok(AclCommand::MyRights(b"Shared/x@y.vn/INBOX".to_vec()))
            ))
        );
        assert_eq!(
            command(b"c SETACL {5}\r\nINBOX hoa@y.vn +lr\r\n"),
            Some((
                "c".into(),
                Ok(AclCommand::SetAcl(
                    b"INBOX".to_vec(),
                    "hoa@y.vn".into(),
                    "+lr".into()
                ))
            ))
        );
        assert_eq!(
            command(b"d DELETEACL INBOX \"hoa@y.vn\"\r\n"),
            Some((
                "d".into(),
                Ok(AclCommand::DeleteAcl(b"INBOX".to_vec(), "hoa@y.vn".into()))
            ))
        );
        assert_eq!(
            command(b"e LISTRIGHTS INBOX hoa@y.vn\r\n"),
            Some((
                "e".into(),
                Ok(AclCommand::ListRights(b"INBOX".to_vec(), "hoa@y.vn".into()))
            ))
        );
    }

    #[test]
    fn refuses_wrong_arguments_and_ignores_other_verbs() {
        assert!(matches!(command(b"a GETACL\r\n"), Some((_, Err(_)))));
        assert!(matches!(
            command(b"a GETACL INBOX x\r\n"),
            Some((_, Err(_)))
        ));
        assert!(matches!(
            command(b"a SETACL INBOX x\r\n"),
            Some((_, Err(_)))
        ));
        assert!(matches!(
            command(b"a GETACL \"INBOX\r\n"),
            Some((_, Err(_)))
        ));
        assert!(matches!(
            command(b"a GETACL {9}\r\nINBOX\r\n"),
            Some((_, Err(_)))
        ));
        assert!(matches!(command(b"a GETACL IN(BOX\r\n"), Some((_, Err(_)))));
        assert_eq!(command(b"a SELECT INBOX\r\n"), None);
        assert_eq!(command(b"GETACL\r\n"), None);
    }

    #[test]
    fn quotes_what_it_sends() {
        assert_eq!(quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quoted(""), "\"\"");
    }
}
