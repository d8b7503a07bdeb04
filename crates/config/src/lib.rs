//! Configuration: the TOML file an operator writes, read into [`RawConfig`] (serde) and checked
//! into [`Config`], the only form that leaves this crate.
//!
//! Every key has a sensible default, so an empty file is a valid configuration. Validation
//! reports every problem with its key path, not just the first. A listener whose key is absent
//! is not started.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use hopthu_model::naming::NamingConfig;
use serde::Deserialize;

mod antispam;
mod auth;
mod blobs;
mod directory;
mod documents;
mod lifecycle;
mod public;
mod report;
mod sieve;
pub mod store;
mod transport;
mod web;
pub use antispam::{Antispam, RawAntispam, RawWeights, Weights};
pub use auth::{Auth, RawAuth};
pub use blobs::{Blobs, DEFAULT_REGION, RawBlobs, S3, parse as parse_blobs};
pub use directory::{Directory, RawDirectory};
pub use documents::{DocumentKind, Documents, RawCatalogueEntry, RawDocuments, SecrecyLevel};
pub use lifecycle::{Lifecycle, RawLifecycle};
pub use public::{Public, RawPublic};
pub use report::{RawReport, Report};
pub use sieve::{Policy, RawPolicy, RawSieve, Sieve};
pub use transport::*;
pub use web::{IpNet, RawWeb, Web};

/// A configuration error: every problem found, each with the key path it concerns.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Syntax { path: String, message: String },
    #[error("invalid configuration:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<String>),
}

/// The file as written. Field docs are the reference of each key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    /// The mail domain whose addresses this server owns, e.g. `caobang.gov.vn`.
    pub domain: Option<String>,
    /// The server's own host name: greeting banners, `Received:` headers, the TLS certificate.
    pub hostname: Option<String>,
    /// Where the database, message blobs, certificate and queue live. Relative paths are taken
    /// relative to the configuration file's folder.
    pub data_dir: Option<PathBuf>,
    /// Socket addresses to listen on; a missing key means that listener is not started.
    pub listen: RawListen,
    /// TLS certificate and key (PEM). When absent, a self-signed certificate for `hostname` is
    /// generated in `data_dir` on first start.
    pub tls: RawTls,
    /// Protocol limits.
    pub limits: RawLimits,
    /// Logging.
    pub log: RawLog,
    /// The address rules of Đ7.3 (`hopthu_model::naming`): unit kinds and their words, how
    /// namesakes are told apart (`person_duplicates = "number"` or `"unit"`), reserved names,
    /// known aliases. Every key is optional; the defaults are Cao Bằng's.
    pub naming: NamingConfig,
    /// DNS resolver for MX look-ups and SPF/DKIM/DMARC.
    pub dns: RawDns,
    /// The outbound queue and its SMTP client.
    pub outbound: RawOutbound,
    /// DKIM signing of outgoing mail.
    pub dkim: RawDkim,
    /// Checks on inbound mail (SPF, DKIM, DMARC, ARC).
    pub inbound: RawInbound,
    /// Virus scanning through clamd.
    pub antivirus: RawAntivirus,
    /// The spam score of inbound mail: blocklists, rules, Bayes, rspamd.
    pub antispam: RawAntispam,
    /// Mailbox lifecycle: retention, the inactivity sweep, initial passwords, notices.
    pub lifecycle: RawLifecycle,
    /// The web listeners: trusted reverse proxies.
    pub web: RawWeb,
    /// Where the metadata lives: PostgreSQL, or SQLite under `data_dir` (default).
    pub store: store::RawStore,
    /// Where message bodies are kept: files under `data_dir` (the default) or an S3 bucket.
    pub blobs: RawBlobs,
    /// Password checks: how many hashes at once, the cache of recent verifications.
    pub auth: RawAuth,
    /// The catalogue of Đ9: document kinds sent by e-mail alone, and the secrecy levels that
    /// are never sent by e-mail.
    pub documents: RawDocuments,
    /// The published directory (Đ6): whether heads of units are published.
    pub directory: RawDirectory,
    /// The six-monthly report (Đ17): public holidays, which are not working days (Đ13.1).
    pub report: RawReport,
    /// What mail clients are told to connect to: host name and ports (client set-up).
    pub public: RawPublic,
    /// Per-user Sieve scripts run at local delivery: limits, vacation, the SRS key.
    pub sieve: RawSieve,
    /// What users' rules may do with official mail (forwarding outside the domain).
    pub policy: RawPolicy,
}

