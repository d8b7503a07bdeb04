//! `[auth]`: how password checks are paced: how many argon2id hashes run at once, and the
//! cache of recent successful verifications (like Dovecot's `auth_cache`).

use serde::Deserialize;

/// `[auth]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAuth {
    /// Password hashes (argon2id, 19 MiB each) computed at once; further sign-ins wait their
    /// turn. 0 (the default) means the number of CPU cores.
    pub hash_concurrency: Option<u32>,
    /// Seconds a successful verification is remembered, so that a client signing in again
    /// (short IMAP sessions, a phone polling) skips the hash. 0 turns the cache off. Default 300.
    pub cache_seconds: Option<u64>,
    /// Most verifications remembered at once. Default 10000.
    pub cache_entries: Option<u32>,
}

/// The validated `[auth]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    /// At least 1.
    pub hash_concurrency: usize,
    pub cache_seconds: u64,
    pub cache_entries: usize,
}

impl Default for Auth {
    fn default() -> Self {
        validate(RawAuth::default(), &mut Vec::new())
    }
}

/// Longest cache lifetime accepted: a day (a revoked account is refused anyway, and a changed
/// password never matches an entry, but a remembered verification should stay short-lived).
const MAX_CACHE_SECONDS: u64 = 86_400;

pub(crate) fn validate(raw: RawAuth, problems: &mut Vec<String>) -> Auth {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let hash_concurrency = match raw.hash_concurrency {
        None | Some(0) => cores,
        Some(n) => n as usize,
    };
    let cache_seconds = raw.cache_seconds.unwrap_or(300);
    if cache_seconds > MAX_CACHE_SECONDS {
        problems.push(format!(
            "auth.cache_seconds: {cache_seconds} is more than a day ({MAX_CACHE_SECONDS})"
        ));
    }
    let cache_entries = raw.cache_entries.unwrap_or(10_000) as usize;
    if cache_entries == 0 && cache_seconds > 0 {
        problems.push("auth.cache_entries: must be at least 1 (or set auth.cache_seconds = 0 to turn the cache off)".into());
    }
    Auth {
        hash_concurrency,
        cache_seconds,
        cache_entries,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_bound_hashing_by_the_cores_and_cache_five_minutes() {
        let auth = Auth::default();
        assert!(auth.hash_concurrency >= 1);
        assert_eq!(auth.cache_seconds, 300);
        assert_eq!(auth.cache_entries, 10_000);
    }

    #[test]
    fn refuses_a_cache_longer_than_a_day_or_without_room() {
        let mut problems = Vec::new();
        validate(
            RawAuth {
                hash_concurrency: Some(3),
                cache_seconds: Some(90_000),
                cache_entries: Some(0),
            },
            &mut problems,
        );
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("auth.cache_seconds"));
        assert!(problems[1].starts_with("auth.cache_entries"));
    }
}
