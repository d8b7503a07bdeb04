//! One SMTP session: the state machine of RFC 5321 §4.1.4 and §3.3 (greeting → EHLO/HELO →
//! [STARTTLS, RFC 3207] → [AUTH, RFC 4954] → MAIL → RCPT… → DATA/BDAT → …) and its I/O.
//!
//! Replies are collected in an output buffer and written when the session is about to wait for
//! input, so a pipelined batch (RFC 2920 §3.1) is answered in order and in one write.
//!
//! **Invariants**
//! - A command that failed to parse gets exactly one error reply; no input panics the session.
//! - "250" after DATA is sent only after [`hopthu_core::Core::deliver`] returned (see
//!   `cmd/data.rs`).
//! - While waiting for a command the session watches the shutdown token and answers
//!   `421 4.3.2`; while receiving message content it does not, so an in-flight transaction
//!   completes.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hopthu_core::{ConnectionPermit, Core, Principal};
use hopthu_model::EmailAddress;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::Mode;
use crate::cmd;
use crate::reply::Reply;
use crate::stream::{Stream, TlsInfo, tls_info};
use crate::wire::{InputBuffer, LineEvent, command_line_limit};

/// After this many protocol errors (unknown commands, bad syntax, wrong sequence) the session is
/// closed with 421: a client that keeps failing is broken or probing.
const MAX_PROTOCOL_ERRORS: u32 = 20;

/// After this many failed AUTH attempts the session is closed with 421.
pub(crate) const MAX_AUTH_FAILURES: u32 = 5;

/// Longest TLS handshake we wait for.
const MAX_HANDSHAKE: Duration = Duration::from_secs(60);

/// How long a closing session keeps reading (and dropping) input; see [`Session::drain`].
const LINGER: Duration = Duration::from_secs(2);

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 16 * 1024;

/// Why the session stops reading commands.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The client closed the connection.
    Eof,
    /// No input within `limits.smtp_timeout` (answered `421 4.4.2`).
    Timeout,
    /// The server is shutting down (answered `421 4.3.2`).
    Shutdown,
    /// We decided to close after a reply already sent (QUIT, too many errors).
    Closed,
    /// The connection failed (reset, TLS error).
    Io(io::Error),
}

/// What the client said in EHLO/HELO.
#[derive(Debug, Clone)]
pub(crate) struct Helo {
    pub name: String,
    /// EHLO (true) or HELO (false): service extensions apply only after EHLO.
    pub extended: bool,
}

/// A mail transaction, from MAIL to the end of DATA or the last BDAT chunk (RFC 5321 §3.3).
#[derive(Debug, Default)]
pub(crate) struct Transaction {
    /// `None` is the null reverse-path `<>`.
    pub mail_from: Option<EmailAddress>,
    /// `MAIL … SMTPUTF8` (RFC 6531 §3.4).
    pub smtputf8: bool,
    /// Accepted recipients, without duplicates.
    pub recipients: Vec<EmailAddress>,
    /// `MAIL … ENVID=` (RFC 3461 §4.4), kept xtext-encoded as it is relayed.
    pub envid: Option<String>,
    /// `MAIL … RET=FULL|HDRS` (RFC 3461 §4.3).
    pub ret: Option<&'static str>,
    /// `RCPT … NOTIFY= ORCPT=` (RFC 3461 §4.1, §4.2), one per entry of `recipients`.
    pub recipient_dsn: Vec<hopthu_core::RecipientDsn>,
    /// Content received so far by BDAT (RFC 3030); `None` until the first chunk.
    pub chunks: Option<Vec<u8>>,
}

pub(crate) struct Session {
    pub core: Arc<Core>,
    pub tls: TlsAcceptor,
    pub mode: Mode,
    pub shutdown: CancellationToken,
    pub peer: SocketAddr,
    /// Process-unique connection number (logs, `Received:` ids).
    pub conn_id: u64,
    pub stream: Stream,
    pub input: InputBuffer,
    read_buf: Box<[u8]>,
    output: Vec<u8>,
    pub helo: Option<Helo>,
    pub tls_info: Option<TlsInfo>,
    pub principal: Option<Principal>,
    pub transaction: Option<Transaction>,
    /// Messages accepted in this session (for `Received:` ids).
    pub messages: u32,
    protocol_errors: u32,
    pub auth_failures: u32,
    /// The resolver for SPF/DKIM/ARC/DMARC checks (MX listener with `[inbound] verify`).
    pub inbound: Option<Arc<hopthu_core::dns::Dns>>,
    /// This connection counted against its IP (`limits.connections_per_ip`); released on drop.
    permit: Option<ConnectionPermit>,
}

