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
//! `Fwd:`, `[...]` prefixes nor `(fwd)` trailer). FROM, TO and CC compare the first address
//! header as indexed (name, then address), as do DISPLAYFROM and DISPLAYTO. DATE is the Date
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
        SortKey::From | SortKey::DisplayFrom => a.from.trim().cmp(b.from.trim()),
        SortKey::To | SortKey::DisplayTo => a.to.trim().cmp(b.to.trim()),
        SortKey::Cc => a.cc.trim().cmp(b.cc.trim()),
        SortKey::Subject => subjects.get(&a.uid.0).cmp(&subjects.get(&b.uid.0)),
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
        ] {
            assert_eq!(base_subject(subject), want, "{subject:?}");
        }
    }
}
