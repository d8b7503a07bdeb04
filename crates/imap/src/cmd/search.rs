//! SEARCH and UID SEARCH (RFC 3501 §6.4.4, RFC 9051 §6.4.4). Text criteria (FROM, TO, CC,
//! BCC, SUBJECT, HEADER, BODY, TEXT) match substrings of the decoded text, ignoring case and
//! Vietnamese diacritics (`hopthu_model::text::search_fold`): "dat" finds "Đạt", "eautiful
//! worl" finds "Beautiful World". Dates disregard time and time zone: BEFORE/ON/SINCE compare
//! the calendar date of the internal date in the server's time zone (the zone FETCH
//! INTERNALDATE shows it in; the store keeps no other), SENTBEFORE/SENTON/SENTSINCE the
//! calendar date written in the Date header, in the header's own zone. RECENT, NEW and OLD use
//! the session's `\Recent` set (RFC 3501 §2.3.2). CHARSET may be UTF-8 or US-ASCII.
//!
//! ```text
//! C: a SEARCH CHARSET UTF-8 UNSEEN SUBJECT "bao cao" SINCE 1-Feb-2024
//! S: * SEARCH 2 84 882
//! S: a OK SEARCH completed
//! C: b UID SEARCH OR FROM datnv NOT SEEN
//! S: * SEARCH 4827 4831
//! ```

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};
use std::num::{NonZeroU32, NonZeroU64};

use chrono::NaiveDate;
use hopthu_core::{MessageRecord, SearchField};
use hopthu_model::text::search_fold;
use hopthu_model::{Flag, Uid};
use imap_codec::imap_types::core::{AString, Charset};
use imap_codec::imap_types::response::Data;
use imap_codec::imap_types::search::SearchKey;
use mail_parser::{HeaderValue, Message, PartType};

use crate::errors::{CmdError, CmdResult, Done};
use crate::mime::{Mime, fields, unfold};
use crate::selected::Selected;
use crate::session::Session;

/// Messages whose records are read from the store in one query.
const SEARCH_CHUNK: usize = 1024;

/// How much of a message a criterion needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Content {
    Nothing,
    Headers,
    Everything,
}

fn content_needed(key: &SearchKey<'_>) -> Content {
    use SearchKey as K;
    match key {
        K::And(keys) => keys
            .as_ref()
            .iter()
            .map(content_needed)
            .max()
            .unwrap_or(Content::Nothing),
        K::Or(a, b) => content_needed(a).max(content_needed(b)),
        K::Not(k) => content_needed(k),
        K::Bcc(_)
        | K::Cc(_)
        | K::From(_)
        | K::To(_)
        | K::Subject(_)
        | K::Header(..)
        | K::SentBefore(_)
        | K::SentOn(_)
        | K::SentSince(_) => Content::Headers,
        K::Body(_) | K::Text(_) => Content::Everything,
        _ => Content::Nothing,
    }
}

pub(crate) async fn run(
    s: &mut Session,
    charset: Option<&Charset<'_>>,
    criteria: &[SearchKey<'_>],
    uid: bool,
) -> CmdResult {
    check_charset(charset)?;
    let found = matching(s, criteria).await?;
    let selected = s.selected()?;
    let hits: Vec<NonZeroU32> = found
        .positions
        .iter()
        .filter_map(|&i| NonZeroU32::new(if uid { selected.uid(i).0 } else { i as u32 + 1 }))
        .collect();
    // RFC 7162 §3.1.5: with MODSEQ in the criteria, the highest modseq of the matches.
    let modseq = found
        .modseq
        .then(|| found.highest_modseq(selected))
        .flatten();
    s.push_data(Data::Search(hits, modseq));
    Done::ok("SEARCH completed")
}

/// What `SEARCH RETURN (...)` asks for (RFC 4731 §3); `RETURN ()` means ALL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ReturnOptions {
    pub(crate) min: bool,
    pub(crate) max: bool,
    pub(crate) all: bool,
    pub(crate) count: bool,
    /// SAVE (RFC 5182): keep the result for `$`.
    pub(crate) save: bool,
}

