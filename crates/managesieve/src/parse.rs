//! The command syntax of RFC 5804 §4: a command is a name and arguments separated by spaces,
//! ending with CRLF; an argument is an atom (a command name, a number), a quoted string
//! (`"…"`, with `\"` and `\\`) or a literal (`{n+}` CRLF then n octets; `{n}` is accepted the
//! same way, without a continuation). A literal may be followed by more arguments on the next
//! line.
//!
//! Reading is bounded: a line is at most [`MAX_LINE`] octets (longer ones are read to their end
//! and refused), a literal at most `max_literal` octets (a larger one is read and dropped up to
//! `max_skip`, beyond which the connection is given up), and a command has at most
//! [`MAX_LITERALS`] literals. A bare LF ends a line like CRLF.

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

/// The longest command line (without literals).
pub(crate) const MAX_LINE: usize = 8192;
/// Literals in one command (PUTSCRIPT and RENAMESCRIPT need two strings at most).
const MAX_LITERALS: usize = 4;
/// Arguments in one command.
const MAX_ARGS: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Arg {
    /// A bare word: a command name, a number, `ACTIVE`.
    Atom(String),
    /// A quoted string or a literal, as octets.
    Str(Vec<u8>),
}

impl Arg {
    /// The argument as text: a string's UTF-8 content, or an atom.
    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            Arg::Atom(a) => Some(a),
            Arg::Str(s) => std::str::from_utf8(s).ok(),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Input {
    /// A whole command (or, in AUTHENTICATE, a client response), its arguments in order.
    Command(Vec<Arg>),
    /// A syntax error; the rest of the command was read and dropped.
    Bad(&'static str),
    /// A literal larger than allowed was read and dropped with the rest of its command.
    TooBig,
    /// A literal too large even to skip: the connection is to be closed.
    Fatal,
    /// The client closed the connection.
    Eof,
}

pub(crate) struct Bounds {
    /// The largest literal kept.
    pub max_literal: u64,
    /// The largest literal read and dropped (beyond: [`Input::Fatal`]).
    pub max_skip: u64,
}

enum Line {
    Text(Vec<u8>),
    TooLong,
    Eof,
}

/// Reads one LF-terminated line of at most [`MAX_LINE`] octets, without its CRLF or LF; a
/// longer line is read to its end and reported as too long.
async fn read_line<R: AsyncBufRead + Unpin>(io: &mut R) -> std::io::Result<Line> {
    let mut buf = Vec::new();
    let n = (&mut *io)
        .take(MAX_LINE as u64 + 2)
        .read_until(b'\n', &mut buf)
        .await?;
    if n == 0 {
        return Ok(Line::Eof);
    }
    if buf.last() != Some(&b'\n') {
        if buf.len() < MAX_LINE + 2 {
            return Ok(Line::Eof);
        }
        loop {
            let mut rest = Vec::new();
            let n = (&mut *io)
                .take(MAX_LINE as u64)
                .read_until(b'\n', &mut rest)
                .await?;
            if n == 0 || rest.last() == Some(&b'\n') {
                return Ok(Line::TooLong);
            }
        }
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Line::Text(buf))
}

/// Reads the next command, with its literals.
pub(crate) async fn read_command<R: AsyncBufRead + Unpin>(
    io: &mut R,
    bounds: &Bounds,
) -> std::io::Result<Input> {
    let mut args = Vec::new();
    let mut literals = 0;
    let mut problem: Option<Input> = None;
    loop {
        let line = match read_line(io).await? {
            Line::Eof => return Ok(Input::Eof),
            Line::TooLong => return Ok(problem.unwrap_or(Input::Bad("line too long"))),
            Line::Text(line) => line,
        };
        let literal = match tokenize(&line, &mut args) {
            Ok(literal) => literal,
            Err(e) => return Ok(problem.unwrap_or(Input::Bad(e))),
        };
        if args.len() > MAX_ARGS && problem.is_none() {
            problem = Some(Input::Bad("too many arguments"));
        }
        let Some(n) = literal else {
            return Ok(problem.unwrap_or(Input::Command(args)));
        };
        literals += 1;
        if n > bounds.max_skip || literals > MAX_LITERALS {
            return Ok(Input::Fatal);
        }
        if n > bounds.max_literal || problem.is_some() {
            // Read and drop it; the command is refused once it ends.
            let skipped = tokio::io::copy(&mut (&mut *io).take(n), &mut tokio::io::sink()).await?;
            if skipped < n {
                return Ok(Input::Eof);
            }
            problem.get_or_insert(Input::TooBig);
            continue;
        }
        let mut data = Vec::with_capacity(n as usize);
        (&mut *io).take(n).read_to_end(&mut data).await?;
        if (data.len() as u64) < n {
            return Ok(Input::Eof);
        }
        args.push(Arg::Str(data));
    }
}

/// Splits one line into arguments (appended to `args`); `Some(n)` when it ends with a literal
/// announcement `{n+}` or `{n}`, whose octets follow the line.
fn tokenize(line: &[u8], args: &mut Vec<Arg>) -> Result<Option<u64>, &'static str> {
    let mut i = 0;
    loop {
        while line.get(i) == Some(&b' ') {
            i += 1;
        }
        let Some(&first) = line.get(i) else {
            return Ok(None);
        };
        match first {
            b'"' => {
                let mut s = Vec::new();
                i += 1;
                loop {
                    match line.get(i) {
                        None => return Err("unterminated quoted string"),
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(b'\\') => match line.get(i + 1) {
                            Some(&c @ (b'"' | b'\\')) => {
                                s.push(c);
                                i += 2;
                            }
                            _ => return Err("bad escape in a quoted string"),
                        },
                        Some(0 | b'\r') => return Err("control character in a quoted string"),
                        Some(&c) => {
                            s.push(c);
                            i += 1;
                        }
                    }
                }
                if s.len() > 1024 {
                    return Err("quoted string too long: use a literal");
                }
                args.push(Arg::Str(s));
            }
            b'{' => {
                let rest = &line[i + 1..];
                let close = rest.iter().position(|&c| c == b'}').ok_or("bad literal")?;
                if close + 1 != rest.len() {
                    return Err("a literal must end the line");
                }
                let digits = rest[..close].strip_suffix(b"+").unwrap_or(&rest[..close]);
                if digits.is_empty() || digits.len() > 24 || !digits.iter().all(u8::is_ascii_digit)
                {
                    return Err("bad literal length");
                }
                // Beyond u64: as large as can be (too large to read).
                let n = std::str::from_utf8(digits)
                    .ok()
                    .and_then(|d| d.parse::<u64>().ok())
                    .unwrap_or(u64::MAX);
                return Ok(Some(n));
            }
            _ => {
                let start = i;
                while let Some(&c) = line.get(i) {
                    if c == b' ' {
                        break;
                    }
                    if !c.is_ascii_graphic() || c == b'"' || c == b'{' || c == b'}' {
                        return Err("bad character in a command");
                    }
                    i += 1;
                }
                let atom = String::from_utf8_lossy(&line[start..i]).into_owned();
                args.push(Arg::Atom(atom));
            }
        }
        if i < line.len() && line[i] != b' ' {
            return Err("arguments must be separated by spaces");
        }
    }
}

/// A string as the server sends it: quoted when short and plain, else a literal `{n}`.
pub(crate) fn string(text: &str) -> String {
    if text.len() <= 1024 && !text.bytes().any(|c| matches!(c, b'\r' | b'\n' | 0)) {
        let mut out = String::with_capacity(text.len() + 2);
        out.push('"');
        for c in text.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        out
    } else {
        format!("{{{}}}\r\n{text}", text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::BufReader;

    fn bounds() -> Bounds {
        Bounds {
            max_literal: 100,
            max_skip: 1000,
        }
    }

    fn read_all(input: &[u8], capacity: usize) -> Vec<Input> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut reader = BufReader::with_capacity(capacity, input);
            let mut out = Vec::new();
            loop {
                let input = read_command(&mut reader, &bounds()).await.unwrap();
                let end = matches!(input, Input::Eof | Input::Fatal);
                out.push(input);
                if end {
                    return out;
                }
            }
        })
    }

