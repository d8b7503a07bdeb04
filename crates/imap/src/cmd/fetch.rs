//! FETCH and UID FETCH (RFC 3501 §6.4.5): FLAGS, UID, INTERNALDATE, RFC822.SIZE, ENVELOPE,
//! BODYSTRUCTURE, BODY, `BODY[section]<partial>` and `BODY.PEEK[...]`, RFC822,
//! RFC822.HEADER, RFC822.TEXT, and the macros ALL, FAST, FULL.
//!
//! ```text
//! C: a FETCH 1:2 (UID FLAGS BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])
//! S: * 1 FETCH (UID 41 FLAGS (\Seen) BODY[HEADER.FIELDS (FROM SUBJECT)] {58}
//! S: From: ...
//! S: )
//! C: b UID FETCH 41 BODY[1.2]<0.2048>
//! S: * 1 FETCH (UID 41 BODY[1.2]<0> {2048} ... FLAGS (\Seen))
//! ```
//!
//! Sections are cut from the stored bytes (see `mime.rs`), so `BODY[]` returns the message
//! exactly as stored. A fetch of a body section without `.PEEK` (and RFC822, RFC822.TEXT)
//! sets `\Seen` first and reports the new FLAGS in the same response, unless the mailbox
//! was opened with EXAMINE. A section that does not exist is NIL.

use std::borrow::Cow;
use std::collections::HashSet;
use std::num::{NonZeroU32, NonZeroU64};

use hopthu_model::{Flag, FlagOp, Flags, Uid};
use imap_codec::imap_types::command::FetchModifier;
use imap_codec::imap_types::core::{IString, Literal, LiteralMode, NString, NString8, Vec1};
use imap_codec::imap_types::datetime::DateTime;
use imap_codec::imap_types::extensions::binary::Literal8;
use imap_codec::imap_types::fetch::{
    MacroOrMessageDataItemNames, MessageDataItem, MessageDataItemName, Section,
};
use imap_codec::imap_types::response::{Data, Response};
use imap_codec::imap_types::sequence::SequenceSet;

use super::flag_fetch;
use crate::errors::{CmdError, CmdResult, Done};
use crate::mime::Mime;
use crate::session::Session;

/// Messages whose records are read from the store in one query.
const FETCH_CHUNK: usize = 256;
/// Message files read per blocking-pool trip, and the bytes after which a batch stops growing.
const READ_BATCH: usize = 64;
const READ_BATCH_BYTES: u64 = 4 * 1024 * 1024;

/// How much of a message the requested items need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Content {
    Nothing,
    /// The raw bytes and the top-level header.
    Headers,
    /// The MIME structure too.
    Everything,
}

fn content_needed(name: &MessageDataItemName<'_>) -> Content {
    use MessageDataItemName as N;
    match name {
        N::Uid | N::Flags | N::InternalDate | N::Rfc822Size => Content::Nothing,
        N::Envelope | N::Rfc822 | N::Rfc822Header | N::Rfc822Text => Content::Headers,
        N::BodyExt { section, .. } => match section {
            None
            | Some(Section::Header(None))
            | Some(Section::HeaderFields(None, _))
            | Some(Section::HeaderFieldsNot(None, _))
            | Some(Section::Text(None)) => Content::Headers,
            Some(_) => Content::Everything,
        },
        _ => Content::Everything,
    }
}

