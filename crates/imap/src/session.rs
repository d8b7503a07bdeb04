//! One IMAP connection: the state machine of RFC 3501 §3 (not authenticated → authenticated →
//! selected → logout), the command loop, and keeping the selected mailbox in step with what
//! other sessions and deliveries do.
//!
//! Concurrency: when a mailbox is selected the session subscribes to the core's change
//! notifications. A notification only marks the view dirty; the changes themselves are read
//! with `Core::changes_since(modseq)` and shown as untagged `EXPUNGE`, `EXISTS` and
//! `FETCH (FLAGS)` responses after a command (RFC 3501 §5.2), at once while IDLE (RFC 2177),
//! and never as `EXPUNGE` during FETCH, STORE or SEARCH (§7.4.1). A receiver that lagged
//! simply re-reads.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use hopthu_core::{Core, MailEvent, Principal};
use imap_codec::CommandCodec;
use imap_codec::decode::{CommandDecodeError, Decoder};
use imap_codec::imap_types::command::{Command, CommandBody};
use imap_codec::imap_types::core::{Tag, Vec1};
use imap_codec::imap_types::fetch::MessageDataItem;
use imap_codec::imap_types::response::{
    Capability, Code, CommandContinuationRequest, Data, Response, Status, StatusKind,
};
use tokio::sync::broadcast;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::cmd::searchres::Substituted;
use crate::errors::{CmdError, code, reply_for, text};
use crate::framing::{Discard, Frame, recover_tag};
use crate::selected::{Selected, Update};
use crate::wire::{HANDSHAKE_TIMEOUT, Input, Stream, Wire};

/// This many `BAD` replies in a row end the connection (a client that is not speaking IMAP).
const MAX_BAD_STREAK: u32 = 10;
/// How long a command still being received at shutdown may take to arrive.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// The most one command may hold before sign-in, literals included: LOGIN, AUTHENTICATE and
/// ID need a few hundred bytes. More is refused with `[TOOBIG]` (RFC 9051 §7.1).
pub(crate) const PRE_AUTH_MAX_COMMAND: u64 = 64 * 1024;
/// How often a signed-in session asks whether its credentials still hold
/// (`Core::still_valid`: a revocation or a password reset ends it).
const CREDENTIALS_RECHECK: Duration = Duration::from_secs(1);
/// This many failed sign-ins end the connection.
pub(crate) const MAX_AUTH_FAILURES: u32 = 3;

