//! The content rules (pure): what a message's header and text say on their own. Each rule is
//! named in `X-Spam-Status: … tests=` and weighs what `[antispam.weights]` says.
//!
//! | test | when |
//! |---|---|
//! | `SUBJECT_CAPS` | the subject has at least 8 letters and none is small |
//! | `MISSING_DATE` | no `Date:` field |
//! | `MISSING_MESSAGE_ID` | no `Message-ID:` field |
//! | `HTML_ONLY` | an HTML part, no plain-text part, under 200 characters of text |
//! | `EXCLAMATIONS` | 3 `!` in the subject, or 10 in the text |
//! | `SPAM_PHRASE` | each phrase of [`SPAM_PHRASES`] found (folded, at most 3 counted) |

use hopthu_config::Weights;
use mail_parser::{Message, PartType};

/// Phrases of spam and phishing, folded (`search_fold`: no accents, lower case), matched as
/// whole words in the folded subject and text. Few on purpose: government mail speaks of
/// awards and loans too, so only what official mail does not say.
pub const SPAM_PHRASES: &[&str] = &[
    // "you have won a prize", "receive a free gift", "fast loans", "earn money online",
    // "0% interest", "click here".
    "trung thuong",
    "nhan qua mien phi",
    "vay tien nhanh",
    "kiem tien online",
    "lai suat 0%",
    "bam vao day",
    "you have won",
    "claim your prize",
    "click here",
    "lottery winner",
    "viagra",
    "risk free",
];

/// Text shorter than this in an HTML-only message is an image or a link dressed as mail.
const HTML_ONLY_TEXT: usize = 200;

/// The rules that fire on `message`, with their weights.
pub fn content_rules(message: &Message<'_>, w: &Weights) -> Vec<(String, f64)> {
    let mut hits = Vec::new();
    let subject = message.subject().unwrap_or_default();
    let letters: Vec<char> = subject.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.len() >= 8 && !letters.iter().any(|c| c.is_lowercase()) {
        hits.push(("SUBJECT_CAPS".to_string(), w.subject_caps));
    }
    if message.date().is_none() {
        hits.push(("MISSING_DATE".to_string(), w.missing_date));
    }
    if message.message_id().is_none() {
        hits.push(("MISSING_MESSAGE_ID".to_string(), w.missing_message_id));
    }
    let (plain, html, text) = text_of(message);
    if html && !plain && text.trim().chars().count() < HTML_ONLY_TEXT {
        hits.push(("HTML_ONLY".to_string(), w.html_only));
    }
    if subject.matches('!').count() >= 3 || text.matches('!').count() >= 10 {
        hits.push(("EXCLAMATIONS".to_string(), w.exclamations));
    }
    let phrases = phrases_in(&format!("{subject}\n{text}"));
    for _ in phrases.iter().take(3) {
        hits.push(("SPAM_PHRASE".to_string(), w.spam_phrase));
    }
    hits
}

/// Whether the message has a plain-text part, an HTML part, and its text (HTML as text).
pub(crate) fn text_of(message: &Message<'_>) -> (bool, bool, String) {
    let (mut plain, mut html) = (false, false);
    let mut text = String::new();
    for part in &message.parts {
        if text.len() > super::bayes::MAX_TEXT {
            break;
        }
        match &part.body {
            PartType::Text(t) => {
                plain = true;
                text.push_str(t);
                text.push('\n');
            }
            PartType::Html(h) => {
                html = true;
                text.push_str(&mail_parser::decoders::html::html_to_text(h));
                text.push('\n');
            }
            _ => {}
        }
    }
    (plain, html, text)
}

/// `text` folded, every run of characters other than letters, digits and `%` one space, with a
/// space at each end (so a phrase is found as whole words).
pub(crate) fn folded_words(text: &str) -> String {
    let folded = hopthu_model::text::search_fold(text);
    let mut out = String::with_capacity(folded.len() + 2);
    out.push(' ');
    for c in folded.chars() {
        if c.is_alphanumeric() || c == '%' {
            out.push(c);
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

/// The phrases of [`SPAM_PHRASES`] in `text`.
pub fn phrases_in(text: &str) -> Vec<&'static str> {
    let words = folded_words(text);
    SPAM_PHRASES
        .iter()
        .copied()
        .filter(|p| words.contains(&format!(" {p} ")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    fn tests_of(raw: &str) -> Vec<String> {
        let message = MessageParser::default().parse(raw.as_bytes()).unwrap();
        content_rules(&message, &Weights::default())
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    }

    #[test]
    fn a_plain_letter_fires_nothing() {
        let raw = "From: a@b.vn\r\nDate: Wed, 7 Feb 2024 09:00:00 +0700\r\n\
                   Message-ID: <1@b.vn>\r\nSubject: Báo cáo quý I\r\n\r\nKính gửi anh chị!\r\n";
        assert!(tests_of(raw).is_empty(), "{:?}", tests_of(raw));
    }

    #[test]
    fn each_rule_fires_on_its_case() {
        let raw = "From: a@b.vn\r\nSubject: KHUYẾN MÃI LỚN!!!\r\n\
                   Content-Type: text/html; charset=utf-8\r\n\r\n\
                   <p>Bạn đã <b>TRÚNG THƯỞNG</b>! Vay tiền nhanh, lãi suất 0%. Click here.</p>\r\n";
        let got = tests_of(raw);
        for want in [
            "SUBJECT_CAPS",
            "MISSING_DATE",
            "MISSING_MESSAGE_ID",
            "HTML_ONLY",
            "EXCLAMATIONS",
        ] {
            assert!(got.iter().any(|t| t == want), "{want}: {got:?}");
        }
        // Four phrases, at most three counted.
        assert_eq!(got.iter().filter(|t| *t == "SPAM_PHRASE").count(), 3);
        // A short subject in capitals, a long text part with its HTML twin: no rule.
        let long = "Nội dung công văn. ".repeat(20);
        let raw = format!(
            "Date: Wed, 7 Feb 2024 09:00:00 +0700\r\nMessage-ID: <2@b.vn>\r\nSubject: UBND\r\n\
             Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n\
             Content-Type: text/plain\r\n\r\n{long}\r\n--b\r\nContent-Type: text/html\r\n\r\n\
             <p>{long}</p>\r\n--b--\r\n"
        );
        assert!(tests_of(&raw).is_empty(), "{:?}", tests_of(&raw));
    }

    #[test]
    fn phrases_are_whole_folded_words() {
        assert_eq!(
            phrases_in("Chúc mừng, bạn đã TRÚNG-THƯỞNG!"),
            ["trung thuong"]
        );
        assert_eq!(phrases_in("Lãi suất 0% trong 12 tháng"), ["lai suat 0%"]);
        // Inside other words: nothing.
        assert!(phrases_in("antiviagra clicking here").is_empty());
        assert!(phrases_in("Giải thưởng báo chí").is_empty());
    }
}