/// `[listen]`: one key per service.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawListen {
    /// Inbound SMTP (MX), port 25 in production; STARTTLS offered, no AUTH.
    pub smtp: Option<String>,
    /// Message submission with STARTTLS (RFC 6409), port 587 in production.
    pub submission: Option<String>,
    /// Message submission over implicit TLS (RFC 8314), port 465 in production.
    pub submissions: Option<String>,
    /// IMAP with STARTTLS, port 143 in production.
    pub imap: Option<String>,
    /// IMAP over implicit TLS, port 993 in production.
    pub imaps: Option<String>,
    /// POP3 with STLS, port 110 in production (served once POP3 exists).
    pub pop3: Option<String>,
    /// POP3 over implicit TLS, port 995 in production.
    pub pop3s: Option<String>,
    /// Plain HTTP: the application on loopback addresses, a redirect to HTTPS elsewhere.
    pub http: Option<String>,
    /// HTTPS: webmail, consoles, public directory.
    pub https: Option<String>,
    /// ManageSieve (RFC 5804) with STARTTLS, port 4190 in production: mail clients edit
    /// their Sieve filters.
    pub managesieve: Option<String>,
}

/// `[tls]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawTls {
    /// PEM certificate chain. Takes precedence over the generated self-signed certificate.
    pub cert: Option<PathBuf>,
    /// PEM private key matching `cert`.
    pub key: Option<PathBuf>,
}

/// `[limits]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawLimits {
    /// Largest message accepted, in bytes (announced as SMTP SIZE). Default 50 MiB.
    pub max_message_size: Option<u64>,
    /// Most recipients in one SMTP transaction. Default 500 (a notice to every unit).
    pub max_recipients: Option<usize>,
    /// Longest command line accepted by IMAP, in bytes. Default 64 KiB.
    pub imap_max_line: Option<usize>,
    /// Seconds an IMAP connection may stay idle (RFC 3501 §5.4: at least 30 minutes).
    pub imap_idle_timeout: Option<u64>,
    /// Seconds an SMTP session may wait for a command (RFC 5321 §4.5.3.2: 5 minutes).
    pub smtp_timeout: Option<u64>,
    /// Seconds a POP3 connection may stay idle (RFC 1939 §3: at least 10 minutes).
    pub pop3_idle_timeout: Option<u64>,
    /// Commands an IMAP or POP3 client may send in a burst before it is paced. Default 500.
    pub command_burst: Option<u32>,
    /// Commands per second an IMAP or POP3 client may send after the burst; a faster client
    /// waits before its next command is read. Default 200.
    pub commands_per_second: Option<u32>,
    /// Storage quota of each account, in bytes, over all its folders (IMAP QUOTA, RFC 9208;
    /// APPEND, COPY and MOVE beyond it are refused with OVERQUOTA). Default 2 GiB.
    pub account_quota: Option<u64>,
    /// Percent of `account_quota` from which the owner gets one warning in the INBOX; 0 turns
    /// warnings off. Default 90.
    pub quota_warn_percent: Option<u8>,
    /// Messages one signed-in user may submit per hour (Đ13.3, against abuse of a stolen
    /// password); beyond it submission answers `451 4.7.1`. Default 500.
    pub messages_per_hour: Option<u32>,
    /// Simultaneous connections from one IP address (an IPv6 /64 counts as one), over SMTP,
    /// IMAP, POP3 and the web listeners together; more are refused (`421 4.7.0` in SMTP, a
    /// closed connection on the web). Default 100.
    pub connections_per_ip: Option<u32>,
    /// Failed AUTH attempts from one IP address within `auth_failure_window` before further
    /// attempts from it are refused (`454 4.7.0`). Default 10.
    pub auth_failures_per_ip: Option<u32>,
    /// Failed AUTH attempts on one account within `auth_failure_window` before further attempts
    /// on it are refused (`454 4.7.0`), whatever the IP. Default 5.
    pub auth_failures_per_account: Option<u32>,
    /// Seconds over which failed AUTH attempts are counted. Default 900.
    pub auth_failure_window: Option<u64>,
}

