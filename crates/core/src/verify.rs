//! Checking a document's origin and integrity (Đ14.2): was this `.eml`, or this file, issued
//! through this system, by which unit, when, and is it unchanged? The public page `/verify`,
//! `POST /verify.json` and the webmail's reading page show the same [`Verdict`].
//!
//! - A bare file: its SHA-256 is looked up among the dispatched documents
//!   (`DocumentStore::documents_by_file`).
//! - A whole message: the document is the one dispatched with its `Message-ID:` (from the
//!   issuing unit's address, alone in `From:`); the attached
//!   file must have the recorded SHA-256, its one `X-Document-SHA256:` field must name it, and
//!   the message must carry a valid DKIM signature of ours, checked against our own keys,
//!   never DNS ([`crate::dkim::DkimKeys::verify_own`]).

use mail_parser::MessageParser;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::dkim::OwnSignature;
use crate::{Core, Result};

/// Why a file or message was not verified: the sentence shown, Vietnamese then English.
pub const NOT_ISSUED: &str = "không do hệ thống này ban hành / not issued through this system";
/// A bare file that matches no document.
pub const NO_MATCH: &str = "không khớp văn bản nào do hệ thống này ban hành (tệp đã bị sửa đổi \
     hoặc không do hệ thống này ban hành) / matches no document issued through this system \
     (the file was changed, or it was not issued here)";
/// The attached file is not the one dispatched.
pub const FILE_CHANGED: &str = "tệp đã bị sửa đổi / the file was changed";
/// The `X-Document-SHA256:` field does not name the dispatched file.
pub const FIELDS_CHANGED: &str =
    "các trường của văn bản đã bị sửa đổi / the document's header fields were changed";
/// Our signature is there and does not verify.
pub const DKIM_INVALID: &str = "chữ ký DKIM không hợp lệ / DKIM signature invalid";
/// No signature of ours.
pub const DKIM_MISSING: &str =
    "thư không có chữ ký DKIM của hệ thống / the message has no DKIM signature of this system";

/// The answer of [`Core::verify_document`] (`POST /verify.json` serialises it as is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub verified: bool,
    /// The issuing unit's code (`None` when not verified).
    pub unit: Option<String>,
    /// The issuing unit's name, for pages (not in the JSON).
    #[serde(skip)]
    pub unit_name: Option<String>,
    /// Số/ký hiệu.
    pub number: Option<String>,
    /// `YYYY-MM-DD`.
    pub date: Option<String>,
    /// A Vietnamese / English sentence.
    pub reason: String,
}

impl Verdict {
    /// Not verified, for `reason`.
    pub fn refused(reason: &str) -> Verdict {
        Verdict {
            verified: false,
            unit: None,
            unit_name: None,
            number: None,
            date: None,
            reason: reason.to_string(),
        }
    }
}

/// True when `bytes` start like an RFC 5322 message: header field lines (or folded
/// continuations) up to an empty line, with `From:` among them.
pub fn looks_like_message(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(256 * 1024)];
    let mut from = false;
    let mut first = true;
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return from && !first;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if first {
                return false;
            }
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return false;
        };
        let name = &line[..colon];
        if name.is_empty() || !name.iter().all(|&b| (33..=126).contains(&b)) {
            return false;
        }
        from |= name.eq_ignore_ascii_case(b"from");
        first = false;
    }
    false
}

