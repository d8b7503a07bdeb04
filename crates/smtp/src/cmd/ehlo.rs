//! `EHLO domain` / `HELO domain` (RFC 5321 §4.1.1.1): identify the client, reset any
//! transaction, and (EHLO) list the service extensions, one RFC per keyword.

use crate::Mode;
use crate::reply::Reply;
use crate::session::{Helo, Session};

pub(crate) fn ehlo(session: &mut Session, host: String, extended: bool) {
    // RFC 5321 §4.1.4: EHLO/HELO in the middle of a transaction resets it.
    session.transaction = None;
    session.helo = Some(Helo {
        name: host,
        extended,
    });
    let hostname = session.hostname().to_string();
    if !extended {
        session.reply(Reply::bare(250, hostname));
        return;
    }
    let mut lines = vec![
        format!("{hostname} Hello [{}]", session.peer.ip()),
        // RFC 2920: command pipelining.
        "PIPELINING".to_string(),
        // RFC 6152: 8-bit MIME transport.
        "8BITMIME".to_string(),
        // RFC 6531: internationalised addresses and headers.
        "SMTPUTF8".to_string(),
        // RFC 1870: message size declaration.
        format!("SIZE {}", session.max_message_size()),
        // RFC 2034: enhanced status codes in replies.
        "ENHANCEDSTATUSCODES".to_string(),
        // RFC 3030: BDAT.
        "CHUNKING".to_string(),
        // RFC 3461: delivery status notifications (RET, ENVID, NOTIFY, ORCPT).
        "DSN".to_string(),
    ];
    if !session.is_tls() {
        // RFC 3207.
        lines.push("STARTTLS".to_string());
    } else if session.mode != Mode::Mx && session.principal.is_none() {
        // RFC 4954: only where people sign in, and never in plain text.
        lines.push("AUTH PLAIN LOGIN".to_string());
    }
    lines.push("HELP".to_string());
    session.reply(Reply::multiline(250, "", lines));
}
