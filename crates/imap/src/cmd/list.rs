//! LIST and LSUB (RFC 3501 §6.3.8, §6.3.9) with CHILDREN (RFC 3348) and SPECIAL-USE
//! (RFC 6154) attributes. The hierarchy separator is "/"; `*` matches anything, `%` anything
//! but "/". INBOX matches case-insensitively.
//!
//! ```text
//! C: a LIST "" "*"
//! S: * LIST (\HasNoChildren) "/" INBOX
//! S: * LIST (\HasNoChildren \Sent) "/" Sent
//! S: a OK LIST completed
//! C: b LIST (SPECIAL-USE) "" "*"
//! C: c LIST "" "%" RETURN (SUBSCRIBED CHILDREN)
//! ```
//!
//! The extended forms (RFC 5258 selection and RETURN options, as Thunderbird sends them for
//! SPECIAL-USE) are not parsed by imap-codec; [`parse_extended`] strips the options and lets
//! the codec parse the rest.

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::core::{Atom, QuotedChar};
use imap_codec::imap_types::flag::FlagNameAttribute;
use imap_codec::imap_types::mailbox::{ListMailbox, Mailbox};
use imap_codec::imap_types::response::Data;
use imap_codec::imap_types::status::StatusDataItemName;

use super::{mailbox_name, wire_mailbox};
use crate::errors::{CmdResult, Done};
use crate::session::Session;

/// A LIST request, plain or extended.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ListRequest {
    reference: String,
    pattern: String,
    /// Selection option SUBSCRIBED (RFC 5258).
    subscribed_only: bool,
    /// Selection option SPECIAL-USE (RFC 6154 §5.1).
    special_use_only: bool,
    /// RETURN (SUBSCRIBED): mark subscribed mailboxes `\Subscribed`.
    return_subscribed: bool,
    /// RETURN (STATUS (...)) (RFC 5819): a STATUS response after each selectable mailbox.
    status: Vec<StatusDataItemName>,
}

impl ListRequest {
    /// The one mailbox of that name (IMAP4rev2 SELECT's LIST response), or `None` when the
    /// name would match as a pattern.
    pub(crate) fn exact(name: &str) -> Option<ListRequest> {
        (!name.contains(['%', '*'])).then(|| ListRequest {
            pattern: name.to_string(),
            ..ListRequest::default()
        })
    }

    pub(crate) fn new(reference: &Mailbox<'_>, pattern: &ListMailbox<'_>) -> ListRequest {
        let pattern = match pattern {
            ListMailbox::Token(t) => t.as_ref().to_vec(),
            ListMailbox::String(s) => s.as_ref().to_vec(),
        };
        ListRequest {
            reference: mailbox_name(reference),
            pattern: crate::mutf7::from_wire(&pattern),
            ..ListRequest::default()
        }
    }
}

pub(crate) async fn run(s: &mut Session, request: ListRequest, lsub: bool) -> CmdResult {
    let principal = s.principal()?;
    let delimiter = QuotedChar::try_from('/').ok();
    let verb = if lsub { "LSUB" } else { "LIST" };
    if request.pattern.is_empty() && !lsub {
        // RFC 3501 §6.3.8: the hierarchy delimiter and root name.
        s.push_data(Data::List {
            items: vec![FlagNameAttribute::Noselect],
            delimiter,
            mailbox: Mailbox::try_from("").expect("empty name"),
        });
        return Done::ok("LIST completed");
    }
    let pattern: Vec<char> = format!("{}{}", request.reference, request.pattern)
        .chars()
        .collect();
    let mut mailboxes = s.core.mailboxes(&principal).await?;
    // INBOX first, the rest by name.
    mailboxes.sort_by(|a, b| (a.name != "INBOX", &a.name).cmp(&(b.name != "INBOX", &b.name)));
    let names: Vec<String> = mailboxes.iter().map(|m| m.name.clone()).collect();
    for mailbox in &mailboxes {
        if !matches(&pattern, &mailbox.name) {
            continue;
        }
        let subscribed = mailbox.subscribed;
        if (lsub || request.subscribed_only) && !subscribed {
            continue;
        }
        if request.special_use_only && mailbox.special_use.is_none() {
            continue;
        }
        let mut items = Vec::new();
        if !lsub {
            let prefix = format!("{}/", mailbox.name);
            let children = names.iter().any(|n| n.starts_with(&prefix));
            items.push(attribute(if children {
                "HasChildren"
            } else {
                "HasNoChildren"
            }));
            if let Some(special) = mailbox.special_use {
                items.push(attribute(special.as_str().trim_start_matches('\\')));
            }
            if request.return_subscribed && subscribed {
                items.push(attribute("Subscribed"));
            }
        }
        let id = mailbox.id;
        let mailbox = wire_mailbox(&mailbox.name);
        let with_status = !lsub && !request.status.is_empty();
        s.push_data(if lsub {
            Data::Lsub {
                items,
                delimiter,
                mailbox,
            }
        } else {
            Data::List {
                items,
                delimiter,
                mailbox,
            }
        });
        if with_status {
            super::status::push_status(s, id, &request.status).await?;
        }
    }
    Done::ok(&format!("{verb} completed"))
}

