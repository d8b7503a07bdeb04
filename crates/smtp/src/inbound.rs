//! Checks on mail arriving at the MX listener (`[inbound] verify`): SPF (RFC 7208, the MAIL FROM
//! identity, or HELO for the null sender), DKIM (RFC 6376), ARC (RFC 8617, verification only)
//! and DMARC (RFC 7489), all with `mail-auth` and the process's one resolver
//! ([`hopthu_core::Core::dns`], whose cache the outbound queue shares). The outcome is an
//! `Authentication-Results:` header (RFC 8601) under our hostname; a DMARC failure of a domain
//! publishing `p=reject` is refused at DATA with `550 5.7.1` when `[inbound] dmarc_reject`.
//!
//! All look-ups of one message share `[dns] message_budget`: SPF, DKIM, ARC and the DMARC
//! record (fetched ahead into the cache) run side by side, and a check still waiting when the
//! budget is spent ends as `temperror` (RFC 7208 §2.6.6, RFC 6376 §6.1.2, RFC 8601 §2.7). DMARC
//! then evaluates on what it has: a `temperror` of an aligned identifier makes DMARC
//! `temperror` (RFC 7489 §6.6.2 leaves the message undecided), never `fail`.
//!
//! **Invariants**
//! - `Authentication-Results:` fields already carrying our hostname as authserv-id are removed
//!   (RFC 8601 §5: a sender must not be able to forge our verdict).
//! - A DNS failure never refuses mail for good: the checks end as `temperror` and `p=reject`
//!   is not applied; the message is accepted, or deferred with `451 4.4.3` when
//!   `[inbound] defer_on_dns_error`.

use std::net::IpAddr;
use std::time::Duration;

use hopthu_core::dns::Dns;
use hopthu_core::spam::{AuthOutcome, DkimOutcome, SpfOutcome};
use hopthu_model::EmailAddress;
use mail_auth::dmarc::Policy;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{
    ArcOutput, AuthenticatedMessage, AuthenticationResults, DkimOutput, DkimResult, DmarcOutput,
    DmarcResult, SpfOutput, SpfResult,
};
use tokio::time::{Instant, timeout_at};

/// DMARC is evaluated after SPF and DKIM; when they used the whole budget it still gets this
/// long, enough for answers already in the cache (the record fetched ahead) but not for a
/// round trip to a silent server.
const DMARC_GRACE: Duration = Duration::from_millis(100);

/// What the checks decided.
pub(crate) struct Verdict {
    /// `Authentication-Results: …\r\n`, to prepend.
    pub header: String,
    /// `Some((code, status, text))` when the message must not be accepted now: DMARC
    /// `p=reject` (550 5.7.1), or DNS trouble with `defer_on_dns_error` (451 4.4.3).
    pub refuse: Option<(u16, &'static str, String)>,
    /// SPF passed for the MAIL FROM identity (a non-null reverse-path): only then may a
    /// success notice go to it (RFC 3461, no backscatter).
    pub spf_pass: bool,
    /// The outcome as the spam score reads it (`hopthu_core::spam`).
    pub auth: AuthOutcome,
}

/// What the session knows about the transaction.
pub(crate) struct Peer<'a> {
    pub ip: IpAddr,
    pub helo: &'a str,
    pub mail_from: Option<&'a EmailAddress>,
}

/// What to do with the verdict.
pub(crate) struct Policies {
    pub dmarc_reject: bool,
    pub defer_on_dns_error: bool,
}

fn budget_spent() -> mail_auth::Error {
    mail_auth::Error::Dns(mail_auth::DnsError::Resolver(
        "DNS look-ups exceeded the time budget".into(),
    ))
}