pub(crate) struct Session {
    pub(crate) core: Arc<Core>,
    /// Views of large mailboxes shared by the listener's sessions (SELECT starts from them).
    pub(crate) views: Arc<crate::selected::Views>,
    /// The client's address: connection permits and sign-in throttling count by it.
    pub(crate) peer: IpAddr,
    pub(crate) wire: Wire,
    pub(crate) tls: TlsAcceptor,
    /// The plain IMAP port: STARTTLS is offered and passwords are refused until TLS is on.
    pub(crate) plain_port: bool,
    pub(crate) principal: Option<Principal>,
    pub(crate) selected: Option<Selected>,
    /// Change notifications, while a mailbox is selected.
    pub(crate) events: Option<broadcast::Receiver<MailEvent>>,
    /// A notification concerned the selected mailbox since it was last brought up to date.
    pub(crate) dirty: bool,
    pub(crate) shutdown: CancellationToken,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_message_size: u64,
    max_line: usize,
    bad_streak: u32,
    pub(crate) auth_failures: u32,
    /// The length of the current command when its syntax was last checked at a literal.
    syntax_checked_at: usize,
    /// The reply for a refused non-synchronising literal, sent once its command is skipped.
    refused: Option<(Option<String>, StatusKind, Option<Code<'static>>, String)>,
    /// Set by LOGOUT, fatal errors and BYE: the loop ends after flushing.
    pub(crate) closing: bool,
    /// Set by STARTTLS: the handshake starts once the tagged OK is written.
    pub(crate) start_tls: bool,
    /// CONDSTORE is on (RFC 7162 §3.1: ENABLE, SELECT (CONDSTORE) or a command using a
    /// modseq): FETCH responses carrying flags also carry MODSEQ.
    pub(crate) condstore: bool,
    /// QRESYNC is on (ENABLE QRESYNC, RFC 7162 §3.2.3): expunges are reported as VANISHED.
    pub(crate) qresync: bool,
    /// ENABLE IMAP4rev2 (RFC 9051): no `\Recent`, no RECENT responses.
    pub(crate) rev2: bool,
    /// Mailbox names in UTF-8 both ways instead of modified UTF-7: ENABLE IMAP4rev2 (RFC 9051
    /// §5.1) or ENABLE UTF8=ACCEPT (RFC 9755).
    pub(crate) utf8: bool,
    /// `[limits] command_burst` / `commands_per_second`.
    pace: hopthu_core::CommandPace,
    /// When the credentials were last found still valid.
    pub(crate) credentials_checked: tokio::time::Instant,
}

/// Runs a connection to its end.
pub(crate) async fn run(
    core: Arc<Core>,
    views: Arc<crate::selected::Views>,
    tls: TlsAcceptor,
    implicit_tls: bool,
    tcp: tokio::net::TcpStream,
    shutdown: CancellationToken,
) {
    let Ok(peer) = tcp.peer_addr().map(|a| a.ip()) else {
        return;
    };
    let stream = if implicit_tls {
        let handshake = tokio::select! {
            handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(tcp)) => handshake,
            _ = shutdown.cancelled() => return,
        };
        match handshake {
            Ok(Ok(stream)) => Stream::Tls(Box::new(stream)),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!("TLS handshake timed out");
                return;
            }
        }
    } else {
        Stream::Plain(tcp)
    };
    let limits = core.config().limits.clone();
    // Đ13.3: at most `connections_per_ip` simultaneous connections from one address; the
    // permit is held for the connection's life.
    let permit = core.open_connection(peer);
    let mut session = Session {
        core,
        views,
        peer,
        wire: Wire::new(stream, limits.imap_max_line),
        tls,
        plain_port: !implicit_tls,
        principal: None,
        selected: None,
        events: None,
        dirty: false,
        shutdown,
        idle_timeout: limits.imap_idle_timeout,
        max_message_size: limits.max_message_size,
        max_line: limits.imap_max_line,
        bad_streak: 0,
        auth_failures: 0,
        syntax_checked_at: 0,
        refused: None,
        closing: false,
        start_tls: false,
        condstore: false,
        qresync: false,
        rev2: false,
        utf8: false,
        pace: hopthu_core::CommandPace::from_limits(&limits),
        credentials_checked: tokio::time::Instant::now(),
    };
    if permit.is_none() {
        let max = limits.connections_per_ip;
        tracing::warn!(max, "too many connections from this address");
        session.bye(&format!(
            "Too many connections from your address (at most {max}) / Qua nhieu ket noi"
        ));
        let _ = session.wire.flush().await;
        session.wire.close().await;
        return;
    }
    let _permit = permit;
    tracing::debug!("connected");
    session.main_loop().await;
    session.wire.close().await;
    tracing::debug!("disconnected");
}

/// What woke the command loop.
enum Wake {
    Input(Input),
    Shutdown,
    IdleTimer,
}

