//! Search: the searchable text of a message, extracted when it is stored, and look-ups that
//! answer IMAP SEARCH from the index instead of reading message files.
//!
//! Extraction decodes what a person reads: From/To/Cc/Bcc (names and addresses, RFC 2047
//! words decoded), Subject, and every text part (base64 and quoted-printable undone, legacy
//! charsets such as windows-1258 converted, HTML reduced to text), nested messages included.
//! The text of PDF and DOCX attachments (`doc_text.rs`, read in a sandboxed child process) is
//! added to the body text, so SEARCH BODY/TEXT and the webmail's search find words of the
//! documents the province exchanges.
//! Everything is folded with [`hopthu_model::text::search_fold`] (lower case, diacritics
//! dropped, đ → d), so "dat" finds "Đạt" and "hoa" finds "Hòa" and "Hoà".
//!
//! **Invariants**: text is extracted before the store's transaction (it may take a while for a
//! large message, on a blocking thread) and indexed inside it, with the message row. Messages
//! stored by a path that gave no text (or before the index existed) are picked up by the
//! background indexer started with the core.

use std::sync::{Arc, Weak};
use std::time::Duration;

use hopthu_model::text::search_fold;
use hopthu_model::{MailboxId, Uid};
pub use hopthu_store::{SearchField, SearchText};
use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

use crate::{Core, Principal, Result};

/// At most this much body text (before folding) is indexed per message; the rest of a very
/// long text is rarely what anyone searches for.
const MAX_BODY_TEXT: usize = 512 * 1024;
/// Nested messages deeper than this are not looked into.
const MAX_DEPTH: usize = 5;
/// How often the background indexer looks for messages without text.
const INDEXER_PERIOD: Duration = Duration::from_secs(60);

/// Extracts and folds the searchable text of a raw message (RFC 5322 + MIME), marked
/// [`SearchText::pending`] when it has PDF or DOCX attachments (their text is added by the
/// indexer, [`extract_full`]).
pub fn extract_search_text(raw: &[u8]) -> SearchText {
    match MessageParser::default().parse(raw) {
        Some(message) => text_of(&message),
        None => SearchText::default(),
    }
}

/// The searchable text of a parsed message (see [`extract_search_text`]).
fn text_of(message: &Message<'_>) -> SearchText {
    let mut body = String::new();
    collect_text(message, &mut body, 0);
    if body.len() > MAX_BODY_TEXT {
        let mut end = MAX_BODY_TEXT;
        while !body.is_char_boundary(end) {
            end -= 1;
        }
        body.truncate(end);
    }
    SearchText {
        from: address_text(message.from()),
        to: address_text(message.to()),
        cc: address_text(message.cc()),
        bcc: address_text(message.bcc()),
        subject: search_fold(message.subject().unwrap_or_default()),
        body: search_fold(&body),
        sent_at: message.date().map(|d| d.to_timestamp()),
        sent_day: message.date().and_then(calendar_day),
        pending: !document_parts(message).is_empty(),
    }
}

/// The calendar date a Date header writes, in its own zone (the time and the zone
/// disregarded, RFC 3501 §6.4.4), as days since 1970-01-01; `None` for an impossible date.
fn calendar_day(date: &mail_parser::DateTime) -> Option<i64> {
    let day = chrono::NaiveDate::from_ymd_opt(
        i32::from(date.year),
        u32::from(date.month),
        u32::from(date.day),
    )?;
    Some((day - chrono::NaiveDate::default()).num_days())
}

/// Extraction on a blocking thread (parsing a 50 MB message must not stall other sessions), of
/// the message's own text. When it has PDF or DOCX attachments the text is marked
/// [`SearchText::pending`]: the background indexer adds their text ([`extract_full`]) once
/// the message is stored, so a delivery never waits for a document to be read.
pub(crate) async fn extract_blocking(raw: Arc<Vec<u8>>) -> SearchText {
    tokio::task::spawn_blocking(move || extract_search_text(&raw))
        .await
        .unwrap_or_default()
}

/// The whole searchable text: the message's own, then the text of its PDF and DOCX
/// attachments, each read by the sandbox ([`crate::doc_text::extract_sandboxed`]), folded the
/// same way and added to the body text, [`MAX_ATTACHMENT_TEXT`] at most in all.
pub(crate) async fn extract_full(raw: Arc<Vec<u8>>) -> SearchText {
    // One parse for both: the message's own text and its documents (copied out of it).
    let (mut text, documents) =
        tokio::task::spawn_blocking(move || match MessageParser::default().parse(&raw[..]) {
            Some(message) => {
                let documents: Vec<_> = document_parts(&message)
                    .into_iter()
                    .map(|(kind, bytes)| (kind, bytes.to_vec()))
                    .collect();
                (text_of(&message), documents)
            }
            None => (SearchText::default(), Vec::new()),
        })
        .await
        .unwrap_or_default();
    text.pending = false;
    let mut added = 0;
    for (kind, bytes) in documents {
        if added >= MAX_ATTACHMENT_TEXT {
            break;
        }
        let document = crate::doc_text::extract_sandboxed(kind, bytes).await;
        if document.trim().is_empty() {
            continue;
        }
        let folded = search_fold(&document);
        added += folded.len();
        text.body.push('\n');
        text.body.push_str(&folded);
    }
    text
}

