//! The one DNS resolver of the process: the inbound checks (SPF, DKIM, ARC, DMARC on the MX
//! listener) and the outbound queue (MX and address look-ups) all ask it, so they share one
//! cache of answers.
//!
//! The cache is hickory's response cache: positive and negative answers (RFC 2308, from the
//! SOA of a negative answer) are kept for their TTL, negative ones at most an hour, and at
//! most `[dns] cache_entries` answers in all (least recently used go first). Hickory counts its
//! cache hits, misses and the queries it sends through the `metrics` facade; a recorder of our
//! own, in effect only while the resolver is built (`metrics::with_local_recorder`), binds
//! those counters to the atomics [`Dns::counts`] reads for `/metrics`. Nothing else in the
//! process uses the facade.
//!
//! `[dns] message_budget` bounds all the look-ups made for one message; the callers apply it
//! (`smtp` inbound checks, `mta` MX resolution) and report what ran out with
//! [`Dns::budget_exceeded`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::metrics::{CACHE_HIT_TOTAL, CACHE_MISS_TOTAL, OUTGOING_QUERIES_TOTAL};
use mail_auth::MessageAuthenticator;

/// Longest time a negative answer (NXDOMAIN, no such record) is cached, whatever its SOA says.
const NEGATIVE_MAX_TTL: Duration = Duration::from_secs(3600);

/// The shared resolver and its counters.
pub struct Dns {
    auth: MessageAuthenticator,
    counters: Arc<Counters>,
    budget: Duration,
}

/// What `/metrics` shows of DNS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DnsCounts {
    /// Look-ups answered from the cache.
    pub cache_hits: u64,
    /// Look-ups the cache could not answer.
    pub cache_misses: u64,
    /// Queries sent to the name servers (retries included).
    pub queries_sent: u64,
    /// Messages whose look-ups ran out of `[dns] message_budget`.
    pub budget_exceeded: u64,
}

#[derive(Default)]
struct Counters {
    hits: Arc<AtomicU64>,
    misses: Arc<AtomicU64>,
    queries: Arc<AtomicU64>,
    budget_exceeded: AtomicU64,
}

/// Hands hickory our atomics for the counters we show, and no-ops for everything else.
struct Recorder<'a>(&'a Counters);

impl ::metrics::Recorder for Recorder<'_> {
    fn describe_counter(
        &self,
        _: ::metrics::KeyName,
        _: Option<::metrics::Unit>,
        _: ::metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: ::metrics::KeyName,
        _: Option<::metrics::Unit>,
        _: ::metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: ::metrics::KeyName,
        _: Option<::metrics::Unit>,
        _: ::metrics::SharedString,
    ) {
    }

    fn register_counter(
        &self,
        key: &::metrics::Key,
        _: &::metrics::Metadata<'_>,
    ) -> ::metrics::Counter {
        let counter = match key.name() {
            CACHE_HIT_TOTAL => &self.0.hits,
            CACHE_MISS_TOTAL => &self.0.misses,
            // One counter per transport (udp, tcp): they add up in ours.
            OUTGOING_QUERIES_TOTAL => &self.0.queries,
            _ => return ::metrics::Counter::noop(),
        };
        ::metrics::Counter::from_arc(counter.clone())
    }

    fn register_gauge(&self, _: &::metrics::Key, _: &::metrics::Metadata<'_>) -> ::metrics::Gauge {
        ::metrics::Gauge::noop()
    }

    fn register_histogram(
        &self,
        _: &::metrics::Key,
        _: &::metrics::Metadata<'_>,
    ) -> ::metrics::Histogram {
        ::metrics::Histogram::noop()
    }
}

