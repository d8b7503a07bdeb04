//! POP3 for hopthu (RFC 1939) with CAPA (RFC 2449), STLS (RFC 2595) and SASL PLAIN
//! (RFC 5034), for the old clients that still download mail.
//!
//! The protocol only: the session state machine is in `session.rs`, the byte stream (plain
//! or TLS) in `io.rs`. Sign-in, the maildrop lock and expunge go through
//! [`hopthu_core::Core`].
//!
//! **Invariants**
//! - Passwords travel only under TLS: USER, PASS and AUTH are refused on a plain connection.
//! - A session holds its account's maildrop lock from sign-in to the end (RFC 1939 §8); a
//!   second POP3 session is refused with `[IN-USE]`.
//! - Deletions take effect only at QUIT (the UPDATE state); a dropped connection deletes
//!   nothing.

mod io;
mod session;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hopthu_core::Core;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

static CONNECTIONS: AtomicU64 = AtomicU64::new(0);

/// Accepts connections until `shutdown` is cancelled; then stops accepting, lets in-flight
/// commands finish (idle sessions are told `-ERR` and closed), and returns when every session
/// has ended.
pub async fn serve(
    core: Arc<Core>,
    tls: TlsAcceptor,
    implicit_tls: bool,
    listener: TcpListener,
    shutdown: CancellationToken,
) {
    let sessions = TaskTracker::new();
    let proto = if implicit_tls { "pop3s" } else { "pop3" };
    loop {
        let accepted = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((tcp, peer)) => {
                let _ = tcp.set_nodelay(true);
                let conn = CONNECTIONS.fetch_add(1, Ordering::Relaxed) + 1;
                let span = tracing::info_span!("pop3", proto, %peer, conn);
                let core = core.clone();
                let tls = tls.clone();
                let shutdown = shutdown.clone();
                sessions.spawn(
                    async move {
                        session::run(core, tls, implicit_tls, tcp, shutdown).await;
                    }
                    .instrument(span),
                );
            }
            Err(e) => {
                tracing::warn!(proto, error = %e, "accept failed");
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
        }
    }
    drop(listener);
    sessions.close();
    sessions.wait().await;
}