impl Session {
    async fn main_loop(&mut self) {
        let capabilities = Code::Capability(self.capabilities());
        self.reply(
            None,
            StatusKind::Ok,
            Some(capabilities),
            "hopthu IMAP4rev1 ready / san sang",
        );
        if self.wire.flush().await.is_err() {
            return;
        }
        let mut drain_deadline: Option<tokio::time::Instant> = None;
        while !self.closing {
            // A command the client is still sending when shutdown starts (an APPEND upload)
            // gets a short grace to complete; an idle session is told BYE at once.
            let busy = self.wire.framer().in_progress();
            let mut deadline = self.wire.last_read + self.idle_timeout;
            if self.shutdown.is_cancelled() {
                let grace = *drain_deadline
                    .get_or_insert_with(|| tokio::time::Instant::now() + SHUTDOWN_GRACE);
                deadline = deadline.min(grace);
            }
            let wake = tokio::select! {
                biased;
                _ = self.shutdown.cancelled(), if !busy => Wake::Shutdown,
                input = self.wire.next_input(true) => Wake::Input(input),
                _ = tokio::time::sleep_until(deadline) => Wake::IdleTimer,
            };
            match wake {
                Wake::Input(Input::Closed) => break,
                Wake::Input(Input::Frame(frame)) => self.frame(frame).await,
                Wake::Shutdown => {
                    self.bye("Server shutting down / may chu dang dung");
                    break;
                }
                Wake::IdleTimer if self.shutdown.is_cancelled() => {
                    self.bye("Server shutting down / may chu dang dung");
                    break;
                }
                Wake::IdleTimer => {
                    if self.wire.last_read + self.idle_timeout > tokio::time::Instant::now() {
                        continue;
                    }
                    self.bye("Idle timeout / het thoi gian cho");
                    break;
                }
            }
            if self.bad_streak >= MAX_BAD_STREAK {
                self.bye("Too many invalid commands");
                self.closing = true;
            }
            if self.wire.flush().await.is_err() {
                break;
            }
            if self.start_tls {
                self.start_tls = false;
                if let Err(e) = self.wire.start_tls(&self.tls).await {
                    tracing::debug!(error = %e, "STARTTLS handshake failed");
                    break;
                }
            }
        }
    }

    async fn frame(&mut self, frame: Frame) {
        match frame {
            Frame::Complete(bytes) => {
                self.command(bytes).await;
                let wait = self.pace.take(std::time::Instant::now());
                if !wait.is_zero() {
                    // Answer first, then make the client wait for the next one.
                    let _ = self.wire.flush().await;
                    tokio::time::sleep(wait).await;
                }
            }
            Frame::Literal {
                length,
                synchronizing,
            } => self.literal(length, synchronizing),
            Frame::Discarded { tag, reason } => match reason {
                Discard::LineTooLong => {
                    self.reply(
                        tag.as_deref(),
                        StatusKind::Bad,
                        Some(code("TOOBIG")),
                        "Command line too long",
                    );
                    self.bad_streak += 1;
                }
                Discard::Refused => {
                    let (tag, kind, code, message) = self.refused.take().unwrap_or((
                        tag,
                        StatusKind::Bad,
                        None,
                        "Command refused".to_string(),
                    ));
                    self.reply(tag.as_deref(), kind, code, &message);
                }
            },
        }
    }

    /// A line announced a literal: say `+` (synchronising), take it (LITERAL+), or refuse.
    ///
    /// The syntax of the command so far is checked at its first literal and then each time
    /// the command has doubled since the last check: checking at every literal would re-read
    /// the whole command each time (quadratic in the number of literals). The complete
    /// command is parsed anyway.
    fn literal(&mut self, length: u64, synchronizing: bool) {
        let framer = self.wire.framer();
        let partial = framer.partial();
        let tag = recover_tag(partial);
        let check = framer.literal_count() <= 1
            || partial.len() >= self.syntax_checked_at.saturating_mul(2);
        let syntax_ok = !check || {
            self.syntax_checked_at = partial.len();
            matches!(
                CommandCodec::default().decode(partial),
                Err(CommandDecodeError::LiteralFound { .. })
            )
        };
        let total = partial.len() as u64 + length;
        if self.principal.is_none() && total > PRE_AUTH_MAX_COMMAND && !synchronizing {
            // The client is already sending the data (RFC 7888 §4): rather than read up to
            // its announced size for nothing, the connection ends.
            let Ok(status) = Status::bye(
                Some(code("TOOBIG")),
                text(&format!(
                    "Command larger than {PRE_AUTH_MAX_COMMAND} bytes before sign-in / \
                     lenh qua lon truoc khi dang nhap"
                )),
            );
            self.wire.push(&Response::Status(status));
            self.closing = true;
            return;
        }
        let refusal = if !syntax_ok {
            Some((
                StatusKind::Bad,
                None,
                "Syntax error before literal".to_string(),
            ))
        } else if self.principal.is_none() && total > PRE_AUTH_MAX_COMMAND {
            Some((
                StatusKind::No,
                Some(code("TOOBIG")),
                format!(
                    "Command larger than {PRE_AUTH_MAX_COMMAND} bytes before sign-in / lenh \
                     qua lon truoc khi dang nhap"
                ),
            ))
        } else if length > self.max_message_size
            || total > self.max_message_size + self.max_line as u64
        {
            // RFC 7889 (APPENDLIMIT): refuse with TOOBIG, without reading the data.
            Some((
                StatusKind::No,
                Some(code("TOOBIG")),
                format!(
                    "Literal larger than the limit of {} bytes",
                    self.max_message_size
                ),
            ))
        } else {
            None
        };
        match refusal {
            None => {
                if synchronizing
                    && let Ok(cont) =
                        CommandContinuationRequest::basic(None, "Ready for literal data")
                {
                    self.wire.push(&Response::CommandContinuationRequest(cont));
                }
                self.wire.framer().accept_literal();
            }
            Some((kind, code, message)) => {
                if kind == StatusKind::Bad {
                    self.bad_streak += 1;
                }
                self.wire.framer().refuse_literal();
                if synchronizing {
                    self.reply(tag.as_deref(), kind, code, &message);
                } else {
                    self.refused = Some((tag, kind, code, message));
                }
            }
        }
    }

