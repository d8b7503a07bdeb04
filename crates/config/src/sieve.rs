//! `[sieve]`: per-user Sieve scripts (RFC 5228) run at local delivery, and `[policy]`: what the
//! province allows its users' rules to do with official mail.

use std::path::PathBuf;

use serde::Deserialize;

/// `[sieve]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSieve {
    /// Largest script, in bytes (default 65536).
    pub max_script_size: Option<u64>,
    /// Most scripts one account may keep (default 16).
    pub max_scripts: Option<u32>,
    /// Most `redirect` actions one script may take for one message (default 4).
    pub max_redirects: Option<u32>,
    /// The script's instruction budget per message (default 100000); past it the script stops
    /// and the message is kept in INBOX.
    pub max_instructions: Option<u64>,
    /// Smallest `:days` a vacation action may ask (default 1).
    pub vacation_min_days: Option<u64>,
    /// `:days` of a vacation action that gives none (default 7).
    pub vacation_default_days: Option<u64>,
    /// Largest `:days` (default 30).
    pub vacation_max_days: Option<u64>,
    /// The HMAC key of SRS (forwarded mail's rewritten MAIL FROM), any text of 16 characters
    /// or more. When absent, a random key is generated once into `data_dir/srs.key`; several
    /// nodes sharing one database must share this key.
    pub srs_key: Option<String>,
}

/// The validated `[sieve]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sieve {
    pub max_script_size: u64,
    pub max_scripts: u32,
    pub max_redirects: u32,
    pub max_instructions: u64,
    pub vacation_min_days: u64,
    pub vacation_default_days: u64,
    pub vacation_max_days: u64,
    pub srs_key: Option<String>,
    /// Where a generated SRS key is kept (`data_dir/srs.key`), set by [`crate::RawConfig`].
    pub srs_key_file: PathBuf,
}

impl Default for Sieve {
    fn default() -> Self {
        Sieve {
            max_script_size: 65_536,
            max_scripts: 16,
            max_redirects: 4,
            max_instructions: 100_000,
            vacation_min_days: 1,
            vacation_default_days: 7,
            vacation_max_days: 30,
            srs_key: None,
            srs_key_file: PathBuf::from("srs.key"),
        }
    }
}

pub(crate) fn validate(
    raw: RawSieve,
    data_dir: &std::path::Path,
    problems: &mut Vec<String>,
) -> Sieve {
    let d = Sieve::default();
    let s = Sieve {
        max_script_size: raw.max_script_size.unwrap_or(d.max_script_size),
        max_scripts: raw.max_scripts.unwrap_or(d.max_scripts),
        max_redirects: raw.max_redirects.unwrap_or(d.max_redirects),
        max_instructions: raw.max_instructions.unwrap_or(d.max_instructions),
        vacation_min_days: raw.vacation_min_days.unwrap_or(d.vacation_min_days),
        vacation_default_days: raw.vacation_default_days.unwrap_or(d.vacation_default_days),
        vacation_max_days: raw.vacation_max_days.unwrap_or(d.vacation_max_days),
        srs_key: raw.srs_key,
        srs_key_file: data_dir.join("srs.key"),
    };
    if s.max_script_size == 0 || s.max_script_size > 1024 * 1024 {
        problems.push("sieve.max_script_size: must be between 1 and 1048576".into());
    }
    if s.max_scripts == 0 {
        problems.push("sieve.max_scripts: must be at least 1".into());
    }
    if s.max_instructions < 100 {
        problems.push("sieve.max_instructions: must be at least 100".into());
    }
    if s.vacation_min_days == 0 || s.vacation_min_days > s.vacation_max_days {
        problems.push(
            "sieve.vacation_min_days: must be at least 1 and at most vacation_max_days".into(),
        );
    }
    if !(s.vacation_min_days..=s.vacation_max_days).contains(&s.vacation_default_days) {
        problems.push(
            "sieve.vacation_default_days: must lie between vacation_min_days and vacation_max_days"
                .into(),
        );
    }
    if s.srs_key.as_ref().is_some_and(|k| k.chars().count() < 16) {
        problems.push("sieve.srs_key: must be at least 16 characters".into());
    }
    s
}

/// `[policy]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawPolicy {
    /// Whether users' rules (Sieve `redirect`) may forward mail to addresses outside the
    /// province's domain (default false: official mail must not leave for private mailboxes).
    pub external_forwarding: Option<bool>,
}

/// The validated `[policy]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    pub external_forwarding: bool,
}

pub(crate) fn validate_policy(raw: RawPolicy) -> Policy {
    Policy {
        external_forwarding: raw.external_forwarding.unwrap_or(false),
    }
}
