//! The SMTP client (RFC 5321) that hands queued mail to remote servers: greeting, EHLO,
//! opportunistic STARTTLS (RFC 3207, RFC 7435: any certificate is accepted, since refusing a
//! self-signed one would only push the mail to plain text), AUTH PLAIN at a smarthost (RFC
//! 4954) only once its certificate verified (system CAs, `outbound.smarthost_ca_file` or
//! `outbound.smarthost_fingerprint`), then transactions of MAIL/RCPT (pipelined when PIPELINING is offered, RFC 2920) and
//! DATA, with RSET between transactions on a reused connection.
//!
//! Replies are parsed by `smtp-proto`'s `ResponseReceiver`. Every read and write has a
//! deadline (`outbound.timeout`; ten minutes for the reply to the final dot, RFC 5321
//! §4.5.3.2.6).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use smtp_proto::response::parser::ResponseReceiver;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::Failure;
use crate::dns::Host;

/// A reply of the remote server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// Enhanced status code (RFC 3463) when the server gave one, e.g. `5.1.1`.
    pub status: Option<String>,
    /// The text, lines joined with spaces.
    pub text: String,
}

impl Reply {
    pub fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }

    /// `550 5.1.1 text`, as shown in logs, `queue show` and bounces.
    pub fn display(&self) -> String {
        match &self.status {
            Some(status) => format!("{} {} {}", self.code, status, self.text),
            None => format!("{} {}", self.code, self.text),
        }
    }

    /// The failure this negative reply means: 5xx permanent, anything else temporary.
    pub fn failure(&self, host: &str) -> Failure {
        let permanent = (500..600).contains(&self.code);
        let status = self.status.clone().unwrap_or_else(|| {
            if permanent {
                "5.0.0".into()
            } else {
                "4.0.0".into()
            }
        });
        Failure {
            permanent,
            status,
            message: format!("{host} said: {}", self.display()),
            remote_mta: Some(host.to_string()),
            smtp_code: Some(self.code),
        }
    }
}

/// What the server announced in its EHLO reply.
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    pub pipelining: bool,
    pub starttls: bool,
    pub eight_bit_mime: bool,
    pub smtputf8: bool,
    pub dsn: bool,
    pub enhanced_status_codes: bool,
    pub auth_plain: bool,
    /// SIZE limit; 0 = none announced.
    pub size: usize,
}

impl Capabilities {
    fn parse(text_lines: &[&str]) -> Capabilities {
        let mut caps = Capabilities::default();
        // The first line is the server's name and greeting.
        for line in text_lines.iter().skip(1) {
            let mut words = line.split_ascii_whitespace();
            let Some(keyword) = words.next() else {
                continue;
            };
            match keyword.to_ascii_uppercase().as_str() {
                "PIPELINING" => caps.pipelining = true,
                "STARTTLS" => caps.starttls = true,
                "8BITMIME" => caps.eight_bit_mime = true,
                "SMTPUTF8" => caps.smtputf8 = true,
                "DSN" => caps.dsn = true,
                "ENHANCEDSTATUSCODES" => caps.enhanced_status_codes = true,
                "SIZE" => caps.size = words.next().and_then(|n| n.parse().ok()).unwrap_or(0),
                "AUTH" => caps.auth_plain = words.any(|m| m.eq_ignore_ascii_case("PLAIN")),
                _ => {}
            }
        }
        caps
    }
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Gone,
}

/// One open connection to a remote server, after EHLO (and STARTTLS when offered).
pub struct Connection {
    stream: Stream,
    input: Vec<u8>,
    pub host: String,
    pub peer: SocketAddr,
    pub caps: Capabilities,
    pub tls: bool,
    timeout: Duration,
}

/// What the client needs to open connections.
#[derive(Clone)]
pub struct ClientSettings {
    /// Our name in EHLO.
    pub helo: String,
    pub tls: TlsConnector,
    pub timeout: Duration,
    /// AUTH PLAIN credentials (smarthost only).
    pub auth: Option<(String, String)>,
    /// With a smarthost: TLS that verifies its certificate ([`smarthost_tls_connector`]).
    pub smarthost_tls: Option<TlsConnector>,
}

