//! The IMAP4rev1 server (RFC 3501) of hopthu: what Thunderbird, phones and other mail clients
//! use to read and organise mail. It owns the IMAP sessions and nothing else: every mailbox
//! and message operation goes through [`hopthu_core::Core`], which checks ownership and
//! notifies other sessions; this crate never touches the store.
//!
//! Layout: `wire.rs` (socket, TLS, bytes ↔ typed commands and responses with imap-codec) on top
//! of `framing.rs` (commands split with bounded memory); `session.rs` (the state machine:
//! not authenticated → authenticated → selected → logout, and keeping the selected mailbox in
//! step with other sessions); `selected.rs` (the selected mailbox's sequence-number ↔ UID
//! view); `cmd/<verb>.rs` (one file per command, its syntax in the doc comment); `mime.rs`
//! (ENVELOPE, BODYSTRUCTURE, sections); `errors.rs` (the one mapping from service errors to
//! `NO`/`BAD` replies); `mutf7.rs` (mailbox names on the wire).
//!
//! **Invariants**: no untagged `EXPUNGE` during FETCH, STORE or SEARCH (RFC 3501 §7.4.1); no
//! panic on client input (malformed commands get `BAD`); no unbounded buffering (lines and
//! literals are limited by the configuration); passwords and message bodies never logged.

mod cmd;
mod errors;
mod framing;
mod mime;
mod mutf7;
mod selected;
mod session;
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

/// Numbers connections for the logs.
static CONNECTION_ID: AtomicU64 = AtomicU64::new(1);

/// Accepts connections until `shutdown` is cancelled; then stops accepting, lets in-flight
/// commands finish, sends `* BYE` to idle/IDLEing sessions, and returns when all sessions
/// have ended.
///
/// `implicit_tls` is the IMAPS port (993, RFC 8314): TLS from the first byte. Otherwise the
/// port is plain IMAP (143) where STARTTLS must come before any password (LOGINDISABLED).
pub async fn serve(
    core: Arc<Core>,
    tls: TlsAcceptor,
    implicit_tls: bool,
    listener: TcpListener,
    shutdown: CancellationToken,
) {
    let sessions = TaskTracker::new();
    let views = Arc::new(selected::Views::default());
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((tcp, peer)) => {
                let _ = tcp.set_nodelay(true);
                let id = CONNECTION_ID.fetch_add(1, Ordering::Relaxed);
                let span = tracing::info_span!(
                    "imap",
                    conn = id,
                    %peer,
                    tls = implicit_tls,
                    user = tracing::field::Empty
                );
                sessions.spawn(
                    session::run(
                        core.clone(),
                        views.clone(),
                        tls.clone(),
                        implicit_tls,
                        tcp,
                        shutdown.clone(),
                    )
                    .instrument(span),
                );
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    drop(listener);
    sessions.close();
    sessions.wait().await;
}
