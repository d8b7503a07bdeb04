//! The Sender Rewriting Scheme (SRS0) for mail a rule forwards outside the domain: the
//! forwarded copy leaves with `SRS0=HASH=TT=domain=local@our-domain` as its MAIL FROM, so SPF
//! at the receiver checks our domain, and a bounce to that address comes back to us, is
//! checked (HMAC, age) and goes on to the original sender. Only addresses we made are
//! accepted: the hash is an HMAC-SHA256 under a key of `[sieve] srs_key` or one generated
//! once into `data_dir/srs.key`.
//!
//! Local parts are compared case-insensitively on the way back (mail systems may fold them),
//! so the hash is computed over the lower-cased fields and compared lower-cased; 6 characters
//! of base64 keep it hard to forge even so.

use base64::Engine;
use hopthu_model::EmailAddress;

use crate::{Core, Error, ErrorKind, Result};

/// How long a rewritten address is honoured, in days.
pub const SRS_MAX_AGE_DAYS: i64 = 21;
const HASH_LEN: usize = 6;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// The day stamp: days since 1970 modulo 1024, two base32 characters.
fn stamp(day: i64) -> String {
    let d = day.rem_euclid(1024) as usize;
    [BASE32[d >> 5] as char, BASE32[d & 31] as char]
        .iter()
        .collect()
}

fn unstamp(s: &str) -> Option<i64> {
    let mut v = 0i64;
    if s.len() != 2 {
        return None;
    }
    for c in s.bytes() {
        let i = BASE32.iter().position(|b| *b == c.to_ascii_uppercase())?;
        v = v * 32 + i as i64;
    }
    Some(v)
}

fn hash(key: &[u8], stamp: &str, domain: &str, local: &str) -> String {
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    let data = format!("{stamp}={domain}={local}").to_lowercase();
    let tag = ring::hmac::sign(&k, data.as_bytes());
    let mut out = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref());
    out.truncate(HASH_LEN);
    out
}

/// The SRS0 local part (without `@domain`) for `original`, made on `day` (days since 1970).
pub fn encode(key: &[u8], original: &str, day: i64) -> Option<String> {
    let (local, domain) = original.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    let t = stamp(day);
    let h = hash(key, &t, domain, local);
    Some(format!("SRS0={h}={t}={domain}={local}"))
}

/// The original address an SRS0 local part stands for, if its hash is ours and it is at most
/// [`SRS_MAX_AGE_DAYS`] old on `today`.
pub fn decode(key: &[u8], local_part: &str, today: i64) -> Option<String> {
    let rest = local_part
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("SRS0="))
        .map(|_| &local_part[5..])?;
    let mut parts = rest.splitn(4, '=');
    let (h, t, domain, local) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    let made = unstamp(t)?;
    let age = (today.rem_euclid(1024) - made).rem_euclid(1024);
    if age > SRS_MAX_AGE_DAYS {
        return None;
    }
    let expected = hash(key, &t.to_ascii_uppercase(), domain, local);
    // Compared lower-cased (see the module), without an early exit.
    let (a, b) = (expected.to_lowercase(), h.to_lowercase());
    let ok = a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0;
    ok.then(|| format!("{local}@{domain}"))
}

/// Days since 1970 now.
fn today() -> i64 {
    chrono::Utc::now().timestamp().div_euclid(86_400)
}

impl Core {
    /// The SRS key: `[sieve] srs_key`, or the one kept in `data_dir/srs.key` (generated on
    /// first use).
    fn srs_key(&self) -> Result<Vec<u8>> {
        if let Some(key) = &self.config.sieve.srs_key {
            return Ok(key.as_bytes().to_vec());
        }
        let path = &self.config.sieve.srs_key_file;
        if let Ok(key) = std::fs::read_to_string(path)
            && key.trim().len() >= 16
        {
            return Ok(key.trim().as_bytes().to_vec());
        }
        let key = hex::encode(rand::random::<[u8; 32]>());
        let written = (|| -> std::io::Result<()> {
            use std::io::Write;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path)?;
            file.write_all(key.as_bytes())?;
            file.sync_all()
        })();
        match written {
            Ok(()) => Ok(key.into_bytes()),
            // Another delivery wrote it first: use that one.
            Err(_) => std::fs::read_to_string(path)
                .ok()
                .map(|k| k.trim().as_bytes().to_vec())
                .filter(|k| k.len() >= 16)
                .ok_or_else(|| {
                    Error::new(ErrorKind::Temporary, "cannot read or write the SRS key")
                }),
        }
    }

    /// The MAIL FROM of a copy forwarded outside for mail from `original`.
    pub(crate) fn srs_forward_from(&self, original: &str) -> Result<String> {
        let key = self.srs_key()?;
        let local = encode(&key, original, today())
            .ok_or_else(|| Error::invalid(format!("{original:?} cannot be rewritten")))?;
        Ok(format!("{local}@{}", self.config.domain))
    }

    /// The original sender a bounce to one of our SRS0 addresses goes back to; `None` when the
    /// address is not a (valid, recent) SRS0 address of ours.
    pub(crate) fn srs_reverse(&self, rcpt: &EmailAddress) -> Option<EmailAddress> {
        if !self.is_local_domain(rcpt) {
            return None;
        }
        let address = rcpt.to_string();
        let (local, _) = address.rsplit_once('@')?;
        if !local
            .get(..5)
            .is_some_and(|p| p.eq_ignore_ascii_case("SRS0="))
        {
            return None;
        }
        let key = self.srs_key().ok()?;
        decode(&key, local, today()).and_then(|a| EmailAddress::parse(&a).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123";

    #[test]
    fn an_address_round_trips_within_its_age() {
        let day = 20_000;
        let local = encode(KEY, "Nguoi.Gui@example.com", day).unwrap();
        assert!(local.starts_with("SRS0="), "{local}");
        assert!(local.ends_with("=example.com=Nguoi.Gui"), "{local}");
        assert_eq!(
            decode(KEY, &local, day).as_deref(),
            Some("Nguoi.Gui@example.com")
        );
        // Folded to lower case by some mail system on the way: still ours.
        assert_eq!(
            decode(KEY, &local.to_lowercase(), day + SRS_MAX_AGE_DAYS).as_deref(),
            Some("nguoi.gui@example.com")
        );
        // Too old, another key, a changed field: refused.
        assert_eq!(decode(KEY, &local, day + SRS_MAX_AGE_DAYS + 1), None);
        assert_eq!(decode(b"another key of 16 or more", &local, day), None);
        let forged = local.replace("example.com", "evil.com");
        assert_eq!(decode(KEY, &forged, day), None);
        assert_eq!(decode(KEY, "SRS0=abc", day), None);
        assert_eq!(decode(KEY, "someone", day), None);
    }

    #[test]
    fn the_day_stamp_wraps_around() {
        // Made on the last day of a 1024-day cycle, checked on the first of the next.
        let local = encode(KEY, "a@b.vn", 1023).unwrap();
        assert_eq!(decode(KEY, &local, 1024 + 3).as_deref(), Some("a@b.vn"));
        assert_eq!(unstamp(&stamp(777)), Some(777));
    }

    #[test]
    fn a_local_part_with_equals_signs_survives() {
        let local = encode(KEY, "a=b@c.vn", 5).unwrap();
        assert_eq!(decode(KEY, &local, 5).as_deref(), Some("a=b@c.vn"));
    }
}
