//! TLS for every listener: the configured certificate and key, or a self-signed certificate
//! for `hostname` generated on first start under `data_dir/tls/`.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use hopthu_config::Config;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// The TLS acceptors: one for the mail protocols, one for HTTPS. They share the certificate
/// but not ALPN: HTTPS announces `http/1.1`, while a mail client that offers some other ALPN
/// value must not be refused for it (RFC 7301 §3.2 lets a server ignore ALPN).
pub struct Acceptors {
    pub mail: TlsAcceptor,
    pub web: TlsAcceptor,
}

/// Builds the acceptors shared by SMTP, IMAP, POP3 and HTTPS.
pub fn acceptors(config: &Config) -> anyhow::Result<Acceptors> {
    let (cert_path, key_path) = match (&config.tls.cert, &config.tls.key) {
        (Some(cert), Some(key)) => (cert.clone(), key.clone()),
        _ => {
            let dir = config.data_dir.join("tls");
            let cert = dir.join("cert.pem");
            let key = dir.join("key.pem");
            if !cert.exists() || !key.exists() {
                generate_self_signed(&config.hostname, &dir)?;
                tracing::info!(path = %cert.display(), hostname = %config.hostname, "generated a self-signed certificate");
            }
            (cert, key)
        }
    };
    let certs = CertificateDer::pem_file_iter(&cert_path)
        .with_context(|| format!("read certificate {}", cert_path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parse certificate {}", cert_path.display()))?;
    anyhow::ensure!(
        !certs.is_empty(),
        "no certificate in {}",
        cert_path.display()
    );
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .with_context(|| format!("read private key {}", key_path.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mail = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("certificate and key do not match")?;
    let mut web = mail.clone();
    web.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Acceptors {
        mail: TlsAcceptor::from(Arc::new(mail)),
        web: TlsAcceptor::from(Arc::new(web)),
    })
}

fn generate_self_signed(hostname: &str, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    let names = vec![
        hostname.to_string(),
        "localhost".to_string(),
        "127.0.0.1".to_string(),
    ];
    let certified = rcgen::generate_simple_self_signed(names).context("generate certificate")?;
    write_private(
        &dir.join("key.pem"),
        certified.signing_key.serialize_pem().as_bytes(),
    )?;
    std::fs::write(dir.join("cert.pem"), certified.cert.pem())
        .with_context(|| format!("write {}", dir.display()))?;
    Ok(())
}

/// Writes a file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("write {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}
