//! The commands without state of their own:
//! - `RSET` (RFC 5321 §4.1.1.5): abort the transaction; EHLO and AUTH stay.
//! - `NOOP [string]` (§4.1.1.9).
//! - `QUIT` (§4.1.1.10): `221`, then close.
//! - `VRFY string` (§4.1.1.6, §3.5.3): `252`, we neither confirm nor deny an address, so
//!   VRFY cannot be used to harvest the directory.
//! - `EXPN string` (§4.1.1.7): not offered (`502`): mailing lists stay private.
//! - `HELP [string]` (§4.1.1.8): `214`.

use crate::reply::Reply;
use crate::session::{Session, Stop};

pub(crate) fn rset(session: &mut Session) {
    session.transaction = None;
    session.reply(Reply::new(250, "2.0.0", "OK"));
}

pub(crate) fn noop(session: &mut Session) {
    session.reply(Reply::new(250, "2.0.0", "OK"));
}

pub(crate) fn quit(session: &mut Session) -> Result<(), Stop> {
    let text = format!("{} closing connection", session.hostname());
    session.reply(Reply::new(221, "2.0.0", text));
    Err(Stop::Closed)
}

pub(crate) fn vrfy(session: &mut Session) {
    session.reply(Reply::new(
        252,
        "2.5.0",
        "Cannot VRFY user, but will accept message and attempt delivery",
    ));
}

pub(crate) fn expn(session: &mut Session) {
    session.reply(Reply::new(502, "5.5.1", "EXPN not available"));
}

pub(crate) fn help(session: &mut Session) {
    session.reply(Reply::multiline(
        214,
        "2.0.0",
        vec![
            "hopthu SMTP server. Commands:".into(),
            "EHLO HELO STARTTLS AUTH MAIL RCPT DATA BDAT RSET NOOP VRFY HELP QUIT".into(),
            "See RFC 5321".into(),
        ],
    ));
}
