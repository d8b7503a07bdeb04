//! Group commit of the frequent writes: deliveries and APPEND, STORE, COPY, MOVE and EXPUNGE,
//! and the two rows of a sign-in (its history row and the account's last access) ([`Work`])
//! share one `COMMIT`, i.e. one WAL fsync (one WAL flush on PostgreSQL).
//!
//! [`Backend::deliver`], `store_flags`, `copy_messages`, `move_messages`, `expunge`,
//! `record_sign_in` and `record_access` hand their [`Work`] to one writer task through a
//! channel and wait. The task takes every write
//! waiting at that moment (up to [`MAX_BATCH`]), runs them in order in one transaction,
//! commits, and only then answers each waiter. One failing write (a mailbox deleted meanwhile)
//! must not fail the others: the batch first runs without savepoints (the common case, fewer
//! statements); if a write fails, the whole transaction is rolled back and the batch runs again
//! with each write inside its own `SAVEPOINT`, so only the failing one is rolled back. While a
//! batch is being committed the next writes queue up in the channel, so the batch size follows
//! the load by itself: a lone write commits at once, a busy server shares each fsync between
//! many (a login storm's LOGINs, STORE and EXPUNGE no longer wait for an fsync each).
//!
//! **Invariant**: a waiter gets `Ok` only after the `COMMIT` holding its rows has returned.
//! A batch holding mail (a delivery or an APPEND) commits with the WAL fsynced
//! (`synchronous=FULL`; on PostgreSQL `synchronous_commit` on), so "250" still means "on
//! disk". A batch of nothing but the state of mail already kept (STORE, EXPUNGE, COPY, MOVE,
//! sign-in history) commits without waiting for the disk (`dialect::BEGIN_WRITE_UNSYNCED`),
//! as Dovecot does not fsync flag changes: it is atomic and survives a crash of the process,
//! and only a power cut may take back its last fraction of a second (a flag, an expunged
//! message coming back; never a message lost). The next synced commit makes it durable too.
//! Every other write of the store uses the same single writer connection, so batches and
//! other writes serialise.
//!
//! On SQLite the fsync of a mail batch happens after the write lock is released: the batch
//! commits with `synchronous=NORMAL` (its frames are written to the WAL, not yet synced),
//! the writer goes on with the next batch, and a syncer task fsyncs the WAL file and only
//! then answers the batch's waiters. That is the very guarantee of `synchronous=FULL` (the
//! WAL synced after the commit; a checkpoint syncs the WAL before and the database after,
//! so frames a checkpoint took are durable in the database file), without holding up the
//! writes queued behind a slow disk; one fsync answers every batch committed before it
//! started. PostgreSQL flushes its WAL at the commit itself (with its own group commit).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hopthu_model::{AccountId, FlagOp, Flags, MailboxId, Uid};
use sqlx::Pool;
use tokio::sync::{mpsc, oneshot};

use super::mail;
use super::{Db, Tx, dialect, queue, text_index};
use crate::search::SearchText;
use crate::types::{Delivery, QueueEntry, StoreFlagsOutcome};
use crate::{BlobId, QueueDsn, Result, SignInRecord, StoreError};

/// Most writes one transaction takes; more wait for the next one.
pub(super) const MAX_BATCH: usize = 256;

/// What a write's waiter receives.
type Answer = Result<Done>;

/// One write with everything owned, so it can travel to the writer task. Each runs inside the
/// shared transaction (and may run twice: see [`run`]), so it only reads and writes rows.
pub(super) enum Work {
    /// Local delivery or IMAP APPEND: the blob reference, its text, one row per target
    /// mailbox, the queue entry.
    Deliver {
        blob: BlobId,
        size: u32,
        internal_date: i64,
        targets: Vec<(MailboxId, Flags)>,
        queue: Vec<(String, Vec<String>, Option<QueueDsn>)>,
        received: bool,
        /// Boxed: the text is large and the other kinds of work are small.
        text: Option<Box<SearchText>>,
    },
    /// IMAP STORE, the webmail's flag changes.
    StoreFlags {
        mailbox: MailboxId,
        uids: Vec<Uid>,
        op: FlagOp,
        flags: Flags,
        unchanged_since: Option<u64>,
    },
    Copy {
        source: MailboxId,
        uids: Vec<Uid>,
        target: MailboxId,
    },
    Move {
        source: MailboxId,
        uids: Vec<Uid>,
        target: MailboxId,
    },
    Expunge {
        mailbox: MailboxId,
        uids: Option<Vec<Uid>>,
    },
    /// A row of sign-in history (and the pruning of the account's rows older than
    /// [`crate::SIGN_IN_HISTORY_DAYS`]).
    SignIn(SignInRecord),
    /// The time of a successful sign-in as the account's last access (written at most once
    /// per [`crate::ACCESS_RECORD_INTERVAL`]: the caller skips it otherwise).
    Access { account: AccountId, at: i64 },
    /// A session claims a mailbox's messages up to `upto` as `\Recent` (`claim_recent`).
    ClaimRecent { mailbox: MailboxId, upto: Uid },
}

