//! Splits the client's byte stream into whole commands before any parsing, with bounded memory.
//!
//! An IMAP command is one or more CRLF-terminated lines; a line that ends with a literal
//! announcement (`{n}` or `{n+}`, RFC 3501 §4.3 and RFC 7888 LITERAL+) is followed by exactly
//! `n` octets and then the rest of the command. The framer finds those boundaries without
//! understanding the command, so a malformed command can be discarded precisely: literal data
//! is never mistaken for a command, and nothing is buffered beyond the limits:
//!
//! - a line longer than `max_line` is dropped as it arrives, up to its end, and reported with
//!   the tag recovered from its first bytes;
//! - a literal is only buffered once the session has accepted it (it checks the size against
//!   the message size limit); a refused synchronising literal ends the command (the client
//!   waits for `+` and receives the tagged refusal instead); a refused non-synchronising
//!   literal is read and thrown away (RFC 7888 §4), as is the rest of its command.
//!
//! This module is pure (no I/O) and unit-tested; `wire.rs` feeds it from the socket.

/// Why a command was thrown away without being parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Discard {
    /// A line exceeded the line limit.
    LineTooLong,
    /// The session refused a non-synchronising literal; its bytes and the rest of the command
    /// were read and dropped. The session already knows why (it refused).
    Refused,
}

/// What the framer found in the input.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    /// A whole command (or, in line mode, one line), CRLF included.
    Complete(Vec<u8>),
    /// The current line announces a literal of `length` octets; the command so far is in
    /// [`Framer::partial`]. Call [`Framer::accept_literal`] or [`Framer::refuse_literal`]
    /// before asking for the next frame.
    Literal { length: u64, synchronizing: bool },
    /// A command was discarded; `tag` is its first token when it looked like a tag.
    Discarded {
        tag: Option<String>,
        reason: Discard,
    },
}

#[derive(Debug)]
enum State {
    /// Reading a line of the current command (starting at `line_start` in `message`).
    Line,
    /// Copying an accepted literal into the message.
    Literal { remaining: u64 },
    /// A literal was announced; waiting for the session's decision.
    Announced { length: u64, synchronizing: bool },
    /// Dropping the rest of a line (and the rest of its command).
    DiscardLine {
        tag: Option<String>,
        reason: Discard,
        /// The last bytes seen, to notice a literal announcement at the end of the line.
        tail: Vec<u8>,
    },
    /// Dropping the octets of a refused non-synchronising literal.
    SkipLiteral {
        tag: Option<String>,
        reason: Discard,
        remaining: u64,
    },
}

/// The command splitter. See the module documentation.
///
/// Every received byte is looked at once: `input[pos..]` is what has not been looked at yet
/// (consumed bytes are only dropped when more arrive, never shifted per line), a line without
/// its end yet moves into `message` and is not scanned again, and a literal announcement is
/// only looked for in the line that just ended.
#[derive(Debug)]
pub(crate) struct Framer {
    /// Received bytes; those before `pos` were consumed.
    input: Vec<u8>,
    pos: usize,
    /// The current command so far.
    message: Vec<u8>,
    line_start: usize,
    state: State,
    max_line: usize,
    /// Literals announced in the current command so far.
    literals: usize,
}

/// Longest literal announcement kept at the end of a discarded line (`{4294967295+}\r\n`).
const TAIL: usize = 16;

impl Framer {
    pub(crate) fn new(max_line: usize) -> Framer {
        Framer {
            input: Vec::new(),
            pos: 0,
            message: Vec::new(),
            line_start: 0,
            state: State::Line,
            max_line,
            literals: 0,
        }
    }