    /// Ends the session with `* BYE` when its account was revoked or its password changed
    /// since it signed in (asked at most every [`CREDENTIALS_RECHECK`], or at once with
    /// `now`). Returns whether the session goes on.
    pub(crate) async fn credentials_hold(&mut self, now: bool) -> bool {
        let Some(principal) = &self.principal else {
            return true;
        };
        if !now && self.credentials_checked.elapsed() < CREDENTIALS_RECHECK {
            return true;
        }
        self.credentials_checked = tokio::time::Instant::now();
        if !self.core.still_valid(principal).await {
            tracing::info!("credentials changed or mailbox revoked: session ended");
            self.bye("Mat khau da doi hoac hop thu bi thu hoi / the password changed or the mailbox was revoked; sign in again");
            return false;
        }
        // A unit mailbox's folder selected: the rights on it may have ended (a revocation, a
        // handover to a new head).
        if let Some(selected) = &self.selected
            && hopthu_core::shared::is_shared_name(&selected.name)
            && let Err(e) = self.core.mailbox_access(principal, selected.id).await
            && e.kind == hopthu_core::ErrorKind::NotFound
        {
            tracing::info!("rights on a unit mailbox ended: session ended");
            self.bye("Quyen tren hop thu don vi da cham dut / your rights on the unit mailbox ended; sign in again");
            return false;
        }
        true
    }

