//! Rules for mail a signed-in user submits (SMTP submission now, the webmail later): who may
//! appear as the sender, and the header fields a message must carry (RFC 6409 §8).
//!
//! **Invariant**: the envelope sender and every `From:`/`Sender:` address of a submitted
//! message pass [`Core::may_send_as`]; the delegation of unit mailboxes (Đ12) extends that one
//! function, so SMTP and the webmail cannot disagree.

use hopthu_model::EmailAddress;

use crate::{Core, Error, Principal, Result};

impl Core {
    /// May `who` send as `address` (envelope sender, `From:`, `Sender:`)? Today: only their
    /// own address.
    pub fn may_send_as(&self, who: &Principal, address: &EmailAddress) -> bool {
        *address == who.address
    }

    /// Checks the sender fields of a submitted message and adds `Date:` and `Message-ID:` when
    /// missing (RFC 6409 §8.2, §8.3). Refusals are [`crate::ErrorKind::Forbidden`].
    ///
    /// The header section must be unambiguous, so that what is checked here is what every
    /// reader (a recipient's client, a DMARC check) sees: lines end with CRLF, every field line
    /// has a name, and the fields RFC 5322 §3.6 allows once appear at most once (`From:`
    /// exactly once). Otherwise [`crate::ErrorKind::Invalid`].
    pub fn prepare_submission(&self, who: &Principal, content: Vec<u8>) -> Result<Vec<u8>> {
        let fields = header_fields(&content).map_err(Error::invalid)?;
        if let Some(problem) = repeated_field(&fields) {
            return Err(Error::invalid(problem));
        }
        let message = mail_parser::MessageParser::default()
            .parse_headers(&content)
            .ok_or_else(|| Error::invalid("the message has no header"))?;
        // The parser must see the same single From: as the strict reading above.
        let parsed_from = message
            .headers()
            .iter()
            .filter(|h| h.name == mail_parser::HeaderName::From)
            .count();
        if parsed_from != 1 {
            return Err(Error::invalid(
                "the message must have exactly one From: field / thư phải có đúng một trường From:",
            ));
        }
        let from = header_addresses(message.from());
        if from.is_empty() {
            return Err(Error::invalid("the message has no From: address"));
        }
        for (field, addresses) in [
            ("From", from),
            ("Sender", header_addresses(message.sender())),
        ] {
            for address in addresses {
                let allowed = EmailAddress::parse(&address)
                    .map(|a| self.may_send_as(who, &a))
                    .unwrap_or(false);
                if !allowed {
                    return Err(Error::forbidden(format!(
                        "{field}: <{address}> is not an address you may send as"
                    )));
                }
            }
        }
        let mut added = String::new();
        // By the field names, not the parsed values: an unparsable `Date:` must not get a
        // second one next to it.
        if !fields.iter().any(|n| n == "date") {
            added.push_str(&format!(
                "Date: {}\r\n",
                chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S +0000")
            ));
        }
        if !fields.iter().any(|n| n == "message-id") {
            added.push_str(&format!(
                "Message-ID: <{:016x}.{}@{}>\r\n",
                rand::random::<u64>(),
                crate::now(),
                self.config.hostname
            ));
        }
        if added.is_empty() {
            return Ok(content);
        }
        let mut out = added.into_bytes();
        out.extend_from_slice(&content);
        Ok(out)
    }
}

