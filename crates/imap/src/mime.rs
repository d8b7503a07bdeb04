//! A stored message seen through IMAP: ENVELOPE, BODYSTRUCTURE and the byte ranges that FETCH
//! sections address (RFC 3501 §6.4.5, §7.4.2).
//!
//! mail-parser splits the message into MIME parts and records where each part's header and
//! body start and end in the raw bytes; sections are cut from those raw bytes, never
//! re-encoded, so `BODY[]` is the stored message byte for byte. A nested `message/rfc822`
//! part's own parts are offsets into its `raw_message`. Raw header fields (for ENVELOPE
//! strings and `HEADER.FIELDS`) are split here, keeping folding and order exactly as stored.

use std::borrow::Cow;

use base64::Engine;
use imap_codec::imap_types::body::{
    BasicFields, Body, BodyStructure, Disposition, Language, Location, MultiPartExtensionData,
    SinglePartExtensionData, SpecificFields,
};
use imap_codec::imap_types::core::{IString, NString, Vec1};
use imap_codec::imap_types::envelope::{Address, Envelope};
use imap_codec::imap_types::fetch::{Part, Section};
use mail_parser::{HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType};

/// Deeper nesting than this is shown as an opaque part (and a hostile message cannot make
/// BODYSTRUCTURE recurse without bound).
const MAX_DEPTH: usize = 20;

/// A parsed stored message.
pub(crate) struct Mime<'a> {
    raw: &'a [u8],
    message: Option<Message<'a>>,
    /// Length of the top-level header block, blank line included.
    header_len: usize,
    /// Parsed with its MIME structure (not only the top-level header).
    full: bool,
}

impl<'a> Mime<'a> {
    /// Parses the whole message (structure and bodies).
    pub(crate) fn parse(raw: &'a [u8]) -> Mime<'a> {
        let message = MessageParser::default().parse(raw);
        let header_len = match message.as_ref().and_then(|m| m.parts.first()) {
            Some(root) => (root.offset_body as usize).min(raw.len()),
            None => header_block(raw).len(),
        };
        Mime {
            raw,
            message,
            header_len,
            full: true,
        }
    }

    /// Parses only the top-level header: enough for ENVELOPE, header searches and the
    /// top-level HEADER, HEADER.FIELDS and TEXT sections.
    pub(crate) fn parse_headers(raw: &'a [u8]) -> Mime<'a> {
        Mime {
            raw,
            message: MessageParser::default().parse_headers(raw),
            header_len: header_block(raw).len(),
            full: false,
        }
    }

    pub(crate) fn message(&self) -> Option<&Message<'a>> {
        self.message.as_ref()
    }

    /// The top-level header block, blank line included.
    pub(crate) fn header(&self) -> &[u8] {
        &self.raw[..self.header_len]
    }

    /// The top-level body.
    pub(crate) fn text(&self) -> &[u8] {
        &self.raw[self.header_len..]
    }

    pub(crate) fn envelope(&self) -> Envelope<'static> {
        match &self.message {
            Some(m) => envelope(m),
            None => envelope_from_fields(&fields(header_block(self.raw)), None),
        }
    }

