//! Metrics for Prometheus (SPEC §9): counters kept in memory by the core as things happen, and
//! gauges read from the store when scraped. `GET /metrics` (web) serves [`Core::metrics_text`]
//! in the text exposition format, to loopback clients only.
//!
//! Counters start at zero with the process (Prometheus handles resets).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::{Core, Result};

/// What the core counts as it works.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    /// Connections accepted (SMTP, IMAP, POP3 together) and refused by `connections_per_ip`.
    pub(crate) connections: AtomicU64,
    pub(crate) connections_refused: AtomicU64,
    /// Sign-ins (every protocol and the webmail): accepted, failed, refused by the throttle.
    pub(crate) sign_ins: AtomicU64,
    pub(crate) sign_in_failures: AtomicU64,
    pub(crate) sign_ins_throttled: AtomicU64,
    /// A right one-time password from a mail client, refused until it is changed.
    pub(crate) sign_ins_must_change: AtomicU64,
    /// Password checks that computed the hash, and those answered by the cache of recent
    /// verifications (`password_check.rs`).
    pub(crate) password_hashes: AtomicU64,
    pub(crate) password_cache_hits: AtomicU64,
    /// Messages accepted for delivery, copies stored in local mailboxes, remote recipients
    /// queued.
    pub(crate) messages_accepted: AtomicU64,
    pub(crate) local_deliveries: AtomicU64,
    pub(crate) queued_recipients: AtomicU64,
    /// Messages submitted by signed-in users (SMTP submission and the webmail).
    pub(crate) submissions: AtomicU64,
    /// Message bodies (and their bytes) deleted by the blob collector in this process.
    pub(crate) blobs_freed: AtomicU64,
    pub(crate) blob_bytes_freed: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            connections: AtomicU64::new(0),
            connections_refused: AtomicU64::new(0),
            sign_ins: AtomicU64::new(0),
            sign_in_failures: AtomicU64::new(0),
            sign_ins_throttled: AtomicU64::new(0),
            sign_ins_must_change: AtomicU64::new(0),
            password_hashes: AtomicU64::new(0),
            password_cache_hits: AtomicU64::new(0),
            messages_accepted: AtomicU64::new(0),
            local_deliveries: AtomicU64::new(0),
            queued_recipients: AtomicU64::new(0),
            submissions: AtomicU64::new(0),
            blobs_freed: AtomicU64::new(0),
            blob_bytes_freed: AtomicU64::new(0),
        }
    }
}

pub(crate) fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(&str, u64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, value) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
}

/// A gauge with one sample per state (`name{state="active"} 12`).
fn by_state(out: &mut String, name: &str, help: &str, rows: &[(String, u64)]) {
    let labels: Vec<(String, u64)> = rows
        .iter()
        .map(|(state, n)| (format!("state=\"{state}\""), *n))
        .collect();
    let samples: Vec<(&str, u64)> = labels.iter().map(|(l, n)| (l.as_str(), *n)).collect();
    metric(out, name, "gauge", help, &samples);
}

impl Core {
    /// Whether the server can do its work: the database answers and the blob store takes a
    /// write (a full or read-only disk, or an unreachable bucket, would lose mail). For
    /// `/healthz`.
    pub async fn health(&self) -> std::result::Result<(), String> {
        if let Err(e) = self.store.account_count().await {
            return Err(format!("database: {e}"));
        }
        self.store.blobs().probe().await
    }

