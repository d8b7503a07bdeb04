//! One ManageSieve session (RFC 5804): non-authenticated → (STARTTLS) → AUTHENTICATE →
//! authenticated → LOGOUT.
//!
//! Commands: `CAPABILITY`, `STARTTLS`, `AUTHENTICATE "PLAIN" [initial]`, `LOGOUT`, `NOOP
//! [tag]`, `UNAUTHENTICATE`, and once signed in `HAVESPACE`, `PUTSCRIPT`, `LISTSCRIPTS`,
//! `SETACTIVE`, `GETSCRIPT`, `DELETESCRIPT`, `RENAMESCRIPT`, `CHECKSCRIPT`. Answers are `OK`,
//! `NO` or `BYE`, with RFC 5804 §1.3's response codes (`NONEXISTENT`, `ACTIVE`,
//! `ALREADYEXISTS`, `QUOTA/MAXSCRIPTS`, `QUOTA/MAXSIZE`, `TRYLATER`, `ENCRYPT-NEEDED`, `TAG`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use hopthu_core::{AuthError, Core, ErrorKind, Principal, SignInError};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::io::Io;
use crate::parse::{Arg, Bounds, Input, read_command, string};

/// How long a connection may wait between commands (a client editing a script keeps it open).
const IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Errors in a row before the server gives up on a client.
const MAX_ERRORS: u32 = 20;
/// The Sieve extensions announced (RFC 5804 §1.7 `SIEVE`): what delivery carries out.
pub(crate) const EXTENSIONS: &str = "fileinto envelope encoded-character vacation \
     imap4flags copy relational regex subaddress date index body variables mailbox \
     comparator-i;ascii-numeric";

struct Session {
    core: Arc<Core>,
    peer: std::net::IpAddr,
    io: BufReader<Io>,
    tls: bool,
    user: Option<Principal>,
    errors: u32,
    pace: hopthu_core::CommandPace,
    credentials_checked: Instant,
    bounds: Bounds,
}

enum Next {
    Continue,
    StartTls,
    Logout,
}

