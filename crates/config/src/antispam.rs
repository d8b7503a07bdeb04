//! `[antispam]`: the spam score of mail arriving at the MX listener — DNS blocklists asked
//! about the connecting address, the SPF/DKIM/DMARC outcome, a few content rules, the
//! per-domain Bayesian classifier users train by moving mail into and out of Junk, and
//! optionally an rspamd daemon. Every weight is a key of its own, so an operator tunes the
//! score without a new build; `example.toml` lists them with their defaults.

use serde::Deserialize;

/// `[antispam]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAntispam {
    /// Score mail at the MX listener (default true).
    pub enabled: Option<bool>,
    /// DNS blocklist zones, asked `<reversed IPv4>.<zone>` for the connecting address.
    pub dnsbl: Vec<String>,
    /// At or above this score the message is marked `X-Spam-Flag: YES` and filed into Junk.
    pub junk_threshold: Option<f64>,
    /// At or above this score the message is refused at DATA (`550 5.7.1`).
    pub reject_threshold: Option<f64>,
    /// `http://host:port` of an rspamd daemon (its `/checkv2` is asked; its score is added).
    pub rspamd_url: Option<String>,
    /// Seconds to wait for rspamd (default 5); nothing is added when it does not answer.
    pub rspamd_timeout: Option<u64>,
    /// Use the Bayesian classifier (default true).
    pub bayes: Option<bool>,
    /// Messages of each class (spam and ham) a domain must have learnt before Bayes counts.
    pub bayes_min_learned: Option<u64>,
    /// The weight of each rule.
    pub weights: RawWeights,
}

/// `[antispam.weights]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawWeights {
    pub spf_fail: Option<f64>,
    pub spf_softfail: Option<f64>,
    pub dkim_fail: Option<f64>,
    pub dkim_none: Option<f64>,
    pub dmarc_fail: Option<f64>,
    pub dnsbl: Option<f64>,
    pub subject_caps: Option<f64>,
    pub missing_date: Option<f64>,
    pub missing_message_id: Option<f64>,
    pub html_only: Option<f64>,
    pub exclamations: Option<f64>,
    pub spam_phrase: Option<f64>,
    pub bayes_spam: Option<f64>,
    pub bayes_ham: Option<f64>,
}

/// The validated `[antispam]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Antispam {
    pub enabled: bool,
    /// Zones, lower case, without a final dot.
    pub dnsbl: Vec<String>,
    pub junk_threshold: f64,
    pub reject_threshold: f64,
    /// Without the final `/`.
    pub rspamd_url: Option<String>,
    pub rspamd_timeout: std::time::Duration,
    pub bayes: bool,
    pub bayes_min_learned: u64,
    pub weights: Weights,
}

/// What each rule adds to the score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// SPF `fail` for the MAIL FROM (or HELO) identity.
    pub spf_fail: f64,
    /// SPF `softfail`.
    pub spf_softfail: f64,
    /// A DKIM signature that does not verify (and none that does).
    pub dkim_fail: f64,
    /// No DKIM signature at all.
    pub dkim_none: f64,
    /// DMARC `fail` (whatever the domain's policy).
    pub dmarc_fail: f64,
    /// Each blocklist listing the connecting address.
    pub dnsbl: f64,
    /// A subject in capitals (at least 8 letters, none small).
    pub subject_caps: f64,
    pub missing_date: f64,
    pub missing_message_id: f64,
    /// HTML and no text part, with little text in the HTML.
    pub html_only: f64,
    /// Many exclamation marks (3 in the subject or 10 in the body).
    pub exclamations: f64,
    /// Each known spam phrase (at most 3 counted).
    pub spam_phrase: f64,
    /// What a Bayes probability of 1 adds (0.5 adds nothing).
    pub bayes_spam: f64,
    /// What a Bayes probability of 0 takes away (a positive number).
    pub bayes_ham: f64,
}

impl Default for Weights {
    fn default() -> Weights {
        Weights {
            spf_fail: 2.0,
            spf_softfail: 1.0,
            dkim_fail: 1.5,
            dkim_none: 0.3,
            dmarc_fail: 2.5,
            dnsbl: 4.0,
            subject_caps: 1.5,
            missing_date: 1.0,
            missing_message_id: 1.0,
            html_only: 1.5,
            exclamations: 1.0,
            spam_phrase: 2.0,
            bayes_spam: 6.0,
            bayes_ham: 3.0,
        }
    }
}

impl Default for Antispam {
    fn default() -> Antispam {
        validate(RawAntispam::default(), &mut Vec::new())
    }
}

