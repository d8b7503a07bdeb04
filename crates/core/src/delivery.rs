//! Local delivery and the outbound queue: what SMTP (and later the webmail) hands over once a
//! message has been received.
//!
//! **Invariant**: [`Core::deliver`] returns only after the blob is fsynced and the index
//! committed; the caller answers "250" after that and never before. A message for many local
//! recipients is stored once: one blob, one row per recipient mailbox.

use std::sync::Arc;

use hopthu_model::{EmailAddress, Flags, MailboxId};
use hopthu_store::{AccountState, Delivery, QueueEntry, QueueRecord};

use crate::{Core, Error, Result, now};

/// The SMTP envelope.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// `None` is the null reverse-path `<>` of bounces.
    pub mail_from: Option<EmailAddress>,
    pub recipients: Vec<EmailAddress>,
}

/// What to answer at RCPT TO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientVerdict {
    /// A mailbox of ours that accepts mail.
    Local,
    /// Our domain, but no such mailbox (550 5.1.1).
    UnknownLocal,
    /// Our domain, a revoked mailbox (550 5.2.1).
    Disabled,
    /// Another domain: relayed for authenticated senders only.
    Remote,
}

/// Where a delivered message went.
#[derive(Debug, Clone, Default)]
pub struct DeliveryReport {
    pub local: Vec<EmailAddress>,
    pub queued: Vec<EmailAddress>,
}

impl Core {
    /// True when the address is in a domain this server owns.
    pub fn is_local_domain(&self, address: &EmailAddress) -> bool {
        address.is_in_domain(&self.config.domain)
    }

    /// Decides a recipient at RCPT time.
    pub async fn check_recipient(&self, rcpt: &EmailAddress) -> Result<RecipientVerdict> {
        if !self.is_local_domain(rcpt) {
            return Ok(RecipientVerdict::Remote);
        }
        Ok(
            match self.store.account_by_address(&rcpt.to_string()).await? {
                None => RecipientVerdict::UnknownLocal,
                Some(a) if a.state != AccountState::Active => RecipientVerdict::Disabled,
                Some(_) => RecipientVerdict::Local,
            },
        )
    }

    /// Stores a received message durably: once as a blob, then in the INBOX of every local
    /// recipient and in the outbound queue for the others, in one transaction.
    pub async fn deliver(&self, envelope: &Envelope, raw: Vec<u8>) -> Result<DeliveryReport> {
        let size = self.check_size(raw.len())?;
        let mut report = DeliveryReport::default();
        let mut targets: Vec<(hopthu_model::AccountId, MailboxId)> = Vec::new();
        for rcpt in &envelope.recipients {
            if !self.is_local_domain(rcpt) {
                if !report.queued.contains(rcpt) {
                    report.queued.push(rcpt.clone());
                }
                continue;
            }
            let account = self
                .store
                .account_by_address(&rcpt.to_string())
                .await?
                .filter(|a| a.state == AccountState::Active)
                .ok_or_else(|| Error::not_found(format!("{rcpt}: no such mailbox")))?;
            let inbox = self
                .store
                .mailbox_by_name(account.id, "INBOX")
                .await?
                .ok_or_else(|| Error::not_found(format!("{rcpt}: no INBOX")))?;
            if !targets.iter().any(|(_, m)| *m == inbox.id) {
                targets.push((account.id, inbox.id));
                report.local.push(rcpt.clone());
            }
        }
        let blob = self.store.blobs().put(Arc::new(raw)).await?;
        let mail_from = envelope
            .mail_from
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let queued: Vec<String> = report.queued.iter().map(ToString::to_string).collect();
        let mailbox_ids: Vec<MailboxId> = targets.iter().map(|(_, m)| *m).collect();
        self.store
            .deliver(&Delivery {
                blob: &blob,
                size,
                internal_date: now(),
                flags: &Flags::new(),
                targets: &mailbox_ids,
                queue: (!queued.is_empty()).then_some(QueueEntry {
                    mail_from: &mail_from,
                    recipients: &queued,
                }),
            })
            .await?;
        for (account, mailbox) in targets {
            self.notify(account, mailbox);
        }
        Ok(report)
    }

    /// The outbound queue (`hopthu queue list` comes with the MTA issue).
    pub async fn queue(&self) -> Result<Vec<QueueRecord>> {
        Ok(self.store.queue().await?)
    }
}