fn header_addresses(address: Option<&mail_parser::Address<'_>>) -> Vec<String> {
    address
        .map(|a| {
            a.iter()
                .filter_map(|addr| addr.address.as_deref().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Header fields RFC 5322 §3.6 allows at most once (`From:` exactly once; `Date:` is added
/// when missing).
const SINGLE_FIELDS: &[&str] = &[
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
];

/// The names (lowercase) of the fields of the header section, read strictly: lines end with
/// CRLF only (a bare CR or LF is refused: readers disagree on where such a line ends), a line
/// starting with SP or HTAB continues the field before it, and any other line is `name:`
/// (RFC 5322 §2.2, §3.6.8; spaces before the colon, the obsolete syntax of §4.5, are allowed).
pub fn header_fields(content: &[u8]) -> std::result::Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut rest = content;
    loop {
        let Some(lf) = rest.iter().position(|&b| b == b'\n') else {
            if rest.is_empty() {
                break;
            }
            // A last line without a line end (a message with no body).
            return match field_name(rest) {
                Some(_) if rest.contains(&b'\r') => Err(bare_line_end()),
                Some(name) => {
                    names.push(name);
                    Ok(names)
                }
                None if rest[0] == b' ' || rest[0] == b'\t' => Ok(names),
                None => Err(malformed(rest)),
            };
        };
        let line = &rest[..lf];
        let Some(line) = line.strip_suffix(b"\r") else {
            return Err(bare_line_end());
        };
        if line.contains(&b'\r') {
            return Err(bare_line_end());
        }
        rest = &rest[lf + 1..];
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if names.is_empty() {
                return Err(malformed(line));
            }
            continue;
        }
        match field_name(line) {
            Some(name) => names.push(name),
            None => return Err(malformed(line)),
        }
    }
    Ok(names)
}

/// The name of a field line (`name *WSP ":"`), lowercase; `None` when it is not one.
fn field_name(line: &[u8]) -> Option<String> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = line[..colon].trim_ascii_end();
    let valid = !name.is_empty() && name.iter().all(|&b| (33..=126).contains(&b));
    valid.then(|| String::from_utf8_lossy(name).to_ascii_lowercase())
}

fn bare_line_end() -> String {
    "a header line ends with a bare CR or LF; lines must end with CRLF / \
     dòng tiêu đề kết thúc bằng CR hoặc LF đứng riêng, phải là CRLF"
        .into()
}

fn malformed(line: &[u8]) -> String {
    let shown: String = String::from_utf8_lossy(line)
        .chars()
        .take(40)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    format!("malformed header line {shown:?} / dòng tiêu đề sai cú pháp")
}

/// The first field of [`SINGLE_FIELDS`] that appears more than once (or `From:` missing), as a
/// refusal text.
pub fn repeated_field(names: &[String]) -> Option<String> {
    for field in SINGLE_FIELDS {
        let count = names.iter().filter(|n| n == field).count();
        if count > 1 {
            return Some(format!(
                "the message has {count} {field}: fields, RFC 5322 allows one / \
                 thư có {count} trường {field}:, chỉ được phép có một"
            ));
        }
    }
    if !names.iter().any(|n| n == "from") {
        return Some("the message has no From: field / thư không có trường From:".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{header_fields, repeated_field};

    #[test]
    fn reads_header_fields_strictly() {
        let names =
            header_fields(b"From: a@b.vn\r\nSubject: x\r\n y\r\nTO : c@d.vn\r\n\r\nFrom: body\r\n")
                .unwrap();
        assert_eq!(names, ["from", "subject", "to"]);
        assert_eq!(header_fields(b"From: a@b.vn").unwrap(), ["from"]);
        for bad in [
            &b"From: a@b.vn\nFrom: c@d.vn\r\n\r\n"[..],
            b"Subject: x\rFrom: c@d.vn\r\n\r\n",
            b"From: a@b.vn\r\nno colon here\r\n\r\n",
            b" From: a@b.vn\r\n\r\n",
            b"Fr om: a@b.vn\r\n\r\n",
            b"From: a@b.vn\r\nX: y\r",
        ] {
            assert!(
                header_fields(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn refuses_repeated_single_fields() {
        let names = |raw: &[u8]| header_fields(raw).unwrap();
        assert_eq!(repeated_field(&names(b"From: a\r\nTo: b\r\n\r\n")), None);
        for raw in [
            &b"From: a\r\nFrom: b\r\n\r\n"[..],
            b"from: a\r\nFROM : b\r\n\r\n",
            b"From: a\r\nSender: a\r\nSender: b\r\n\r\n",
            b"From: a\r\nSubject: a\r\nsubject: b\r\n\r\n",
            b"From: a\r\nReply-To: a\r\nReply-To: b\r\n\r\n",
            b"To: a\r\n\r\n",
        ] {
            assert!(
                repeated_field(&names(raw)).is_some(),
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
    }
}