/// `tag [UID] SEARCH RETURN (options) program` (RFC 4731), which imap-codec does not parse:
/// the options are cut out and the plain SEARCH that remains is given back to be parsed by
/// the codec. Returns the tag, the options and the plain command.
pub(crate) fn parse_extended(bytes: &[u8]) -> Option<(String, ReturnOptions, Vec<u8>)> {
    let tag_end = bytes.iter().position(|&b| b == b' ')?;
    let tag = crate::framing::recover_tag(&bytes[..tag_end])?;
    let mut at = tag_end + 1;
    let upper = |from: usize, len: usize| -> Vec<u8> {
        bytes
            .get(from..from + len)
            .map(<[u8]>::to_ascii_uppercase)
            .unwrap_or_default()
    };
    if upper(at, 4) == b"UID " {
        at += 4;
    }
    if upper(at, 14) != b"SEARCH RETURN " {
        return None;
    }
    let open = at + 14;
    if bytes.get(open) != Some(&b'(') {
        return None;
    }
    let close = open + bytes[open..].iter().position(|&b| b == b')')?;
    let mut options = ReturnOptions::default();
    for option in String::from_utf8_lossy(&bytes[open + 1..close])
        .to_ascii_uppercase()
        .split_ascii_whitespace()
    {
        match option {
            "MIN" => options.min = true,
            "MAX" => options.max = true,
            "ALL" => options.all = true,
            "COUNT" => options.count = true,
            "SAVE" => options.save = true,
            _ => return None,
        }
    }
    // RFC 4731 §3.1: `RETURN ()` means ALL; SAVE alone returns nothing (RFC 5182 §2.4).
    if options == ReturnOptions::default() {
        options.all = true;
    }
    let mut plain = bytes[..at + 7].to_vec(); // "tag [UID ]SEARCH "
    plain.extend_from_slice(bytes.get(close + 1..)?.strip_prefix(b" ")?);
    Some((tag, options, plain))
}

