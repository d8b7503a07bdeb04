//! Spam (`[antispam]`): the score of mail arriving at the MX listener, and the classifier its
//! users teach.
//!
//! **The score** is the sum of the weights of the rules that fire (`[antispam.weights]`,
//! listed in `example.toml`): the SPF/DKIM/DMARC outcome of the inbound checks, each DNS
//! blocklist naming the connecting address ([`Core::dnsbl_listings`]), the content rules
//! ([`rules`]), the domain's Bayesian classifier ([`bayes`], once it learnt
//! `bayes_min_learned` messages of each class) and, when `rspamd_url` is set, rspamd's own
//! score ([`rspamd`]). The MX listener writes it as `X-Spam-Score:` and `X-Spam-Status:`
//! ([`SpamVerdict::header`]), adds `X-Spam-Flag: YES` at `junk_threshold` — local delivery
//! then files the message into the recipient's Junk ([`flagged_as_spam`]) — and refuses it at
//! `reject_threshold` (`550 5.7.1`, nothing stored). Fields of those names a sender wrote are
//! removed first, from submitted mail too ([`strip_spam_headers`]); submitted mail is never
//! scored.
//!
//! **DNSBL**: `<reversed IPv4>.<zone>` asked for an A record through the process's resolver
//! (`[dns] resolvers`, its cache), every zone at once within `[dns] message_budget`; an answer
//! in 127.0.0.0/8 lists the address (which one says which list of the zone), NXDOMAIN, no
//! answer in time or any error does not. Every peer is asked, loopback and private addresses
//! too (a relay in front of us is then what is looked up); IPv6 peers are not (blocklists of
//! single IPv6 addresses mean little).
//!
//! **Learning** (`learn.rs`): a message moved or copied into a Junk folder (special-use
//! `\Junk`) is learnt as spam by the domain of the account that moved it; one moved or
//! copied out of Junk into any folder but Trash is learnt as ham. The store records what each
//! message (the SHA-256 of its body) was learnt as, so moving it back and forth counts once.
//! Learning runs after the move committed, in a task of its own, and never fails the move.

pub mod bayes;
mod learn;
pub mod rspamd;
pub mod rules;

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use hopthu_model::EmailAddress;

use crate::Core;

pub(crate) use learn::{LearnJob, spawn_learner};

/// SPF's outcome as the score reads it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SpfOutcome {
    Fail,
    SoftFail,
    /// Pass, none, neutral, or undecided: nothing to add.
    #[default]
    Other,
}

/// DKIM's outcome as the score reads it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DkimOutcome {
    /// Signatures, none valid.
    Fail,
    /// No signature.
    None,
    /// A valid signature, or undecided: nothing to add.
    #[default]
    Other,
}

/// What the inbound checks found (`None` in [`SpamInput`] when they did not run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthOutcome {
    pub spf: SpfOutcome,
    pub dkim: DkimOutcome,
    /// DMARC `fail` (a temperror is not one).
    pub dmarc_fail: bool,
}

/// What the MX listener knows of a message when it is scored.
pub struct SpamInput<'a> {
    pub peer: IpAddr,
    pub helo: &'a str,
    pub mail_from: Option<&'a EmailAddress>,
    pub recipients: &'a [EmailAddress],
    pub auth: Option<AuthOutcome>,
    /// The zones that list the peer ([`Core::dnsbl_listings`]).
    pub dnsbl: &'a [String],
    /// The message as received (no header of ours yet).
    pub content: &'a [u8],
}

/// The score of a message and what to do with it.
#[derive(Debug, Clone, PartialEq)]
pub struct SpamVerdict {
    pub score: f64,
    /// The rules that fired, with what each added.
    pub tests: Vec<(String, f64)>,
    /// At or above `junk_threshold`: `X-Spam-Flag: YES`, filed into Junk.
    pub junk: bool,
    /// At or above `reject_threshold`: refused.
    pub reject: bool,
    pub junk_threshold: f64,
}

impl SpamVerdict {
    /// From the rules that fired and the thresholds.
    pub fn new(tests: Vec<(String, f64)>, junk_threshold: f64, reject_threshold: f64) -> Self {
        let score = round(tests.iter().map(|(_, w)| w).sum());
        SpamVerdict {
            junk: score >= junk_threshold,
            reject: score >= reject_threshold,
            score,
            tests,
            junk_threshold,
        }
    }

