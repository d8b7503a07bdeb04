//! SORT and UID SORT (RFC 5256, with DISPLAYFROM/DISPLAYTO of RFC 5957): the messages a
//! SEARCH program matches, ordered by the given keys; ties keep mailbox order.
//!
//! ```text
//! C: a UID SORT (REVERSE DATE SUBJECT) UTF-8 UNSEEN
//! S: * SORT 5 3 4 1 2
//! S: a OK SORT completed
//! ```
//!
//! Keys come from the search index, never from message files: text keys compare the folded
//! text (`search_fold`: no diacritics, lower case), which is the Vietnamese collation users
//! expect ("Đạt" sorts with "dat"). SUBJECT is the base subject of RFC 5256 §2.1 (no `Re:`,
//! `Fwd:`, `[...]` prefixes nor `(fwd)` trailer), shared with THREAD. FROM, TO and CC compare
//! the local part of the first address (§3), DISPLAYFROM and DISPLAYTO its display name, or
//! its address when it has none (RFC 5957 §3). Ties go by sequence number. DATE is the Date
//! header, or the internal date without one (§2.2); ARRIVAL the internal date.

use std::cmp::Ordering;
use std::num::NonZeroU32;

use hopthu_core::SortRow;
use imap_codec::imap_types::core::Charset;
use imap_codec::imap_types::extensions::sort::{SortCriterion, SortKey};
use imap_codec::imap_types::response::Data;
use imap_codec::imap_types::search::SearchKey;

use super::search::{check_charset, matching};
use crate::errors::{CmdResult, Done};
use crate::session::Session;