/// What a [`Work`] gave.
pub(super) enum Done {
    /// The UID given in each target mailbox.
    Delivered(Vec<(MailboxId, Uid)>),
    Flags(StoreFlagsOutcome),
    /// (source UID, new UID) of COPY and MOVE.
    Pairs(Vec<(Uid, Uid)>),
    Expunged(Vec<Uid>),
    /// A sign-in row or a last access written.
    Recorded,
    /// The `\Recent` mark of the mailbox before the claim.
    Recent(u32),
}

impl Done {
    /// The error for an answer of the wrong kind (cannot happen: each work has one kind).
    pub(super) fn unexpected(&self) -> StoreError {
        StoreError::Corrupt("group commit answered with another kind of result".into())
    }
}

impl Work {
    /// Whether the work's commit must wait for the disk: mail does, the state of mail
    /// already kept does not (see the module's invariant).
    fn is_mail(&self) -> bool {
        matches!(self, Work::Deliver { .. })
    }

    pub(super) fn deliver(d: &Delivery<'_>, text: Option<&SearchText>) -> Work {
        Work::Deliver {
            blob: d.blob.clone(),
            size: d.size,
            internal_date: d.internal_date,
            targets: d.targets.to_vec(),
            queue: d
                .queue
                .iter()
                .map(|q| {
                    (
                        q.mail_from.to_string(),
                        q.recipients.to_vec(),
                        q.dsn.cloned(),
                    )
                })
                .collect(),
            received: d.received,
            text: text.cloned().map(Box::new),
        }
    }

    /// Runs the work inside `tx`.
    async fn run(&self, tx: &mut Tx) -> Result<Done> {
        match self {
            Work::Deliver {
                blob,
                size,
                internal_date,
                targets,
                queue,
                received,
                text,
            } => {
                let queue: Vec<QueueEntry<'_>> = queue
                    .iter()
                    .map(|(mail_from, recipients, dsn)| QueueEntry {
                        mail_from,
                        recipients,
                        dsn: dsn.as_ref(),
                    })
                    .collect();
                let delivery = Delivery {
                    blob,
                    size: *size,
                    internal_date: *internal_date,
                    targets,
                    queue: &queue,
                    received: *received,
                };
                insert_rows(tx, &delivery, text.as_deref())
                    .await
                    .map(Done::Delivered)
            }
            Work::StoreFlags {
                mailbox,
                uids,
                op,
                flags,
                unchanged_since,
            } => mail::store_flags_in(tx, *mailbox, uids, *op, flags, *unchanged_since)
                .await
                .map(Done::Flags),
            Work::Copy {
                source,
                uids,
                target,
            } => mail::copy_in(tx, *source, uids, *target)
                .await
                .map(Done::Pairs),
            Work::Move {
                source,
                uids,
                target,
            } => mail::move_in(tx, *source, uids, *target)
                .await
                .map(Done::Pairs),
            Work::Expunge { mailbox, uids } => mail::expunge_in(tx, *mailbox, uids.as_deref())
                .await
                .map(Done::Expunged),
            Work::SignIn(record) => insert_sign_in(tx, record).await.map(|()| Done::Recorded),
            Work::Access { account, at } => update_last_access(tx, *account, *at)
                .await
                .map(|()| Done::Recorded),
            Work::ClaimRecent { mailbox, upto } => mail::claim_recent_in(tx, *mailbox, *upto)
                .await
                .map(Done::Recent),
        }
    }
}

/// A [`Work`] and the waiter to answer once its transaction has committed.
pub(super) struct WriteJob {
    work: Work,
    reply: oneshot::Sender<Answer>,
}

impl WriteJob {
    pub(super) fn new(work: Work) -> (WriteJob, oneshot::Receiver<Answer>) {
        let (reply, answer) = oneshot::channel();
        (WriteJob { work, reply }, answer)
    }
}

/// Counters of the writer task (read by tests and available for metrics).
#[derive(Default)]
pub(super) struct GroupStats {
    /// Writes handed to the writer.
    pub(super) submitted: AtomicU64,
    /// Transactions committed by the writer.
    pub(super) commits: AtomicU64,
    /// fsyncs of SQLite's WAL by the syncer (mail batches committed before each).
    pub(super) wal_syncs: AtomicU64,
}

