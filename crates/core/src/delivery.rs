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
    /// DSN parameters (RFC 3461); `recipients` of it align with `recipients` above.
    pub dsn: Option<crate::QueueDsn>,
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
    /// Our domain, a mailbox over its quota (452 4.2.2: the sender keeps the message and
    /// retries).
    Full,
    /// Another domain: relayed for authenticated senders only.
    Remote,
    /// Our domain, a group that does not take mail from this sender (550 5.7.1, with why).
    Refused(crate::GroupRefusal),
}

/// The envelope's recipients resolved for a delivery ([`Core::delivery_targets`]).
#[derive(Debug, Default)]
struct DeliveryTargets {
    /// (account, INBOX) of every local mailbox, each once.
    local: Vec<(hopthu_model::AccountId, MailboxId)>,
    /// The local recipients that reached at least one mailbox not reached before.
    reached: Vec<EmailAddress>,
    /// The other domains' recipients, each once.
    queued: Vec<EmailAddress>,
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

    /// Decides a recipient at RCPT time; `sender` matters only for a group, whose senders
    /// may be restricted ([`Core::group_sender_refusal`]).
    pub async fn check_recipient(
        &self,
        rcpt: &EmailAddress,
        sender: crate::SenderContext<'_>,
    ) -> Result<RecipientVerdict> {
        if !self.is_local_domain(rcpt) {
            return Ok(RecipientVerdict::Remote);
        }
        Ok(
            // An alias (soittt@ → sotttt@) answers like its target.
            match self.resolve_local(rcpt).await? {
                None => match self.group_at(rcpt).await? {
                    Some(group) => self.check_group_recipient(&group, sender).await?,
                    None => RecipientVerdict::UnknownLocal,
                },
                Some(a) if a.state != AccountState::Active => RecipientVerdict::Disabled,
                Some(a) if self.is_full(a.id).await? => RecipientVerdict::Full,
                Some(_) => RecipientVerdict::Local,
            },
        )
    }

    /// A group answers `Local` when it takes mail from `sender` and has a member now.
    async fn check_group_recipient(
        &self,
        group: &hopthu_store::GroupRecord,
        sender: crate::SenderContext<'_>,
    ) -> Result<RecipientVerdict> {
        if let Some(refusal) = self.group_sender_refusal(group, sender).await? {
            return Ok(RecipientVerdict::Refused(refusal));
        }
        if self.group_member_accounts(group).await?.is_empty() {
            let g = &group.address;
            return Ok(RecipientVerdict::Refused(crate::GroupRefusal {
                text: format!("<{g}>: nhóm thư chưa có thành viên / the group has no member"),
                ascii: format!("<{g}>: nhom thu chua co thanh vien / the group has no member"),
            }));
        }
        Ok(RecipientVerdict::Local)
    }

    /// The envelope's recipients as delivery targets: each local recipient's INBOX (an alias
    /// resolved, a group expanded into its members' as the directory makes them now), each
    /// mailbox once however many recipients reach it; the other domains' recipients for the
    /// queue. A local recipient that is no active mailbox or group is an error.
    async fn delivery_targets(&self, recipients: &[EmailAddress]) -> Result<DeliveryTargets> {
        let mut out = DeliveryTargets::default();
        for rcpt in recipients {
            if !self.is_local_domain(rcpt) {
                if !out.queued.contains(rcpt) {
                    out.queued.push(rcpt.clone());
                }
                continue;
            }
            let accounts: Vec<hopthu_model::AccountId> = match self.resolve_local(rcpt).await? {
                Some(a) if a.state == AccountState::Active => vec![a.id],
                Some(_) => Vec::new(),
                None => match self.group_at(rcpt).await? {
                    Some(group) => self
                        .group_member_accounts(&group)
                        .await?
                        .into_iter()
                        .map(|(id, _)| id)
                        .collect(),
                    None => Vec::new(),
                },
            };
            if accounts.is_empty() {
                return Err(Error::not_found(format!("{rcpt}: no such mailbox")));
            }
            let mut reached = false;
            for account in accounts {
                let inbox = self
                    .store
                    .mailbox_by_name(account, "INBOX")
                    .await?
                    .ok_or_else(|| Error::not_found(format!("{rcpt}: no INBOX")))?;
                if !out.local.iter().any(|(_, m)| *m == inbox.id) {
                    out.local.push((account, inbox.id));
                    reached = true;
                }
            }
            if reached {
                out.reached.push(rcpt.clone());
            }
        }
        Ok(out)
    }