pub(crate) async fn run(
    s: &mut Session,
    keys: &[SortCriterion],
    charset: &Charset<'_>,
    criteria: &[SearchKey<'_>],
    uid: bool,
) -> CmdResult {
    check_charset(Some(charset))?;
    let found = matching(s, criteria).await?;
    let principal = s.principal()?;
    let id = s.selected()?.id;
    let rows = s.core.sort_rows(&principal, id).await?;
    let selected = s.selected()?;
    // A message not in the rows (expunged meanwhile) sorts with empty keys.
    let empty = SortRow {
        uid: hopthu_model::Uid(0),
        size: 0,
        internal_date: 0,
        sent_at: None,
        from: String::new(),
        to: String::new(),
        cc: String::new(),
        subject: String::new(),
    };
    let mut hits: Vec<(usize, &SortRow)> = found
        .positions
        .iter()
        .map(|&i| {
            let uid = selected.uid(i);
            let row = rows
                .binary_search_by_key(&uid, |r| r.uid)
                .map(|k| &rows[k])
                .unwrap_or(&empty);
            (i, row)
        })
        .collect();
    let subjects: std::collections::HashMap<u32, String> =
        if keys.iter().any(|k| k.key == SortKey::Subject) {
            hits.iter()
                .map(|(_, r)| (r.uid.0, base_subject(&r.subject)))
                .collect()
        } else {
            Default::default()
        };
    hits.sort_by(|(ia, a), (ib, b)| {
        for criterion in keys {
            let order = compare(criterion.key.clone(), a, b, &subjects);
            let order = if criterion.reverse {
                order.reverse()
            } else {
                order
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        ia.cmp(ib)
    });
    let numbers: Vec<NonZeroU32> = hits
        .iter()
        .filter_map(|(i, _)| {
            NonZeroU32::new(if uid {
                selected.uid(*i).0
            } else {
                *i as u32 + 1
            })
        })
        .collect();
    let modseq = found
        .modseq
        .then(|| found.highest_modseq(selected))
        .flatten();
    s.push_data(Data::Sort(numbers, modseq));
    Done::ok("SORT completed")
}

fn compare(
    key: SortKey,
    a: &SortRow,
    b: &SortRow,
    subjects: &std::collections::HashMap<u32, String>,
) -> Ordering {
    match key {
        SortKey::Arrival => a.internal_date.cmp(&b.internal_date),
        SortKey::Date => a
            .sent_at
            .unwrap_or(a.internal_date)
            .cmp(&b.sent_at.unwrap_or(b.internal_date)),
        SortKey::Size => a.size.cmp(&b.size),
        SortKey::From => first_mailbox(&a.from).cmp(first_mailbox(&b.from)),
        SortKey::To => first_mailbox(&a.to).cmp(first_mailbox(&b.to)),
        SortKey::Cc => first_mailbox(&a.cc).cmp(first_mailbox(&b.cc)),
        SortKey::DisplayFrom => first_display(&a.from).cmp(&first_display(&b.from)),
        SortKey::DisplayTo => first_display(&a.to).cmp(&first_display(&b.to)),
        SortKey::Subject => subjects.get(&a.uid.0).cmp(&subjects.get(&b.uid.0)),
    }
}

/// The indexed text of an address header is each address as a header writes it, folded
/// (`hopthu_core::extract_search_text`): `"nong van dat <datnv@x.vn>, b@y.vn"`. The first
/// address is the first word with an `@`, without its angle brackets and comma.
fn first_address(text: &str) -> Option<(usize, &str)> {
    text.split_whitespace()
        .enumerate()
        .find(|(_, word)| word.contains('@'))
        .map(|(at, word)| (at, word.trim_matches(|c| matches!(c, '<' | '>' | ','))))
}

/// The FROM/TO/CC key (RFC 5256 §3): the addr-mailbox (local part) of the first address,
/// case-insensitively (the text is folded); empty when there is none.
fn first_mailbox(text: &str) -> &str {
    first_address(text)
        .and_then(|(_, address)| address.rsplit_once('@'))
        .map_or("", |(local, _)| local)
}

/// The DISPLAYFROM/DISPLAYTO key (RFC 5957 §3): the display name of the first address, or
/// its addr-spec when it has none.
fn first_display(text: &str) -> String {
    let Some((at, address)) = first_address(text) else {
        return text.split_whitespace().collect::<Vec<_>>().join(" ");
    };
    let name: Vec<&str> = text.split_whitespace().take(at).collect();
    if name.is_empty() {
        address.to_string()
    } else {
        name.join(" ")
    }
}

/// The base subject (RFC 5256 §2.1) of an already folded subject: `re:`, `fw:`, `fwd:` (with
/// an optional `[blob]`) and leading `[blob]`s removed, a trailing `(fwd)` removed, repeated
/// until nothing changes; white space collapsed.
pub(crate) fn base_subject(subject: &str) -> String {
    let mut s: String = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    loop {
        let before = s.clone();
        // (2) trailing "(fwd)"
        while let Some(rest) = s.strip_suffix("(fwd)") {
            s = rest.trim_end().to_string();
        }
        // (3) leading "re:" / "fw:" / "fwd:" with an optional [blob], and [blob]s
        loop {
            let t = s.trim_start();
            let mut next = None;
            for prefix in ["fwd", "fw", "re"] {
                if let Some(rest) = t.strip_prefix(prefix) {
                    let rest = rest.trim_start();
                    let rest = skip_blob(rest).unwrap_or(rest);
                    if let Some(rest) = rest.strip_prefix(':') {
                        next = Some(rest.trim_start().to_string());
                        break;
                    }
                }
            }
            if next.is_none()
                && let Some(rest) = skip_blob(t)
                && !rest.trim().is_empty()
            {
                next = Some(rest.trim_start().to_string());
            }
            match next {
                Some(n) => s = n,
                None => break,
            }
        }
        // (6) "[fwd: ... ]"
        if let Some(inner) = s.strip_prefix("[fwd:").and_then(|r| r.strip_suffix(']')) {
            s = inner.trim().to_string();
        }
        if s == before {
            return s;
        }
    }
}

/// `[...]` at the start (no nested brackets): the rest.
fn skip_blob(s: &str) -> Option<&str> {
    let rest = s.strip_prefix('[')?;
    let end = rest.find(']')?;
    if rest[..end].contains('[') {
        return None;
    }
    Some(rest[end + 1..].trim_start())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_subjects() {
        for (subject, want) in [
            ("bao cao thang 3", "bao cao thang 3"),
            ("re: bao cao thang 3", "bao cao thang 3"),
            ("re: re: fwd: bao  cao", "bao cao"),
            ("re[2]: bao cao (fwd)", "bao cao"),
            ("[so tttt] re: giay moi", "giay moi"),
            ("[fwd: giay moi hop]", "giay moi hop"),
            ("[van thu]", "[van thu]"),
            ("", ""),
            // RFC 5256 §2.1, step by step.
            ("re:subject (fwd)", "subject"),
            ("subject (fwd) (fwd)  ", "subject"),
            ("subject(fwd)", "subject"),
            ("re: re: (fwd) (fwd)", ""),
            ("fw: subject", "subject"),
            ("fwd : subject", "subject"),
            ("re [x]: subject", "subject"),
            ("[list] [patch] re: fwd[2]: subject", "subject"),
            ("re: [patch] subject", "subject"),
            ("[a] [b]", "[b]"),
            ("[a] [b] c", "c"),
            ("re: [a]", "[a]"),
            ("[fwd: re: subject]", "subject"),
            ("fwd: [fwd: [fwd: subject (fwd)]]", "subject"),
            ("[fwd: subject", "[fwd: subject"),
            ("\tre:\t  subject\t with   spaces ", "subject with spaces"),
            ("rebate: subject", "rebate: subject"),
            ("fwx: subject", "fwx: subject"),
            ("subject re: inside", "subject re: inside"),
        ] {
            assert_eq!(base_subject(subject), want, "{subject:?}");
        }
    }

    #[test]
    fn address_keys_are_the_first_mailbox_or_display_name() {
        // As `extract_search_text` indexes them: name (if any) then address, folded.
        let one = "zed zz <alpha@x.vn>";
        let two = "bravo@y.vn, nguyen van a <a@z.vn>";
        assert_eq!(first_mailbox(one), "alpha");
        assert_eq!(first_mailbox(two), "bravo");
        assert_eq!(first_mailbox(""), "");
        assert_eq!(first_mailbox("undisclosed-recipients"), "");
        assert_eq!(first_display(one), "zed zz");
        assert_eq!(first_display(two), "bravo@y.vn");
        assert_eq!(first_display(""), "");
        // Local part first, not the name: "zed" sorts after "bravo" by name, before by mailbox.
        assert!(first_mailbox(one) < first_mailbox(two));
        assert!(first_display(one) > first_display(two));
    }
}