/// `[log]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawLog {
    /// `tracing` filter such as `info` or `hopthu_imap=debug`; `RUST_LOG` overrides it.
    pub level: Option<String>,
    /// `text` (default) or `json`.
    pub format: Option<String>,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub domain: String,
    pub hostname: String,
    /// Absolute (or relative to the working directory) path of the data folder.
    pub data_dir: PathBuf,
    pub listen: Listen,
    pub tls: Tls,
    pub limits: Limits,
    pub log: Log,
    /// The address rules' configuration, validated.
    pub naming: NamingConfig,
    pub dns: Dns,
    pub outbound: Outbound,
    pub dkim: Dkim,
    pub inbound: Inbound,
    pub antivirus: Antivirus,
    pub antispam: Antispam,
    pub lifecycle: Lifecycle,
    pub web: Web,
    pub store: store::Store,
    pub blobs: Blobs,
    pub auth: Auth,
    /// The document catalogue and secrecy levels (Đ9).
    pub documents: Documents,
    /// The published directory (Đ6).
    pub directory: Directory,
    /// The six-monthly report (Đ17).
    pub report: Report,
    /// The host name and ports mail clients are told to use.
    pub public: Public,
    /// Per-user Sieve scripts (`[sieve]`).
    pub sieve: Sieve,
    /// `[policy]`.
    pub policy: Policy,
}

/// Validated listeners; `None` = not started.
#[derive(Debug, Clone, Default)]
pub struct Listen {
    pub smtp: Option<SocketAddr>,
    pub submission: Option<SocketAddr>,
    pub submissions: Option<SocketAddr>,
    pub imap: Option<SocketAddr>,
    pub imaps: Option<SocketAddr>,
    pub pop3: Option<SocketAddr>,
    pub pop3s: Option<SocketAddr>,
    pub http: Option<SocketAddr>,
    pub https: Option<SocketAddr>,
    pub managesieve: Option<SocketAddr>,
}

#[derive(Debug, Clone, Default)]
pub struct Tls {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Limits {
    pub max_message_size: u64,
    pub max_recipients: usize,
    pub imap_max_line: usize,
    pub imap_idle_timeout: std::time::Duration,
    pub smtp_timeout: std::time::Duration,
    pub pop3_idle_timeout: std::time::Duration,
    pub command_burst: u32,
    pub commands_per_second: u32,
    pub account_quota: u64,
    pub quota_warn_percent: u8,
    pub messages_per_hour: u32,
    pub connections_per_ip: u32,
    pub auth_failures_per_ip: u32,
    pub auth_failures_per_account: u32,
    pub auth_failure_window: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_size: 50 * 1024 * 1024,
            max_recipients: 500,
            imap_max_line: 64 * 1024,
            imap_idle_timeout: std::time::Duration::from_secs(31 * 60),
            smtp_timeout: std::time::Duration::from_secs(5 * 60),
            pop3_idle_timeout: std::time::Duration::from_secs(10 * 60),
            command_burst: 500,
            commands_per_second: 200,
            account_quota: 2 * 1024 * 1024 * 1024,
            quota_warn_percent: 90,
            messages_per_hour: 500,
            connections_per_ip: 100,
            auth_failures_per_ip: 10,
            auth_failures_per_account: 5,
            auth_failure_window: std::time::Duration::from_secs(900),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Log {
    pub level: String,
    pub json: bool,
}

/// The example configuration written by `hopthu init` and shown in the README.
pub const EXAMPLE: &str = include_str!("../example.toml");

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_toml(&text, &path.display().to_string(), base)
    }

    /// Parses and validates configuration text; relative paths are resolved against `base`.
    pub fn from_toml(text: &str, origin: &str, base: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        raw.validate(base)
    }
}

impl RawConfig {
    /// Checks every key and reports all problems at once.
    pub fn validate(self, base: &Path) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let domain = self
            .domain
            .unwrap_or_else(|| "caobang.gov.vn".into())
            .trim()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if !is_domain(&domain) {
            problems.push(format!("domain: {domain:?} is not a domain name"));
        }
        let hostname = self
            .hostname
            .unwrap_or_else(|| format!("mail.{domain}"))
            .trim()
            .to_ascii_lowercase();
        if !is_domain(&hostname) {
            problems.push(format!("hostname: {hostname:?} is not a host name"));
        }
        let resolve = |p: PathBuf| {
            if p.is_absolute() {
                p
            } else {
                base.join(p).components().collect()
            }
        };
        let data_dir = resolve(self.data_dir.unwrap_or_else(|| PathBuf::from("data")));

