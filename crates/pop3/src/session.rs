//! One POP3 session: AUTHORIZATION → TRANSACTION → UPDATE (RFC 1939 §3).
//!
//! Commands (RFC 1939 §5–7, RFC 2449, RFC 2595, RFC 5034):
//! `CAPA`, `STLS`, `USER name`, `PASS secret`, `AUTH PLAIN [initial]`, `STAT`, `LIST [n]`,
//! `RETR n`, `DELE n`, `NOOP`, `RSET`, `TOP n lines`, `UIDL [n]`, `QUIT`.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use hopthu_core::{AuthError, BlobId, Core, MaildropLock, Principal, SignInError};
use hopthu_model::{Flag, FlagOp, Flags, MailboxId, Uid};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::io::Io;

/// RFC 2449 §4: a command line is at most 255 octets; SASL responses may be longer.
const MAX_LINE: usize = 4096;
/// Errors in a row before the server gives up on a client.
const MAX_ERRORS: u32 = 20;

struct Message {
    uid: Uid,
    blob: BlobId,
    size: u32,
    deleted: bool,
}

struct Maildrop {
    principal: Principal,
    inbox: MailboxId,
    uidvalidity: u32,
    messages: Vec<Message>,
    _lock: MaildropLock,
}

enum State {
    Authorization { user: Option<String> },
    Transaction(Box<Maildrop>),
}

struct Session {
    core: Arc<Core>,
    /// The client's address: connection permits and sign-in throttling count by it.
    peer: std::net::IpAddr,
    io: BufReader<Io>,
    tls: bool,
    state: State,
    errors: u32,
    /// `[limits] command_burst` / `commands_per_second`: a flood of commands is paced.
    pace: hopthu_core::CommandPace,
    /// When the credentials were last found still valid (`Core::still_valid`).
    credentials_checked: std::time::Instant,
}

/// What the command loop does after a command.
enum Next {
    Continue,
    StartTls,
    Quit,
}

pub(crate) async fn run(
    core: Arc<Core>,
    acceptor: TlsAcceptor,
    implicit_tls: bool,
    tcp: TcpStream,
    shutdown: CancellationToken,
) {
    let Ok(peer) = tcp.peer_addr().map(|a| a.ip()) else {
        return;
    };
    let io = if implicit_tls {
        match tokio::time::timeout(Duration::from_secs(30), acceptor.accept(tcp)).await {
            Ok(Ok(tls)) => Io::Tls(Box::new(tls)),
            _ => {
                tracing::debug!("tls handshake failed");
                return;
            }
        }
    } else {
        Io::Plain(tcp)
    };
    // Đ13.3: at most `connections_per_ip` simultaneous connections from one address.
    let permit = core.open_connection(peer);
    // RFC 1939 §3: an inactivity timer of at least 10 minutes (`[limits] pop3_idle_timeout`).
    let idle_timeout = core.config().limits.pop3_idle_timeout;
    let pace = hopthu_core::CommandPace::from_limits(&core.config().limits);
    let mut session = Session {
        core,
        peer,
        io: BufReader::new(io),
        tls: implicit_tls,
        state: State::Authorization { user: None },
        errors: 0,
        pace,
        credentials_checked: std::time::Instant::now(),
    };
    if permit.is_none() {
        let max = session.core.config().limits.connections_per_ip;
        tracing::warn!(max, "too many connections from this address");
        let refusal =
            format!("-ERR [SYS/TEMP] too many connections from your address (at most {max})\r\n");
        let _ = session.write(refusal.as_bytes()).await;
        return;
    }
    let _permit = permit;
    let greeting = format!(
        "+OK {} POP3 hopthu ready\r\n",
        session.core.config().hostname
    );
    if session.write(greeting.as_bytes()).await.is_err() {
        return;
    }
    loop {
        let line = tokio::select! {
            line = tokio::time::timeout(idle_timeout, read_line(&mut session.io)) => line,
            _ = shutdown.cancelled() => {
                let _ = session.write(b"-ERR [SYS/TEMP] server shutting down\r\n").await;
                return;
            }
        };
        let line = match line {
            Err(_) => {
                let _ = session.write(b"-ERR idle timeout, closing\r\n").await;
                return;
            }
            Ok(Err(_)) | Ok(Ok(Line::Eof)) => return,
            Ok(Ok(Line::TooLong)) => {
                if session.error("-ERR line too long").await.is_err() {
                    return;
                }
                continue;
            }
            Ok(Ok(Line::Text(line))) => line,
        };
        let next = session.command(&line).await;
        let wait = session.pace.take(std::time::Instant::now());
        if !wait.is_zero() {
            // The answer is already written; the next command waits.
            tokio::time::sleep(wait).await;
        }
        match next {
            Ok(Next::Continue) => {}
            Ok(Next::Quit) | Err(_) => return,
            Ok(Next::StartTls) => {
                // RFC 2595 §4: anything the client pipelined after STLS is discarded.
                let Io::Plain(tcp) = session.io.into_inner() else {
                    return;
                };
                match tokio::time::timeout(Duration::from_secs(30), acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => {
                        session.io = BufReader::new(Io::Tls(Box::new(tls)));
                        session.tls = true;
                    }
                    _ => return,
                }
            }
        }
    }
}

