//! Secret documents never go by e-mail (Đ9): how a submitted message is recognised as marked
//! with a secrecy level (`[documents] secrecy_levels`: Mật, Tối mật, Tuyệt mật).
//!
//! Pure functions over the configured levels; [`crate::Core::prepare_submission`] refuses and
//! audits what they find, on the submission paths only (SMTP submission and the webmail, never
//! mail arriving from the Internet). A message is marked when:
//! - an `X-Document-Classification:` field names a level ([`level_named`]): its name or id,
//!   compared folded (case and diacritics: `TOI MAT`, `tối mật`, `Tối Mật`, `toi_mat`), or a
//!   value that starts with a marking as a subject does (`Mật - Confidential`). A value naming
//!   no level (`public`, `Thường`) marks nothing;
//! - the webmail's classification field names a level (the compose form, [`crate::Composed`]);
//! - the subject starts with a marking ([`subject_marking`]): a level in brackets (`[MẬT] …`,
//!   `(Tối mật) …`, `【Mật】…`, `{Mật} …`), or a level followed by `:`, `-`, `–` or `—`
//!   (`Mật: …`, `TUYET MAT - …`, `Tối mật – …`). A word that merely begins like a level
//!   (`Mật độ dân số`, `Mật khẩu mới`, `Mật ong`) is no marking, nor is a level later in the
//!   subject (`Về bảo vệ bí mật nhà nước: …`), nor a level alone as the whole subject.
//!   Leading white space and any number of reply and forward prefixes (`Re:`, `Fw:`, `Fwd:`,
//!   `TL:`, `Trả lời:`, `Chuyển tiếp:`) are skipped first: **a reply to or a forward of a
//!   secret message is secret too**, since it usually quotes or carries the document. The
//!   subject is read decoded (RFC 2047 encoded words, as mail clients send Vietnamese).

use hopthu_config::SecrecyLevel;
use hopthu_model::text::search_fold;

/// The header field that names a message's secrecy level.
pub const CLASSIFICATION_HEADER: &str = "X-Document-Classification";

/// Where a marking was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkedBy {
    /// The `X-Document-Classification:` field.
    Header,
    /// The subject's beginning.
    Subject,
    /// The webmail compose form's classification field.
    Form,
}

impl MarkedBy {
    /// The name written in the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            MarkedBy::Header => "header",
            MarkedBy::Subject => "subject",
            MarkedBy::Form => "form",
        }
    }
}

/// A secrecy marking found on a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marking {
    pub level: SecrecyLevel,
    pub by: MarkedBy,
}

/// Reply and forward prefixes skipped before a subject's marking, folded.
const REPLY_PREFIXES: &[&str] = &["re", "fw", "fwd", "tl", "tra loi", "chuyen tiep"];

/// Brackets a level may stand in at the start of a subject.
const BRACKETS: &[(char, char)] = &[('[', ']'), ('(', ')'), ('{', '}'), ('【', '】')];

/// What may follow a level that is not in brackets: colon (ASCII or full width), hyphen, en
/// dash, em dash.
const SEPARATORS: &[char] = &[':', '：', '-', '–', '—'];

/// The level whose folded words begin `s` (words separated by any white space), longest name
/// first; with the rest of `s` after it.
fn level_at<'a, 'l>(levels: &'l [SecrecyLevel], s: &'a str) -> Option<(&'l SecrecyLevel, &'a str)> {
    let mut best: Option<(&SecrecyLevel, &str)> = None;
    for level in levels {
        let folded = search_fold(&level.name);
        let mut rest = s;
        let mut matched = true;
        for (i, word) in folded.split_whitespace().enumerate() {
            if i > 0 {
                let trimmed = rest.trim_start();
                if trimmed.len() == rest.len() {
                    matched = false;
                    break;
                }
                rest = trimmed;
            }
            match rest.strip_prefix(word) {
                Some(r) => rest = r,
                None => {
                    matched = false;
                    break;
                }
            }
        }
        // The longest match wins (a configured "Mật" must not hide a longer level).
        if matched && best.is_none_or(|(_, r)| rest.len() < r.len()) {
            best = Some((level, rest));
        }
    }
    best
}