        let mut addr = |key: &str, value: Option<String>| -> Option<SocketAddr> {
            let value = value?;
            match value.trim().parse::<SocketAddr>() {
                Ok(a) => Some(a),
                Err(_) => {
                    problems.push(format!(
                        "listen.{key}: {value:?} is not an address such as \"127.0.0.1:2525\""
                    ));
                    None
                }
            }
        };
        let l = self.listen;
        let listen = Listen {
            smtp: addr("smtp", l.smtp),
            submission: addr("submission", l.submission),
            submissions: addr("submissions", l.submissions),
            imap: addr("imap", l.imap),
            imaps: addr("imaps", l.imaps),
            pop3: addr("pop3", l.pop3),
            pop3s: addr("pop3s", l.pop3s),
            http: addr("http", l.http),
            https: addr("https", l.https),
            managesieve: addr("managesieve", l.managesieve),
        };

        let tls = Tls {
            cert: self.tls.cert.map(resolve),
            key: self.tls.key.map(resolve),
        };
        if tls.cert.is_some() != tls.key.is_some() {
            problems.push("tls: set both tls.cert and tls.key, or neither".into());
        }

        let defaults = Limits::default();
        let l = self.limits;
        let limits = Limits {
            max_message_size: l.max_message_size.unwrap_or(defaults.max_message_size),
            max_recipients: l.max_recipients.unwrap_or(defaults.max_recipients),
            imap_max_line: l.imap_max_line.unwrap_or(defaults.imap_max_line),
            imap_idle_timeout: l
                .imap_idle_timeout
                .map(std::time::Duration::from_secs)
                .unwrap_or(defaults.imap_idle_timeout),
            smtp_timeout: l
                .smtp_timeout
                .map(std::time::Duration::from_secs)
                .unwrap_or(defaults.smtp_timeout),
            pop3_idle_timeout: l
                .pop3_idle_timeout
                .map(std::time::Duration::from_secs)
                .unwrap_or(defaults.pop3_idle_timeout),
            command_burst: l.command_burst.unwrap_or(defaults.command_burst),
            commands_per_second: l
                .commands_per_second
                .unwrap_or(defaults.commands_per_second),
            account_quota: l.account_quota.unwrap_or(defaults.account_quota),
            quota_warn_percent: l.quota_warn_percent.unwrap_or(defaults.quota_warn_percent),
            messages_per_hour: l.messages_per_hour.unwrap_or(defaults.messages_per_hour),
            connections_per_ip: l.connections_per_ip.unwrap_or(defaults.connections_per_ip),
            auth_failures_per_ip: l
                .auth_failures_per_ip
                .unwrap_or(defaults.auth_failures_per_ip),
            auth_failures_per_account: l
                .auth_failures_per_account
                .unwrap_or(defaults.auth_failures_per_account),
            auth_failure_window: l
                .auth_failure_window
                .map(std::time::Duration::from_secs)
                .unwrap_or(defaults.auth_failure_window),
        };
        if limits.max_message_size < 1024 {
            problems.push("limits.max_message_size: must be at least 1024 bytes".into());
        }
        if limits.max_recipients == 0 {
            problems.push("limits.max_recipients: must be at least 1".into());
        }
        if limits.imap_max_line < 1000 {
            problems.push("limits.imap_max_line: must be at least 1000 bytes".into());
        }
        if limits.pop3_idle_timeout < std::time::Duration::from_secs(600) {
            problems
                .push("limits.pop3_idle_timeout: RFC 1939 asks for at least 600 seconds".into());
        }
        if limits.quota_warn_percent > 99 {
            problems.push("limits.quota_warn_percent: must be 0 (off) to 99".into());
        }
        if limits.command_burst == 0 {
            problems.push("limits.command_burst: must be at least 1".into());
        }
        if limits.commands_per_second == 0 {
            problems.push("limits.commands_per_second: must be at least 1".into());
        }