enum Line {
    Text(String),
    TooLong,
    Eof,
}

/// Reads one CRLF- (or LF-) terminated line of at most [`MAX_LINE`] octets; a longer line is
/// read to its end and discarded.
async fn read_line<R: AsyncBufRead + Unpin>(io: &mut R) -> std::io::Result<Line> {
    let mut buf = Vec::new();
    let n = (&mut *io)
        .take(MAX_LINE as u64)
        .read_until(b'\n', &mut buf)
        .await?;
    if n == 0 {
        return Ok(Line::Eof);
    }
    if buf.last() != Some(&b'\n') {
        if buf.len() < MAX_LINE {
            return Ok(Line::Eof);
        }
        // Discard the rest of the over-long line, in bounded chunks.
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
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(Line::Text(String::from_utf8_lossy(&buf).into_owned()))
}

impl Session {
    async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let io = self.io.get_mut();
        io.write_all(bytes).await?;
        io.flush().await
    }

    async fn ok(&mut self, text: &str) -> std::io::Result<()> {
        self.errors = 0;
        self.write(format!("+OK {text}\r\n").as_bytes()).await
    }

    /// Sends an `-ERR` line; after too many in a row, closes the session.
    async fn error(&mut self, line: &str) -> std::io::Result<()> {
        self.errors += 1;
        self.write(format!("{line}\r\n").as_bytes()).await?;
        if self.errors >= MAX_ERRORS {
            self.write(b"-ERR too many errors, closing\r\n").await?;
            return Err(std::io::Error::other("too many errors"));
        }
        Ok(())
    }

    async fn command(&mut self, line: &str) -> std::io::Result<Next> {
        let (verb, args) = split_command(line);
        // A revocation or a password reset ends the session, without the UPDATE state: what
        // it marked deleted stays.
        if let State::Transaction(maildrop) = &self.state
            && self.credentials_checked.elapsed() >= std::time::Duration::from_secs(1)
        {
            self.credentials_checked = std::time::Instant::now();
            if !self.core.still_valid(&maildrop.principal).await {
                self.write(b"-ERR [AUTH] the password changed or the mailbox was revoked; sign in again\r\n")
                    .await?;
                return Ok(Next::Quit);
            }
        }
        match (&self.state, verb.as_str()) {
            (_, "CAPA") => self.capa().await?,
            (_, "NOOP") if matches!(self.state, State::Transaction(_)) => self.ok("").await?,
            (_, "QUIT") => {
                self.quit().await?;
                return Ok(Next::Quit);
            }
            (State::Authorization { .. }, "STLS") => {
                if self.tls {
                    self.error("-ERR already under TLS").await?;
                } else {
                    self.ok("begin TLS negotiation").await?;
                    return Ok(Next::StartTls);
                }
            }
            (State::Authorization { .. }, "USER" | "PASS" | "AUTH") if !self.tls => {
                self.error("-ERR [AUTH] TLS required: use STLS first (hãy dùng STLS)")
                    .await?;
            }
            (State::Authorization { .. }, "USER") => {
                if args.trim().is_empty() {
                    self.error("-ERR USER needs a name").await?;
                } else {
                    self.state = State::Authorization {
                        user: Some(args.trim().to_string()),
                    };
                    self.ok("send PASS").await?;
                }
            }
            (State::Authorization { user }, "PASS") => match user.clone() {
                None => self.error("-ERR USER first").await?,
                Some(user) => self.sign_in(&user, args).await?,
            },
            (State::Authorization { .. }, "AUTH") => self.auth(args).await?,
            (State::Transaction(_), verb) => self.transaction(verb, args).await?,
            (State::Authorization { .. }, _) => {
                self.error("-ERR unknown command or not allowed before sign-in")
                    .await?;
            }
        }
        Ok(Next::Continue)
    }

    async fn capa(&mut self) -> std::io::Result<()> {
        let mut lines = vec!["+OK capability list follows", "TOP", "UIDL", "RESP-CODES"];
        lines.extend(["AUTH-RESP-CODE", "PIPELINING", "EXPIRE NEVER"]);
        let authorization = matches!(self.state, State::Authorization { .. });
        if authorization && !self.tls {
            lines.push("STLS");
        }
        if authorization && self.tls {
            lines.extend(["USER", "SASL PLAIN"]);
        }
        lines.extend(["IMPLEMENTATION hopthu", "."]);
        self.errors = 0;
        self.write((lines.join("\r\n") + "\r\n").as_bytes()).await
    }

    /// `AUTH PLAIN [initial-response]` (RFC 5034 §4).
    async fn auth(&mut self, args: &str) -> std::io::Result<()> {
        let mut parts = args.split_whitespace();
        let mechanism = parts.next().unwrap_or("").to_ascii_uppercase();
        if mechanism.is_empty() {
            // RFC 5034 §4: AUTH without a mechanism lists them (as some clients probe).
            self.errors = 0;
            return self.write(b"+OK\r\nPLAIN\r\n.\r\n").await;
        }
        if mechanism != "PLAIN" {
            return self.error("-ERR unsupported mechanism").await;
        }
        let response = match parts.next() {
            Some(initial) => initial.to_string(),
            None => {
                self.write(b"+ \r\n").await?;
                match read_line(&mut self.io).await? {
                    Line::Text(line) => line,
                    Line::TooLong => return self.error("-ERR response too long").await,
                    Line::Eof => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                }
            }
        };
        match plain_credentials(&response) {
            Ok((authcid, password)) => self.sign_in(&authcid, &password).await,
            Err(line) => self.error(line).await,
        }
    }

    async fn sign_in(&mut self, user: &str, password: &str) -> std::io::Result<()> {
        let principal = match self
            .core
            .authenticate_from(self.peer, hopthu_core::SignInVia::Pop3, user, password)
            .await
        {
            Ok(p) => p,
            Err(SignInError::Throttled { retry_after }) => {
                tracing::warn!(user, "sign-in throttled");
                self.state = State::Authorization { user: None };
                let reply = format!(
                    "-ERR [SYS/TEMP] too many failed sign-ins, try again in {} s",
                    retry_after.as_secs().max(1)
                );
                return self.error(&reply).await;
            }
            Err(SignInError::Auth(AuthError::InvalidCredentials)) => {
                tracing::info!(user, "sign-in failed");
                // The core's throttle already paused (RFC 1939 §4: slower guessing).
                self.state = State::Authorization { user: None };
                return self
                    .error("-ERR [AUTH] invalid user name or password")
                    .await;
            }
            Err(SignInError::Auth(AuthError::Disabled)) => {
                self.state = State::Authorization { user: None };
                return self.error("-ERR [AUTH] this mailbox is revoked").await;
            }
            Err(SignInError::Auth(AuthError::Expired)) => {
                self.state = State::Authorization { user: None };
                return self
                    .error(
                        "-ERR [AUTH] the first password has expired; ask your unit for a new one",
                    )
                    .await;
            }
            Err(SignInError::Auth(AuthError::Delegated)) => {
                self.state = State::Authorization { user: None };
                return self
                    .error(
                        "-ERR [AUTH] hop thu don vi da giao quyen, hay dang nhap bang tai khoan cua chinh minh / this unit mailbox is delegated: sign in with your own account",
                    )
                    .await;
            }
            Err(SignInError::Auth(AuthError::Temporary)) => {
                return self.error("-ERR [SYS/TEMP] try again later").await;
            }
        };
        if let Err(notice) = self.core.check_mail_client_access(&principal) {
            tracing::info!(user, "sign-in refused: one-time password not changed yet");
            self.state = State::Authorization { user: None };
            return self.error(&format!("-ERR [AUTH] {notice}")).await;
        }
        let Some(lock) = self.core.lock_maildrop(principal.account) else {
            self.state = State::Authorization { user: None };
            return self
                .error("-ERR [IN-USE] maildrop is in use by another POP3 session")
                .await;
        };
        let loaded = async {
            let inbox = self.core.mailbox(&principal, "INBOX").await?;
            let messages = self.core.messages(&principal, inbox.id).await?;
            Ok::<_, hopthu_core::Error>((inbox, messages))
        }
        .await;
        let (inbox, messages) = match loaded {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "cannot open maildrop");
                return self.error("-ERR [SYS/TEMP] cannot open the maildrop").await;
            }
        };
        // Đ13.1: a POP3 session opens the mailbox.
        self.core.note_mailbox_opened(principal.account).await;
        tracing::info!(user = %principal.address, messages = messages.len(), "signed in");
        let count = messages.len();
        self.credentials_checked = std::time::Instant::now();
        self.state = State::Transaction(Box::new(Maildrop {
            principal,
            inbox: inbox.id,
            uidvalidity: inbox.uidvalidity,
            messages: messages
                .into_iter()
                .map(|m| Message {
                    uid: m.uid,
                    blob: m.blob,
                    size: m.size,
                    deleted: false,
                })
                .collect(),
            _lock: lock,
        }));
        self.ok(&format!("maildrop locked and ready, {count} messages"))
            .await
    }

    async fn transaction(&mut self, verb: &str, args: &str) -> std::io::Result<()> {
        let State::Transaction(drop) = &mut self.state else {
            unreachable!("called in TRANSACTION only");
        };
        let numbers: Vec<Option<usize>> = args
            .split_whitespace()
            .map(|a| a.parse::<usize>().ok())
            .collect();
        // A message number that exists and is not marked deleted.
        let pick = |drop: &Maildrop, n: Option<&Option<usize>>| -> Result<usize, &'static str> {
            match n {
                None => Err("-ERR message number required"),
                Some(None) => Err("-ERR invalid message number"),
                Some(Some(n)) if *n == 0 || *n > drop.messages.len() => Err("-ERR no such message"),
                Some(Some(n)) if drop.messages[n - 1].deleted => {
                    Err("-ERR message is marked deleted")
                }
                Some(Some(n)) => Ok(n - 1),
            }
        };
        match verb {
            "STAT" => {
                let live = drop.messages.iter().filter(|m| !m.deleted);
                let (count, octets) =
                    live.fold((0, 0u64), |(c, o), m| (c + 1, o + u64::from(m.size)));
                self.ok(&format!("{count} {octets}")).await
            }
            "LIST" | "UIDL" => {
                let show = |drop: &Maildrop, i: usize| -> String {
                    let m = &drop.messages[i];
                    if verb == "LIST" {
                        format!("{} {}", i + 1, m.size)
                    } else {
                        format!("{} {}.{}", i + 1, drop.uidvalidity, m.uid)
                    }
                };
                if numbers.is_empty() {
                    let mut out = String::from("+OK\r\n");
                    for i in 0..drop.messages.len() {
                        if !drop.messages[i].deleted {
                            out.push_str(&show(drop, i));
                            out.push_str("\r\n");
                        }
                    }
                    out.push_str(".\r\n");
                    self.errors = 0;
                    self.write(out.as_bytes()).await
                } else {
                    match pick(drop, numbers.first()) {
                        Ok(i) => {
                            let line = show(drop, i);
                            self.ok(&line).await
                        }
                        Err(e) => self.error(e).await,
                    }
                }
            }
            "DELE" => match pick(drop, numbers.first()) {
                Ok(i) => {
                    drop.messages[i].deleted = true;
                    self.ok(&format!("message {} deleted", i + 1)).await
                }
                Err(e) => self.error(e).await,
            },
            "RSET" => {
                drop.messages.iter_mut().for_each(|m| m.deleted = false);
                self.ok("").await
            }
            "RETR" | "TOP" => {
                let i = match pick(drop, numbers.first()) {
                    Ok(i) => i,
                    Err(e) => return self.error(e).await,
                };
                let lines = if verb == "TOP" {
                    match numbers.get(1) {
                        Some(Some(n)) => Some(*n),
                        _ => {
                            return self
                                .error("-ERR TOP needs a message and a line count")
                                .await;
                        }
                    }
                } else {
                    None
                };
                let blob = drop.messages[i].blob.clone();
                let size = drop.messages[i].size;
                let bytes = match self.core.message_bytes(&blob).await {
                    Ok(b) => b,
                    Err(e) => {
                        tracing::warn!(error = %e, "message unreadable");
                        return self.error("-ERR [SYS/TEMP] message unavailable").await;
                    }
                };
                let body = match lines {
                    Some(n) => top(&bytes, n),
                    None => &bytes[..],
                };
                let mut out = format!("+OK {size} octets\r\n").into_bytes();
                dot_stuff(body, &mut out);
                self.errors = 0;
                self.write(&out).await
            }
            "NOOP" => self.ok("").await,
            _ => self.error("-ERR unknown command").await,
        }
    }

    /// QUIT: in TRANSACTION, enter UPDATE and remove the messages marked deleted.
    async fn quit(&mut self) -> std::io::Result<()> {
        let State::Transaction(drop) = &self.state else {
            return self.ok("bye").await;
        };
        let doomed: Vec<Uid> = drop
            .messages
            .iter()
            .filter(|m| m.deleted)
            .map(|m| m.uid)
            .collect();
        if doomed.is_empty() {
            return self.ok("bye").await;
        }
        let (principal, inbox) = (drop.principal.clone(), drop.inbox);
        let deleted = Flags::from_iter([Flag::Deleted]);
        let result = async {
            self.core
                .store_flags(&principal, inbox, &doomed, FlagOp::Add, &deleted, None)
                .await?;
            self.core.expunge(&principal, inbox, Some(&doomed)).await
        }
        .await;
        match result {
            Ok(removed) => {
                self.ok(&format!("bye, {} messages deleted", removed.len()))
                    .await
            }
            Err(e) => {
                tracing::warn!(error = %e, "update failed");
                self.write(b"-ERR [SYS/TEMP] some deleted messages not removed\r\n")
                    .await
            }
        }
    }
}