    /// BODYSTRUCTURE (`extended`) or BODY.
    pub(crate) fn body_structure(&self, extended: bool) -> BodyStructure<'static> {
        match &self.message {
            Some(m) if self.full && !m.parts.is_empty() => structure(m, 0, extended, 0),
            _ => plain_text_structure(self.text(), extended),
        }
    }

    /// BINARY[part] (RFC 3516 §4.2): the part's content with its Content-Transfer-Encoding
    /// undone (7bit, 8bit, binary as they are; base64, quoted-printable decoded). An empty
    /// part number is the whole message. `Ok(None)`: no such part; `Err`: an encoding this
    /// server does not know (`NO [UNKNOWN-CTE]`) or content that does not decode.
    pub(crate) fn binary(
        &self,
        part: &[std::num::NonZeroU32],
    ) -> Result<Option<Cow<'_, [u8]>>, String> {
        let Ok(numbers) = Vec1::try_from(part.to_vec()) else {
            return Ok(Some(Cow::Borrowed(self.raw)));
        };
        let part = Part(numbers);
        let Some(bytes) = self.section(Some(&Section::Part(part.clone()))) else {
            return Ok(None);
        };
        let encoding = match &self.message {
            Some(m) if self.full && !m.parts.is_empty() => resolve(m, &part)
                .and_then(|(m, id)| m.parts.get(id))
                .and_then(|p| p.content_transfer_encoding())
                .map(|e| e.trim().to_ascii_lowercase()),
            _ => None,
        };
        match encoding.as_deref() {
            None | Some("7bit" | "8bit" | "binary") => Ok(Some(bytes)),
            Some("base64") => {
                let clean: Vec<u8> = bytes
                    .iter()
                    .copied()
                    .filter(|b| !b.is_ascii_whitespace())
                    .collect();
                base64::engine::general_purpose::STANDARD
                    .decode(&clean)
                    .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(&clean))
                    .map(|d| Some(Cow::Owned(d)))
                    .map_err(|_| "The part is not valid base64".to_string())
            }
            Some("quoted-printable") => {
                mail_parser::decoders::quoted_printable::quoted_printable_decode(&bytes)
                    .map(|d| Some(Cow::Owned(d)))
                    .ok_or_else(|| "The part is not valid quoted-printable".to_string())
            }
            Some(other) => Err(format!("Unknown Content-Transfer-Encoding {other}")),
        }
    }

    /// The bytes a section addresses (RFC 3501 §6.4.5), or `None` when the part does not
    /// exist. `None` as section is the whole message.
    pub(crate) fn section(&self, section: Option<&Section<'_>>) -> Option<Cow<'_, [u8]>> {
        let Some(section) = section else {
            return Some(Cow::Borrowed(self.raw));
        };
        let (part, spec) = match section {
            Section::Part(p) => (Some(p), Spec::Body),
            Section::Header(p) => (p.as_ref(), Spec::Header),
            Section::HeaderFields(p, names) => (p.as_ref(), Spec::Fields(names.as_ref(), false)),
            Section::HeaderFieldsNot(p, names) => (p.as_ref(), Spec::Fields(names.as_ref(), true)),
            Section::Text(p) => (p.as_ref(), Spec::Text),
            Section::Mime(p) => (Some(p), Spec::Mime),
        };
        let Some(part) = part else {
            // The top-level message.
            return match spec {
                Spec::Header => Some(Cow::Borrowed(self.header())),
                Spec::Fields(names, not) => {
                    Some(Cow::Owned(select_fields(self.header(), names, not)))
                }
                Spec::Text => Some(Cow::Borrowed(self.text())),
                Spec::Body | Spec::Mime => None,
            };
        };
        let message = match &self.message {
            Some(m) if self.full && !m.parts.is_empty() => m,
            // Unparseable: the whole message is one text part.
            _ => {
                return match (part.0.as_ref(), spec) {
                    ([one], Spec::Body) if one.get() == 1 => Some(Cow::Borrowed(self.text())),
                    _ => None,
                };
            }
        };
        let target = resolve(message, part)?;
        match (target, spec) {
            // Part 1 of a message whose body is not multipart is its whole body.
            ((m, 0), Spec::Body) if std::ptr::eq(m, message) => Some(Cow::Borrowed(self.text())),
            ((m, id), Spec::Body) => {
                let p = m.parts.get(id)?;
                Some(Cow::Borrowed(part_body(m, p)))
            }
            ((m, id), Spec::Mime) => {
                let p = m.parts.get(id)?;
                Some(Cow::Borrowed(range(
                    m.raw_message.as_ref(),
                    p.offset_header as usize,
                    p.offset_body as usize,
                )))
            }
            // HEADER, HEADER.FIELDS and TEXT of a part apply to a message/rfc822 part only.
            ((m, id), spec) => {
                let p = m.parts.get(id)?;
                match &p.body {
                    PartType::Message(nested) => {
                        message_spec(nested, spec, nested_end(m, p, nested))
                    }
                    _ => None,
                }
            }
        }
    }
}

enum Spec<'s, 'n> {
    Body,
    Header,
    Fields(&'s [imap_codec::imap_types::core::AString<'n>], bool),
    Text,
    Mime,
}

/// HEADER, HEADER.FIELDS and TEXT of an encapsulated message that ends at `end` of its raw
/// bytes: TEXT runs from its header's end to there, epilogue of a multipart body included.
fn message_spec<'m>(m: &'m Message<'_>, spec: Spec<'_, '_>, end: usize) -> Option<Cow<'m, [u8]>> {
    let raw = m.raw_message.as_ref();
    let root = m.parts.first()?;
    let header = range(raw, root.offset_header as usize, root.offset_body as usize);
    match spec {
        Spec::Header => Some(Cow::Borrowed(header)),
        Spec::Fields(names, not) => Some(Cow::Owned(select_fields(header, names, not))),
        Spec::Text => Some(Cow::Borrowed(range(raw, root.offset_body as usize, end))),
        Spec::Body | Spec::Mime => None,
    }
}

/// Where the message encapsulated in part `p` of `m` ends in its own raw bytes. mail-parser
/// parses a message/rfc822 part in place (the nested message's offsets are into the same
/// bytes, and its root ends at its last boundary, before any epilogue): then it ends where
/// the part does. A part it had to decode first has raw bytes of its own, whole.
fn nested_end(m: &Message<'_>, p: &MessagePart<'_>, nested: &Message<'_>) -> usize {
    let outer = m.raw_message.as_ref();
    let inner = nested.raw_message.as_ref();
    if std::ptr::eq(outer.as_ptr(), inner.as_ptr()) && outer.len() == inner.len() {
        part_end(m, p).min(outer.len())
    } else {
        inner.len()
    }
}

/// Follows a part number such as `2.1.3` (RFC 3501 §6.4.5): in a multipart, `n` is its n-th
/// child; in a message (the top one or a message/rfc822 part), numbering continues with that
/// message's body; a message whose body is not multipart has a single part `1`.
/// Returns the message whose `parts` the part is in, and its index there.
fn resolve<'m, 'a>(top: &'m Message<'a>, part: &Part) -> Option<(&'m Message<'a>, usize)> {
    let mut message = top;
    let mut current: Option<usize> = None;
    for n in part.0.as_ref() {
        let n = n.get() as usize;
        // The container whose children `n` counts.
        let (m, container) = match current {
            None => (message, 0),
            Some(id) => match &message.parts.get(id)?.body {
                PartType::Message(nested) => (nested, 0),
                PartType::Multipart(_) => (message, id),
                _ => return None,
            },
        };
        message = m;
        let container_part = message.parts.get(container)?;
        current = Some(match &container_part.body {
            PartType::Multipart(children) => *children.get(n - 1)? as usize,
            // The single body of a non-multipart message.
            _ if n == 1 && container == 0 => container,
            _ => return None,
        });
    }
    current.map(|id| (message, id))
}

