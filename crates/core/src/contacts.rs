//! Contacts: each user's personal address book (vCards kept by the store, read and written over
//! CardDAV and in the webmail's contacts page) and the published directory seen as a read-only
//! address book (one vCard per public unit and person, the cards `/directory.vcf` serves), and
//! the compose autocomplete over both.
//!
//! A personal card is checked minimally before it is kept, byte for byte as sent: one
//! `BEGIN:VCARD` … `END:VCARD`, an `FN` or `N`, a `UID`, at most [`MAX_VCARD`] bytes, and the
//! book at most [`MAX_CONTACTS`] cards. Its ETag is a digest of its bytes; writes take HTTP's
//! preconditions (`If-Match`, `If-None-Match: *`), checked by the store in the write's
//! transaction. Everything is confined to the principal's own book.

use hopthu_model::text::search_fold;
pub use hopthu_store::{ContactChange, ContactRecord, Precondition};
use hopthu_store::{ContactWrite, NewContact};
use sha2::{Digest, Sha256};

use crate::directory::{Lookup, PublicPerson, PublicUnit};
use crate::{Core, Error, Principal, Result};

/// The largest vCard kept, in bytes (a photo belongs elsewhere).
pub const MAX_VCARD: usize = 128 * 1024;
/// The most cards one personal book holds.
pub const MAX_CONTACTS: usize = 5_000;
/// The longest card name (the last segment of its URL), in bytes.
pub const MAX_NAME: usize = 200;

/// What a vCard says that the webmail shows and the autocomplete searches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardSummary {
    pub uid: String,
    /// `FN`, or `N` put together when there is no `FN`.
    pub name: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub org: String,
    pub note: String,
}

/// A personal card with what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub record: ContactRecord,
    pub summary: CardSummary,
}

/// The outcome of a write to a personal book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactOutcome {
    /// Kept, with the card's new ETag (none for a deletion).
    Done { etag: Option<String>, created: bool },
    /// The precondition did not hold: nothing changed (HTTP 412).
    PreconditionFailed,
}

/// One card of the published directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryCard {
    pub name: String,
    pub uid: String,
    pub vcard: String,
    pub etag: String,
}

/// An address the compose fields may suggest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub name: String,
    pub address: String,
    pub detail: String,
    /// From the user's own contacts (else the directory).
    pub personal: bool,
}

/// Whether `name` may name a card: 1 to [`MAX_NAME`] bytes of letters, digits and `-_.@+=~`,
/// not starting with a dot.
pub fn valid_card_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@+=~".contains(&b))
}

/// The ETag of a card's bytes (without the quotes HTTP puts around it).
pub fn card_etag(vcard: &str) -> String {
    hex::encode(&Sha256::digest(vcard.as_bytes())[..16])
}

/// The content lines of a vCard, unfolded (RFC 6350 §3.2: a line break followed by a space or
/// TAB continues the line), without empty lines.
fn unfold(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = raw.strip_prefix([' ', '\t'])
            && let Some(last) = lines.last_mut()
        {
            last.push_str(rest);
            continue;
        }
        if !raw.is_empty() {
            lines.push(raw.to_string());
        }
    }
    lines
}

/// A content line's name (upper-cased, without its group) and value (after the first `:`
/// outside a quoted parameter value).
fn split_line(line: &str) -> Option<(String, &str)> {
    let mut quoted = false;
    let mut colon = None;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => {
                colon = Some(i);
                break;
            }
            _ => {}
        }
    }
    let colon = colon?;
    let head = &line[..colon];
    let name = head.split(';').next().unwrap_or_default();
    let name = name.rsplit('.').next().unwrap_or(name);
    Some((name.to_ascii_uppercase(), &line[colon + 1..]))
}

