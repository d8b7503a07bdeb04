//! DKIM signing and checking of the province's own mail (RFC 6376, Ed25519 by RFC 8463;
//! Đ14.2: origin and integrity) with `mail-auth`.
//!
//! Two keys, an RSA-2048 and an Ed25519 one, are generated on first use under
//! `data_dir/dkim/` (`rsa.pem`, PKCS#1; `ed25519.pem`, PKCS#8; owner-only files, written to a
//! temporary name and renamed, so a concurrent `hopthu dkim record` never reads half a key).
//! Every message is signed with both (receivers that do not know Ed25519 ignore that
//! signature, RFC 8463 §5) for the server's domain with relaxed/relaxed canonicalization.
//!
//! Where messages are signed: **once, before they are stored**. A message a signed-in user
//! submits (SMTP submission and the webmail, [`crate::Core::prepare_submission`]) and every
//! dispatched document ([`crate::Core::dispatch_document`]) is signed in core, so the one
//! stored body — shared by local recipients and the outbound queue — carries the signature
//! and mail between agencies on this server can be checked like mail from outside. The queue
//! runner (`hopthu-mta`) signs at send time only what carries no valid signature of ours
//! ([`DkimKeys::signed_by_us`]): bounces, forwarded mail, and mail signed with a key replaced
//! since, so no message leaves signed twice by the same key.
//!
//! Checking ([`DkimKeys::verify_own`]) uses the keys on disk, never DNS: only signatures of
//! our domain and selectors are looked at, their key records answered from a cache holding
//! our own public keys, and the resolver has no name server.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hopthu_config::Config;
use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::dkim::DkimSigner;
use mail_auth::dkim::generate::DkimKeyPair;
use mail_auth::hickory_resolver::config::{ResolverConfig, ResolverOpts};
use mail_auth::{
    AuthenticatedMessage, DkimResult, MessageAuthenticator, Parameters, ResolverCache, Txt,
};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

/// Header fields signed, when present (RFC 6376 §5.4.1's recommendations; `From` is required).
const SIGNED_HEADERS: &[&str] = &[
    "From",
    "Sender",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "To",
    "Cc",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "In-Reply-To",
    "References",
    // The fields of an official document (Đ15, `documents.rs`).
    "X-Document-Number",
    "X-Document-Date",
    "X-Document-Issuer",
    "X-Document-Issuer-Name",
    "X-Document-Kind",
    "X-Document-Summary",
    "X-Document-SHA256",
];

/// The two signing keys of the domain.
pub struct DkimKeys {
    domain: String,
    rsa_selector: String,
    ed25519_selector: String,
    rsa: DkimSigner<RsaKey<Sha256>, mail_auth::dkim::Done>,
    ed25519: DkimSigner<Ed25519Key, mail_auth::dkim::Done>,
    /// SubjectPublicKeyInfo DER of the RSA key.
    rsa_public: Vec<u8>,
    /// The raw 32-byte Ed25519 public key (RFC 8463 §4.2).
    ed25519_public: Vec<u8>,
    /// Our own key records, by owner name, for [`DkimKeys::verify_own`].
    own_records: OwnRecords,
    /// A resolver without name servers: checking never asks DNS.
    offline: MessageAuthenticator,
}

/// What [`DkimKeys::verify_own`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnSignature {
    /// At least one signature of our domain and selectors verifies.
    Valid,
    /// Signatures of ours are there, none verifies (the reason of the first).
    Invalid(String),
    /// No signature of our domain and selectors.
    Missing,
}

/// The key records of our selectors, answered to `mail-auth` as a DNS cache would.
struct OwnRecords(std::collections::HashMap<Box<str>, Txt>);

impl ResolverCache<Box<str>, Txt> for OwnRecords {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        self.0.get(name).cloned()
    }

    fn remove<Q>(&self, _: &Q) -> Option<Txt>
    where
        Box<str>: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        None
    }

    fn insert(&self, _: Box<str>, _: Txt, _: std::time::Instant) {}
}

/// The folder of the keys.
pub fn key_dir(config: &Config) -> PathBuf {
    config
        .dkim
        .key_dir
        .clone()
        .unwrap_or_else(|| config.data_dir.join("dkim"))
}

