//! Export and import of messages: one message as `.eml` (its stored bytes) and a folder as
//! mboxrd (`From ` separator lines with the envelope sender and the internal date in asctime
//! form, `>`-quoting of `From ` and `>From ` lines, a blank line after each message), and the
//! reading of an uploaded mbox or `.eml` file back into messages with their bytes restored.

use chrono::{DateTime, NaiveDateTime};

use crate::{Core, Error, Principal, Result};
use hopthu_model::MailboxId;
use hopthu_store::MessageRecord;

/// The sender of a `From ` line when a message has no `Return-Path`.
pub const NO_SENDER: &str = "MAILER-DAEMON";

/// A message read from an upload: its bytes and, from an mbox `From ` line, its date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub raw: Vec<u8>,
    pub internal_date: Option<i64>,
}

/// Why an upload cannot be imported: which message (1-based, in file order) is not mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Malformed {
    /// The file is empty.
    Empty,
    /// An mbox file that does not begin with a `From ` line.
    NotMbox,
    /// The n-th message has no header section.
    NotMessage(usize),
}

/// The envelope sender for a `From ` line: the `Return-Path` the delivery wrote, or
/// [`NO_SENDER`]; never contains white space.
pub fn envelope_sender(raw: &[u8]) -> String {
    for line in header_lines(raw) {
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("return-path")
        {
            let v = value.trim().trim_start_matches('<').trim_end_matches('>');
            if !v.is_empty() && !v.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return v.to_string();
            }
        }
    }
    NO_SENDER.to_string()
}

/// The unfolded-enough header lines of a message (continuation lines are left out).
fn header_lines(raw: &[u8]) -> impl Iterator<Item = String> + '_ {
    raw.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .take_while(|l| !l.is_empty())
        .filter(|l| !l.starts_with(b" ") && !l.starts_with(b"\t"))
        .map(|l| String::from_utf8_lossy(l).into_owned())
}

/// A date as `asctime` writes it (`Thu Dec  4 21:10:22 2026`), in UTC.
pub fn asctime(unix: i64) -> String {
    DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%a %b %e %H:%M:%S %Y")
        .to_string()
}

/// Appends one message to an mboxrd file: the `From ` line, the message with its `From ` and
/// `>From ` lines quoted, a line end when it lacks one, and the blank line that ends it.
pub fn write_message(out: &mut Vec<u8>, raw: &[u8], internal_date: i64) {
    out.extend_from_slice(
        format!("From {} {}\n", envelope_sender(raw), asctime(internal_date)).as_bytes(),
    );
    let mut rest = raw;
    while !rest.is_empty() {
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let line = &rest[..end];
        let quoted = line.iter().position(|&b| b != b'>').unwrap_or(line.len());
        if line[quoted..].starts_with(b"From ") {
            out.push(b'>');
        }
        out.extend_from_slice(line);
        rest = &rest[end..];
    }
    if !raw.ends_with(b"\n") {
        out.push(b'\n');
    }
    out.push(b'\n');
}

/// The date of a `From ` line (`From sender asctime-date`), when it is one.
fn from_line_date(line: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(line).ok()?.trim_end();
    let rest = text.strip_prefix("From ")?.trim_start();
    let date = rest.split_once(char::is_whitespace)?.1.trim();
    // The fields are space separated, the day possibly padded: normalise to single spaces.
    let date = date.split_whitespace().collect::<Vec<_>>().join(" ");
    NaiveDateTime::parse_from_str(&date, "%a %b %d %H:%M:%S %Y")
        .ok()
        .map(|d| d.and_utc().timestamp())
}

/// Whether bytes begin like a message: a header field name and a colon on the first line.
fn looks_like_message(raw: &[u8]) -> bool {
    let first = raw.split(|&b| b == b'\n').next().unwrap_or_default();
    match first.iter().position(|&b| b == b':') {
        Some(colon) if colon > 0 => first[..colon].iter().all(|&b| (33..=126).contains(&b)),
        _ => false,
    }
}

/// Reads an mboxrd (or mboxo) file into its messages, `>`-quoting undone and the blank line
/// before each separator removed; nothing is returned unless every message is mail.
pub fn parse_mbox(data: &[u8]) -> std::result::Result<Vec<Imported>, Malformed> {
    if data.is_empty() {
        return Err(Malformed::Empty);
    }
    if !data.starts_with(b"From ") {
        return Err(Malformed::NotMbox);
    }
    let mut messages: Vec<Imported> = Vec::new();
    let mut current: Option<Imported> = None;
    let mut rest = data;
    while !rest.is_empty() {
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let line = &rest[..end];
        rest = &rest[end..];
        if line.starts_with(b"From ") {
            if let Some(done) = current.take() {
                messages.push(finish(done));
            }
            current = Some(Imported {
                raw: Vec::new(),
                internal_date: from_line_date(line),
            });
            continue;
        }
        let message = current.as_mut().expect("begins with a From line");
        let quoted = line.iter().position(|&b| b != b'>').unwrap_or(line.len());
        if quoted > 0 && line[quoted..].starts_with(b"From ") {
            message.raw.extend_from_slice(&line[1..]);
        } else {
            message.raw.extend_from_slice(line);
        }
    }
    if let Some(done) = current.take() {
        messages.push(finish(done));
    }
    for (i, m) in messages.iter().enumerate() {
        if !looks_like_message(&m.raw) {
            return Err(Malformed::NotMessage(i + 1));
        }
    }
    Ok(messages)
}

