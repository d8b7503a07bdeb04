//! `RCPT TO:<forward-path> [SP rcpt-parameters]` (RFC 5321 §4.1.1.3): add a recipient.
//!
//! The verdict comes from [`hopthu_core::Core::check_recipient`]: a local mailbox `250 2.1.5`;
//! an unknown one `550 5.1.1`; a revoked one `550 5.2.1`; another domain only for a signed-in
//! sender, else `550 5.7.1 Relay access denied` (550 rather than 554: RFC 5321 §4.3.2 lists the
//! codes RCPT may answer, and 554 is not among them). `<postmaster>` without a domain means
//! our postmaster (§4.5.1). More than `limits.max_recipients` → `452 4.5.3` (§4.5.3.1.8).
//! No RCPT parameter is announced (no DSN), so any is refused with `555 5.5.4`.

use hopthu_core::RecipientVerdict;
use hopthu_model::EmailAddress;
use smtp_proto::RcptTo;

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
    if to.orcpt.is_some() || to.flags != 0 || to.rrvs != 0 {
        return Reply::new(555, "5.5.4", "Unsupported RCPT parameter");
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
    let verdict = match session.core.check_recipient(&rcpt).await {
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
        RecipientVerdict::Disabled => Reply::new(
            550,
            "5.2.1",
            format!("<{rcpt}>: Mailbox disabled, not accepting messages"),
        ),
    };
    if reply.is_positive()
        && let Some(transaction) = &mut session.transaction
    {
        transaction.recipients.push(rcpt);
    } else {
        tracing::info!(rcpt = %rcpt, code = reply.code, "recipient refused");
    }
    reply
}
