//! The mail-transport tables: `[dns]`, `[outbound]` (the queue and its SMTP client), `[dkim]`,
//! `[inbound]` (SPF/DKIM/DMARC checks) and `[antivirus]` (clamd).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// `[dns]`: the resolver used for MX look-ups and the SPF/DKIM/DMARC checks.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawDns {
    /// Name servers as `ip:port`, e.g. `["127.0.0.1:5353"]`. Default: the system's resolvers
    /// (`/etc/resolv.conf`).
    pub resolvers: Option<Vec<String>>,
    /// Seconds to wait for one answer. Default 5.
    pub timeout: Option<u64>,
    /// Seconds all the look-ups for one message may take together: the SPF/DKIM/ARC/DMARC
    /// checks of one inbound message, the MX and address look-ups of one outbound attempt.
    /// What is not answered by then is a temporary error. Default 5.
    pub message_budget: Option<f64>,
    /// Most answers (positive and negative) kept in the process's DNS cache, which honours
    /// their TTLs. Default 10000.
    pub cache_entries: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Dns {
    /// Empty means the system's resolvers.
    pub resolvers: Vec<SocketAddr>,
    pub timeout: Duration,
    pub message_budget: Duration,
    pub cache_entries: u64,
}

/// `[outbound]`: delivery of queued mail to other domains.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawOutbound {
    /// TCP port used when connecting to a remote MX. Default 25; tests point it elsewhere.
    pub port: Option<u16>,
    /// Relay every message through this host (`host:port`) instead of looking up MX records,
    /// e.g. the ministry's relay. Default: none (direct delivery).
    pub smarthost: Option<String>,
    /// User name for AUTH PLAIN at the smarthost (only after STARTTLS succeeded).
    pub smarthost_user: Option<String>,
    /// Password for `smarthost_user`.
    pub smarthost_password: Option<String>,
    /// PEM file of the certificate authorities trusted for the smarthost's certificate, instead
    /// of the system's (`/etc/ssl/certs`), e.g. the ministry's own CA. Relative to the
    /// configuration file's folder.
    pub smarthost_ca_file: Option<PathBuf>,
    /// SHA-256 of the smarthost's certificate (64 hex digits, colons allowed): trust exactly
    /// this certificate (e.g. a self-signed one) whatever its issuer and name.
    pub smarthost_fingerprint: Option<String>,
    /// Seconds a message may stay in the queue before it is bounced. Default 5 days.
    pub lifetime: Option<u64>,
    /// Seconds before the first retry; each later retry waits twice as long. Default 300.
    pub retry_initial: Option<u64>,
    /// Longest wait between two attempts, in seconds. Default 4 hours.
    pub retry_max: Option<u64>,
    /// Seconds after which the sender is told that delivery is delayed (once). Default 4 hours.
    pub delay_notice: Option<u64>,
    /// Seconds between two looks at the queue for due entries (new mail wakes the runner at
    /// once; this bounds how late `hopthu queue retry` from another process is seen). Default 10.
    pub poll_interval: Option<u64>,
    /// Seconds a node holds the recipients it took from the queue; when it dies meanwhile,
    /// another node (or this one restarted) takes them after that.
    pub claim_lease: Option<u64>,
    /// Most outbound SMTP connections at once. Default 32.
    pub max_connections: Option<usize>,
    /// Most connections to one destination domain at once. Default 4.
    pub max_connections_per_domain: Option<usize>,
    /// Seconds to wait for a reply from a remote server (RFC 5321 §4.5.3.2). Default 300.
    pub timeout: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Outbound {
    pub port: u16,
    /// `(host, port)`.
    pub smarthost: Option<(String, u16)>,
    pub smarthost_auth: Option<(String, String)>,
    /// The smarthost's certificate is always verified: against these CAs when set, else the
    /// system's.
    pub smarthost_ca_file: Option<PathBuf>,
    /// SHA-256 of the one certificate trusted for the smarthost.
    pub smarthost_fingerprint: Option<[u8; 32]>,
    pub lifetime: Duration,
    pub retry_initial: Duration,
    pub retry_max: Duration,
    pub delay_notice: Duration,
    pub poll_interval: Duration,
    pub claim_lease: Duration,
    pub max_connections: usize,
    pub max_connections_per_domain: usize,
    pub timeout: Duration,
}

impl Default for Outbound {
    fn default() -> Self {
        Outbound {
            port: 25,
            smarthost: None,
            smarthost_auth: None,
            smarthost_ca_file: None,
            smarthost_fingerprint: None,
            lifetime: Duration::from_secs(5 * 24 * 3600),
            retry_initial: Duration::from_secs(300),
            retry_max: Duration::from_secs(4 * 3600),
            delay_notice: Duration::from_secs(4 * 3600),
            poll_interval: Duration::from_secs(10),
            claim_lease: Duration::from_secs(600),
            max_connections: 32,
            max_connections_per_domain: 4,
            timeout: Duration::from_secs(300),
        }
    }
}

