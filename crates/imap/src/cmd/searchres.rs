//! SEARCHRES (RFC 5182; part of IMAP4rev2, RFC 9051 §6.4.4.1): `SEARCH RETURN (SAVE)` keeps
//! its result in the selected mailbox's view, and a later command names it `$`.
//!
//! ```text
//! C: a UID SEARCH RETURN (SAVE) FROM datnv
//! S: a OK SEARCH completed
//! C: b UID FETCH $ (FLAGS)
//! C: c SEARCH $ SUBJECT "bao cao"
//! ```
//!
//! imap-codec knows no `$`, so before a command is parsed [`substitute`] writes the saved
//! result in its place: the UIDs for a UID command, the current sequence numbers for the
//! others, and `UID <uids>` inside search criteria. An empty result makes FETCH, STORE, COPY,
//! MOVE and UID EXPUNGE succeed without doing anything, and matches nothing in a search.
//! SELECT, EXAMINE, CLOSE and UNSELECT forget the result (it lives in the view); a failed
//! SEARCH with SAVE empties it.

use hopthu_model::Uid;

use crate::selected::Selected;

/// What to run instead of a command that used `$`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Substituted {
    /// The command with `$` written out.
    Command(Vec<u8>),
    /// `$` is empty: answer `tag OK verb completed` and do nothing (`uid`: a UID command,
    /// after which an EXPUNGE may be reported).
    NothingToDo {
        tag: String,
        verb: String,
        uid: bool,
    },
}

/// The command with `$` replaced, or `None` when it has no `$` to replace (or no mailbox is
/// selected, or it is not a command that takes a message set).
pub(crate) fn substitute(bytes: &[u8], selected: Option<&Selected>) -> Option<Substituted> {
    if !bytes.contains(&b'$') {
        return None;
    }
    let selected = selected?;
    let words: Vec<&[u8]> = bytes.splitn(4, |&b| b == b' ').collect();
    let (tag, uid, verb) = match words.as_slice() {
        [tag, first, second, ..] if first.eq_ignore_ascii_case(b"UID") => (*tag, true, *second),
        [tag, first, ..] => (*tag, false, *first),
        _ => return None,
    };
    let verb = String::from_utf8_lossy(verb).to_ascii_uppercase();
    let searching = matches!(verb.as_str(), "SEARCH" | "SORT" | "THREAD");
    let takes_set =
        matches!(verb.as_str(), "FETCH" | "STORE" | "COPY" | "MOVE") || (uid && verb == "EXPUNGE");
    if !searching && !takes_set {
        return None;
    }
    let markers = markers(bytes);
    if markers.is_empty() {
        return None;
    }
    let uids = selected.saved.as_slice();
    let mut out = Vec::with_capacity(bytes.len() + 16);
    let mut at = 0;
    for marker in markers {
        let mut start = marker;
        let replacement = if searching {
            // `UID $` and `$` both stand for the saved messages.
            if start >= 4 && bytes[start - 4..start].eq_ignore_ascii_case(b"UID ") {
                start -= 4;
            }
            if uids.is_empty() {
                "(NOT ALL)".to_string()
            } else {
                format!("UID {}", super::compact_numbers(uids.iter().map(|u| u.0)))
            }
        } else {
            let numbers: Vec<u32> = if uid {
                uids.iter().map(|u| u.0).collect()
            } else {
                uids.iter()
                    .filter_map(|&u| selected.index_of(u))
                    .map(|i| i as u32 + 1)
                    .collect()
            };
            if numbers.is_empty() {
                let tag = crate::framing::recover_tag(tag)?;
                return Some(Substituted::NothingToDo { tag, verb, uid });
            }
            super::compact_numbers(numbers)
        };
        out.extend_from_slice(&bytes[at..start]);
        out.extend_from_slice(replacement.as_bytes());
        at = marker + 1;
    }
    out.extend_from_slice(&bytes[at..]);
    Some(Substituted::Command(out))
}