pub(crate) fn validate(raw: RawAntispam, problems: &mut Vec<String>) -> Antispam {
    let d = Weights::default();
    let w = raw.weights;
    let weights = Weights {
        spf_fail: w.spf_fail.unwrap_or(d.spf_fail),
        spf_softfail: w.spf_softfail.unwrap_or(d.spf_softfail),
        dkim_fail: w.dkim_fail.unwrap_or(d.dkim_fail),
        dkim_none: w.dkim_none.unwrap_or(d.dkim_none),
        dmarc_fail: w.dmarc_fail.unwrap_or(d.dmarc_fail),
        dnsbl: w.dnsbl.unwrap_or(d.dnsbl),
        subject_caps: w.subject_caps.unwrap_or(d.subject_caps),
        missing_date: w.missing_date.unwrap_or(d.missing_date),
        missing_message_id: w.missing_message_id.unwrap_or(d.missing_message_id),
        html_only: w.html_only.unwrap_or(d.html_only),
        exclamations: w.exclamations.unwrap_or(d.exclamations),
        spam_phrase: w.spam_phrase.unwrap_or(d.spam_phrase),
        bayes_spam: w.bayes_spam.unwrap_or(d.bayes_spam),
        bayes_ham: w.bayes_ham.unwrap_or(d.bayes_ham),
    };
    for (name, value) in [
        ("spf_fail", weights.spf_fail),
        ("spf_softfail", weights.spf_softfail),
        ("dkim_fail", weights.dkim_fail),
        ("dkim_none", weights.dkim_none),
        ("dmarc_fail", weights.dmarc_fail),
        ("dnsbl", weights.dnsbl),
        ("subject_caps", weights.subject_caps),
        ("missing_date", weights.missing_date),
        ("missing_message_id", weights.missing_message_id),
        ("html_only", weights.html_only),
        ("exclamations", weights.exclamations),
        ("spam_phrase", weights.spam_phrase),
        ("bayes_spam", weights.bayes_spam),
        ("bayes_ham", weights.bayes_ham),
    ] {
        if !value.is_finite() || !(0.0..=100.0).contains(&value) {
            problems.push(format!(
                "antispam.weights.{name}: {value} must be between 0 and 100"
            ));
        }
    }
    let junk_threshold = raw.junk_threshold.unwrap_or(5.0);
    let reject_threshold = raw.reject_threshold.unwrap_or(15.0);
    if !junk_threshold.is_finite() || !reject_threshold.is_finite() {
        problems.push("antispam: thresholds must be numbers".into());
    } else if reject_threshold < junk_threshold {
        problems.push(format!(
            "antispam.reject_threshold: {reject_threshold} is below junk_threshold \
             {junk_threshold}"
        ));
    }
    let mut dnsbl = Vec::new();
    for (i, zone) in raw.dnsbl.iter().enumerate() {
        let zone = zone.trim().trim_end_matches('.').to_ascii_lowercase();
        if crate::is_domain(&zone) {
            dnsbl.push(zone);
        } else {
            problems.push(format!(
                "antispam.dnsbl[{i}]: {zone:?} is not a DNS zone name"
            ));
        }
    }
    let rspamd_url = raw.rspamd_url.and_then(|url| {
        let url = url.trim().trim_end_matches('/').to_string();
        if url
            .strip_prefix("http://")
            .is_some_and(|rest| !rest.is_empty())
        {
            Some(url)
        } else {
            problems.push(format!(
                "antispam.rspamd_url: {url:?} must be http://host:port (rspamd's controller or \
                 normal worker, on a trusted network)"
            ));
            None
        }
    });
    Antispam {
        enabled: raw.enabled.unwrap_or(true),
        dnsbl,
        junk_threshold,
        reject_threshold,
        rspamd_url,
        rspamd_timeout: std::time::Duration::from_secs(raw.rspamd_timeout.unwrap_or(5).max(1)),
        bayes: raw.bayes.unwrap_or(true),
        bayes_min_learned: raw.bayes_min_learned.unwrap_or(20),
        weights,
    }
}

#[cfg(test)]
mod tests {
    use crate::Config;
    use std::path::Path;

    #[test]
    fn antispam_keys_are_read_and_checked() {
        let c = Config::from_toml("", "t", Path::new("/x")).unwrap();
        assert!(c.antispam.enabled);
        assert!(c.antispam.dnsbl.is_empty());
        assert_eq!(c.antispam.junk_threshold, 5.0);
        assert_eq!(c.antispam.reject_threshold, 15.0);
        let c = Config::from_toml(
            "[antispam]\ndnsbl = [\"Zen.Example.\"]\njunk_threshold = 4\nreject_threshold = 9.5\n\
             rspamd_url = \"http://127.0.0.1:11333/\"\nbayes_min_learned = 3\n\
             [antispam.weights]\ndnsbl = 7.5\n",
            "t",
            Path::new("/x"),
        )
        .unwrap();
        let a = c.antispam;
        assert_eq!(a.dnsbl, ["zen.example"]);
        assert_eq!((a.junk_threshold, a.reject_threshold), (4.0, 9.5));
        assert_eq!(a.rspamd_url.as_deref(), Some("http://127.0.0.1:11333"));
        assert_eq!(a.bayes_min_learned, 3);
        assert_eq!(a.weights.dnsbl, 7.5);
        assert_eq!(a.weights.spf_fail, 2.0);
        for bad in [
            "[antispam]\ndnsbl = [\"not a zone\"]\n",
            "[antispam]\njunk_threshold = 10\nreject_threshold = 5\n",
            "[antispam]\nrspamd_url = \"https://x\"\n",
            "[antispam.weights]\ndnsbl = -1\n",
        ] {
            assert!(
                Config::from_toml(bad, "t", Path::new("/x")).is_err(),
                "{bad}"
            );
        }
    }
}