/// A text value unescaped (RFC 6350 §3.4).
fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Escapes a text value (backslash, comma, semicolon, line break).
pub fn vcard_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Checks a personal vCard (one card, `FN` or `N`, `UID`, size) and reads what it says.
pub fn parse_card(text: &str) -> Result<CardSummary> {
    if text.len() > MAX_VCARD {
        return Err(Error::invalid(format!(
            "danh thiếp quá lớn (tối đa {} KB) / the vCard is too large (at most {} KB)",
            MAX_VCARD / 1024,
            MAX_VCARD / 1024
        )));
    }
    let lines = unfold(text);
    let bad = |why: &str| Error::invalid(format!("vCard không hợp lệ / invalid vCard: {why}"));
    let first = lines.first().map(|l| l.trim().to_ascii_uppercase());
    let last = lines.last().map(|l| l.trim().to_ascii_uppercase());
    if first.as_deref() != Some("BEGIN:VCARD") || last.as_deref() != Some("END:VCARD") {
        return Err(bad("it must begin with BEGIN:VCARD and end with END:VCARD"));
    }
    let mut summary = CardSummary::default();
    let mut n = None;
    let mut depth = 0usize;
    let mut begun = 0usize;
    for line in &lines {
        let Some((name, value)) = split_line(line) else {
            return Err(bad("a line without ':'"));
        };
        let value_upper = value.trim().to_ascii_uppercase();
        match name.as_str() {
            "BEGIN" if value_upper == "VCARD" => {
                depth += 1;
                begun += 1;
                if begun > 1 {
                    return Err(bad("one card per resource"));
                }
            }
            "END" if value_upper == "VCARD" => depth = depth.saturating_sub(1),
            _ if depth != 1 => return Err(bad("one card per resource")),
            "UID" => summary.uid = value.trim().to_string(),
            "FN" => summary.name = unescape(value).trim().to_string(),
            "N" => n = Some(value.to_string()),
            "EMAIL" => summary.emails.push(unescape(value).trim().to_string()),
            "TEL" => summary.phones.push(unescape(value).trim().to_string()),
            "ORG" => summary.org = unescape(&value.replace(';', ", ")).trim().to_string(),
            "NOTE" => summary.note = unescape(value),
            _ => {}
        }
    }
    if summary.uid.is_empty() {
        return Err(bad("UID is missing"));
    }
    if summary.name.is_empty() {
        let Some(n) = n else {
            return Err(bad("FN or N is missing"));
        };
        // N: family;given;middle;prefix;suffix — shown in the Vietnamese order.
        let parts: Vec<String> = n.split(';').map(unescape).collect();
        let get = |i: usize| parts.get(i).map(|s| s.trim()).unwrap_or_default();
        summary.name = [get(3), get(0), get(2), get(1), get(4)]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
    }
    summary.emails.retain(|e| !e.is_empty());
    summary.phones.retain(|p| !p.is_empty());
    Ok(summary)
}

/// One card: each content line folded at 75 octets (RFC 2426 §2.6, RFC 6350 §3.2), CRLF.
pub fn card(lines: &[String]) -> String {
    let mut out = String::from("BEGIN:VCARD\r\nVERSION:3.0\r\n");
    for line in lines {
        let mut width = 0;
        for c in line.chars() {
            if width + c.len_utf8() > 75 {
                out.push_str("\r\n ");
                width = 1;
            }
            out.push(c);
            width += c.len_utf8();
        }
        out.push_str("\r\n");
    }
    out.push_str("END:VCARD\r\n");
    out
}

/// The vCard of a published unit, with its stable UID.
pub fn unit_vcard(u: &PublicUnit) -> String {
    let name = vcard_text(&u.name);
    card(&[
        format!("UID:{}", unit_uid(u)),
        format!("FN:{name}"),
        "N:;;;;".to_owned(),
        format!("ORG:{name}"),
        // Apple Contacts shows the card as an organisation.
        "X-ABSHOWAS:COMPANY".to_owned(),
        format!("EMAIL;TYPE=INTERNET,WORK:{}", u.address),
    ])
}

/// The vCard of a published person, with its stable UID.
pub fn person_vcard(p: &PublicPerson) -> String {
    // Vietnamese order: family name first, given name last, middle names between.
    let words: Vec<&str> = p.name.split(' ').collect();
    let (family, given, middle) = match words.as_slice() {
        [] => ("", "", String::new()),
        [only] => ("", *only, String::new()),
        [family, middle @ .., given] => (*family, *given, middle.join(" ")),
    };
    let mut lines = vec![
        format!("UID:{}", person_uid(p)),
        format!("FN:{}", vcard_text(&p.name)),
        format!(
            "N:{};{};{};;",
            vcard_text(family),
            vcard_text(given),
            vcard_text(&middle)
        ),
        format!("ORG:{}", vcard_text(&p.unit_name)),
    ];
    if let Some(position) = &p.position {
        lines.push(format!("TITLE:{}", vcard_text(position)));
    }
    lines.push(format!("EMAIL;TYPE=INTERNET,WORK:{}", p.address));
    card(&lines)
}