/// Runs SPF, DKIM, ARC and DMARC on `content` (the message as received, before our
/// `Received:`), within the budget of `dns`.
pub(crate) async fn check(
    dns: &Dns,
    hostname: &str,
    peer: Peer<'_>,
    content: &[u8],
    policies: Policies,
) -> Verdict {
    let auth = dns.authenticator();
    let deadline = Instant::now() + dns.budget();
    let mut exceeded = false;
    let sender = peer.mail_from.map(ToString::to_string).unwrap_or_default();
    let helo = peer.helo;
    let mail_from_domain = match peer.mail_from {
        Some(address) => address.domain().to_string(),
        None => helo.to_string(),
    };
    let message = AuthenticatedMessage::parse(content);
    // The DMARC records of the author and MAIL FROM domains, fetched into the cache while SPF
    // and DKIM run, so a slow SPF or key look-up does not leave DMARC without its policy.
    let mut ahead = tokio::task::JoinSet::new();
    let mut walked = Vec::new();
    let author = message.as_ref().and_then(|m| {
        m.from()
            .rsplit_once('@')
            .map(|(_, d)| d.to_ascii_lowercase())
    });
    for domain in author.iter().chain(std::iter::once(&mail_from_domain)) {
        for name in dmarc_names(domain) {
            if !walked.contains(&name) {
                walked.push(name.clone());
                let resolver = auth.resolver().clone();
                ahead.spawn(async move {
                    let _ = resolver.txt_lookup(name).await;
                });
            }
        }
    }
    // SPF: the MAIL FROM identity, or the HELO identity for `<>` (RFC 7208 §2.4).
    let spf = async {
        if sender.is_empty() {
            auth.verify_spf(SpfParameters::verify_ehlo(peer.ip, helo, hostname))
                .await
        } else {
            auth.verify_spf(SpfParameters::verify_mail_from(
                peer.ip, helo, hostname, &sender,
            ))
            .await
        }
    };
    let dkim = async {
        match &message {
            Some(m) => auth.verify_dkim(m).await,
            None => Vec::new(),
        }
    };
    let arc = async {
        match &message {
            Some(m) => Some(auth.verify_arc(m).await),
            None => None,
        }
    };
    let fetched = async { while ahead.join_next().await.is_some() {} };
    let (spf, dkim, arc, _) = tokio::join!(
        timeout_at(deadline, spf),
        timeout_at(deadline, dkim),
        timeout_at(deadline, arc),
        timeout_at(deadline, fetched),
    );
    drop(ahead);
    let spf = spf.unwrap_or_else(|_| {
        exceeded = true;
        SpfOutput::new(mail_from_domain.clone()).with_result(SpfResult::TempError)
    });
    let mut results = AuthenticationResults::new(hostname);
    let mut refuse = None;
    let mut undecided = spf.result() == SpfResult::TempError;
    let mut outcome = AuthOutcome {
        spf: match spf.result() {
            SpfResult::Fail => SpfOutcome::Fail,
            SpfResult::SoftFail => SpfOutcome::SoftFail,
            _ => SpfOutcome::Other,
        },
        ..AuthOutcome::default()
    };
    match &message {
        Some(message) => {
            let dkim = dkim.unwrap_or_else(|_| {
                exceeded = true;
                message
                    .dkim_headers
                    .iter()
                    .map(|h| DkimOutput::temp_err(budget_spent()).with_signature(&h.header))
                    .collect()
            });
            let arc = match arc {
                Ok(Some(arc)) => arc,
                Ok(None) => ArcOutput::default(),
                Err(_) => {
                    exceeded = true;
                    ArcOutput::default().with_result(DkimResult::TempError(budget_spent()))
                }
            };
            let dmarc = timeout_at(
                deadline.max(Instant::now() + DMARC_GRACE),
                auth.verify_dmarc(DmarcParameters::new(
                    message,
                    &dkim,
                    &mail_from_domain,
                    &spf,
                )),
            )
            .await
            .unwrap_or_else(|_| {
                exceeded = true;
                DmarcOutput::new(author.clone().unwrap_or_default())
                    .with_spf_result(DmarcResult::TempError(budget_spent()))
                    .with_dkim_result(DmarcResult::TempError(budget_spent()))
            });
            results = results
                .with_dkim_results(&dkim, message.from())
                .with_spf_mailfrom_result(&spf, peer.ip, &sender, helo)
                .with_arc_result(&arc, peer.ip)
                .with_dmarc_result(&dmarc);
            let dmarc_result = dmarc.result();
            outcome.dkim = dkim_outcome(&dkim);
            outcome.dmarc_fail = matches!(dmarc_result, DmarcResult::Fail(_));
            undecided = dmarc_result != DmarcResult::Pass
                && (undecided
                    || matches!(dmarc_result, DmarcResult::TempError(_))
                    || dkim
                        .iter()
                        .any(|d| matches!(d.result(), DkimResult::TempError(_))));
            tracing::info!(
                spf = ?spf.result(),
                dkim = dkim.iter().any(|d| d.result() == &DkimResult::Pass),
                dmarc = ?dmarc_result,
                policy = ?dmarc.policy(),
                exceeded,
                "inbound checks"
            );
            // Only a definite failure: a temperror leaves DMARC undecided (RFC 7489 §6.6.2).
            if matches!(dmarc_result, DmarcResult::Fail(_))
                && dmarc.policy() == Policy::Reject
                && policies.dmarc_reject
            {
                refuse = Some((
                    550,
                    "5.7.1",
                    format!(
                        "Message rejected: DMARC policy of {} is reject and the message failed \
                         SPF and DKIM alignment",
                        dmarc.domain()
                    ),
                ));
            }
        }
        None => {
            results = results.with_spf_mailfrom_result(&spf, peer.ip, &sender, helo);
        }
    }
    if exceeded {
        dns.budget_exceeded();
        tracing::warn!(budget = ?dns.budget(), "inbound checks ran out of DNS time");
    }
    if refuse.is_none() && undecided && policies.defer_on_dns_error {
        refuse = Some((
            451,
            "4.4.3",
            "DNS look-ups for the sender's authentication failed, try again later / \
             Không tra cứu được DNS để xác thực người gửi, vui lòng gửi lại sau"
                .to_string(),
        ));
    }
    let mut header = String::from("Authentication-Results: ");
    header.push_str(&results.to_string());
    header.push_str("\r\n");
    let spf_pass = !sender.is_empty() && spf.result() == SpfResult::Pass;
    Verdict {
        header,
        refuse,
        spf_pass,
        auth: outcome,
    }
}