    /// Adds bytes read from the client.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        if self.pos > 0 {
            self.input.drain(..self.pos);
            self.pos = 0;
        }
        self.input.extend_from_slice(bytes);
    }

    /// Consumes `n` bytes of [`Framer::rest`] into the current command.
    fn take_into_message(&mut self, n: usize) {
        self.message
            .extend_from_slice(&self.input[self.pos..self.pos + n]);
        self.pos += n;
    }

    /// Ends the current command (returned or thrown away).
    fn end_command(&mut self) {
        self.line_start = 0;
        self.literals = 0;
    }

    /// Forgets everything received and not yet returned (STARTTLS: RFC 3501 §6.2.1 requires
    /// ignoring what a client pipelined after the command).
    pub(crate) fn clear(&mut self) {
        self.input.clear();
        self.pos = 0;
        self.message.clear();
        self.end_command();
        self.state = State::Line;
    }

    /// True while a command has been started but not completed.
    pub(crate) fn in_progress(&self) -> bool {
        !self.message.is_empty() || !matches!(self.state, State::Line)
    }

    /// The current command up to and including the line that announced a literal.
    pub(crate) fn partial(&self) -> &[u8] {
        &self.message
    }

    /// How many literals the current command has announced (1 at its first).
    pub(crate) fn literal_count(&self) -> usize {
        self.literals
    }

    /// Lets the announced literal in: its octets become part of the command.
    pub(crate) fn accept_literal(&mut self) {
        if let State::Announced { length, .. } = self.state {
            self.state = State::Literal { remaining: length };
        }
    }

    /// Refuses the announced literal. A synchronising literal ends the command here (the
    /// client sends nothing more for it); a non-synchronising one is skipped with the rest of
    /// its command, which is then reported as [`Discard::Refused`].
    pub(crate) fn refuse_literal(&mut self) {
        if let State::Announced {
            length,
            synchronizing,
        } = self.state
        {
            let tag = recover_tag(&self.message);
            self.message.clear();
            self.end_command();
            self.state = if synchronizing {
                State::Line
            } else {
                State::SkipLiteral {
                    tag,
                    reason: Discard::Refused,
                    remaining: length,
                }
            };
        }
    }

    /// The next frame, or `None` when more input is needed. With `literals` false (IDLE's
    /// `DONE`, AUTHENTICATE responses) every line is a frame of its own.
    pub(crate) fn next(&mut self, literals: bool) -> Option<Frame> {
        loop {
            match &mut self.state {
                State::Announced {
                    length,
                    synchronizing,
                } => {
                    return Some(Frame::Literal {
                        length: *length,
                        synchronizing: *synchronizing,
                    });
                }
                State::Literal { remaining } => {
                    if *remaining == 0 {
                        self.line_start = self.message.len();
                        self.state = State::Line;
                        continue;
                    }
                    let available = self.input.len() - self.pos;
                    if available == 0 {
                        return None;
                    }
                    let take = (*remaining).min(available as u64) as usize;
                    *remaining -= take as u64;
                    self.take_into_message(take);
                }
                State::SkipLiteral {
                    tag,
                    reason,
                    remaining,
                } => {
                    if *remaining == 0 {
                        self.state = State::DiscardLine {
                            tag: tag.take(),
                            reason: *reason,
                            tail: Vec::new(),
                        };
                        continue;
                    }
                    let available = self.input.len() - self.pos;
                    if available == 0 {
                        return None;
                    }
                    let take = (*remaining).min(available as u64) as usize;
                    *remaining -= take as u64;
                    self.pos += take;
                }
                State::DiscardLine { tag, reason, tail } => {
                    let rest = &self.input[self.pos..];
                    let end = rest.iter().position(|&b| b == b'\n');
                    let upto = end.map_or(rest.len(), |i| i + 1);
                    // Only the last bytes can matter: never copy more than those.
                    tail.extend_from_slice(&rest[upto.saturating_sub(TAIL)..upto]);
                    if tail.len() > TAIL {
                        tail.drain(..tail.len() - TAIL);
                    }
                    self.pos += upto;
                    end?;
                    let (tag, reason) = (tag.take(), *reason);
                    match literal_announcement(tail).filter(|_| literals) {
                        // The client sends a non-synchronising literal without waiting: skip
                        // it and the rest of the command.
                        Some((length, false)) => {
                            self.state = State::SkipLiteral {
                                tag,
                                reason,
                                remaining: length,
                            };
                        }
                        // A synchronising literal is never sent before `+`: the command ends.
                        _ => {
                            self.state = State::Line;
                            return Some(Frame::Discarded { tag, reason });
                        }
                    }
                }
                State::Line => {
                    let line_so_far = self.message.len() - self.line_start;
                    let rest = &self.input[self.pos..];
                    match rest.iter().position(|&b| b == b'\n') {
                        Some(i) if line_so_far + i < self.max_line => {
                            self.take_into_message(i + 1);
                            let line = &self.message[self.line_start..];
                            if literals
                                && let Some((length, synchronizing)) = literal_announcement(line)
                            {
                                self.literals += 1;
                                self.state = State::Announced {
                                    length,
                                    synchronizing,
                                };
                                continue;
                            }
                            self.end_command();
                            return Some(Frame::Complete(std::mem::take(&mut self.message)));
                        }
                        None if line_so_far + rest.len() <= self.max_line => {
                            if rest.is_empty() {
                                return None;
                            }
                            self.take_into_message(rest.len());
                            return None;
                        }
                        _ => {
                            // Too long: keep what identifies the command, drop the rest.
                            let mut head = self.message[..self.message.len().min(64)].to_vec();
                            head.extend(rest.iter().take(64));
                            let tag = recover_tag(&head);
                            self.message.clear();
                            self.end_command();
                            self.state = State::DiscardLine {
                                tag,
                                reason: Discard::LineTooLong,
                                tail: Vec::new(),
                            };
                        }
                    }
                }
            }
        }
    }
}

