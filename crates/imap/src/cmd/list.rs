//! LIST and LSUB (RFC 3501 §6.3.8, §6.3.9; RFC 9051 §6.3.9) with CHILDREN (RFC 3348),
//! SPECIAL-USE (RFC 6154) attributes and LIST-EXTENDED (RFC 5258). The hierarchy separator is
//! "/"; `*` matches anything, `%` anything but "/". INBOX matches case-insensitively.
//!
//! ```text
//! C: a LIST "" "*"
//! S: * LIST (\HasNoChildren) "/" INBOX
//! S: * LIST (\HasNoChildren \Sent) "/" Sent
//! S: a OK LIST completed
//! C: b LIST (SPECIAL-USE) "" "*"
//! C: c LIST "" "%" RETURN (SUBSCRIBED CHILDREN)
//! C: d LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"
//! S: * LIST () "/" "Cong van" ("CHILDINFO" ("SUBSCRIBED"))
//! S: * LIST (\Subscribed \NonExistent) "/" "Da xoa"
//! C: e LIST "" ("INBOX" "Sent")
//! ```
//!
//! Subscriptions are names (`Core::subscriptions`): one whose mailbox is gone is listed by
//! LIST (SUBSCRIBED) as `\NonExistent` and by LSUB as `\Noselect`. The extended forms
//! (selection and RETURN options, several patterns) are not parsed by imap-codec;
//! [`parse_extended`] reads them by hand.

use std::collections::{BTreeMap, BTreeSet};

use hopthu_core::MailboxRecord;
use imap_codec::encode::Encoder;
use imap_codec::imap_types::core::{Atom, QuotedChar};
use imap_codec::imap_types::flag::FlagNameAttribute;
use imap_codec::imap_types::mailbox::{ListMailbox, Mailbox};
use imap_codec::imap_types::response::{Data, Response};
use imap_codec::imap_types::status::StatusDataItemName;

use super::{mailbox_name, wire_mailbox};
use crate::errors::{CmdError, CmdResult, Done};
use crate::session::Session;

/// A LIST request, plain or extended.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ListRequest {
    reference: String,
    /// One pattern, or several (RFC 5258 §3: `LIST "" ("INBOX" "Sent")`).
    patterns: Vec<String>,
    /// Selection option SUBSCRIBED (RFC 5258).
    subscribed_only: bool,
    /// Selection option SPECIAL-USE (RFC 6154 §5.1).
    special_use_only: bool,
    /// Selection option RECURSIVEMATCH (RFC 5258 §3.5): parents of subscribed mailboxes the
    /// pattern does not reach are listed with CHILDINFO.
    recursive_match: bool,
    /// RETURN (SUBSCRIBED): mark subscribed mailboxes `\Subscribed`.
    return_subscribed: bool,
    /// Whether `\HasChildren`/`\HasNoChildren` are sent: asked for by RETURN (CHILDREN), or
    /// a LIST without selection or return options (RFC 5258 §4: the server MAY send them
    /// unasked; with options, answers are as §5's examples, without them).
    children: bool,
    /// RETURN (STATUS (...)) (RFC 5819): a STATUS response after each selectable mailbox.
    status: Vec<StatusDataItemName>,
}

impl ListRequest {
    /// The one mailbox of that name (IMAP4rev2 SELECT's LIST response), or `None` when the
    /// name would match as a pattern.
    pub(crate) fn exact(name: &str) -> Option<ListRequest> {
        (!name.contains(['%', '*'])).then(|| ListRequest {
            patterns: vec![name.to_string()],
            children: true,
            ..ListRequest::default()
        })
    }

    pub(crate) fn new(
        reference: &Mailbox<'_>,
        pattern: &ListMailbox<'_>,
        utf8: bool,
    ) -> ListRequest {
        let pattern = match pattern {
            ListMailbox::Token(t) => t.as_ref().to_vec(),
            ListMailbox::String(s) => s.as_ref().to_vec(),
        };
        ListRequest {
            reference: mailbox_name(reference, utf8),
            patterns: vec![wire_name(&pattern, utf8)],
            children: true,
            ..ListRequest::default()
        }
    }
}