    /// Stores a received message durably: once as a blob, then in the INBOX of every local
    /// recipient and in the outbound queue for the others, in one transaction. Concurrent
    /// deliveries share that transaction's commit (the store's group commit), so the fsync
    /// cost is paid once per batch rather than once per message.
    pub async fn deliver(&self, envelope: &Envelope, raw: Vec<u8>) -> Result<DeliveryReport> {
        let size = self.check_size(raw.len())?;
        let DeliveryTargets {
            local: targets,
            reached,
            queued,
        } = self.delivery_targets(&envelope.recipients).await?;
        let report = DeliveryReport {
            local: reached,
            queued,
        };
        let raw = Arc::new(raw);
        // Searchable text only matters for local recipients (indexed with their rows). Its
        // extraction (a blocking thread) overlaps the blob write and fsync.
        let extract = async {
            if targets.is_empty() {
                None
            } else {
                Some(crate::search::extract_blocking(raw.clone()).await)
            }
        };
        let (text, body) = tokio::join!(extract, self.store.put_body(raw.clone()));
        let body = body?;
        let mail_from = envelope
            .mail_from
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let queued: Vec<String> = report.queued.iter().map(ToString::to_string).collect();
        let queue_dsn = envelope
            .dsn
            .as_ref()
            .map(|dsn| queued_dsn(envelope, dsn, &queued));
        let mailbox_ids: Vec<MailboxId> = targets.iter().map(|(_, m)| *m).collect();
        self.store
            .deliver_indexed(
                &Delivery {
                    blob: &body.id,
                    size,
                    internal_date: now(),
                    flags: &Flags::new(),
                    targets: &mailbox_ids,
                    queue: (!queued.is_empty()).then_some(QueueEntry {
                        mail_from: &mail_from,
                        recipients: &queued,
                        dsn: queue_dsn.as_ref(),
                    }),
                },
                text.as_ref(),
            )
            .await?;
        self.store.settle_body(&body, raw.clone()).await?;
        if !queued.is_empty() {
            self.queue_wake.notify_one();
        }
        let accounts: Vec<hopthu_model::AccountId> = targets.iter().map(|(a, _)| *a).collect();
        self.warn_nearly_full(&accounts).await;
        crate::metrics::bump(&self.metrics.messages_accepted, 1);
        crate::metrics::bump(&self.metrics.local_deliveries, mailbox_ids.len() as u64);
        crate::metrics::bump(&self.metrics.queued_recipients, queued.len() as u64);
        for (account, mailbox) in targets {
            self.notify(account, mailbox);
        }
        if !report.local.is_empty() {
            self.report_local_success(envelope, &raw).await;
        }
        Ok(report)
    }

    /// RFC 3461 §5.2.2: the local recipients that asked with `NOTIFY=SUCCESS` are reported to
    /// the sender as delivered, once their rows are committed. The notice goes from `<>` (and
    /// never for mail from `<>`) through [`Core::deliver`] like any message; if storing it fails
    /// the delivery itself still stands. At most `SUCCESS_NOTICES_PER_HOUR` go to one address.
    /// The listener asks for them only for a sender it can trust (signed in, or SPF pass):
    /// see [`crate::dsn::drop_success_requests`], against backscatter.
    async fn report_local_success(&self, envelope: &Envelope, raw: &[u8]) {
        let (Some(sender), Some(dsn)) = (&envelope.mail_from, &envelope.dsn) else {
            return;
        };
        let recipients: Vec<crate::dsn::RecipientReport> = envelope
            .recipients
            .iter()
            .zip(&dsn.recipients)
            .filter(|(rcpt, d)| {
                self.is_local_domain(rcpt)
                    && d.notify.as_deref().is_some_and(|list| {
                        list.split(',')
                            .any(|item| item.trim().eq_ignore_ascii_case("SUCCESS"))
                    })
            })
            .map(|(rcpt, d)| crate::dsn::RecipientReport {
                address: rcpt.to_string(),
                orcpt: d.orcpt.clone(),
                status: "2.0.0".into(),
                diagnostic: "delivered to the mailbox / đã chuyển vào hộp thư".into(),
                from_smtp: false,
                remote_mta: None,
            })
            .collect();
        if recipients.is_empty() {
            return;
        }
        let to = sender.to_string();
        if !self.allow_success_notice(&to).await {
            tracing::warn!(to = %to, "success notice not sent: too many to this address this hour");
            return;
        }
        let notice = crate::dsn::build(
            &crate::dsn::Report {
                action: crate::dsn::Action::Delivered,
                reporting_mta: &self.config.hostname,
                domain: &self.config.domain,
                to: &to,
                envid: dsn.envid.as_deref(),
                ret: dsn.ret.as_deref(),
                arrival: now(),
                retry_until: None,
                recipients: &recipients,
                original: raw,
            },
            now(),
        );
        let notice_envelope = Envelope {
            mail_from: None,
            recipients: vec![sender.clone()],
            dsn: None,
        };
        // Boxed: `deliver` calls itself (once; the notice has no DSN parameters).
        match Box::pin(self.deliver(&notice_envelope, notice)).await {
            Ok(_) => tracing::info!(to = %to, recipients = recipients.len(), "success notice sent"),
            Err(e) => tracing::warn!(to = %to, error = %e, "success notice not stored"),
        }
    }

    /// The outbound queue (`hopthu queue list` comes with the MTA issue).
    pub async fn queue(&self) -> Result<Vec<QueueRecord>> {
        Ok(self.store.queue().await?)
    }
}

/// The DSN parameters of the queued (remote) recipients, in the order they are queued.
fn queued_dsn(envelope: &Envelope, dsn: &crate::QueueDsn, queued: &[String]) -> crate::QueueDsn {
    let recipients = queued
        .iter()
        .map(|address| {
            envelope
                .recipients
                .iter()
                .position(|r| r.to_string() == *address)
                .and_then(|i| dsn.recipients.get(i).cloned())
                .unwrap_or_default()
        })
        .collect();
    crate::QueueDsn {
        envid: dsn.envid.clone(),
        ret: dsn.ret.clone(),
        recipients,
    }
}