/// Positions of the `$` markers: a lone `$` between spaces or parentheses, outside quoted
/// strings and literals (a keyword such as `$Forwarded` is not one).
fn markers(bytes: &[u8]) -> Vec<usize> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'{' => {
                // `{n}` / `{n+}` / `~{n}` followed by CRLF and n octets.
                let close = bytes[i..].iter().position(|&b| b == b'}').map(|p| i + p);
                let length = close.and_then(|c| {
                    std::str::from_utf8(&bytes[i + 1..c])
                        .ok()?
                        .trim_end_matches(['+', '-'])
                        .parse::<usize>()
                        .ok()
                });
                match (close, length) {
                    (Some(c), Some(n)) if bytes.get(c + 1..c + 3) == Some(b"\r\n") => {
                        i = (c + 3).saturating_add(n);
                    }
                    _ => i += 1,
                }
            }
            b'$' => {
                let before = i.checked_sub(1).map(|p| bytes[p]);
                let after = bytes.get(i + 1).copied();
                if matches!(before, Some(b' ' | b'('))
                    && matches!(after, Some(b' ' | b')' | b'\r') | None)
                {
                    found.push(i);
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    found
}

/// The result a `SEARCH RETURN (... SAVE)` keeps (RFC 5182 §2.4): MIN and/or MAX alone keep
/// just those; otherwise everything found.
pub(crate) fn to_save(found: &[Uid], min: bool, max: bool, all_or_count: bool) -> Vec<Uid> {
    if all_or_count || !(min || max) {
        return found.to_vec();
    }
    let mut kept = Vec::new();
    if min && let Some(first) = found.first() {
        kept.push(*first);
    }
    if max
        && let Some(last) = found.last()
        && kept.last() != Some(last)
    {
        kept.push(*last);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use hopthu_core::MessageIndex;
    use hopthu_model::{Flags, MailboxId};

    fn view(uids: &[u32], saved: &[u32]) -> Selected {
        let index = MessageIndex {
            uids: uids.iter().map(|&u| Uid(u)).collect(),
            modseqs: vec![1; uids.len()],
            flags: vec![0; uids.len()],
            flag_sets: vec![Flags::default()],
            highestmodseq: 1,
        };
        let mut v = Selected::new(MailboxId(1), "INBOX".into(), false, 1, index);
        v.saved = saved.iter().map(|&u| Uid(u)).collect();
        v
    }

    fn run(line: &str, v: &Selected) -> Option<String> {
        match substitute(line.as_bytes(), Some(v))? {
            Substituted::Command(c) => Some(String::from_utf8(c).unwrap()),
            Substituted::NothingToDo { tag, verb, .. } => Some(format!("{tag} OK {verb}")),
        }
    }

    #[test]
    fn dollar_is_written_out() {
        let v = view(&[3, 5, 8, 9, 20], &[5, 8, 9, 11]);
        let run = |l: &str| run(l, &v);
        assert_eq!(
            run("a UID FETCH $ (FLAGS)\r\n").unwrap(),
            "a UID FETCH 5,8:9,11 (FLAGS)\r\n"
        );
        // Sequence numbers of what is still there (UID 11 is gone).
        assert_eq!(
            run("b FETCH $ (FLAGS)\r\n").unwrap(),
            "b FETCH 2:4 (FLAGS)\r\n"
        );
        assert_eq!(
            run("c STORE $ +FLAGS (\\Seen)\r\n").unwrap(),
            "c STORE 2:4 +FLAGS (\\Seen)\r\n"
        );
        assert_eq!(
            run("d uid move $ Trash\r\n").unwrap(),
            "d uid move 5,8:9,11 Trash\r\n"
        );
        assert_eq!(
            run("e UID EXPUNGE $\r\n").unwrap(),
            "e UID EXPUNGE 5,8:9,11\r\n"
        );
        assert_eq!(
            run("f SEARCH $ SUBJECT \"$\"\r\n").unwrap(),
            "f SEARCH UID 5,8:9,11 SUBJECT \"$\"\r\n"
        );
        assert_eq!(
            run("g UID SEARCH OR UID $ (FLAGGED)\r\n").unwrap(),
            "g UID SEARCH OR UID 5,8:9,11 (FLAGGED)\r\n"
        );
        assert_eq!(run("h SEARCH (KEYWORD $Forwarded)\r\n"), None);
        assert_eq!(run("i APPEND INBOX {3}\r\n$ $\r\n"), None);
        assert_eq!(run("j SEARCH BODY {1}\r\n$ ALL\r\n"), None);
        assert_eq!(run("k NOOP $\r\n"), None);
    }

    #[test]
    fn an_empty_result_does_nothing() {
        let v = view(&[3, 5], &[]);
        assert_eq!(run("a UID FETCH $ (FLAGS)\r\n", &v).unwrap(), "a OK FETCH");
        assert_eq!(run("b COPY $ Trash\r\n", &v).unwrap(), "b OK COPY");
        assert_eq!(run("c SEARCH $\r\n", &v).unwrap(), "c SEARCH (NOT ALL)\r\n");
        let gone = view(&[3, 5], &[4]);
        assert_eq!(
            run("d STORE $ +FLAGS (\\Seen)\r\n", &gone).unwrap(),
            "d OK STORE"
        );
        assert_eq!(substitute(b"e FETCH $ FLAGS\r\n", None), None);
    }

    /// Hand-parsed input never panics: random lines made of the characters that matter.
    #[test]
    fn random_lines_never_panic() {
        let v = view(&[1, 2, 3], &[2]);
        let alphabet = b"$ ()\"\\{}+~0123456789\r\nUIDFETCHSEARCHLISTRETURNSUBSCRIBED*%&";
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 40) as usize;
            let mut line = b"t1 ".to_vec();
            let mut x = seed;
            for _ in 0..len {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                line.push(alphabet[(x >> 33) as usize % alphabet.len()]);
            }
            line.extend_from_slice(b"\r\n");
            let _ = substitute(&line, Some(&v));
            let _ = crate::cmd::list::parse_extended(&line, seed.is_multiple_of(2));
            let _ = crate::cmd::unauthenticate::parse(&line);
            let _ = crate::cmd::create::parse_extended(&line, false);
            let _ = crate::cmd::search::parse_extended(&line);
        }
        assert_eq!(
            markers(b"a FETCH {99999999999999999999}\r\n$\r\n"),
            Vec::<usize>::new()
        );
        assert_eq!(
            markers(b"a FETCH {18446744073709551615}\r\n $\r\n"),
            Vec::<usize>::new()
        );
    }

    #[test]
    fn min_and_max_alone_save_only_themselves() {
        let found: Vec<Uid> = [2, 4, 6].into_iter().map(Uid).collect();
        assert_eq!(to_save(&found, true, false, false), vec![Uid(2)]);
        assert_eq!(to_save(&found, true, true, false), vec![Uid(2), Uid(6)]);
        assert_eq!(to_save(&found, true, false, true), found);
        assert_eq!(to_save(&found, false, false, false), found);
        assert_eq!(to_save(&[Uid(3)], true, true, false), vec![Uid(3)]);
    }
}