/// `{n}` / `{n+}` (or `~{n}`, RFC 3516 literal8) at the end of a CRLF-terminated line.
fn literal_announcement(line: &[u8]) -> Option<(u64, bool)> {
    let line = line.strip_suffix(b"\r\n")?;
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let mut digits = &inner[open + 1..];
    let synchronizing = match digits.strip_suffix(b"+") {
        Some(d) => {
            digits = d;
            false
        }
        None => true,
    };
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let length = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some((length, synchronizing))
}

/// The first token of a command when it is a valid tag (RFC 3501 §9: 1*<any ASTRING-CHAR
/// except "+">), so even a command that does not parse gets a tagged `BAD`.
/// A quoted string at the start of `input` (RFC 3501 §9 `quoted`: only `\\` and `\"` escaped,
/// no CR, LF or NUL): its content and how many bytes it took; `None` when malformed.
pub(crate) fn quoted_string(input: &[u8]) -> Option<(Vec<u8>, usize)> {
    if input.first() != Some(&b'"') {
        return None;
    }
    let mut word = Vec::new();
    let mut i = 1;
    loop {
        match *input.get(i)? {
            b'\\' => {
                let escaped = *input.get(i + 1)?;
                if escaped != b'\\' && escaped != b'"' {
                    return None;
                }
                word.push(escaped);
                i += 2;
            }
            b'"' => return Some((word, i + 1)),
            b'\r' | b'\n' | 0 => return None,
            c => {
                word.push(c);
                i += 1;
            }
        }
    }
}