/// At most this much attachment text (after folding) is indexed per message, beside the
/// message's own [`MAX_BODY_TEXT`].
pub const MAX_ATTACHMENT_TEXT: usize = 1024 * 1024;
/// At most this many attachments of a message are read.
const MAX_DOCUMENTS: usize = 16;

/// The PDF and DOCX attachments of a message, decoded, nested messages included (at most
/// [`MAX_DOCUMENTS`], each at most [`crate::doc_text::MAX_DOCUMENT`] bytes), borrowed from it.
fn document_parts<'a>(m: &'a Message<'a>) -> Vec<(crate::doc_text::Kind, &'a [u8])> {
    fn walk<'a>(
        m: &'a Message<'a>,
        out: &mut Vec<(crate::doc_text::Kind, &'a [u8])>,
        depth: usize,
    ) {
        for part in &m.parts {
            if out.len() >= MAX_DOCUMENTS {
                return;
            }
            match &part.body {
                PartType::Binary(bytes) | PartType::InlineBinary(bytes) => {
                    let content_type = part
                        .content_type()
                        .map(|ct| match &ct.c_subtype {
                            Some(sub) => format!("{}/{}", ct.c_type, sub),
                            None => ct.c_type.to_string(),
                        })
                        .unwrap_or_default();
                    if bytes.len() <= crate::doc_text::MAX_DOCUMENT
                        && let Some(kind) = crate::doc_text::Kind::of_attachment(
                            &content_type,
                            part.attachment_name(),
                        )
                    {
                        out.push((kind, bytes.as_ref()));
                    }
                }
                PartType::Message(nested) if depth < MAX_DEPTH => walk(nested, out, depth + 1),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(m, &mut out, 0);
    out
}

/// Names and addresses of an address header, folded, written as a header writes them:
/// `name <address>, address, ...`, so a substring of either, or of both as written, is found.
fn address_text(address: Option<&mail_parser::Address<'_>>) -> String {
    let Some(address) = address else {
        return String::new();
    };
    fn one(out: &mut String, a: &mail_parser::Addr<'_>) {
        if !out.is_empty() {
            out.push_str(", ");
        }
        match (&a.name, &a.address) {
            (Some(name), Some(address)) => {
                out.push_str(name);
                out.push_str(" <");
                out.push_str(address);
                out.push('>');
            }
            (Some(only), None) | (None, Some(only)) => out.push_str(only),
            (None, None) => {}
        }
    }
    let mut out = String::new();
    match address {
        mail_parser::Address::List(list) => list.iter().for_each(|a| one(&mut out, a)),
        mail_parser::Address::Group(groups) => {
            for group in groups {
                if let Some(name) = &group.name {
                    if !out.is_empty() {
                        out.push_str(", ");
                    }
                    out.push_str(name);
                    out.push(':');
                }
                group.addresses.iter().for_each(|a| one(&mut out, a));
            }
        }
    }
    search_fold(&out)
}

/// The decoded text of every text part, nested messages included.
fn collect_text(m: &Message<'_>, out: &mut String, depth: usize) {
    for part in &m.parts {
        if out.len() > MAX_BODY_TEXT {
            return;
        }
        match &part.body {
            PartType::Text(t) => {
                out.push_str(t);
                out.push('\n');
            }
            PartType::Html(h) => {
                out.push_str(&mail_parser::decoders::html::html_to_text(h));
                out.push('\n');
            }
            PartType::Message(nested) if depth < MAX_DEPTH => {
                for header in [nested.from(), nested.to()] {
                    out.push_str(&address_text(header));
                    out.push('\n');
                }
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

impl Core {
    /// Called once a message's text is committed: wakes the indexer when it waits for its
    /// attachments' text.
    pub(crate) fn text_stored(&self, text: Option<&SearchText>) {
        if text.is_some_and(|t| t.pending) {
            self.index_wake.notify_one();
        }
    }

    /// UIDs (ascending) of the messages of a mailbox of the principal whose `field` contains
    /// `needle` as a substring, both folded (`"an da"` finds "Nông Văn Đạt"; `""` finds every
    /// indexed message).
    pub async fn search_text(
        &self,
        who: &Principal,
        mailbox: MailboxId,
        field: SearchField,
        needle: &str,
    ) -> Result<Vec<Uid>> {
        self.mailbox_by_id(who, mailbox).await?;
        Ok(self
            .store
            .search_text(mailbox, field, &search_fold(needle))
            .await?)
    }

    /// The calendar date of the Date header of every message of a mailbox, by UID, as days
    /// since 1970-01-01 in the header's own zone (SENTBEFORE/SENTON/SENTSINCE); `None` when it
    /// has none (or not a valid one).
    pub async fn sent_days(
        &self,
        who: &Principal,
        mailbox: MailboxId,
    ) -> Result<Vec<(Uid, Option<i64>)>> {
        self.mailbox_by_id(who, mailbox).await?;
        Ok(self.store.sent_days(mailbox).await?)
    }

    /// Indexes messages that have no searchable text yet, or text from an older extraction
    /// (after a migration); returns how many blobs were indexed. A blob that cannot be read
    /// keeps the text it has, or gets empty text (logged), so it is not retried forever.
    pub async fn index_pending(&self) -> Result<usize> {
        let mut done = 0;
        loop {
            let blobs = self.store.unindexed_blobs(200).await?;
            if blobs.is_empty() {
                return Ok(done);
            }
            for blob in blobs {
                match self.store.blobs().get(&blob).await {
                    Ok(raw) => {
                        let text = extract_full(Arc::new(raw)).await;
                        self.store.index_blob(&blob, &text).await?;
                    }
                    Err(e) => {
                        tracing::warn!(blob = %blob.as_str(), error = %e, "message unreadable; its text kept as it is");
                        self.store.keep_text(&blob).await?;
                    }
                }
                done += 1;
            }
        }
    }
}

/// Runs [`Core::index_pending`] now and then every [`INDEXER_PERIOD`] while the core lives.
pub(crate) fn spawn_indexer(core: &Arc<Core>) {
    let weak: Weak<Core> = Arc::downgrade(core);
    tokio::spawn(async move {
        loop {
            let Some(core) = weak.upgrade() else { return };
            match core.index_pending().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(blobs = n, "search index caught up"),
                Err(e) => tracing::warn!(error = %e.message, "search indexer failed"),
            }
            let wake = core.index_wake.clone();
            drop(core);
            // Woken early when a stored message waits for its attachments' text.
            let _ = tokio::time::timeout(INDEXER_PERIOD, wake.notified()).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_decoded_folded_text() {
        let raw = concat!(
            "From: =?UTF-8?B?TsO0bmcgVsSDbiDEkOG6oXQ=?= <datnv@caobang.gov.vn>\r\n",
            "To: \"Hoà\" <hoa@caobang.gov.vn>, lan@caobang.gov.vn\r\n",
            "Subject: =?UTF-8?Q?B=C3=A1o_c=C3=A1o_qu=C3=BD_I?=\r\n",
            "Date: Wed, 7 Feb 2024 09:00:00 +0700\r\n",
            "MIME-Version: 1.0\r\n",
            "Content-Type: multipart/alternative; boundary=b\r\n\r\n",
            "--b\r\nContent-Type: text/plain; charset=windows-1258\r\n",
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
            // "Kính gửi anh Đạt": windows-1258 writes the marks as combining characters.
            "K=EDnh g=FD=D2i anh =D0a=F2t\r\n",
            "--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
            "PHA+SOG7jXAgZ2lhbyBiYW48L3A+\r\n",
            "--b--\r\n",
        );
        let text = extract_search_text(raw.as_bytes());
        assert_eq!(text.from, "nong van dat <datnv@caobang.gov.vn>");
        assert_eq!(text.to, "hoa <hoa@caobang.gov.vn>, lan@caobang.gov.vn");
        assert_eq!(text.subject, "bao cao quy i");
        assert!(text.body.contains("anh dat"), "{:?}", text.body);
        assert!(text.body.contains("hop giao ban"), "{:?}", text.body);
        assert!(!text.body.contains("<p>"), "{:?}", text.body);
        assert_eq!(text.sent_at, Some(1_707_271_200));
        assert_eq!(text.sent_day, Some(19_760)); // 2024-02-07
        assert_eq!(extract_search_text(b""), SearchText::default());
    }

    #[test]
    fn the_sent_day_is_the_date_as_written_in_its_zone() {
        let day = |date: &str| {
            extract_search_text(format!("Date: {date}\r\nSubject: x\r\n\r\nx\r\n").as_bytes())
                .sent_day
        };
        // 8 February 07:30 UTC, but written as the 7th in its zone: the 7th.
        assert_eq!(day("Wed, 7 Feb 2024 23:30:00 -0800"), Some(19_760));
        // 7 February 17:30 UTC, written as the 8th.
        assert_eq!(day("Thu, 8 Feb 2024 00:30:00 +0700"), Some(19_761));
        assert_eq!(day("Thu, 31 Feb 2024 00:30:00 +0700"), None);
        assert_eq!(day("not a date"), None);
    }
}