/// `[dkim]`: signing of every outgoing message (Đ14.2: origin and integrity). Keys are
/// generated under `data_dir/dkim/` on first start; `hopthu dkim record` prints the DNS records.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawDkim {
    /// Selector of the RSA-2048 key (`<selector>._domainkey.<domain>`). Default `hopthu-rsa`.
    pub rsa_selector: Option<String>,
    /// Selector of the Ed25519 key (RFC 8463). Default `hopthu-ed25519`.
    pub ed25519_selector: Option<String>,
    /// Folder of the keys. Default `data_dir/dkim`. Nodes sharing a database point it at the
    /// same keys (a shared or copied folder), so every node signs with the published ones.
    pub key_dir: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Dkim {
    pub rsa_selector: String,
    pub ed25519_selector: String,
    /// `None`: `data_dir/dkim`.
    pub key_dir: Option<PathBuf>,
}

/// `[inbound]`: checks on mail arriving at the MX listener.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawInbound {
    /// Check SPF, DKIM, DMARC and ARC and add an `Authentication-Results` header. Default true.
    pub verify: Option<bool>,
    /// Refuse at DATA (550 5.7.1) mail failing DMARC whose domain publishes `p=reject`.
    /// Default true.
    pub dmarc_reject: Option<bool>,
    /// When DNS trouble left the checks undecided (a `temperror` and no DMARC pass), answer
    /// `451 4.4.3` so the sender retries, instead of accepting the message marked `temperror`.
    /// Default false.
    pub defer_on_dns_error: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct Inbound {
    pub verify: bool,
    pub dmarc_reject: bool,
    pub defer_on_dns_error: bool,
}

/// `[antivirus]`: scanning through a ClamAV daemon (INSTREAM). Absent `clamd` = no scanning.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAntivirus {
    /// `host:port` of clamd's TCP socket, or the path of its unix socket.
    pub clamd: Option<String>,
    /// When clamd cannot be reached: `"tempfail"` (answer 451, the sender retries; default)
    /// or `"accept"` (accept with an `X-Virus-Scan: unavailable` header). Also spelt
    /// `on_failure`.
    #[serde(alias = "on_failure")]
    pub on_error: Option<String>,
    /// Seconds to wait for a verdict. Default 60.
    pub timeout: Option<u64>,
}

/// Where clamd listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClamdAddress {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

#[derive(Debug, Clone)]
pub struct Antivirus {
    pub clamd: Option<ClamdAddress>,
    /// Accept (with a header) rather than refuse temporarily when clamd is down.
    pub accept_on_error: bool,
    pub timeout: Duration,
}

pub(crate) struct Transport {
    pub dns: Dns,
    pub outbound: Outbound,
    pub dkim: Dkim,
    pub inbound: Inbound,
    pub antivirus: Antivirus,
}

/// `ab:cd:…` or `abcd…`: 32 bytes in hex.
fn parse_fingerprint(text: &str) -> Option<[u8; 32]> {
    let digits: Vec<u8> = text
        .trim()
        .bytes()
        .filter(|&b| b != b':')
        .map(|b| (b as char).to_digit(16).map(|d| d as u8))
        .collect::<Option<_>>()?;
    if digits.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in digits.chunks(2).enumerate() {
        out[i] = pair[0] << 4 | pair[1];
    }
    Some(out)
}

fn is_selector(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-')
}

