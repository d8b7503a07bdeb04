//! Virus scanning through a ClamAV daemon (`[antivirus] clamd`), INSTREAM protocol: `zINSTREAM\0`,
//! then chunks each prefixed by its length (4 bytes, big-endian), a zero length to end; clamd
//! answers `stream: OK`, `stream: <name> FOUND` or `… ERROR`, NUL-terminated.
//!
//! Protocols call [`Core::scan`] on the whole message before accepting it (SMTP: MX and
//! submission, at the end of DATA/BDAT); what to do when clamd cannot be reached is
//! `[antivirus] on_error` (`accept_on_error`), which the caller applies.

use std::time::Duration;

use hopthu_config::ClamdAddress;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::Core;

/// Bytes sent per INSTREAM chunk.
const CHUNK: usize = 64 * 1024;
/// Longest reply we read from clamd.
const MAX_REPLY: usize = 4096;

/// What clamd said about a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanVerdict {
    /// No scanner configured.
    NotScanned,
    Clean,
    /// The signature name clamd reported (e.g. `Eicar-Test-Signature`).
    Infected(String),
    /// clamd could not be reached or failed; the reason is for the log.
    Unavailable(String),
}

impl Core {
    /// Scans `content` with clamd when `[antivirus] clamd` is set.
    pub async fn scan(&self, content: &[u8]) -> ScanVerdict {
        let antivirus = &self.config.antivirus;
        let Some(address) = &antivirus.clamd else {
            return ScanVerdict::NotScanned;
        };
        match tokio::time::timeout(antivirus.timeout, scan_at(address, content)).await {
            Ok(Ok(verdict)) => verdict,
            Ok(Err(e)) => ScanVerdict::Unavailable(format!("clamd: {e}")),
            Err(_) => ScanVerdict::Unavailable(format!(
                "clamd: no verdict within {} s",
                antivirus.timeout.as_secs()
            )),
        }
    }
}

async fn scan_at(address: &ClamdAddress, content: &[u8]) -> std::io::Result<ScanVerdict> {
    let connect = Duration::from_secs(10);
    match address {
        ClamdAddress::Tcp(addr) => {
            let stream = tokio::time::timeout(connect, tokio::net::TcpStream::connect(addr))
                .await
                .map_err(|_| std::io::Error::other("connection timed out"))??;
            instream(stream, content).await
        }
        ClamdAddress::Unix(path) => {
            #[cfg(unix)]
            {
                let stream = tokio::time::timeout(connect, tokio::net::UnixStream::connect(path))
                    .await
                    .map_err(|_| std::io::Error::other("connection timed out"))??;
                instream(stream, content).await
            }
            #[cfg(not(unix))]
            {
                let _ = path;
                Err(std::io::Error::other("unix sockets are not supported here"))
            }
        }
    }
}

/// One INSTREAM exchange on a connected stream.
async fn instream<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    content: &[u8],
) -> std::io::Result<ScanVerdict> {
    stream.write_all(b"zINSTREAM\0").await?;
    for chunk in content.chunks(CHUNK) {
        let len = u32::try_from(chunk.len()).unwrap_or(u32::MAX);
        stream.write_all(&len.to_be_bytes()).await?;
        stream.write_all(chunk).await?;
    }
    stream.write_all(&[0, 0, 0, 0]).await?;
    stream.flush().await?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&buf[..n]);
        if reply.contains(&0) || reply.len() > MAX_REPLY {
            break;
        }
    }
    Ok(parse_reply(&reply))
}

/// `stream: OK`, `stream: <name> FOUND`, anything else is an error.
fn parse_reply(reply: &[u8]) -> ScanVerdict {
    let text = String::from_utf8_lossy(reply);
    let text = text.trim_end_matches(['\0', '\n', '\r']).trim();
    let body = text.strip_prefix("stream:").map(str::trim).unwrap_or(text);
    if body == "OK" {
        ScanVerdict::Clean
    } else if let Some(name) = body.strip_suffix(" FOUND") {
        ScanVerdict::Infected(name.trim().chars().take(200).collect())
    } else if text.is_empty() {
        ScanVerdict::Unavailable("clamd closed the connection without a verdict".into())
    } else {
        ScanVerdict::Unavailable(format!(
            "clamd: {}",
            text.chars().take(200).collect::<String>()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::{ScanVerdict, parse_reply};

    #[test]
    fn replies() {
        assert_eq!(parse_reply(b"stream: OK\0"), ScanVerdict::Clean);
        assert_eq!(
            parse_reply(b"stream: Eicar-Test-Signature FOUND\0"),
            ScanVerdict::Infected("Eicar-Test-Signature".into())
        );
        assert!(matches!(
            parse_reply(b"INSTREAM size limit exceeded. ERROR\0"),
            ScanVerdict::Unavailable(_)
        ));
        assert!(matches!(parse_reply(b""), ScanVerdict::Unavailable(_)));
    }
}