/// The writer task: runs until every sender is gone (the store is dropped). `wal` is SQLite's
/// WAL file, which mail batches leave to the syncer (see the module's comment); `None` on
/// PostgreSQL, whose mail batches are durable at their commit.
pub(super) async fn run(
    write: Pool<Db>,
    mut jobs: mpsc::Receiver<WriteJob>,
    stats: Arc<GroupStats>,
    wal: Option<PathBuf>,
) {
    let syncer = wal.map(|wal| {
        let (to_sync, synced) = mpsc::unbounded_channel();
        tokio::spawn(sync_wal(wal, synced, stats.clone()));
        to_sync
    });
    let mut waiting = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut waiting, MAX_BATCH).await > 0 {
        // The state of kept mail first, in a commit that does not wait for the disk, then the
        // mail in one that does: a STORE waits for the writes queued before it, not also for
        // an APPEND's fsync. Writes waiting together come from different sessions (a session
        // waits for each of its writes), so none depends on another's order.
        let (mut light, mut mail): (Vec<_>, Vec<_>) =
            waiting.drain(..).partition(|j| !j.work.is_mail());
        commit(&write, &mut light, &stats, None).await;
        commit(&write, &mut mail, &stats, syncer.as_ref()).await;
    }
}

/// Answers that wait for the WAL's fsync.
type Unsynced = Vec<(oneshot::Sender<Answer>, Answer)>;

/// The syncer: fsyncs the WAL once for every batch committed before the fsync started, then
/// answers their waiters (an error to each if the fsync failed: their rows are committed but
/// may not be on disk, so a sender must not take them as kept).
async fn sync_wal(
    wal: PathBuf,
    mut synced: mpsc::UnboundedReceiver<Unsynced>,
    stats: Arc<GroupStats>,
) {
    let mut batches = Vec::new();
    while synced.recv_many(&mut batches, usize::MAX).await > 0 {
        let path = wal.clone();
        // Opened each time: the file SQLite writes now, whatever happened to it before.
        let outcome = tokio::task::spawn_blocking(move || {
            std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|f| f.sync_data())
        })
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        stats.wal_syncs.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = &outcome {
            tracing::error!(error = %e, "fsync of the WAL failed");
        }
        for (reply, answer) in batches.drain(..).flatten() {
            let answer = match &outcome {
                Ok(()) => answer,
                Err(e) => Err(StoreError::io(
                    "fsync of the WAL",
                    std::io::Error::new(e.kind(), e.to_string()),
                )),
            };
            // A waiter that went away (its connection dropped) is not an error.
            let _ = reply.send(answer);
        }
    }
}

/// Commits `batch` (if any) in one transaction and answers each waiter, or, with `syncer`,
/// leaves the answers to it (mail on SQLite, see the module's comment); empties `batch`.
async fn commit(
    write: &Pool<Db>,
    batch: &mut Vec<WriteJob>,
    stats: &GroupStats,
    syncer: Option<&mpsc::UnboundedSender<Unsynced>>,
) {
    if batch.is_empty() {
        return;
    }
    let begin = match (batch.iter().any(|job| job.work.is_mail()), syncer) {
        (true, None) => dialect::BEGIN_WRITE,
        // Light, or synced by the syncer once committed.
        _ => dialect::BEGIN_WRITE_UNSYNCED,
    };
    // Optimistically without savepoints (two statements fewer per delivery); a batch in
    // which one delivery fails is rolled back whole and run again with a savepoint each.
    let outcome = match run_batch(write, batch, begin, false).await {
        Err(BatchError::OneFailed) => run_batch(write, batch, begin, true).await,
        other => other,
    };
    match outcome.map_err(|e| match e {
        BatchError::Store(e) => e,
        BatchError::OneFailed => StoreError::Corrupt("write failed outside a savepoint".into()),
    }) {
        Ok(results) => {
            stats.commits.fetch_add(1, Ordering::Relaxed);
            let answers: Unsynced = batch.drain(..).map(|j| j.reply).zip(results).collect();
            if let Some(syncer) = syncer {
                if let Err(unsent) = syncer.send(answers) {
                    // The syncer ended (it cannot while this task holds its sender, unless
                    // it panicked): nobody will sync these, so none of them is kept.
                    for (reply, _) in unsent.0 {
                        let _ = reply.send(Err(stopped_syncer()));
                    }
                }
                return;
            }
            for (reply, answer) in answers {
                // A waiter that went away (its connection dropped) is not an error.
                let _ = reply.send(answer);
            }
        }
        Err(e) => {
            // Nothing of the batch is committed: every waiter learns it.
            let message = e.to_string();
            tracing::error!(error = %message, writes = batch.len(), "group commit failed");
            for job in batch.drain(..) {
                let _ = job.reply.send(Err(StoreError::io(
                    "group commit",
                    std::io::Error::other(message.clone()),
                )));
            }
        }
    }
}