/// SEARCH RETURN: one `* ESEARCH (TAG "t") [UID] MIN .. MAX .. COUNT .. ALL ..` response.
pub(crate) async fn run_extended(
    s: &mut Session,
    tag: &str,
    options: ReturnOptions,
    charset: Option<&Charset<'_>>,
    criteria: &[SearchKey<'_>],
    uid: bool,
) -> CmdResult {
    // RFC 5182 §2.1: a SEARCH with SAVE that fails leaves `$` empty.
    let found = match check_charset(charset) {
        Ok(()) => matching(s, criteria).await,
        Err(e) => Err(e),
    };
    if options.save
        && let Some(selected) = s.selected.as_mut()
    {
        selected.saved.clear();
    }
    let found = found?;
    if options.save {
        let selected = s.selected()?;
        let uids: Vec<Uid> = found.positions.iter().map(|&i| selected.uid(i)).collect();
        let kept = super::searchres::to_save(
            &uids,
            options.min,
            options.max,
            options.all || options.count,
        );
        if let Some(selected) = s.selected.as_mut() {
            selected.saved = kept;
        }
        if !(options.min || options.max || options.all || options.count) {
            return Done::ok("SEARCH completed, result saved");
        }
    }
    let selected = s.selected()?;
    let numbers: Vec<u32> = found
        .positions
        .iter()
        .map(|&i| if uid { selected.uid(i).0 } else { i as u32 + 1 })
        .collect();
    let mut line = format!("* ESEARCH (TAG \"{tag}\")");
    if uid {
        line.push_str(" UID");
    }
    if let (true, Some(min)) = (options.min, numbers.first()) {
        line.push_str(&format!(" MIN {min}"));
    }
    if let (true, Some(max)) = (options.max, numbers.last()) {
        line.push_str(&format!(" MAX {max}"));
    }
    if options.count {
        line.push_str(&format!(" COUNT {}", numbers.len()));
    }
    if options.all && !numbers.is_empty() {
        let set = super::compact_numbers(numbers.iter().copied());
        line.push_str(&format!(" ALL {set}"));
    }
    if found.modseq
        && !numbers.is_empty()
        && let Some(modseq) = found.highest_modseq(selected)
    {
        line.push_str(&format!(" MODSEQ {modseq}"));
    }
    line.push_str("\r\n");
    s.wire.push_raw(line.as_bytes());
    Done::ok("SEARCH completed")
}

/// CHARSET may be UTF-8 or US-ASCII (RFC 3501 §6.4.4 BADCHARSET otherwise).
pub(crate) fn check_charset(charset: Option<&Charset<'_>>) -> Result<(), CmdError> {
    let Some(charset) = charset else {
        return Ok(());
    };
    let name = match charset {
        Charset::Atom(a) => a.inner().to_string(),
        Charset::Quoted(q) => q.inner().to_string(),
    };
    if name.eq_ignore_ascii_case("UTF-8") || name.eq_ignore_ascii_case("US-ASCII") {
        return Ok(());
    }
    let allowed = ["UTF-8", "US-ASCII"]
        .into_iter()
        .filter_map(|c| {
            imap_codec::imap_types::core::Atom::try_from(c)
                .ok()
                .map(Charset::Atom)
        })
        .collect();
    Err(CmdError::No(
        Some(imap_codec::imap_types::response::Code::BadCharset { allowed }),
        "Only UTF-8 searches are supported".into(),
    ))
}

/// The messages a SEARCH program matches.
pub(crate) struct Found {
    /// Positions in the selected view, ascending.
    pub(crate) positions: Vec<usize>,
    /// The program had a MODSEQ criterion.
    pub(crate) modseq: bool,
}

impl Found {
    pub(crate) fn highest_modseq(&self, selected: &Selected) -> Option<NonZeroU64> {
        self.positions
            .iter()
            .map(|&i| selected.modseq_at(i))
            .max()
            .and_then(NonZeroU64::new)
    }
}

/// Evaluates a SEARCH program over the selected mailbox. Text criteria are answered by the
/// search index (one query each); flags, sizes, dates, sets and modseqs from the session's
/// view; message files are read only for what the index cannot answer (HEADER of another
/// field, and `HEADER name ""`, "has the header").
pub(crate) async fn matching(
    s: &mut Session,
    criteria: &[SearchKey<'_>],
) -> Result<Found, CmdError> {
    let principal = s.principal()?;
    let mailbox = s.selected()?.id;
    let mut leaves = Vec::new();
    for key in criteria {
        text_leaves(key, &mut leaves);
    }
    let mut context = Context::default();
    for key in leaves {
        let Some((field, needle)) = indexed_field(key) else {
            context.needs_files = true;
            continue;
        };
        let uids = s
            .core
            .search_text(&principal, mailbox, field, &needle)
            .await?;
        context.hits.insert(key_id(key), uids.into_iter().collect());
    }
    if criteria.iter().any(needs_sent_date) {
        let days = s.core.sent_days(&principal, mailbox).await?;
        context.sent = Some(days.into_iter().collect());
    }
    let modseq = criteria.iter().any(has_modseq);
    if modseq {
        // RFC 7162 §3.1: SEARCH MODSEQ is a CONDSTORE enabling command.
        s.condstore = true;
    }
    let content = if context.needs_files {
        criteria
            .iter()
            .map(content_needed)
            .max()
            .unwrap_or(Content::Nothing)
    } else {
        Content::Nothing
    };
    // Size, dates and files are not in the view: read per chunk, only when a key needs them.
    let needs_record = content > Content::Nothing || criteria.iter().any(needs_details);
    let all: Vec<usize> = (0..s.selected()?.count() as usize).collect();
    let mut positions = Vec::new();
    for chunk in all.chunks(SEARCH_CHUNK) {
        let records = if needs_record {
            super::records_at(s, chunk).await?
        } else {
            vec![None; chunk.len()]
        };
        let selected = s.selected()?;
        for (&index, record) in chunk.iter().zip(&records) {
            let raw = match record {
                Some(record) if content > Content::Nothing => {
                    match s.core.message_bytes(&record.blob).await {
                        Ok(raw) => Some(raw),
                        Err(e) => {
                            tracing::warn!(uid = record.uid.0, error = %e, "message unreadable during SEARCH");
                            None
                        }
                    }
                }
                _ => None,
            };
            let mime = raw.as_deref().map(|raw| match content {
                Content::Everything => Mime::parse(raw),
                _ => Mime::parse_headers(raw),
            });
            let candidate = Candidate {
                context: &context,
                selected,
                index,
                record: record.as_ref(),
                mime: mime.as_ref(),
                header_text: OnceCell::new(),
                body_text: OnceCell::new(),
            };
            if criteria.iter().all(|key| candidate.matches(key)) {
                positions.push(index);
            }
        }
    }
    Ok(Found { positions, modseq })
}

/// What the index and the store answered for a SEARCH program.
#[derive(Default)]
struct Context {
    /// UIDs found by the index, per text criterion (keyed by the criterion's address).
    hits: HashMap<usize, HashSet<Uid>>,
    /// The calendar date of the Date header of every message (days since 1970-01-01, in the
    /// header's own zone), when a SENT* criterion needs it.
    sent: Option<HashMap<Uid, Option<i64>>>,
    /// Some criterion must read message files.
    needs_files: bool,
}

fn key_id(key: &SearchKey<'_>) -> usize {
    key as *const SearchKey<'_> as usize
}

/// The text criteria of a program, in order.
fn text_leaves<'k, 'a>(key: &'k SearchKey<'a>, out: &mut Vec<&'k SearchKey<'a>>) {
    use SearchKey as K;
    match key {
        K::And(keys) => keys.as_ref().iter().for_each(|k| text_leaves(k, out)),
        K::Or(a, b) => {
            text_leaves(a, out);
            text_leaves(b, out);
        }
        K::Not(k) => text_leaves(k, out),
        K::Bcc(_)
        | K::Cc(_)
        | K::From(_)
        | K::To(_)
        | K::Subject(_)
        | K::Header(..)
        | K::Body(_)
        | K::Text(_) => out.push(key),
        _ => {}
    }
}

/// The index field and search string of a text criterion the index can answer.
fn indexed_field(key: &SearchKey<'_>) -> Option<(SearchField, String)> {
    use SearchKey as K;
    let text = |v: &AString<'_>| String::from_utf8_lossy(v.as_ref()).into_owned();
    Some(match key {
        K::From(v) => (SearchField::From, text(v)),
        K::To(v) => (SearchField::To, text(v)),
        K::Cc(v) => (SearchField::Cc, text(v)),
        K::Bcc(v) => (SearchField::Bcc, text(v)),
        K::Subject(v) => (SearchField::Subject, text(v)),
        K::Body(v) => (SearchField::Body, text(v)),
        K::Text(v) => (SearchField::Text, text(v)),
        K::Header(name, v) => {
            let field = match String::from_utf8_lossy(name.as_ref())
                .to_ascii_lowercase()
                .as_str()
            {
                "from" => SearchField::From,
                "to" => SearchField::To,
                "cc" => SearchField::Cc,
                "bcc" => SearchField::Bcc,
                "subject" => SearchField::Subject,
                _ => return None,
            };
            // HEADER name "" means "has the header": the files know.
            if v.as_ref().is_empty() {
                return None;
            }
            (field, text(v))
        }
        _ => return None,
    })
}

fn needs_sent_date(key: &SearchKey<'_>) -> bool {
    use SearchKey as K;
    match key {
        K::And(keys) => keys.as_ref().iter().any(needs_sent_date),
        K::Or(a, b) => needs_sent_date(a) || needs_sent_date(b),
        K::Not(k) => needs_sent_date(k),
        K::SentBefore(_) | K::SentOn(_) | K::SentSince(_) => true,
        _ => false,
    }
}

/// Whether a key needs a message's size or internal date (not kept in the view).
fn needs_details(key: &SearchKey<'_>) -> bool {
    use SearchKey as K;
    match key {
        K::And(keys) => keys.as_ref().iter().any(needs_details),
        K::Or(a, b) => needs_details(a) || needs_details(b),
        K::Not(k) => needs_details(k),
        K::Larger(_)
        | K::Smaller(_)
        | K::Before(_)
        | K::On(_)
        | K::Since(_)
        | K::SentBefore(_)
        | K::SentOn(_)
        | K::SentSince(_) => true,
        _ => false,
    }
}

fn has_modseq(key: &SearchKey<'_>) -> bool {
    use SearchKey as K;
    match key {
        K::And(keys) => keys.as_ref().iter().any(has_modseq),
        K::Or(a, b) => has_modseq(a) || has_modseq(b),
        K::Not(k) => has_modseq(k),
        K::ModSequence { .. } => true,
        _ => false,
    }
}

struct Candidate<'a> {
    context: &'a Context,
    selected: &'a Selected,
    index: usize,
    /// Size, date and blob, when a key needs them (`None` also for a message expunged meanwhile).
    record: Option<&'a MessageRecord>,
    mime: Option<&'a Mime<'a>>,
    /// Every header, raw and decoded, folded.
    header_text: OnceCell<String>,
    /// Every text part, decoded, folded.
    body_text: OnceCell<String>,
}

impl Candidate<'_> {
    fn matches(&self, key: &SearchKey<'_>) -> bool {
        use SearchKey as K;
        if let Some(hits) = self.context.hits.get(&key_id(key)) {
            return hits.contains(&self.uid());
        }
        let flags = self.selected.flags(self.index);
        match key {
            K::And(keys) => keys.as_ref().iter().all(|k| self.matches(k)),
            K::Or(a, b) => self.matches(a) || self.matches(b),
            K::Not(k) => !self.matches(k),
            K::All => true,
            K::Recent => self.recent(),
            K::Old => !self.recent(),
            K::New => self.recent() && !flags.contains(&Flag::Seen),
            K::SequenceSet(set) => self.selected.matches_set(set, false, self.index),
            K::Uid(set) => self.selected.matches_set(set, true, self.index),
            K::Answered => flags.contains(&Flag::Answered),
            K::Unanswered => !flags.contains(&Flag::Answered),
            K::Deleted => flags.contains(&Flag::Deleted),
            K::Undeleted => !flags.contains(&Flag::Deleted),
            K::Draft => flags.contains(&Flag::Draft),
            K::Undraft => !flags.contains(&Flag::Draft),
            K::Flagged => flags.contains(&Flag::Flagged),
            K::Unflagged => !flags.contains(&Flag::Flagged),
            K::Seen => flags.contains(&Flag::Seen),
            K::Unseen => !flags.contains(&Flag::Seen),
            K::Keyword(k) => flags.contains(&Flag::Keyword(k.inner().to_string())),
            K::Unkeyword(k) => !flags.contains(&Flag::Keyword(k.inner().to_string())),
            K::Larger(n) => self.record.is_some_and(|r| r.size > *n),
            K::Smaller(n) => self.record.is_some_and(|r| r.size < *n),
            K::Before(d) => self.internal_date().is_some_and(|x| x < *d.as_ref()),
            K::On(d) => self.internal_date().is_some_and(|x| x == *d.as_ref()),
            K::Since(d) => self.internal_date().is_some_and(|x| x >= *d.as_ref()),
            K::SentBefore(d) => self.sent_date().is_some_and(|x| x < *d.as_ref()),
            K::SentOn(d) => self.sent_date().is_some_and(|x| x == *d.as_ref()),
            K::SentSince(d) => self.sent_date().is_some_and(|x| x >= *d.as_ref()),
            K::From(v) => self.address_matches(self.message().and_then(|m| m.from()), v),
            K::To(v) => self.address_matches(self.message().and_then(|m| m.to()), v),
            K::Cc(v) => self.address_matches(self.message().and_then(|m| m.cc()), v),
            K::Bcc(v) => self.address_matches(self.message().and_then(|m| m.bcc()), v),
            K::Subject(v) => {
                let needle = fold(v);
                self.message()
                    .map(|m| search_fold(m.subject().unwrap_or_default()).contains(&needle))
                    .unwrap_or(false)
            }
            K::Header(name, value) => self.header_matches(name, value),
            K::Body(v) => self.body_text().contains(&fold(v)),
            K::Text(v) => {
                let needle = fold(v);
                self.header_text().contains(&needle) || self.body_text().contains(&needle)
            }
            // RFC 7162 §3.1.5 (the per-flag entry is ignored: one modseq per message).
            K::ModSequence { modseq, .. } => self.selected.modseq_at(self.index) >= *modseq,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    fn uid(&self) -> Uid {
        self.selected.uid(self.index)
    }

    /// `\Recent` in this session (never under IMAP4rev2: the view then has none).
    fn recent(&self) -> bool {
        self.selected.is_recent(self.uid())
    }

    fn message(&self) -> Option<&Message<'_>> {
        self.mime.and_then(|m| m.message())
    }

    fn internal_date(&self) -> Option<NaiveDate> {
        chrono::DateTime::from_timestamp(self.record?.internal_date, 0)
            .map(|d| d.with_timezone(&chrono::Local).date_naive())
    }

    /// The calendar date written in the Date header, in its own zone (from the index, or from
    /// the file when the index was not asked). A message without a valid Date header is taken
    /// at its internal date, as RFC 5256 §2.2 has SORT do (RFC 3501 says nothing for SEARCH;
    /// the same rule keeps SEARCH SENT* and SORT DATE in agreement).
    fn sent_date(&self) -> Option<NaiveDate> {
        if let Some(sent) = &self.context.sent {
            return match sent.get(&self.uid()) {
                Some(Some(day)) => {
                    NaiveDate::default().checked_add_signed(chrono::TimeDelta::try_days(*day)?)
                }
                _ => self.internal_date(),
            };
        }
        self.message()
            .and_then(|m| m.date())
            .and_then(|d| {
                NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
            })
            .or_else(|| self.internal_date())
    }

    fn address_matches(
        &self,
        address: Option<&mail_parser::Address<'_>>,
        value: &AString<'_>,
    ) -> bool {
        let needle = fold(value);
        address.is_some_and(|a| search_fold(&address_text(a)).contains(&needle))
    }

    fn header_matches(&self, name: &AString<'_>, value: &AString<'_>) -> bool {
        let Some(mime) = self.mime else {
            return false;
        };
        let name = String::from_utf8_lossy(name.as_ref()).into_owned();
        let needle = fold(value);
        let raw = fields(mime.header())
            .into_iter()
            .filter(|f| f.name.eq_ignore_ascii_case(name.as_bytes()))
            .map(|f| String::from_utf8_lossy(&unfold(f.value)).into_owned());
        let decoded = mime
            .message()
            .and_then(|m| m.parts.first())
            .map(|root| {
                root.headers
                    .iter()
                    .filter(|h| h.name.as_str().eq_ignore_ascii_case(&name))
                    .map(|h| value_text(&h.value))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        raw.chain(decoded)
            .any(|text| search_fold(&text).contains(&needle))
    }

    fn header_text(&self) -> &str {
        self.header_text.get_or_init(|| {
            let Some(mime) = self.mime else {
                return String::new();
            };
            let mut text = String::from_utf8_lossy(mime.header()).into_owned();
            if let Some(root) = mime.message().and_then(|m| m.parts.first()) {
                for header in &root.headers {
                    text.push('\n');
                    text.push_str(&value_text(&header.value));
                }
            }
            search_fold(&text)
        })
    }

    fn body_text(&self) -> &str {
        self.body_text.get_or_init(|| {
            let mut text = String::new();
            if let Some(m) = self.message() {
                collect_text(m, &mut text, 0);
            }
            search_fold(&text)
        })
    }
}

fn fold(value: &AString<'_>) -> String {
    search_fold(&String::from_utf8_lossy(value.as_ref()))
}

/// Names and addresses of an address header.
fn address_text(address: &mail_parser::Address<'_>) -> String {
    let mut out = String::new();
    let mut one = |a: &mail_parser::Addr<'_>| {
        if let Some(name) = &a.name {
            out.push_str(name);
            out.push(' ');
        }
        if let Some(address) = &a.address {
            out.push('<');
            out.push_str(address);
            out.push_str("> ");
        }
    };
    match address {
        mail_parser::Address::List(list) => list.iter().for_each(&mut one),
        mail_parser::Address::Group(groups) => {
            for group in groups {
                group.addresses.iter().for_each(&mut one);
            }
        }
    }
    out
}

/// A decoded header value as text.
fn value_text(value: &HeaderValue<'_>) -> String {
    match value {
        HeaderValue::Text(t) => t.to_string(),
        HeaderValue::TextList(list) => list.join(" "),
        HeaderValue::Address(a) => address_text(a),
        HeaderValue::DateTime(d) => d.to_rfc822(),
        HeaderValue::ContentType(ct) => {
            format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default())
        }
        _ => String::new(),
    }
}

/// The decoded text of every text part, nested messages included.
fn collect_text(m: &Message<'_>, out: &mut String, depth: usize) {
    for part in &m.parts {
        match &part.body {
            PartType::Text(t) | PartType::Html(t) => {
                out.push_str(t);
                out.push('\n');
            }
            PartType::Message(nested) if depth < 5 => {
                if let Some(subject) = nested.subject() {
                    out.push_str(subject);
                    out.push('\n');
                }
                collect_text(nested, out, depth + 1);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hopthu_core::BlobId;
    use hopthu_model::{Flags, Uid};

    fn key(s: &str) -> Vec<SearchKey<'static>> {
        use imap_codec::CommandCodec;
        use imap_codec::decode::Decoder;
        use imap_codec::imap_types::IntoStatic;
        use imap_codec::imap_types::command::CommandBody;
        let line = format!("a SEARCH {s}\r\n");
        let (_, command) = CommandCodec::default().decode(line.as_bytes()).unwrap();
        match command.into_static().body {
            CommandBody::Search { criteria, .. } => criteria.into_inner(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn criteria() {
        let raw = "Date: Wed, 7 Feb 2024 09:00:00 +0700\r\nFrom: \"Nông Văn Đạt\" <datnv@caobang.gov.vn>\r\nTo: hoa@caobang.gov.vn\r\nSubject: =?UTF-8?B?QsOhbyBjw6FvIHF1w70gSQ==?=\r\nX-Priority: 1\r\n\r\nNội dung: họp giao ban thứ Hai.\r\n".as_bytes();
        let record = MessageRecord {
            uid: Uid(7),
            blob: BlobId::of(raw),
            size: raw.len() as u32,
            internal_date: 1_707_300_000, // 2024-02-07 10:00 UTC
            flags: Flags::from_storage("\\Seen $Forwarded"),
            modseq: 1,
        };
        let index = hopthu_core::MessageIndex {
            uids: vec![record.uid],
            modseqs: vec![record.modseq],
            flags: vec![0],
            flag_sets: vec![record.flags.clone()],
            highestmodseq: 1,
        };
        let selected = Selected::new(hopthu_model::MailboxId(1), "INBOX".into(), false, 1, index);
        let mime = Mime::parse(raw);
        let context = Context::default();
        let candidate = Candidate {
            context: &context,
            selected: &selected,
            index: 0,
            record: Some(&record),
            mime: Some(&mime),
            header_text: OnceCell::new(),
            body_text: OnceCell::new(),
        };
        for (criteria, want) in [
            ("ALL", true),
            ("SEEN", true),
            ("UNSEEN", false),
            ("KEYWORD $Forwarded", true),
            ("UNKEYWORD $forwarded", false),
            ("FROM dat", true),
            ("FROM \"nong van dat\"", true),
            ("FROM datnv@caobang", true),
            ("FROM \"atnv@caob\"", true),
            ("FROM \"dat <datnv\"", true),
            ("SUBJECT \"ao cao q\"", true),
            ("BODY \"iao ba\"", true),
            ("TO dat", false),
            ("SUBJECT \"bao cao quy\"", true),
            (&format!("SUBJECT {{{}}}\r\nBÁO CÁO", "BÁO CÁO".len()), true),
            ("BODY \"hop giao ban\"", true),
            ("BODY dat", false),
            ("TEXT dat", true),
            ("HEADER X-Priority 1", true),
            ("HEADER X-Priority \"\"", true),
            ("HEADER X-Mailer \"\"", false),
            ("SENTON 7-Feb-2024", true),
            ("SENTBEFORE 7-Feb-2024", false),
            ("SENTSINCE 1-Feb-2024", true),
            ("SINCE 1-Jan-2024 BEFORE 1-Mar-2024", true),
            ("LARGER 10000", false),
            (&format!("SMALLER {}", raw.len() + 1), true),
            ("OR NEW FLAGGED", false),
            ("NOT OR NEW FLAGGED", true),
            ("(SEEN FROM dat)", true),
            ("UID 7", true),
            ("UID 8:*", true),
            ("1", true),
            ("2:3", false),
        ] {
            let keys = key(criteria);
            assert_eq!(
                keys.iter().all(|k| candidate.matches(k)),
                want,
                "{criteria}"
            );
        }
        // From the index: the Date header's own calendar date, else the internal date.
        for (sent_day, criteria, want) in [
            (Some(19_761), "SENTON 8-Feb-2024", true),
            (Some(19_761), "SENTBEFORE 8-Feb-2024", false),
            (Some(19_761), "SENTSINCE 8-Feb-2024", true),
            (Some(19_761), "SENTON 7-Feb-2024", false),
            (None, "SENTON 7-Feb-2024", true),
        ] {
            let context = Context {
                sent: Some([(record.uid, sent_day)].into_iter().collect()),
                ..Context::default()
            };
            let candidate = Candidate {
                context: &context,
                selected: &selected,
                index: 0,
                record: Some(&record),
                mime: None,
                header_text: OnceCell::new(),
                body_text: OnceCell::new(),
            };
            let keys = key(criteria);
            assert_eq!(
                keys.iter().all(|k| candidate.matches(k)),
                want,
                "{sent_day:?} {criteria}"
            );
        }
    }
}