    fn atom(s: &str) -> Arg {
        Arg::Atom(s.into())
    }

    fn st(s: &str) -> Arg {
        Arg::Str(s.as_bytes().to_vec())
    }

    /// RFC 5804 §2.6's PUTSCRIPT example, with a literal and a quoted name.
    #[test]
    fn putscript_with_a_literal_then_more_commands() {
        let input = b"Putscript \"foo\" {31+}\r\n#comment\r\nInvalidSieveCommand\r\n\r\nLOGOUT\r\n";
        let got = read_all(input, 7);
        assert_eq!(
            got,
            vec![
                Input::Command(vec![
                    atom("Putscript"),
                    st("foo"),
                    st("#comment\r\nInvalidSieveCommand\r\n")
                ]),
                Input::Command(vec![atom("LOGOUT")]),
                Input::Eof
            ]
        );
    }

    #[test]
    fn quoted_escapes_synchronising_literals_and_bare_lf() {
        let input = b"RENAMESCRIPT \"a\\\"b\\\\c\" {3}\nxyz\nNOOP\n";
        assert_eq!(
            read_all(input, 64),
            vec![
                Input::Command(vec![atom("RENAMESCRIPT"), st("a\"b\\c"), st("xyz")]),
                Input::Command(vec![atom("NOOP")]),
                Input::Eof
            ]
        );
    }

