//! ManageSieve for hopthu (RFC 5804): mail clients (Thunderbird's Sieve add-on, Roundcube-style
//! clients, `sieve-connect`) list, upload, check, activate, rename and delete their Sieve
//! scripts.
//!
//! The protocol only: the command syntax (strings, literals) is in `parse.rs`, the session in
//! `session.rs`, the byte stream (plain or TLS) in `io.rs`. Scripts are kept, compiled and
//! activated by [`hopthu_core::Core`]'s Sieve API (`sieve_put`, `sieve_activate`, …), confined
//! to the signed-in account; sign-in goes through `Core::authenticate_from` like IMAP and POP3.
//!
//! **Invariants**
//! - Passwords travel only under TLS: `SASL "PLAIN"` is announced, and `AUTHENTICATE`
//!   accepted, only after STARTTLS.
//! - No literal beyond `[sieve] max_script_size` is kept in memory: a larger one is skipped
//!   and refused with `NO (QUOTA/MAXSIZE)`, a much larger one ends the connection.
//! - Nothing a client sends panics the session; a malformed command gets `NO`, too many in a
//!   row get `BYE`.

mod io;
mod parse;
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
/// commands finish (idle sessions are told `BYE` and closed), and returns when every session
/// has ended.
pub async fn serve(
    core: Arc<Core>,
    tls: TlsAcceptor,
    listener: TcpListener,
    shutdown: CancellationToken,
) {
    let sessions = TaskTracker::new();
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
                let span = tracing::info_span!("managesieve", %peer, conn);
                let core = core.clone();
                let tls = tls.clone();
                let shutdown = shutdown.clone();
                sessions.spawn(
                    async move {
                        session::run(core, tls, tcp, shutdown).await;
                    }
                    .instrument(span),
                );
            }
            Err(e) => {
                tracing::warn!(error = %e, "managesieve accept failed");
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