    /// `X-Spam-Score:`, `X-Spam-Status:` and at the junk threshold `X-Spam-Flag: YES`, each
    /// ending in CRLF, to prepend.
    pub fn header(&self) -> String {
        let mut names: Vec<&str> = self.tests.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        let tests = if names.is_empty() {
            "none".to_string()
        } else {
            names.join(",")
        };
        let mut out = String::new();
        let _ = write!(
            out,
            "X-Spam-Score: {:.1}\r\nX-Spam-Status: {}, score={:.1} required={:.1}\r\n\ttests={tests}\r\n",
            self.score,
            if self.junk { "Yes" } else { "No" },
            self.score,
            self.junk_threshold,
        );
        if self.junk {
            out.push_str("X-Spam-Flag: YES\r\n");
        }
        out
    }

    /// The reason given with `550 5.7.1`.
    pub fn refusal(&self) -> String {
        format!(
            "Thư bị từ chối vì bị đánh giá là thư rác (điểm {:.1}) / Message refused as spam \
             (score {:.1})",
            self.score, self.score
        )
    }
}

/// To hundredths; `+ 0.0` makes −0 (an empty sum) 0.
fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0 + 0.0
}

/// The header fields a sender may not write: ours alone say what the score is.
const SPAM_FIELDS: [&[u8]; 3] = [b"x-spam-score", b"x-spam-status", b"x-spam-flag"];

/// The fields of the header section, as (start, end) ranges with their continuation lines,
/// and where the header section ends. Lines may end with CRLF or a bare LF.
fn header_fields(content: &[u8]) -> (Vec<(usize, usize)>, usize) {
    let mut fields: Vec<(usize, usize)> = Vec::new();
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
        match fields.last_mut() {
            Some(last) if matches!(line[0], b' ' | b'\t') => last.1 = end,
            _ => fields.push((start, end)),
        }
        start = end;
    }
    (fields, header_end)
}

/// Whether `field` (a whole header field) is named `name` (lower case); a space before the
/// colon still names it, as readers take it so.
fn field_named(field: &[u8], name: &[u8]) -> bool {
    field.len() > name.len()
        && field[..name.len()].eq_ignore_ascii_case(name)
        && field[name.len()..].trim_ascii_start().first() == Some(&b':')
}

/// `content` without any `X-Spam-Score:`, `X-Spam-Status:` or `X-Spam-Flag:` field in its
/// header section (the body is left alone).
pub fn strip_spam_headers(content: Vec<u8>) -> Vec<u8> {
    let (fields, header_end) = header_fields(&content);
    let is_spam_field =
        |&(s, e): &(usize, usize)| SPAM_FIELDS.iter().any(|n| field_named(&content[s..e], n));
    if !fields.iter().any(is_spam_field) {
        return content;
    }
    let mut out = Vec::with_capacity(content.len());
    for field in &fields {
        if !is_spam_field(field) {
            out.extend_from_slice(&content[field.0..field.1]);
        }
    }
    out.extend_from_slice(&content[header_end..]);
    out
}

/// Whether the message's header section has `X-Spam-Flag: YES` (ours: the MX listener removes
/// any a sender wrote): local delivery then files it into Junk.
pub fn flagged_as_spam(raw: &[u8]) -> bool {
    let (fields, _) = header_fields(raw);
    fields.iter().any(|&(s, e)| {
        let field = &raw[s..e];
        field_named(field, b"x-spam-flag")
            && field
                .splitn(2, |&b| b == b':')
                .nth(1)
                .is_some_and(|v| v.trim_ascii().eq_ignore_ascii_case(b"yes"))
    })
}

/// The DNSBL name of an IPv4 address in `zone`: `1.0.0.127.zen.example.`.
pub fn dnsbl_name(ip: Ipv4Addr, zone: &str) -> String {
    let [a, b, c, d] = ip.octets();
    format!("{d}.{c}.{b}.{a}.{zone}.")
}

/// The test name of a zone: `DNSBL_ZEN_EXAMPLE`.
fn dnsbl_test(zone: &str) -> String {
    let mut name = String::from("DNSBL_");
    name.extend(zone.chars().map(|c| {
        if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        }
    }));
    name
}

