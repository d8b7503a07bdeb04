//! One file per SMTP command; [`dispatch`] turns a command line into a call. Each file's doc
//! gives the command's wire syntax and the RFC it follows.

mod auth;
mod bdat;
mod data;
mod ehlo;
mod mail;
mod rcpt;
mod received;
mod simple;
mod starttls;

use smtp_proto::{Error as ParseError, Request};

use crate::reply::Reply;
use crate::session::{Session, Stop};
use crate::wire::{BadCommand, parse_command};

/// Parses one command line and runs it. `Err` ends the session.
pub(crate) async fn dispatch(session: &mut Session, line: &[u8]) -> Result<(), Stop> {
    let request = match parse_command(line) {
        Ok(request) => request,
        Err(bad) => {
            session.reply(bad_command_reply(&bad));
            return Ok(());
        }
    };
    // Arguments are not logged: AUTH carries credentials.
    tracing::trace!(command = request.name(), "command");
    // A signed-in session lives only as long as its credentials (every command, so a
    // transaction never starts or completes after a password change or a revocation).
    if !matches!(request, Request::Quit) && !session.credentials_hold().await {
        return Err(Stop::Closed);
    }
    match request {
        Request::Ehlo { host } => ehlo::ehlo(session, host, true),
        Request::Helo { host } => ehlo::ehlo(session, host, false),
        Request::StartTls => starttls::starttls(session).await?,
        Request::Auth {
            mechanism,
            initial_response,
        } => auth::auth(session, mechanism, initial_response).await?,
        Request::Mail { from } => mail::mail(session, from).await,
        Request::Rcpt { to } => rcpt::rcpt(session, to).await,
        Request::Data => data::data(session).await?,
        Request::Bdat {
            chunk_size,
            is_last,
        } => bdat::bdat(session, chunk_size, is_last).await?,
        Request::Rset => simple::rset(session),
        Request::Noop { .. } => simple::noop(session),
        Request::Quit => return simple::quit(session),
        Request::Vrfy { .. } => simple::vrfy(session),
        Request::Expn { .. } => simple::expn(session),
        Request::Help { .. } => simple::help(session),
        Request::Lhlo { .. } => session.reply(Reply::new(500, "5.5.1", "Command unrecognized")),
        Request::Etrn { .. } | Request::Atrn { .. } | Request::Burl { .. } => {
            session.reply(Reply::new(502, "5.5.1", "Command not implemented"))
        }
    }
    Ok(())
}

/// The reply to a line that is not a valid command (RFC 5321 §4.2.4, RFC 3463 §3.6).
fn bad_command_reply(bad: &BadCommand) -> Reply {
    match bad {
        BadCommand::ControlCharacter => Reply::new(
            500,
            "5.5.2",
            "Syntax error: control characters are not allowed",
        ),
        BadCommand::InvalidUtf8 => Reply::new(500, "5.5.2", "Syntax error: invalid UTF-8"),
        BadCommand::Parse(e) => match e {
            ParseError::UnknownCommand => Reply::new(500, "5.5.1", "Command unrecognized"),
            ParseError::SyntaxError { syntax } => {
                Reply::new(501, "5.5.4", format!("Syntax: {syntax}"))
            }
            ParseError::InvalidSenderAddress => {
                Reply::new(501, "5.1.7", "Bad sender address syntax")
            }
            ParseError::InvalidRecipientAddress => {
                Reply::new(501, "5.1.3", "Bad recipient address syntax")
            }
            ParseError::InvalidParameter { param } => {
                Reply::new(501, "5.5.4", format!("Invalid {param} parameter"))
            }
            // RFC 5321 §4.1.1.11: parameters not recognized or not implemented.
            ParseError::UnsupportedParameter { param } => {
                Reply::new(555, "5.5.4", format!("Unsupported parameter {param}"))
            }
            _ => Reply::new(501, "5.5.2", "Syntax error"),
        },
    }
}