        let format = self.log.format.unwrap_or_else(|| "text".into());
        if format != "text" && format != "json" {
            problems.push(format!(
                "log.format: {format:?} must be \"text\" or \"json\""
            ));
        }
        let log = Log {
            level: self.log.level.unwrap_or_else(|| "info".into()),
            json: format == "json",
        };

        let mut transport = transport::validate(
            self.dns,
            self.outbound,
            self.dkim,
            self.inbound,
            self.antivirus,
            &mut problems,
        );
        transport.outbound.smarthost_ca_file =
            transport.outbound.smarthost_ca_file.take().map(resolve);
        transport.dkim.key_dir = transport.dkim.key_dir.take().map(resolve);

        let antispam = antispam::validate(self.antispam, &mut problems);
        let lifecycle = lifecycle::validate(self.lifecycle, &mut problems);
        let web = web::validate(self.web, &mut problems);
        let store = store::validate(self.store, &mut problems);
        let blobs = blobs::validate(self.blobs, &mut problems);
        let auth = auth::validate(self.auth, &mut problems);
        let documents = documents::validate(self.documents, &mut problems);
        let directory = directory::validate(self.directory);
        let report = report::validate(self.report, &mut problems);
        let public = public::validate(self.public, &hostname, &listen, &mut problems);
        let sieve = sieve::validate(self.sieve, &data_dir, &mut problems);
        let policy = sieve::validate_policy(self.policy);

        if let Err(naming_problems) = self.naming.validate() {
            problems.extend(naming_problems);
        }

        if !problems.is_empty() {
            return Err(ConfigError::Invalid(problems));
        }
        Ok(Config {
            domain,
            hostname,
            data_dir,
            listen,
            tls,
            limits,
            log,
            naming: self.naming,
            dns: transport.dns,
            outbound: transport.outbound,
            dkim: transport.dkim,
            inbound: transport.inbound,
            antivirus: transport.antivirus,
            antispam,
            lifecycle,
            web,
            store,
            blobs,
            auth,
            documents,
            directory,
            report,
            public,
            sieve,
            policy,
        })
    }
}