impl DkimKeys {
    /// Loads the keys under `data_dir/dkim/`, generating those that are missing.
    pub fn load_or_generate(config: &Config) -> Result<DkimKeys, String> {
        let dir = key_dir(config);
        std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        let rsa_path = dir.join("rsa.pem");
        if !rsa_path.exists() {
            let pair = DkimKeyPair::generate_rsa(2048).map_err(|e| format!("RSA key: {e}"))?;
            write_private(&rsa_path, &pem("RSA PRIVATE KEY", pair.private_key()))?;
            tracing::info!(path = %rsa_path.display(), "generated the DKIM RSA-2048 key");
        }
        let ed_path = dir.join("ed25519.pem");
        if !ed_path.exists() {
            let pair = DkimKeyPair::generate_ed25519().map_err(|e| format!("Ed25519 key: {e}"))?;
            write_private(&ed_path, &pem("PRIVATE KEY", pair.private_key()))?;
            tracing::info!(path = %ed_path.display(), "generated the DKIM Ed25519 key");
        }
        let rsa_der = read_key(&rsa_path)?;
        let rsa = RsaKey::<Sha256>::from_key_der(rsa_der)
            .map_err(|e| format!("{}: {e}", rsa_path.display()))?;
        let rsa_public = rsa_spki(&rsa.public_key());
        let ed_der = read_key(&ed_path)?;
        let PrivateKeyDer::Pkcs8(ed_pkcs8) = ed_der else {
            return Err(format!("{}: not a PKCS#8 key", ed_path.display()));
        };
        let ed = Ed25519Key::from_pkcs8_maybe_unchecked_der(ed_pkcs8.secret_pkcs8_der())
            .map_err(|e| format!("{}: {e}", ed_path.display()))?;
        let ed25519_public = ed.public_key();
        let domain = config.domain.clone();
        let (rsa_selector, ed25519_selector) = (
            config.dkim.rsa_selector.clone(),
            config.dkim.ed25519_selector.clone(),
        );
        let mut own = std::collections::HashMap::new();
        for (name, record) in records(
            &domain,
            &rsa_selector,
            &ed25519_selector,
            &rsa_public,
            &ed25519_public,
        ) {
            let key = DomainKey::parse(record.as_bytes())
                .map_err(|e| format!("DKIM key record {name}: {e}"))?;
            own.insert(
                format!("{}.", name.to_ascii_lowercase()).into_boxed_str(),
                Txt::from(key),
            );
        }
        let offline = MessageAuthenticator::new(
            ResolverConfig::from_name_servers(Vec::new()),
            ResolverOpts::default(),
        )
        .map_err(|e| format!("DKIM checker: {e}"))?;
        Ok(DkimKeys {
            own_records: OwnRecords(own),
            offline,
            rsa: DkimSigner::from_key(rsa)
                .domain(&domain)
                .selector(&rsa_selector)
                .headers(SIGNED_HEADERS.iter().copied()),
            ed25519: DkimSigner::from_key(ed)
                .domain(&domain)
                .selector(&ed25519_selector)
                .headers(SIGNED_HEADERS.iter().copied()),
            domain,
            rsa_selector,
            ed25519_selector,
            rsa_public,
            ed25519_public,
        })
    }

    /// The DNS TXT records to publish: (owner name, text).
    pub fn records(&self) -> Vec<(String, String)> {
        records(
            &self.domain,
            &self.rsa_selector,
            &self.ed25519_selector,
            &self.rsa_public,
            &self.ed25519_public,
        )
    }

    /// `message` with the `DKIM-Signature:` fields of [`DkimKeys::sign`] in front.
    pub fn signed(&self, message: Vec<u8>) -> Result<Vec<u8>, String> {
        let mut out = self.sign(&message)?;
        out.extend_from_slice(&message);
        Ok(out)
    }

    /// Checks the signatures of our domain and selectors in `message` against our own public
    /// keys (no DNS). Signatures of other domains are ignored.
    pub async fn verify_own(&self, message: &[u8]) -> OwnSignature {
        let Some(mut parsed) = AuthenticatedMessage::parse(message) else {
            return OwnSignature::Missing;
        };
        parsed.dkim_headers.retain(|h| {
            h.header.d.eq_ignore_ascii_case(&self.domain)
                && (h.header.s.eq_ignore_ascii_case(&self.rsa_selector)
                    || h.header.s.eq_ignore_ascii_case(&self.ed25519_selector))
        });
        // Fields that do not even parse as signatures name no domain we could check: left
        // out, so a message with only such fields is Missing.
        parsed.errors.clear();
        if parsed.dkim_headers.is_empty() {
            return OwnSignature::Missing;
        }
        let outputs = self
            .offline
            .verify_dkim(Parameters::new(&parsed).with_txt_cache(&self.own_records))
            .await;
        if outputs
            .iter()
            .any(|o| matches!(o.result(), DkimResult::Pass))
        {
            return OwnSignature::Valid;
        }
        OwnSignature::Invalid(
            outputs
                .first()
                .map(|o| format!("{:?}", o.result()))
                .unwrap_or_default(),
        )
    }