    async fn command(&mut self, bytes: Vec<u8>) {
        if !self.credentials_hold(false).await {
            return;
        }
        // SEARCHRES (RFC 5182): `$` is written out before the command is parsed.
        let bytes = match crate::cmd::searchres::substitute(&bytes, self.selected.as_ref()) {
            None => bytes,
            Some(Substituted::Command(rewritten)) => rewritten,
            Some(Substituted::NothingToDo { tag, verb, uid }) => {
                let tag = Tag::unvalidated(tag);
                let done = Ok(crate::errors::Done {
                    code: None,
                    text: format!("{verb} completed (no messages in $)"),
                });
                self.finish(&tag, "SEARCHRES", uid, done).await;
                return;
            }
        };
        let command = match CommandCodec::default().decode(&bytes) {
            Ok(([], command)) => command,
            _ => {
                // Commands imap-codec does not parse (ESEARCH, LIST-EXTENDED) are tried by hand.
                if let Some((tag, options, plain)) = crate::cmd::search::parse_extended(&bytes)
                    && let Ok(([], command)) = CommandCodec::default().decode(&plain)
                    && let CommandBody::Search {
                        charset,
                        criteria,
                        uid,
                    } = command.body
                {
                    let result = match crate::cmd::needs_selected(self) {
                        Ok(()) => {
                            crate::cmd::search::run_extended(
                                self,
                                &tag,
                                options,
                                charset.as_ref(),
                                criteria.as_ref(),
                                uid,
                            )
                            .await
                        }
                        Err(e) => Err(e),
                    };
                    let tag = Tag::unvalidated(tag);
                    self.finish(&tag, "SEARCH", uid, result).await;
                    return;
                }
                // Commands imap-codec does not parse (LIST-EXTENDED) are tried by hand.
                if let Some((tag, list)) = crate::cmd::list::parse_extended(&bytes, self.utf8) {
                    let tag = Tag::unvalidated(tag);
                    let result = crate::cmd::list::run_extended(self, list).await;
                    self.finish(&tag, "LIST", true, result).await;
                    return;
                }
                // ACL (RFC 4314).
                if let Some((tag, parsed)) = crate::cmd::acl::parse(&bytes) {
                    match parsed {
                        Ok(command) => {
                            let name = command.name();
                            let result = crate::cmd::acl::run(self, command).await;
                            self.finish(&Tag::unvalidated(tag), name, true, result)
                                .await;
                        }
                        Err(crate::cmd::acl::Malformed(why)) => {
                            self.bad_streak += 1;
                            self.reply(Some(&tag), StatusKind::Bad, None, &why);
                        }
                    }
                    return;
                }
                // UNAUTHENTICATE (RFC 8437).
                if let Some(tag) = crate::cmd::unauthenticate::parse(&bytes) {
                    let tag = Tag::unvalidated(tag);
                    let result = crate::cmd::unauthenticate::run(self);
                    self.finish(&tag, "UNAUTHENTICATE", true, result).await;
                    return;
                }
                // CREATE-SPECIAL-USE (RFC 6154 §3).
                if let Some((tag, request)) = crate::cmd::create::parse_extended(&bytes, self.utf8)
                {
                    let tag = Tag::unvalidated(tag);
                    let result = crate::cmd::create::run_special(self, request).await;
                    self.finish(&tag, "CREATE", true, result).await;
                    return;
                }
                let tag = recover_tag(&bytes);
                let verb = bytes
                    .split(|&b| b == b' ' || b == b'\r')
                    .nth(1)
                    .map(|v| String::from_utf8_lossy(v).to_ascii_uppercase())
                    .unwrap_or_default();
                tracing::debug!(verb = ?verb.chars().take(20).collect::<String>(), "unparsable command");
                self.bad_streak += 1;
                self.reply(
                    tag.as_deref(),
                    StatusKind::Bad,
                    Some(code("PARSE")),
                    "Syntax error or unknown command",
                );
                return;
            }
        };
        let Command { tag, body } = command;
        let name = body.name();
        // RFC 9051 §6.4.4: an IMAP4rev2 session gets SEARCH results as ESEARCH (ALL).
        if self.rev2
            && let CommandBody::Search {
                charset,
                criteria,
                uid,
            } = &body
        {
            let result = match crate::cmd::needs_selected(self) {
                Ok(()) => {
                    let options = crate::cmd::search::ReturnOptions {
                        all: true,
                        ..Default::default()
                    };
                    crate::cmd::search::run_extended(
                        self,
                        tag.inner(),
                        options,
                        charset.as_ref(),
                        criteria.as_ref(),
                        *uid,
                    )
                    .await
                }
                Err(e) => Err(e),
            };
            self.finish(&tag, name, *uid, result).await;
            return;
        }
        tracing::debug!(tag = %tag.inner(), command = name, "command");
        // RFC 3501 §7.4.1: no EXPUNGE while a FETCH, STORE or SEARCH by sequence number runs.
        let allow_expunge = !matches!(
            body,
            CommandBody::Fetch { uid: false, .. }
                | CommandBody::Store { uid: false, .. }
                | CommandBody::Search { uid: false, .. }
                | CommandBody::Sort { uid: false, .. }
                | CommandBody::Thread { uid: false, .. }
        );
        let result = crate::cmd::dispatch(self, body).await;
        self.finish(&tag, name, allow_expunge, result).await;
    }