pub(crate) fn recover_tag(bytes: &[u8]) -> Option<String> {
    let end = bytes
        .iter()
        .position(|&b| b == b' ' || b == b'\r' || b == b'\n')
        .unwrap_or(bytes.len());
    let token = &bytes[..end];
    if token.is_empty() || token.len() > 64 {
        return None;
    }
    imap_codec::imap_types::core::Tag::validate(token).ok()?;
    String::from_utf8(token.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(framer: &mut Framer, input: &[u8]) -> Vec<Frame> {
        framer.push(input);
        let mut out = Vec::new();
        while let Some(f) = framer.next(true) {
            let decide = matches!(f, Frame::Literal { .. });
            out.push(f);
            if decide {
                framer.accept_literal();
            }
        }
        out
    }

    #[test]
    fn splits_lines_and_literals() {
        let mut f = Framer::new(1000);
        let got = frames(&mut f, b"a NOOP\r\nb LOGIN {3}\r\nabc {2+}\r\nxy\r\nc NO");
        assert_eq!(
            got,
            vec![
                Frame::Complete(b"a NOOP\r\n".to_vec()),
                Frame::Literal {
                    length: 3,
                    synchronizing: true
                },
                Frame::Literal {
                    length: 2,
                    synchronizing: false
                },
                Frame::Complete(b"b LOGIN {3}\r\nabc {2+}\r\nxy\r\n".to_vec()),
            ]
        );
        assert!(f.in_progress());
        assert_eq!(
            frames(&mut f, b"OP\r\n"),
            vec![Frame::Complete(b"c NOOP\r\n".to_vec())]
        );
        assert!(!f.in_progress());
    }

    #[test]
    fn byte_by_byte_gives_the_same_frames() {
        let input = b"t1 APPEND INBOX {5+}\r\nHello\r\nt2 NOOP\r\n";
        let mut f = Framer::new(1000);
        let mut got = Vec::new();
        for b in input {
            got.extend(frames(&mut f, &[*b]));
        }
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(
            got[1],
            Frame::Complete(b"t1 APPEND INBOX {5+}\r\nHello\r\n".to_vec())
        );
        assert_eq!(got[2], Frame::Complete(b"t2 NOOP\r\n".to_vec()));
    }

    #[test]
    fn over_long_line_is_discarded_with_its_tag() {
        let mut f = Framer::new(20);
        f.push(b"abc SEARCH SUBJECT ");
        assert_eq!(f.next(true), None);
        f.push(&[b'x'; 100]);
        assert_eq!(f.next(true), None);
        f.push(b"\r\nd NOOP\r\n");
        assert_eq!(
            f.next(true),
            Some(Frame::Discarded {
                tag: Some("abc".into()),
                reason: Discard::LineTooLong
            })
        );
        assert_eq!(f.next(true), Some(Frame::Complete(b"d NOOP\r\n".to_vec())));
    }

    #[test]
    fn over_long_line_with_non_synchronising_literal_skips_the_literal() {
        let mut f = Framer::new(20);
        let mut input = b"z SEARCH TEXT ".to_vec();
        input.extend([b'y'; 50]);
        input.extend(b" {4+}\r\nNOOP\r\nw NOOP\r\n");
        f.push(&input);
        assert!(matches!(f.next(true), Some(Frame::Discarded { .. })));
        assert_eq!(f.next(true), Some(Frame::Complete(b"w NOOP\r\n".to_vec())));
    }

    #[test]
    fn refused_literals() {
        // Synchronising: the command ends at once; the next line is a new command.
        let mut f = Framer::new(100);
        f.push(b"a APPEND INBOX {999999}\r\nb NOOP\r\n");
        assert!(matches!(
            f.next(true),
            Some(Frame::Literal {
                length: 999999,
                synchronizing: true
            })
        ));
        assert_eq!(recover_tag(f.partial()).as_deref(), Some("a"));
        f.refuse_literal();
        assert_eq!(f.next(true), Some(Frame::Complete(b"b NOOP\r\n".to_vec())));
        // Non-synchronising: its octets are skipped without being kept.
        f.push(b"c APPEND INBOX {8+}\r\nb NOOP\r\n d\r\ne NOOP\r\n");
        assert!(matches!(
            f.next(true),
            Some(Frame::Literal {
                synchronizing: false,
                ..
            })
        ));
        f.refuse_literal();
        assert_eq!(
            f.next(true),
            Some(Frame::Discarded {
                tag: Some("c".into()),
                reason: Discard::Refused
            })
        );
        assert_eq!(f.next(true), Some(Frame::Complete(b"e NOOP\r\n".to_vec())));
    }

    /// Literals are counted per command (the session checks the syntax at the first one and
    /// then only as the command doubles), and a command of many literals arriving in one read
    /// is framed whole, each byte looked at once.
    #[test]
    fn literals_are_counted_per_command() {
        let mut f = Framer::new(100);
        let mut input = b"a ID (".to_vec();
        for i in 0..20_000 {
            input.extend(if i == 0 {
                &b"{1+}\r\nk"[..]
            } else {
                b" {1+}\r\nv"
            });
        }
        input.extend(b")\r\nb NOOP\r\n");
        f.push(&input);
        let mut counts = Vec::new();
        let mut complete = Vec::new();
        while let Some(frame) = f.next(true) {
            match frame {
                Frame::Literal { .. } => {
                    counts.push(f.literal_count());
                    f.accept_literal();
                }
                Frame::Complete(bytes) => complete.push(bytes),
                Frame::Discarded { .. } => panic!("discarded"),
            }
        }
        assert_eq!(counts.len(), 20_000);
        assert!(counts.iter().enumerate().all(|(i, &c)| c == i + 1));
        assert_eq!(complete.len(), 2);
        assert_eq!(complete[0].len(), input.len() - b"b NOOP\r\n".len());
        assert_eq!(complete[1], b"b NOOP\r\n");
        assert_eq!(f.literal_count(), 0);
        // A refused literal ends the count with its command.
        f.push(b"c LOGIN {5}\r\n");
        assert!(matches!(f.next(true), Some(Frame::Literal { .. })));
        assert_eq!(f.literal_count(), 1);
        f.refuse_literal();
        assert_eq!(f.literal_count(), 0);
    }

    #[test]
    fn line_mode_ignores_braces() {
        let mut f = Framer::new(100);
        f.push(b"DONE {5}\r\n");
        assert_eq!(
            f.next(false),
            Some(Frame::Complete(b"DONE {5}\r\n".to_vec()))
        );
    }

    #[test]
    fn announcements_and_tags() {
        for (line, want) in [
            (&b"a LOGIN {5}\r\n"[..], Some((5, true))),
            (b"a LOGIN {5+}\r\n", Some((5, false))),
            (b"a APPEND x ~{12}\r\n", Some((12, true))),
            (b"a LOGIN {}\r\n", None),
            (b"a LOGIN {5}\n", None),
            (b"a LOGIN {x}\r\n", None),
            (b"a LOGIN \"{5}\"\r\n", None),
        ] {
            assert_eq!(literal_announcement(line), want, "{line:?}");
        }
        for (input, want) in [
            (&b"A001 NOOP"[..], Some("A001")),
            (b"* NOOP", None),
            (b"a+b NOOP", None),
            (b"", None),
            (b"\xff\xfe x", None),
            (b"x\r\n", Some("x")),
        ] {
            assert_eq!(recover_tag(input).as_deref(), want, "{input:?}");
        }
    }

    /// Real commands, mutated, in random pieces through the framer and the codec, with the
    /// session's literal decisions: no panic, and memory stays bounded.
    #[test]
    fn fuzz_framer_and_codec() {
        use imap_codec::CommandCodec;
        use imap_codec::decode::Decoder;
        const COMMANDS: &[&[u8]] = &[
            b"a1 LOGIN {5}\r\nuser1 {8+}\r\npassword\r\n",
            b"a2 APPEND INBOX (\\Seen) {12+}\r\nSubject: x\r\n\r\n",
            b"a3 UID FETCH 1:* (BODY.PEEK[1.2.MIME]<0.10> FLAGS ENVELOPE)\r\n",
            b"a4 SEARCH CHARSET UTF-8 OR SUBJECT {4+}\r\n\xc4\x90\xe1\xba NOT SEEN\r\n",
            b"a5 ID (\"name\" {3}\r\nabc \"os\" NIL)\r\n",
            b"a6 AUTHENTICATE PLAIN AGEAYg==\r\n",
            b"a7 APPEND INBOX ~{3}\r\n\x00\x01\x02\r\n",
            b"a8 STORE 1,3:5 +FLAGS.SILENT (\\Deleted $Junk)\r\n",
            b"a9 SELECT INBOX (CONDSTORE QRESYNC (1 2 1:5))\r\n",
            b"b1 IDLE\r\nDONE\r\n",
        ];
        const DICTIONARY: &[&[u8]] = &[
            b"{0}\r\n",
            b"{1+}\r\n",
            b"{4294967296}\r\n",
            b"~{2}\r\n",
            b"\r\n",
            b"\"",
            b"(",
            b")",
            b"[",
            b"]",
            b"<0.1>",
            b"*",
            b"NIL",
            b" ",
            b"\\",
        ];
        hopthu_fuzz::run("imap framer", 3000, |rng| {
            let mut framer = Framer::new(200);
            let mut stream = Vec::new();
            for _ in 0..1 + rng.below(4) {
                let command = *rng.pick(COMMANDS);
                stream.extend(hopthu_fuzz::mutate(rng, command, DICTIONARY));
            }
            let mut at = 0;
            while at < stream.len() {
                let n = 1 + rng.below(64).min(stream.len() - at - 1);
                framer.push(&stream[at..at + n]);
                at += n;
                while let Some(frame) = framer.next(!rng.one_in(8)) {
                    match frame {
                        Frame::Literal { length, .. } => {
                            let _ = CommandCodec::default().decode(framer.partial());
                            let _ = recover_tag(framer.partial());
                            // As the session does: a cap on the whole command.
                            if rng.one_in(3) || framer.partial().len() as u64 + length > 1000 {
                                framer.refuse_literal();
                            } else {
                                framer.accept_literal();
                            }
                        }
                        Frame::Complete(bytes) => {
                            let _ = CommandCodec::default().decode(&bytes);
                            let _ = recover_tag(&bytes);
                        }
                        Frame::Discarded { .. } => {}
                    }
                    assert!(
                        framer.message.len() <= 1000 + 200,
                        "{}",
                        framer.message.len()
                    );
                }
            }
        });
    }
}