/// The body of a part: its octets between the header and the boundary. The body of the top
/// message runs to the end of the stored bytes.
fn part_body<'m>(m: &'m Message<'_>, p: &MessagePart<'_>) -> &'m [u8] {
    range(
        m.raw_message.as_ref(),
        p.offset_body as usize,
        part_end(m, p),
    )
}

/// Where a part's body ends in its message's raw bytes (see [`part_body`]).
fn part_end(m: &Message<'_>, p: &MessagePart<'_>) -> usize {
    let is_root = m.parts.first().is_some_and(|root| std::ptr::eq(p, root));
    if is_root && (p.offset_end == 0 || p.offset_end < p.offset_body) {
        m.raw_message.len()
    } else {
        p.offset_end as usize
    }
}

/// `raw[start..end]`, clamped.
fn range(raw: &[u8], start: usize, end: usize) -> &[u8] {
    let end = end.min(raw.len());
    let start = start.min(end);
    &raw[start..end]
}

/// The header block of an unparsed message: up to and including the first empty line.
fn header_block(raw: &[u8]) -> &[u8] {
    let mut pos = 0;
    while pos < raw.len() {
        let end = raw[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(raw.len(), |i| pos + i + 1);
        let line = &raw[pos..end];
        pos = end;
        if line == b"\r\n" || line == b"\n" {
            break;
        }
    }
    &raw[..pos]
}

/// One raw header field.
pub(crate) struct Field<'a> {
    pub(crate) name: &'a [u8],
    /// After the colon, folding included.
    pub(crate) value: &'a [u8],
    /// The whole field, line ends included.
    pub(crate) raw: &'a [u8],
}

/// Splits a header block into fields, in order; lines without a colon are skipped.
pub(crate) fn fields(header: &[u8]) -> Vec<Field<'_>> {
    fn finish<'h>(
        header: &'h [u8],
        start: usize,
        colon: usize,
        end: usize,
        out: &mut Vec<Field<'h>>,
    ) {
        out.push(Field {
            name: header[start..colon].trim_ascii(),
            value: &header[colon + 1..end],
            raw: &header[start..end],
        });
    }
    let mut out: Vec<Field<'_>> = Vec::new();
    let mut pos = 0;
    let mut current: Option<(usize, usize)> = None; // (field start, colon)
    while pos < header.len() {
        let end = header[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(header.len(), |i| pos + i + 1);
        let line = &header[pos..end];
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            // Continuation of the current field.
        } else {
            if let Some((start, colon)) = current.take() {
                finish(header, start, colon, pos, &mut out);
            }
            current = line.iter().position(|&b| b == b':').map(|c| (pos, pos + c));
        }
        pos = end;
    }
    if let Some((start, colon)) = current {
        finish(header, start, colon, pos, &mut out);
    }
    out
}