    /// Sends pending mailbox updates and the tagged reply of a command.
    async fn finish(
        &mut self,
        tag: &Tag<'_>,
        name: &str,
        allow_expunge: bool,
        result: Result<crate::errors::Done, CmdError>,
    ) {
        if self.selected.is_some()
            && !self.closing
            && let Err(e) = self.sync(allow_expunge, false).await
        {
            tracing::warn!(error = ?e, "could not bring the mailbox up to date");
        }
        match result {
            Ok(done) => {
                self.bad_streak = 0;
                self.reply(Some(tag.inner()), StatusKind::Ok, done.code, &done.text);
            }
            Err(CmdError::Bad(message)) => {
                self.bad_streak += 1;
                self.reply(Some(tag.inner()), StatusKind::Bad, None, &message);
            }
            Err(CmdError::No(code, message)) => {
                self.bad_streak = 0;
                self.reply(Some(tag.inner()), StatusKind::No, code, &message);
            }
            Err(CmdError::Core(error)) => {
                self.bad_streak = 0;
                tracing::debug!(command = name, kind = ?error.kind, error = %error.message, "refused");
                let (kind, code, message) = reply_for(&error);
                self.reply(Some(tag.inner()), kind, code, &message);
            }
            Err(CmdError::Io(e)) => {
                tracing::debug!(error = %e, "connection lost");
                self.closing = true;
            }
            Err(CmdError::Closed) => self.closing = true,
        }
    }

    /// A tagged (or, without a tag, untagged) status response.
    pub(crate) fn reply(
        &mut self,
        tag: Option<&str>,
        kind: StatusKind,
        code: Option<Code<'static>>,
        message: &str,
    ) {
        let tag = tag.and_then(|t| Tag::try_from(t.to_string()).ok());
        let Ok(status) = Status::new(tag, kind, code, text(message));
        self.wire.push(&Response::Status(status));
    }

    /// `* BYE`, and the connection ends after the next flush.
    pub(crate) fn bye(&mut self, message: &str) {
        let Ok(status) = Status::bye(None, text(message));
        self.wire.push(&Response::Status(status));
        self.closing = true;
    }

    pub(crate) fn push_data(&mut self, data: Data<'_>) {
        self.wire.push(&Response::Data(data));
    }