    /// Every metric in the Prometheus text format (version 0.0.4).
    pub async fn metrics_text(&self) -> Result<String> {
        let m = &self.metrics;
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let stats = self.store.stats().await?;
        let open = self.rate_limits.open_connections();
        let mut out = String::with_capacity(4096);
        let version = format!("version=\"{}\"", env!("CARGO_PKG_VERSION"));
        metric(
            &mut out,
            "hopthu_build_info",
            "gauge",
            "The running version.",
            &[(&version, 1)],
        );
        metric(
            &mut out,
            "hopthu_uptime_seconds",
            "gauge",
            "Seconds since the process started.",
            &[("", m.started.elapsed().as_secs())],
        );
        metric(
            &mut out,
            "hopthu_connections_total",
            "counter",
            "SMTP, IMAP and POP3 connections accepted.",
            &[("", get(&m.connections))],
        );
        metric(
            &mut out,
            "hopthu_connections_refused_total",
            "counter",
            "Connections refused by limits.connections_per_ip.",
            &[("", get(&m.connections_refused))],
        );
        metric(
            &mut out,
            "hopthu_connections_open",
            "gauge",
            "SMTP, IMAP and POP3 connections open now.",
            &[("", open)],
        );
        metric(
            &mut out,
            "hopthu_sign_ins_total",
            "counter",
            "Sign-ins by result (every protocol and the webmail).",
            &[
                ("result=\"ok\"", get(&m.sign_ins)),
                ("result=\"failed\"", get(&m.sign_in_failures)),
                ("result=\"throttled\"", get(&m.sign_ins_throttled)),
                ("result=\"must_change\"", get(&m.sign_ins_must_change)),
            ],
        );
        metric(
            &mut out,
            "hopthu_password_checks_total",
            "counter",
            "Password checks: by computing the argon2id hash, or from the cache of recent successes.",
            &[
                ("by=\"hash\"", get(&m.password_hashes)),
                ("by=\"cache\"", get(&m.password_cache_hits)),
            ],
        );
        metric(
            &mut out,
            "hopthu_messages_accepted_total",
            "counter",
            "Messages accepted for delivery (inbound, submitted, appended notices).",
            &[("", get(&m.messages_accepted))],
        );
        metric(
            &mut out,
            "hopthu_local_deliveries_total",
            "counter",
            "Copies stored in local mailboxes.",
            &[("", get(&m.local_deliveries))],
        );
        metric(
            &mut out,
            "hopthu_queued_recipients_total",
            "counter",
            "Remote recipients put in the outbound queue.",
            &[("", get(&m.queued_recipients))],
        );
        metric(
            &mut out,
            "hopthu_submissions_total",
            "counter",
            "Messages submitted by signed-in users (SMTP submission and webmail).",
            &[("", get(&m.submissions))],
        );
        // The shared resolver's cache (`dns.rs`); zero until something has looked a name up.
        let dns = match self.dns.get() {
            Some(Ok(dns)) => dns.counts(),
            _ => crate::dns::DnsCounts::default(),
        };
        metric(
            &mut out,
            "hopthu_dns_cache_lookups_total",
            "counter",
            "DNS look-ups (inbound checks and outbound MX/address) by whether the cache answered.",
            &[
                ("result=\"hit\"", dns.cache_hits),
                ("result=\"miss\"", dns.cache_misses),
            ],
        );
        metric(
            &mut out,
            "hopthu_dns_queries_sent_total",
            "counter",
            "DNS queries sent to the name servers, retries included.",
            &[("", dns.queries_sent)],
        );
        metric(
            &mut out,
            "hopthu_dns_budget_exceeded_total",
            "counter",
            "Messages whose DNS look-ups ran out of dns.message_budget (temperror or retry later).",
            &[("", dns.budget_exceeded)],
        );
        by_state(
            &mut out,
            "hopthu_accounts",
            "Mail accounts by state.",
            &stats.accounts,
        );
        metric(
            &mut out,
            "hopthu_messages_stored",
            "gauge",
            "Messages in every mailbox.",
            &[("", stats.messages)],
        );
        metric(
            &mut out,
            "hopthu_blobs_stored",
            "gauge",
            "Distinct message bodies on disk.",
            &[("", stats.blobs)],
        );
        metric(
            &mut out,
            "hopthu_blob_bytes",
            "gauge",
            "Bytes of the distinct message bodies.",
            &[("", stats.blob_bytes)],
        );
        metric(
            &mut out,
            "hopthu_blobs_freed_total",
            "counter",
            "Message bodies nothing referred to, deleted by the blob collector.",
            &[("", get(&m.blobs_freed))],
        );
        metric(
            &mut out,
            "hopthu_blob_bytes_freed_total",
            "counter",
            "Bytes of the message bodies deleted by the blob collector.",
            &[("", get(&m.blob_bytes_freed))],
        );
        by_state(
            &mut out,
            "hopthu_queue_recipients",
            "Outbound queue recipients by state.",
            &stats.queue,
        );
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::metric;

    #[test]
    fn exposition_format() {
        let mut out = String::new();
        metric(&mut out, "x_total", "counter", "Things.", &[("", 3)]);
        metric(
            &mut out,
            "y",
            "gauge",
            "By state.",
            &[("state=\"a\"", 1), ("state=\"b\"", 0)],
        );
        assert_eq!(
            out,
            "# HELP x_total Things.\n# TYPE x_total counter\nx_total 3\n\
             # HELP y By state.\n# TYPE y gauge\ny{state=\"a\"} 1\ny{state=\"b\"} 0\n"
        );
    }
}
