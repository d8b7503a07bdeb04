//! The services of hopthu: accounts and sign-in, mailboxes and messages, local delivery and the
//! outbound queue, and the change notifications that keep concurrent sessions in step.
//!
//! One process holds one [`Core`]; every protocol (SMTP, IMAP, POP3, the web) and the CLI go
//! through it, so a rule written here holds everywhere. Protocol crates depend on this crate and
//! on `hopthu-model`, never on the store: the records they need are re-exported here.
//!
//! **Invariants**
//! - Ownership is checked here: every mailbox operation takes the signed-in [`Principal`] and
//!   refuses a mailbox of another account with [`ErrorKind::NotFound`].
//! - Change notifications ([`MailEvent`]) are broadcast only after the change is committed.
//! - A method that stores mail returns only when the mail is durable (blob and index fsynced).

mod accounts;
pub mod admin;
mod antivirus;
pub mod audit;
mod blobs;
pub mod classification;
pub mod client_setup;
pub mod compose;
pub mod compromised;
pub mod console;
pub mod contacts;
mod delivery;
pub mod directory;
pub mod dkim;
pub mod dns;
pub mod doc_text;
pub mod documents;
pub mod dsn;
mod error;
pub mod groups;
pub mod incidents;
pub mod ledger;
mod limits;
mod mail;
mod mail_clients;
pub mod mailbox_export;
pub mod mbox;
mod metrics;
mod node;
mod password_check;
mod queue;
mod quota;
pub mod report;
mod search;
pub mod shared;
mod sieve;
pub mod sieve_rules;
mod sieve_run;
pub mod spam;
pub mod srs;
pub mod submission;
pub mod submit;
pub mod unit_mailbox;
pub mod verify;
pub mod web_session;
pub mod webmail;

use std::sync::Arc;

use hopthu_config::Config;
use hopthu_model::{AccountId, MailboxId, Uid};
use hopthu_store::Store;
use tokio::sync::broadcast;

pub use accounts::{
    AuthError, CreatedAccount, NewAccountRequest, NewPersonRequest, Principal, Secret,
    generate_password, hash_password, hash_password_blocking,
};
pub use admin::{Actor, AdminRecord, AdminScope, NewAudit};
pub use antivirus::ScanVerdict;
pub use blobs::open_blob_store;
pub use delivery::{DeliveryReport, Envelope, RecipientVerdict};
pub use error::{Error, ErrorKind, Result};
pub use groups::{GroupRefusal, GroupRequest, GroupView, SenderContext};
pub use hopthu_config as config;
pub use hopthu_store::{
    AccountRecord, AccountState, AuditRecord, BlobId, Changes, MailboxRecord, MailboxStatus,
    MessageIndex, MessageRecord, NoticeRecord, QueueRecord, SortRow, SpecialUse, StoreFlagsOutcome,
};
pub use hopthu_store::{Job, JobGuard};
pub use limits::{
    CommandPace, ConnectionPermit, LimitError, RateLimits, SignInError, SignInVia, source_key,
};
pub use mail::{AppendOutcome, STANDARD_FOLDERS};
pub use mail::{MoveOutcome, Quota};
pub use queue::*;
pub use search::{SearchField, SearchText, extract_search_text};
pub use sieve::SieveScriptInfo;
pub use submission::{Prepared, SendMode, Sending, SubmittedVia, UnitSender};
pub use unit_mailbox::{DelegateRecord, UnitMailboxOverview};

/// Something changed in a mailbox (new mail, flags, expunge, rename): sessions showing it
/// re-read its changes. Sent after commit; a receiver that lags simply re-reads everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailEvent {
    pub account: AccountId,
    pub mailbox: MailboxId,
}

/// The services, shared by every connection (`Arc<Core>`).
pub struct Core {
    config: Arc<Config>,
    store: Store,
    events: broadcast::Sender<MailEvent>,
    /// Accounts whose maildrop a POP3 session holds (RFC 1939 §8: exclusive access).
    maildrop_locks: Arc<std::sync::Mutex<std::collections::HashSet<AccountId>>>,
    /// When this process last recorded that an owner or delegate opened each unit mailbox
    /// (`shared.rs`: at most one write per unit mailbox per `ACCESS_RECORD_INTERVAL`).
    unit_access: std::sync::Mutex<std::collections::HashMap<AccountId, i64>>,
    /// The day and openings this process last recorded per account (`ledger.rs`).
    opens: std::sync::Mutex<std::collections::HashMap<AccountId, (i64, u32)>>,
    /// Wakes the outbound queue runner when mail is queued (see `queue.rs`).
    queue_wake: tokio::sync::Notify,
    /// Wakes the search indexer (`search.rs`): a message waits for its attachments' text.
    index_wake: Arc<tokio::sync::Notify>,
    /// Connections, submissions and failed sign-ins per IP/account (`limits.rs`).
    rate_limits: RateLimits,
    /// Turns for password hashing and the cache of recent verifications (`password_check.rs`).
    password_checks: password_check::PasswordChecks,
    /// Counters for `GET /metrics` (`metrics.rs`).
    metrics: metrics::Metrics,
    /// The one DNS resolver and cache of the process (`dns.rs`), built on first use.
    dns: std::sync::OnceLock<std::result::Result<Arc<dns::Dns>, String>>,
    /// The DKIM keys of the domain (`dkim.rs`), loaded (or generated) on first use.
    dkim: std::sync::OnceLock<std::result::Result<Arc<dkim::DkimKeys>, String>>,
    /// This node's name among the nodes sharing a database (`node.rs`).
    node_id: String,
    /// Changes to tell the other nodes of (`node.rs`, PostgreSQL only).
    announce: Option<tokio::sync::mpsc::UnboundedSender<MailEvent>>,
    /// Messages filed into or out of Junk, for the spam classifier's learner (`spam/learn.rs`).
    learn_jobs: tokio::sync::mpsc::UnboundedSender<spam::LearnJob>,
}