    /// The capabilities for the current state (RFC 3501 §7.2.1). Before TLS on the plain port,
    /// STARTTLS and LOGINDISABLED and no AUTH=; after TLS, AUTH=PLAIN with SASL-IR; once
    /// signed in, neither.
    pub(crate) fn capabilities(&self) -> Vec1<Capability<'static>> {
        let other = |name: &'static str| Capability::try_from(name).expect("valid capability");
        // RFC 9051 §7.2.2: both revisions; IMAP4rev2 behaviour after ENABLE IMAP4rev2.
        let mut caps = vec![Capability::Imap4Rev1, other("IMAP4rev2")];
        if self.principal.is_none() {
            if self.plain_port && !self.wire.is_tls() {
                caps.push(Capability::StartTls);
                caps.push(Capability::LoginDisabled);
            } else {
                caps.push(Capability::Auth(
                    imap_codec::imap_types::auth::AuthMechanism::Plain,
                ));
                caps.push(Capability::SaslIr);
            }
        }
        caps.extend([
            Capability::LiteralPlus,
            Capability::Idle,
            Capability::Namespace,
            Capability::Id,
            Capability::Enable,
            Capability::Unselect,
            // RFC 8437.
            other("UNAUTHENTICATE"),
            Capability::UidPlus,
            Capability::Move,
            other("CHILDREN"),
            other("SPECIAL-USE"),
            other("CREATE-SPECIAL-USE"),
            // RFC 3516: FETCH BINARY[] / BINARY.SIZE[] (APPEND takes literal8 too).
            other("BINARY"),
            // RFC 8438 (and RFC 9051 §6.3.11): STATUS SIZE.
            other("STATUS=SIZE"),
            // RFC 7162.
            Capability::CondStore,
            Capability::QResync,
            // RFC 4731 (SEARCH RETURN), RFC 5819 (LIST ... RETURN (STATUS ...)).
            other("ESEARCH"),
            // RFC 9755: UTF-8 mailbox names for an IMAP4rev1 client that asks.
            other("UTF8=ACCEPT"),
            // RFC 5182: SEARCH RETURN (SAVE) and `$`.
            other("SEARCHRES"),
            // RFC 5256, RFC 5957.
            Capability::Sort(None),
            other("SORT=DISPLAY"),
            other("THREAD=REFERENCES"),
            other("LIST-EXTENDED"),
            other("LIST-STATUS"),
            // RFC 9208: one root per account, STORAGE only.
            Capability::Quota,
            other("QUOTA=RES-STORAGE"),
            // RFC 4314: rights on unit mailboxes, with the rights of §2.1 beyond RFC 2086.
            other("ACL"),
            other("RIGHTS=texk"),
        ]);
        // RFC 7889: the largest message APPEND accepts.
        if let Ok(c) = Capability::try_from(format!(
            "APPENDLIMIT={}",
            self.max_message_size.min(u32::MAX as u64)
        )) {
            caps.push(c);
        }
        Vec1::try_from(caps).expect("not empty")
    }

    pub(crate) fn is_tls(&self) -> bool {
        self.wire.is_tls()
    }

    /// Enters the selected state (SELECT, EXAMINE): subscribes to change notifications first so
    /// that nothing committed after the view was read is missed.
    pub(crate) fn subscribe(&mut self) {
        self.events = Some(self.core.subscribe());
        self.dirty = false;
    }

    /// Leaves the selected state.
    pub(crate) fn deselect(&mut self) {
        self.selected = None;
        self.events = None;
        self.dirty = false;
    }

    /// Takes note of pending change notifications without waiting.
    pub(crate) fn drain_events(&mut self) {
        let Some(events) = &mut self.events else {
            return;
        };
        let mailbox = self.selected.as_ref().map(|s| s.id);
        loop {
            match events.try_recv() {
                Ok(event) => {
                    if Some(event.mailbox) == mailbox {
                        self.dirty = true;
                    }
                }
                Err(broadcast::error::TryRecvError::Lagged(_)) => self.dirty = true,
                Err(broadcast::error::TryRecvError::Empty) => break,
                Err(broadcast::error::TryRecvError::Closed) => {
                    self.events = None;
                    break;
                }
            }
        }
    }

    /// Brings the selected mailbox up to date and queues the untagged responses. Without
    /// `force`, the store is only asked when a notification came in.
    pub(crate) async fn sync(&mut self, allow_expunge: bool, force: bool) -> Result<(), CmdError> {
        self.drain_events();
        let (Some(principal), Some(selected)) = (&self.principal, &self.selected) else {
            return Ok(());
        };
        if !self.dirty && !force {
            return Ok(());
        }
        let principal = principal.clone();
        let changes = match self
            .core
            .changes_since(&principal, selected.id, selected.modseq)
            .await
        {
            Ok(changes) => changes,
            Err(e) if e.kind == hopthu_core::ErrorKind::NotFound => {
                // Deleted (or renamed away) by another session.
                self.deselect();
                self.bye("The selected mailbox was deleted");
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let selected = self.selected.as_mut().expect("checked above");
        let Some(updates) = selected.apply(changes, allow_expunge) else {
            // Expunges must wait for a command that may report them.
            return Ok(());
        };
        self.dirty = false;
        let grew = updates.iter().any(|u| matches!(u, Update::Exists(_)));
        // Claimed before the updates go out, so a FETCH among them shows `\Recent`.
        let claimed = grew && self.claim_recent(&principal).await?;
        self.announce_keywords();
        self.push_updates(updates);
        if claimed {
            // RFC 3501 §7.3.2: the new count follows EXISTS.
            let count = self.selected.as_ref().map_or(0, Selected::recent_count);
            self.push_data(Data::Recent(count));
        }
        Ok(())
    }

    /// Claims the selected mailbox's messages no session was told about yet as recent in
    /// this one (read-only or IMAP4rev2 sessions look without claiming). False under
    /// IMAP4rev2, which has no `\Recent`.
    pub(crate) async fn claim_recent(
        &mut self,
        principal: &hopthu_core::Principal,
    ) -> Result<bool, CmdError> {
        if self.rev2 {
            return Ok(false);
        }
        let Some(selected) = self.selected.as_ref() else {
            return Ok(false);
        };
        let (id, read_only) = (selected.id, selected.read_only);
        let upto = selected.max_uid().map_or(0, |u| u.0);
        let after = self
            .core
            .recent_mark(principal, id, upto, !read_only)
            .await?;
        if let Some(selected) = self.selected.as_mut() {
            selected.add_recent(after, upto);
        }
        Ok(true)
    }

    /// RFC 3501 §7.2.6: a keyword new to this session (set by STORE or APPEND here or in
    /// another session) is announced in FLAGS and `OK [PERMANENTFLAGS]` before any FETCH
    /// shows it.
    pub(crate) fn announce_keywords(&mut self) {
        let Some(selected) = self.selected.as_mut() else {
            return;
        };
        if !selected.announce_keywords() {
            return;
        }
        let (flags, permanent) = crate::cmd::select::flag_responses(selected);
        self.push_data(flags);
        self.reply(None, StatusKind::Ok, Some(permanent), "Flags permitted");
    }

    /// Whether a message of the selected mailbox carries `\Recent` for this session.
    pub(crate) fn is_recent(&self, uid: hopthu_model::Uid) -> bool {
        !self.rev2 && self.selected.as_ref().is_some_and(|s| s.is_recent(uid))
    }

    pub(crate) fn push_updates(&mut self, updates: Vec<Update>) {
        // RFC 7162 §3.2.10: once QRESYNC is enabled, expunges are VANISHED (UIDs), never
        // EXPUNGE; consecutive ones go in one response.
        let mut vanished: Vec<hopthu_model::Uid> = Vec::new();
        for update in updates {
            if self.qresync {
                if let Update::Expunge { uid, .. } = update {
                    vanished.push(uid);
                    continue;
                }
                self.push_vanished(&mut vanished, false);
            }
            let data = match update {
                Update::Expunge { seq, .. } => match Data::expunge(seq) {
                    Ok(d) => d,
                    Err(_) => continue,
                },
                Update::Exists(n) => Data::Exists(n),
                Update::Flags {
                    seq,
                    uid,
                    flags,
                    modseq,
                } => {
                    let recent = self.is_recent(uid);
                    let (Some(seq), Some(uid)) = (
                        std::num::NonZeroU32::new(seq),
                        std::num::NonZeroU32::new(uid.0),
                    ) else {
                        continue;
                    };
                    let mut items = vec![
                        MessageDataItem::Uid(uid),
                        MessageDataItem::Flags(crate::cmd::flag_fetch(&flags, recent)),
                    ];
                    // RFC 7162 §3.2: unsolicited FETCH carries MODSEQ under CONDSTORE.
                    if self.condstore
                        && let Some(m) = std::num::NonZeroU64::new(modseq)
                    {
                        items.push(MessageDataItem::ModSeq(m));
                    }
                    Data::Fetch {
                        seq,
                        items: Vec1::try_from(items).expect("not empty"),
                    }
                }
            };
            self.push_data(data);
        }
        self.push_vanished(&mut vanished, false);
    }

    /// `* VANISHED [(EARLIER)] uid-set` (RFC 7162 §3.2.10) for the collected UIDs.
    pub(crate) fn push_vanished(&mut self, uids: &mut Vec<hopthu_model::Uid>, earlier: bool) {
        if uids.is_empty() {
            return;
        }
        uids.sort_unstable();
        uids.dedup();
        if let Some(set) = crate::cmd::sequence_set(uids) {
            self.push_data(Data::Vanished {
                earlier,
                known_uids: set,
            });
        }
        uids.clear();
    }

    /// The signed-in principal, or the `BAD` for commands that need one.
    pub(crate) fn principal(&self) -> Result<Principal, CmdError> {
        self.principal
            .clone()
            .ok_or_else(|| CmdError::Bad("Sign in first".into()))
    }

    /// The selected mailbox, or the `BAD` for commands that need one.
    pub(crate) fn selected(&self) -> Result<&Selected, CmdError> {
        self.selected
            .as_ref()
            .ok_or_else(|| CmdError::Bad("No mailbox selected".into()))
    }

    pub(crate) fn selected_mut(&mut self) -> Result<&mut Selected, CmdError> {
        self.selected
            .as_mut()
            .ok_or_else(|| CmdError::Bad("No mailbox selected".into()))
    }
}