/// A published unit's UID: its address (stable while the unit keeps it).
fn unit_uid(u: &PublicUnit) -> String {
    format!("hopthu-unit-{}", u.address)
}

fn person_uid(p: &PublicPerson) -> String {
    format!("hopthu-person-{}", p.address)
}

/// A new random UID in the form of a UUID (version 4).
fn new_uid() -> String {
    let b: [u8; 16] = rand::random();
    let h = hex::encode(b);
    format!(
        "{}-{}-4{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A vCard of a personal contact written from the webmail's form.
pub fn form_vcard(uid: &str, fields: &ContactFields) -> String {
    let mut lines = vec![
        format!("UID:{}", vcard_text(uid)),
        format!("FN:{}", vcard_text(fields.name.trim())),
    ];
    for email in fields.email.split([',', ';']).map(str::trim) {
        if !email.is_empty() {
            lines.push(format!("EMAIL;TYPE=INTERNET:{}", vcard_text(email)));
        }
    }
    if !fields.phone.trim().is_empty() {
        lines.push(format!("TEL:{}", vcard_text(fields.phone.trim())));
    }
    if !fields.org.trim().is_empty() {
        lines.push(format!("ORG:{}", vcard_text(fields.org.trim())));
    }
    if !fields.note.trim().is_empty() {
        lines.push(format!("NOTE:{}", vcard_text(fields.note.trim())));
    }
    card(&lines)
}

/// The values of the properties `name` (e.g. `EMAIL`, any group, case-insensitive) of a vCard,
/// unfolded and unescaped.
pub fn property_values(vcard: &str, name: &str) -> Vec<String> {
    unfold(vcard)
        .iter()
        .filter_map(|line| split_line(line))
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| unescape(v))
        .collect()
}

/// How a CardDAV `text-match` compares (RFC 6352 §10.5.4), case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchType {
    Equals,
    Contains,
    StartsWith,
    EndsWith,
}

/// One `text-match`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMatch {
    pub text: String,
    pub match_type: MatchType,
    pub negate: bool,
}

impl TextMatch {
    fn matches(&self, value: &str) -> bool {
        let value = value.to_lowercase();
        let text = self.text.to_lowercase();
        let found = match self.match_type {
            MatchType::Equals => value == text,
            MatchType::Contains => value.contains(&text),
            MatchType::StartsWith => value.starts_with(&text),
            MatchType::EndsWith => value.ends_with(&text),
        };
        found != self.negate
    }
}

/// One `prop-filter`: a property (by name) defined, not defined, or with values matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropFilter {
    pub name: String,
    /// `test="allof"`: every text-match must match (else any one).
    pub all_of: bool,
    pub is_not_defined: bool,
    pub matches: Vec<TextMatch>,
}

/// An `addressbook-query` filter (RFC 6352 §10.5): no prop-filter matches every card.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardFilter {
    /// `test="allof"`: every prop-filter must match (else any one).
    pub all_of: bool,
    pub props: Vec<PropFilter>,
}

impl CardFilter {
    pub fn matches(&self, vcard: &str) -> bool {
        if self.props.is_empty() {
            return true;
        }
        let one = |f: &PropFilter| {
            let values = property_values(vcard, &f.name);
            if f.is_not_defined {
                return values.is_empty();
            }
            if values.is_empty() {
                return false;
            }
            if f.matches.is_empty() {
                return true;
            }
            let hit = |m: &TextMatch| values.iter().any(|v| m.matches(v));
            if f.all_of {
                f.matches.iter().all(hit)
            } else {
                f.matches.iter().any(hit)
            }
        };
        if self.all_of {
            self.props.iter().all(one)
        } else {
            self.props.iter().any(one)
        }
    }
}

/// The webmail's contact form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactFields {
    pub name: String,
    /// One or more addresses, separated by commas.
    pub email: String,
    pub phone: String,
    pub org: String,
    pub note: String,
}

impl Core {
    /// The version of the principal's personal book (its CTag and sync token).
    pub async fn contacts_version(&self, who: &Principal) -> Result<i64> {
        Ok(self.store.contacts_version(who.account).await?)
    }

