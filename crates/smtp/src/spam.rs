//! The spam step of the MX listener (`[antispam]`, `hopthu_core::spam`): the DNS blocklists
//! are asked about the peer while the inbound checks run ([`start_dnsbl`]), then the message
//! is scored ([`score`]) and gets `X-Spam-Score:`/`X-Spam-Status:` (and `X-Spam-Flag: YES` at
//! the junk threshold, which files it into Junk), or `550 5.7.1` at the reject threshold.
//! Submission is never scored; every listener removes the `X-Spam-*` fields a sender wrote
//! (`hopthu_core::spam::strip_spam_headers`, in `cmd/data.rs`).

use hopthu_core::spam::{AuthOutcome, SpamInput};
use tokio::task::JoinHandle;

use crate::reply::Reply;
use crate::session::{Session, Transaction};

/// Whether this session's mail is scored: the MX listener with `[antispam] enabled`.
pub(crate) fn applies(session: &Session) -> bool {
    session.mode == crate::Mode::Mx && session.core.config().antispam.enabled
}

/// Starts asking the blocklists about the peer (nothing when the session is not scored).
pub(crate) fn start_dnsbl(session: &Session) -> Option<JoinHandle<Vec<String>>> {
    if !applies(session) || session.core.config().antispam.dnsbl.is_empty() {
        return None;
    }
    let core = session.core.clone();
    let ip = session.peer.ip();
    Some(tokio::spawn(async move { core.dnsbl_listings(ip).await }))
}

/// Scores the message: the header fields to prepend, or the refusal.
pub(crate) async fn score(
    session: &Session,
    transaction: &Transaction,
    auth: Option<AuthOutcome>,
    dnsbl: Option<JoinHandle<Vec<String>>>,
    content: &[u8],
) -> Result<String, Reply> {
    let listed = match dnsbl {
        Some(task) => task.await.unwrap_or_default(),
        None => Vec::new(),
    };
    let helo = session
        .helo
        .as_ref()
        .map(|h| h.name.clone())
        .unwrap_or_default();
    let verdict = session
        .core
        .spam_score(SpamInput {
            peer: session.peer.ip(),
            helo: &helo,
            mail_from: transaction.mail_from.as_ref(),
            recipients: &transaction.recipients,
            auth,
            dnsbl: &listed,
            content,
        })
        .await;
    let tests: Vec<&str> = verdict.tests.iter().map(|(n, _)| n.as_str()).collect();
    if verdict.reject {
        tracing::warn!(score = verdict.score, ?tests, "message refused as spam");
        return Err(Reply::new(550, "5.7.1", verdict.refusal()));
    }
    tracing::info!(
        score = verdict.score,
        junk = verdict.junk,
        ?tests,
        "spam score"
    );
    Ok(verdict.header())
}
