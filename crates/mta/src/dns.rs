//! Where to deliver a domain's mail: its MX hosts in preference order (RFC 5321 §5.1), the
//! domain itself when it has no MX (the implicit MX), nothing when it publishes a null MX
//! (RFC 7505), or the configured smarthost. Resolution uses the process's one resolver
//! ([`hopthu_core::Core::dns`]), whose cache the inbound checks share.
//!
//! All look-ups for one attempt share `[dns] message_budget`: the MX look-up, then the
//! addresses of every exchanger at once. Exchangers whose addresses came in time are used;
//! when none did, the attempt is a temporary failure (4.4.3) retried later like a 4xx, and the
//! domain's worker is free again.

use std::net::{IpAddr, SocketAddr};

use hickory_resolver::TokioResolver;
use hickory_resolver::net::NetError;
use hickory_resolver::proto::rr::RData;
use hopthu_core::config::Config;
use hopthu_core::dns::Dns;
use tokio::time::{Instant, timeout_at};

use crate::Failure;

/// One host to try, with its addresses.
#[derive(Debug, Clone)]
pub struct Host {
    /// The MX name (or the smarthost / domain name): TLS server name and `Remote-MTA`.
    pub name: String,
    pub addresses: Vec<SocketAddr>,
}

/// The hosts to try for `domain`, best first. `Err` is a temporary (DNS failure, look-ups
/// beyond the budget) or permanent (no such domain, null MX) failure for every recipient of
/// the domain.
pub async fn resolve(dns: &Dns, config: &Config, domain: &str) -> Result<Vec<Host>, Failure> {
    let deadline = Instant::now() + dns.budget();
    let resolver = dns.authenticator().resolver();
    let out_of_time = |what: &str| {
        dns.budget_exceeded();
        Failure::temporary(
            "4.4.3",
            format!(
                "DNS look-up of {what} took longer than {:.1} s; will retry",
                dns.budget().as_secs_f64()
            ),
        )
    };
    let port = config.outbound.port;
    if let Some((host, port)) = &config.outbound.smarthost {
        let addresses = timeout_at(deadline, addresses(resolver, host, *port))
            .await
            .map_err(|_| out_of_time(host))?
            .map_err(|e| e.for_host(host))?;
        return Ok(vec![Host {
            name: host.clone(),
            addresses,
        }]);
    }
    let answer = timeout_at(deadline, resolver.mx_lookup(fqdn(domain)))
        .await
        .map_err(|_| out_of_time(domain))?;
    let mut exchanges: Vec<(u16, String)> = match answer {
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
    exchanges.retain(|(_, name)| !name.is_empty());
    // Every exchanger's addresses at once, so one silent name does not hold up the others.
    let mut lookups = tokio::task::JoinSet::new();
    for (i, (_, name)) in exchanges.iter().enumerate() {
        let resolver = resolver.clone();
        let name = name.clone();
        lookups.spawn(async move { (i, addresses(&resolver, &name, port).await) });
    }
    let mut found: Vec<Option<Result<Vec<SocketAddr>, AddressError>>> =
        (0..exchanges.len()).map(|_| None).collect();
    while let Ok(Some(joined)) = timeout_at(deadline, lookups.join_next()).await {
        if let Ok((i, result)) = joined {
            found[i] = Some(result);
        }
    }
    lookups.abort_all();
    let mut hosts = Vec::new();
    let mut last_error = None;
    let mut late = None;
    for ((_, name), result) in exchanges.into_iter().zip(found) {
        match result {
            Some(Ok(addresses)) => hosts.push(Host { name, addresses }),
            Some(Err(e)) => last_error = Some(e.for_host(&name)),
            None => late = Some(name),
        }
    }
    if hosts.is_empty() {
        if let Some(name) = late {
            return Err(out_of_time(&name));
        }
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
    resolver: &TokioResolver,
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, AddressError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    match resolver.lookup_ip(fqdn(host)).await {
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
