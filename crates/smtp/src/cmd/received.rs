//! The `Received:` trace header we prepend to every accepted message (RFC 5321 §4.4), with the
//! `with` protocol names of RFC 3848 and RFC 6531 §3.7.3, and the date of RFC 5322 §3.3.

use std::net::IpAddr;

use crate::session::{Session, Transaction};

/// `Received: from <helo> ([ip]) (using TLS…) by <host> (hopthu) with <proto> id <id>
/// [for <rcpt>]; <date>` — `for` only with exactly one recipient, so one copy does not list
/// the others (RFC 5321 §7.2).
pub(crate) fn received_header(session: &Session, transaction: &Transaction, id: &str) -> String {
    let helo = session
        .helo
        .as_ref()
        .map(|h| clean_helo(&h.name))
        .unwrap_or_else(|| "unknown".into());
    let mut header = format!(
        "Received: from {helo} ({})\r\n",
        address_literal(session.peer.ip())
    );
    if let Some(tls) = &session.tls_info {
        header.push_str(&format!(
            "\t(using {} with cipher {})\r\n",
            tls.version, tls.cipher
        ));
    }
    header.push_str(&format!(
        "\tby {} (hopthu) with {} id {id}",
        session.hostname(),
        protocol(session, transaction)
    ));
    if let [only] = transaction.recipients.as_slice() {
        header.push_str(&format!("\r\n\tfor <{only}>"));
    }
    header.push_str(&format!(
        ";\r\n\t{}\r\n",
        chrono::Local::now().format("%a, %d %b %Y %H:%M:%S %z")
    ));
    header
}

/// RFC 5321 §4.1.3.
fn address_literal(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("[{v4}]"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("[{v4}]"),
            None => format!("[IPv6:{v6}]"),
        },
    }
}

/// RFC 3848 (ESMTP, ESMTPS, ESMTPA, ESMTPSA) and RFC 6531 §3.7.3 (UTF8SMTP…).
fn protocol(session: &Session, transaction: &Transaction) -> String {
    let extended = session.helo.as_ref().is_some_and(|h| h.extended);
    if !extended {
        return "SMTP".into();
    }
    let mut name = String::from(if transaction.smtputf8 {
        "UTF8SMTP"
    } else {
        "ESMTP"
    });
    if session.is_tls() {
        name.push('S');
    }
    if session.principal.is_some() {
        name.push('A');
    }
    name
}

/// The client's EHLO argument may be anything; keep what a domain or address literal may hold.
fn clean_helo(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .take(255)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']') {
                c
            } else {
                '?'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "unknown".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_helo() {
        assert_eq!(address_literal("127.0.0.1".parse().unwrap()), "[127.0.0.1]");
        assert_eq!(address_literal("::1".parse().unwrap()), "[IPv6:::1]");
        assert_eq!(
            address_literal("::ffff:10.0.0.1".parse().unwrap()),
            "[10.0.0.1]"
        );
        assert_eq!(clean_helo("mail.example.vn"), "mail.example.vn");
        assert_eq!(clean_helo("a(b);c"), "a?b??c");
        assert_eq!(clean_helo("máy"), "m?y");
    }
}
