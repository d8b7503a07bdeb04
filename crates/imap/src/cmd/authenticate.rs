//! AUTHENTICATE PLAIN (RFC 3501 §6.2.2, RFC 4616), with the initial response on the command
//! line (SASL-IR, RFC 4959) or after an empty `+` challenge. Only after TLS.
//!
//! ```text
//! C: a AUTHENTICATE PLAIN AGRhdG52QGNhb2JhbmcuZ292LnZuAG1hdC1raGF1
//! S: a OK [CAPABILITY IMAP4rev1 ...] Signed in
//!
//! C: b AUTHENTICATE PLAIN
//! S: +
//! C: AGRhdG52QGNhb2JhbmcuZ292LnZuAG1hdC1raGF1
//! S: b OK [CAPABILITY IMAP4rev1 ...] Signed in
//! ```
//!
//! A client cancels with a line `*` (answered `BAD`).

use hopthu_core::{AuthError, SignInError};
use imap_codec::AuthenticateDataCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types::auth::{AuthMechanism, AuthenticateData};
use imap_codec::imap_types::response::{Code, CommandContinuationRequest, Response, StatusKind};

use crate::errors::{CmdError, CmdResult, Done, code};
use crate::framing::Frame;
use crate::session::{MAX_AUTH_FAILURES, Session};
use crate::wire::Input;

pub(crate) async fn run(
    s: &mut Session,
    mechanism: &AuthMechanism<'_>,
    initial: Option<Vec<u8>>,
) -> CmdResult {
    if s.plain_port && !s.is_tls() {
        return Err(CmdError::No(
            Some(code("PRIVACYREQUIRED")),
            "Authentication is disabled before STARTTLS".into(),
        ));
    }
    if *mechanism != AuthMechanism::Plain {
        return Err(CmdError::No(
            Some(code("CANNOT")),
            "Unsupported authentication mechanism".into(),
        ));
    }
    let response = match initial {
        Some(response) => response,
        None => {
            s.wire.push(&Response::CommandContinuationRequest(
                CommandContinuationRequest::base64(&b""[..]),
            ));
            s.wire.flush().await?;
            let input = tokio::time::timeout(s.idle_timeout, s.wire.next_input(false))
                .await
                .map_err(|_| CmdError::Closed)?;
            let line = match input {
                Input::Frame(Frame::Complete(line)) => line,
                Input::Frame(_) => return Err(CmdError::Bad("Response line too long".into())),
                Input::Closed => return Err(CmdError::Closed),
            };
            match AuthenticateDataCodec::default().decode(&line) {
                Ok((_, AuthenticateData::Continue(data))) => data.declassify().to_vec(),
                Ok((_, AuthenticateData::Cancel)) => {
                    return Err(CmdError::Bad("Authentication cancelled".into()));
                }
                Err(_) => return Err(CmdError::Bad("Invalid BASE64 response".into())),
            }
        }
    };
    // RFC 4616: [authzid] NUL authcid NUL passwd
    let parts: Vec<&[u8]> = response.split(|&b| b == 0).collect();
    let [authzid, authcid, password] = parts.as_slice() else {
        return Err(CmdError::Bad("Malformed PLAIN response".into()));
    };
    let (Ok(authzid), Ok(login), Ok(password)) = (
        std::str::from_utf8(authzid),
        std::str::from_utf8(authcid),
        std::str::from_utf8(password),
    ) else {
        return Err(CmdError::No(
            Some(code("AUTHENTICATIONFAILED")),
            "Invalid credentials".into(),
        ));
    };
    if !authzid.is_empty() && !authzid.eq_ignore_ascii_case(login) {
        return Err(CmdError::No(
            Some(code("AUTHORIZATIONFAILED")),
            "Acting as another user is not allowed".into(),
        ));
    }
    sign_in(s, login, password).await
}

/// Checks credentials (LOGIN and AUTHENTICATE) and enters the authenticated state. Sign-ins
/// go through the core's throttle (`authenticate_from`): after too many failures from the
/// address or on the account the password is not even checked (`NO [UNAVAILABLE]`). A
/// one-time password that must still be changed is refused with where to change it.
pub(crate) async fn sign_in(s: &mut Session, login: &str, password: &str) -> CmdResult {
    match s
        .core
        .authenticate_from(s.peer, hopthu_core::SignInVia::Imap, login, password)
        .await
    {
        Ok(principal) => {
            let address = principal.address.to_string();
            tracing::Span::current().record("user", address.as_str());
            if let Err(notice) = s.core.check_mail_client_access(&principal) {
                tracing::info!("sign-in refused: one-time password not changed yet");
                s.reply(None, StatusKind::No, Some(Code::Alert), &notice);
                return Err(CmdError::No(
                    Some(code("AUTHENTICATIONFAILED")),
                    "Password must be changed / Can doi mat khau".into(),
                ));
            }
            tracing::info!("signed in");
            s.principal = Some(principal);
            s.credentials_checked = tokio::time::Instant::now();
            Done::with_code(
                Code::Capability(s.capabilities()),
                "Signed in / Dang nhap thanh cong",
            )
        }
        Err(SignInError::Throttled { retry_after }) => {
            tracing::warn!(login = ?login.chars().take(100).collect::<String>(), "sign-in throttled");
            s.auth_failures += 1;
            if s.auth_failures >= MAX_AUTH_FAILURES {
                s.bye("Too many failed sign-ins");
            }
            Err(CmdError::No(
                Some(code("UNAVAILABLE")),
                format!(
                    "Too many failed sign-ins, try again in {} s / Qua nhieu lan dang nhap sai",
                    retry_after.as_secs().max(1)
                ),
            ))
        }
        Err(SignInError::Auth(error)) => {
            tracing::info!(login = ?login.chars().take(100).collect::<String>(), reason = %error, "sign-in failed");
            s.auth_failures += 1;
            if s.auth_failures >= MAX_AUTH_FAILURES {
                s.bye("Too many failed sign-ins");
            }
            Err(match error {
                AuthError::InvalidCredentials => CmdError::No(
                    Some(code("AUTHENTICATIONFAILED")),
                    "Invalid credentials / Sai ten dang nhap hoac mat khau".into(),
                ),
                AuthError::Disabled => CmdError::No(
                    Some(code("CONTACTADMIN")),
                    "Account disabled / Tai khoan da bi thu hoi".into(),
                ),
                // RFC 5530: access is no longer permitted with that passphrase.
                AuthError::Expired => CmdError::No(
                    Some(code("EXPIRED")),
                    "The first password has expired: ask your unit for a new one / Mat khau lan dau da het han".into(),
                ),
                // RFC 5530: the credentials are right, but this identity may not be used.
                AuthError::Delegated => CmdError::No(
                    Some(code("AUTHORIZATIONFAILED")),
                    "Hop thu don vi da giao quyen: hay dang nhap bang tai khoan cua chinh minh / This unit mailbox is delegated: sign in with your own account".into(),
                ),
                AuthError::Temporary => CmdError::No(
                    Some(code("UNAVAILABLE")),
                    "Temporary failure, try again later".into(),
                ),
            })
        }
    }
}