/// How [`Connection::open_addr`] uses STARTTLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsMode {
    /// With [`ClientSettings::smarthost_tls`]: the certificate must verify.
    Verified,
    /// Any certificate (RFC 7435).
    Opportunistic,
    /// No STARTTLS.
    Plain,
}

/// The envelope of one transaction.
pub struct Transaction<'a> {
    /// Empty for `<>`.
    pub mail_from: &'a str,
    pub recipients: &'a [RecipientParams],
    pub content: &'a [u8],
    pub envid: Option<&'a str>,
    pub ret: Option<&'a str>,
}

pub struct RecipientParams {
    pub address: String,
    pub notify: Option<String>,
    pub orcpt: Option<String>,
}

/// The outcome of one transaction, per recipient in the order given.
#[derive(Debug)]
pub struct TransactionOutcome {
    pub recipients: Vec<Result<Reply, Failure>>,
}

impl Connection {
    /// Connects to the first reachable address of `host` and says EHLO; STARTTLS when offered
    /// (falling back to a new plain connection when the handshake fails). With a smarthost the
    /// certificate is verified first ([`ClientSettings::smarthost_tls`]); when AUTH is
    /// configured nothing else is tried, so the password never goes over an unverified or plain
    /// connection.
    pub async fn open(host: &Host, settings: &ClientSettings) -> Result<Connection, Failure> {
        let modes: &[TlsMode] = match (&settings.smarthost_tls, &settings.auth) {
            (Some(_), Some(_)) => &[TlsMode::Verified],
            (Some(_), None) => &[TlsMode::Verified, TlsMode::Opportunistic, TlsMode::Plain],
            (None, _) => &[TlsMode::Opportunistic, TlsMode::Plain],
        };
        let mut last = None;
        'addresses: for addr in &host.addresses {
            for mode in modes {
                match Self::open_addr(host, *addr, settings, *mode).await {
                    Ok(c) => return Ok(c),
                    Err(OpenError::TlsFailed(e)) => {
                        let e = if *mode == TlsMode::Verified && settings.auth.is_some() {
                            format!(
                                "{e}; not sending the smarthost password over an unverified \
                                 connection (trust its CA with outbound.smarthost_ca_file or its \
                                 certificate with outbound.smarthost_fingerprint)"
                            )
                        } else {
                            e
                        };
                        tracing::info!(host = %host.name, %addr, error = %e, "STARTTLS failed");
                        last = Some(Failure::temporary("4.7.5", e));
                    }
                    Err(OpenError::Failed(f)) => {
                        // A 5xx greeting or EHLO is the server's word for the whole domain.
                        if f.permanent {
                            return Err(f);
                        }
                        last = Some(f);
                        continue 'addresses;
                    }
                }
            }
        }
        Err(last.unwrap_or_else(|| {
            Failure::temporary(
                "4.4.1",
                format!("No address to connect to for {}", host.name),
            )
        }))
    }

    async fn open_addr(
        host: &Host,
        addr: SocketAddr,
        settings: &ClientSettings,
        mode: TlsMode,
    ) -> Result<Connection, OpenError> {
        let tcp = match tokio::time::timeout(settings.timeout, TcpStream::connect(addr)).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(e)) => {
                return Err(OpenError::Failed(Failure::temporary(
                    "4.4.1",
                    format!("Connection to {} [{addr}] failed: {e}", host.name),
                )));
            }
            Err(_) => {
                return Err(OpenError::Failed(Failure::temporary(
                    "4.4.1",
                    format!("Connection to {} [{addr}] timed out", host.name),
                )));
            }
        };
        let _ = tcp.set_nodelay(true);
        let mut c = Connection {
            stream: Stream::Plain(tcp),
            input: Vec::new(),
            host: host.name.clone(),
            peer: addr,
            caps: Capabilities::default(),
            tls: false,
            timeout: settings.timeout,
        };
        let greeting = c.read_reply(c.timeout).await.map_err(OpenError::Failed)?;
        if greeting.code != 220 {
            return Err(OpenError::Failed(greeting.failure(&c.host)));
        }
        c.ehlo(&settings.helo).await.map_err(OpenError::Failed)?;
        let connector = match mode {
            TlsMode::Verified => settings.smarthost_tls.as_ref(),
            TlsMode::Opportunistic => Some(&settings.tls),
            TlsMode::Plain => None,
        };
        if let Some(connector) = connector
            && c.caps.starttls
        {
            c.command(b"STARTTLS\r\n")
                .await
                .map_err(OpenError::Failed)?;
            let reply = c.read_reply(c.timeout).await.map_err(OpenError::Failed)?;
            if reply.code == 220 {
                c.start_tls(connector).await.map_err(OpenError::TlsFailed)?;
                c.ehlo(&settings.helo).await.map_err(OpenError::Failed)?;
            }
        }
        if let Some((user, password)) = &settings.auth {
            if !c.tls {
                return Err(OpenError::Failed(Failure::temporary(
                    "4.7.10",
                    format!(
                        "{} offers no TLS; not sending the smarthost password",
                        c.host
                    ),
                )));
            }
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
            c.command(format!("AUTH PLAIN {token}\r\n").as_bytes())
                .await
                .map_err(OpenError::Failed)?;
            let reply = c.read_reply(c.timeout).await.map_err(OpenError::Failed)?;
            if reply.code != 235 {
                return Err(OpenError::Failed(reply.failure(&c.host)));
            }
        }
        Ok(c)
    }

    async fn ehlo(&mut self, helo: &str) -> Result<(), Failure> {
        self.command(format!("EHLO {helo}\r\n").as_bytes()).await?;
        let reply = self.read_reply(self.timeout).await?;
        if reply.code != 250 {
            return Err(reply.failure(&self.host));
        }
        let lines: Vec<&str> = reply.text.split('\n').collect();
        self.caps = Capabilities::parse(&lines);
        Ok(())
    }

    async fn start_tls(&mut self, connector: &TlsConnector) -> Result<(), String> {
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Gone) else {
            return Err("not a plain connection".into());
        };
        self.input.clear();
        let name = ServerName::try_from(self.host.clone())
            .unwrap_or_else(|_| ServerName::IpAddress(self.peer.ip().into()));
        match tokio::time::timeout(self.timeout, connector.connect(name, tcp)).await {
            Ok(Ok(tls)) => {
                self.stream = Stream::Tls(Box::new(tls));
                self.tls = true;
                Ok(())
            }
            Ok(Err(e)) => Err(format!("TLS handshake with {} failed: {e}", self.host)),
            Err(_) => Err(format!("TLS handshake with {} timed out", self.host)),
        }
    }

    /// Runs one mail transaction. `Err` is a failure for every recipient (the connection is
    /// then unusable); `Ok` gives each recipient's outcome: the DATA reply for those accepted
    /// at RCPT, the RCPT reply for the others.
    pub async fn send(&mut self, t: &Transaction<'_>) -> Result<TransactionOutcome, Failure> {
        let needs_utf8 =
            !t.mail_from.is_ascii() || t.recipients.iter().any(|r| !r.address.is_ascii());
        if needs_utf8 && !self.caps.smtputf8 {
            // RFC 6531 §3.2: without SMTPUTF8 the message cannot be sent to this server.
            let f = Failure::permanent(
                "5.6.7",
                format!(
                    "{} does not support SMTPUTF8, needed for a non-ASCII address",
                    self.host
                ),
            );
            return Ok(TransactionOutcome {
                recipients: t.recipients.iter().map(|_| Err(f.clone())).collect(),
            });
        }
        let mut mail = format!("MAIL FROM:<{}>", t.mail_from);
        if self.caps.size > 0 {
            mail.push_str(&format!(" SIZE={}", t.content.len()));
        }
        if self.caps.eight_bit_mime && !t.content.is_ascii() {
            mail.push_str(" BODY=8BITMIME");
        }
        if needs_utf8 {
            mail.push_str(" SMTPUTF8");
        }
        if self.caps.dsn {
            if let Some(ret) = t.ret {
                mail.push_str(&format!(" RET={ret}"));
            }
            if let Some(envid) = t.envid {
                mail.push_str(&format!(" ENVID={envid}"));
            }
        }
        mail.push_str("\r\n");
        let rcpts: Vec<String> = t
            .recipients
            .iter()
            .map(|r| {
                let mut line = format!("RCPT TO:<{}>", r.address);
                if self.caps.dsn {
                    if let Some(notify) = &r.notify {
                        line.push_str(&format!(" NOTIFY={notify}"));
                    }
                    if let Some(orcpt) = &r.orcpt {
                        line.push_str(&format!(" ORCPT={orcpt}"));
                    }
                }
                line.push_str("\r\n");
                line
            })
            .collect();

        let (mail_reply, rcpt_replies) = if self.caps.pipelining {
            // RFC 2920 §3.1: MAIL and the RCPTs in one write, replies read in order.
            let mut batch = mail.clone().into_bytes();
            for r in &rcpts {
                batch.extend_from_slice(r.as_bytes());
            }
            self.command(&batch).await?;
            let mail_reply = self.read_reply(self.timeout).await?;
            let mut replies = Vec::with_capacity(rcpts.len());
            for _ in &rcpts {
                replies.push(self.read_reply(self.timeout).await?);
            }
            (mail_reply, replies)
        } else {
            self.command(mail.as_bytes()).await?;
            let mail_reply = self.read_reply(self.timeout).await?;
            let mut replies = Vec::new();
            if mail_reply.is_positive() {
                for r in &rcpts {
                    self.command(r.as_bytes()).await?;
                    replies.push(self.read_reply(self.timeout).await?);
                }
            }
            (mail_reply, replies)
        };
        if !mail_reply.is_positive() {
            let f = mail_reply.failure(&self.host);
            self.reset().await?;
            return Ok(TransactionOutcome {
                recipients: t.recipients.iter().map(|_| Err(f.clone())).collect(),
            });
        }
        let accepted = rcpt_replies.iter().filter(|r| r.is_positive()).count();
        if accepted == 0 {
            self.reset().await?;
            return Ok(TransactionOutcome {
                recipients: rcpt_replies
                    .iter()
                    .map(|r| Err(r.failure(&self.host)))
                    .collect(),
            });
        }
        self.command(b"DATA\r\n").await?;
        let go = self.read_reply(self.timeout).await?;
        if go.code != 354 {
            let f = go.failure(&self.host);
            self.reset().await?;
            return Ok(TransactionOutcome {
                recipients: rcpt_replies
                    .iter()
                    .map(|r| {
                        if r.is_positive() {
                            Err(f.clone())
                        } else {
                            Err(r.failure(&self.host))
                        }
                    })
                    .collect(),
            });
        }
        let data = dot_stuff(t.content);
        self.write(&data).await?;
        // RFC 5321 §4.5.3.2.6: wait at least 10 minutes for the reply to the final dot.
        let done = self
            .read_reply(self.timeout.max(Duration::from_secs(600)))
            .await?;
        let recipients = rcpt_replies
            .iter()
            .map(|r| {
                if !r.is_positive() {
                    Err(r.failure(&self.host))
                } else if done.is_positive() {
                    Ok(done.clone())
                } else {
                    Err(done.failure(&self.host))
                }
            })
            .collect();
        Ok(TransactionOutcome { recipients })
    }

    /// RSET, so the next transaction starts clean.
    pub async fn reset(&mut self) -> Result<(), Failure> {
        self.command(b"RSET\r\n").await?;
        let reply = self.read_reply(self.timeout).await?;
        if reply.code != 250 {
            return Err(reply.failure(&self.host));
        }
        Ok(())
    }

    /// QUIT, politely and briefly.
    pub async fn quit(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            if self.command(b"QUIT\r\n").await.is_ok() {
                let _ = self.read_reply(Duration::from_secs(5)).await;
            }
            match &mut self.stream {
                Stream::Plain(s) => {
                    let _ = s.shutdown().await;
                }
                Stream::Tls(s) => {
                    let _ = s.shutdown().await;
                }
                Stream::Gone => {}
            }
        })
        .await;
    }

    async fn command(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.write(bytes).await
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        let host = self.host.clone();
        let result = tokio::time::timeout(self.timeout, async {
            match &mut self.stream {
                Stream::Plain(s) => {
                    s.write_all(bytes).await?;
                    s.flush().await
                }
                Stream::Tls(s) => {
                    s.write_all(bytes).await?;
                    s.flush().await
                }
                Stream::Gone => Err(io::ErrorKind::NotConnected.into()),
            }
        })
        .await;
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Failure::temporary(
                "4.4.2",
                format!("Connection to {host} lost: {e}"),
            )),
            Err(_) => Err(Failure::temporary(
                "4.4.2",
                format!("Timeout writing to {host}"),
            )),
        }
    }

    async fn read_reply(&mut self, timeout: Duration) -> Result<Reply, Failure> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut receiver = ResponseReceiver::default();
        let mut buf = [0u8; 8192];
        loop {
            if !self.input.is_empty() {
                let mut iter = self.input.iter();
                let result = receiver.parse(&mut iter);
                let consumed = self.input.len() - iter.len();
                self.input.drain(..consumed);
                match result {
                    Ok(response) => {
                        let status = (response.esc[0] != 0).then(|| {
                            format!(
                                "{}.{}.{}",
                                response.esc[0], response.esc[1], response.esc[2]
                            )
                        });
                        return Ok(Reply {
                            code: response.code,
                            status,
                            text: response.message,
                        });
                    }
                    Err(smtp_proto::Error::NeedsMoreData { .. }) => {}
                    Err(e) => {
                        return Err(Failure::temporary(
                            "4.5.0",
                            format!("Bad reply from {}: {e:?}", self.host),
                        ));
                    }
                }
            }
            let read = tokio::time::timeout_at(deadline, async {
                match &mut self.stream {
                    Stream::Plain(s) => s.read(&mut buf).await,
                    Stream::Tls(s) => s.read(&mut buf).await,
                    Stream::Gone => Ok(0),
                }
            })
            .await;
            match read {
                Ok(Ok(0)) => {
                    return Err(Failure::temporary(
                        "4.4.2",
                        format!("{} closed the connection", self.host),
                    ));
                }
                Ok(Ok(n)) => self.input.extend_from_slice(&buf[..n]),
                Ok(Err(e)) => {
                    return Err(Failure::temporary(
                        "4.4.2",
                        format!("Connection to {} lost: {e}", self.host),
                    ));
                }
                Err(_) => {
                    return Err(Failure::temporary(
                        "4.4.2",
                        format!("Timeout waiting for {}", self.host),
                    ));
                }
            }
        }
    }
}

