//! Scheduling: which queued recipients to try now, on which connections, and what to record.
//!
//! The runner wakes when mail is queued, when a domain's work ends, when the next attempt is
//! due, or every `outbound.poll_interval`. It takes the due recipients, groups them by domain,
//! and gives each domain one worker (never two at once) that resolves the domain's hosts and
//! opens up to `outbound.max_connections_per_domain` connections (all workers together at most
//! `outbound.max_connections`), each delivering message after message over the same
//! connection. Every transaction's outcome is committed before the next one starts.
//!
//! Recipients still pending when `outbound.lifetime` has passed fail with 4.4.7. Failed
//! recipients are reported to the sender in a bounce right away; a sweep at start and every
//! minute catches bounces a crash interrupted and sends the delay notices.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hopthu_core::config::Config;
use hopthu_core::{
    Core, Envelope, ErrorKind, QueuedMessage, QueuedRecipient, RecipientState, RecipientUpdate,
};
use hopthu_model::EmailAddress;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::client::{ClientSettings, Connection, RecipientParams, Transaction};
use crate::{Failure, dns};
use hopthu_core::dkim::DkimKeys;
use hopthu_core::dsn::{self, Action, RecipientReport};

/// How many due messages one look at the queue takes.
const BATCH: u32 = 1000;

/// How often the sweep for unsent bounces and delay notices runs.
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

pub(crate) struct Runner {
    core: Arc<Core>,
    config: Config,
    /// The process's resolver (shared with the inbound checks).
    dns: Arc<hopthu_core::dns::Dns>,
    dkim: Arc<DkimKeys>,
    settings: ClientSettings,
    connections: Arc<Semaphore>,
    /// Domains with a worker running.
    busy: Mutex<HashSet<String>>,
    /// A worker finished: there may be more work for its domain.
    finished: Notify,
}