pub(crate) async fn run(
    s: &mut Session,
    set: &SequenceSet,
    items: MacroOrMessageDataItemNames<'_>,
    uid: bool,
    modifiers: &[FetchModifier],
) -> CmdResult {
    let principal = s.principal()?;
    let mut changed_since = None;
    let mut vanished = false;
    for modifier in modifiers {
        match modifier {
            FetchModifier::ChangedSince(m) => changed_since = Some(m.get()),
            FetchModifier::Vanished => vanished = true,
        }
    }
    // RFC 7162 §3.2.6: VANISHED only in UID FETCH, with CHANGEDSINCE, once QRESYNC is on.
    if vanished && (!uid || !s.qresync || changed_since.is_none()) {
        return Err(CmdError::Bad(
            "VANISHED needs UID FETCH, CHANGEDSINCE and ENABLE QRESYNC".into(),
        ));
    }
    let mut names: Vec<MessageDataItemName<'_>> = match &items {
        MacroOrMessageDataItemNames::Macro(m) => m.expand(),
        MacroOrMessageDataItemNames::MessageDataItemNames(names) => names.clone(),
    };
    // RFC 3501 §6.4.8: UID FETCH always returns the UID.
    if uid && !names.contains(&MessageDataItemName::Uid) {
        names.insert(0, MessageDataItemName::Uid);
    }
    // RFC 7162 §3.1.4.1: CHANGEDSINCE implies MODSEQ; either enables CONDSTORE.
    if changed_since.is_some() && !names.contains(&MessageDataItemName::ModSeq) {
        names.push(MessageDataItemName::ModSeq);
    }
    if names.contains(&MessageDataItemName::ModSeq) {
        s.condstore = true;
    }
    let selected = s.selected()?;
    let (id, read_only) = (selected.id, selected.read_only);
    let mut positions = selected.resolve(set, uid).map_err(CmdError::Bad)?;
    if let Some(since) = changed_since {
        positions.retain(|&i| selected.modseq_at(i) > since);
    }
    if vanished && let Some(since) = changed_since {
        // UIDs of the set expunged after `since` (RFC 7162 §3.2.6).
        let max_uid = selected.max_uid().map_or(0, |u| u.0);
        let changes = s.core.changes_since(&principal, id, since).await?;
        let mut gone: Vec<Uid> = changes
            .expunged
            .into_iter()
            .filter(|u| super::select::set_contains(set, u.0, max_uid.max(u.0)))
            .filter(|u| s.selected().is_ok_and(|sel| sel.index_of(*u).is_none()))
            .collect();
        s.push_vanished(&mut gone, true);
    }
    let selected = s.selected()?;

    // Mark \Seen before answering, so FLAGS in the response are the new ones.
    let marks_seen = !read_only
        && names.iter().any(|n| {
            matches!(
                n,
                MessageDataItemName::BodyExt { peek: false, .. }
                    | MessageDataItemName::Binary { peek: false, .. }
                    | MessageDataItemName::Rfc822
                    | MessageDataItemName::Rfc822Text
            )
        });
    let mut newly_seen: HashSet<Uid> = HashSet::new();
    if marks_seen {
        let unseen: Vec<Uid> = positions
            .iter()
            .filter(|&&i| !selected.flags(i).contains(&Flag::Seen))
            .map(|&i| selected.uid(i))
            .collect();
        if !unseen.is_empty() {
            let seen = Flags::from_iter([Flag::Seen]);
            let outcome = s
                .core
                .store_flags(&principal, id, &unseen, FlagOp::Add, &seen, None)
                .await?;
            newly_seen = outcome.changed.iter().map(|m| m.uid).collect();
            s.selected_mut()?.set_flags(&outcome.changed);
        }
    }

    let content = names
        .iter()
        .map(content_needed)
        .max()
        .unwrap_or(Content::Nothing);
    let wants_flags = names.contains(&MessageDataItemName::Flags);
    let wants_modseq = names.contains(&MessageDataItemName::ModSeq);
    // Blob, size and date are not in the view: read from the store per chunk, only when an
    // item needs them. `FETCH 1:* (UID FLAGS)` is answered from the view alone.
    let needs_record = content > Content::Nothing
        || names.iter().any(|n| {
            matches!(
                n,
                MessageDataItemName::InternalDate | MessageDataItemName::Rfc822Size
            )
        });
    let mut missing = false;
    let mut unknown_cte: Option<String> = None;
    for chunk in positions.chunks(FETCH_CHUNK) {
        let records = if needs_record {
            super::records_at(s, chunk).await?
        } else {
            vec![None; chunk.len()]
        };
        // The files of the chunk, read in batches of a bounded size (one blocking-pool trip
        // per batch instead of one per message).
        let mut bodies: Vec<Option<Vec<u8>>> = Vec::with_capacity(chunk.len());
        if content > Content::Nothing {
            let mut at = 0;
            while at < records.len() {
                let mut end = at;
                let mut bytes = 0u64;
                while end < records.len()
                    && end - at < READ_BATCH
                    && (end == at || bytes < READ_BATCH_BYTES)
                {
                    bytes += records[end].as_ref().map_or(0, |r| u64::from(r.size));
                    end += 1;
                }
                let wanted: Vec<_> = records[at..end]
                    .iter()
                    .flatten()
                    .map(|r| r.blob.clone())
                    .collect();
                let mut read = s.core.messages_bytes(wanted).await?.into_iter();
                for record in &records[at..end] {
                    bodies.push(match record {
                        Some(_) => read.next().transpose()?,
                        None => None,
                    });
                }
                at = end;
            }
        } else {
            bodies.resize(chunk.len(), None);
        }
        for ((&i, record), raw) in chunk.iter().zip(records).zip(bodies) {
            if needs_record && record.is_none() {
                // Expunged by another session since this view was taken (RFC 9051 §7.1
                // EXPUNGEISSUED): what the view knows is still sent.
                missing = true;
            }
            let selected = s.selected()?;
            let (uid, flags, modseq) = (
                selected.uid(i),
                selected.flags(i).clone(),
                selected.modseq_at(i),
            );
            let recent = !s.rev2 && selected.is_recent(uid);
            let mime = raw.as_deref().map(|raw| {
                if content == Content::Everything {
                    Mime::parse(raw)
                } else {
                    Mime::parse_headers(raw)
                }
            });
            let mut items: Vec<MessageDataItem<'_>> = Vec::with_capacity(names.len() + 1);
            // BINARY partials: the item's position and its origin octet (imap-types has no
            // field for it; `push_fetch` writes `BINARY[n]<origin>`).
            let mut origins: Vec<(usize, Option<u32>)> = Vec::new();
            for name in &names {
                let item = match (name, &mime) {
                    (MessageDataItemName::Uid, _) => match NonZeroU32::new(uid.0) {
                        Some(u) => MessageDataItem::Uid(u),
                        None => continue,
                    },
                    (MessageDataItemName::Flags, _) => {
                        MessageDataItem::Flags(flag_fetch(&flags, recent))
                    }
                    (MessageDataItemName::InternalDate, _) => {
                        match record.as_ref().and_then(|r| internal_date(r.internal_date)) {
                            Some(d) => MessageDataItem::InternalDate(d),
                            None => continue,
                        }
                    }
                    (MessageDataItemName::Rfc822Size, _) => match &record {
                        Some(r) => MessageDataItem::Rfc822Size(r.size),
                        None => continue,
                    },
                    #[allow(unreachable_patterns)]
                    (MessageDataItemName::ModSeq, _) => match NonZeroU64::new(modseq) {
                        Some(m) => MessageDataItem::ModSeq(m),
                        None => continue,
                    },
                    (_, None) => continue,
                    (MessageDataItemName::Envelope, Some(m)) => {
                        MessageDataItem::Envelope(m.envelope())
                    }
                    (MessageDataItemName::BodyStructure, Some(m)) => {
                        MessageDataItem::BodyStructure(m.body_structure(true))
                    }
                    (MessageDataItemName::Body, Some(m)) => {
                        MessageDataItem::Body(m.body_structure(false))
                    }
                    (
                        MessageDataItemName::BodyExt {
                            section, partial, ..
                        },
                        Some(m),
                    ) => {
                        let (origin, data) = match m.section(section.as_ref()) {
                            Some(bytes) => {
                                let (origin, bytes) = cut(bytes, *partial);
                                (origin, body_string(bytes))
                            }
                            None => (partial.map(|p| p.0), NString(None)),
                        };
                        MessageDataItem::BodyExt {
                            section: section.clone(),
                            origin,
                            data,
                        }
                    }
                    (MessageDataItemName::Rfc822, Some(m)) => {
                        MessageDataItem::Rfc822(body_string(m.section(None).unwrap_or_default()))
                    }
                    (MessageDataItemName::Rfc822Header, Some(m)) => {
                        MessageDataItem::Rfc822Header(body_string(Cow::Borrowed(m.header())))
                    }
                    (MessageDataItemName::Rfc822Text, Some(m)) => {
                        MessageDataItem::Rfc822Text(body_string(Cow::Borrowed(m.text())))
                    }
                    // RFC 3516: the part decoded; BINARY.SIZE its decoded length.
                    (
                        MessageDataItemName::Binary {
                            section, partial, ..
                        },
                        Some(m),
                    ) => match m.binary(section) {
                        Ok(Some(bytes)) => {
                            let (origin, bytes) = cut(bytes, *partial);
                            origins.push((items.len(), origin));
                            // literal8 only for what a literal cannot carry (NUL, RFC 3516 §4.2).
                            let value = if bytes.contains(&0) {
                                NString8::Literal8(Literal8 {
                                    data: Cow::Owned(bytes.into_owned()),
                                    mode: LiteralMode::Sync,
                                })
                            } else {
                                NString8::NString(body_string(Cow::Owned(bytes.into_owned())))
                            };
                            MessageDataItem::Binary {
                                section: section.clone(),
                                value,
                            }
                        }
                        Ok(None) => MessageDataItem::Binary {
                            section: section.clone(),
                            value: NString8::NString(NString(None)),
                        },
                        Err(e) => {
                            unknown_cte = Some(e);
                            continue;
                        }
                    },
                    (MessageDataItemName::BinarySize { section }, Some(m)) => {
                        match m.binary(section) {
                            Ok(bytes) => MessageDataItem::BinarySize {
                                section: section.clone(),
                                size: bytes.map_or(0, |b| b.len() as u32),
                            },
                            Err(e) => {
                                unknown_cte = Some(e);
                                continue;
                            }
                        }
                    }
                };
                items.push(item);
            }
            if newly_seen.contains(&uid) && !wants_flags {
                items.push(MessageDataItem::Flags(flag_fetch(&flags, recent)));
                // RFC 7162 §3.2: a flag change shown under CONDSTORE carries its modseq.
                if s.condstore
                    && !wants_modseq
                    && let Some(m) = NonZeroU64::new(modseq)
                {
                    items.push(MessageDataItem::ModSeq(m));
                }
            }
            let (Some(seq), Ok(items)) = (NonZeroU32::new(i as u32 + 1), Vec1::try_from(items))
            else {
                continue;
            };
            push_fetch(s, seq, items, &origins);
            s.wire.flush_if_large().await?;
        }
    }
    if let Some(message) = unknown_cte {
        return Err(CmdError::No(
            Some(crate::errors::code("UNKNOWN-CTE")),
            message,
        ));
    }
    if missing {
        return Err(CmdError::No(
            Some(crate::errors::code("EXPUNGEISSUED")),
            "Some messages were expunged meanwhile / mot so thu da bi xoa".into(),
        ));
    }
    Done::ok("FETCH completed")
}

