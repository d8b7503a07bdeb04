//! The wire: the connection's socket (plain TCP, or TLS from the start or after STARTTLS),
//! input split into commands by [`Framer`], and responses encoded by imap-codec's
//! `ResponseCodec` into an output buffer flushed at the end of each command.
//!
//! Reading is cancel-safe: [`Wire::next_input`] only awaits the socket read and keeps every
//! byte it received, so a session may race it against change notifications (IDLE), the idle
//! timer and shutdown.

use std::io;
use std::time::Duration;

use imap_codec::ResponseCodec;
use imap_codec::encode::{Encoder, Fragment};
use imap_codec::imap_types::response::Response;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::framing::{Frame, Framer};

/// A client that does not read its responses within this time is disconnected.
const WRITE_TIMEOUT: Duration = Duration::from_secs(120);
/// A TLS handshake must complete within this time.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// Output is written out early once this much is buffered (large FETCH responses).
const FLUSH_THRESHOLD: usize = 256 * 1024;
const READ_CHUNK: usize = 16 * 1024;

/// The byte stream of a connection.
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Only while STARTTLS swaps the stream, or after a failed handshake.
    Gone,
}

impl Stream {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf).await,
            Stream::Tls(s) => s.read(buf).await,
            Stream::Gone => Ok(0),
        }
    }

    async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        async fn write<S: AsyncWrite + Unpin>(s: &mut S, data: &[u8]) -> io::Result<()> {
            s.write_all(data).await?;
            s.flush().await
        }
        match self {
            Stream::Plain(s) => write(s, data).await,
            Stream::Tls(s) => write(s.as_mut(), data).await,
            Stream::Gone => Err(io::ErrorKind::NotConnected.into()),
        }
    }

    /// Acknowledges what has arrived at once rather than when the delayed-ACK timer fires. A
    /// client that writes one command in pieces with Nagle's algorithm on (Python's imaplib
    /// writes an APPEND's literal, then its CRLF) holds the last piece until the earlier ones
    /// are acknowledged: 40 ms per APPEND, waiting for nothing.
    fn quickack(&self) {
        let tcp = match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref().0,
            Stream::Gone => return,
        };
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let _ = socket2::SockRef::from(tcp).set_tcp_quickack(true);
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let _ = tcp;
    }

    async fn shutdown(&mut self) {
        async fn close<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S) {
            let _ = tokio::time::timeout(Duration::from_secs(5), s.shutdown()).await;
        }
        match self {
            Stream::Plain(s) => close(s).await,
            Stream::Tls(s) => close(s.as_mut()).await,
            Stream::Gone => {}
        }
    }
}

/// What the client sent next.
#[derive(Debug)]
pub(crate) enum Input {
    Frame(Frame),
    /// The client closed the connection (or it broke).
    Closed,
}

pub(crate) struct Wire {
    stream: Stream,
    framer: Framer,
    out: Vec<u8>,
    read_buf: Vec<u8>,
    /// When bytes last arrived, for the idle timeout.
    pub(crate) last_read: tokio::time::Instant,
}

impl Wire {
    pub(crate) fn new(stream: Stream, max_line: usize) -> Wire {
        Wire {
            stream,
            framer: Framer::new(max_line),
            out: Vec::with_capacity(4096),
            read_buf: vec![0; READ_CHUNK],
            last_read: tokio::time::Instant::now(),
        }
    }

    pub(crate) fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    pub(crate) fn framer(&mut self) -> &mut Framer {
        &mut self.framer
    }

    /// The next frame: a command (`literals` true) or a bare line (IDLE, AUTHENTICATE).
    /// Cancel-safe.
    pub(crate) async fn next_input(&mut self, literals: bool) -> Input {
        loop {
            if let Some(frame) = self.framer.next(literals) {
                return Input::Frame(frame);
            }
            if self.framer.in_progress() {
                // The client is in the middle of a command: let it send the rest now.
                self.stream.quickack();
            }
            match self.stream.read(&mut self.read_buf).await {
                Ok(0) | Err(_) => return Input::Closed,
                Ok(n) => {
                    self.last_read = tokio::time::Instant::now();
                    self.framer.push(&self.read_buf[..n]);
                }
            }
        }
    }

    /// Encodes a response into the output buffer.
    pub(crate) fn push(&mut self, response: &Response<'_>) {
        encode_into(response, &mut self.out);
    }

    /// Adds a response line imap-codec has no type for (ESEARCH); `line` ends with CRLF.
    pub(crate) fn push_raw(&mut self, line: &[u8]) {
        self.out.extend_from_slice(line);
    }

    /// Writes the buffered output.
    pub(crate) async fn flush(&mut self) -> io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let result = tokio::time::timeout(WRITE_TIMEOUT, self.stream.write_all(&self.out)).await;
        self.out.clear();
        match result {
            Ok(r) => r,
            Err(_) => Err(io::ErrorKind::TimedOut.into()),
        }
    }

    /// Writes the output early when a lot is buffered.
    pub(crate) async fn flush_if_large(&mut self) -> io::Result<()> {
        if self.out.len() >= FLUSH_THRESHOLD {
            self.flush().await
        } else {
            Ok(())
        }
    }

    /// Upgrades the plain connection to TLS (STARTTLS, RFC 3501 §6.2.1): bytes the client
    /// pipelined after the command are discarded, then the handshake runs.
    pub(crate) async fn start_tls(&mut self, acceptor: &TlsAcceptor) -> io::Result<()> {
        self.framer.clear();
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Gone) else {
            return Err(io::ErrorKind::InvalidInput.into());
        };
        let tls = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp))
            .await
            .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
        self.stream = Stream::Tls(Box::new(tls));
        Ok(())
    }

    /// Flushes what is left and closes the connection.
    pub(crate) async fn close(&mut self) {
        let _ = self.flush().await;
        self.stream.shutdown().await;
        self.stream = Stream::Gone;
    }
}

/// A response as the bytes sent: a server never waits before sending a literal, so the
/// fragments go out back to back.
pub(crate) fn encode_into(response: &Response<'_>, out: &mut Vec<u8>) {
    for fragment in ResponseCodec::default().encode(response) {
        match fragment {
            Fragment::Line { data } | Fragment::Literal { data, .. } => {
                out.extend_from_slice(&data)
            }
        }
    }
}
