//! Pacing of password checks: at most `[auth] hash_concurrency` argon2id hashes at once (the
//! rest wait their turn, so a storm of sign-ins neither multiplies the 19 MiB working memory
//! nor takes every core from the sessions already signed in), and a cache of recent successful
//! verifications, like Dovecot's `auth_cache`.
//!
//! **The cache** remembers, for `[auth] cache_seconds`, that a password matched a stored hash.
//! Its key is an HMAC-SHA256, under a secret drawn at start and never written anywhere, of the
//! account's address, the password and the stored hash: the password is never kept, a changed
//! or reset password (a new stored hash) never matches an old entry, and a memory dump does not
//! give candidate passwords to test offline without the secret. Only successes are cached, so
//! a wrong password always costs the full hash. Bounded by `[auth] cache_entries`: expired
//! entries go first, then the ones closest to expiry.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hopthu_config::Auth;
use ring::hmac;
use tokio::sync::{Semaphore, SemaphorePermit};

pub(crate) struct PasswordChecks {
    permits: Semaphore,
    cache: Option<VerifiedCache>,
}

struct VerifiedCache {
    key: hmac::Key,
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<[u8; 32], Instant>>,
}

/// A cache key (an HMAC tag), for an account whose hash is stored.
pub(crate) type CacheTag = [u8; 32];

impl PasswordChecks {
    pub(crate) fn new(config: &Auth) -> PasswordChecks {
        let cache = (config.cache_seconds > 0 && config.cache_entries > 0).then(|| {
            let secret: [u8; 32] = rand::random();
            VerifiedCache {
                key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
                ttl: Duration::from_secs(config.cache_seconds),
                capacity: config.cache_entries,
                entries: Mutex::new(HashMap::new()),
            }
        });
        PasswordChecks {
            permits: Semaphore::new(config.hash_concurrency.max(1)),
            cache,
        }
    }

    /// Waits for a turn to hash (held while the hash runs).
    pub(crate) async fn turn(&self) -> SemaphorePermit<'_> {
        // The semaphore is never closed.
        self.permits
            .acquire()
            .await
            .expect("the hashing semaphore is never closed")
    }

    /// The cache key of (account, password, stored hash), `None` when the cache is off.
    pub(crate) fn tag(&self, address: &str, password: &str, stored_hash: &str) -> Option<CacheTag> {
        let cache = self.cache.as_ref()?;
        let mut ctx = hmac::Context::with_key(&cache.key);
        // Each field with its length first, so no two triples share an input.
        for field in [address, password, stored_hash] {
            ctx.update(&(field.len() as u64).to_be_bytes());
            ctx.update(field.as_bytes());
        }
        let mut tag = [0u8; 32];
        tag.copy_from_slice(ctx.sign().as_ref());
        Some(tag)
    }

    /// Whether this verification succeeded within the cache's lifetime.
    pub(crate) fn remembered(&self, tag: &CacheTag) -> bool {
        let Some(cache) = &self.cache else {
            return false;
        };
        let mut entries = cache.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(tag) {
            Some(&until) if until > Instant::now() => true,
            Some(_) => {
                entries.remove(tag);
                false
            }
            None => false,
        }
    }

    /// Remembers a successful verification.
    pub(crate) fn remember(&self, tag: CacheTag) {
        let Some(cache) = &self.cache else {
            return;
        };
        let now = Instant::now();
        let mut entries = cache.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= cache.capacity && !entries.contains_key(&tag) {
            entries.retain(|_, until| *until > now);
            while entries.len() >= cache.capacity {
                let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, until)| **until)
                    .map(|(k, _)| *k)
                else {
                    break;
                };
                entries.remove(&oldest);
            }
        }
        entries.insert(tag, now + cache.ttl);
    }

    /// Entries held (tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.cache
            .as_ref()
            .map_or(0, |c| c.entries.lock().unwrap().len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checks(seconds: u64, entries: usize) -> PasswordChecks {
        PasswordChecks::new(&Auth {
            hash_concurrency: 2,
            cache_seconds: seconds,
            cache_entries: entries,
        })
    }

    #[test]
    fn a_changed_password_or_hash_never_matches() {
        let c = checks(60, 10);
        let tag = c.tag("a@x.vn", "mat-khau-1", "$argon2id$h1").unwrap();
        c.remember(tag);
        assert!(c.remembered(&tag));
        for other in [
            c.tag("a@x.vn", "mat-khau-2", "$argon2id$h1"),
            c.tag("a@x.vn", "mat-khau-1", "$argon2id$h2"),
            c.tag("b@x.vn", "mat-khau-1", "$argon2id$h1"),
            // Field boundaries count: "a@x.vnm" + "at-khau-1" is another triple.
            c.tag("a@x.vnm", "at-khau-1", "$argon2id$h1"),
        ] {
            assert!(!c.remembered(&other.unwrap()));
        }
    }

    #[test]
    fn another_process_secret_gives_other_keys() {
        let (a, b) = (checks(60, 10), checks(60, 10));
        assert_ne!(a.tag("a@x.vn", "p", "h"), b.tag("a@x.vn", "p", "h"));
    }

    #[test]
    fn entries_expire_and_the_cache_stays_bounded() {
        let c = checks(60, 3);
        let tags: Vec<_> = (0..5)
            .map(|i| c.tag(&format!("u{i}@x.vn"), "p", "h").unwrap())
            .collect();
        for t in &tags {
            c.remember(*t);
        }
        assert_eq!(c.len(), 3);
        // The oldest went first.
        assert!(!c.remembered(&tags[0]) && !c.remembered(&tags[1]));
        assert!(c.remembered(&tags[4]));

        let gone = checks(0, 3);
        assert!(
            gone.tag("a@x.vn", "p", "h").is_none(),
            "cache_seconds = 0 turns it off"
        );
    }

    #[tokio::test]
    async fn hashing_turns_are_bounded() {
        let c = checks(60, 3);
        let first = c.turn().await;
        let _second = c.turn().await;
        assert!(c.permits.try_acquire().is_err(), "a third waits");
        drop(first);
        assert!(c.permits.try_acquire().is_ok());
    }
}