/// One message to send to some recipients of one domain.
struct Job {
    message: Arc<QueuedMessage>,
    recipients: Vec<QueuedRecipient>,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Runner {
    pub(crate) fn new(core: Arc<Core>) -> Result<Runner, String> {
        let config = core.config().clone();
        let dns = core.dns()?;
        let dkim = core.dkim()?;
        let settings = ClientSettings {
            helo: config.hostname.clone(),
            tls: crate::client::tls_connector(),
            timeout: config.outbound.timeout,
            auth: config.outbound.smarthost_auth.clone(),
            smarthost_tls: match &config.outbound.smarthost {
                Some(_) => Some(crate::client::smarthost_tls_connector(
                    config.outbound.smarthost_ca_file.as_deref(),
                    config.outbound.smarthost_fingerprint,
                )?),
                None => None,
            },
        };
        Ok(Runner {
            connections: Arc::new(Semaphore::new(config.outbound.max_connections)),
            core,
            config,
            dns,
            dkim,
            settings,
            busy: Mutex::new(HashSet::new()),
            finished: Notify::new(),
        })
    }

    pub(crate) async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let workers = TaskTracker::new();
        let mut last_sweep: Option<tokio::time::Instant> = None;
        // What this node held when it stopped (a crash) is free again at once.
        match self.core.release_claimed_queue(None).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(recipients = n, "released the queue work of a previous run"),
            Err(e) => tracing::warn!(error = %e, "cannot release previously claimed queue work"),
        }
        tracing::info!(
            smarthost = ?self.config.outbound.smarthost,
            port = self.config.outbound.port,
            "outbound queue runner started"
        );
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            if last_sweep.is_none_or(|t| t.elapsed() >= SWEEP_INTERVAL) {
                self.sweep().await;
                last_sweep = Some(tokio::time::Instant::now());
            }
            self.start_due_work(&workers, &shutdown).await;
            let wait = match self.core.next_queue_attempt().await {
                Ok(Some(next)) => Duration::from_secs((next - now()).clamp(0, 3600) as u64),
                _ => self.config.outbound.poll_interval,
            }
            .min(self.config.outbound.poll_interval)
            .max(Duration::from_millis(200));
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.core.queue_signalled() => {}
                _ = self.finished.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
        workers.close();
        workers.wait().await;
        tracing::info!("outbound queue runner stopped");
    }

    /// Takes the due recipients and starts a worker for each domain that has none.
    async fn start_due_work(self: &Arc<Self>, workers: &TaskTracker, shutdown: &CancellationToken) {
        let now = now();
        // Claimed for this node (`[outbound] claim_lease`): no other node sends them meanwhile.
        let due = match self.core.claim_queued_work(now, BATCH).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the queue");
                return;
            }
        };
        let lifetime = self.config.outbound.lifetime.as_secs() as i64;
        let mut expired = Vec::new();
        let mut by_domain: HashMap<String, Vec<Job>> = HashMap::new();
        for message in due {
            let message = Arc::new(message);
            let mut per_domain: HashMap<String, Vec<QueuedRecipient>> = HashMap::new();
            for r in &message.recipients {
                if r.state != RecipientState::Pending
                    || r.next_attempt_at > now
                    || r.lease_owner.as_deref() != Some(self.core.node_id())
                {
                    continue;
                }
                if now - message.created_at >= lifetime {
                    let reason = r.last_error.clone().unwrap_or_else(|| {
                        "4.4.7 Delivery time expired before the message could be sent".into()
                    });
                    expired.push(RecipientUpdate {
                        queue_id: message.id,
                        address: r.address.clone(),
                        state: RecipientState::Failed,
                        next_attempt_at: now,
                        attempted: false,
                        last_error: Some(format!(
                            "4.4.7 Gave up after {} attempts over {} hours; last error: {}",
                            r.attempts,
                            lifetime / 3600,
                            strip_status(&reason).1
                        )),
                        remote_mta: None,
                    });
                    continue;
                }
                per_domain
                    .entry(r.domain.clone())
                    .or_default()
                    .push(r.clone());
            }
            for (domain, recipients) in per_domain {
                by_domain.entry(domain).or_default().push(Job {
                    message: message.clone(),
                    recipients,
                });
            }
        }
        if !expired.is_empty() {
            let ids: HashSet<i64> = expired.iter().map(|u| u.queue_id).collect();
            if let Err(e) = self.core.update_queue_recipients(&expired).await {
                tracing::warn!(error = %e, "cannot record expired recipients");
            }
            for id in ids {
                self.report_failures(id).await;
            }
        }
        for (domain, jobs) in by_domain {
            {
                let mut busy = self.busy.lock().expect("busy set");
                if !busy.insert(domain.clone()) {
                    continue;
                }
            }
            let runner = self.clone();
            let shutdown = shutdown.clone();
            let span = tracing::info_span!("outbound", %domain);
            workers.spawn(
                async move {
                    runner.deliver_domain(&domain, jobs, &shutdown).await;
                    runner.busy.lock().expect("busy set").remove(&domain);
                    runner.finished.notify_one();
                }
                .instrument(span),
            );
        }
    }

    /// Delivers every job of one domain over up to `max_connections_per_domain` connections.
    async fn deliver_domain(
        self: &Arc<Self>,
        domain: &str,
        jobs: Vec<Job>,
        shutdown: &CancellationToken,
    ) {
        // Bounded by `[dns] message_budget`; at shutdown the jobs simply stay due.
        let resolved = tokio::select! {
            _ = shutdown.cancelled() => return,
            resolved = dns::resolve(&self.dns, &self.config, domain) => resolved,
        };
        let hosts = match resolved {
            Ok(hosts) => hosts,
            Err(failure) => {
                tracing::info!(error = %failure.message, "cannot resolve the domain");
                for job in &jobs {
                    self.record(job, &vec![Err(failure.clone()); job.recipients.len()])
                        .await;
                }
                return;
            }
        };
        let parallel = self
            .config
            .outbound
            .max_connections_per_domain
            .min(jobs.len())
            .max(1);
        let queue = Arc::new(Mutex::new(VecDeque::from(jobs)));
        let hosts = Arc::new(hosts);
        let mut lanes = tokio::task::JoinSet::new();
        for _ in 0..parallel {
            let runner = self.clone();
            let queue = queue.clone();
            let hosts = hosts.clone();
            let shutdown = shutdown.clone();
            lanes.spawn(
                async move { runner.lane(&hosts, &queue, &shutdown).await }.in_current_span(),
            );
        }
        while lanes.join_next().await.is_some() {}
    }

    /// Re-reads a job's recipients and keeps those still pending; `None` when none is left
    /// (or the message is gone).
    async fn still_pending(&self, job: Job) -> Option<Job> {
        let current = self.core.queued_message(job.message.id).await.ok()?;
        let recipients: Vec<QueuedRecipient> = job
            .recipients
            .into_iter()
            .filter(|r| {
                current
                    .recipients
                    .iter()
                    .any(|c| c.address == r.address && c.state == RecipientState::Pending)
            })
            .collect();
        (!recipients.is_empty()).then_some(Job {
            message: job.message,
            recipients,
        })
    }

    /// One connection: takes jobs until there are none left.
    async fn lane(
        &self,
        hosts: &[dns::Host],
        queue: &Mutex<VecDeque<Job>>,
        shutdown: &CancellationToken,
    ) {
        let Ok(_permit) = self.connections.clone().acquire_owned().await else {
            return;
        };
        let mut connection: Option<Connection> = None;
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            let Some(job) = queue.lock().expect("job queue").pop_front() else {
                break;
            };
            // The job list was read before this worker held its domain: another worker may
            // have settled some recipients since. Deliver only those still pending, so a
            // recipient is never sent twice.
            let Some(job) = self.still_pending(job).await else {
                continue;
            };
            let content = match self.core.queued_content(&job.message.blob).await {
                Ok(content) => content,
                Err(e) => {
                    tracing::error!(id = job.message.id, error = %e, "cannot read a queued message");
                    let f = Failure::temporary(
                        "4.3.0",
                        format!("Local error reading the message: {e}"),
                    );
                    self.record(&job, &vec![Err(f); job.recipients.len()]).await;
                    continue;
                }
            };
            // Mail submitted here was signed before it was stored (`hopthu_core::dkim`): it
            // is not signed again by the same key.
            let already = self.dkim.signed_by_us(&content).await;
            let mut signed = match if already {
                Ok(Vec::new())
            } else {
                self.dkim.sign(&content)
            } {
                Ok(headers) => headers,
                Err(e) => {
                    tracing::error!(id = job.message.id, error = %e, "DKIM signing failed");
                    let f = Failure::temporary("4.3.0", format!("Local error: {e}"));
                    self.record(&job, &vec![Err(f); job.recipients.len()]).await;
                    continue;
                }
            };
            signed.extend_from_slice(&content);
            drop(content);
            if connection.is_none() {
                match open(hosts, &self.settings).await {
                    Ok(c) => {
                        tracing::debug!(host = %c.host, peer = %c.peer, tls = c.tls, "connected");
                        connection = Some(c);
                    }
                    Err(f) => {
                        tracing::info!(error = %f.message, "no connection");
                        // Nothing can go to this domain now: defer this job and the rest.
                        self.record(&job, &vec![Err(f.clone()); job.recipients.len()])
                            .await;
                        let rest: Vec<Job> = queue.lock().expect("job queue").drain(..).collect();
                        for job in rest {
                            self.record(&job, &vec![Err(f.clone()); job.recipients.len()])
                                .await;
                        }
                        return;
                    }
                }
            }
            let Some(conn) = connection.as_mut() else {
                break;
            };
            let params: Vec<RecipientParams> = job
                .recipients
                .iter()
                .map(|r| RecipientParams {
                    address: r.address.clone(),
                    notify: r.notify.clone(),
                    orcpt: r.orcpt.clone(),
                })
                .collect();
            let transaction = Transaction {
                mail_from: &job.message.mail_from,
                recipients: &params,
                content: &signed,
                envid: job.message.envid.as_deref(),
                ret: job.message.ret.as_deref(),
            };
            let results = match conn.send(&transaction).await {
                Ok(outcome) => outcome.recipients,
                Err(f) => {
                    // The connection is broken: the whole transaction is retried later.
                    connection = None;
                    vec![Err(f); job.recipients.len()]
                }
            };
            let host = conn_host(&connection, hosts);
            for (r, result) in job.recipients.iter().zip(&results) {
                match result {
                    Ok(reply) => tracing::info!(
                        id = job.message.id, rcpt = %r.address, relay = %host,
                        reply = %reply.display(), "delivered"
                    ),
                    Err(f) => tracing::info!(
                        id = job.message.id, rcpt = %r.address, permanent = f.permanent,
                        error = %f.message, "not delivered"
                    ),
                }
            }
            self.record(&job, &results).await;
        }
        if let Some(c) = connection {
            c.quit().await;
        }
    }

    /// Commits the outcome of one attempt for a job's recipients, then bounces what failed.
    async fn record(&self, job: &Job, results: &[Result<crate::client::Reply, Failure>]) {
        let now = now();
        let mut updates = Vec::with_capacity(results.len());
        let mut failed = false;
        for (r, result) in job.recipients.iter().zip(results) {
            let update = match result {
                Ok(reply) => RecipientUpdate {
                    queue_id: job.message.id,
                    address: r.address.clone(),
                    state: RecipientState::Delivered,
                    next_attempt_at: now,
                    attempted: true,
                    last_error: Some(reply.display()),
                    remote_mta: None,
                },
                Err(f) => {
                    let state = if f.permanent {
                        failed = true;
                        RecipientState::Failed
                    } else {
                        RecipientState::Pending
                    };
                    RecipientUpdate {
                        queue_id: job.message.id,
                        address: r.address.clone(),
                        state,
                        next_attempt_at: now + self.backoff(r.attempts).as_secs() as i64,
                        attempted: true,
                        last_error: Some(format!("{} {}", f.status, f.message)),
                        remote_mta: f.remote_mta.clone(),
                    }
                }
            };
            updates.push(update);
        }
        if let Err(e) = self.core.update_queue_recipients(&updates).await {
            // Not recorded: the recipients stay due and are tried again (a delivered one may
            // then be sent twice, which RFC 5321 §6.1 prefers to losing it).
            tracing::error!(id = job.message.id, error = %e, "cannot record delivery outcome");
        }
        if failed {
            self.report_failures(job.message.id).await;
        }
    }

    /// Exponential back-off: `retry_initial · 2^attempts`, at most `retry_max`.
    fn backoff(&self, attempts_before: u32) -> Duration {
        let o = &self.config.outbound;
        let factor = 1u32
            .checked_shl(attempts_before.min(20))
            .unwrap_or(u32::MAX);
        o.retry_initial.saturating_mul(factor).min(o.retry_max)
    }

    /// Sends the bounce for the failed recipients of a message and marks them reported.
    async fn report_failures(&self, id: i64) {
        let message = match self.core.queued_message(id).await {
            Ok(m) => m,
            Err(e) if e.kind == ErrorKind::NotFound => return,
            Err(e) => {
                tracing::warn!(id, error = %e, "cannot read a queued message");
                return;
            }
        };
        let failed: Vec<&QueuedRecipient> = message
            .recipients
            .iter()
            .filter(|r| r.state == RecipientState::Failed)
            .collect();
        if failed.is_empty() {
            return;
        }
        let wanted: Vec<&QueuedRecipient> = failed
            .iter()
            .copied()
            .filter(|r| notify_allows(r, "FAILURE"))
            .collect();
        let mut sent = true;
        if !message.mail_from.is_empty() && !wanted.is_empty() {
            sent = self.notify(&message, &wanted, Action::Failed).await;
        }
        if sent {
            let updates: Vec<RecipientUpdate> = failed
                .iter()
                .map(|r| RecipientUpdate {
                    queue_id: id,
                    address: r.address.clone(),
                    state: RecipientState::Reported,
                    next_attempt_at: r.next_attempt_at,
                    attempted: false,
                    last_error: None,
                    remote_mta: None,
                })
                .collect();
            if let Err(e) = self.core.update_queue_recipients(&updates).await {
                tracing::warn!(id, error = %e, "cannot record the bounce");
            }
        }
    }

    /// Builds and delivers a DSN to the message's sender. False when it should be retried.
    async fn notify(
        &self,
        message: &QueuedMessage,
        recipients: &[&QueuedRecipient],
        action: Action,
    ) -> bool {
        let original = match self.core.queued_content(&message.blob).await {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!(id = message.id, error = %e, "original message unreadable; reporting without it");
                Vec::new()
            }
        };
        let reports: Vec<RecipientReport> = recipients
            .iter()
            .map(|r| {
                let (status, text) = strip_status(
                    r.last_error
                        .as_deref()
                        .unwrap_or("4.0.0 No attempt made yet"),
                );
                RecipientReport {
                    address: r.address.clone(),
                    orcpt: r.orcpt.clone(),
                    status: status.to_string(),
                    from_smtp: text.contains(" said: "),
                    diagnostic: text.to_string(),
                    remote_mta: r.remote_mta.clone(),
                }
            })
            .collect();
        let lifetime = self.config.outbound.lifetime.as_secs() as i64;
        let report = dsn::Report {
            action,
            reporting_mta: &self.config.hostname,
            domain: &self.config.domain,
            to: &message.mail_from,
            envid: message.envid.as_deref(),
            ret: message.ret.as_deref(),
            arrival: message.created_at,
            retry_until: (action == Action::Delayed).then_some(message.created_at + lifetime),
            recipients: &reports,
            original: &original,
        };
        let raw = dsn::build(&report, now());
        let Ok(sender) = EmailAddress::parse(&message.mail_from) else {
            tracing::warn!(id = message.id, from = %message.mail_from, "sender address unusable; no notification");
            return true;
        };
        let envelope = Envelope {
            mail_from: None,
            recipients: vec![sender],
            dsn: None,
        };
        match self.core.deliver(&envelope, raw).await {
            Ok(_) => {
                tracing::info!(id = message.id, to = %message.mail_from, ?action, recipients = reports.len(), "notification sent");
                true
            }
            Err(e) if matches!(e.kind, ErrorKind::Temporary | ErrorKind::Internal) => {
                tracing::warn!(id = message.id, error = %e, "notification not delivered; will retry");
                false
            }
            Err(e) => {
                tracing::warn!(id = message.id, error = %e, "notification undeliverable; dropped");
                true
            }
        }
    }

    /// Bounces a crash left unsent, and delay notices.
    async fn sweep(&self) {
        // One node at a time looks for failures to report and delays to notify.
        let _job = match self.core.try_job(hopthu_core::Job::QueueSweep).await {
            Ok(Some(guard)) => guard,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot take the queue sweep's lock");
                return;
            }
        };
        let messages = match self.core.queued_messages().await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the queue");
                return;
            }
        };
        let now = now();
        let notice_after = self.config.outbound.delay_notice.as_secs() as i64;
        for message in messages {
            if message
                .recipients
                .iter()
                .any(|r| r.state == RecipientState::Failed)
            {
                self.report_failures(message.id).await;
            }
            if message.delay_notified
                || message.mail_from.is_empty()
                || now - message.created_at < notice_after
            {
                continue;
            }
            let delayed: Vec<&QueuedRecipient> = message
                .recipients
                .iter()
                .filter(|r| {
                    r.state == RecipientState::Pending
                        && r.attempts > 0
                        && notify_allows(r, "DELAY")
                })
                .collect();
            if delayed.is_empty() {
                continue;
            }
            if self.notify(&message, &delayed, Action::Delayed).await
                && let Err(e) = self.core.set_delay_notified(message.id).await
            {
                tracing::warn!(id = message.id, error = %e, "cannot record the delay notice");
            }
        }
    }
}