    /// The principal's personal cards, by name.
    pub async fn contacts(&self, who: &Principal) -> Result<Vec<ContactRecord>> {
        Ok(self.store.contacts(who.account).await?)
    }

    /// The principal's personal cards with what they say, by name (shown).
    pub async fn contact_list(&self, who: &Principal) -> Result<Vec<Contact>> {
        let mut out: Vec<Contact> = self
            .contacts(who)
            .await?
            .into_iter()
            .map(|record| {
                let summary = parse_card(&record.vcard).unwrap_or_default();
                Contact { record, summary }
            })
            .collect();
        out.sort_by_cached_key(|c| search_fold(&c.summary.name));
        Ok(out)
    }

    /// One personal card of the principal.
    pub async fn contact(&self, who: &Principal, name: &str) -> Result<Option<ContactRecord>> {
        if !valid_card_name(name) {
            return Ok(None);
        }
        Ok(self.store.contact(who.account, name).await?)
    }

    /// What changed in the principal's book after the version `since`; `None` when `since`
    /// is no version the book had (a client must then read the whole book again).
    pub async fn contact_changes(
        &self,
        who: &Principal,
        since: i64,
    ) -> Result<Option<Vec<ContactChange>>> {
        let now = self.store.contacts_version(who.account).await?;
        if since < 0 || since > now {
            return Ok(None);
        }
        Ok(Some(self.store.contact_changes(who.account, since).await?))
    }

    /// Writes the card `name` of the principal's book from `vcard` (checked by
    /// [`parse_card`]) when `expect` holds.
    pub async fn put_contact(
        &self,
        who: &Principal,
        name: &str,
        vcard: &str,
        expect: Precondition,
    ) -> Result<ContactOutcome> {
        if !valid_card_name(name) {
            return Err(Error::invalid(
                "tên danh thiếp không hợp lệ / invalid card name (letters, digits, -_.@+=~)",
            ));
        }
        let summary = parse_card(vcard)?;
        if expect != Precondition::Present && !matches!(expect, Precondition::Etag(_)) {
            let live = self.store.contacts(who.account).await?;
            if live.len() >= MAX_CONTACTS && !live.iter().any(|c| c.name == name) {
                return Err(Error::new(
                    crate::ErrorKind::QuotaExceeded,
                    format!(
                        "danh bạ đã đủ {MAX_CONTACTS} danh thiếp / the address book is full ({MAX_CONTACTS} cards)"
                    ),
                ));
            }
        }
        let etag = card_etag(vcard);
        let card = NewContact {
            name: name.to_string(),
            uid: summary.uid,
            vcard: vcard.to_string(),
            etag: etag.clone(),
        };
        match self
            .store
            .put_contact(who.account, &card, &expect, crate::now())
            .await?
        {
            ContactWrite::Written { created, .. } => Ok(ContactOutcome::Done {
                etag: Some(etag),
                created,
            }),
            ContactWrite::PreconditionFailed => Ok(ContactOutcome::PreconditionFailed),
        }
    }

    /// Deletes the card `name` of the principal's book when `expect` holds (`NotFound` when
    /// there is none and nothing was expected of it).
    pub async fn delete_contact(
        &self,
        who: &Principal,
        name: &str,
        expect: Precondition,
    ) -> Result<ContactOutcome> {
        if !valid_card_name(name) {
            return Err(Error::not_found("no such card"));
        }
        match self
            .store
            .delete_contact(who.account, name, &expect, crate::now())
            .await?
        {
            ContactWrite::Written { .. } => Ok(ContactOutcome::Done {
                etag: None,
                created: false,
            }),
            ContactWrite::PreconditionFailed => Ok(ContactOutcome::PreconditionFailed),
        }
    }