pub(crate) async fn run(
    core: Arc<Core>,
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    shutdown: CancellationToken,
) {
    let Ok(peer) = tcp.peer_addr().map(|a| a.ip()) else {
        return;
    };
    // Đ13.3: at most `connections_per_ip` simultaneous connections from one address.
    let permit = core.open_connection(peer);
    let pace = hopthu_core::CommandPace::from_limits(&core.config().limits);
    let (max_script, _) = core.sieve_limits();
    let bounds = Bounds {
        // An AUTHENTICATE response is a small literal too.
        max_literal: max_script.max(8192),
        max_skip: max_script.saturating_mul(16).max(16 << 20),
    };
    let mut session = Session {
        core,
        peer,
        io: BufReader::new(Io::Plain(tcp)),
        tls: false,
        user: None,
        errors: 0,
        pace,
        credentials_checked: Instant::now(),
        bounds,
    };
    if permit.is_none() {
        let max = session.core.config().limits.connections_per_ip;
        tracing::warn!(max, "too many connections from this address");
        let refusal = format!(
            "BYE (TRYLATER) \"too many connections from your address (at most {max})\"\r\n"
        );
        let _ = session.write(refusal.as_bytes()).await;
        return;
    }
    let _permit = permit;
    let mut greeting = session.capabilities();
    greeting.push_str("OK \"hopthu ManageSieve ready\"\r\n");
    if session.write(greeting.as_bytes()).await.is_err() {
        return;
    }
    loop {
        let input = tokio::select! {
            input = tokio::time::timeout(IDLE_TIMEOUT, read_command(&mut session.io, &session.bounds)) => input,
            _ = shutdown.cancelled() => {
                let _ = session.write(b"BYE (TRYLATER) \"server shutting down\"\r\n").await;
                return;
            }
        };
        let args = match input {
            Err(_) => {
                let _ = session.write(b"BYE \"idle timeout, closing\"\r\n").await;
                return;
            }
            Ok(Err(_)) | Ok(Ok(Input::Eof)) => return,
            Ok(Ok(Input::Fatal)) => {
                let _ = session
                    .write(b"BYE (QUOTA/MAXSIZE) \"literal far too large, closing\"\r\n")
                    .await;
                return;
            }
            Ok(Ok(Input::TooBig)) => {
                let max = session.core.sieve_limits().0;
                let line =
                    format!("NO (QUOTA/MAXSIZE) \"too large: scripts are at most {max} octets\"");
                if session.error(&line).await.is_err() {
                    return;
                }
                continue;
            }
            Ok(Ok(Input::Bad(why))) => {
                if session.error(&format!("NO {}", string(why))).await.is_err() {
                    return;
                }
                continue;
            }
            Ok(Ok(Input::Command(args))) => args,
        };
        let next = session.command(args).await;
        let wait = session.pace.take(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        match next {
            Ok(Next::Continue) => {}
            Ok(Next::Logout) | Err(_) => return,
            Ok(Next::StartTls) => {
                // Anything pipelined after STARTTLS is discarded with the plain stream.
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
                // RFC 5804 §2.2: the capabilities again, now under TLS.
                let mut caps = session.capabilities();
                caps.push_str("OK \"TLS negotiation successful\"\r\n");
                if session.write(caps.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// The `NO` answer for a core error, with its response code.
fn refusal(e: &hopthu_core::Error) -> String {
    let code = match e.kind {
        ErrorKind::NotFound => "(NONEXISTENT) ",
        ErrorKind::AlreadyExists => "(ALREADYEXISTS) ",
        ErrorKind::Forbidden => "(ACTIVE) ",
        ErrorKind::QuotaExceeded => "(QUOTA/MAXSCRIPTS) ",
        ErrorKind::Temporary => "(TRYLATER) ",
        _ => "",
    };
    let text = match e.kind {
        ErrorKind::Internal => "internal error",
        _ => e.message.as_str(),
    };
    format!("NO {code}{}", string(text))
}

impl Session {
    async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let io = self.io.get_mut();
        io.write_all(bytes).await?;
        io.flush().await
    }

    async fn ok(&mut self, text: &str) -> std::io::Result<()> {
        self.errors = 0;
        self.write(format!("OK {}\r\n", string(text)).as_bytes())
            .await
    }

    /// Sends a `NO` line; after too many in a row, `BYE` and the end.
    async fn error(&mut self, line: &str) -> std::io::Result<()> {
        self.errors += 1;
        self.write(format!("{line}\r\n").as_bytes()).await?;
        if self.errors >= MAX_ERRORS {
            self.write(b"BYE \"too many errors, closing\"\r\n").await?;
            return Err(std::io::Error::other("too many errors"));
        }
        Ok(())
    }

    fn capabilities(&self) -> String {
        let mut caps = String::from("\"IMPLEMENTATION\" \"hopthu\"\r\n");
        // Passwords only under TLS: no mechanism before STARTTLS.
        if self.tls {
            caps.push_str("\"SASL\" \"PLAIN\"\r\n");
        } else {
            caps.push_str("\"SASL\" \"\"\r\n");
        }
        caps.push_str(&format!("\"SIEVE\" \"{EXTENSIONS}\"\r\n"));
        if !self.tls {
            caps.push_str("\"STARTTLS\"\r\n");
        }
        if let Some(user) = &self.user {
            caps.push_str(&format!(
                "\"OWNER\" {}\r\n",
                string(&user.address.to_string())
            ));
        }
        let redirects = self.core.config().sieve.max_redirects;
        caps.push_str(&format!("\"MAXREDIRECTS\" \"{redirects}\"\r\n"));
        caps.push_str("\"VERSION\" \"1.0\"\r\n");
        caps
    }

    async fn command(&mut self, args: Vec<Arg>) -> std::io::Result<Next> {
        let Some(Arg::Atom(verb)) = args.first() else {
            self.error("NO \"a command name comes first\"").await?;
            return Ok(Next::Continue);
        };
        let verb = verb.to_ascii_uppercase();
        let args = &args[1..];
        // A revocation or a password reset ends the session.
        if let Some(user) = &self.user
            && self.credentials_checked.elapsed() >= Duration::from_secs(1)
        {
            self.credentials_checked = Instant::now();
            if !self.core.still_valid(user).await {
                self.write(
                    b"BYE \"the password changed or the mailbox was revoked; sign in again\"\r\n",
                )
                .await?;
                return Ok(Next::Logout);
            }
        }
        match verb.as_str() {
            "CAPABILITY" => {
                let mut caps = self.capabilities();
                caps.push_str("OK \"Capability completed\"\r\n");
                self.errors = 0;
                self.write(caps.as_bytes()).await?;
            }
            "LOGOUT" => {
                self.write(b"OK \"Logout completed\"\r\n").await?;
                return Ok(Next::Logout);
            }
            "NOOP" => match args {
                [] => self.ok("Done").await?,
                [tag] => match tag.text() {
                    Some(tag) => {
                        let line = format!("OK (TAG {}) \"Done\"\r\n", string(tag));
                        self.errors = 0;
                        self.write(line.as_bytes()).await?;
                    }
                    None => self.error("NO \"the tag is not UTF-8\"").await?,
                },
                _ => self.error("NO \"NOOP takes at most one tag\"").await?,
            },
            "STARTTLS" => {
                if self.tls {
                    self.error("NO \"already under TLS\"").await?;
                } else if self.user.is_some() {
                    self.error("NO \"STARTTLS only before AUTHENTICATE\"")
                        .await?;
                } else {
                    self.ok("Begin TLS negotiation now").await?;
                    return Ok(Next::StartTls);
                }
            }
            "AUTHENTICATE" => {
                if self.user.is_some() {
                    self.error("NO \"already authenticated\"").await?;
                } else if !self.tls {
                    self.error(
                        "NO (ENCRYPT-NEEDED) \"TLS required: use STARTTLS first (hãy dùng STARTTLS)\"",
                    )
                    .await?;
                } else {
                    return self.authenticate(args).await;
                }
            }
            "UNAUTHENTICATE" => {
                if self.user.take().is_some() {
                    self.ok("Unauthenticate completed").await?;
                } else {
                    self.error("NO \"not authenticated\"").await?;
                }
            }
            "HAVESPACE" | "PUTSCRIPT" | "LISTSCRIPTS" | "SETACTIVE" | "GETSCRIPT"
            | "DELETESCRIPT" | "RENAMESCRIPT" | "CHECKSCRIPT" => match self.user.clone() {
                None => self.error("NO \"authenticate first\"").await?,
                Some(user) => self.scripts(&user, &verb, args).await?,
            },
            _ => self.error("NO \"unknown command\"").await?,
        }
        Ok(Next::Continue)
    }

    /// `AUTHENTICATE "PLAIN" [initial-response]` (RFC 5804 §2.1, RFC 4616).
    async fn authenticate(&mut self, args: &[Arg]) -> std::io::Result<Next> {
        let mechanism = args.first().and_then(Arg::text).unwrap_or("");
        if !mechanism.eq_ignore_ascii_case("PLAIN") || args.len() > 2 {
            self.error("NO \"unsupported mechanism: use PLAIN\"")
                .await?;
            return Ok(Next::Continue);
        }
        let response = match args.get(1) {
            Some(initial) => initial.text().unwrap_or("").to_string(),
            None => {
                // An empty challenge; the client answers with a string.
                self.write(b"\"\"\r\n").await?;
                match read_command(&mut self.io, &self.bounds).await? {
                    Input::Command(answer) => match answer.as_slice() {
                        [Arg::Str(s)] => String::from_utf8_lossy(s).into_owned(),
                        _ => {
                            self.error("NO \"expected a string\"").await?;
                            return Ok(Next::Continue);
                        }
                    },
                    Input::Eof | Input::Fatal => return Ok(Next::Logout),
                    Input::Bad(_) | Input::TooBig => {
                        self.error("NO \"bad SASL response\"").await?;
                        return Ok(Next::Continue);
                    }
                }
            }
        };
        match plain_credentials(&response) {
            Ok((user, password)) => self.sign_in(&user, &password).await?,
            Err(line) => self.error(line).await?,
        }
        Ok(Next::Continue)
    }

    async fn sign_in(&mut self, user: &str, password: &str) -> std::io::Result<()> {
        let principal = match self
            .core
            .authenticate_from(
                self.peer,
                hopthu_core::SignInVia::ManageSieve,
                user,
                password,
            )
            .await
        {
            Ok(p) => p,
            Err(SignInError::Throttled { retry_after }) => {
                tracing::warn!(user, "sign-in throttled");
                let line = format!(
                    "NO (TRYLATER) \"too many failed sign-ins, try again in {} s\"",
                    retry_after.as_secs().max(1)
                );
                return self.error(&line).await;
            }
            Err(SignInError::Auth(AuthError::InvalidCredentials)) => {
                tracing::info!(user, "sign-in failed");
                return self.error("NO \"invalid user name or password\"").await;
            }
            Err(SignInError::Auth(AuthError::Disabled)) => {
                return self.error("NO \"this mailbox is revoked\"").await;
            }
            Err(SignInError::Auth(AuthError::Expired)) => {
                return self
                    .error("NO \"the first password has expired; ask your unit for a new one\"")
                    .await;
            }
            Err(SignInError::Auth(AuthError::Delegated)) => {
                return self
                    .error("NO \"this unit mailbox is delegated: sign in with your own account\"")
                    .await;
            }
            Err(SignInError::Auth(AuthError::Temporary)) => {
                return self.error("NO (TRYLATER) \"try again later\"").await;
            }
        };
        if let Err(notice) = self.core.check_mail_client_access(&principal) {
            tracing::info!(user, "sign-in refused: one-time password not changed yet");
            return self.error(&format!("NO {}", string(&notice))).await;
        }
        tracing::info!(user = %principal.address, "signed in");
        self.credentials_checked = Instant::now();
        self.user = Some(principal);
        self.ok("Authenticated").await
    }

    /// The script commands, for the signed-in `user`.
    async fn scripts(&mut self, user: &Principal, verb: &str, args: &[Arg]) -> std::io::Result<()> {
        // Every script command's arguments are strings (HAVESPACE's second is a number).
        let texts: Option<Vec<&str>> = args.iter().map(Arg::text).collect();
        let Some(texts) = texts else {
            return self.error("NO \"names and scripts must be UTF-8\"").await;
        };
        let core = self.core.clone();
        let (max_size, max_scripts) = core.sieve_limits();
        match (verb, texts.as_slice()) {
            ("LISTSCRIPTS", []) => match core.sieve_scripts(user).await {
                Ok(list) => {
                    let mut out = String::new();
                    for s in &list {
                        out.push_str(&string(&s.name));
                        if s.active {
                            out.push_str(" ACTIVE");
                        }
                        out.push_str("\r\n");
                    }
                    out.push_str("OK \"Listscripts completed\"\r\n");
                    self.errors = 0;
                    self.write(out.as_bytes()).await
                }
                Err(e) => self.error(&refusal(&e)).await,
            },
            ("HAVESPACE", [name, size]) => {
                let Ok(size) = size.parse::<u64>() else {
                    return self.error("NO \"the size is not a number\"").await;
                };
                if size > max_size {
                    let line =
                        format!("NO (QUOTA/MAXSIZE) \"scripts are at most {max_size} octets\"");
                    return self.error(&line).await;
                }
                match core.sieve_scripts(user).await {
                    Ok(list) => {
                        let exists = list.iter().any(|s| s.name == *name);
                        if !exists && list.len() >= max_scripts as usize {
                            let line =
                                format!("NO (QUOTA/MAXSCRIPTS) \"at most {max_scripts} scripts\"");
                            self.error(&line).await
                        } else {
                            self.ok("Putscript would succeed").await
                        }
                    }
                    Err(e) => self.error(&refusal(&e)).await,
                }
            }
            ("PUTSCRIPT", [name, script]) => {
                if script.len() as u64 > max_size {
                    let line =
                        format!("NO (QUOTA/MAXSIZE) \"scripts are at most {max_size} octets\"");
                    return self.error(&line).await;
                }
                match core.sieve_put(user, name, script).await {
                    Ok(()) => {
                        tracing::info!(name, "script stored");
                        self.ok("Putscript completed").await
                    }
                    Err(e) => self.error(&refusal(&e)).await,
                }
            }
            ("CHECKSCRIPT", [script]) => {
                if script.len() as u64 > max_size {
                    let line =
                        format!("NO (QUOTA/MAXSIZE) \"scripts are at most {max_size} octets\"");
                    return self.error(&line).await;
                }
                match core.sieve_check(script) {
                    Ok(()) => self.ok("Script is valid").await,
                    Err(message) => self.error(&format!("NO {}", string(&message))).await,
                }
            }
            ("SETACTIVE", [name]) => {
                let which = Some(*name).filter(|n| !n.is_empty());
                match core.sieve_activate(user, which).await {
                    Ok(()) => self.ok("Setactive completed").await,
                    Err(e) => self.error(&refusal(&e)).await,
                }
            }
            ("GETSCRIPT", [name]) => match core.sieve_script(user, name).await {
                Ok(script) => {
                    let out = format!(
                        "{{{}}}\r\n{script}\r\nOK \"Getscript completed\"\r\n",
                        script.len()
                    );
                    self.errors = 0;
                    self.write(out.as_bytes()).await
                }
                Err(e) => self.error(&refusal(&e)).await,
            },
            ("DELETESCRIPT", [name]) => match core.sieve_delete(user, name).await {
                Ok(()) => self.ok("Deletescript completed").await,
                Err(e) => self.error(&refusal(&e)).await,
            },
            ("RENAMESCRIPT", [old, new]) => match core.sieve_rename(user, old, new).await {
                Ok(()) => self.ok("Renamescript completed").await,
                Err(e) => self.error(&refusal(&e)).await,
            },
            _ => {
                self.error(&format!("NO \"wrong arguments for {verb}\""))
                    .await
            }
        }
    }
}

/// The user and password of a PLAIN response (RFC 4616: authzid NUL authcid NUL password,
/// base64), or the `NO` line to answer.
fn plain_credentials(response: &str) -> Result<(String, String), &'static str> {
    if response.trim() == "*" {
        return Err("NO \"authentication cancelled\"");
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(response.trim())
        .map_err(|_| "NO \"invalid base64\"")?;
    let fields: Vec<&[u8]> = decoded.split(|b| *b == 0).collect();
    let [authzid, authcid, password] = fields.as_slice() else {
        return Err("NO \"malformed PLAIN response\"");
    };
    let (Ok(authzid), Ok(authcid), Ok(password)) = (
        std::str::from_utf8(authzid),
        std::str::from_utf8(authcid),
        std::str::from_utf8(password),
    ) else {
        return Err("NO \"malformed PLAIN response\"");
    };
    if !authzid.is_empty() && !authzid.eq_ignore_ascii_case(authcid) {
        return Err("NO \"acting as another user is not allowed\"");
    }
    Ok((authcid.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_responses() {
        let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
        assert_eq!(
            plain_credentials(&b64(b"\0a@b.vn\0secret")).unwrap(),
            ("a@b.vn".to_string(), "secret".to_string())
        );
        assert!(plain_credentials(&b64(b"other@b.vn\0a@b.vn\0secret")).is_err());
        assert!(plain_credentials("*").is_err());
        assert!(plain_credentials("!!!").is_err());
        assert!(plain_credentials(&b64(b"\0only")).is_err());
        assert!(plain_credentials(&b64(b"\0\xff\0x")).is_err());
    }

    #[test]
    fn refusals_carry_the_response_codes() {
        let e = |kind| hopthu_core::Error::new(kind, "m");
        assert_eq!(refusal(&e(ErrorKind::NotFound)), "NO (NONEXISTENT) \"m\"");
        assert_eq!(refusal(&e(ErrorKind::Forbidden)), "NO (ACTIVE) \"m\"");
        assert_eq!(
            refusal(&e(ErrorKind::AlreadyExists)),
            "NO (ALREADYEXISTS) \"m\""
        );
        assert_eq!(
            refusal(&e(ErrorKind::QuotaExceeded)),
            "NO (QUOTA/MAXSCRIPTS) \"m\""
        );
        assert_eq!(refusal(&e(ErrorKind::Temporary)), "NO (TRYLATER) \"m\"");
        assert_eq!(refusal(&e(ErrorKind::Internal)), "NO \"internal error\"");
        assert_eq!(refusal(&e(ErrorKind::Invalid)), "NO \"m\"");
    }
}
