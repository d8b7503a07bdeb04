//! `AUTH mechanism [initial-response]` (RFC 4954) with PLAIN (RFC 4616) and LOGIN
//! (draft-murchison-sasl-login), checked by [`hopthu_core::Core::authenticate`].
//!
//! Offered on submission ports only, and only under TLS: on the MX port `502 5.5.1`; in plain
//! text `530 5.7.0`. A SASL exchange is cancelled by `*` (`501 5.0.0`); bad base64 gives
//! `501 5.5.2`; wrong credentials `535 5.7.8`; a store failure `454 4.7.0`. Sign-in goes
//! through [`hopthu_core::Core::authenticate_from`]: after too many failures from the IP or on
//! the account (`[limits] auth_failures_*`) attempts get `454 4.7.0` without a password check. After
//! [`MAX_AUTH_FAILURES`] failures the session is closed with `421 4.7.0`.
//! The outcome is logged with the login name, never the password.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hopthu_core::{AuthError, SignInError};
use smtp_proto::{AUTH_LOGIN, AUTH_PLAIN};

use crate::Mode;
use crate::reply::Reply;
use crate::session::{MAX_AUTH_FAILURES, Session, Stop};
use crate::wire::{LineEvent, MAX_AUTH_LINE, sasl_line};

pub(crate) async fn auth(
    session: &mut Session,
    mechanism: u64,
    initial_response: String,
) -> Result<(), Stop> {
    let refusal = if session.mode == Mode::Mx {
        Some(Reply::new(
            502,
            "5.5.1",
            "AUTH not available on this port; use the submission port",
        ))
    } else if !session.is_tls() {
        Some(Reply::new(
            530,
            "5.7.0",
            "Must issue a STARTTLS command first",
        ))
    } else if session.helo.as_ref().is_none_or(|h| !h.extended) {
        Some(Reply::new(503, "5.5.1", "Send EHLO first"))
    } else if session.principal.is_some() {
        Some(Reply::new(503, "5.5.1", "Already authenticated"))
    } else if session.transaction.is_some() {
        Some(Reply::new(
            503,
            "5.5.1",
            "AUTH not allowed during a mail transaction",
        ))
    } else {
        None
    };
    if let Some(reply) = refusal {
        session.reply(reply);
        return Ok(());
    }
    let (mechanism_name, credentials) = match mechanism {
        AUTH_PLAIN => ("PLAIN", plain(session, initial_response).await?),
        AUTH_LOGIN => ("LOGIN", login(session, initial_response).await?),
        _ => {
            session.reply(Reply::new(504, "5.5.4", "Unrecognized authentication type"));
            return Ok(());
        }
    };
    let Some(Credentials { login, password }) = credentials else {
        // The exchange was cancelled or malformed; the reply is given.
        return Ok(());
    };
    let shown_login: String = login.chars().take(100).collect();
    let ip = session.peer.ip();
    match session
        .core
        .authenticate_from(ip, hopthu_core::SignInVia::Smtp, &login, &password)
        .await
    {
        Ok(principal) => {
            if let Err(notice) = session.core.check_mail_client_access(&principal) {
                // Đ13.4: a one-time password is changed in the webmail before mail clients
                // may use it (RFC 4954 §6: 535 5.7.8 for refused credentials).
                tracing::info!(login = %principal.address, "authentication refused: one-time password not changed yet");
                session.reply(Reply::new(535, "5.7.8", notice));
                return Ok(());
            }
            tracing::info!(login = %principal.address, mechanism = mechanism_name, "authenticated");
            session.principal = Some(principal);
            session.reply(Reply::new(235, "2.7.0", "Authentication successful"));
            Ok(())
        }
        Err(SignInError::Throttled { retry_after }) => {
            // Đ13.3: too many failures from this address or on this account; the password
            // was not even checked.
            tracing::warn!(login = ?shown_login, "authentication throttled");
            session.reply(Reply::new(
                454,
                "4.7.0",
                format!(
                    "Too many failed sign-ins, try again in {} seconds",
                    retry_after.as_secs().max(1)
                ),
            ));
            Ok(())
        }
        Err(SignInError::Auth(AuthError::Temporary)) => {
            tracing::warn!(login = ?shown_login, "authentication failed temporarily");
            session.reply(Reply::new(454, "4.7.0", "Temporary authentication failure"));
            Ok(())
        }
        Err(SignInError::Auth(AuthError::Delegated)) => {
            tracing::warn!(login = ?shown_login, "authentication refused: delegated unit mailbox");
            reject_with(
                session,
                "Hop thu don vi da giao quyen, hay dang nhap bang tai khoan cua chinh minh / This unit mailbox is delegated: sign in with your own account",
            )
        }
        Err(SignInError::Auth(e)) => {
            tracing::warn!(login = ?shown_login, mechanism = mechanism_name, reason = %e, "authentication failed");
            reject(session)
        }
    }
}