/// The lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Core {
    /// Says whether `bytes` — a whole message (`.eml`) or the attached file itself — was
    /// issued through this system, by which unit, when, and whether it is unchanged.
    pub async fn verify_document(&self, bytes: &[u8]) -> Result<Verdict> {
        let sha = sha256_hex(bytes);
        if let Some(doc) = self.store.documents_by_file(&sha).await?.into_iter().next() {
            return self.verified(&doc).await;
        }
        if !looks_like_message(bytes) {
            return Ok(Verdict::refused(NO_MATCH));
        }
        self.verify_message(bytes).await
    }

    /// The verdict on a whole message (the second half of [`Core::verify_document`]); the
    /// webmail shows it beside a received document.
    pub async fn verify_message(&self, bytes: &[u8]) -> Result<Verdict> {
        let Some(message) = MessageParser::default().parse(bytes) else {
            return Ok(Verdict::refused(NOT_ISSUED));
        };
        let Some(message_id) = message.message_id() else {
            return Ok(Verdict::refused(NOT_ISSUED));
        };
        let Some(doc) = self.store.document_by_message_id(message_id).await? else {
            return Ok(Verdict::refused(NOT_ISSUED));
        };
        // The Message-ID alone could be copied into a colleague's message (which we sign
        // too): the document's message is from the issuing unit's address.
        let from = message
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_string();
        let units = self.store.units().await?;
        let issuer = units.iter().find(|u| u.id == doc.unit);
        if message.from().map_or(0, |a| a.iter().count()) != 1
            || !issuer.is_some_and(|u| u.address.eq_ignore_ascii_case(&from))
        {
            return Ok(Verdict::refused(NOT_ISSUED));
        }
        let files: Vec<String> = message
            .attachments()
            .map(|part| sha256_hex(part.contents()))
            .collect();
        if !files.contains(&doc.file_sha256) {
            return Ok(Verdict::refused(FILE_CHANGED));
        }
        let named: Vec<String> = message
            .header_values("X-Document-SHA256")
            .filter_map(|v| v.as_text())
            .map(|v| v.trim().to_ascii_lowercase())
            .collect();
        if named != [doc.file_sha256.clone()] {
            return Ok(Verdict::refused(FIELDS_CHANGED));
        }
        let keys = self
            .dkim()
            .map_err(|e| crate::Error::new(crate::ErrorKind::Temporary, e))?;
        match keys.verify_own(bytes).await {
            OwnSignature::Valid => self.verified(&doc).await,
            OwnSignature::Invalid(why) => {
                tracing::info!(
                    document = doc.id,
                    why,
                    "DKIM signature of a document invalid"
                );
                Ok(Verdict::refused(DKIM_INVALID))
            }
            OwnSignature::Missing => Ok(Verdict::refused(DKIM_MISSING)),
        }
    }

    async fn verified(&self, doc: &hopthu_store::DocumentRecord) -> Result<Verdict> {
        let units = self.store.units().await?;
        let unit = units.iter().find(|u| u.id == doc.unit);
        let code = unit.map(|u| u.code.clone()).unwrap_or_default();
        Ok(Verdict {
            verified: true,
            reason: format!(
                "khớp văn bản số {n} ngày {d} của {code}, nguyên vẹn / matches document {n} of {d} \
                 issued by {code}, unchanged",
                n = doc.number,
                d = doc.issued_on,
            ),
            unit: Some(code),
            unit_name: unit.map(|u| u.name.clone()),
            number: Some(doc.number.clone()),
            date: Some(doc.issued_on.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_told_from_files() {
        assert!(looks_like_message(
            b"Received: x\r\n  y\r\nFrom: a@b\r\nSubject: s\r\n\r\nbody"
        ));
        assert!(looks_like_message(b"From: a@b\n\nbody"));
        assert!(!looks_like_message(b"%PDF-1.7\r\nFrom: a@b\r\n\r\n"));
        assert!(!looks_like_message(b"Subject: no author\r\n\r\nbody"));
        assert!(!looks_like_message(b" From: a@b\r\n\r\n"));
        assert!(!looks_like_message(b"From: a@b\r\nno end of header"));
        assert!(!looks_like_message(b""));
    }

    #[test]
    fn a_refusal_names_nothing() {
        let v = Verdict::refused(FILE_CHANGED);
        assert!(!v.verified && v.unit.is_none() && v.number.is_none() && v.date.is_none());
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"verified": false, "unit": null, "number": null, "date": null,
                "reason": FILE_CHANGED})
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