    /// Adds (`name` `None`) or replaces a personal card from the webmail's form: a name and
    /// at least one valid address. Returns the card's name.
    pub async fn save_contact_form(
        &self,
        who: &Principal,
        name: Option<&str>,
        fields: &ContactFields,
    ) -> Result<String> {
        if fields.name.trim().is_empty() {
            return Err(Error::invalid("hãy nhập họ tên / enter a name"));
        }
        let emails: Vec<&str> = fields
            .email
            .split([',', ';'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect();
        for email in &emails {
            if email.parse::<hopthu_model::EmailAddress>().is_err() {
                return Err(Error::invalid(format!(
                    "địa chỉ thư không hợp lệ / invalid address: {email}"
                )));
            }
        }
        if emails.is_empty() && fields.phone.trim().is_empty() {
            return Err(Error::invalid(
                "hãy nhập địa chỉ thư hoặc số điện thoại / enter an address or a phone number",
            ));
        }
        let (name, uid, expect) = match name {
            Some(name) => {
                let current = self
                    .contact(who, name)
                    .await?
                    .ok_or_else(|| Error::not_found("không có danh thiếp này / no such card"))?;
                let uid = parse_card(&current.vcard)
                    .map(|s| s.uid)
                    .unwrap_or_else(|_| new_uid());
                (name.to_string(), uid, Precondition::Etag(current.etag))
            }
            None => {
                let uid = new_uid();
                (format!("{uid}.vcf"), uid, Precondition::Absent)
            }
        };
        let vcard = form_vcard(&uid, fields);
        match self.put_contact(who, &name, &vcard, expect).await? {
            ContactOutcome::Done { .. } => Ok(name),
            ContactOutcome::PreconditionFailed => Err(Error::new(
                crate::ErrorKind::AlreadyExists,
                "danh thiếp vừa được thay đổi ở nơi khác, hãy tải lại / the card was changed meanwhile: reload",
            )),
        }
    }

    /// The published directory as an address book: one card per public unit and person,
    /// named and identified stably by their address, by name.
    pub async fn directory_cards(&self) -> Result<Vec<DirectoryCard>> {
        let dir = self.public_directory("").await?;
        let mut out = Vec::with_capacity(dir.units.len() + dir.people.len());
        for u in &dir.units {
            let vcard = unit_vcard(u);
            out.push(DirectoryCard {
                name: format!("unit-{}.vcf", u.address),
                uid: unit_uid(u),
                etag: card_etag(&vcard),
                vcard,
            });
        }
        for p in &dir.people {
            let vcard = person_vcard(p);
            out.push(DirectoryCard {
                name: format!("person-{}.vcf", p.address),
                uid: person_uid(p),
                etag: card_etag(&vcard),
                vcard,
            });
        }
        out.retain(|c| valid_card_name(&c.name));
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out.dedup_by(|a, b| a.name == b.name);
        Ok(out)
    }

    /// The directory book's version: a digest of its cards' names and ETags (it changes
    /// whenever a card does).
    pub fn directory_version(cards: &[DirectoryCard]) -> String {
        let mut h = Sha256::new();
        for c in cards {
            h.update(c.name.as_bytes());
            h.update(b"\0");
            h.update(c.etag.as_bytes());
            h.update(b"\n");
        }
        hex::encode(&h.finalize()[..16])
    }

    /// Addresses for the compose fields: the principal's own contacts first, then the
    /// published directory, each matched by folded word prefixes (`search_fold`), at most
    /// `limit`.
    pub async fn address_suggestions(
        &self,
        who: &Principal,
        query: &str,
        limit: usize,
    ) -> Result<Vec<Suggestion>> {
        let lookup = Lookup::new(query);
        let mut out: Vec<Suggestion> = Vec::new();
        for c in self.contact_list(who).await? {
            let s = &c.summary;
            for email in &s.emails {
                if out.len() >= limit {
                    break;
                }
                if lookup.matches(&[&s.name, email, &s.org]) {
                    out.push(Suggestion {
                        name: s.name.clone(),
                        address: email.clone(),
                        detail: s.org.clone(),
                        personal: true,
                    });
                }
            }
        }
        let dir = self.public_directory(query).await?;
        let seen =
            |out: &[Suggestion], a: &str| out.iter().any(|s| s.address.eq_ignore_ascii_case(a));
        for p in &dir.people {
            if out.len() >= limit {
                break;
            }
            if !seen(&out, &p.address) {
                out.push(Suggestion {
                    name: p.name.clone(),
                    address: p.address.clone(),
                    detail: p.position.clone().unwrap_or_default(),
                    personal: false,
                });
            }
        }
        for u in dir.matched_units() {
            if out.len() >= limit {
                break;
            }
            if !seen(&out, &u.address) {
                out.push(Suggestion {
                    name: u.name.clone(),
                    address: u.address.clone(),
                    detail: String::new(),
                    personal: false,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_needs_begin_end_a_name_and_a_uid() {
        let ok = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:abc\r\nFN:Nguy\r\n ễn Văn A\r\nEMAIL;TYPE=\"a:b\":a@x.vn\r\nitem1.TEL:0123\r\nEND:VCARD\r\n";
        let s = parse_card(ok).unwrap();
        assert_eq!(s.uid, "abc");
        assert_eq!(s.name, "Nguyễn Văn A");
        assert_eq!(s.emails, ["a@x.vn"]);
        assert_eq!(s.phones, ["0123"]);
        let n_only = "BEGIN:VCARD\nVERSION:4.0\nUID:u\nN:Trần;An;Thị;;\nEND:VCARD\n";
        assert_eq!(parse_card(n_only).unwrap().name, "Trần Thị An");
        for bad in [
            "",
            "FN:x\r\nUID:u\r\n",
            "BEGIN:VCARD\r\nFN:x\r\nEND:VCARD\r\n",
            "BEGIN:VCARD\r\nUID:u\r\nEND:VCARD\r\n",
            "BEGIN:VCARD\r\nUID:u\r\nFN:x\r\nEND:VCARD\r\nBEGIN:VCARD\r\nUID:v\r\nFN:y\r\nEND:VCARD\r\n",
            "BEGIN:VCARD\r\nUID:u\r\nFN:x\r\nno colon\r\nEND:VCARD\r\n",
        ] {
            assert!(parse_card(bad).is_err(), "{bad:?}");
        }
        let huge = format!(
            "BEGIN:VCARD\r\nUID:u\r\nFN:x\r\nNOTE:{}\r\nEND:VCARD\r\n",
            "a".repeat(MAX_VCARD)
        );
        assert!(parse_card(&huge).is_err());
    }

    #[test]
    fn filters_match_property_values() {
        let card = "BEGIN:VCARD\r\nUID:u\r\nFN:Nguyễn Văn A\r\nEMAIL:A@X.vn\r\nEND:VCARD\r\n";
        let text = |t: &str, m| TextMatch {
            text: t.into(),
            match_type: m,
            negate: false,
        };
        let prop = |name: &str, matches| PropFilter {
            name: name.into(),
            all_of: false,
            is_not_defined: false,
            matches,
        };
        let filter = |props| CardFilter {
            all_of: false,
            props,
        };
        assert!(filter(vec![]).matches(card));
        assert!(filter(vec![prop("fn", vec![text("văn", MatchType::Contains)])]).matches(card));
        assert!(
            filter(vec![prop(
                "EMAIL",
                vec![text("a@x", MatchType::StartsWith)]
            )])
            .matches(card)
        );
        assert!(
            !filter(vec![prop("EMAIL", vec![text("b@", MatchType::StartsWith)])]).matches(card)
        );
        assert!(!filter(vec![prop("TEL", vec![])]).matches(card));
        let mut none = prop("TEL", vec![]);
        none.is_not_defined = true;
        assert!(filter(vec![none]).matches(card));
        let mut negated = text("zzz", MatchType::Contains);
        negated.negate = true;
        assert!(filter(vec![prop("FN", vec![negated])]).matches(card));
    }

    #[test]
    fn card_names_are_plain_url_segments() {
        assert!(valid_card_name("3f2a-b.vcf"));
        assert!(valid_card_name("person-hoa@x.vn.vcf"));
        for bad in ["", ".hidden", "a/b", "a b", "%41", "ả.vcf"] {
            assert!(!valid_card_name(bad), "{bad}");
        }
    }

    #[test]
    fn a_form_makes_a_card_that_reads_back() {
        let fields = ContactFields {
            name: "Lê Văn; Bình".into(),
            email: "binh@x.vn, b2@y.vn".into(),
            phone: "0912".into(),
            org: String::new(),
            note: "dòng 1\ndòng 2".into(),
        };
        let card = form_vcard("uid-1", &fields);
        let s = parse_card(&card).unwrap();
        assert_eq!(s.name, "Lê Văn; Bình");
        assert_eq!(s.emails, ["binh@x.vn", "b2@y.vn"]);
        assert_eq!(s.note, "dòng 1\ndòng 2");
        assert_eq!(s.uid, "uid-1");
    }
}