pub(crate) fn validate(
    dns: RawDns,
    outbound: RawOutbound,
    dkim: RawDkim,
    inbound: RawInbound,
    antivirus: RawAntivirus,
    problems: &mut Vec<String>,
) -> Transport {
    let mut resolvers = Vec::new();
    for (i, r) in dns.resolvers.unwrap_or_default().iter().enumerate() {
        match r.trim().parse::<SocketAddr>() {
            Ok(a) => resolvers.push(a),
            Err(_) => match r.trim().parse::<std::net::IpAddr>() {
                Ok(ip) => resolvers.push(SocketAddr::new(ip, 53)),
                Err(_) => problems.push(format!(
                    "dns.resolvers[{i}]: {r:?} is not an address such as \"127.0.0.1:53\""
                )),
            },
        }
    }
    let mut message_budget = dns.message_budget.unwrap_or(5.0);
    if !(0.1..=300.0).contains(&message_budget) {
        problems.push(format!(
            "dns.message_budget: {message_budget} must be between 0.1 and 300 seconds"
        ));
        message_budget = 5.0;
    }
    let cache_entries = dns.cache_entries.unwrap_or(10_000);
    if !(1..=10_000_000).contains(&cache_entries) {
        problems.push(format!(
            "dns.cache_entries: {cache_entries} must be between 1 and 10000000"
        ));
    }
    let dns = Dns {
        resolvers,
        timeout: Duration::from_secs(dns.timeout.unwrap_or(5).max(1)),
        message_budget: Duration::from_secs_f64(message_budget),
        cache_entries: cache_entries.clamp(1, 10_000_000),
    };

    let d = Outbound::default();
    let secs = |v: Option<u64>, default: Duration| v.map(Duration::from_secs).unwrap_or(default);
    let smarthost = outbound.smarthost.and_then(|s| {
        let parsed = s
            .trim()
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.trim_matches(['[', ']']).to_string(), p.parse().ok()?)));
        if parsed.is_none() {
            problems.push(format!(
                "outbound.smarthost: {s:?} is not \"host:port\" such as \"relay.example.vn:587\""
            ));
        }
        parsed
    });
    let smarthost_auth = match (outbound.smarthost_user, outbound.smarthost_password) {
        (Some(u), Some(p)) => Some((u, p)),
        (None, None) => None,
        _ => {
            problems.push(
                "outbound: set both smarthost_user and smarthost_password, or neither".into(),
            );
            None
        }
    };
    let smarthost_fingerprint = outbound.smarthost_fingerprint.and_then(|f| {
        let parsed = parse_fingerprint(&f);
        if parsed.is_none() {
            problems.push(format!(
                "outbound.smarthost_fingerprint: {f:?} is not a SHA-256 in hex (64 digits, colons allowed)"
            ));
        }
        parsed
    });
    if smarthost.is_none()
        && (outbound.smarthost_ca_file.is_some() || smarthost_fingerprint.is_some())
    {
        problems.push(
            "outbound: smarthost_ca_file and smarthost_fingerprint need outbound.smarthost".into(),
        );
    }
    let outbound = Outbound {
        port: outbound.port.unwrap_or(d.port),
        smarthost,
        smarthost_auth,
        smarthost_ca_file: outbound.smarthost_ca_file,
        smarthost_fingerprint,
        lifetime: secs(outbound.lifetime, d.lifetime),
        retry_initial: secs(outbound.retry_initial, d.retry_initial),
        retry_max: secs(outbound.retry_max, d.retry_max),
        delay_notice: secs(outbound.delay_notice, d.delay_notice),
        poll_interval: secs(outbound.poll_interval, d.poll_interval),
        claim_lease: secs(outbound.claim_lease, d.claim_lease),
        max_connections: outbound.max_connections.unwrap_or(d.max_connections),
        max_connections_per_domain: outbound
            .max_connections_per_domain
            .unwrap_or(d.max_connections_per_domain),
        timeout: secs(outbound.timeout, d.timeout),
    };
    if outbound.port == 0 {
        problems.push("outbound.port: must not be 0".into());
    }
    if outbound.max_connections == 0 || outbound.max_connections_per_domain == 0 {
        problems.push(
            "outbound: max_connections and max_connections_per_domain must be at least 1".into(),
        );
    }
    if outbound.poll_interval.is_zero()
        || outbound.retry_initial.is_zero()
        || outbound.claim_lease.is_zero()
    {
        problems.push(
            "outbound: poll_interval, retry_initial and claim_lease must be at least 1 second"
                .into(),
        );
    }

    let dkim = Dkim {
        rsa_selector: dkim.rsa_selector.unwrap_or_else(|| "hopthu-rsa".into()),
        ed25519_selector: dkim
            .ed25519_selector
            .unwrap_or_else(|| "hopthu-ed25519".into()),
        key_dir: dkim.key_dir,
    };
    for (key, value) in [
        ("rsa_selector", &dkim.rsa_selector),
        ("ed25519_selector", &dkim.ed25519_selector),
    ] {
        if !is_selector(value) {
            problems.push(format!("dkim.{key}: {value:?} is not a DNS label"));
        }
    }
    if dkim.rsa_selector == dkim.ed25519_selector {
        problems.push("dkim: the two selectors must differ".into());
    }

    let inbound = Inbound {
        verify: inbound.verify.unwrap_or(true),
        dmarc_reject: inbound.dmarc_reject.unwrap_or(true),
        defer_on_dns_error: inbound.defer_on_dns_error.unwrap_or(false),
    };

    let clamd = antivirus.clamd.and_then(|s| {
        let s = s.trim();
        if s.starts_with('/') {
            Some(ClamdAddress::Unix(PathBuf::from(s)))
        } else if let Ok(a) = s.parse::<SocketAddr>() {
            Some(ClamdAddress::Tcp(a))
        } else {
            problems.push(format!(
                "antivirus.clamd: {s:?} is neither \"host:port\" nor a unix socket path"
            ));
            None
        }
    });
    let accept_on_error = match antivirus.on_error.as_deref().unwrap_or("tempfail") {
        "tempfail" => false,
        "accept" => true,
        other => {
            problems.push(format!(
                "antivirus.on_error: {other:?} must be \"tempfail\" or \"accept\""
            ));
            false
        }
    };
    let antivirus = Antivirus {
        clamd,
        accept_on_error,
        timeout: Duration::from_secs(antivirus.timeout.unwrap_or(60).max(1)),
    };
    Transport {
        dns,
        outbound,
        dkim,
        inbound,
        antivirus,
    }
}