impl Core {
    /// The `[antispam] dnsbl` zones that list `ip` (see the module's description): all asked
    /// at once, within `[dns] message_budget`; whatever is not answered by then lists nothing.
    pub async fn dnsbl_listings(&self, ip: IpAddr) -> Vec<String> {
        let cfg = &self.config.antispam;
        let IpAddr::V4(ip) = ip else {
            return Vec::new();
        };
        if !cfg.enabled || cfg.dnsbl.is_empty() {
            return Vec::new();
        }
        let dns = match self.dns() {
            Ok(dns) => dns,
            Err(e) => {
                tracing::warn!(error = %e, "DNSBL not asked: no resolver");
                return Vec::new();
            }
        };
        let resolver = dns.authenticator().resolver().clone();
        let mut asks = tokio::task::JoinSet::new();
        for zone in &cfg.dnsbl {
            let resolver = resolver.clone();
            let zone = zone.clone();
            let name = dnsbl_name(ip, &zone);
            asks.spawn(async move {
                match resolver.ipv4_lookup(name.as_str()).await {
                    Ok(lookup) => lookup.answers().iter().find_map(|r| match &r.data {
                        hickory_resolver::proto::rr::RData::A(a) if a.0.octets()[0] == 127 => {
                            Some((zone.clone(), a.0))
                        }
                        _ => None,
                    }),
                    Err(e) if e.is_nx_domain() || e.is_no_records_found() => None,
                    Err(e) => {
                        tracing::info!(zone, error = %e, "DNSBL look-up failed: not listed");
                        None
                    }
                }
            });
        }
        // What answered in time counts; the rest lists nothing.
        let deadline = tokio::time::Instant::now() + dns.budget();
        let mut zones = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, asks.join_next()).await {
                Ok(Some(Ok(Some((zone, answer))))) => {
                    tracing::info!(%ip, zone, %answer, "listed by a DNSBL");
                    zones.push(zone);
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => {
                    dns.budget_exceeded();
                    tracing::warn!(%ip, "DNSBL look-ups ran out of DNS time: not listed");
                    break;
                }
            }
        }
        zones.sort();
        zones
    }

    /// The score of a message arriving at the MX listener (see the module's description).
    pub async fn spam_score(&self, input: SpamInput<'_>) -> SpamVerdict {
        let cfg = &self.config.antispam;
        let w = &cfg.weights;
        let mut tests: Vec<(String, f64)> = Vec::new();
        if let Some(auth) = input.auth {
            match auth.spf {
                SpfOutcome::Fail => tests.push(("SPF_FAIL".into(), w.spf_fail)),
                SpfOutcome::SoftFail => tests.push(("SPF_SOFTFAIL".into(), w.spf_softfail)),
                SpfOutcome::Other => {}
            }
            match auth.dkim {
                DkimOutcome::Fail => tests.push(("DKIM_FAIL".into(), w.dkim_fail)),
                DkimOutcome::None => tests.push(("DKIM_NONE".into(), w.dkim_none)),
                DkimOutcome::Other => {}
            }
            if auth.dmarc_fail {
                tests.push(("DMARC_FAIL".into(), w.dmarc_fail));
            }
        }
        for zone in input.dnsbl {
            tests.push((dnsbl_test(zone), w.dnsbl));
        }
        // Parsing and tokenising are CPU work: off the async threads.
        let content = std::sync::Arc::new(input.content.to_vec());
        let weights = *w;
        let want_tokens = cfg.bayes;
        let parsed =
            tokio::task::spawn_blocking(move || {
                match mail_parser::MessageParser::default().parse(content.as_slice()) {
                    Some(message) => {
                        let rules = rules::content_rules(&message, &weights);
                        let tokens = if want_tokens {
                            bayes::tokens(&message)
                        } else {
                            Vec::new()
                        };
                        (rules, tokens)
                    }
                    None => (Vec::new(), Vec::new()),
                }
            })
            .await
            .unwrap_or_default();
        tests.extend(parsed.0);
        if cfg.bayes
            && !parsed.1.is_empty()
            && let Some(domain) = input
                .recipients
                .iter()
                .find(|r| self.is_local_domain(r))
                .map(|r| r.domain().to_ascii_lowercase())
        {
            match self.store.bayes_counts(&domain, &parsed.1).await {
                Ok(counts)
                    if counts.spam_messages >= cfg.bayes_min_learned
                        && counts.ham_messages >= cfg.bayes_min_learned =>
                {
                    let p = bayes::spam_probability(
                        counts.spam_messages,
                        counts.ham_messages,
                        &counts.tokens,
                    );
                    let added = round(bayes::contribution(p, w.bayes_spam, w.bayes_ham));
                    tracing::debug!(probability = p, added, "Bayes");
                    if added > 0.0 {
                        tests.push(("BAYES_SPAM".into(), added));
                    } else if added < 0.0 {
                        tests.push(("BAYES_HAM".into(), added));
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "Bayes counts unreadable: not counted"),
            }
        }
        if let Some(url) = &cfg.rspamd_url {
            let recipients: Vec<String> =
                input.recipients.iter().map(ToString::to_string).collect();
            let mail_from = input.mail_from.map(ToString::to_string).unwrap_or_default();
            let request = rspamd::Request {
                ip: input.peer,
                helo: input.helo,
                mail_from: &mail_from,
                recipients: &recipients,
                hostname: &self.config.hostname,
                message: input.content,
            };
            match rspamd::check(url, cfg.rspamd_timeout, &request).await {
                Ok(score) => tests.push(("RSPAMD".into(), round(score))),
                Err(e) => tracing::warn!(url, error = %e, "rspamd gave no score: nothing added"),
            }
        }
        SpamVerdict::new(tests, cfg.junk_threshold, cfg.reject_threshold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spam_fields_are_stripped_from_the_header_only() {
        let raw = b"X-Spam-Flag: YES\r\nSubject: a\r\nx-spam-status : Yes,\r\n\tscore=99\r\n\
X-Spam-Score: 99\nX-Spam-Scorer: kept\r\n\r\nX-Spam-Flag: YES in the body\r\n";
        let out = strip_spam_headers(raw.to_vec());
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "Subject: a\r\nX-Spam-Scorer: kept\r\n\r\nX-Spam-Flag: YES in the body\r\n"
        );
        assert!(!flagged_as_spam(&out));
        let clean = b"Subject: b\r\n\r\nbody".to_vec();
        assert_eq!(strip_spam_headers(clean.clone()), clean);
    }

    #[test]
    fn the_flag_is_read_from_the_header() {
        assert!(flagged_as_spam(
            b"Received: x\r\nX-Spam-Flag: YES\r\n\r\nbody"
        ));
        assert!(flagged_as_spam(b"x-spam-flag:yes\r\n\r\n"));
        assert!(!flagged_as_spam(b"X-Spam-Flag: NO\r\n\r\n"));
        assert!(!flagged_as_spam(b"Subject: x\r\n\r\nX-Spam-Flag: YES\r\n"));
    }

    #[test]
    fn dnsbl_names_and_tests() {
        assert_eq!(
            dnsbl_name(Ipv4Addr::new(127, 0, 0, 1), "zen.example"),
            "1.0.0.127.zen.example."
        );
        assert_eq!(
            dnsbl_name(Ipv4Addr::new(192, 0, 2, 99), "bl.x"),
            "99.2.0.192.bl.x."
        );
        assert_eq!(
            dnsbl_test("zen.spam-list.example"),
            "DNSBL_ZEN_SPAM_LIST_EXAMPLE"
        );
    }

    #[test]
    fn the_verdict_sums_the_tests_and_writes_the_header() {
        let v = SpamVerdict::new(
            vec![("DNSBL_ZEN_EXAMPLE".into(), 4.0), ("DKIM_NONE".into(), 0.3)],
            4.0,
            10.0,
        );
        assert_eq!(v.score, 4.3);
        assert!(v.junk && !v.reject);
        assert_eq!(
            v.header(),
            "X-Spam-Score: 4.3\r\nX-Spam-Status: Yes, score=4.3 required=4.0\r\n\
             \ttests=DKIM_NONE,DNSBL_ZEN_EXAMPLE\r\nX-Spam-Flag: YES\r\n"
        );
        let low = SpamVerdict::new(Vec::new(), 5.0, 15.0);
        assert!(!low.junk && !low.reject);
        assert_eq!(
            low.header(),
            "X-Spam-Score: 0.0\r\nX-Spam-Status: No, score=0.0 required=5.0\r\n\ttests=none\r\n"
        );
        assert!(SpamVerdict::new(vec![("X".into(), 15.0)], 5.0, 15.0).reject);
    }
}
