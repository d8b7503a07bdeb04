//! `DATA` (RFC 5321 §4.1.1.4): `354`, then the content up to `<CRLF>.<CRLF>` and nothing else,
//! dot-unstuffed (§4.5.2) by [`ContentReader`]. Content holding a bare CR or LF (or a NUL) is
//! read to its end and refused with `554 5.6.11` (SMTP smuggling, see [`line_ending_fault`]).
//!
//! Content beyond `limits.max_message_size` is read and dropped, then refused with
//! `552 5.3.4` (RFC 1870 §6.3). Otherwise, in order: submission rules
//! (`Core::prepare_submission`; a message marked secret is refused with `550 5.7.1` and audited,
//! Đ9; a message sent as or on behalf of a unit mailbox is audited and
//! kept in the unit's Sent after delivery, `Core::record_unit_sending`); on the MX listener the
//! SPF/DKIM/ARC/DMARC checks (`inbound.rs`: `Authentication-Results:`, DMARC `p=reject` →
//! `550 5.7.1`); the virus scan (`Core::scan`: `554 5.7.0`, or with clamd down `451 4.7.0` /
//! `X-Virus-Scan: unavailable`); on the MX listener the spam score (`crate::spam`: `X-Spam-*`
//! fields, `550 5.7.1` at the reject threshold); then `Received:` is prepended and the message
//! is handed to [`hopthu_core::Core::deliver`].
//!
//! **Invariant**: `250` only after `deliver` returned `Ok` (blob fsynced, index committed).
//! With a failure nothing is promised: the client keeps its copy and retries or bounces.

use super::received::received_header;
use crate::reply::{Reply, core_error_reply};
use crate::session::{Session, Stop, Transaction};
use hopthu_core::Envelope;

pub(crate) async fn data(session: &mut Session) -> Result<(), Stop> {
    let refusal = match &session.transaction {
        None => Some(Reply::new(503, "5.5.1", "Need MAIL command")),
        Some(t) if t.chunks.is_some() => {
            Some(Reply::new(503, "5.5.1", "DATA not allowed after BDAT"))
        }
        // RFC 2920 §3.1: with pipelining, DATA after all RCPTs failed gets 554.
        Some(t) if t.recipients.is_empty() => Some(Reply::new(554, "5.5.1", "No valid recipients")),
        Some(_) => None,
    };
    if let Some(reply) = refusal {
        session.reply(reply);
        return Ok(());
    }
    session.reply(Reply::bare(354, "Start mail input; end with <CRLF>.<CRLF>"));
    let (content, oversize) = receive(session).await?;
    let transaction = session.transaction.take().unwrap_or_default();
    finish(session, transaction, content, oversize).await;
    Ok(())
}

/// Reads dot-stuffed content up to the end marker; returns it and whether it was cut for being
/// over the size limit.
async fn receive(session: &mut Session) -> Result<(Vec<u8>, bool), Stop> {
    let mut reader = ContentReader::new(session.max_message_size());
    loop {
        let pending = session.input.pending();
        if !pending.is_empty() {
            let (consumed, done) = reader.feed(pending);
            session.input.consume(consumed);
            if done {
                return Ok(reader.finish());
            }
        }
        // Content is not interrupted by shutdown: the transaction in flight completes.
        session.fill(false).await?;
    }
}

/// Dot-stuffed content → message bytes, keeping at most `limit` bytes (sans-I/O, so it is
/// tested without a socket).
///
/// SMTP smuggling (the 2023 class): only `CRLF . CRLF` ends the content. A dot line ended by
/// anything else (`\n.\n`, `\r\n.\r\r\n`, `\r.\r\n`…) is content, and a bare CR or LF never
/// starts a line, so a remote server that reads line ends differently cannot make us see a second
/// transaction. Such content is refused afterwards ([`line_ending_fault`]).
struct ContentReader {
    state: State,
    content: Vec<u8>,
    limit: usize,
    /// Set once the content went over the limit: the rest is only scanned for the end.
    too_big: bool,
}

