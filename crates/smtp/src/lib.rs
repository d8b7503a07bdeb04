//! SMTP for hopthu: the MX listener that receives mail from the Internet (RFC 5321), message
//! submission with STARTTLS (RFC 6409, RFC 3207) and over implicit TLS (RFC 8314), with AUTH
//! PLAIN/LOGIN (RFC 4954) for signed-in users.
//!
//! This crate owns the protocol only: framing and parsing (`wire.rs`, on `smtp-proto`), the
//! session state machine (`session.rs`), one file per command (`cmd/`), and the one mapping from
//! service errors to replies (`reply.rs`). It never decides who may send or receive: recipients,
//! sign-in and delivery go through [`hopthu_core::Core`], and it never touches the store.
//!
//! **Invariants**
//! - "250" after DATA only once [`hopthu_core::Core::deliver`] has returned, i.e. the message is
//!   fsynced and committed.
//! - AUTH is offered only on submission ports and only under TLS.
//! - No input panics a session; every malformed command gets an error reply.
//! - Passwords and message bodies are never logged.

mod cmd;
#[cfg(test)]
mod fuzz_tests;
mod inbound;
mod reply;
mod session;
mod spam;
mod stream;
mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hopthu_core::Core;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

pub use reply::{Reply, core_error_reply};

/// Which service a listener offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Inbound mail from other servers (port 25): no AUTH, mail only for local mailboxes.
    Mx,
    /// Submission with STARTTLS (port 587, RFC 6409): AUTH after TLS, then relaying.
    Submission,
    /// Submission over implicit TLS (port 465, RFC 8314 §3.3).
    Submissions,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Mx => "smtp",
            Mode::Submission => "submission",
            Mode::Submissions => "submissions",
        }
    }
}

/// Accepts connections until `shutdown` is cancelled, then stops accepting, lets each session
/// finish its in-flight command/transaction (sessions waiting for a command answer `421 4.3.2`
/// and close), and returns when every session has ended.
pub async fn serve(
    core: Arc<Core>,
    tls: TlsAcceptor,
    mode: Mode,
    listener: TcpListener,
    shutdown: CancellationToken,
) {
    let sessions = TaskTracker::new();
    let proto = mode.name();
    // `[inbound] verify`: SPF/DKIM/ARC/DMARC on the MX listener, with the process's resolver.
    let inbound = if mode == Mode::Mx && core.config().inbound.verify {
        match core.dns() {
            Ok(auth) => Some(auth),
            Err(e) => {
                tracing::error!(error = %e, "inbound checks disabled: no resolver");
                None
            }
        }
    } else {
        None
    };
    loop {
        let accepted = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((tcp, peer)) => {
                let _ = tcp.set_nodelay(true);
                let conn_id = CONNECTIONS.fetch_add(1, Ordering::Relaxed) + 1;
                let mut session = session::Session::new(
                    core.clone(),
                    tls.clone(),
                    mode,
                    shutdown.clone(),
                    peer,
                    conn_id,
                    tcp,
                );
                session.inbound = inbound.clone();
                let span = tracing::info_span!("smtp", proto, %peer, conn = conn_id);
                sessions.spawn(session.run().instrument(span));
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
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
    tracing::debug!(
        proto,
        open = sessions.len(),
        "listener closed; waiting for sessions"
    );
    sessions.wait().await;
}

/// Connections accepted since the process started (all SMTP listeners).
static CONNECTIONS: AtomicU64 = AtomicU64::new(0);

/// A tag unique across restarts for ids in `Received:` headers: process start time and
/// connection number.
pub(crate) fn connection_tag(conn_id: u64) -> String {
    static STARTED: std::sync::LazyLock<i64> =
        std::sync::LazyLock::new(|| chrono::Utc::now().timestamp());
    format!("{:X}{conn_id:04X}", *STARTED)
}
