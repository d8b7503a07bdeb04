//! `RCPT TO:<forward-path> [SP rcpt-parameters]` (RFC 5321 §4.1.1.3): add a recipient.
//!
//! The verdict comes from [`hopthu_core::Core::check_recipient`]: a local mailbox `250 2.1.5`;
//! an unknown one `550 5.1.1`; a revoked one `550 5.2.1`; a group that does not take mail from
//! this sender (its senders policy, asked with the MAIL FROM and the signed-in principal)
//! `550 5.7.1` with why, in Vietnamese and English; another domain only for a signed-in
//! sender, else `550 5.7.1 Relay access denied` (550 rather than 554: RFC 5321 §4.3.2 lists the
//! codes RCPT may answer, and 554 is not among them). `<postmaster>` without a domain means
//! our postmaster (§4.5.1). More than `limits.max_recipients` → `452 4.5.3` (§4.5.3.1.8).
//! DSN parameters (RFC 3461): `NOTIFY=NEVER|SUCCESS,FAILURE,DELAY` and `ORCPT=rfc822;…` are
//! kept per recipient for the queue (bad syntax `501 5.5.4`, from the parser); they need
//! EHLO. Any other parameter is refused with `555 5.5.4`.

use hopthu_core::RecipientDsn;
use hopthu_core::RecipientVerdict;
use hopthu_model::EmailAddress;
use smtp_proto::{
    RCPT_NOTIFY_DELAY, RCPT_NOTIFY_FAILURE, RCPT_NOTIFY_NEVER, RCPT_NOTIFY_SUCCESS, RcptTo,
};

use crate::reply::{Reply, core_error_reply};
use crate::session::Session;

pub(crate) async fn rcpt(session: &mut Session, to: RcptTo<String>) {
    let reply = add(session, to).await;
    session.reply(reply);
}

