//! Where to deliver a domain's mail: its MX hosts in preference order (RFC 5321 §5.1), the
//! domain itself when it has no MX (the implicit MX), nothing when it publishes a null MX
//! (RFC 7505), or the configured smarthost. Resolution uses hickory's resolver with the name
//! servers of `[dns]` (through `mail-auth`'s `MessageAuthenticator`, which the DKIM/SPF checks
//! share).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::NetError;
use hickory_resolver::proto::rr::RData;
use hopthu_core::config::Config;
use mail_auth::MessageAuthenticator;

use crate::Failure;

/// Builds the resolver named by `[dns]` (the system's when no resolver is configured).
pub fn authenticator(config: &Config) -> Result<Arc<MessageAuthenticator>, String> {
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

/// One host to try, with its addresses.
#[derive(Debug, Clone)]
pub struct Host {
    /// The MX name (or the smarthost / domain name): TLS server name and `Remote-MTA`.
    pub name: String,
    pub addresses: Vec<SocketAddr>,
}

/// The hosts to try for `domain`, best first. `Err` is a temporary (DNS failure) or permanent
/// (no such domain, null MX) failure for every recipient of the domain.
pub async fn resolve(
    auth: &MessageAuthenticator,
    config: &Config,
    domain: &str,
) -> Result<Vec<Host>, Failure> {
    let port = config.outbound.port;
    if let Some((host, port)) = &config.outbound.smarthost {
        let addresses = addresses(auth, host, *port)
            .await
            .map_err(|e| e.for_host(host))?;
        return Ok(vec![Host {
            name: host.clone(),
            addresses,
        }]);
    }
    let resolver = auth.resolver();
    let mut exchanges: Vec<(u16, String)> = match resolver.mx_lookup(fqdn(domain)).await {
        Ok(lookup) => lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::MX(mx) => Some((
                    mx.preference,
                    mx.exchange
                        .to_ascii()
                        .trim_end_matches('.')
                        .to_ascii_lowercase(),
                )),
                _ => None,
            })
            .collect(),
        Err(e) if e.is_nx_domain() => {
            return Err(Failure::permanent(
                "5.1.2",
                format!("Domain {domain} does not exist (DNS NXDOMAIN)"),
            ));
        }
        Err(e) if e.is_no_records_found() => Vec::new(),
        Err(e) => return Err(temporary_dns(domain, &e)),
    };
    if exchanges.is_empty() {
        // RFC 5321 §5.1: no MX, the domain itself is the implicit MX.
        exchanges.push((0, domain.to_string()));
    }
    if exchanges.len() == 1 && exchanges[0].1.is_empty() {
        // RFC 7505: "MX 0 ." — the domain accepts no mail.
        return Err(Failure::permanent(
            "5.1.10",
            format!("Domain {domain} does not accept mail (null MX)"),
        ));
    }
    // Same preference: random order spreads the load (RFC 5321 §5.1).
    exchanges.sort_by_key(|(pref, _)| (*pref, rand::random::<u16>()));
    let mut hosts = Vec::new();
    let mut last_error = None;
    for (_, name) in exchanges {
        if name.is_empty() {
            continue;
        }
        match addresses(auth, &name, port).await {
            Ok(addresses) => hosts.push(Host { name, addresses }),
            Err(e) => last_error = Some(e.for_host(&name)),
        }
    }
    if hosts.is_empty() {
        return Err(last_error.unwrap_or_else(|| {
            Failure::temporary("4.4.4", format!("No usable mail exchanger for {domain}"))
        }));
    }
    Ok(hosts)
}

/// Why a host name gave no address.
enum AddressError {
    NotFound,
    Dns(String),
}

impl AddressError {
    fn for_host(self, host: &str) -> Failure {
        match self {
            // A missing MX host is often a passing misconfiguration: retry.
            AddressError::NotFound => {
                Failure::temporary("4.4.4", format!("Host {host} has no address"))
            }
            AddressError::Dns(e) => {
                Failure::temporary("4.4.3", format!("DNS lookup of {host} failed: {e}"))
            }
        }
    }
}

async fn addresses(
    auth: &MessageAuthenticator,
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, AddressError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    match auth.resolver().lookup_ip(fqdn(host)).await {
        Ok(lookup) => {
            let found: Vec<SocketAddr> =
                lookup.iter().map(|ip| SocketAddr::new(ip, port)).collect();
            if found.is_empty() {
                Err(AddressError::NotFound)
            } else {
                Ok(found)
            }
        }
        Err(e) if e.is_nx_domain() || e.is_no_records_found() => Err(AddressError::NotFound),
        Err(e) => Err(AddressError::Dns(e.to_string())),
    }
}

fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

fn temporary_dns(domain: &str, e: &NetError) -> Failure {
    Failure::temporary("4.4.3", format!("DNS lookup of {domain} failed: {e}"))
}
