//! The outbound MTA of hopthu: the queue runner that delivers mail for other domains.
//!
//! It owns MX resolution (`dns.rs`, hickory through `mail-auth`), the SMTP client
//! (`client.rs`, on `smtp-proto` and `tokio-rustls`), DKIM signing at send time of what core did not sign
//! (`hopthu_core::dkim`),
//! delivery status notifications (`hopthu_core::dsn`) and the scheduling of attempts (`runner.rs`):
//! per-domain connection reuse and concurrency limits, retries with exponential back-off up to
//! `outbound.lifetime`, one delay notice, and a bounce to the sender when delivery fails for
//! good. It never touches the store: the queue is read and updated through
//! [`hopthu_core::Core`]'s queue services, which the `hopthu queue` commands share.
//!
//! **Invariants**
//! - A recipient is marked delivered, durably, right after the remote server's 250 and before
//!   anything else is sent: a crash may at worst repeat the one transaction in flight (RFC 5321
//!   §6.1 accepts that), never lose a recipient or resend the others.
//! - Nothing is kept only in memory: after a restart (even SIGKILL) the runner rebuilds its
//!   work from the queue.
//! - Notifications are sent from `<>` and never for mail from `<>`.

mod client;
mod dns;
mod runner;

use std::sync::Arc;

use hopthu_core::Core;
use tokio_util::sync::CancellationToken;

pub use client::dot_stuff;

/// Why a delivery attempt failed, for a recipient or a whole domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// 5xx: retrying will not help; the sender gets a bounce.
    pub permanent: bool,
    /// Enhanced status code (RFC 3463), e.g. `5.1.1`.
    pub status: String,
    /// What happened, for `queue show`, logs and the bounce.
    pub message: String,
    /// The server that said it, when one did.
    pub remote_mta: Option<String>,
    /// The SMTP reply code, when a server said it.
    pub smtp_code: Option<u16>,
}

impl Failure {
    pub fn temporary(status: &str, message: impl Into<String>) -> Failure {
        Failure {
            permanent: false,
            status: status.to_string(),
            message: message.into(),
            remote_mta: None,
            smtp_code: None,
        }
    }

    pub fn permanent(status: &str, message: impl Into<String>) -> Failure {
        Failure {
            permanent: true,
            ..Failure::temporary(status, message)
        }
    }
}

/// Runs the queue runner until `shutdown` is cancelled. Mail in flight when it is cancelled
/// stays queued (nothing is marked before the remote 250) and is sent after the restart.
pub async fn run(core: Arc<Core>, shutdown: CancellationToken) {
    match runner::Runner::new(core) {
        Ok(runner) => Arc::new(runner).run(shutdown).await,
        Err(e) => {
            tracing::error!(error = %e, "outbound queue runner cannot start; mail stays queued");
            shutdown.cancelled().await;
        }
    }
}