/// `<start.length>` (RFC 3501 §6.4.5): the origin to report and the bytes.
/// `* n FETCH (...)`. With a BINARY partial among the items (RFC 3516 §4.2:
/// `BINARY[1]<0> {7}`), each item is encoded alone and the origin written after its section.
fn push_fetch(
    s: &mut Session,
    seq: NonZeroU32,
    items: Vec1<MessageDataItem<'_>>,
    origins: &[(usize, Option<u32>)],
) {
    if origins.iter().all(|(_, origin)| origin.is_none()) {
        s.push_data(Data::Fetch { seq, items });
        return;
    }
    let head = format!("* {seq} FETCH (");
    let mut out = head.clone().into_bytes();
    for (k, item) in items.into_inner().into_iter().enumerate() {
        let mut one = Vec::new();
        crate::wire::encode_into(
            &Response::Data(Data::Fetch {
                seq,
                items: Vec1::from(item),
            }),
            &mut one,
        );
        // `* n FETCH (` item `)\r\n`
        let Some(body) = one
            .strip_prefix(head.as_bytes())
            .and_then(|b| b.strip_suffix(b")\r\n"))
        else {
            continue;
        };
        if k > 0 {
            out.push(b' ');
        }
        let origin = origins
            .iter()
            .find(|(at, _)| *at == k)
            .and_then(|(_, o)| *o);
        match (origin, body.iter().position(|&b| b == b']')) {
            // `BINARY[1.2]` then `<origin>`: the section holds only digits and dots.
            (Some(origin), Some(close)) => {
                out.extend_from_slice(&body[..=close]);
                out.extend_from_slice(format!("<{origin}>").as_bytes());
                out.extend_from_slice(&body[close + 1..]);
            }
            _ => out.extend_from_slice(body),
        }
    }
    out.extend_from_slice(b")\r\n");
    s.wire.push_raw(&out);
}