/// A command line's verb (upper case) and its arguments.
fn split_command(line: &str) -> (String, &str) {
    let (verb, args) = line.split_once(' ').unwrap_or((line, ""));
    (verb.to_ascii_uppercase(), args)
}

/// The user and password of an `AUTH PLAIN` response (RFC 4616: authzid NUL authcid NUL
/// password, base64), or the `-ERR` line to answer.
fn plain_credentials(response: &str) -> Result<(String, String), &'static str> {
    if response.trim() == "*" {
        return Err("-ERR authentication cancelled");
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(response.trim())
        .map_err(|_| "-ERR invalid base64")?;
    let fields: Vec<&[u8]> = decoded.split(|b| *b == 0).collect();
    let [authzid, authcid, password] = fields.as_slice() else {
        return Err("-ERR malformed PLAIN response");
    };
    let (Ok(authzid), Ok(authcid), Ok(password)) = (
        std::str::from_utf8(authzid),
        std::str::from_utf8(authcid),
        std::str::from_utf8(password),
    ) else {
        return Err("-ERR malformed PLAIN response");
    };
    if !authzid.is_empty() && !authzid.eq_ignore_ascii_case(authcid) {
        return Err("-ERR [AUTH] acting as another user is not allowed");
    }
    Ok((authcid.to_string(), password.to_string()))
}