/// DKIM for the spam score: no signature, signatures none of which verifies (a temperror is
/// not a failure), or anything else.
fn dkim_outcome(dkim: &[DkimOutput]) -> DkimOutcome {
    let results: Vec<&DkimResult> = dkim
        .iter()
        .map(|d| d.result())
        .filter(|r| **r != DkimResult::None)
        .collect();
    if results.is_empty() {
        DkimOutcome::None
    } else if results.iter().any(|r| **r == DkimResult::Pass) {
        DkimOutcome::Other
    } else if results.iter().all(|r| {
        matches!(
            r,
            DkimResult::Fail(_) | DkimResult::PermError(_) | DkimResult::Neutral(_)
        )
    }) {
        DkimOutcome::Fail
    } else {
        DkimOutcome::Other
    }
}

/// The `_dmarc` names RFC 9989's tree walk asks for `domain`, in its order: the domain itself,
/// then from at most 7 labels one label at a time down to the top-level domain.
fn dmarc_names(domain: &str) -> Vec<String> {
    let labels: Vec<&str> = domain.split('.').filter(|l| !l.is_empty()).collect();
    let n = labels.len();
    if n < 2 {
        return Vec::new();
    }
    std::iter::once(n)
        .chain((1..n.min(8)).rev())
        .map(|count| format!("_dmarc.{}.", labels[n - count..].join(".")))
        .collect()
}