    #[test]
    fn a_literal_may_be_followed_by_arguments() {
        let input = b"HAVESPACE {3+}\r\nabc 1000\r\n";
        assert_eq!(
            read_all(input, 64),
            vec![
                Input::Command(vec![atom("HAVESPACE"), st("abc"), atom("1000")]),
                Input::Eof
            ]
        );
    }

    #[test]
    fn hostile_input_gets_errors_and_reading_goes_on() {
        let mut input = Vec::new();
        input.extend(b"PUTSCRIPT \"x\" {500+}\r\n");
        input.extend(vec![b'a'; 500]);
        input.extend(b"\r\nNOOP\r\n");
        input.extend(b"\"unterminated\r\n");
        input.extend(b"BAD\\ESC \"\\n\"\r\n");
        input.extend(b"X {12a}\r\n");
        input.extend(b"X {1} trailing\r\n");
        input.extend(b"\x00\xff\r\n");
        input.extend(vec![b'A'; 3 * MAX_LINE]);
        input.extend(b"\r\nNOOP\r\n");
        input.extend(b"X {99999999999}\r\n");
        input.extend(b"X {4+}\r\n");
        let got = read_all(&input, 16);
        assert_eq!(got[0], Input::TooBig);
        assert_eq!(got[1], Input::Command(vec![atom("NOOP")]));
        assert!(matches!(got[2], Input::Bad(_)), "{:?}", got[2]);
        assert!(matches!(got[3], Input::Bad(_)), "{:?}", got[3]);
        assert!(matches!(got[4], Input::Bad(_)), "{:?}", got[4]);
        assert!(matches!(got[5], Input::Bad(_)), "{:?}", got[5]);
        assert!(matches!(got[6], Input::Bad(_)), "{:?}", got[6]);
        assert_eq!(got[7], Input::Bad("line too long"));
        assert_eq!(got[8], Input::Command(vec![atom("NOOP")]));
        assert_eq!(got[9], Input::Fatal);
        // A literal cut short by the end of the stream.
        assert_eq!(read_all(b"X {4+}\r\nab", 8), vec![Input::Eof]);
        // Too many literals in one command.
        let many = b"X {1+}\r\na {1+}\r\nb {1+}\r\nc {1+}\r\nd {1+}\r\ne\r\n";
        assert_eq!(read_all(many, 8), vec![Input::Fatal]);
    }

    #[test]
    fn strings_are_quoted_or_sent_as_literals() {
        assert_eq!(string("abc"), "\"abc\"");
        assert_eq!(string("a\"b\\"), "\"a\\\"b\\\\\"");
        assert_eq!(string("line 1\r\nline 2"), "{14}\r\nline 1\r\nline 2");
        assert_eq!(string("Tiếng Việt"), "\"Tiếng Việt\"");
    }

    /// Mutated commands through the reader: no panic, nothing kept beyond the bounds.
    #[test]
    fn fuzz_commands() {
        const COMMANDS: &[&[u8]] = &[
            b"AUTHENTICATE \"PLAIN\" \"AGRhdG52QGNhb2JhbmcuZ292LnZuAG1r\"\r\n",
            b"PUTSCRIPT \"a\" {20+}\r\nrequire \"fileinto\";\n\r\n",
            b"HAVESPACE \"x\" 100\r\nLISTSCRIPTS\r\nSETACTIVE \"\"\r\n",
            b"RENAMESCRIPT {1+}\r\na {1}\r\nb\r\nGETSCRIPT \"a\"\r\n",
            b"CHECKSCRIPT {5+}\r\nkeep;\r\nNOOP \"t\"\r\nLOGOUT\r\n",
        ];
        const DICTIONARY: &[&[u8]] = &[
            b"\r\n",
            b"\n",
            b" ",
            b"\0",
            b"\"",
            b"\\",
            b"{",
            b"}",
            b"+}",
            b"{4294967296+}",
            b"{18446744073709551616}",
            b"{99+}\r\n",
            b"\xff\xfe",
        ];
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        hopthu_fuzz::run("managesieve", 3000, |rng| {
            let command = *rng.pick(COMMANDS);
            let input = hopthu_fuzz::mutate(rng, command, DICTIONARY);
            runtime.block_on(async {
                let mut reader = BufReader::with_capacity(1 + rng.below(64), &input[..]);
                for _ in 0..64 {
                    match read_command(&mut reader, &bounds()).await {
                        Ok(Input::Command(args)) => {
                            assert!(args.len() <= MAX_ARGS);
                            for a in &args {
                                if let Arg::Str(s) = a {
                                    assert!(s.len() as u64 <= bounds().max_literal.max(1024));
                                }
                                let _ = a.text().map(string);
                            }
                        }
                        Ok(Input::Bad(_) | Input::TooBig) => {}
                        Ok(Input::Eof | Input::Fatal) | Err(_) => break,
                    }
                }
            });
        });
    }
}