/// `HEADER.FIELDS (names)` or `HEADER.FIELDS.NOT (names)`: the matching fields as stored,
/// then the blank line (RFC 3501 §6.4.5).
fn select_fields(
    header: &[u8],
    names: &[imap_codec::imap_types::core::AString<'_>],
    not: bool,
) -> Vec<u8> {
    let mut out = Vec::new();
    for field in fields(header) {
        let listed = names
            .iter()
            .any(|n| n.as_ref().eq_ignore_ascii_case(field.name));
        if listed != not {
            out.extend_from_slice(field.raw);
            if !field.raw.ends_with(b"\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// A raw field value unfolded and trimmed.
pub(crate) fn unfold(value: &[u8]) -> Vec<u8> {
    let v: Vec<u8> = value
        .iter()
        .copied()
        .filter(|&b| b != b'\r' && b != b'\n')
        .collect();
    v.trim_ascii().to_vec()
}

/// The first field named `name` in a header, unfolded.
fn raw_field(fields: &[Field<'_>], name: &str) -> Option<Vec<u8>> {
    fields
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(name.as_bytes()))
        .map(|f| unfold(f.value))
}

/// An ASCII string as is, anything else as RFC 2047 encoded words, so that envelope and
/// body-structure strings stay 7-bit for every client.
pub(crate) fn encode_words(s: &str) -> String {
    if s.is_ascii() {
        return s.to_string();
    }
    let mut out = String::new();
    let mut chunk = String::new();
    let push = |chunk: &str, out: &mut String| {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str("=?UTF-8?B?");
        out.push_str(&base64::engine::general_purpose::STANDARD.encode(chunk));
        out.push_str("?=");
    };
    for c in s.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            push(&chunk, &mut out);
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        push(&chunk, &mut out);
    }
    out
}

fn istring(s: impl Into<String>) -> IString<'static> {
    let s: String = s.into();
    IString::try_from(s.clone()).unwrap_or_else(|_| {
        // Only NUL is refused in a literal.
        IString::try_from(s.replace('\0', ""))
            .unwrap_or_else(|_| IString::try_from("").expect("empty string"))
    })
}

fn nstring(s: Option<impl Into<String>>) -> NString<'static> {
    NString(s.map(istring))
}

/// An unstructured header value for ENVELOPE: the raw value when it is ASCII (clients decode
/// RFC 2047 themselves), else the decoded text re-encoded as RFC 2047 words.
fn header_string(raw: Option<Vec<u8>>, decoded: Option<&str>) -> NString<'static> {
    let Some(raw) = raw else {
        return NString(None);
    };
    if raw.is_ascii() {
        return nstring(Some(String::from_utf8_lossy(&raw).into_owned()));
    }
    let text = match decoded {
        Some(d) => d.to_string(),
        None => String::from_utf8_lossy(&raw).into_owned(),
    };
    nstring(Some(encode_words(&text)))
}

fn envelope(m: &Message<'_>) -> Envelope<'static> {
    let root = match m.parts.first() {
        Some(root) => root,
        None => return envelope_from_fields(&[], None),
    };
    let raw = m.raw_message.as_ref();
    let header = range(raw, root.offset_header as usize, root.offset_body as usize);
    envelope_from_fields(&fields(header), Some(m))
}

fn envelope_from_fields(fields: &[Field<'_>], m: Option<&Message<'_>>) -> Envelope<'static> {
    let list = |a: Option<&mail_parser::Address<'_>>| a.map(addresses).unwrap_or_default();
    let from = list(m.and_then(|m| m.from()));
    let mut sender = list(m.and_then(|m| m.sender()));
    let mut reply_to = list(m.and_then(|m| m.reply_to()));
    // RFC 3501 §7.4.2: sender and reply-to default to from.
    if sender.is_empty() {
        sender = from.clone();
    }
    if reply_to.is_empty() {
        reply_to = from.clone();
    }
    Envelope {
        date: header_string(raw_field(fields, "Date"), None),
        subject: header_string(raw_field(fields, "Subject"), m.and_then(Message::subject)),
        from,
        sender,
        reply_to,
        to: list(m.and_then(|m| m.to())),
        cc: list(m.and_then(|m| m.cc())),
        bcc: list(m.and_then(|m| m.bcc())),
        in_reply_to: header_string(raw_field(fields, "In-Reply-To"), None),
        message_id: header_string(raw_field(fields, "Message-ID"), None),
    }
}

/// The addresses of an ENVELOPE field (RFC 3501 §7.4.2). A group is its start
/// `(NIL NIL "name" NIL)`, its members, then its end `(NIL NIL NIL NIL)`; an empty group is
/// start and end. What the parser found without an address (a bare phrase, as in a malformed
/// group `g: Joe;`) is not an address and is left out rather than made up.
fn addresses(list: &mail_parser::Address<'_>) -> Vec<Address<'static>> {
    let one = |addr: &mail_parser::Addr<'_>| {
        let a = addr.address.as_deref().filter(|a| !a.trim().is_empty())?;
        let (mailbox, host) = match a.rsplit_once('@') {
            Some((l, d)) => (l.to_string(), d.to_string()),
            // RFC 3501: a NIL host means group syntax, so a bare local part gets "".
            None => (a.to_string(), String::new()),
        };
        Some(Address {
            name: nstring(addr.name.as_deref().map(encode_words)),
            adl: NString(None),
            mailbox: nstring(Some(encode_words(&mailbox))),
            host: nstring(Some(host)),
        })
    };
    match list {
        mail_parser::Address::List(addrs) => addrs.iter().filter_map(one).collect(),
        mail_parser::Address::Group(groups) => {
            let mut out = Vec::new();
            for group in groups {
                let named = group.name.is_some();
                if named {
                    // Group start: (NIL NIL "name" NIL); end: (NIL NIL NIL NIL).
                    out.push(Address {
                        name: NString(None),
                        adl: NString(None),
                        mailbox: nstring(group.name.as_deref().map(encode_words)),
                        host: NString(None),
                    });
                }
                out.extend(group.addresses.iter().filter_map(one));
                if named {
                    out.push(Address {
                        name: NString(None),
                        adl: NString(None),
                        mailbox: NString(None),
                        host: NString(None),
                    });
                }
            }
            out
        }
    }
}

fn count_lines(body: &[u8]) -> u32 {
    let newlines = body.iter().filter(|&&b| b == b'\n').count();
    let unterminated = usize::from(!body.is_empty() && !body.ends_with(b"\n"));
    (newlines + unterminated) as u32
}

fn upper(s: &str) -> String {
    s.to_ascii_uppercase()
}

fn params(
    attributes: Option<&[mail_parser::Attribute<'_>]>,
) -> Vec<(IString<'static>, IString<'static>)> {
    attributes
        .unwrap_or_default()
        .iter()
        .map(|a| (istring(upper(&a.name)), istring(encode_words(&a.value))))
        .collect()
}

fn plain_text_structure(body: &[u8], extended: bool) -> BodyStructure<'static> {
    BodyStructure::Single {
        body: Body {
            basic: BasicFields {
                parameter_list: vec![(istring("CHARSET"), istring("US-ASCII"))],
                id: NString(None),
                description: NString(None),
                content_transfer_encoding: istring("7BIT"),
                size: body.len() as u32,
            },
            specific: SpecificFields::Text {
                subtype: istring("PLAIN"),
                number_of_lines: count_lines(body),
            },
        },
        extension_data: extended.then_some(SinglePartExtensionData {
            md5: NString(None),
            tail: None,
        }),
    }
}

fn disposition(part: &MessagePart<'_>, fields: &[Field<'_>]) -> Disposition<'static> {
    let disposition = part
        .content_disposition()
        .map(|d| (istring(upper(d.ctype())), params(d.attributes())));
    let language: Vec<IString<'static>> = match part.content_language() {
        HeaderValue::Text(t) => vec![istring(t.to_string())],
        HeaderValue::TextList(list) => list.iter().map(|t| istring(t.to_string())).collect(),
        _ => Vec::new(),
    };
    Disposition {
        disposition,
        tail: Some(Language {
            language,
            tail: Some(Location {
                location: nstring(
                    raw_field(fields, "Content-Location")
                        .map(|v| String::from_utf8_lossy(&v).into_owned()),
                ),
                extensions: Vec::new(),
            }),
        }),
    }
}