/// The header, the blank line, and the first `lines` lines of the body (RFC 1939 §7 TOP).
fn top(message: &[u8], lines: usize) -> &[u8] {
    let header_end = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .or_else(|| message.windows(2).position(|w| w == b"\n\n").map(|p| p + 2))
        .unwrap_or(message.len());
    let mut end = header_end;
    for _ in 0..lines {
        if end >= message.len() {
            break;
        }
        end = match message[end..].iter().position(|b| *b == b'\n') {
            Some(p) => end + p + 1,
            None => message.len(),
        };
    }
    &message[..end]
}

/// Appends `body` as a multi-line response: lines starting with `.` get another `.`, bare LFs
/// become CRLF, and the terminating `.` line follows (RFC 1939 §3).
fn dot_stuff(body: &[u8], out: &mut Vec<u8>) {
    let mut at_line_start = true;
    let mut prev = 0u8;
    for &b in body {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        at_line_start = b == b'\n';
        prev = b;
    }
    if !at_line_start {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_stuffing_and_line_endings() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"a\r\n.b\r\n", b"a\r\n..b\r\n.\r\n"),
            (b"a\n.\nb", b"a\r\n..\r\nb\r\n.\r\n"),
            (b"", b".\r\n"),
        ];
        for (input, want) in cases {
            let mut out = Vec::new();
            dot_stuff(input, &mut out);
            assert_eq!(&out, want, "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn top_keeps_header_and_n_lines() {
        let m = b"Subject: x\r\nFrom: y\r\n\r\nl1\r\nl2\r\nl3\r\n";
        assert_eq!(top(m, 0), b"Subject: x\r\nFrom: y\r\n\r\n");
        assert_eq!(top(m, 2), b"Subject: x\r\nFrom: y\r\n\r\nl1\r\nl2\r\n");
        assert_eq!(top(m, 99), m);
        assert_eq!(top(b"no body", 3), b"no body");
    }

    /// Mutated command lines, SASL responses and messages through the line reader, the
    /// command split, PLAIN decoding, message numbers, TOP and dot-stuffing: no panic, and
    /// every multi-line response ends with the terminating line.
    #[test]
    fn fuzz_commands_and_messages() {
        const LINES: &[&[u8]] = &[
            b"USER datnv@caobang.gov.vn\r\n",
            b"PASS mat-khau dat 1\r\n",
            b"AUTH PLAIN AGRhdG52QGNhb2JhbmcuZ292LnZuAG1hdC1raGF1\r\n",
            b"TOP 1 10\r\nRETR 2\r\nLIST\r\nUIDL 3\r\nDELE 1\r\n",
            b"STAT\r\nRSET\r\nNOOP\r\nCAPA\r\nSTLS\r\nQUIT\r\n",
        ];
        const DICTIONARY: &[&[u8]] = &[
            b"\r\n",
            b"\n",
            b" ",
            b"\0",
            b"=",
            b"*",
            b"18446744073709551616",
            b"-1",
            b"0",
            b"\xff\xfe",
            b"AAAA",
            b"AA==",
        ];
        const MESSAGE: &[u8] = b"Subject: x\r\nFrom: y\r\n\r\n.l1\r\nl2\n..\r\n.\r\nl3\rno end";
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        hopthu_fuzz::run("pop3", 3000, |rng| {
            let line = *rng.pick(LINES);
            let mut input = hopthu_fuzz::mutate(rng, line, DICTIONARY);
            if rng.one_in(16) {
                input.extend(std::iter::repeat_n(
                    b'x',
                    MAX_LINE + rng.below(3 * MAX_LINE),
                ));
                input.extend(b"\r\nNOOP\r\n");
            }
            runtime.block_on(async {
                let mut reader = BufReader::with_capacity(1 + rng.below(64), &input[..]);
                while let Ok(line) = read_line(&mut reader).await {
                    let text = match line {
                        Line::Eof => break,
                        Line::TooLong => continue,
                        Line::Text(text) => text,
                    };
                    assert!(text.len() <= 3 * MAX_LINE);
                    let (verb, args) = split_command(&text);
                    let _ = plain_credentials(args);
                    let _ = plain_credentials(&text);
                    let numbers: Vec<Option<usize>> = args
                        .split_whitespace()
                        .map(|a| a.parse::<usize>().ok())
                        .collect();
                    if verb == "TOP" {
                        let lines = numbers.get(1).copied().flatten().unwrap_or(0);
                        let message = hopthu_fuzz::mutate(rng, MESSAGE, DICTIONARY);
                        let head = top(&message, lines);
                        let mut out = Vec::new();
                        dot_stuff(head, &mut out);
                        assert!(out.ends_with(b"\r\n.\r\n") || out == b".\r\n");
                    }
                }
            });
        });
    }
}