fn cut(bytes: Cow<'_, [u8]>, partial: Option<(u32, NonZeroU32)>) -> (Option<u32>, Cow<'_, [u8]>) {
    let Some((start, length)) = partial else {
        return (None, bytes);
    };
    let start_at = (start as usize).min(bytes.len());
    let end = start_at
        .saturating_add(length.get() as usize)
        .min(bytes.len());
    let cut = match bytes {
        Cow::Borrowed(b) => Cow::Borrowed(&b[start_at..end]),
        Cow::Owned(v) => Cow::Owned(v[start_at..end].to_vec()),
    };
    (Some(start), cut)
}

/// Message bytes as a literal, borrowed from the stored message when possible. A literal may
/// not contain NUL (RFC 3501 §4.3); the rare message that does gets 0x80 in its place, as
/// other servers do.
fn body_string(bytes: Cow<'_, [u8]>) -> NString<'_> {
    if bytes.is_empty() {
        return NString(Some(IString::try_from("").expect("empty quoted string")));
    }
    let literal = if bytes.contains(&0) {
        let data: Vec<u8> = bytes
            .iter()
            .map(|&b| if b == 0 { 0x80 } else { b })
            .collect();
        Literal::try_from(data)
    } else {
        match bytes {
            Cow::Borrowed(b) => Literal::try_from(b),
            Cow::Owned(v) => Literal::try_from(v),
        }
    };
    match literal {
        Ok(literal) => NString(Some(IString::Literal(literal))),
        Err(_) => NString(None),
    }
}

/// INTERNALDATE in the server's time zone.
fn internal_date(timestamp: i64) -> Option<DateTime> {
    let local = chrono::DateTime::from_timestamp(timestamp, 0)?
        .with_timezone(&chrono::Local)
        .fixed_offset();
    DateTime::try_from(local).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partials() {
        let n = |x| NonZeroU32::new(x).unwrap();
        let digits = || Cow::Borrowed(&b"0123456789"[..]);
        for (partial, want) in [
            (None, (None, &b"0123456789"[..])),
            (Some((2, n(3))), (Some(2), &b"234"[..])),
            (Some((8, n(30))), (Some(8), &b"89"[..])),
            (Some((80, n(3))), (Some(80), &b""[..])),
        ] {
            let (origin, bytes) = cut(digits(), partial);
            assert_eq!((origin, bytes.as_ref()), want, "{partial:?}");
        }
        assert_eq!(
            body_string(Cow::Borrowed(b"a\0b")),
            NString(Some(IString::Literal(
                Literal::try_from(&b"a\x80b"[..]).unwrap()
            )))
        );
    }
}