/// A name or pattern as the client sent it, in UTF-8 (see [`mailbox_name`]).
fn wire_name(bytes: &[u8], utf8: bool) -> String {
    if utf8 {
        String::from_utf8_lossy(bytes).into_owned()
    } else {
        crate::mutf7::from_wire(bytes)
    }
}

/// One line of the answer.
#[derive(Default)]
struct Entry<'a> {
    mailbox: Option<&'a MailboxRecord>,
    subscribed: bool,
    /// Listed only because a subscribed descendant lies beyond the pattern (CHILDINFO), or
    /// listed and has such a descendant.
    child_info: bool,
    /// A level of the shared namespace (`Shared`, `Shared/<unit address>`), not a mailbox.
    namespace_level: bool,
}

pub(crate) async fn run(s: &mut Session, request: ListRequest, lsub: bool) -> CmdResult {
    let principal = s.principal()?;
    let delimiter = QuotedChar::try_from('/').ok();
    let verb = if lsub { "LSUB" } else { "LIST" };
    if request.recursive_match && !request.subscribed_only {
        // RFC 5258 §3: RECURSIVEMATCH alone (or with REMOTE only) is BAD, whatever the
        // pattern; of the selection options offered here only SUBSCRIBED gives it a meaning.
        return Err(CmdError::Bad(
            "RECURSIVEMATCH needs the SUBSCRIBED selection option".into(),
        ));
    }
    if request.patterns.iter().all(String::is_empty) && !lsub {
        // RFC 3501 §6.3.8: the hierarchy delimiter and root name.
        s.push_data(Data::List {
            items: vec![FlagNameAttribute::Noselect],
            delimiter,
            mailbox: Mailbox::try_from("").expect("empty name"),
        });
        return Done::ok("LIST completed");
    }
    let patterns: Vec<Vec<char>> = request
        .patterns
        .iter()
        .map(|p| format!("{}{p}", request.reference).chars().collect())
        .collect();
    let matches_any = |name: &str| patterns.iter().any(|p| matches(p, name));
    let mailboxes = s.core.mailboxes(&principal).await?;
    let by_name: BTreeMap<&str, &MailboxRecord> =
        mailboxes.iter().map(|m| (m.name.as_str(), m)).collect();
    let subscriptions: BTreeSet<String> =
        if lsub || request.subscribed_only || request.return_subscribed {
            s.core
                .subscriptions(&principal)
                .await?
                .into_iter()
                .collect()
        } else {
            BTreeSet::new()
        };

    // What is listed, by name.
    let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
    if lsub || request.subscribed_only {
        for name in &subscriptions {
            let mailbox = by_name.get(name.as_str()).copied();
            if request.special_use_only && mailbox.is_none_or(|m| m.special_use.is_none()) {
                continue;
            }
            if matches_any(name) {
                let entry = entries.entry(name.clone()).or_default();
                entry.mailbox = mailbox;
                entry.subscribed = true;
                continue;
            }
            // RFC 3501 §6.3.9 (LSUB with "%") and RFC 5258 §3.5 (RECURSIVEMATCH): the
            // ancestors the pattern reaches stand for the subscribed name it does not.
            if !lsub && !request.recursive_match {
                continue;
            }
            let mut end = name.len();
            while let Some(at) = name[..end].rfind('/') {
                end = at;
                let parent = &name[..end];
                if matches_any(parent) {
                    let entry = entries.entry(parent.to_string()).or_default();
                    entry.mailbox = by_name.get(parent).copied();
                    entry.subscribed = subscriptions.contains(parent);
                    entry.child_info = true;
                }
            }
        }
    } else {
        // The shared namespace's own levels (`Shared`, `Shared/<unit address>`) are names,
        // not mailboxes: listed `\Noselect` (RFC 3501 §7.2.2) when the pattern reaches them.
        if !request.special_use_only {
            for mailbox in &mailboxes {
                let Some(rest) = mailbox
                    .name
                    .strip_prefix(hopthu_core::shared::SHARED_ROOT)
                    .and_then(|r| r.strip_prefix('/'))
                else {
                    continue;
                };
                let unit_level = rest.split('/').next().unwrap_or_default();
                let root = hopthu_core::shared::SHARED_ROOT.to_string();
                for level in [root.clone(), format!("{root}/{unit_level}")] {
                    if matches_any(&level) && !by_name.contains_key(level.as_str()) {
                        entries.entry(level).or_insert(Entry {
                            mailbox: None,
                            subscribed: false,
                            child_info: false,
                            namespace_level: true,
                        });
                    }
                }
            }
        }
        for mailbox in &mailboxes {
            if !matches_any(&mailbox.name)
                || (request.special_use_only && mailbox.special_use.is_none())
            {
                continue;
            }
            entries.insert(
                mailbox.name.clone(),
                Entry {
                    mailbox: Some(mailbox),
                    subscribed: subscriptions.contains(&mailbox.name),
                    child_info: false,
                    namespace_level: false,
                },
            );
        }
    }

    // INBOX first, the rest by name.
    let mut order: Vec<(&String, &Entry)> = entries.iter().collect();
    order.sort_by_key(|(name, _)| (name.as_str() != "INBOX", *name));
    for (name, entry) in order {
        let mut items = Vec::new();
        if lsub {
            // RFC 3501 §6.3.9: a name that is not a selectable mailbox is \Noselect.
            if entry.mailbox.is_none() || !entry.subscribed {
                items.push(FlagNameAttribute::Noselect);
            }
        } else {
            match entry.mailbox {
                Some(mailbox) => {
                    if let Some(special) = mailbox.special_use {
                        items.push(attribute(special.as_str().trim_start_matches('\\')));
                    }
                }
                None if entry.namespace_level => items.push(FlagNameAttribute::Noselect),
                // RFC 9051 §7.3.1: \NonExistent implies \Noselect.
                None => items.push(attribute("NonExistent")),
            }
            if request.children {
                // A name that is no mailbox may still have children (RFC 5258 §5 example 11:
                // `(\NonExistent \HasChildren)`).
                let prefix = format!("{name}/");
                let children = by_name
                    .range(prefix.as_str()..)
                    .next()
                    .is_some_and(|(n, _)| n.starts_with(&prefix));
                items.push(attribute(if children {
                    "HasChildren"
                } else {
                    "HasNoChildren"
                }));
            }
            if entry.subscribed && (request.subscribed_only || request.return_subscribed) {
                items.push(attribute("Subscribed"));
            }
        }
        let data = if lsub {
            Data::Lsub {
                items,
                delimiter,
                mailbox: wire_mailbox(name, s.utf8),
            }
        } else {
            Data::List {
                items,
                delimiter,
                mailbox: wire_mailbox(name, s.utf8),
            }
        };
        if entry.child_info && !lsub {
            // RFC 5258 §3.5: `("CHILDINFO" ("SUBSCRIBED"))` after the name.
            push_extended(s, data, br#"("CHILDINFO" ("SUBSCRIBED"))"#);
        } else {
            s.push_data(data);
        }
        if !lsub
            && !request.status.is_empty()
            && let Some(mailbox) = entry.mailbox
        {
            super::status::push_status(s, mailbox.id, &request.status).await?;
        }
    }
    Done::ok(&format!("{verb} completed"))
}

/// A LIST response with extended data after the name (RFC 5258 §3.5, RFC 9051 §7.3.1),
/// which imap-types has no field for.
fn push_extended(s: &mut Session, data: Data<'_>, extended: &[u8]) {
    let mut line = imap_codec::ResponseCodec::default()
        .encode(&Response::Data(data))
        .dump();
    line.truncate(line.len().saturating_sub(2));
    line.push(b' ');
    line.extend_from_slice(extended);
    line.extend_from_slice(b"\r\n");
    s.wire.push_raw(&line);
}

/// RFC 9051 §6.3.4/§6.3.6: when CREATE or RENAME stored a name other than the one sent (the
/// core keeps names in Unicode NFC), an IMAP4rev2 client is told with
/// `* LIST () "/" stored ("OLDNAME" ("as sent"))`.
pub(crate) fn push_oldname(s: &mut Session, stored: &str, sent: &str) {
    let sent = sent.trim_end_matches('/');
    if !s.rev2 || stored == sent {
        return;
    }
    let data = Data::List {
        items: Vec::new(),
        delimiter: QuotedChar::try_from('/').ok(),
        mailbox: wire_mailbox(stored, s.utf8),
    };
    let quoted = sent.replace('\\', "\\\\").replace('"', "\\\"");
    push_extended(s, data, format!("(\"OLDNAME\" (\"{quoted}\"))").as_bytes());
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

/// A token of an extended LIST: an atom or quoted string (unquoted), or a parenthesis.
#[derive(Debug, PartialEq, Eq)]
enum Token {
    Word(Vec<u8>),
    Open,
    Close,
}

/// Splits the arguments of an extended LIST into tokens; `None` for literals or a broken
/// quoted string (the command then gets BAD).
fn tokens(mut input: &[u8]) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    while let Some(&b) = input.first() {
        match b {
            b' ' => input = &input[1..],
            b'(' => {
                out.push(Token::Open);
                input = &input[1..];
            }
            b')' => {
                out.push(Token::Close);
                input = &input[1..];
            }
            b'"' => {
                let (word, used) = crate::framing::quoted_string(input)?;
                out.push(Token::Word(word));
                input = &input[used..];
            }
            b'{' | b'\r' | b'\n' => return None,
            _ => {
                let end = input
                    .iter()
                    .position(|&c| matches!(c, b' ' | b'(' | b')' | b'"' | b'\r' | b'\n'))
                    .unwrap_or(input.len());
                out.push(Token::Word(input[..end].to_vec()));
                input = &input[end..];
            }
        }
    }
    Some(out)
}

/// `tag LIST [(selection options)] reference (pattern | (pattern ...)) [RETURN (options)]`
/// (RFC 5258, RFC 9051 §6.3.9), which imap-codec does not parse. `None` when the command is
/// not an extended LIST (it then gets the ordinary parse error).
pub(crate) fn parse_extended(bytes: &[u8], utf8: bool) -> Option<(String, ListRequest)> {
    let tag_end = bytes.iter().position(|&b| b == b' ')?;
    let tag = crate::framing::recover_tag(&bytes[..tag_end])?;
    let rest = &bytes[tag_end + 1..];
    if rest.len() < 5 || !rest[..5].eq_ignore_ascii_case(b"LIST ") {
        return None;
    }
    let tokens = tokens(rest[5..].strip_suffix(b"\r\n")?)?;
    let mut tokens = tokens.into_iter().peekable();
    let upper = |w: &[u8]| String::from_utf8_lossy(w).to_ascii_uppercase();
    let mut request = ListRequest::default();
    let mut extended = false;
    // Any selection or return option at all (`LIST () "" "*"` is a plain LIST).
    let mut options = false;
    if tokens.next_if_eq(&Token::Open).is_some() {
        extended = true;
        loop {
            match tokens.next()? {
                Token::Close => break,
                Token::Word(w) => {
                    options = true;
                    match upper(&w).as_str() {
                        "SUBSCRIBED" => {
                            request.subscribed_only = true;
                            request.return_subscribed = true;
                        }
                        "SPECIAL-USE" => request.special_use_only = true,
                        "RECURSIVEMATCH" => request.recursive_match = true,
                        // One server: nothing is remote.
                        "REMOTE" => {}
                        _ => return None,
                    }
                }
                Token::Open => return None,
            }
        }
    }
    let Token::Word(reference) = tokens.next()? else {
        return None;
    };
    let name = |w: &[u8]| {
        if w.eq_ignore_ascii_case(b"INBOX") {
            "INBOX".to_string()
        } else {
            wire_name(w, utf8)
        }
    };
    request.reference = if reference.is_empty() {
        String::new()
    } else {
        name(&reference)
    };
    match tokens.next()? {
        Token::Word(pattern) => request.patterns.push(wire_name(&pattern, utf8)),
        Token::Open => {
            extended = true;
            loop {
                match tokens.next()? {
                    Token::Word(pattern) => request.patterns.push(wire_name(&pattern, utf8)),
                    Token::Close if !request.patterns.is_empty() => break,
                    _ => return None,
                }
            }
        }
        Token::Close => return None,
    }
    if let Some(Token::Word(word)) = tokens.next() {
        if upper(&word) != "RETURN" || tokens.next()? != Token::Open {
            return None;
        }
        extended = true;
        loop {
            let token = tokens.next()?;
            options |= matches!(token, Token::Word(_));
            match token {
                Token::Close => break,
                Token::Word(w) => match upper(&w).as_str() {
                    "SUBSCRIBED" => request.return_subscribed = true,
                    "CHILDREN" => request.children = true,
                    // Special-use attributes are always returned.
                    "SPECIAL-USE" => {}
                    "STATUS" => {
                        if tokens.next()? != Token::Open {
                            return None;
                        }
                        while let Token::Word(item) = tokens.next()? {
                            request.status.push(match upper(&item).as_str() {
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
                    _ => return None,
                },
                Token::Open => return None,
            }
        }
    }
    if tokens.next().is_some() || !extended {
        return None;
    }
    request.children |= !options;
    Some((tag, request))
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
        let parsed = |s: &str| parse_extended(s.as_bytes(), false);
        let (tag, r) = parsed("7 LIST (SPECIAL-USE) \"\" \"*\"\r\n").unwrap();
        assert_eq!(tag, "7");
        assert!(r.special_use_only && r.patterns == ["*"] && r.reference.is_empty());
        let (_, r) = parsed("8 list \"\" \"%\" RETURN (SUBSCRIBED CHILDREN)\r\n").unwrap();
        assert!(r.return_subscribed && !r.subscribed_only && r.patterns == ["%"]);
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
        let (_, r) = parsed("1 LIST (SPECIAL-USE) \"\" (\"a\" \"b\")\r\n").unwrap();
        assert_eq!(r.patterns, ["a", "b"]);
        let (_, r) = parsed("2 LIST \"\" (INBOX \"C&APQ-ng v&AQM-n/%\")\r\n").unwrap();
        assert_eq!(r.patterns, ["INBOX", "Công văn/%"]);
        let (_, r) = parsed("3 LIST (SUBSCRIBED RECURSIVEMATCH) inbox %\r\n").unwrap();
        assert!(r.recursive_match && r.subscribed_only && r.reference == "INBOX");
        let (_, r) = parse_extended("4 LIST \"\" (\"Công văn\")\r\n".as_bytes(), true).unwrap();
        assert_eq!(r.patterns, ["Công văn"]);
        assert_eq!(parsed("1 LIST \"\" ()\r\n"), None);
        assert_eq!(parsed("1 LIST (BOGUS) \"\" *\r\n"), None);
        assert_eq!(parsed("1 LIST \"\" * RETURN (STATUS (MESSAGES)\r\n"), None);
        assert_eq!(parsed("1 LIST \"\" {3}\r\n"), None);
        assert_eq!(parsed("1 FETCH (x) \"\" \"*\"\r\n"), None);
        // Child attributes: asked for, or a LIST without options (RFC 5258 §4, §5).
        let children = |s: &str| parsed(s).unwrap().1.children;
        assert!(children("1 LIST \"\" \"%\" RETURN (CHILDREN)\r\n"));
        assert!(children("1 LIST () \"\" \"%\"\r\n"));
        assert!(children("1 LIST \"\" \"%\" RETURN ()\r\n"));
        assert!(children("1 LIST \"\" (\"INBOX\" \"%\")\r\n"));
        assert!(!children("1 LIST (SUBSCRIBED) \"\" \"*\"\r\n"));
        assert!(!children("1 LIST \"\" \"*\" RETURN (SUBSCRIBED)\r\n"));
        assert!(children(
            "1 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\" RETURN (CHILDREN)\r\n"
        ));
    }
}