fn stopped_syncer() -> StoreError {
    StoreError::io(
        "fsync of the WAL",
        std::io::Error::other("the WAL syncer stopped"),
    )
}

/// Why a batch was not committed.
enum BatchError {
    /// A delivery failed while running without savepoints: nothing is committed, run the
    /// batch again with them.
    OneFailed,
    Store(StoreError),
}

impl From<sqlx::Error> for BatchError {
    fn from(e: sqlx::Error) -> Self {
        BatchError::Store(e.into())
    }
}

/// One transaction for the whole batch; an `Err` means nothing was committed. With
/// `savepoints`, each delivery runs inside its own and a failing one is rolled back alone.
async fn run_batch(
    write: &Pool<Db>,
    batch: &[WriteJob],
    begin: &'static str,
    savepoints: bool,
) -> std::result::Result<Vec<Answer>, BatchError> {
    let mut tx = write.begin_with(begin).await?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        if !savepoints {
            match job.work.run(&mut tx).await {
                Ok(done) => results.push(Ok(done)),
                // Dropping `tx` rolls the whole batch back.
                Err(_) => return Err(BatchError::OneFailed),
            }
            continue;
        }
        sqlx::query("SAVEPOINT write").execute(&mut *tx).await?;
        match job.work.run(&mut tx).await {
            Ok(done) => {
                sqlx::query("RELEASE SAVEPOINT write")
                    .execute(&mut *tx)
                    .await?;
                results.push(Ok(done));
            }
            Err(e) => {
                sqlx::query("ROLLBACK TO SAVEPOINT write")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("RELEASE SAVEPOINT write")
                    .execute(&mut *tx)
                    .await?;
                results.push(Err(e));
            }
        }
    }
    tx.commit().await?;
    Ok(results)
}

/// The rows of one delivery: the blob reference, its searchable text, one message per target
/// mailbox (the triggers index it and count it in the mailbox's usage) and the queue entry.
pub(super) async fn insert_rows(
    tx: &mut Tx,
    d: &Delivery<'_>,
    text: Option<&SearchText>,
) -> Result<Vec<(MailboxId, Uid)>> {
    let references = (d.targets.len() + d.queue.len()) as i64;
    sqlx::query(
        "INSERT INTO blobs (hash, size, refcount) VALUES ($1, $2, $3)
         ON CONFLICT (hash) DO UPDATE SET refcount = blobs.refcount + excluded.refcount",
    )
    .bind(d.blob.as_str())
    .bind(i64::from(d.size))
    .bind(references)
    .execute(&mut **tx)
    .await?;
    if let Some(text) = text {
        // Indexed by the insert trigger with each message row below.
        text_index::insert_text(tx, d.blob, text).await?;
    }
    let mut uids = Vec::with_capacity(d.targets.len());
    let day = crate::ledger_day(super::now());
    let mut counted = Vec::new();
    for (target, flags) in d.targets {
        let flags = flags.to_storage();
        let uid =
            mail::insert_message(tx, *target, d.blob, d.size, d.internal_date, &flags).await?;
        uids.push((*target, uid));
        if d.received {
            // The Đ17 ledger: mail received, counted with the delivery.
            super::ledger::count_received(tx, *target, day, &mut counted).await?;
        }
    }
    for q in d.queue {
        queue::insert(tx, d.blob, q).await?;
    }
    Ok(uids)
}

/// One row of sign-in history; the account's rows older than [`crate::SIGN_IN_HISTORY_DAYS`]
/// go at the same time (by the `(account_id, at)` index, so each sign-in prunes a few rows at
/// most). An account that is gone fails this write alone (the foreign key).
async fn insert_sign_in(tx: &mut Tx, s: &SignInRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO sign_ins (account_id, at, via, ip, result) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(s.account.0)
    .bind(s.at)
    .bind(&s.via)
    .bind(&s.ip)
    .bind(&s.result)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM sign_ins WHERE account_id = $1 AND at < $2")
        .bind(s.account.0)
        .bind(s.at - crate::SIGN_IN_HISTORY_DAYS * 86_400)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// `accounts.last_access_at` of a successful sign-in (see [`crate::ACCESS_RECORD_INTERVAL`]).
async fn update_last_access(tx: &mut Tx, account: AccountId, at: i64) -> Result<()> {
    sqlx::query("UPDATE accounts SET last_access_at = $1 WHERE id = $2")
        .bind(at)
        .bind(account.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
