//! Checks on mail arriving at the MX listener (`[inbound] verify`): SPF (RFC 7208, the MAIL FROM
//! identity, or HELO for the null sender), DKIM (RFC 6376), ARC (RFC 8617, verification only)
//! and DMARC (RFC 7489), all with `mail-auth` and the resolvers of `[dns]`. The outcome is an
//! `Authentication-Results:` header (RFC 8601) under our hostname; a DMARC failure of a domain
//! publishing `p=reject` is refused at DATA with `550 5.7.1` when `[inbound] dmarc_reject`.
//!
//! **Invariants**
//! - `Authentication-Results:` fields already carrying our hostname as authserv-id are removed
//!   (RFC 8601 §5: a sender must not be able to forge our verdict).
//! - A DNS failure never refuses mail: it is reported as `temperror` and the message accepted.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hopthu_core::config::Config;
use hopthu_model::EmailAddress;
use mail_auth::dmarc::Policy;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{AuthenticatedMessage, AuthenticationResults, DmarcResult, MessageAuthenticator};

/// The resolver of `[dns]` (the system's when none is configured), as the MTA builds it.
pub(crate) fn authenticator(config: &Config) -> Result<Arc<MessageAuthenticator>, String> {
    let mut options = ResolverOpts::default();
    options.timeout = config.dns.timeout;
    options.attempts = 2;
    let auth = if config.dns.resolvers.is_empty() {
        MessageAuthenticator::new_system_conf().map_err(|e| format!("system resolver: {e}"))?
    } else {
        let servers = config
            .dns
            .resolvers
            .iter()
            .map(|addr| {
                let mut server = NameServerConfig::udp_and_tcp(addr.ip());
                for connection in &mut server.connections {
                    connection.port = addr.port();
                }
                server
            })
            .collect();
        MessageAuthenticator::new(ResolverConfig::from_name_servers(servers), options)
            .map_err(|e| format!("resolver: {e}"))?
    };
    Ok(Arc::new(auth))
}

/// What the checks decided.
pub(crate) struct Verdict {
    /// `Authentication-Results: …\r\n`, to prepend.
    pub header: String,
    /// `Some(reason)` when the message must be refused (DMARC `p=reject`).
    pub reject: Option<String>,
    /// SPF passed for the MAIL FROM identity (a non-null reverse-path): only then may a
    /// success notice go to it (RFC 3461, no backscatter).
    pub spf_pass: bool,
}

/// What the session knows about the transaction.
pub(crate) struct Peer<'a> {
    pub ip: IpAddr,
    pub helo: &'a str,
    pub mail_from: Option<&'a EmailAddress>,
}

/// Runs SPF, DKIM, ARC and DMARC on `content` (the message as received, before our
/// `Received:`), within `limit` overall.
pub(crate) async fn check(
    auth: &MessageAuthenticator,
    hostname: &str,
    peer: Peer<'_>,
    content: &[u8],
    dmarc_reject: bool,
    limit: Duration,
) -> Verdict {
    match tokio::time::timeout(limit, run(auth, hostname, &peer, content, dmarc_reject)).await {
        Ok(verdict) => verdict,
        Err(_) => {
            tracing::warn!("inbound checks timed out");
            Verdict {
                header: format!(
                    "Authentication-Results: {hostname};\r\n\tspf=temperror;\r\n\tdkim=temperror;\r\n\tdmarc=temperror\r\n"
                ),
                reject: None,
                spf_pass: false,
            }
        }
    }
}

async fn run(
    auth: &MessageAuthenticator,
    hostname: &str,
    peer: &Peer<'_>,
    content: &[u8],
    dmarc_reject: bool,
) -> Verdict {
    let sender = peer.mail_from.map(ToString::to_string).unwrap_or_default();
    let helo = peer.helo;
    // SPF: the MAIL FROM identity, or the HELO identity for `<>` (RFC 7208 §2.4).
    let spf = if sender.is_empty() {
        auth.verify_spf(SpfParameters::verify_ehlo(peer.ip, helo, hostname))
            .await
    } else {
        auth.verify_spf(SpfParameters::verify_mail_from(
            peer.ip, helo, hostname, &sender,
        ))
        .await
    };
    let mail_from_domain = match peer.mail_from {
        Some(address) => address.domain().to_string(),
        None => helo.to_string(),
    };
    let mut results = AuthenticationResults::new(hostname);
    let mut reject = None;
    match AuthenticatedMessage::parse(content) {
        Some(message) => {
            let dkim = auth.verify_dkim(&message).await;
            let arc = auth.verify_arc(&message).await;
            let dmarc = auth
                .verify_dmarc(DmarcParameters::new(
                    &message,
                    &dkim,
                    &mail_from_domain,
                    &spf,
                ))
                .await;
            results = results
                .with_dkim_results(&dkim, message.from())
                .with_spf_mailfrom_result(&spf, peer.ip, &sender, helo)
                .with_arc_result(&arc, peer.ip)
                .with_dmarc_result(&dmarc);
            let failed = matches!(dmarc.result(), DmarcResult::Fail(_));
            tracing::info!(
                spf = ?spf.result(),
                dkim = dkim.iter().any(|d| d.result() == &mail_auth::DkimResult::Pass),
                dmarc = ?dmarc.result(),
                policy = ?dmarc.policy(),
                "inbound checks"
            );
            if failed && dmarc.policy() == Policy::Reject && dmarc_reject {
                reject = Some(format!(
                    "Message rejected: DMARC policy of {} is reject and the message failed \
                     SPF and DKIM alignment",
                    dmarc.domain()
                ));
            }
        }
        None => {
            results = results.with_spf_mailfrom_result(&spf, peer.ip, &sender, helo);
        }
    }
    let mut header = String::from("Authentication-Results: ");
    header.push_str(&results.to_string());
    header.push_str("\r\n");
    let spf_pass = !sender.is_empty() && spf.result() == mail_auth::SpfResult::Pass;
    Verdict {
        header,
        reject,
        spf_pass,
    }
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
    use super::strip_forged_results;

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
