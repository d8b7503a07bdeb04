//! Group commit of deliveries: many messages share one SQLite `COMMIT`, i.e. one WAL fsync.
//!
//! [`Backend::deliver`] hands its rows to one writer task through a channel and waits. The
//! task takes every delivery waiting at that moment (up to [`MAX_BATCH`]), runs them in one
//! `BEGIN IMMEDIATE` transaction, commits, and only then answers each waiter. One failing
//! delivery (a mailbox deleted meanwhile) must not fail the others: the batch first runs
//! without savepoints (the common case, fewer statements); if a delivery fails, the whole
//! transaction is rolled back and the batch runs again with each delivery inside its own
//! `SAVEPOINT`, so only the failing one is rolled back. While a batch is being committed the next deliveries queue up in the channel, so the
//! batch size follows the load by itself: a lone delivery commits at once, a busy server shares
//! each fsync between many.
//!
//! **Invariant**: a waiter gets `Ok` only after the `COMMIT` holding its rows has returned
//! (`synchronous=FULL`: the WAL is fsynced), so "250" still means "on disk". Every other write
//! of the store uses the same single writer connection, so batches and other writes serialise.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hopthu_model::{Flags, MailboxId, Uid};
use sqlx::Pool;
use tokio::sync::{mpsc, oneshot};

use super::mail::next_uid;
use super::{Db, Tx, dialect, queue, text_index};
use crate::search::SearchText;
use crate::types::{Delivery, QueueEntry};
use crate::{BlobId, QueueDsn, Result, StoreError};

/// Most deliveries one transaction takes; more wait for the next one.
pub(super) const MAX_BATCH: usize = 256;

/// What a delivery's waiter receives: the UID given in each target mailbox.
type Answer = Result<Vec<(MailboxId, Uid)>>;

/// One delivery with everything owned, so it can travel to the writer task.
pub(super) struct DeliveryJob {
    blob: BlobId,
    size: u32,
    internal_date: i64,
    flags: Flags,
    targets: Vec<MailboxId>,
    queue: Option<(String, Vec<String>, Option<QueueDsn>)>,
    text: Option<SearchText>,
    reply: oneshot::Sender<Answer>,
}

impl DeliveryJob {
    pub(super) fn new(
        d: &Delivery<'_>,
        text: Option<&SearchText>,
    ) -> (DeliveryJob, oneshot::Receiver<Answer>) {
        let (reply, answer) = oneshot::channel();
        let job = DeliveryJob {
            blob: d.blob.clone(),
            size: d.size,
            internal_date: d.internal_date,
            flags: d.flags.clone(),
            targets: d.targets.to_vec(),
            queue: d.queue.as_ref().map(|q| {
                (
                    q.mail_from.to_string(),
                    q.recipients.to_vec(),
                    q.dsn.cloned(),
                )
            }),
            text: text.cloned(),
            reply,
        };
        (job, answer)
    }
}

/// Counters of the writer task (read by tests and available for metrics).
#[derive(Default)]
pub(super) struct GroupStats {
    /// Deliveries handed to the writer.
    pub(super) submitted: AtomicU64,
    /// Transactions committed by the writer.
    pub(super) commits: AtomicU64,
}

/// The writer task: runs until every sender is gone (the store is dropped).
pub(super) async fn run(
    write: Pool<Db>,
    mut jobs: mpsc::Receiver<DeliveryJob>,
    stats: Arc<GroupStats>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // Optimistically without savepoints (two statements fewer per delivery); a batch in
        // which one delivery fails is rolled back whole and run again with a savepoint each.
        let outcome = match run_batch(&write, &batch, false).await {
            Err(BatchError::OneFailed) => run_batch(&write, &batch, true).await,
            other => other,
        };
        match outcome.map_err(|e| match e {
            BatchError::Store(e) => e,
            BatchError::OneFailed => {
                StoreError::Corrupt("delivery failed outside a savepoint".into())
            }
        }) {
            Ok(results) => {
                stats.commits.fetch_add(1, Ordering::Relaxed);
                for (job, result) in batch.drain(..).zip(results) {
                    // A waiter that went away (its connection dropped) is not an error.
                    let _ = job.reply.send(result);
                }
            }
            Err(e) => {
                // Nothing of the batch is committed: every waiter learns it.
                let message = e.to_string();
                tracing::error!(error = %message, deliveries = batch.len(), "group commit failed");
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(StoreError::io(
                        "group commit",
                        std::io::Error::other(message.clone()),
                    )));
                }
            }
        }
    }
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
    batch: &[DeliveryJob],
    savepoints: bool,
) -> std::result::Result<Vec<Answer>, BatchError> {
    let mut tx = write.begin_with(dialect::BEGIN_WRITE).await?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        let queue = job
            .queue
            .as_ref()
            .map(|(mail_from, recipients, dsn)| QueueEntry {
                mail_from,
                recipients,
                dsn: dsn.as_ref(),
            });
        let delivery = Delivery {
            blob: &job.blob,
            size: job.size,
            internal_date: job.internal_date,
            flags: &job.flags,
            targets: &job.targets,
            queue,
        };
        if !savepoints {
            match insert_rows(&mut tx, &delivery, job.text.as_ref()).await {
                Ok(uids) => results.push(Ok(uids)),
                // Dropping `tx` rolls the whole batch back.
                Err(_) => return Err(BatchError::OneFailed),
            }
            continue;
        }
        sqlx::query("SAVEPOINT delivery").execute(&mut *tx).await?;
        match insert_rows(&mut tx, &delivery, job.text.as_ref()).await {
            Ok(uids) => {
                sqlx::query("RELEASE SAVEPOINT delivery")
                    .execute(&mut *tx)
                    .await?;
                results.push(Ok(uids));
            }
            Err(e) => {
                sqlx::query("ROLLBACK TO SAVEPOINT delivery")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("RELEASE SAVEPOINT delivery")
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
    let references = d.targets.len() as i64 + i64::from(d.queue.is_some());
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
    let flags = d.flags.to_storage();
    let mut uids = Vec::with_capacity(d.targets.len());
    for target in d.targets {
        let (uid, modseq) = next_uid(tx, *target).await?;
        sqlx::query(
            "INSERT INTO messages (mailbox_id, uid, blob_hash, size, internal_date, flags, modseq, added_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(target.0)
        .bind(i64::from(uid.0))
        .bind(d.blob.as_str())
        .bind(i64::from(d.size))
        .bind(d.internal_date)
        .bind(&flags)
        .bind(modseq as i64)
        .bind(super::now())
        .execute(&mut **tx)
        .await?;
        uids.push((*target, uid));
    }
    if let Some(q) = &d.queue {
        queue::insert(tx, d.blob, q).await?;
    }
    Ok(uids)
}