/// Removes header fields `Authentication-Results:` whose authserv-id is `hostname` (RFC 8601
/// §5), from the header section only. Lines may end with CRLF or a bare LF (readers take both as
/// a line end, so a forged field ending in LF must go too).
pub(crate) fn strip_forged_results(content: Vec<u8>, hostname: &str) -> Vec<u8> {
    const NAME: &[u8] = b"authentication-results";
    let is_ours = |field: &[u8]| {
        field.len() > NAME.len()
            && field[..NAME.len()].eq_ignore_ascii_case(NAME)
            && field[NAME.len()..].trim_ascii_start().first() == Some(&b':')
            && String::from_utf8_lossy(&field[NAME.len()..])
                .trim_start()
                .trim_start_matches(':')
                .trim_start()
                .split(|c: char| c == ';' || c.is_whitespace())
                .next()
                .is_some_and(|id| id.eq_ignore_ascii_case(hostname))
    };
    // Lines of the header section, each with its line end, up to the empty line.
    let mut lines: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    let mut header_end = content.len();
    while start < content.len() {
        let end = content[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(content.len(), |p| start + p + 1);
        let line = &content[start..end];
        if matches!(line, b"\n" | b"\r\n") {
            header_end = start;
            break;
        }
        lines.push((start, end));
        start = end;
    }
    // Fields: a line, then the lines starting with WSP that continue it.
    let mut fields: Vec<(usize, usize)> = Vec::new();
    for (s, e) in lines {
        match fields.last_mut() {
            Some(last) if matches!(content[s], b' ' | b'\t') => last.1 = e,
            _ => fields.push((s, e)),
        }
    }
    if !fields.iter().any(|&(s, e)| is_ours(&content[s..e])) {
        return content;
    }
    let mut out = Vec::with_capacity(content.len());
    for &(s, e) in &fields {
        if !is_ours(&content[s..e]) {
            out.extend_from_slice(&content[s..e]);
        }
    }
    out.extend_from_slice(&content[header_end..]);
    out
}

#[cfg(test)]
mod tests {
    use super::{dmarc_names, strip_forged_results};

    #[test]
    fn dmarc_walk_names() {
        assert_eq!(
            dmarc_names("mail.sender.example"),
            [
                "_dmarc.mail.sender.example.",
                "_dmarc.sender.example.",
                "_dmarc.example."
            ]
        );
        assert!(dmarc_names("localhost").is_empty());
        let long = dmarc_names("a.b.c.d.e.f.g.h.i.j");
        assert_eq!(long.len(), 8);
        assert_eq!(long[0], "_dmarc.a.b.c.d.e.f.g.h.i.j.");
        assert_eq!(long[1], "_dmarc.d.e.f.g.h.i.j.");
        assert_eq!(long[7], "_dmarc.j.");
    }

    #[test]
    fn strips_only_our_results() {
        let raw = b"Authentication-Results: mx.example;\r\n\tdkim=pass\r\n\
Subject: x\r\nAuthentication-Results: other.example; spf=pass\r\n\
authentication-results:   MX.example; dmarc=pass\r\n\r\n\
Authentication-Results: mx.example; in the body\r\n";
        let out = strip_forged_results(raw.to_vec(), "mx.example");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Subject: x\r\nAuthentication-Results: other.example; spf=pass\r\n\r\n\
Authentication-Results: mx.example; in the body\r\n"
        );
        let clean = b"Subject: y\r\n\r\nbody".to_vec();
        assert_eq!(strip_forged_results(clean.clone(), "mx.example"), clean);
        // Lines ending in a bare LF, and a space before the colon, are fields all the same.
        let raw = b"Authentication-Results: mx.example; dkim=pass\n\
Subject: z\r\nAuthentication-Results : mx.example;\n\tdmarc=pass\n\
Authentication-Results: other.example; spf=pass\n\n\
Authentication-Results: mx.example; body\n";
        let out = strip_forged_results(raw.to_vec(), "mx.example");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Subject: z\r\nAuthentication-Results: other.example; spf=pass\n\n\
Authentication-Results: mx.example; body\n"
        );
        let clean = b"Subject: y\n\nAuthentication-Results: mx.example; body\n".to_vec();
        assert_eq!(strip_forged_results(clean.clone(), "mx.example"), clean);
    }
}