impl Session {
    pub fn new(
        core: Arc<Core>,
        tls: TlsAcceptor,
        mode: Mode,
        shutdown: CancellationToken,
        peer: SocketAddr,
        conn_id: u64,
        tcp: tokio::net::TcpStream,
    ) -> Session {
        Session {
            core,
            tls,
            mode,
            shutdown,
            peer,
            conn_id,
            stream: Stream::Plain(tcp),
            input: InputBuffer::default(),
            read_buf: vec![0; READ_CHUNK].into_boxed_slice(),
            output: Vec::new(),
            helo: None,
            tls_info: None,
            principal: None,
            transaction: None,
            messages: 0,
            protocol_errors: 0,
            auth_failures: 0,
            permit: None,
            inbound: None,
        }
    }

    pub fn hostname(&self) -> &str {
        &self.core.config().hostname
    }

    pub fn max_message_size(&self) -> usize {
        usize::try_from(self.core.config().limits.max_message_size).unwrap_or(usize::MAX)
    }

    /// Runs the session to its end and closes the connection.
    pub async fn run(mut self) {
        tracing::info!("connected");
        let result = self.serve().await;
        let linger = !matches!(result, Err(Stop::Eof) | Err(Stop::Io(_)));
        let reason = match result {
            Ok(()) | Err(Stop::Closed) => "closed".to_string(),
            Err(Stop::Eof) => "client disconnected".to_string(),
            Err(Stop::Timeout) => {
                let text = format!("{} Idle timeout, closing connection", self.hostname());
                self.reply(Reply::new(421, "4.4.2", text));
                "idle timeout".to_string()
            }
            Err(Stop::Shutdown) => {
                let text = format!("{} Server shutting down, try again later", self.hostname());
                self.reply(Reply::new(421, "4.3.2", text));
                "server shutdown".to_string()
            }
            Err(Stop::Io(e)) => format!("connection error: {e}"),
        };
        // Bounded: a client that stopped reading must not hold the session.
        let _ = tokio::time::timeout(Duration::from_secs(10), self.flush()).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.stream.shutdown()).await;
        if linger {
            self.drain().await;
        }
        tracing::info!(reason, messages = self.messages, "disconnected");
    }

    /// Reads and drops what the client still sends, briefly, before closing: closing a socket
    /// with unread input makes the kernel send a reset, which can destroy our last reply
    /// (the 421 or 221) before the client has read it.
    async fn drain(&mut self) {
        let deadline = tokio::time::Instant::now() + LINGER;
        let mut total = 0;
        while total < 256 * 1024 {
            match tokio::time::timeout_at(deadline, self.stream.read(&mut self.read_buf)).await {
                Ok(Ok(n)) if n > 0 => total += n,
                _ => break,
            }
        }
    }

    async fn serve(&mut self) -> Result<(), Stop> {
        if self.mode == Mode::Submissions {
            // RFC 8314 §3.3: implicit TLS, the handshake comes before the greeting.
            self.start_tls().await?;
        }
        self.permit = self.core.open_connection(self.peer.ip());
        if self.permit.is_none() {
            // Đ13.3: too many simultaneous connections from one address.
            let max = self.core.config().limits.connections_per_ip;
            tracing::warn!(max, "too many connections from this address");
            self.reply(Reply::new(
                421,
                "4.7.0",
                format!(
                    "{} Too many connections from your address (at most {max}), try again later",
                    self.hostname()
                ),
            ));
            return Err(Stop::Closed);
        }
        let greeting = format!("{} ESMTP hopthu", self.hostname());
        self.reply(Reply::bare(220, greeting));
        loop {
            let line = match self.next_line(command_line_limit).await? {
                LineEvent::Line(line) => line,
                LineEvent::TooLong | LineEvent::NeedMore => {
                    // RFC 5321 §4.5.3.1.4 (command line) / §4.2.4.
                    self.reply(Reply::new(500, "5.5.2", "Line too long"));
                    self.check_error_limit()?;
                    continue;
                }
            };
            cmd::dispatch(self, &line).await?;
            self.check_error_limit()?;
        }
    }

    fn check_error_limit(&mut self) -> Result<(), Stop> {
        if self.protocol_errors >= MAX_PROTOCOL_ERRORS {
            tracing::warn!(errors = self.protocol_errors, "too many errors");
            self.reply(Reply::new(
                421,
                "4.7.0",
                format!("{} Too many errors, closing connection", self.hostname()),
            ));
            return Err(Stop::Closed);
        }
        Ok(())
    }

    /// Queues a reply; counts protocol errors.
    pub fn reply(&mut self, reply: Reply) {
        if matches!(reply.code, 500..=504 | 530 | 555) {
            self.protocol_errors += 1;
        }
        if !reply.is_positive() {
            tracing::debug!(code = reply.code, text = reply.text(), "refused");
        }
        reply.write_to(&mut self.output);
    }

    /// Writes queued replies.
    pub async fn flush(&mut self) -> Result<(), Stop> {
        if self.output.is_empty() {
            return Ok(());
        }
        let out = std::mem::take(&mut self.output);
        let timeout = self.core.config().limits.smtp_timeout;
        match tokio::time::timeout(timeout, self.stream.write_all(&out)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Stop::Io(e)),
            Err(_) => Err(Stop::Timeout),
        }
    }

    /// Takes the next line, reading as needed. While waiting for a command, shutdown ends the
    /// wait.
    pub async fn next_line(&mut self, limit: fn(&[u8]) -> usize) -> Result<LineEvent, Stop> {
        loop {
            match self.input.next_line(limit) {
                LineEvent::NeedMore => self.fill(true).await?,
                event => return Ok(event),
            }
        }
    }

    /// Writes pending replies, then reads more input (at least one byte).
    /// `interruptible`: give up with [`Stop::Shutdown`] when the server shuts down.
    pub async fn fill(&mut self, interruptible: bool) -> Result<(), Stop> {
        self.flush().await?;
        let timeout = self.core.config().limits.smtp_timeout;
        let read = tokio::time::timeout(timeout, self.stream.read(&mut self.read_buf));
        let result = if interruptible {
            tokio::select! {
                biased;
                _ = self.shutdown.cancelled() => return Err(Stop::Shutdown),
                result = read => result,
            }
        } else {
            read.await
        };
        match result {
            Err(_) => Err(Stop::Timeout),
            Ok(Err(e)) => Err(Stop::Io(e)),
            Ok(Ok(0)) => Err(Stop::Eof),
            Ok(Ok(n)) => {
                self.input.extend(&self.read_buf[..n]);
                Ok(())
            }
        }
    }

    /// Runs the TLS handshake on the plain connection (STARTTLS or implicit TLS) and forgets
    /// everything learnt before it (RFC 3207 §4.2).
    pub async fn start_tls(&mut self) -> Result<(), Stop> {
        self.flush().await?;
        // RFC 3207 §4.2 / command injection: nothing the client sent in plain text after
        // STARTTLS may be used.
        self.input.clear();
        let Some(tcp) = self.stream.take_plain() else {
            return Err(Stop::Closed);
        };
        let limit = self.core.config().limits.smtp_timeout.min(MAX_HANDSHAKE);
        let handshake = tokio::time::timeout(limit, self.tls.accept(tcp));
        let result = tokio::select! {
            biased;
            _ = self.shutdown.cancelled() => return Err(Stop::Closed),
            result = handshake => result,
        };
        match result {
            Ok(Ok(tls)) => {
                let info = tls_info(&tls);
                tracing::debug!(version = %info.version, cipher = %info.cipher, "TLS established");
                self.stream = Stream::Tls(Box::new(tls));
                self.tls_info = Some(info);
                self.helo = None;
                self.transaction = None;
                self.principal = None;
                Ok(())
            }
            Ok(Err(e)) => {
                tracing::info!(error = %e, "TLS handshake failed");
                Err(Stop::Closed)
            }
            Err(_) => {
                tracing::info!("TLS handshake timed out");
                Err(Stop::Closed)
            }
        }
    }

    /// Whether the signed-in user's credentials still hold (`Core::still_valid`: the password
    /// was not changed or reset, the mailbox not revoked or reported compromised). When not,
    /// `421 4.7.0` is queued and the session must end, as IMAP and POP3 sessions do.
    pub async fn credentials_hold(&mut self) -> bool {
        let Some(principal) = &self.principal else {
            return true;
        };
        if self.core.still_valid(principal).await {
            return true;
        }
        tracing::info!(login = %principal.address, "credentials changed or mailbox revoked: session ended");
        let text = format!(
            "{} Mat khau da doi hoac hop thu bi thu hoi, hay dang nhap lai / \
             the password changed or the mailbox was revoked; sign in again",
            self.hostname()
        );
        self.principal = None;
        self.transaction = None;
        self.reply(Reply::new(421, "4.7.0", text));
        false
    }

    pub fn is_tls(&self) -> bool {
        self.stream.is_tls()
    }
}
