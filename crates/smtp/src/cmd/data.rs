//! `DATA` (RFC 5321 §4.1.1.4): `354`, then the content up to `<CRLF>.<CRLF>`, dot-unstuffed
//! (§4.5.2) by `smtp-proto`'s `DataReceiver`, which only ends on CRLF.CRLF (no SMTP smuggling
//! with bare LF).
//!
//! Content beyond `limits.max_message_size` is read and dropped, then refused with
//! `552 5.3.4` (RFC 1870 §6.3). Otherwise, in order: submission rules; on the MX listener the
//! SPF/DKIM/ARC/DMARC checks (`inbound.rs`: `Authentication-Results:`, DMARC `p=reject` →
//! `550 5.7.1`); the virus scan (`Core::scan`: `554 5.7.0`, or with clamd down `451 4.7.0` /
//! `X-Virus-Scan: unavailable`); then `Received:` is prepended and the message is handed to
//! [`hopthu_core::Core::deliver`].
//!
//! **Invariant**: `250` only after `deliver` returned `Ok` (blob fsynced, index committed).
//! With a failure nothing is promised: the client keeps its copy and retries or bounces.

use hopthu_core::Envelope;
use smtp_proto::request::receiver::{DataReceiver, DummyDataReceiver};

use super::received::received_header;
use crate::reply::{Reply, core_error_reply};
use crate::session::{Session, Stop, Transaction};

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
struct ContentReader {
    receiver: DataReceiver,
    /// Set once the content went over the limit: the rest is only scanned for the end.
    discard: Option<DummyDataReceiver>,
    content: Vec<u8>,
    limit: usize,
}

impl ContentReader {
    fn new(limit: usize) -> ContentReader {
        let mut receiver = DataReceiver::new();
        // The receiver recognises a leading dot only after CRLF: start it "after a CRLF" so
        // the first line is unstuffed and an empty message (".\r\n" at once) ends.
        let mut content = Vec::new();
        receiver.ingest(&mut b"\r\n".iter(), &mut content);
        content.clear();
        ContentReader {
            receiver,
            discard: None,
            content,
            limit,
        }
    }

    /// Takes bytes; returns how many were used and whether the end marker was seen (the bytes
    /// after it are the next commands).
    fn feed(&mut self, bytes: &[u8]) -> (usize, bool) {
        let mut iter = bytes.iter();
        let done = match &mut self.discard {
            Some(discard) => discard.ingest(&mut iter),
            None => self.receiver.ingest(&mut iter, &mut self.content),
        };
        if self.discard.is_none() && self.content.len() > self.limit {
            self.discard = Some(DummyDataReceiver::new_data(&self.receiver));
            self.content = Vec::new();
        }
        (bytes.len() - iter.len(), done)
    }

    /// The content, and whether it was over the limit (then it is empty).
    fn finish(self) -> (Vec<u8>, bool) {
        (self.content, self.discard.is_some())
    }
}

/// RFC 5321 §6.3: more `Received:` fields than this means a loop ("at least 100").
const MAX_HOPS: usize = 100;

/// Counts the `Received:` fields in the header section.
fn count_received(content: &[u8]) -> usize {
    content
        .split(|&b| b == b'\n')
        .take_while(|line| !matches!(line, [] | [b'\r']))
        .filter(|line| line.len() >= 9 && line[..9].eq_ignore_ascii_case(b"received:"))
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
    // Submission: the From:/Sender: addresses must be the user's; Date and Message-ID are added
    // when missing (RFC 6409 §8).
    let content = match &session.principal {
        Some(who) if session.mode != crate::Mode::Mx => {
            match session.core.prepare_submission(who, content) {
                Ok(content) => content,
                Err(e) => {
                    tracing::warn!(login = %who.address, error = %e, "submission refused");
                    session.reply(core_error_reply(&e));
                    return;
                }
            }
        }
        _ => content,
    };
    // MX: SPF, DKIM, ARC, DMARC → Authentication-Results (RFC 8601), DMARC p=reject refused.
    let mut auth_results = String::new();
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
            content
        }
        _ => content,
    };
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
    session.messages += 1;
    let id = format!(
        "{}.{}",
        crate::connection_tag(session.conn_id),
        session.messages
    );
    let mut raw = received_header(session, &transaction, &id).into_bytes();
    raw.extend_from_slice(auth_results.as_bytes());
    raw.extend_from_slice(scan_header.as_bytes());
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
    let dsn = has_dsn.then(|| hopthu_core::QueueDsn {
        envid: transaction.envid,
        ret: transaction.ret.map(str::to_string),
        recipients: transaction.recipient_dsn,
    });
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
                session.core.record_sent(who.account, 1);
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
    use super::{ContentReader, count_received};

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
