//! `[public]`: the host name and ports mail clients are told to use (autoconfig, Autodiscover,
//! the Apple profile, the SRV records). They may differ from `[listen]`: the listeners can sit
//! behind NAT or a port forward.

use serde::Deserialize;

use crate::Listen;

/// `[public]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawPublic {
    /// The host name clients connect to. Default: the top-level `hostname`.
    pub host: Option<String>,
    /// IMAP over implicit TLS. Default: the port of `[listen] imaps`, else 993. 0 = not offered.
    pub imaps_port: Option<u16>,
    /// IMAP with STARTTLS. Default: the port of `[listen] imap`, else 143. 0 = not offered.
    pub imap_port: Option<u16>,
    /// POP3 over implicit TLS. Default: the port of `[listen] pop3s`, else 995.
    pub pop3s_port: Option<u16>,
    /// POP3 with STLS. Default: the port of `[listen] pop3`, else 110.
    pub pop3_port: Option<u16>,
    /// Submission over implicit TLS. Default: the port of `[listen] submissions`, else 465.
    pub submissions_port: Option<u16>,
    /// Submission with STARTTLS. Default: the port of `[listen] submission`, else 587.
    pub submission_port: Option<u16>,
    /// ManageSieve (RFC 5804, STARTTLS). Default: the port of `[listen] managesieve`, else 4190.
    pub managesieve_port: Option<u16>,
}

/// The validated `[public]`: a port of 0 means the service is not offered to clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Public {
    pub host: String,
    pub imaps_port: u16,
    pub imap_port: u16,
    pub pop3s_port: u16,
    pub pop3_port: u16,
    pub submissions_port: u16,
    pub submission_port: u16,
    pub managesieve_port: u16,
}

pub(crate) fn validate(
    raw: RawPublic,
    hostname: &str,
    listen: &Listen,
    problems: &mut Vec<String>,
) -> Public {
    let host = raw
        .host
        .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
        .unwrap_or_else(|| hostname.to_string());
    if !crate::is_domain(&host) {
        problems.push(format!("public.host: {host:?} is not a host name"));
    }
    // A listener on port 0 (an ephemeral port) tells nothing: the standard port then.
    let port = |set: Option<u16>, listener: Option<std::net::SocketAddr>, standard: u16| {
        set.unwrap_or_else(|| {
            listener
                .map(|a| a.port())
                .filter(|&p| p != 0)
                .unwrap_or(standard)
        })
    };
    Public {
        host,
        imaps_port: port(raw.imaps_port, listen.imaps, 993),
        imap_port: port(raw.imap_port, listen.imap, 143),
        pop3s_port: port(raw.pop3s_port, listen.pop3s, 995),
        pop3_port: port(raw.pop3_port, listen.pop3, 110),
        submissions_port: port(raw.submissions_port, listen.submissions, 465),
        submission_port: port(raw.submission_port, listen.submission, 587),
        managesieve_port: port(raw.managesieve_port, listen.managesieve, 4190),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_come_from_the_keys_then_the_listeners_then_the_standard() {
        let mut problems = Vec::new();
        let listen = Listen {
            imaps: Some("0.0.0.0:2993".parse().unwrap()),
            imap: Some("127.0.0.1:0".parse().unwrap()),
            ..Listen::default()
        };
        let p = validate(
            RawPublic {
                submission_port: Some(0),
                pop3s_port: Some(1995),
                ..RawPublic::default()
            },
            "mail.example.vn",
            &listen,
            &mut problems,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(p.host, "mail.example.vn");
        assert_eq!(p.imaps_port, 2993);
        assert_eq!(p.imap_port, 143);
        assert_eq!(p.pop3s_port, 1995);
        assert_eq!(p.pop3_port, 110);
        assert_eq!(p.submissions_port, 465);
        assert_eq!(p.submission_port, 0);
        let p = validate(
            RawPublic {
                host: Some("Mail.Example.VN.".into()),
                ..RawPublic::default()
            },
            "x.example.vn",
            &Listen::default(),
            &mut problems,
        );
        assert_eq!(p.host, "mail.example.vn");
        validate(
            RawPublic {
                host: Some("bad host".into()),
                ..RawPublic::default()
            },
            "x.example.vn",
            &Listen::default(),
            &mut problems,
        );
        assert!(problems[0].starts_with("public.host"), "{problems:?}");
    }
}
