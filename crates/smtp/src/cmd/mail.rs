//! `MAIL FROM:<reverse-path> [SP mail-parameters]` (RFC 5321 §4.1.1.2): start a transaction.
//!
//! Parameters accepted, each only after EHLO: `SIZE=` (RFC 1870: refused with `552 5.3.4` when
//! over the limit), `BODY=7BIT|8BITMIME` (RFC 6152), `SMTPUTF8` (RFC 6531), `AUTH=` (RFC 4954
//! §5, ignored), `RET=FULL|HDRS` and `ENVID=` (RFC 3461; bad syntax `501 5.5.4`). Any other
//! parameter is one we did not announce: `555 5.5.4`.
//! The null reverse-path `<>` (bounces, RFC 5321 §4.5.5) is accepted.
//! A signed-in user may give only an address [`hopthu_core::Core::may_send_as`] allows (their
//! own, or a unit mailbox's they may send for): another one is refused with `550 5.7.1`.
//! Beyond `limits.messages_per_hour` messages in the last hour a signed-in user's MAIL gets
//! `451 4.7.1` (Đ13.3).

use hopthu_model::EmailAddress;
use smtp_proto::{
    MAIL_BODY_7BIT, MAIL_BODY_8BITMIME, MAIL_RET_FULL, MAIL_RET_HDRS, MAIL_SMTPUTF8, MailFrom,
};

use crate::Mode;
use crate::reply::{Reply, core_error_reply};
use crate::session::{Session, Transaction};

pub(crate) async fn mail(session: &mut Session, from: MailFrom<String>) {
    let reply = start(session, from).await;
    session.reply(reply);
}

async fn start(session: &mut Session, from: MailFrom<String>) -> Reply {
    let Some(helo) = &session.helo else {
        return Reply::new(503, "5.5.1", "Send EHLO or HELO first");
    };
    if session.transaction.is_some() {
        return Reply::new(503, "5.5.1", "Nested MAIL command");
    }
    if session.mode != Mode::Mx && session.principal.is_none() {
        // RFC 6409 §4.3 / RFC 4954 §6: submission needs authentication.
        return Reply::new(530, "5.7.0", "Authentication required");
    }
    if let Some(param) = unsupported_parameter(&from) {
        return Reply::new(555, "5.5.4", format!("Unsupported parameter {param}"));
    }
    let has_params =
        from.flags != 0 || from.size != 0 || from.auth.is_some() || from.env_id.is_some();
    if has_params && !helo.extended {
        // RFC 5321 §4.1.1.2: parameters are service extensions, announced only by EHLO.
        return Reply::new(555, "5.5.4", "Parameters require EHLO");
    }
    let limit = session.max_message_size();
    if from.size > limit {
        // RFC 1870 §6.1.
        return Reply::new(
            552,
            "5.3.4",
            format!("Message size exceeds fixed maximum message size of {limit} bytes"),
        );
    }
    let smtputf8 = from.flags & MAIL_SMTPUTF8 != 0;
    let mail_from = if from.address.is_empty() {
        None
    } else {
        match EmailAddress::parse(&from.address) {
            Ok(address) => Some(address),
            Err(e) => return Reply::new(501, "5.1.7", format!("Bad sender address: {e}")),
        }
    };
    if let (Some(who), Some(address)) = (&session.principal, &mail_from) {
        match session.core.may_send_as(who, address).await {
            Ok(true) => {}
            Ok(false) => {
                // RFC 3463 5.7.1: delivery not authorized (one's own address, or a unit
                // mailbox one may send for).
                tracing::warn!(login = %who.address, from = %address, "sender address refused");
                return Reply::new(
                    550,
                    "5.7.1",
                    format!(
                        "Không được gửi thư với địa chỉ người gửi <{address}> / \
                         Sender address <{address}> is not yours to send as"
                    ),
                );
            }
            Err(e) => return core_error_reply(&e),
        }
    }
    if let Some(who) = &session.principal
        && session.mode != Mode::Mx
        && let Err(e) = session.core.check_send_rate(who.account, 1).await
    {
        // Đ13.3: messages per user per hour (a stolen password must not send a flood).
        tracing::warn!(login = %who.address, error = %e, "sending rate limit reached");
        return Reply::new(
            451,
            "4.7.1",
            format!("Sending limit reached for <{}>: {e}", who.address),
        );
    }
    if !smtputf8 && !from.address.is_ascii() {
        // RFC 6531 §3.4: a non-ASCII address needs the SMTPUTF8 parameter.
        return Reply::new(553, "5.6.7", "Non-ASCII address requires SMTPUTF8");
    }
    tracing::debug!(
        from = %mail_from.as_ref().map(ToString::to_string).unwrap_or_default(),
        size = from.size,
        "MAIL"
    );
    // RFC 3461 §4.3/§4.4 (the syntax, `501 5.5.4`, is checked by the parser).
    let ret = if from.flags & MAIL_RET_HDRS != 0 {
        Some("HDRS")
    } else if from.flags & MAIL_RET_FULL != 0 {
        Some("FULL")
    } else {
        None
    };
    let envid = from.env_id.as_deref().map(super::rcpt::xtext);
    session.transaction = Some(Transaction {
        mail_from,
        smtputf8,
        envid,
        ret,
        ..Transaction::default()
    });
    Reply::new(250, "2.1.0", "OK")
}

/// The first parameter we parse but did not announce.
fn unsupported_parameter(from: &MailFrom<String>) -> Option<&'static str> {
    let known = MAIL_BODY_7BIT | MAIL_BODY_8BITMIME | MAIL_SMTPUTF8 | MAIL_RET_FULL | MAIL_RET_HDRS;
    if from.flags & !known != 0 {
        return Some(if from.flags & smtp_proto::MAIL_BODY_BINARYMIME != 0 {
            "BODY=BINARYMIME"
        } else if from.flags & smtp_proto::MAIL_REQUIRETLS != 0 {
            "REQUIRETLS"
        } else if from.flags & smtp_proto::MAIL_CONPERM != 0 {
            "CONPERM"
        } else {
            "BY"
        });
    }
    [
        ("TRANSID", from.trans_id.is_some()),
        ("BY", from.by != 0),
        ("SOLICIT", from.solicit.is_some()),
        ("MTRK", from.mtrk.is_some()),
        ("HOLDFOR", from.hold_for != 0),
        ("HOLDUNTIL", from.hold_until != 0),
        ("MT-PRIORITY", from.mt_priority != 0),
    ]
    .into_iter()
    .find_map(|(name, present)| present.then_some(name))
}