/// Where the reader is, relative to the line structure (only CRLF ends a line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Just after CRLF (or at the start).
    LineStart,
    /// A dot at the start of a line.
    Dot,
    /// `.` CR at the start of a line: LF ends the content.
    DotCr,
    /// Inside a line.
    Mid,
    /// A CR inside a line: LF ends the line.
    Cr,
}

impl ContentReader {
    fn new(limit: usize) -> ContentReader {
        ContentReader {
            state: State::LineStart,
            content: Vec::new(),
            limit,
            too_big: false,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        if self.too_big {
            return;
        }
        if self.content.len() + bytes.len() > self.limit {
            self.too_big = true;
            self.content = Vec::new();
            return;
        }
        self.content.extend_from_slice(bytes);
    }

    /// Takes bytes; returns how many were used and whether the end marker was seen (the bytes
    /// after it are the next commands).
    fn feed(&mut self, bytes: &[u8]) -> (usize, bool) {
        let mut i = 0;
        while i < bytes.len() {
            match self.state {
                State::Mid => {
                    // Copy up to the next CR at once.
                    let rest = &bytes[i..];
                    match rest.iter().position(|&b| b == b'\r') {
                        Some(pos) => {
                            self.push(&rest[..pos]);
                            self.state = State::Cr;
                            i += pos + 1;
                        }
                        None => {
                            self.push(rest);
                            i = bytes.len();
                        }
                    }
                }
                State::Cr => {
                    let b = bytes[i];
                    i += 1;
                    match b {
                        b'\n' => {
                            self.push(b"\r\n");
                            self.state = State::LineStart;
                        }
                        // A bare CR; the new one may still end the line.
                        b'\r' => self.push(b"\r"),
                        _ => {
                            self.push(&[b'\r', b]);
                            self.state = State::Mid;
                        }
                    }
                }
                State::LineStart => {
                    if bytes[i] == b'.' {
                        self.state = State::Dot;
                        i += 1;
                    } else {
                        self.state = State::Mid;
                    }
                }
                State::Dot => {
                    if bytes[i] == b'\r' {
                        self.state = State::DotCr;
                        i += 1;
                    } else {
                        // RFC 5321 §4.5.2: the leading dot of a longer line is dropped.
                        self.state = State::Mid;
                    }
                }
                State::DotCr => {
                    if bytes[i] == b'\n' {
                        return (i + 1, true);
                    }
                    // `.` CR and no LF: a bare CR, the line goes on.
                    self.state = State::Cr;
                }
            }
        }
        (bytes.len(), false)
    }

    /// The content, and whether it was over the limit (then it is empty).
    fn finish(self) -> (Vec<u8>, bool) {
        (self.content, self.too_big)
    }
}

/// Why content is refused whatever its size: a bare CR or LF (RFC 5321 §2.3.8: CR and LF only
/// as CRLF) or a NUL. A server behind us or an MUA could read such line ends differently from
/// us, the ground of SMTP smuggling and of header tricks. Applies to DATA and BDAT alike.
pub(crate) fn line_ending_fault(content: &[u8]) -> Option<Reply> {
    let mut prev = 0u8;
    for (i, &b) in content.iter().enumerate() {
        let bad = match b {
            b'\n' => prev != b'\r',
            b'\r' => content.get(i + 1) != Some(&b'\n'),
            _ => false,
        };
        if bad {
            return Some(Reply::new(
                554,
                "5.6.11",
                "Message refused: bare CR or LF in the content, lines must end with CRLF / \
                 Thư bị từ chối: ký tự CR hoặc LF đứng riêng, dòng phải kết thúc bằng CRLF",
            ));
        }
        if b == 0 {
            return Some(Reply::new(
                554,
                "5.6.0",
                "Message refused: NUL character in the content / Thư bị từ chối: có ký tự NUL",
            ));
        }
        prev = b;
    }
    None
}

/// RFC 5321 §6.3: more `Received:` fields than this means a loop ("at least 100").
const MAX_HOPS: usize = 100;

/// Counts the `Received:` fields in the header section.
fn count_received(content: &[u8]) -> usize {
    count_field(content, b"received")
}

/// Counts the header fields named `name` (lowercase) in the header section; a space before the
/// colon (RFC 5322 §4.5, obsolete syntax) still names the field, as readers take it so.
fn count_field(content: &[u8], name: &[u8]) -> usize {
    content
        .split(|&b| b == b'\n')
        .take_while(|line| !matches!(line, [] | [b'\r']))
        .filter(|line| {
            line.len() > name.len()
                && line[..name.len()].eq_ignore_ascii_case(name)
                && line[name.len()..].trim_ascii_start().first() == Some(&b':')
        })
        .count()
}

/// Ends a transaction whose content has been received (DATA or the last BDAT chunk).
pub(crate) async fn finish(
    session: &mut Session,
    transaction: Transaction,
    content: Vec<u8>,
    oversize: bool,
) {
    let limit = session.max_message_size();
    let too_big = || {
        Reply::new(
            552,
            "5.3.4",
            format!("Message size exceeds fixed maximum message size of {limit} bytes"),
        )
    };
    if oversize {
        tracing::info!(limit, "message refused: too big");
        session.reply(too_big());
        return;
    }
    if let Some(reply) = line_ending_fault(&content) {
        tracing::warn!("message refused: bare CR/LF or NUL in the content");
        session.reply(reply);
        return;
    }
    // RFC 5322 §3.6: one From:. With two, DMARC would check one author and the reader's
    // client show the other (RFC 7489 §6.6.1 allows refusing); submission refuses it in
    // `Core::prepare_submission`.
    let froms = count_field(&content, b"from");
    if session.mode == crate::Mode::Mx && froms > 1 {
        tracing::warn!(froms, "message refused: several From: fields");
        session.reply(Reply::new(
            550,
            "5.6.0",
            format!(
                "Message refused: {froms} From: fields, RFC 5322 allows one / \
                 Thư bị từ chối: có {froms} trường From:, chỉ được phép có một"
            ),
        ));
        return;
    }
    let hops = count_received(&content);
    if hops > MAX_HOPS {
        // RFC 5321 §6.3: a mail loop.
        tracing::warn!(hops, "message refused: too many hops");
        session.reply(Reply::new(
            554,
            "5.4.6",
            "Too many hops, mail loop suspected",
        ));
        return;
    }
    // Submission: the From:/Sender: addresses and the envelope sender must be the user's or a
    // unit mailbox's they may send for; Date and Message-ID are added when missing (RFC 6409 §8).
    let mut unit_sending = None;
    // A reply by a recipient unit acknowledges an official document (Đ15), once delivered.
    let mut document_reply = None;
    let content = match &session.principal {
        Some(who) if session.mode != crate::Mode::Mx => {
            match session
                .core
                .prepare_submission(
                    who,
                    hopthu_core::SubmittedVia::Smtp,
                    transaction.mail_from.as_ref(),
                    content,
                )
                .await
            {
                Ok(prepared) => {
                    let refs = hopthu_core::documents::reply_refs(&prepared.content);
                    if !refs.is_empty() {
                        let from = hopthu_core::documents::replying_as(who, &prepared.sending);
                        document_reply = Some((from, refs));
                    }
                    if let hopthu_core::Sending::Unit { unit, mode } = prepared.sending {
                        // The unit mailbox's Sent keeps the message as submitted.
                        unit_sending =
                            Some((unit, mode, prepared.message_id, prepared.content.clone()));
                    }
                    prepared.content
                }
                Err(e) => {
                    tracing::warn!(login = %who.address, error = %e, "submission refused");
                    session.reply(core_error_reply(&e));
                    return;
                }
            }
        }
        _ => content,
    };
    // Spam: the DNS blocklists are asked while the inbound checks run.
    let dnsbl = crate::spam::start_dnsbl(session);
    let mut auth_outcome = None;
    // MX: SPF, DKIM, ARC, DMARC → Authentication-Results (RFC 8601), DMARC p=reject refused.
    let mut auth_results = String::new();
    let mut spf_pass = false;
    let content = match session.inbound.clone() {
        Some(dns) if session.mode == crate::Mode::Mx => {
            let hostname = session.hostname().to_string();
            let content = crate::inbound::strip_forged_results(content, &hostname);
            let helo = session
                .helo
                .as_ref()
                .map(|h| h.name.clone())
                .unwrap_or_default();
            let config = session.core.config();
            let verdict = crate::inbound::check(
                &dns,
                &hostname,
                crate::inbound::Peer {
                    ip: session.peer.ip(),
                    helo: &helo,
                    mail_from: transaction.mail_from.as_ref(),
                },
                &content,
                crate::inbound::Policies {
                    dmarc_reject: config.inbound.dmarc_reject,
                    defer_on_dns_error: config.inbound.defer_on_dns_error,
                },
            )
            .await;
            if let Some((code, status, reason)) = verdict.refuse {
                tracing::warn!(code, reason, "message refused by the inbound checks");
                session.reply(Reply::new(code, status, reason));
                return;
            }
            auth_results = verdict.header;
            spf_pass = verdict.spf_pass;
            auth_outcome = Some(verdict.auth);
            content
        }
        _ => content,
    };
    // Only our own X-Spam-* fields are believed, on every listener.
    let content = hopthu_core::spam::strip_spam_headers(content);
    // ClamAV (`[antivirus] clamd`), on MX and submission alike.
    let mut scan_header = "";
    match session.core.scan(&content).await {
        hopthu_core::ScanVerdict::NotScanned | hopthu_core::ScanVerdict::Clean => {}
        hopthu_core::ScanVerdict::Infected(name) => {
            tracing::warn!(virus = name, "message refused: virus found");
            session.reply(Reply::new(
                554,
                "5.7.0",
                format!("Message refused: it contains a virus ({name}) / Thư bị từ chối: có virus"),
            ));
            return;
        }
        hopthu_core::ScanVerdict::Unavailable(reason) => {
            if session.core.config().antivirus.accept_on_error {
                tracing::warn!(reason, "virus scanner unavailable, accepting unscanned");
                scan_header = "X-Virus-Scan: unavailable\r\n";
            } else {
                tracing::warn!(reason, "virus scanner unavailable, deferring");
                session.reply(Reply::new(
                    451,
                    "4.7.0",
                    "Virus scanner unavailable, try again later",
                ));
                return;
            }
        }
    }
    // Spam (`[antispam]`, MX only): X-Spam-Score/Status/Flag, or 550 5.7.1 and nothing kept.
    let mut spam_header = String::new();
    if crate::spam::applies(session) {
        match crate::spam::score(session, &transaction, auth_outcome, dnsbl, &content).await {
            Ok(header) => spam_header = header,
            Err(reply) => {
                session.reply(reply);
                return;
            }
        }
    }
    session.messages += 1;
    let id = format!(
        "{}.{}",
        crate::connection_tag(session.conn_id),
        session.messages
    );
    let mut raw = received_header(session, &transaction, &id).into_bytes();
    raw.extend_from_slice(auth_results.as_bytes());
    raw.extend_from_slice(scan_header.as_bytes());
    raw.extend_from_slice(spam_header.as_bytes());
    raw.extend_from_slice(&content);
    drop(content);
    if raw.len() > limit {
        tracing::info!(limit, size = raw.len(), "message refused: too big");
        session.reply(too_big());
        return;
    }
    let size = raw.len();
    // RFC 3461: only when the client gave a DSN parameter; the queue then relays them.
    let has_dsn = transaction.envid.is_some()
        || transaction.ret.is_some()
        || transaction
            .recipient_dsn
            .iter()
            .any(|d| d.notify.is_some() || d.orcpt.is_some());
    let mut dsn = has_dsn.then(|| hopthu_core::QueueDsn {
        envid: transaction.envid,
        ret: transaction.ret.map(str::to_string),
        recipients: transaction.recipient_dsn,
    });
    // Success notices only to a sender someone vouched for: signed in, or SPF pass for the
    // MAIL FROM domain; else a forged MAIL FROM would make us send backscatter.
    let vouched = (session.mode != crate::Mode::Mx && session.principal.is_some()) || spf_pass;
    if !vouched && let Some(dsn) = &mut dsn {
        hopthu_core::dsn::drop_success_requests(dsn);
    }
    let envelope = Envelope {
        mail_from: transaction.mail_from,
        recipients: transaction.recipients,
        dsn,
    };
    match session.core.deliver(&envelope, raw).await {
        Ok(report) => {
            tracing::info!(
                id,
                from = %envelope.mail_from.as_ref().map(ToString::to_string).unwrap_or_default(),
                recipients = envelope.recipients.len(),
                local = report.local.len(),
                queued = report.queued.len(),
                size,
                "message accepted"
            );
            if let Some(who) = &session.principal
                && session.mode != crate::Mode::Mx
            {
                session
                    .core
                    .record_sent(who.account, envelope.recipients.len())
                    .await;
                if let Some((from, refs)) = &document_reply {
                    session.core.acknowledge_by_reply(who, from, refs).await;
                }
                if let Some((unit, mode, message_id, copy)) = unit_sending {
                    session
                        .core
                        .record_unit_sending(
                            who,
                            &unit,
                            mode,
                            &message_id,
                            envelope.recipients.len(),
                            copy,
                        )
                        .await;
                }
            }
            session.reply(Reply::new(250, "2.0.0", format!("OK queued as {id}")));
        }
        Err(e) => {
            tracing::warn!(id, error = %e, kind = ?e.kind, "delivery failed");
            session.reply(core_error_reply(&e));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ContentReader, count_received, line_ending_fault};

    /// The content, whether it was too big, and the bytes left after the end marker.
    type Outcome = Option<(Vec<u8>, bool, Vec<u8>)>;

    /// Feeds `chunks` one by one.
    fn read(chunks: &[&[u8]], limit: usize) -> Outcome {
        let mut reader = ContentReader::new(limit);
        for (i, chunk) in chunks.iter().enumerate() {
            let (used, done) = reader.feed(chunk);
            if done {
                let mut rest = chunk[used..].to_vec();
                rest.extend(chunks[i + 1..].concat());
                let (content, too_big) = reader.finish();
                return Some((content, too_big, rest));
            }
            assert_eq!(used, chunk.len());
        }
        None
    }

    #[test]
    fn unstuffs_and_ends_only_on_crlf_dot_crlf() {
        let ok = |content: &[u8], rest: &[u8]| Some((content.to_vec(), false, rest.to_vec()));
        let cases: &[(&[&[u8]], Outcome)] = &[
            (&[b".\r\n"], ok(b"", b"")),
            (&[b".\r\nQUIT\r\n"], ok(b"", b"QUIT\r\n")),
            (&[b"a\r\n.\r\n"], ok(b"a\r\n", b"")),
            (
                &[b"..a\r\n", b"b\r\n..\r\n", b".", b"\r", b"\n"],
                ok(b".a\r\nb\r\n.\r\n", b""),
            ),
            // SMTP smuggling: a bare LF before or after the dot does not end the content.
            (
                &[b"a\n.\nMAIL FROM:<x@y.z>\r\n\r\n.\r\n"],
                ok(b"a\n.\nMAIL FROM:<x@y.z>\r\n\r\n", b""),
            ),
            (&[b"a\r\n.\nb\r\n.\r\n"], ok(b"a\r\n\nb\r\n", b"")),
            (&[b"a\r.\r\n.\r\n"], ok(b"a\r.\r\n", b"")),
            (&[b"no end\r\n"], None),
        ];
        for (chunks, want) in cases {
            assert_eq!(&read(chunks, 1000), want, "{chunks:?}");
        }
    }

    /// The SMTP smuggling variants (2023): none ends the content, whether it arrives at once
    /// or byte by byte; the real end is found, nothing after it is content, and the content is
    /// refused for its bare CR/LF (or NUL).
    #[test]
    fn smuggling_sequences_never_end_the_content_and_are_refused() {
        let smuggled = b"MAIL FROM:<ceo@victim.example>\r\nRCPT TO:<x@y.z>\r\nDATA\r\n\
From: ceo@victim.example\r\n\r\nspoofed\r\n";
        for fake_end in [
            &b"\n.\n"[..],
            b"\n.\r\n",
            b"\r\n.\n",
            b"\r.\r\n",
            b"\r\n.\r\r\n",
            b"\r\n.\r",
            b"\r\n\x00.\r\n",
            b"\r\n.\x00\r\n",
            b"\n.\r",
            b"\r.\r",
            b"\r.\n",
        ] {
            let mut input = b"Subject: a\r\n\r\nbody".to_vec();
            input.extend_from_slice(fake_end);
            input.extend_from_slice(smuggled);
            input.extend_from_slice(b"\r\n.\r\nQUIT\r\n");
            let whole = read(&[&input], 100_000);
            let bytes: Vec<&[u8]> = input.chunks(1).collect();
            let one_by_one = read(&bytes, 100_000);
            assert_eq!(whole, one_by_one, "{fake_end:?}");
            let (content, too_big, rest) = whole.expect("the real end is found");
            assert!(!too_big);
            assert_eq!(rest, b"QUIT\r\n", "{fake_end:?}");
            assert!(
                content.ends_with(b"spoofed\r\n\r\n"),
                "{fake_end:?}: {content:?}"
            );
            let reply = line_ending_fault(&content).expect("refused");
            assert_eq!(reply.code, 554, "{fake_end:?}");
        }
        assert!(line_ending_fault(b"Subject: a\r\n\r\nfine\r\n.x\r\n").is_none());
        assert!(line_ending_fault(b"").is_none());
        assert!(line_ending_fault(b"a\r").is_some());
        assert!(line_ending_fault(b"\na").is_some());
    }

    #[test]
    fn over_the_limit_reads_to_the_end_and_keeps_nothing() {
        let big = vec![b'x'; 5000];
        let got = read(&[b"Subject: big\r\n\r\n", &big, b"\r\n.\r\nNOOP\r\n"], 1000);
        assert_eq!(got, Some((Vec::new(), true, b"NOOP\r\n".to_vec())));
        let got = read(&[b"0123456789\r\n.\r\n"], 12);
        assert_eq!(got, Some((b"0123456789\r\n".to_vec(), false, Vec::new())));
    }

    #[test]
    fn counts_received_fields_in_the_header_only() {
        let cases: &[(&[u8], usize)] = &[
            (b"", 0),
            (b"Subject: x\r\n\r\nReceived: body\r\n", 0),
            (
                b"Received: a\r\n\tb\r\nRECEIVED: c\r\nSubject: x\r\n\r\nReceived: d\r\n",
                2,
            ),
            (b"Received: a\nReceived: b\n\nReceived: c\n", 2),
        ];
        for (content, want) in cases {
            assert_eq!(
                count_received(content),
                *want,
                "{}",
                String::from_utf8_lossy(content)
            );
        }
    }
}