fn is_domain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        let c = Config::from_toml("", "t", Path::new("/etc/hopthu")).unwrap();
        assert_eq!(c.domain, "caobang.gov.vn");
        assert_eq!(c.hostname, "mail.caobang.gov.vn");
        assert_eq!(c.data_dir, PathBuf::from("/etc/hopthu/data"));
        assert!(c.listen.smtp.is_none());
    }

    #[test]
    fn nodes_share_dkim_keys_and_a_database() {
        let text =
            "[dkim]\nkey_dir = \"shared/dkim\"\n[store]\nurl = \"postgres://h@db:5432/mail\"\n";
        let c = Config::from_toml(text, "t", Path::new("/etc/hopthu")).unwrap();
        assert_eq!(
            c.dkim.key_dir,
            Some(PathBuf::from("/etc/hopthu/shared/dkim"))
        );
        assert_eq!(c.store.url.as_deref(), Some("postgres://h@db:5432/mail"));
        let d = Config::from_toml("", "t", Path::new("/etc/hopthu")).unwrap();
        assert_eq!((d.dkim.key_dir, d.store.url), (None, None));
    }

    #[test]
    fn smarthost_trust_keys() {
        let hex = "AB:".repeat(30) + "cd";
        let text = format!(
            "[outbound]\nsmarthost = \"relay.example.vn:587\"\n\
             smarthost_ca_file = \"relay-ca.pem\"\nsmarthost_fingerprint = \"{hex}\"\n"
        );
        // 62 hex digits: one byte short.
        assert!(Config::from_toml(&text, "t", Path::new("/etc/hopthu")).is_err());
        let text = text.replace(&hex, &format!("{hex}:ef"));
        let c = Config::from_toml(&text, "t", Path::new("/etc/hopthu")).unwrap();
        assert_eq!(
            c.outbound.smarthost_ca_file,
            Some(PathBuf::from("/etc/hopthu/relay-ca.pem"))
        );
        let fingerprint = c.outbound.smarthost_fingerprint.unwrap();
        assert_eq!(fingerprint[0], 0xab);
        assert_eq!(fingerprint[30], 0xcd);
        assert_eq!(fingerprint[31], 0xef);
        // Trust keys without a smarthost are a mistake.
        let lone = "[outbound]\nsmarthost_ca_file = \"ca.pem\"\n";
        assert!(Config::from_toml(lone, "t", Path::new("/etc/hopthu")).is_err());
    }

    #[test]
    fn example_is_valid() {
        let c = Config::from_toml(EXAMPLE, "example", Path::new("/x")).unwrap();
        assert_eq!(c.listen.imaps.unwrap().port(), 2993);
        assert_eq!(c.listen.https.unwrap().port(), 8443);
        // Clients are told the listeners' ports unless [public] says otherwise.
        assert_eq!(c.public.host, "mail.caobang.gov.vn");
        assert_eq!(
            (c.public.imaps_port, c.public.submission_port),
            (2993, 2587)
        );
    }

    #[test]
    fn reports_every_problem_with_its_key() {
        let err = Config::from_toml(
            "domain = \"bad domain\"\n[listen]\nsmtp = \"nope\"\nimap = \"1.2.3.4\"\n[tls]\ncert = \"c.pem\"\n",
            "t",
            Path::new("/"),
        )
        .unwrap_err()
        .to_string();
        for key in ["domain:", "listen.smtp:", "listen.imap:", "tls:"] {
            assert!(err.contains(key), "{key} missing in {err}");
        }
    }

    #[test]
    fn naming_table_is_read_and_checked() {
        use hopthu_model::naming::DuplicateStyle;
        let c = Config::from_toml("", "t", Path::new("/")).unwrap();
        assert_eq!(c.naming.person_duplicates, DuplicateStyle::Number);
        let c = Config::from_toml(
            "[naming]\nperson_duplicates = \"unit\"\nreserved = [\"postmaster\", \"vanthu\"]\n",
            "t",
            Path::new("/"),
        )
        .unwrap();
        assert_eq!(c.naming.person_duplicates, DuplicateStyle::Unit);
        assert_eq!(c.naming.reserved, ["postmaster", "vanthu"]);
        // Keys left out keep Cao Bằng's defaults.
        assert_eq!(c.naming.province_name, "Cao Bằng");
        let err = Config::from_toml(
            "[naming]\nperson_duplicates = \"initials\"\n",
            "t",
            Path::new("/"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("person_duplicates"), "{err}");
        let err = Config::from_toml("[naming]\nreserved = [\"Bad Name\"]\n", "t", Path::new("/"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("naming.reserved[0]"), "{err}");
        let err = Config::from_toml(
            "[naming]\nperson_duplicate = \"unit\"\n",
            "t",
            Path::new("/"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("person_duplicate"), "{err}");
    }

    #[test]
    fn dns_budget_and_cache_are_read_and_checked() {
        let c = Config::from_toml("", "t", Path::new("/")).unwrap();
        assert_eq!(c.dns.message_budget, std::time::Duration::from_secs(5));
        assert_eq!(c.dns.cache_entries, 10_000);
        assert!(!c.inbound.defer_on_dns_error);
        let c = Config::from_toml(
            "[dns]\nmessage_budget = 1.5\ncache_entries = 50\n[inbound]\ndefer_on_dns_error = true\n",
            "t",
            Path::new("/"),
        )
        .unwrap();
        assert_eq!(c.dns.message_budget, std::time::Duration::from_millis(1500));
        assert_eq!(c.dns.cache_entries, 50);
        assert!(c.inbound.defer_on_dns_error);
        let c = Config::from_toml("[dns]\nmessage_budget = 2\n", "t", Path::new("/")).unwrap();
        assert_eq!(c.dns.message_budget, std::time::Duration::from_secs(2));
        for bad in [
            "message_budget = 0",
            "message_budget = 1e9",
            "cache_entries = 0",
        ] {
            let err = Config::from_toml(&format!("[dns]\n{bad}\n"), "t", Path::new("/"))
                .unwrap_err()
                .to_string();
            let key = bad.split(' ').next().unwrap();
            assert!(err.contains(&format!("dns.{key}")), "{bad}: {err}");
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = Config::from_toml("[listen]\nsmpt = \"127.0.0.1:25\"\n", "t", Path::new("/"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("smpt"), "{err}");
    }
}