    /// True when `message` already carries a valid signature of ours (the queue runner then
    /// does not sign it again).
    pub async fn signed_by_us(&self, message: &[u8]) -> bool {
        self.verify_own(message).await == OwnSignature::Valid
    }

    /// The `DKIM-Signature:` header fields (Ed25519 first, then RSA) to put in front of
    /// `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        let ed = self
            .ed25519
            .sign(message)
            .map_err(|e| format!("DKIM Ed25519 signing: {e}"))?;
        let rsa = self
            .rsa
            .sign(message)
            .map_err(|e| format!("DKIM RSA signing: {e}"))?;
        let mut headers = ed.to_header().into_bytes();
        headers.extend_from_slice(rsa.to_header().as_bytes());
        Ok(headers)
    }
}

/// The DNS TXT records of the two keys: (owner name, text).
fn records(
    domain: &str,
    rsa_selector: &str,
    ed25519_selector: &str,
    rsa_public: &[u8],
    ed25519_public: &[u8],
) -> Vec<(String, String)> {
    vec![
        (
            format!("{rsa_selector}._domainkey.{domain}"),
            format!("v=DKIM1; k=rsa; p={}", BASE64.encode(rsa_public)),
        ),
        (
            format!("{ed25519_selector}._domainkey.{domain}"),
            format!("v=DKIM1; k=ed25519; p={}", BASE64.encode(ed25519_public)),
        ),
    ]
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| format!("read {}: {e}", path.display()))
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = BASE64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Writes an owner-only file atomically (temporary name, fsync, rename).
fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        // Another process may have written the key meanwhile: keep the first one.
        if path.exists() {
            std::fs::remove_file(&tmp)
        } else {
            std::fs::rename(&tmp, path)
        }
    };
    write().map_err(|e| format!("write {}: {e}", path.display()))
}

/// Wraps a PKCS#1 RSAPublicKey in a SubjectPublicKeyInfo (RFC 6376 §3.6.1: `p=` of `k=rsa`
/// is the SubjectPublicKeyInfo; RFC 3279 §2.3.1 rsaEncryption with NULL parameters).
fn rsa_spki(pkcs1: &[u8]) -> Vec<u8> {
    // SEQUENCE { OID 1.2.840.113549.1.1.1, NULL }
    const ALGORITHM: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut bit_string = vec![0x00];
    bit_string.extend_from_slice(pkcs1);
    let mut body = ALGORITHM.to_vec();
    body.extend(der(0x03, &bit_string));
    der(0x30, &body)
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths() {
        assert_eq!(der(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
        let long = vec![0u8; 300];
        let encoded = der(0x04, &long);
        assert_eq!(&encoded[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(encoded.len(), 304);
    }
}

#[cfg(test)]
mod own_signature_tests {
    use super::*;

    #[tokio::test]
    async fn our_signature_verifies_offline_and_breaks_with_any_change() {
        let dir = std::env::temp_dir().join(format!(
            "hopthu-dkim-{}-{}",
            std::process::id(),
            crate::now()
        ));
        let text = format!("[dkim]\nkey_dir = \"{}\"\n", dir.display());
        let config = Config::from_toml(&text, "t", Path::new("/tmp")).unwrap();
        let keys = DkimKeys::load_or_generate(&config).unwrap();
        let message = b"From: <a@caobang.gov.vn>\r\nTo: <b@caobang.gov.vn>\r\n\
            Subject: Cong van\r\nX-Document-Number: 1/SNV\r\n\r\nNoi dung\r\n"
            .to_vec();
        assert_eq!(keys.verify_own(&message).await, OwnSignature::Missing);
        let signed = keys.signed(message).unwrap();
        assert_eq!(keys.verify_own(&signed).await, OwnSignature::Valid);
        assert!(keys.signed_by_us(&signed).await);
        // Text added in front (a Received: field) changes nothing; a signed field or the
        // body does.
        let mut received = b"Received: from x by y; now\r\n".to_vec();
        received.extend_from_slice(&signed);
        assert_eq!(keys.verify_own(&received).await, OwnSignature::Valid);
        let text = String::from_utf8(signed).unwrap();
        for changed in [
            text.replace("1/SNV", "2/SNV"),
            text.replace("Noi dung", "Noi dunG"),
        ] {
            assert!(
                matches!(
                    keys.verify_own(changed.as_bytes()).await,
                    OwnSignature::Invalid(_)
                ),
                "{changed}"
            );
        }
        // Another domain's signature is not ours to check (and asks no DNS).
        let foreign = text.replace("d=caobang.gov.vn", "d=example.org");
        assert_eq!(
            keys.verify_own(foreign.as_bytes()).await,
            OwnSignature::Missing
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