/// Drops the blank line the writer put after a message.
fn finish(mut m: Imported) -> Imported {
    if m.raw.ends_with(b"\n") {
        m.raw.pop();
    }
    m
}

/// Reads one `.eml` file: its bytes as they are, when they begin like a message.
pub fn parse_eml(data: &[u8]) -> std::result::Result<Imported, Malformed> {
    if data.is_empty() {
        return Err(Malformed::Empty);
    }
    if !looks_like_message(data) {
        return Err(Malformed::NotMessage(1));
    }
    Ok(Imported {
        raw: data.to_vec(),
        internal_date: None,
    })
}

impl Core {
    /// The stored bytes of a message of the principal, exactly as delivered, with its record
    /// (the `.eml` download); needs the read right on the folder.
    pub async fn message_raw(
        &self,
        who: &Principal,
        mailbox: MailboxId,
        uid: hopthu_model::Uid,
    ) -> Result<(MessageRecord, Vec<u8>)> {
        let (_, access) = self.mailbox_access(who, mailbox).await?;
        access.require('r')?;
        let record = self
            .store
            .messages_by_uid(mailbox, &[uid])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Error::not_found("no such message"))?;
        let raw = self.message_bytes(&record.blob).await?;
        Ok((record, raw))
    }

    /// Every message record of a folder the principal may read, in UID order (the mbox
    /// download reads their bytes a few at a time).
    pub async fn export_records(
        &self,
        who: &Principal,
        mailbox: MailboxId,
    ) -> Result<Vec<MessageRecord>> {
        let (_, access) = self.mailbox_access(who, mailbox).await?;
        access.require('r')?;
        Ok(self.store.messages(mailbox).await?)
    }

    /// Appends the messages of an upload to a folder, in order, each through [`Core::append`]
    /// (rights, size, quota and the search index apply). The right, every size and the quota
    /// for the whole upload are checked first, so a refused upload normally changes nothing;
    /// a refusal is returned with the 1-based number of the message refused (0: the upload).
    pub async fn import_messages(
        &self,
        who: &Principal,
        mailbox: MailboxId,
        messages: Vec<Imported>,
    ) -> std::result::Result<usize, (usize, Error)> {
        let (record, access) = self
            .mailbox_access(who, mailbox)
            .await
            .map_err(|e| (0, e))?;
        access.require('i').map_err(|e| (0, e))?;
        let mut total = 0u64;
        for (i, m) in messages.iter().enumerate() {
            total += u64::from(self.check_size(m.raw.len()).map_err(|e| (i + 1, e))?);
        }
        self.check_quota(record.account_id, total)
            .await
            .map_err(|e| (0, e))?;
        let count = messages.len();
        for (i, m) in messages.into_iter().enumerate() {
            self.append(
                who,
                mailbox,
                m.raw,
                &hopthu_model::Flags::default(),
                m.internal_date,
            )
            .await
            .map_err(|e| (i + 1, e))?;
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mboxrd_round_trip_keeps_bytes_and_dates() {
        let a = b"Return-Path: <a@x.vn>\r\nSubject: a\r\n\r\nFrom here\r\n>From there\r\nend\r\n";
        let b = b"Subject: b\n\nno final newline";
        let mut out = Vec::new();
        write_message(&mut out, a, 1_764_882_622);
        write_message(&mut out, b, 0);
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.starts_with("From a@x.vn Thu Dec  4 21:10:22 2025\n"),
            "{text}"
        );
        assert!(text.contains("\n>From here\r\n>>From there\r\n"), "{text}");
        assert!(
            text.contains("\nFrom MAILER-DAEMON Thu Jan  1 00:00:00 1970\n"),
            "{text}"
        );
        let back = parse_mbox(&out).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].raw, a);
        assert_eq!(back[0].internal_date, Some(1_764_882_622));
        assert_eq!(back[1].raw, b"Subject: b\n\nno final newline\n");
        assert_eq!(back[1].internal_date, Some(0));
    }

    #[test]
    fn malformed_uploads_are_named() {
        assert_eq!(parse_mbox(b""), Err(Malformed::Empty));
        assert_eq!(parse_mbox(b"hello\n"), Err(Malformed::NotMbox));
        assert_eq!(
            parse_mbox(b"From x Thu Jan  1 00:00:00 1970\nSubject: a\n\nx\n\nFrom y\nnot mail\n\n"),
            Err(Malformed::NotMessage(2))
        );
        assert_eq!(parse_eml(b"\x00\x01binary"), Err(Malformed::NotMessage(1)));
        assert!(parse_eml(b"Subject: x\r\n\r\nok\r\n").is_ok());
    }
}
