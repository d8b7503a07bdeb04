//! The outbound queue as a service: what the queue runner (`hopthu-mta`) and the operator's
//! `hopthu queue` commands share. Entries are created by [`Core::deliver`] for recipients in
//! other domains; the runner takes the due ones, records each recipient's outcome, and sends
//! bounces and delay notices through [`Core::deliver`] like any other mail.
//!
//! **Invariants**
//! - Queue state lives in the store only, so it survives restarts and SIGKILL; the runner keeps
//!   nothing in memory that it cannot rebuild from the store.
//! - A recipient is recorded as delivered right after the remote server's 250, in its own
//!   commit, so a crash after that point never sends it again.

use hopthu_store::BlobId;
pub use hopthu_store::{
    QueueDsn, QueuedMessage, QueuedRecipient, RecipientDsn, RecipientState, RecipientUpdate,
};

use crate::{Core, Error, Result, now};

impl Core {
    /// Every queued message with its recipients (`hopthu queue list`).
    pub async fn queued_messages(&self) -> Result<Vec<QueuedMessage>> {
        Ok(self.store.queued_messages().await?)
    }

    /// One queued message (`hopthu queue show`).
    pub async fn queued_message(&self, id: i64) -> Result<QueuedMessage> {
        self.store
            .queued_message(id)
            .await?
            .ok_or_else(|| Error::not_found(format!("no queued message {id}")))
    }

    /// Makes a queued message due now (`hopthu queue retry`). A running server picks it up at
    /// its next poll (`outbound.poll_interval`).
    pub async fn retry_queued(&self, id: i64) -> Result<()> {
        if !self.store.retry_queued(id, now()).await? {
            return Err(Error::not_found(format!("no queued message {id}")));
        }
        self.queue_wake.notify_one();
        Ok(())
    }

    /// Drops a queued message without sending it or a bounce (`hopthu queue delete`).
    pub async fn delete_queued(&self, id: i64) -> Result<()> {
        if !self.store.delete_queued(id).await? {
            return Err(Error::not_found(format!("no queued message {id}")));
        }
        Ok(())
    }

    /// Takes up to `limit` recipients due at `now` for this node, for `[outbound]
    /// claim_lease` (for the runner): their messages, with every recipient; this node sends
    /// to those whose `lease_owner` is [`Core::node_id`]. No other node takes them meanwhile.
    pub async fn claim_queued_work(&self, now: i64, limit: u32) -> Result<Vec<QueuedMessage>> {
        let until = now + self.config.outbound.claim_lease.as_secs() as i64;
        Ok(self
            .store
            .claim_queued(now, limit, &self.node_id, until)
            .await?)
    }

    /// Gives back recipients this node took: all (at start, after a crash) or one message's
    /// (taken but not sent now). Returns how many.
    pub async fn release_claimed_queue(&self, queue_id: Option<i64>) -> Result<u64> {
        Ok(self.store.release_queued(&self.node_id, queue_id).await?)
    }

    /// Records recipient outcomes durably; returns after commit.
    pub async fn update_queue_recipients(&self, updates: &[RecipientUpdate]) -> Result<()> {
        Ok(self.store.update_queue_recipients(updates).await?)
    }

    pub async fn set_delay_notified(&self, id: i64) -> Result<()> {
        Ok(self.store.set_delay_notified(id).await?)
    }

    /// When the next pending recipient is due (Unix seconds).
    pub async fn next_queue_attempt(&self) -> Result<Option<i64>> {
        Ok(self.store.next_queue_attempt().await?)
    }

    /// The stored bytes of a queued message.
    pub async fn queued_content(&self, blob: &BlobId) -> Result<Vec<u8>> {
        Ok(self.store.blobs().get(blob).await?)
    }

    /// Resolves when mail was queued or a retry was asked for in this process.
    pub async fn queue_signalled(&self) {
        self.queue_wake.notified().await
    }
}