fn structure(m: &Message<'_>, id: usize, extended: bool, depth: usize) -> BodyStructure<'static> {
    let raw = m.raw_message.as_ref();
    let Some(part) = m.parts.get(id) else {
        return plain_text_structure(b"", extended);
    };
    let header = range(raw, part.offset_header as usize, part.offset_body as usize);
    let fields = fields(header);
    let content_type = part.content_type();
    if let PartType::Multipart(children) = &part.body
        && depth < MAX_DEPTH
    {
        let bodies: Vec<BodyStructure<'static>> = children
            .iter()
            .map(|child| structure(m, *child as usize, extended, depth + 1))
            .collect();
        let bodies = Vec1::try_from(bodies)
            .unwrap_or_else(|_| Vec1::from(plain_text_structure(b"", extended)));
        return BodyStructure::Multi {
            bodies,
            subtype: istring(upper(
                content_type.and_then(|c| c.subtype()).unwrap_or("MIXED"),
            )),
            extension_data: extended.then(|| MultiPartExtensionData {
                parameter_list: params(content_type.and_then(|c| c.attributes())),
                tail: Some(disposition(part, &fields)),
            }),
        };
    }
    let body = part_body(m, part);
    let (ctype, subtype) = match content_type {
        // A multipart without a usable boundary was read as one text part.
        Some(ct) if ct.ctype().eq_ignore_ascii_case("multipart") => ("TEXT".into(), "PLAIN".into()),
        Some(ct) => (upper(ct.ctype()), upper(ct.subtype().unwrap_or(""))),
        None if matches!(part.body, PartType::Message(_)) => ("MESSAGE".into(), "RFC822".into()),
        None => ("TEXT".into(), "PLAIN".into()),
    };
    let mut parameter_list = params(content_type.and_then(|c| c.attributes()));
    if content_type.is_none() && ctype == "TEXT" {
        parameter_list.push((istring("CHARSET"), istring("US-ASCII")));
    }
    let encoding = raw_field(&fields, "Content-Transfer-Encoding")
        .map(|v| upper(&String::from_utf8_lossy(&v)))
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "7BIT".into());
    let basic = BasicFields {
        parameter_list,
        id: nstring(
            raw_field(&fields, "Content-ID").map(|v| String::from_utf8_lossy(&v).into_owned()),
        ),
        description: nstring(part.content_description().map(encode_words)),
        content_transfer_encoding: istring(encoding),
        size: body.len() as u32,
    };
    let specific = match (&part.body, ctype.as_str()) {
        (PartType::Message(nested), "MESSAGE") if depth < MAX_DEPTH && !nested.parts.is_empty() => {
            SpecificFields::Message {
                envelope: Box::new(envelope(nested)),
                body_structure: Box::new(structure(nested, 0, extended, depth + 1)),
                number_of_lines: count_lines(body),
            }
        }
        // RFC 3501 §9: MESSAGE/RFC822 always carries an envelope and a structure, even when
        // the encapsulated message could not be parsed.
        (_, "MESSAGE") if subtype == "RFC822" => SpecificFields::Message {
            envelope: Box::new(envelope_from_fields(&[], None)),
            body_structure: Box::new(plain_text_structure(body, extended)),
            number_of_lines: count_lines(body),
        },
        (_, "TEXT") => SpecificFields::Text {
            subtype: istring(if subtype.is_empty() {
                "PLAIN".to_string()
            } else {
                subtype
            }),
            number_of_lines: count_lines(body),
        },
        _ => SpecificFields::Basic {
            r#type: istring(if ctype.is_empty() {
                "APPLICATION".to_string()
            } else {
                ctype
            }),
            subtype: istring(if subtype.is_empty() {
                "OCTET-STREAM".to_string()
            } else {
                subtype
            }),
        },
    };
    BodyStructure::Single {
        body: Body { basic, specific },
        extension_data: extended.then(|| SinglePartExtensionData {
            md5: nstring(
                raw_field(&fields, "Content-MD5").map(|v| String::from_utf8_lossy(&v).into_owned()),
            ),
            tail: Some(disposition(part, &fields)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_codec::imap_types::core::AString;
    use std::num::NonZeroU32;

    #[test]
    fn binary_undoes_the_transfer_encoding() {
        let n = |v: &[u32]| -> Vec<NonZeroU32> {
            v.iter().map(|&x| NonZeroU32::new(x).unwrap()).collect()
        };
        let m = Mime::parse(MULTI);
        // Part 4 is base64 "AAAA" = three NUL octets; part 1 is 7bit as stored.
        assert_eq!(m.binary(&n(&[4])).unwrap().unwrap().as_ref(), &[0u8, 0, 0]);
        assert_eq!(
            m.binary(&n(&[1])).unwrap().unwrap().as_ref(),
            b"hello\r\nworld"
        );
        assert_eq!(m.binary(&[]).unwrap().unwrap().as_ref(), MULTI);
        assert!(m.binary(&n(&[9])).unwrap().is_none());
        let qp = b"Subject: q\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nC=C3=B4ng=\r\n v=C4=83n";
        let m = Mime::parse(qp);
        assert_eq!(
            m.binary(&n(&[1])).unwrap().unwrap().as_ref(),
            "Công văn".as_bytes()
        );
        let odd = b"Subject: u\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n";
        assert!(Mime::parse(odd).binary(&n(&[1])).is_err());
    }

    const MULTI: &[u8] = b"From: A <a@x.vn>\r\nSubject: hi\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\npreamble\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\nworld\r\n--XX\r\nContent-Type: multipart/alternative; boundary=YY\r\n\r\n--YY\r\n\r\nalt1\r\n--YY\r\nContent-Type: text/html\r\n\r\n<b>x</b>\r\n--YY--\r\n\r\n--XX\r\nContent-Type: message/rfc822\r\n\r\nFrom: b@y\r\nSubject: inner\r\nContent-Type: multipart/mixed; boundary=ZZ\r\n\r\n--ZZ\r\n\r\nin1\r\n--ZZ\r\n\r\nin2\r\n--ZZ--\r\n\r\n--XX\r\nContent-Type: application/pdf; name=\"t\xc3\xa0i li\xe1\xbb\x87u.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--XX--\r\nepilogue\r\n";

    fn part(numbers: &[u32]) -> Part {
        Part(
            Vec1::try_from(
                numbers
                    .iter()
                    .map(|n| NonZeroU32::new(*n).unwrap())
                    .collect::<Vec<_>>(),
            )
            .unwrap(),
        )
    }

    fn get(raw: &[u8], section: Option<Section<'_>>) -> Option<String> {
        Mime::parse(raw)
            .section(section.as_ref())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    #[test]
    fn sections_address_raw_bytes() {
        let names = Vec1::from(AString::try_from("subject").unwrap());
        for (section, want) in [
            (None, Some(String::from_utf8_lossy(MULTI).into_owned())),
            (Some(Section::Part(part(&[1]))), Some("hello\r\nworld".into())),
            (Some(Section::Part(part(&[2, 1]))), Some("alt1".into())),
            (Some(Section::Part(part(&[2, 2]))), Some("<b>x</b>".into())),
            (Some(Section::Mime(part(&[2, 2]))), Some("Content-Type: text/html\r\n\r\n".into())),
            (Some(Section::Header(Some(part(&[3])))), Some("From: b@y\r\nSubject: inner\r\nContent-Type: multipart/mixed; boundary=ZZ\r\n\r\n".into())),
            (Some(Section::Part(part(&[3, 1]))), Some("in1".into())),
            (Some(Section::Part(part(&[3, 2]))), Some("in2".into())),
            (Some(Section::Text(Some(part(&[3])))), Some("--ZZ\r\n\r\nin1\r\n--ZZ\r\n\r\nin2\r\n--ZZ--\r\n".into())),
            (Some(Section::Part(part(&[4]))), Some("AAAA".into())),
            (Some(Section::Part(part(&[5]))), None),
            (Some(Section::Part(part(&[1, 1]))), None),
            (Some(Section::Header(Some(part(&[1])))), None),
            (Some(Section::HeaderFields(None, names.clone())), Some("Subject: hi\r\n\r\n".into())),
            (Some(Section::HeaderFieldsNot(None, names)), Some("From: A <a@x.vn>\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n".into())),
        ] {
            assert_eq!(get(MULTI, section.clone()), want, "{section:?}");
        }
        let text = get(MULTI, Some(Section::Text(None))).unwrap();
        assert!(
            text.starts_with("preamble\r\n--XX") && text.ends_with("epilogue\r\n"),
            "{text}"
        );
    }

    /// BODY[n.TEXT] of an encapsulated message is its body as stored, to the end of the
    /// part: a multipart body keeps its epilogue (and a non-multipart one its last line).
    #[test]
    fn encapsulated_text_keeps_the_epilogue() {
        let inner = "From: b@y\r\nContent-Type: multipart/alternative; boundary=in\r\n\r\npre\r\n--in\r\n\r\nmot\r\n--in--\r\nepilogue\r\nmore\r\n";
        let raw = format!(
            "Content-Type: multipart/mixed; boundary=out\r\n\r\n--out\r\n\r\nthu\r\n--out\r\nContent-Type: message/rfc822\r\n\r\n{inner}\r\n--out--\r\nouter epilogue\r\n"
        );
        let raw = raw.as_bytes();
        let text = &inner[inner.find("\r\n\r\n").unwrap() + 4..];
        assert_eq!(
            get(raw, Some(Section::Part(part(&[2])))).as_deref(),
            Some(inner)
        );
        assert_eq!(
            get(raw, Some(Section::Text(Some(part(&[2]))))).as_deref(),
            Some(text)
        );
        assert_eq!(
            get(raw, Some(Section::Header(Some(part(&[2]))))).as_deref(),
            Some(&inner[..inner.len() - text.len()])
        );
        // A whole message that is message/rfc822: part 1 is the encapsulated message, to the
        // end of the stored bytes.
        let top = format!("Content-Type: message/rfc822\r\n\r\n{inner}");
        assert_eq!(
            get(top.as_bytes(), Some(Section::Text(Some(part(&[1]))))).as_deref(),
            Some(text)
        );
        let unterminated = &inner[..inner.len() - 2];
        let top = format!("Content-Type: message/rfc822\r\n\r\n{unterminated}");
        assert_eq!(
            get(top.as_bytes(), Some(Section::Text(Some(part(&[1]))))).as_deref(),
            Some(&text[..text.len() - 2])
        );
        let single = "From: b@y\r\n\r\nmot dong\r\nhai dong\r\n";
        let raw = format!(
            "Content-Type: multipart/mixed; boundary=out\r\n\r\n--out\r\nContent-Type: message/rfc822\r\n\r\n{single}\r\n--out--\r\n"
        );
        assert_eq!(
            get(raw.as_bytes(), Some(Section::Text(Some(part(&[1]))))).as_deref(),
            Some("mot dong\r\nhai dong\r\n")
        );
    }

    /// ENVELOPE groups (RFC 3501 §7.4.2): start `(NIL NIL "name" NIL)`, members, end
    /// `(NIL NIL NIL NIL)`; an empty group is start and end; a member without an address
    /// (malformed) is left out, never made into one.
    #[test]
    fn envelope_groups() {
        let raw = b"To: undisclosed: a@b.vn, \"C D\" <c@d.vn>;\r\nCc: undisclosed-recipients:;\r\nBcc: Friends: Joe;, e@f.vn\r\nReply-To: Nobody\r\n\r\nx";
        let env = Mime::parse_headers(raw).envelope();
        let addr = |name: Option<&str>, mailbox: Option<&str>, host: Option<&str>| Address {
            name: nstring(name),
            adl: NString(None),
            mailbox: nstring(mailbox),
            host: nstring(host),
        };
        let start = |name| addr(None, Some(name), None);
        let end = addr(None, None, None);
        assert_eq!(
            env.to,
            [
                start("undisclosed"),
                addr(None, Some("a"), Some("b.vn")),
                addr(Some("C D"), Some("c"), Some("d.vn")),
                end.clone(),
            ]
        );
        assert_eq!(env.cc, [start("undisclosed-recipients"), end.clone()]);
        assert_eq!(
            env.bcc,
            [start("Friends"), end, addr(None, Some("e"), Some("f.vn"))]
        );
        // A phrase alone is no address: Reply-To falls back to From (none here).
        assert!(env.reply_to.is_empty(), "{:?}", env.reply_to);
    }

    #[test]
    fn single_part_messages() {
        let raw = b"From: x@y\r\nSubject: s\r\n\r\nline one\r\nline two\r\n";
        assert_eq!(
            get(raw, Some(Section::Part(part(&[1])))).as_deref(),
            Some("line one\r\nline two\r\n")
        );
        assert_eq!(
            get(raw, Some(Section::Text(None))).as_deref(),
            Some("line one\r\nline two\r\n")
        );
        assert_eq!(
            get(raw, Some(Section::Header(None))).as_deref(),
            Some("From: x@y\r\nSubject: s\r\n\r\n")
        );
        assert_eq!(get(raw, Some(Section::Part(part(&[2])))), None);
        // A header without a body.
        let raw = b"From: x@y\r\n";
        assert_eq!(get(raw, Some(Section::Text(None))).as_deref(), Some(""));
        assert_eq!(get(raw, None).as_deref(), Some("From: x@y\r\n"));
    }

    #[test]
    fn header_fields_keep_folding_and_order() {
        let header = b"Received: a\r\n b\r\nSUBJECT: x\r\n\ty\r\nbroken line\r\nTo: z\r\n\r\nbody";
        let got = fields(header);
        let names: Vec<_> = got
            .iter()
            .map(|f| String::from_utf8_lossy(f.name).into_owned())
            .collect();
        assert_eq!(names, ["Received", "SUBJECT", "To"]);
        assert_eq!(got[1].raw, b"SUBJECT: x\r\n\ty\r\n");
        assert_eq!(unfold(got[1].value), b"x\ty");
    }

    #[test]
    fn encodes_non_ascii_words() {
        assert_eq!(encode_words("plain"), "plain");
        let encoded = encode_words("Nông Văn Đạt");
        assert_eq!(encoded, "=?UTF-8?B?TsO0bmcgVsSDbiDEkOG6oXQ=?=");
        let long = encode_words(&"Đạt ".repeat(30));
        assert!(long.split(' ').all(|w| w.len() <= 75), "{long}");
    }

    fn encode_structure(raw: &[u8], extended: bool) -> String {
        use imap_codec::ResponseCodec;
        use imap_codec::encode::Encoder;
        use imap_codec::imap_types::fetch::MessageDataItem;
        use imap_codec::imap_types::response::{Data, Response};
        let mime = Mime::parse(raw);
        let item = if extended {
            MessageDataItem::BodyStructure(mime.body_structure(true))
        } else {
            MessageDataItem::Body(mime.body_structure(false))
        };
        let response = Response::Data(Data::Fetch {
            seq: NonZeroU32::new(1).unwrap(),
            items: Vec1::from(item),
        });
        String::from_utf8(ResponseCodec::default().encode(&response).dump()).unwrap()
    }

    #[test]
    fn body_structure_of_a_multipart_message() {
        let got = encode_structure(MULTI, true);
        assert!(got.starts_with("* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 12 2 NIL NIL NIL NIL)"), "{got}");
        assert!(got.contains("(\"TEXT\" \"HTML\" NIL NIL NIL \"7BIT\" 8 1 NIL NIL NIL NIL) \"ALTERNATIVE\" (\"BOUNDARY\" \"YY\")"), "{got}");
        assert!(got.contains("\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 107 (NIL \"inner\" ((NIL NIL \"b\" \"y\"))"), "{got}");
        assert!(got.contains("\"APPLICATION\" \"PDF\" (\"NAME\" \"=?UTF-8?B?dMOgaSBsaeG7h3UucGRm?=\") NIL NIL \"BASE64\" 4 NIL"), "{got}");
        assert!(
            got.ends_with(" \"MIXED\" (\"BOUNDARY\" \"XX\") NIL NIL NIL))\r\n"),
            "{got}"
        );
        let plain = encode_structure(MULTI, false);
        assert!(
            plain.starts_with("* 1 FETCH (BODY ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 12 2)"),
            "{plain}"
        );
        assert!(plain.ends_with(" \"MIXED\"))\r\n"), "{plain}");
        let single = encode_structure(b"Subject: x\r\n\r\nabc\r\n", false);
        assert_eq!(
            single,
            "* 1 FETCH (BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 5 1))\r\n"
        );
    }

    #[test]
    fn envelope_fields() {
        let raw = "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nFrom: \"Nông Văn Đạt\" <datnv@caobang.gov.vn>\r\nTo: undisclosed:;, b@c.vn\r\nSubject: =?UTF-8?B?xJDhuqF0?=\r\nMessage-ID: <1@x>\r\n\r\nbody".as_bytes();
        let env = Mime::parse_headers(raw).envelope();
        assert_eq!(env.subject, nstring(Some("=?UTF-8?B?xJDhuqF0?=")));
        assert_eq!(env.date, nstring(Some("Mon, 7 Feb 1994 21:52:25 -0800")));
        assert_eq!(env.message_id, nstring(Some("<1@x>")));
        assert_eq!(env.from.len(), 1);
        assert_eq!(
            env.from[0].name,
            nstring(Some(encode_words("Nông Văn Đạt")))
        );
        assert_eq!(env.from[0].host, nstring(Some("caobang.gov.vn")));
        assert_eq!(env.sender, env.from);
        assert_eq!(env.in_reply_to, NString(None));
        // Raw 8-bit subjects are re-encoded.
        let raw = "Subject: Báo cáo\r\n\r\n".as_bytes();
        assert_eq!(
            Mime::parse_headers(raw).envelope().subject,
            nstring(Some(encode_words("Báo cáo")))
        );
    }

    /// Hostile or broken messages never panic, whatever is asked of them.
    #[test]
    fn broken_messages_do_not_panic() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let pieces: [&[u8]; 12] = [
            b"Content-Type: multipart/mixed; boundary=b\r\n",
            b"Content-Type: message/rfc822\r\n",
            b"--b\r\n",
            b"--b--\r\n",
            b"\r\n",
            b"Subject: =?UTF-8?B?xJDhuqF0?=\r\n",
            b"From: \"x\" <a@b>, group:;\r\n",
            b"text\r\n",
            b"\x00\xff\xfe",
            b"Content-Transfer-Encoding: base64\r\n",
            b" folded\r\n",
            b"=?",
        ];
        let sections: Vec<Section<'static>> = vec![
            Section::Part(part(&[1])),
            Section::Part(part(&[1, 1])),
            Section::Part(part(&[2, 1, 1])),
            Section::Mime(part(&[1, 2])),
            Section::Header(Some(part(&[1]))),
            Section::Text(Some(part(&[1, 1]))),
            Section::Header(None),
            Section::Text(None),
        ];
        for _ in 0..2000 {
            let mut raw = Vec::new();
            for _ in 0..(next() % 24) {
                raw.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
            }
            for mime in [Mime::parse(&raw), Mime::parse_headers(&raw)] {
                let _ = mime.envelope();
                let _ = encode_structure(&raw, true);
                let _ = mime.body_structure(false);
                for section in &sections {
                    let _ = mime.section(Some(section));
                }
                assert_eq!(mime.section(None).as_deref(), Some(&raw[..]));
            }
        }
    }

    /// Real messages, mutated: parsing, ENVELOPE, BODYSTRUCTURE, every kind of section and
    /// BINARY never panic.
    #[test]
    fn fuzz_mime() {
        const DICTIONARY: &[&[u8]] = &[
            b"\r\n--XX\r\n",
            b"\r\n--XX--\r\n",
            b"Content-Type: multipart/mixed; boundary=XX\r\n",
            b"Content-Type: message/rfc822\r\n",
            b"Content-Transfer-Encoding: base64\r\n",
            b"Content-Transfer-Encoding: quoted-printable\r\n",
            b"=?utf-8?B?w7Q=?=",
            b"=\r\n",
            b"\r\n\r\n",
            b"; charset=windows-1258",
            b"name*0*=utf-8''t%C3%A0i",
            b"\r\n ",
        ];
        let qp: &[u8] = b"Subject: =?utf-8?Q?C=C3=B4ng_v=C4=83n?=\r\nTo: a@b.vn, \"B\" <b@c.vn>\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nC=C3=B4ng=\r\n v=C4=83n";
        let samples = [MULTI, qp];
        let names = Vec1::from(AString::try_from("subject").unwrap());
        hopthu_fuzz::run("imap mime", 2000, |rng| {
            let sample = *rng.pick(&samples);
            let raw = hopthu_fuzz::mutate(rng, sample, DICTIONARY);
            let full = Mime::parse(&raw);
            let _ = Mime::parse_headers(&raw).envelope();
            let _ = full.envelope();
            let _ = full.body_structure(true);
            let _ = full.body_structure(false);
            for _ in 0..4 {
                let numbers: Vec<u32> = (0..1 + rng.below(3))
                    .map(|_| 1 + rng.below(5) as u32)
                    .collect();
                let p = part(&numbers);
                let sections = [
                    None,
                    Some(Section::Part(p.clone())),
                    Some(Section::Header(Some(p.clone()))),
                    Some(Section::Header(None)),
                    Some(Section::Text(Some(p.clone()))),
                    Some(Section::Mime(p.clone())),
                    Some(Section::HeaderFields(Some(p.clone()), names.clone())),
                    Some(Section::HeaderFieldsNot(None, names.clone())),
                ];
                for section in &sections {
                    let _ = full.section(section.as_ref());
                }
                let nz: Vec<NonZeroU32> = numbers
                    .iter()
                    .map(|&n| NonZeroU32::new(n).unwrap())
                    .collect();
                let _ = full.binary(&nz);
            }
            let _ = fields(&raw);
        });
    }
}