/// Exclusive hold on an account's maildrop for one POP3 session; released on drop.
pub struct MaildropLock {
    account: AccountId,
    locks: Arc<std::sync::Mutex<std::collections::HashSet<AccountId>>>,
}

impl Drop for MaildropLock {
    fn drop(&mut self) {
        if let Ok(mut held) = self.locks.lock() {
            held.remove(&self.account);
        }
    }
}

impl Core {
    /// `\Recent` bookkeeping (RFC 3501 §2.3.2), kept in the store so it survives restarts
    /// and is shared by the nodes on one database: the highest UID of `mailbox` a session was
    /// already told about. With `claim`, atomically raises it to `upto`: the caller's messages
    /// above the returned mark are recent for it alone. EXAMINE and IMAP4rev2 sessions look
    /// without claiming.
    pub async fn recent_mark(
        &self,
        who: &Principal,
        mailbox: MailboxId,
        upto: u32,
        claim: bool,
    ) -> Result<u32> {
        self.mailbox_by_id(who, mailbox).await?;
        Ok(if claim {
            self.store.claim_recent(mailbox, Uid(upto)).await?
        } else {
            self.store.recent_mark(mailbox).await?
        })
    }

    /// Opens the store named by the configuration (the embedded SQLite store under
    /// `data_dir`, bodies there or in the `[blobs]` bucket) and returns the services.
    pub async fn open(config: Config) -> Result<Arc<Core>> {
        let store = Store::open(
            &config.data_dir,
            config.store.url.as_deref(),
            blobs::open_blob_store(&config)?,
        )
        .await?;
        let node_id = node::node_id(&config.data_dir)?;
        let (announce, outgoing) = tokio::sync::mpsc::unbounded_channel();
        let shared = store.backend() == "postgres";
        let (events, _) = broadcast::channel(4096);
        let password_checks = password_check::PasswordChecks::new(&config.auth);
        let (learn_jobs, to_learn) = tokio::sync::mpsc::unbounded_channel();
        let core = Arc::new(Core {
            password_checks,
            config: Arc::new(config),
            store,
            events,
            maildrop_locks: Arc::default(),
            unit_access: Default::default(),
            opens: Default::default(),
            queue_wake: tokio::sync::Notify::new(),
            index_wake: Arc::new(tokio::sync::Notify::new()),
            rate_limits: RateLimits::default(),
            metrics: metrics::Metrics::default(),
            dns: std::sync::OnceLock::new(),
            dkim: std::sync::OnceLock::new(),
            node_id,
            announce: shared.then_some(announce),
            learn_jobs,
        });
        if shared {
            node::start_exchange(&core, outgoing).await?;
        }
        search::spawn_indexer(&core);
        spam::spawn_learner(&core, to_learn);
        Ok(core)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The process's DNS resolver (built from `[dns]` on the first call; every caller shares
    /// it and its cache). `Err` when no resolver can be built (no `resolvers` configured and
    /// no readable `/etc/resolv.conf`).
    pub fn dns(&self) -> std::result::Result<Arc<dns::Dns>, String> {
        self.dns
            .get_or_init(|| dns::Dns::new(&self.config.dns).map(Arc::new))
            .clone()
    }

    /// The DKIM keys of the domain (loaded, or generated, on the first call; every signer and
    /// checker of the process shares them). `Err` when they can be neither read nor written.
    pub fn dkim(&self) -> std::result::Result<Arc<dkim::DkimKeys>, String> {
        self.dkim
            .get_or_init(|| dkim::DkimKeys::load_or_generate(&self.config).map(Arc::new))
            .clone()
    }

    /// `message` signed with the domain's DKIM keys (Đ14.2), before it is stored.
    pub fn dkim_sign(&self, message: Vec<u8>) -> Result<Vec<u8>> {
        self.dkim()
            .and_then(|keys| keys.signed(message))
            .map_err(|e| {
                tracing::error!(error = %e, "DKIM signing failed");
                Error::new(
                    ErrorKind::Temporary,
                    format!("không ký DKIM được / cannot sign the message (DKIM): {e}"),
                )
            })
    }

    /// Subscribes to change notifications of every mailbox; filter on what you show.
    pub fn subscribe(&self) -> broadcast::Receiver<MailEvent> {
        self.events.subscribe()
    }

    fn notify(&self, account: AccountId, mailbox: MailboxId) {
        // No receiver is fine: nobody is looking at that mailbox.
        let _ = self.events.send(MailEvent { account, mailbox });
        if let Some(announce) = &self.announce {
            let _ = announce.send(MailEvent { account, mailbox });
        }
    }

    /// Takes the POP3 maildrop lock of an account; `None` when another POP3 session holds it.
    pub fn lock_maildrop(&self, account: AccountId) -> Option<MaildropLock> {
        let mut held = self.maildrop_locks.lock().ok()?;
        held.insert(account).then(|| MaildropLock {
            account,
            locks: self.maildrop_locks.clone(),
        })
    }

    /// Flushes and closes the store; call once at shutdown.
    pub async fn close(&self) {
        self.store.close().await;
    }
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
