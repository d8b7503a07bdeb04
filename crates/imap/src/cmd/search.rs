//! SEARCH and UID SEARCH (RFC 3501 §6.4.4). Text criteria (FROM, TO, CC, BCC, SUBJECT,
//! HEADER, BODY, TEXT) match decoded text, ignoring case and Vietnamese diacritics
//! (`hopthu_model::text::search_fold`): "dat" finds "Đạt". Dates: BEFORE/ON/SINCE use the
//! internal date in the server's time zone, SENT* the Date header as written. `\Recent` is not
//! kept, so RECENT and NEW match nothing and OLD everything. CHARSET may be UTF-8 or US-ASCII.
//!
//! ```text
//! C: a SEARCH CHARSET UTF-8 UNSEEN SUBJECT "bao cao" SINCE 1-Feb-2024
//! S: * SEARCH 2 84 882
//! S: a OK SEARCH completed
//! C: b UID SEARCH OR FROM datnv NOT SEEN
//! S: * SEARCH 4827 4831
//! ```

use std::cell::OnceCell;
use std::num::NonZeroU32;

use chrono::NaiveDate;
use hopthu_core::MessageRecord;
use hopthu_model::Flag;
use hopthu_model::text::search_fold;
use imap_codec::imap_types::core::{AString, Charset};
use imap_codec::imap_types::response::Data;
use imap_codec::imap_types::search::SearchKey;
use mail_parser::{HeaderValue, Message, PartType};

use crate::errors::{CmdError, CmdResult, Done};
use crate::mime::{Mime, fields, unfold};
use crate::selected::Selected;
use crate::session::Session;

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
    if let Some(charset) = charset {
        let name = match charset {
            Charset::Atom(a) => a.inner().to_string(),
            Charset::Quoted(q) => q.inner().to_string(),
        };
        if !name.eq_ignore_ascii_case("UTF-8") && !name.eq_ignore_ascii_case("US-ASCII") {
            let allowed = ["UTF-8", "US-ASCII"]
                .into_iter()
                .filter_map(|c| {
                    imap_codec::imap_types::core::Atom::try_from(c)
                        .ok()
                        .map(Charset::Atom)
                })
                .collect();
            return Err(CmdError::No(
                Some(imap_codec::imap_types::response::Code::BadCharset { allowed }),
                "Only UTF-8 searches are supported".into(),
            ));
        }
    }
    let content = criteria
        .iter()
        .map(content_needed)
        .max()
        .unwrap_or(Content::Nothing);
    let selected = s.selected()?;
    let mut hits: Vec<NonZeroU32> = Vec::new();
    for (index, record) in selected.messages.iter().enumerate() {
        let raw = if content > Content::Nothing {
            match s.core.message_bytes(&record.blob).await {
                Ok(raw) => Some(raw),
                Err(e) => {
                    tracing::warn!(uid = record.uid.0, error = %e, "message unreadable during SEARCH");
                    None
                }
            }
        } else {
            None
        };
        let mime = raw.as_deref().map(|raw| match content {
            Content::Everything => Mime::parse(raw),
            _ => Mime::parse_headers(raw),
        });
        let candidate = Candidate {
            selected,
            index,
            record,
            mime: mime.as_ref(),
            header_text: OnceCell::new(),
            body_text: OnceCell::new(),
        };
        if criteria.iter().all(|key| candidate.matches(key)) {
            let n = if uid { record.uid.0 } else { index as u32 + 1 };
            hits.extend(NonZeroU32::new(n));
        }
    }
    s.push_data(Data::Search(hits, None));
    Done::ok("SEARCH completed")
}

struct Candidate<'a> {
    selected: &'a Selected,
    index: usize,
    record: &'a MessageRecord,
    mime: Option<&'a Mime<'a>>,
    /// Every header, raw and decoded, folded.
    header_text: OnceCell<String>,
    /// Every text part, decoded, folded.
    body_text: OnceCell<String>,
}

impl Candidate<'_> {
    fn matches(&self, key: &SearchKey<'_>) -> bool {
        use SearchKey as K;
        let flags = &self.record.flags;
        match key {
            K::And(keys) => keys.as_ref().iter().all(|k| self.matches(k)),
            K::Or(a, b) => self.matches(a) || self.matches(b),
            K::Not(k) => !self.matches(k),
            K::All | K::Old => true,
            K::New | K::Recent => false,
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
            K::Larger(n) => self.record.size > *n,
            K::Smaller(n) => self.record.size < *n,
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
            // MODSEQ and the like are not offered.
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    fn message(&self) -> Option<&Message<'_>> {
        self.mime.and_then(|m| m.message())
    }

    fn internal_date(&self) -> Option<NaiveDate> {
        chrono::DateTime::from_timestamp(self.record.internal_date, 0)
            .map(|d| d.with_timezone(&chrono::Local).date_naive())
    }

    /// The Date header's calendar date as written; the internal date when there is none.
    fn sent_date(&self) -> Option<NaiveDate> {
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
        let selected = Selected {
            id: hopthu_model::MailboxId(1),
            name: "INBOX".into(),
            read_only: false,
            uidvalidity: 1,
            messages: vec![record.clone()],
            modseq: 1,
        };
        let mime = Mime::parse(raw);
        let candidate = Candidate {
            selected: &selected,
            index: 0,
            record: &record,
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
    }
}