/// A marking at the very start of folded text `s`: a level in brackets, or a level followed
/// by a separator.
fn marking_at<'l>(levels: &'l [SecrecyLevel], s: &str) -> Option<&'l SecrecyLevel> {
    for (open, close) in BRACKETS {
        if let Some(inner) = s.strip_prefix(*open) {
            let (level, rest) = level_at(levels, inner.trim_start())?;
            return rest.trim_start().starts_with(*close).then_some(level);
        }
    }
    let (level, rest) = level_at(levels, s)?;
    rest.trim_start().starts_with(SEPARATORS).then_some(level)
}

/// Strips one reply or forward prefix (`re:`, `Fwd :`) from folded text.
fn strip_reply_prefix(s: &str) -> Option<&str> {
    REPLY_PREFIXES.iter().find_map(|p| {
        let rest = s.strip_prefix(p)?.trim_start();
        rest.strip_prefix(':')
            .or_else(|| rest.strip_prefix('：'))
            .map(str::trim_start)
    })
}

/// The secrecy level a subject (decoded) starts with, if any; see the module's rules.
pub fn subject_marking<'l>(levels: &'l [SecrecyLevel], subject: &str) -> Option<&'l SecrecyLevel> {
    let folded = search_fold(subject);
    let mut s = folded.trim_start();
    // Bounded: each step removes at least one character.
    while let Some(rest) = strip_reply_prefix(s) {
        s = rest;
    }
    marking_at(levels, s)
}

/// The secrecy level an `X-Document-Classification:` value (or the webmail's field) names:
/// a level's name or id, folded, white space runs counting as one space; or a value starting
/// with a marking (`Mật - Confidential`). `None` for a value naming no level.
pub fn level_named<'l>(levels: &'l [SecrecyLevel], value: &str) -> Option<&'l SecrecyLevel> {
    let folded = search_fold(value);
    let words = folded.split_whitespace().collect::<Vec<_>>().join(" ");
    if words.is_empty() {
        return None;
    }
    levels
        .iter()
        .find(|l| {
            l.id == words
                || search_fold(&l.name)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    == words
        })
        .or_else(|| marking_at(levels, &words))
}