impl Dns {
    /// Builds the resolver of `[dns]`: its `resolvers`, or the system's (`/etc/resolv.conf`)
    /// when none is configured.
    pub fn new(config: &hopthu_config::Dns) -> Result<Dns, String> {
        let (resolver_config, mut options) = if config.resolvers.is_empty() {
            hickory_resolver::system_conf::read_system_conf()
                .map_err(|e| format!("system resolver: {e}"))?
        } else {
            (
                ResolverConfig::from_name_servers(
                    config.resolvers.iter().map(|a| name_server(*a)).collect(),
                ),
                ResolverOpts::default(),
            )
        };
        options.timeout = config.timeout;
        options.attempts = 2;
        options.cache_size = config.cache_entries;
        options.negative_max_ttl = Some(NEGATIVE_MAX_TTL);
        let counters = Arc::new(Counters::default());
        let auth = ::metrics::with_local_recorder(&Recorder(&counters), || {
            MessageAuthenticator::new(resolver_config, options)
        })
        .map_err(|e| format!("resolver: {e}"))?;
        Ok(Dns {
            auth,
            counters,
            budget: config.message_budget,
        })
    }

    /// The resolver, as `mail-auth` wants it (`.resolver()` for hickory itself).
    pub fn authenticator(&self) -> &MessageAuthenticator {
        &self.auth
    }

    /// `[dns] message_budget`.
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// Records that the look-ups of one message ran out of the budget.
    pub fn budget_exceeded(&self) {
        self.counters
            .budget_exceeded
            .fetch_add(1, Ordering::Relaxed);
    }

    pub fn counts(&self) -> DnsCounts {
        let c = &self.counters;
        DnsCounts {
            cache_hits: c.hits.load(Ordering::Relaxed),
            cache_misses: c.misses.load(Ordering::Relaxed),
            queries_sent: c.queries.load(Ordering::Relaxed),
            budget_exceeded: c.budget_exceeded.load(Ordering::Relaxed),
        }
    }
}

fn name_server(addr: SocketAddr) -> NameServerConfig {
    let mut server = NameServerConfig::udp_and_tcp(addr.ip());
    for connection in &mut server.connections {
        connection.port = addr.port();
    }
    server
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;

    /// A name server on loopback answering every query with NXDOMAIN and an SOA of TTL 60,
    /// counting the queries.
    fn nxdomain_server() -> (SocketAddr, Arc<AtomicU64>) {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = socket.local_addr().unwrap();
        let count = Arc::new(AtomicU64::new(0));
        let seen = count.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while let Ok((n, peer)) = socket.recv_from(&mut buf) {
                if n < 12 {
                    continue;
                }
                seen.fetch_add(1, Ordering::Relaxed);
                // Header: same id, QR=1, RD copied, RA=1, RCODE=3; one question, one authority.
                let mut out = buf[..n].to_vec();
                out[2] = 0x80 | (buf[2] & 0x01);
                out[3] = 0x83;
                out[6..12].copy_from_slice(&[0, 0, 0, 1, 0, 0]);
                // Drop any EDNS record after the question.
                let mut end = 12;
                while end < n && buf[end] != 0 {
                    end += 1 + buf[end] as usize;
                }
                out.truncate(end + 5);
                // SOA for "." : name, type 6, class 1, TTL 60, rdata.
                out.extend_from_slice(&[0, 0, 6, 0, 1, 0, 0, 0, 60]);
                let rdata = [
                    &[0u8, 0][..],
                    &[0, 0, 0, 1],
                    &[0, 0, 0, 60],
                    &[0, 0, 0, 60],
                    &[0, 0, 0, 60],
                    &[0, 0, 0, 60],
                ]
                .concat();
                out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
                out.extend_from_slice(&rdata);
                let _ = socket.send_to(&out, peer);
            }
        });
        (addr, count)
    }

    #[tokio::test]
    async fn negative_answers_are_cached_and_counted() {
        let (addr, queries) = nxdomain_server();
        let config = hopthu_config::Dns {
            resolvers: vec![addr],
            timeout: Duration::from_secs(2),
            message_budget: Duration::from_secs(5),
            cache_entries: 100,
        };
        let dns = Dns::new(&config).unwrap();
        for _ in 0..3 {
            let err = dns
                .authenticator()
                .resolver()
                .txt_lookup("nothing.example.")
                .await
                .unwrap_err();
            assert!(err.is_nx_domain(), "{err}");
        }
        assert_eq!(queries.load(Ordering::Relaxed), 1);
        let counts = dns.counts();
        assert_eq!(
            (counts.cache_hits, counts.cache_misses),
            (2, 1),
            "{counts:?}"
        );
        assert_eq!(counts.queries_sent, 1);
    }
}