enum OpenError {
    Failed(Failure),
    /// The TLS handshake failed after STARTTLS: retry in plain text.
    TlsFailed(String),
}

/// RFC 5321 §4.5.2: a leading dot is doubled; the content ends with CRLF `.` CRLF. Every line
/// end is sent as CRLF (§2.3.8): a bare LF or a bare CR becomes CRLF before the dots are
/// stuffed, so no content can put `.` alone on a line in the eyes of a server that takes a
/// bare CR or LF as a line end (SMTP smuggling).
pub fn dot_stuff(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + content.len() / 50 + 5);
    let mut at_line_start = true;
    let mut bytes = content.iter().peekable();
    while let Some(&b) = bytes.next() {
        match b {
            b'\r' => {
                bytes.next_if_eq(&&b'\n');
                out.extend_from_slice(b"\r\n");
                at_line_start = true;
            }
            b'\n' => {
                out.extend_from_slice(b"\r\n");
                at_line_start = true;
            }
            _ => {
                if at_line_start && b == b'.' {
                    out.push(b'.');
                }
                out.push(b);
                at_line_start = false;
            }
        }
    }
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// The TLS client configuration: opportunistic, so any certificate is accepted (RFC 7435
/// §1.3); the handshake still protects against passive eavesdropping.
pub fn tls_connector() -> TlsConnector {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// The TLS client configuration for a smarthost: its certificate must verify against the
/// system's CAs, or the CAs of `ca_file`, or be exactly the one of `fingerprint` (SHA-256 of
/// the DER certificate; then neither issuer nor name is checked).
pub fn smarthost_tls_connector(
    ca_file: Option<&std::path::Path>,
    fingerprint: Option<[u8; 32]>,
) -> Result<TlsConnector, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let config = if let Some(fingerprint) = fingerprint {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedCertificate {
                fingerprint,
                provider,
            }))
            .with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        match ca_file {
            Some(path) => {
                use rustls_pki_types::pem::PemObject;
                let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                    .and_then(|iter| iter.collect())
                    .map_err(|e| format!("outbound.smarthost_ca_file {}: {e}", path.display()))?;
                let (added, _) = roots.add_parsable_certificates(certs);
                if added == 0 {
                    return Err(format!(
                        "outbound.smarthost_ca_file {}: no certificate in it",
                        path.display()
                    ));
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                for e in &found.errors {
                    tracing::warn!(error = %e, "system CA certificates");
                }
                let (added, _) = roots.add_parsable_certificates(found.certs);
                if added == 0 {
                    tracing::warn!(
                        "no system CA certificates: the smarthost cannot be verified \
                         (install ca-certificates or set outbound.smarthost_ca_file)"
                    );
                }
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Trusts one certificate, by its SHA-256.
#[derive(Debug)]
struct PinnedCertificate {
    fingerprint: [u8; 32],
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use sha2::Digest;
        let digest: [u8; 32] = sha2::Sha256::digest(end_entity.as_ref()).into();
        if digest == self.fingerprint {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_stuffing() {
        // Whatever the input, the only `CRLF . CRLF` (or `. CR`/`. LF` after any line end) of
        // the output is its final end marker, and every CR and LF is part of a CRLF.
        let check = |input: &[u8]| {
            let out = dot_stuff(input);
            let body = &out[..out.len() - 3];
            for (i, &b) in body.iter().enumerate() {
                match b {
                    b'\r' => assert_eq!(body.get(i + 1), Some(&b'\n'), "{input:?}"),
                    b'\n' => assert_eq!(body[i - 1], b'\r', "{input:?}"),
                    b'.' if i == 0 || body[i - 1] == b'\n' => {
                        assert_eq!(body.get(i + 1), Some(&b'.'), "{input:?}")
                    }
                    _ => {}
                }
            }
        };
        let alphabet = [b'\r', b'\n', b'.', b'a'];
        for n in 0..4096u32 {
            let input: Vec<u8> = (0..6)
                .map(|k| alphabet[(n >> (2 * k)) as usize & 3])
                .collect();
            check(&input);
        }
        let cases: &[(&[u8], &[u8])] = &[
            (b"", b".\r\n"),
            (b"a\r\n", b"a\r\n.\r\n"),
            (b"a", b"a\r\n.\r\n"),
            (b".a\r\n..b\r\nc.\r\n", b"..a\r\n...b\r\nc.\r\n.\r\n"),
            (b"x\n.\ny", b"x\r\n..\r\ny\r\n.\r\n"),
            // Bare CR and LF become CRLF before stuffing: no smuggling sequence goes out.
            (b"a\r.\r\nb", b"a\r\n..\r\nb\r\n.\r\n"),
            (b"a\r\n.\r\r\nMAIL", b"a\r\n..\r\n\r\nMAIL\r\n.\r\n"),
            (b"a\n.\r\nb\r", b"a\r\n..\r\nb\r\n.\r\n"),
            (b"a\r\n.\n", b"a\r\n..\r\n.\r\n"),
            (b"\r.\r", b"\r\n..\r\n.\r\n"),
        ];
        for (input, want) in cases {
            assert_eq!(
                dot_stuff(input),
                want.to_vec(),
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn capabilities() {
        let caps = Capabilities::parse(&[
            "mx.example.net",
            "PIPELINING",
            "SIZE 10240000",
            "STARTTLS",
            "AUTH LOGIN PLAIN",
            "ENHANCEDSTATUSCODES",
            "8BITMIME",
            "DSN",
            "SMTPUTF8",
        ]);
        assert!(caps.pipelining && caps.starttls && caps.auth_plain && caps.dsn);
        assert!(caps.eight_bit_mime && caps.smtputf8 && caps.enhanced_status_codes);
        assert_eq!(caps.size, 10_240_000);
        let none = Capabilities::parse(&["mx.example.net"]);
        assert!(!none.pipelining && !none.starttls && none.size == 0);
    }
}