async fn add(session: &mut Session, to: RcptTo<String>) -> Reply {
    let Some(transaction) = &session.transaction else {
        return Reply::new(503, "5.5.1", "Need MAIL command");
    };
    if transaction.chunks.is_some() {
        return Reply::new(503, "5.5.1", "RCPT not allowed after BDAT");
    }
    let notify_flags =
        RCPT_NOTIFY_NEVER | RCPT_NOTIFY_SUCCESS | RCPT_NOTIFY_FAILURE | RCPT_NOTIFY_DELAY;
    if to.flags & !notify_flags != 0 || to.rrvs != 0 {
        return Reply::new(555, "5.5.4", "Unsupported RCPT parameter");
    }
    if to.flags & RCPT_NOTIFY_NEVER != 0 && to.flags & (notify_flags & !RCPT_NOTIFY_NEVER) != 0 {
        // RFC 3461 §4.1: NEVER stands alone (the parser lets `NEVER,SUCCESS` through).
        return Reply::new(
            501,
            "5.5.4",
            "Invalid NOTIFY parameter: NEVER must stand alone",
        );
    }
    let dsn = RecipientDsn {
        notify: notify_list(to.flags),
        orcpt: to.orcpt.as_deref().map(|a| format!("rfc822;{}", xtext(a))),
    };
    if (dsn.notify.is_some() || dsn.orcpt.is_some())
        && session.helo.as_ref().is_none_or(|h| !h.extended)
    {
        // RFC 5321 §4.1.1.3: parameters are service extensions, announced only by EHLO.
        return Reply::new(555, "5.5.4", "Parameters require EHLO");
    }
    let smtputf8 = transaction.smtputf8;
    let address = if to.address.is_empty() {
        format!("postmaster@{}", session.core.config().domain)
    } else {
        to.address
    };
    let rcpt = match EmailAddress::parse(&address) {
        Ok(rcpt) => rcpt,
        Err(e) => return Reply::new(501, "5.1.3", format!("Bad recipient address: {e}")),
    };
    if !smtputf8 && !address.is_ascii() {
        // RFC 6531 §3.4.
        return Reply::new(553, "5.6.7", "Non-ASCII address requires SMTPUTF8");
    }
    if transaction.recipients.contains(&rcpt) {
        return Reply::new(250, "2.1.5", "OK");
    }
    if transaction.recipients.len() >= session.core.config().limits.max_recipients {
        return Reply::new(452, "4.5.3", "Too many recipients");
    }
    // Đ13.3: the hourly sending limit counts recipients.
    if let Some(who) = &session.principal
        && session.mode != crate::Mode::Mx
        && let Err(e) = session
            .core
            .check_send_rate(who.account, transaction.recipients.len() + 1)
            .await
    {
        tracing::warn!(login = %who.address, error = %e, "sending rate limit reached");
        return Reply::new(
            452,
            "4.7.1",
            format!("Sending limit reached for <{}>: {e}", who.address),
        );
    }
    let sender = hopthu_core::SenderContext {
        mail_from: transaction.mail_from.as_ref(),
        principal: session.principal.as_ref(),
    };
    let verdict = match session.core.check_recipient(&rcpt, sender).await {
        Ok(verdict) => verdict,
        Err(e) => {
            tracing::warn!(error = %e, "recipient check failed");
            return core_error_reply(&e);
        }
    };
    let reply = match verdict {
        RecipientVerdict::Local => Reply::new(250, "2.1.5", "OK"),
        RecipientVerdict::Remote if session.principal.is_some() => Reply::new(250, "2.1.5", "OK"),
        RecipientVerdict::Remote => Reply::new(550, "5.7.1", "Relay access denied"),
        RecipientVerdict::UnknownLocal => Reply::new(
            550,
            "5.1.1",
            format!("<{rcpt}>: Recipient address rejected: no such mailbox"),
        ),
        // RFC 3463 4.2.2: mailbox full, a temporary failure (the message waits at the sender).
        RecipientVerdict::Full => Reply::new(
            452,
            "4.2.2",
            "Mailbox full, try again later / Hop thu da day, xin gui lai sau",
        ),
        // A group that does not take mail from this sender (its senders policy).
        RecipientVerdict::Refused(refusal) => Reply::new(550, "5.7.1", refusal.ascii),
        RecipientVerdict::Disabled => Reply::new(
            550,
            "5.2.1",
            format!("<{rcpt}>: Hop thu da bi thu hoi / mailbox revoked, not accepting messages"),
        ),
    };
    if reply.is_positive()
        && let Some(transaction) = &mut session.transaction
    {
        transaction.recipients.push(rcpt);
        transaction.recipient_dsn.push(dsn);
    } else {
        tracing::info!(rcpt = %rcpt, code = reply.code, "recipient refused");
    }
    reply
}

/// `NOTIFY=` as the queue stores it: `NEVER`, or a comma list in a fixed order.
fn notify_list(flags: u64) -> Option<String> {
    if flags & RCPT_NOTIFY_NEVER != 0 {
        return Some("NEVER".to_string());
    }
    let words: Vec<&str> = [
        (RCPT_NOTIFY_SUCCESS, "SUCCESS"),
        (RCPT_NOTIFY_FAILURE, "FAILURE"),
        (RCPT_NOTIFY_DELAY, "DELAY"),
    ]
    .into_iter()
    .filter(|(flag, _)| flags & flag != 0)
    .map(|(_, word)| word)
    .collect();
    (!words.is_empty()).then(|| words.join(","))
}

/// xtext (RFC 3461 §4): `+HH` for `+`, `=`, and bytes outside `!`..`~`. The parser hands us the
/// decoded value; the queue keeps it encoded because it is relayed as a parameter again.
pub(crate) fn xtext(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        if (b'!'..=b'~').contains(&b) && b != b'+' && b != b'=' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("+{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xtext_and_notify() {
        assert_eq!(xtext("a+b=c d"), "a+2Bb+3Dc+20d");
        assert_eq!(xtext("hà"), "h+C3+A0");
        assert_eq!(notify_list(0), None);
        assert_eq!(notify_list(RCPT_NOTIFY_NEVER).as_deref(), Some("NEVER"));
        assert_eq!(
            notify_list(RCPT_NOTIFY_DELAY | RCPT_NOTIFY_FAILURE).as_deref(),
            Some("FAILURE,DELAY")
        );
    }
}