pub(crate) async fn run_extended(s: &mut Session, request: ListRequest) -> CmdResult {
    run(s, request, false).await
}

fn attribute(name: &'static str) -> FlagNameAttribute<'static> {
    FlagNameAttribute::from(Atom::try_from(name).expect("valid attribute"))
}

/// Matches a LIST pattern against a mailbox name. Dynamic programming, so a pattern full of
/// wildcards costs at most |pattern| × |name|.
fn matches(pattern: &[char], name: &str) -> bool {
    let name: Vec<char> = name.chars().collect();
    // "INBOX" (and "INBOX/...") match case-insensitively in their first five characters.
    let inbox = name.len() >= 5
        && name[..5].iter().collect::<String>() == "INBOX"
        && (name.len() == 5 || name[5] == '/');
    let same = |p: char, j: usize| {
        if inbox && j < 5 {
            p.eq_ignore_ascii_case(&name[j])
        } else {
            p == name[j]
        }
    };
    let mut row = vec![false; name.len() + 1];
    row[0] = true;
    for &p in pattern {
        let mut next = vec![false; name.len() + 1];
        match p {
            '*' => {
                next[0] = row[0];
                for j in 1..=name.len() {
                    next[j] = row[j] || next[j - 1];
                }
            }
            '%' => {
                next[0] = row[0];
                for j in 1..=name.len() {
                    next[j] = row[j] || (next[j - 1] && name[j - 1] != '/');
                }
            }
            _ => {
                for j in 1..=name.len() {
                    next[j] = row[j - 1] && same(p, j - 1);
                }
            }
        }
        row = next;
    }
    row[name.len()]
}

/// `tag LIST (selection options) reference pattern [RETURN (return options)]` (RFC 5258),
/// which imap-codec does not parse: the options are cut off and the plain LIST that remains is
/// parsed by the codec. Multiple patterns are not supported.
pub(crate) fn parse_extended(bytes: &[u8]) -> Option<(String, ListRequest)> {
    let tag_end = bytes.iter().position(|&b| b == b' ')?;
    let tag = crate::framing::recover_tag(&bytes[..tag_end])?;
    let rest = &bytes[tag_end + 1..];
    if rest.len() < 5 || !rest[..5].eq_ignore_ascii_case(b"LIST ") {
        return None;
    }
    let mut args = &rest[5..];
    let mut request = ListRequest::default();
    let mut extended = false;
    if args.first() == Some(&b'(') {
        let close = args.iter().position(|&b| b == b')')?;
        let options = String::from_utf8_lossy(&args[1..close]).to_ascii_uppercase();
        for option in options.split_ascii_whitespace() {
            match option {
                "SUBSCRIBED" => {
                    request.subscribed_only = true;
                    request.return_subscribed = true;
                }
                "SPECIAL-USE" => request.special_use_only = true,
                // REMOTE, RECURSIVEMATCH: nothing to do for a single server.
                _ => {}
            }
        }
        args = args.get(close + 1..)?.strip_prefix(b" ")?;
        extended = true;
    }
    let mut line = args.strip_suffix(b"\r\n")?;
    let upper = line.to_ascii_uppercase();
    if let Some(at) = find_last(&upper, b" RETURN (") {
        if !line.ends_with(b")") {
            return None;
        }
        let options = String::from_utf8_lossy(&upper[at + 9..]).into_owned();
        if options.contains("SUBSCRIBED") {
            request.return_subscribed = true;
        }
        if let Some(start) = options.find("STATUS (") {
            let rest = &options[start + 8..];
            let items = &rest[..rest.find(')')?];
            for item in items.split_ascii_whitespace() {
                request.status.push(match item {
                    "MESSAGES" => StatusDataItemName::Messages,
                    "RECENT" => StatusDataItemName::Recent,
                    "UIDNEXT" => StatusDataItemName::UidNext,
                    "UIDVALIDITY" => StatusDataItemName::UidValidity,
                    "UNSEEN" => StatusDataItemName::Unseen,
                    "DELETED" => StatusDataItemName::Deleted,
                    "SIZE" => StatusDataItemName::Size,
                    "HIGHESTMODSEQ" => StatusDataItemName::HighestModSeq,
                    _ => return None,
                });
            }
        }
        line = &line[..at];
        extended = true;
    }
    if !extended {
        return None;
    }
    let mut plain = format!("{tag} LIST ").into_bytes();
    plain.extend_from_slice(line);
    plain.extend_from_slice(b"\r\n");
    let (rest, command) = CommandCodec::default().decode(&plain).ok()?;
    if !rest.is_empty() {
        return None;
    }
    let CommandBody::List {
        reference,
        mailbox_wildcard,
    } = command.body
    else {
        return None;
    };
    let plain = ListRequest::new(&reference, &mailbox_wildcard);
    request.reference = plain.reference;
    request.pattern = plain.pattern;
    Some((tag, request))
}

fn find_last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        let m = |p: &str, n: &str| matches(&p.chars().collect::<Vec<_>>(), n);
        for (pattern, name, want) in [
            ("*", "INBOX", true),
            ("*", "Công văn/Đến", true),
            ("%", "Công văn/Đến", false),
            ("%", "Sent", true),
            ("Công văn/%", "Công văn/Đến", true),
            ("Công văn/%", "Công văn", false),
            ("Công văn*", "Công văn", true),
            ("inbox", "INBOX", true),
            ("Inbox/%", "INBOX/a", true),
            ("sent", "Sent", false),
            ("S%t", "Sent", true),
            ("*/*", "a/b/c", true),
            ("%/%", "a/b/c", false),
            ("", "INBOX", false),
        ] {
            assert_eq!(m(pattern, name), want, "{pattern} vs {name}");
        }
        let long = "*%".repeat(200);
        assert!(m(&long, &"a/".repeat(200)));
    }

    #[test]
    fn extended_list_forms() {
        let parsed = |s: &str| parse_extended(s.as_bytes());
        let (tag, r) = parsed("7 LIST (SPECIAL-USE) \"\" \"*\"\r\n").unwrap();
        assert_eq!(tag, "7");
        assert!(r.special_use_only && r.pattern == "*" && r.reference.is_empty());
        let (_, r) = parsed("8 list \"\" \"%\" RETURN (SUBSCRIBED CHILDREN)\r\n").unwrap();
        assert!(r.return_subscribed && !r.subscribed_only && r.pattern == "%");
        let (_, r) = parsed("9 LIST (SUBSCRIBED) \"\" * RETURN (STATUS (MESSAGES))\r\n").unwrap();
        assert!(r.subscribed_only);
        assert_eq!(r.status, vec![StatusDataItemName::Messages]);
        let (_, r) =
            parsed("9 LIST \"\" \"*\" RETURN (CHILDREN STATUS (UNSEEN HIGHESTMODSEQ))\r\n")
                .unwrap();
        assert_eq!(
            r.status,
            vec![
                StatusDataItemName::Unseen,
                StatusDataItemName::HighestModSeq
            ]
        );
        assert_eq!(parsed("1 LIST \"\" \"*\"\r\n"), None);
        assert_eq!(parsed("1 LIST (SPECIAL-USE) \"\" (\"a\" \"b\")\r\n"), None);
        assert_eq!(parsed("1 FETCH (x) \"\" \"*\"\r\n"), None);
    }
}
