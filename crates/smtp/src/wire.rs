//! The wire: bytes from the client framed into command lines and parsed into typed
//! [`Request`]s with `smtp-proto`.
//!
//! We frame lines ourselves and hand `smtp-proto` one complete line at a time instead of feeding
//! the raw stream to its `RequestReceiver`:
//! - RFC 5321 §4.5.3.1.4 limits a command line to 512 octets including the CRLF, while
//!   `RequestReceiver` allows 4096; RFC 4954 §4 raises the limit to 12288 octets for `AUTH` and
//!   its SASL responses, so the limit depends on the line.
//! - One line gives exactly one reply, even when the parser stops early inside a malformed line,
//!   so the replies to a pipelined batch (RFC 2920) stay in order.
//!
//! Message content is not framed here: DATA and BDAT consume [`InputBuffer::pending`] directly
//! with `smtp-proto`'s `DataReceiver` and `BdatReceiver`.

use smtp_proto::{Error as ParseError, Request};

/// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets, CRLF included.
pub const MAX_COMMAND_LINE: usize = 512;

/// RFC 4954 §4: the AUTH command line and each SASL response line may be up to 12288 octets.
pub const MAX_AUTH_LINE: usize = 12288;

/// What [`InputBuffer::next_line`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum LineEvent {
    /// A complete line, with its line ending.
    Line(Vec<u8>),
    /// The line under way is longer than the limit. Its bytes are dropped up to and including
    /// the next LF, which may still have to arrive; the caller answers once.
    TooLong,
    /// No complete line yet: read more.
    NeedMore,
}

/// Bytes received and not consumed yet.
#[derive(Debug, Default)]
pub struct InputBuffer {
    buf: Vec<u8>,
    start: usize,
    /// Dropping the rest of an over-long line until its LF.
    discarding: bool,
}

impl InputBuffer {
    /// Appends bytes just read.
    pub fn extend(&mut self, bytes: &[u8]) {
        if self.start > 0 && (self.start == self.buf.len() || self.start > 64 * 1024) {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Unconsumed bytes.
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Marks `n` bytes of [`InputBuffer::pending`] as consumed.
    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.buf.len());
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
    }

    /// Drops everything received so far (RFC 3207 §4.2: after STARTTLS nothing sent in plain
    /// text may be used).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
        self.discarding = false;
    }

    /// Takes the next command line. `limit` gives the maximum length of a line (line ending
    /// included) from its first bytes.
    pub fn next_line(&mut self, limit: impl Fn(&[u8]) -> usize) -> LineEvent {
        if self.discarding {
            match memchr(b'\n', self.pending()) {
                Some(pos) => {
                    self.consume(pos + 1);
                    self.discarding = false;
                }
                None => {
                    self.clear();
                    self.discarding = true;
                    return LineEvent::NeedMore;
                }
            }
        }
        let pending = self.pending();
        let limit = limit(pending);
        let window = &pending[..pending.len().min(limit)];
        if let Some(pos) = memchr(b'\n', window) {
            let line = window[..=pos].to_vec();
            self.consume(pos + 1);
            return LineEvent::Line(line);
        }
        if pending.len() >= limit {
            // No LF within the limit: drop what we have and the rest of the line.
            self.consume(limit);
            self.discarding = true;
            return LineEvent::TooLong;
        }
        LineEvent::NeedMore
    }
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

/// The line limit for a command line starting with `head`: 12288 for `AUTH`, else 512.
pub fn command_line_limit(head: &[u8]) -> usize {
    if head.len() >= 5 && head[..5].eq_ignore_ascii_case(b"AUTH ") {
        MAX_AUTH_LINE
    } else {
        MAX_COMMAND_LINE
    }
}

/// Why a command line could not be turned into a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadCommand {
    /// NUL or another control character (other than TAB and the line ending).
    ControlCharacter,
    /// Bytes that are not UTF-8 (RFC 6531 allows UTF-8 only).
    InvalidUtf8,
    /// What `smtp-proto` said.
    Parse(ParseError),
}

/// Parses one complete command line (with its line ending).
pub fn parse_command(line: &[u8]) -> Result<Request<String>, BadCommand> {
    let body = line.strip_suffix(b"\n").unwrap_or(line);
    let body = body.strip_suffix(b"\r").unwrap_or(body);
    if body.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(BadCommand::ControlCharacter);
    }
    if std::str::from_utf8(body).is_err() {
        return Err(BadCommand::InvalidUtf8);
    }
    // The parser wants the LF; give it a canonical CRLF ending.
    let mut canonical = Vec::with_capacity(body.len() + 2);
    canonical.extend_from_slice(body);
    canonical.extend_from_slice(b"\r\n");
    let mut bytes = canonical.iter();
    match Request::parse(&mut bytes) {
        Ok(request) => Ok(request.into_owned()),
        Err(e) => Err(BadCommand::Parse(e)),
    }
}

