//! Mutated real messages through what the webmail and the search index do with a message:
//! the list's header summary (`summarise`), the reading view's steps (`message_view`: text,
//! HTML, parts with their names, types and `cid:`, references), a part's content
//! (`message_part`), and `extract_search_text`, which every delivery runs. No panic.

use hopthu_model::{Flags, Uid};
use hopthu_store::{BlobId, MessageRecord};
use mail_parser::{MessageParser, MimeHeaders, PartType};

use super::{addresses, content_type_of, summarise};

const MESSAGES: &[&[u8]] = &[
    b"From: =?utf-8?B?Tm9uZyBWxINuIMSQ4bqhdA==?= <datnv@caobang.gov.vn>\r\nTo: a@b.vn, \"Ha, Hoa\" <hoa@c.vn>\r\nCc: undisclosed-recipients:;\r\nSubject: =?windows-1258?Q?C=F4ng_v=E3n?=\r\nDate: Tue, 1 Dec 2026 08:00:00 +0700\r\nMessage-ID: <1@x>\r\nReferences: <0@x> <00@x>\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\npre\r\n--XX\r\nContent-Type: multipart/alternative; boundary=YY\r\n\r\n--YY\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nC=C3=B4ng v=C4=83n=\r\n s=E1=BB=91 1\r\n--YY\r\nContent-Type: text/html\r\n\r\n<p>x<img src=\"cid:img1\"></p>\r\n--YY--\r\n--XX\r\nContent-Type: image/png\r\nContent-ID: <img1>\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--XX\r\nContent-Type: application/pdf; name*=utf-8''t%C3%A0i%20li%E1%BB%87u.pdf\r\nContent-Disposition: attachment; filename=\"=?utf-8?B?dMOgaQ==?=.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--XX\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: text/plain\r\n\r\nin\r\n--XX--\r\n",
    b"Subject: plain\r\nFrom: a@b\r\n\r\nline one\nline two\r\n",
];

const DICTIONARY: &[&[u8]] = &[
    b"\r\n--XX\r\n",
    b"\r\n--XX--",
    b"\r\n--YY\r\n",
    b"Content-Type: multipart/mixed; boundary=XX\r\n",
    b"Content-Type: message/rfc822\r\n\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"Content-Transfer-Encoding: quoted-printable\r\n",
    b"=?utf-8?Q?=C3?=",
    b"=?x?B?@@?=",
    b"charset=windows-1258",
    b"charset=utf-16",
    b"\r\n\r\n",
    b"\r\n ",
    b"=\r\n",
    b"<",
    b">",
    b"name*0*=utf-8''a%",
    b"Content-ID: <>\r\n",
    b"<html><body>&#xFFFFFF;",
];

#[test]
fn fuzz_webmail_and_search_parsing() {
    hopthu_fuzz::run("webmail mime", 1500, |rng| {
        let sample = *rng.pick(MESSAGES);
        let raw = hopthu_fuzz::mutate(rng, sample, DICTIONARY);
        let record = MessageRecord {
            uid: Uid(1),
            blob: BlobId::of(&raw),
            size: raw.len() as u32,
            internal_date: 0,
            flags: Flags::default(),
            modseq: 1,
        };
        let _ = summarise(record, &raw[..raw.len().min(16 * 1024)]);
        let _ = crate::search::extract_search_text(&raw);
        let Some(message) = MessageParser::default().parse(&raw) else {
            return;
        };
        let _ = message.body_html(0);
        let _ = message.body_text(0);
        let _ = (addresses(message.from()), addresses(message.to()));
        let _ = (addresses(message.cc()), addresses(message.reply_to()));
        let _ = (message.subject(), message.date().map(|d| d.to_timestamp()));
        let _ = (message.message_id(), message.references());
        for (index, part) in message.parts.iter().enumerate() {
            let _ = content_type_of(part);
            let _ = part.attachment_name();
            let _ = part.content_id();
            let _ = part.content_disposition().is_some_and(|d| d.is_inline());
            let _ = part.contents().len();
            let _ = matches!(part.body, PartType::Multipart(_));
            let _ = message.part(index as u32).map(|p| p.contents().to_vec());
        }
        let _ = message.part(rng.below(20) as u32);
    });
}

/// Found by the run above: malformed nesting reaches a `debug_assert!` in mail-parser 0.11.9
/// ("Invalid part ID, could not find multipart."), so debug and test builds panicked where
/// release builds recover. mail-parser is built without debug assertions (Cargo.toml).
#[test]
fn malformed_nesting_does_not_panic_the_parser() {
    let raw: &[u8] = include_bytes!("fuzz-cases/mail-parser-debug-assert.eml");
    let message = MessageParser::default()
        .parse(raw)
        .expect("parsed as far as possible");
    assert!(!message.parts.is_empty());
    let _ = crate::search::extract_search_text(raw);
}

/// Found by a longer run (seed 0xabc): a quoted-printable part cut by its boundary makes
/// mail-parser 0.11.9 subtract past zero (decoders/quoted_printable.rs); debug builds
/// panicked, release builds wrap. Built without overflow checks (Cargo.toml), the parse
/// and everything the webmail and the index do with it go through.
#[test]
fn quoted_printable_cut_by_its_boundary_does_not_panic() {
    let raw: &[u8] = include_bytes!("fuzz-cases/mail-parser-qp-overflow.eml");
    let _ = crate::search::extract_search_text(raw);
    let message = MessageParser::default().parse(raw).expect("parsed");
    for part in &message.parts {
        let _ = (content_type_of(part), part.contents().len());
    }
    let _ = (message.body_text(0), message.body_html(0));
}