struct Credentials {
    login: String,
    password: String,
}

/// `535 5.7.8`, and `421` after too many.
fn reject(session: &mut Session) -> Result<(), Stop> {
    reject_with(session, "Authentication credentials invalid")
}

/// `535 5.7.8` with `text`, and `421` after too many.
fn reject_with(session: &mut Session, text: &str) -> Result<(), Stop> {
    session.auth_failures += 1;
    session.reply(Reply::new(535, "5.7.8", text));
    if session.auth_failures >= MAX_AUTH_FAILURES {
        session.reply(Reply::new(
            421,
            "4.7.0",
            "Too many authentication failures, closing connection",
        ));
        return Err(Stop::Closed);
    }
    Ok(())
}

/// RFC 4616: `[authzid] NUL authcid NUL passwd`, as the initial response or after `334 `.
async fn plain(session: &mut Session, initial: String) -> Result<Option<Credentials>, Stop> {
    let Some(message) = response(session, initial, "").await? else {
        return Ok(None);
    };
    let parts: Vec<&[u8]> = message.split(|&b| b == 0).collect();
    let [authzid, authcid, passwd] = parts.as_slice() else {
        session.reply(Reply::new(501, "5.5.2", "Malformed PLAIN response"));
        return Ok(None);
    };
    let (Ok(authzid), Ok(login), Ok(password)) = (
        std::str::from_utf8(authzid),
        std::str::from_utf8(authcid),
        std::str::from_utf8(passwd),
    ) else {
        session.reply(Reply::new(501, "5.5.2", "Invalid UTF-8 in credentials"));
        return Ok(None);
    };
    if !authzid.is_empty() {
        // Acting for another identity is not supported; the same identity is fine.
        let same = session.core.login_address(authzid).is_some()
            && session.core.login_address(authzid) == session.core.login_address(login);
        if !same {
            tracing::warn!(login = ?login.chars().take(100).collect::<String>(), "authorization identity refused");
            reject(session)?;
            return Ok(None);
        }
    }
    Ok(Some(Credentials {
        login: login.to_string(),
        password: password.to_string(),
    }))
}

/// LOGIN: `334 Username:`, `334 Password:` (base64), the user name possibly given as the
/// initial response.
async fn login(session: &mut Session, initial: String) -> Result<Option<Credentials>, Stop> {
    // "Username:" and "Password:" in base64.
    let Some(user) = response(session, initial, "VXNlcm5hbWU6").await? else {
        return Ok(None);
    };
    let Some(password) = response(session, String::new(), "UGFzc3dvcmQ6").await? else {
        return Ok(None);
    };
    let (Ok(login), Ok(password)) = (String::from_utf8(user), String::from_utf8(password)) else {
        session.reply(Reply::new(501, "5.5.2", "Invalid UTF-8 in credentials"));
        return Ok(None);
    };
    Ok(Some(Credentials { login, password }))
}

/// The decoded client response: the initial response when given (`=` is an empty one), else
/// asked for with `334 <challenge>`. `None` when cancelled or malformed (reply given).
async fn response(
    session: &mut Session,
    initial: String,
    challenge: &str,
) -> Result<Option<Vec<u8>>, Stop> {
    let encoded = if !initial.is_empty() {
        initial.into_bytes()
    } else {
        session.reply(Reply::bare(334, challenge));
        match session.next_line(|_| MAX_AUTH_LINE).await? {
            LineEvent::Line(line) => sasl_line(&line).to_vec(),
            _ => {
                session.reply(Reply::new(
                    500,
                    "5.5.6",
                    "Authentication exchange line is too long",
                ));
                return Ok(None);
            }
        }
    };
    if encoded == b"*" {
        session.reply(Reply::new(501, "5.0.0", "Authentication cancelled"));
        return Ok(None);
    }
    if encoded == b"=" {
        return Ok(Some(Vec::new()));
    }
    match BASE64.decode(&encoded) {
        Ok(decoded) => Ok(Some(decoded)),
        Err(_) => {
            session.reply(Reply::new(501, "5.5.2", "Invalid base64 data"));
            Ok(None)
        }
    }
}