/// The marking of a message (its header section is enough): every
/// `X-Document-Classification:` field first, then the subject, both decoded from RFC 2047.
pub fn message_marking(levels: &[SecrecyLevel], content: &[u8]) -> Option<Marking> {
    // Only these two fields are decoded (a parser given any field of its own reads the
    // others raw).
    let message = mail_parser::MessageParser::new()
        .header_text(mail_parser::HeaderName::Subject)
        .header_text(CLASSIFICATION_HEADER)
        .parse_headers(content)?;
    let by_header = message
        .header_values(CLASSIFICATION_HEADER)
        .filter_map(|v| v.as_text_list())
        .flatten()
        .find_map(|v| level_named(levels, v));
    if let Some(level) = by_header {
        return Some(Marking {
            level: level.clone(),
            by: MarkedBy::Header,
        });
    }
    let level = subject_marking(levels, message.subject()?)?;
    Some(Marking {
        level: level.clone(),
        by: MarkedBy::Subject,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hopthu_config::Documents;

    fn levels() -> Vec<SecrecyLevel> {
        Documents::default().secrecy_levels
    }

    fn subject(s: &str) -> Option<String> {
        subject_marking(&levels(), s).map(|l| l.id.clone())
    }

    #[test]
    fn subjects_marked_secret() {
        for (s, want) in [
            // Brackets.
            ("[MẬT] Kế hoạch", "mat"),
            ("[Mật] Kế hoạch", "mat"),
            ("[mat] ke hoach", "mat"),
            ("[ Mật ] Kế hoạch", "mat"),
            ("[MẬT]Kế hoạch", "mat"),
            ("(Tối mật) Báo cáo", "toi_mat"),
            ("(TOI MAT) Bao cao", "toi_mat"),
            ("{Tuyệt mật} x", "tuyet_mat"),
            ("【MẬT】 x", "mat"),
            ("[TUYỆT MẬT]", "tuyet_mat"),
            // Followed by a separator.
            ("Mật: Kế hoạch", "mat"),
            ("MẬT : Kế hoạch", "mat"),
            ("mật:kế hoạch", "mat"),
            ("TUYET MAT - Ke hoach", "tuyet_mat"),
            ("Tuyệt mật-Kế hoạch", "tuyet_mat"),
            ("Tối mật – Kế hoạch", "toi_mat"),
            ("Tối mật — Kế hoạch", "toi_mat"),
            ("Tối Mật: x", "toi_mat"),
            ("TỐI  MẬT: x", "toi_mat"),
            ("Tối\tmật: x", "toi_mat"),
            ("toi mat: x", "toi_mat"),
            ("Mật：x", "mat"),
            // Decomposed (NFD) Vietnamese, as some keyboards type it.
            ("To\u{302}\u{301}i ma\u{323}\u{302}t: x", "toi_mat"),
            // Leading white space; reply and forward prefixes, any number, any case.
            ("   [MẬT] x", "mat"),
            ("Re: [MẬT] x", "mat"),
            ("RE: Mật: x", "mat"),
            ("Fwd: Re: Tối mật - x", "toi_mat"),
            ("FW:[Mật] x", "mat"),
            ("re : fw: TUYET MAT: x", "tuyet_mat"),
            ("TL: Mật: x", "mat"),
            ("Trả lời: [Mật] x", "mat"),
            ("Chuyển tiếp: Tối mật: x", "toi_mat"),
        ] {
            assert_eq!(subject(s).as_deref(), Some(want), "{s:?}");
        }
    }

    #[test]
    fn subjects_not_marked() {
        for s in [
            "",
            "   ",
            "Mật độ dân số năm 2025",
            "Mật khẩu mới",
            "Mật ong rừng",
            "Mật",
            "MẬT",
            "Tối mật",
            "Mật độ: 120 người/km²",
            "Mật khẩu - đổi ngay",
            "[Mật khẩu] đổi",
            "(Mật độ) dân số",
            "Về bảo vệ bí mật nhà nước",
            "Bí mật: không phải độ mật",
            "Kế hoạch [MẬT]",
            "Báo cáo - Mật: x",
            "Re: Mật khẩu mới",
            "Fwd: Mật ong",
            "Tối nay họp: phòng 2",
            "Tuyệt vời - cảm ơn",
            "[Thường] Giấy mời",
            "Mậtx: y",
            "[Mật",
            "Re:",
            "Fwd: Re: ",
        ] {
            assert_eq!(subject(s), None, "{s:?}");
        }
    }

    #[test]
    fn classification_values() {
        let l = levels();
        let named = |v: &str| level_named(&l, v).map(|l| l.id.as_str());
        for (v, want) in [
            ("Mật", "mat"),
            ("MAT", "mat"),
            ("mật", "mat"),
            ("TOI MAT", "toi_mat"),
            ("tối mật", "toi_mat"),
            ("Tối Mật", "toi_mat"),
            ("  Tối   mật  ", "toi_mat"),
            ("toi_mat", "toi_mat"),
            ("Tuyệt mật", "tuyet_mat"),
            ("TUYET MAT", "tuyet_mat"),
            ("Mật - Confidential", "mat"),
            ("[Tối mật]", "toi_mat"),
        ] {
            assert_eq!(named(v), Some(want), "{v:?}");
        }
        for v in [
            "",
            "public",
            "Thường",
            "thuong",
            "unclassified",
            "Mật khẩu",
            "Bí mật",
            "not mat",
        ] {
            assert_eq!(named(v), None, "{v:?}");
        }
    }

    #[test]
    fn configured_levels_are_used() {
        let mut l = levels();
        l.push(SecrecyLevel {
            id: "mat_noi_bo".into(),
            name: "Mật nội bộ".into(),
            name_en: "Internal".into(),
        });
        // The longer name wins over "Mật".
        assert_eq!(
            subject_marking(&l, "[Mật nội bộ] x").map(|l| l.id.as_str()),
            Some("mat_noi_bo")
        );
        assert_eq!(
            subject_marking(&l, "Mật nội bộ: x").map(|l| l.id.as_str()),
            Some("mat_noi_bo")
        );
        // Without levels nothing is marked.
        assert_eq!(subject_marking(&[], "[MẬT] x"), None);
        assert_eq!(level_named(&[], "Mật"), None);
    }

    fn message(headers: &str) -> Option<(String, MarkedBy)> {
        let raw = format!("From: a@b.vn\r\nTo: c@d.vn\r\n{headers}\r\nbody\r\n");
        message_marking(&levels(), raw.as_bytes()).map(|m| (m.level.id, m.by))
    }

    #[test]
    fn messages_marked_by_header_or_encoded_subject() {
        let by = |id: &str, by: MarkedBy| Some((id.to_string(), by));
        assert_eq!(
            message("X-Document-Classification: Tối mật\r\nSubject: x\r\n"),
            by("toi_mat", MarkedBy::Header)
        );
        assert_eq!(
            message("x-document-classification: TUYET MAT\r\n"),
            by("tuyet_mat", MarkedBy::Header)
        );
        // An encoded classification value (UTF-8 "Tối mật", base64).
        assert_eq!(
            message("X-Document-Classification: =?UTF-8?B?VOG7kWkgbeG6rXQ=?=\r\n"),
            by("toi_mat", MarkedBy::Header)
        );
        // A second field naming a level counts too.
        assert_eq!(
            message("X-Document-Classification: public\r\nX-Document-Classification: Mật\r\n"),
            by("mat", MarkedBy::Header)
        );
        // RFC 2047 subjects: "[MẬT] Kế hoạch" in B, "Tối mật: x" in Q, folded over two lines.
        assert_eq!(
            message("Subject: =?UTF-8?B?W03huqxUXSBL4bq/IGhv4bqhY2g=?=\r\n"),
            by("mat", MarkedBy::Subject)
        );
        assert_eq!(
            message("Subject: =?utf-8?Q?T=E1=BB=91i_m=E1=BA=ADt=3A_x?=\r\n"),
            by("toi_mat", MarkedBy::Subject)
        );
        assert_eq!(
            message(
                "Subject: Re: =?UTF-8?Q?M=E1=BA=ADt?=\r\n =?UTF-8?Q?=3A_k=E1=BA=BF_ho=E1=BA=A1ch?=\r\n"
            ),
            by("mat", MarkedBy::Subject)
        );
        // Not marked: a plain classification, an innocent (encoded) subject, no subject.
        assert_eq!(
            message("X-Document-Classification: public\r\nSubject: Hello\r\n"),
            None
        );
        assert_eq!(
            message("Subject: =?UTF-8?Q?M=E1=BA=ADt_=C4=91=E1=BB=99_d=C3=A2n_s=E1=BB=91?=\r\n"),
            None
        );
        assert_eq!(message(""), None);
        assert_eq!(message("Subject:\r\n"), None);
        // A body line that looks like a header marks nothing.
        assert_eq!(
            message_marking(
                &levels(),
                b"From: a@b.vn\r\nSubject: x\r\n\r\nX-Document-Classification: Mat\r\nSubject: [MAT]\r\n"
            ),
            None
        );
    }
}