/// The text of a SASL response line (RFC 4954 §4), without its line ending.
pub fn sasl_line(line: &[u8]) -> &[u8] {
    let body = line.strip_suffix(b"\n").unwrap_or(line);
    body.strip_suffix(b"\r").unwrap_or(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[&[u8]]) -> Vec<LineEvent> {
        let mut buffer = InputBuffer::default();
        let mut events = Vec::new();
        for chunk in input {
            buffer.extend(chunk);
            loop {
                match buffer.next_line(command_line_limit) {
                    LineEvent::NeedMore => break,
                    event => events.push(event),
                }
            }
        }
        events
    }

    #[test]
    fn frames_lines_across_reads() {
        let got = lines(&[b"NOOP\r\nMA", b"IL FROM:<a@b.c>\r", b"\nQUIT\n"]);
        assert_eq!(
            got,
            vec![
                LineEvent::Line(b"NOOP\r\n".to_vec()),
                LineEvent::Line(b"MAIL FROM:<a@b.c>\r\n".to_vec()),
                LineEvent::Line(b"QUIT\n".to_vec()),
            ]
        );
    }

    #[test]
    fn line_limits() {
        let exactly = [vec![b'A'; 510], b"\r\n".to_vec()].concat();
        assert_eq!(lines(&[&exactly]), vec![LineEvent::Line(exactly.clone())]);

        let over = [vec![b'A'; 511], b"\r\nNOOP\r\n".to_vec()].concat();
        assert_eq!(
            lines(&[&over]),
            vec![LineEvent::TooLong, LineEvent::Line(b"NOOP\r\n".to_vec())]
        );

        // Over-long line arriving in small pieces: one TooLong, then the next command.
        let mut chunks: Vec<Vec<u8>> = (0..40).map(|_| vec![b'x'; 100]).collect();
        chunks.push(b"\r\nRSET\r\n".to_vec());
        let refs: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
        assert_eq!(
            lines(&refs),
            vec![LineEvent::TooLong, LineEvent::Line(b"RSET\r\n".to_vec())]
        );

        // AUTH lines may be longer (RFC 4954 §4).
        let auth = [b"AUTH PLAIN ".to_vec(), vec![b'A'; 2000], b"\r\n".to_vec()].concat();
        assert_eq!(lines(&[&auth]), vec![LineEvent::Line(auth.clone())]);
    }

    #[test]
    fn parses_or_refuses() {
        use smtp_proto::Request;
        let cases: &[(&[u8], Result<&str, BadCommand>)] = &[
            (b"NOOP\r\n", Ok("NOOP")),
            (b"noop\n", Ok("NOOP")),
            (b"MAIL FROM:<a@b.c> SIZE=10\r\n", Ok("MAIL")),
            (b"RCPT TO:<postmaster>\r\n", Ok("RCPT")),
            (
                b"EHLO\r\n",
                Err(BadCommand::Parse(ParseError::SyntaxError {
                    syntax: "EHLO domain",
                })),
            ),
            (b"\x00\x01junk\r\n", Err(BadCommand::ControlCharacter)),
            (b"NOOP \xff\xfe\r\n", Err(BadCommand::InvalidUtf8)),
            (
                b"FOO bar\r\n",
                Err(BadCommand::Parse(ParseError::UnknownCommand)),
            ),
        ];
        for (line, want) in cases {
            let got = parse_command(line).map(|r| r.name());
            assert_eq!(&got, want, "{}", String::from_utf8_lossy(line));
        }
        assert!(matches!(
            parse_command(b"AUTH PLAIN AGEAYg==\r\n"),
            Ok(Request::Auth { .. })
        ));
    }

    /// No input makes the framing or the parser panic.
    #[test]
    fn random_bytes_never_panic() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet: &[u8] =
            b"MAILFROMRCPTTODATAEHLOAUTHBDATLAST <>:@.=\r\n\x00\xff\"\\ 0123456789-+";
        let mut buffer = InputBuffer::default();
        for _ in 0..20_000 {
            let len = (next() % 80) as usize;
            let chunk: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    if r % 7 == 0 {
                        (r >> 8) as u8
                    } else {
                        alphabet[(r >> 8) as usize % alphabet.len()]
                    }
                })
                .collect();
            buffer.extend(&chunk);
            loop {
                match buffer.next_line(command_line_limit) {
                    LineEvent::Line(line) => {
                        let _ = parse_command(&line);
                    }
                    LineEvent::TooLong => {}
                    LineEvent::NeedMore => break,
                }
            }
        }
    }
}