/// Tries each host in order; the first connection that opens wins.
async fn open(hosts: &[dns::Host], settings: &ClientSettings) -> Result<Connection, Failure> {
    let mut last = None;
    for host in hosts {
        match Connection::open(host, settings).await {
            Ok(c) => return Ok(c),
            Err(f) => last = Some(f),
        }
    }
    Err(last.unwrap_or_else(|| Failure::temporary("4.4.1", "No host to connect to")))
}

fn conn_host(connection: &Option<Connection>, hosts: &[dns::Host]) -> String {
    connection
        .as_ref()
        .map(|c| c.host.clone())
        .or_else(|| hosts.first().map(|h| h.name.clone()))
        .unwrap_or_default()
}

/// RFC 3461 §4.1: NOTIFY=NEVER asks for nothing; a list asks for what it names; without
/// NOTIFY, failures and delays are reported.
fn notify_allows(r: &QueuedRecipient, what: &str) -> bool {
    match &r.notify {
        None => true,
        Some(list) => list
            .split(',')
            .any(|item| item.trim().eq_ignore_ascii_case(what)),
    }
}

/// `"5.1.1 text"` → (`"5.1.1"`, `"text"`); without a leading status, `4.0.0`.
fn strip_status(s: &str) -> (&str, &str) {
    if let Some((first, rest)) = s.split_once(' ') {
        let parts: Vec<&str> = first.split('.').collect();
        if parts.len() == 3
            && matches!(parts[0], "2" | "4" | "5")
            && parts[1..]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            return (first, rest);
        }
    }
    ("4.0.0", s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_prefix() {
        assert_eq!(strip_status("5.1.1 mx said: no"), ("5.1.1", "mx said: no"));
        assert_eq!(strip_status("timeout"), ("4.0.0", "timeout"));
        assert_eq!(strip_status("5.x.1 a"), ("4.0.0", "5.x.1 a"));
    }

    #[test]
    fn notify_lists() {
        let mut r = QueuedRecipient {
            address: "a@b.c".into(),
            domain: "b.c".into(),
            state: RecipientState::Pending,
            attempts: 0,
            next_attempt_at: 0,
            last_error: None,
            remote_mta: None,
            notify: None,
            orcpt: None,
            updated_at: 0,
            lease_owner: None,
        };
        assert!(notify_allows(&r, "FAILURE") && notify_allows(&r, "DELAY"));
        r.notify = Some("NEVER".into());
        assert!(!notify_allows(&r, "FAILURE"));
        r.notify = Some("SUCCESS,FAILURE".into());
        assert!(notify_allows(&r, "FAILURE") && !notify_allows(&r, "DELAY"));
    }
}
