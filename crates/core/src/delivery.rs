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
        // A bounce to an SRS address we made for a forwarded copy (`srs.rs`): accepted and
        // sent back to the original sender by `deliver`.
        if let Some(original) = self.srs_reverse(rcpt) {
            if !self.is_local_domain(&original) {
                return Ok(RecipientVerdict::Local);
            }
            return Box::pin(self.check_recipient(&original, sender)).await;
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

    /// Stores a received message durably: once as a blob, then in the folders each local
    /// recipient's Sieve script chooses (INBOX by default, Junk for a message the spam check
    /// marked; `sieve_run.rs`) and in the outbound queue for the others and for what the
    /// scripts forward outside, in one transaction. Concurrent deliveries share that
    /// transaction's commit (the store's group commit), so the fsync cost is paid once per
    /// batch rather than once per message. Vacation replies go after the commit.
    pub async fn deliver(&self, envelope: &Envelope, raw: Vec<u8>) -> Result<DeliveryReport> {
        let size = self.check_size(raw.len())?;
        let mut report = DeliveryReport::default();
        let mut targets: Vec<(hopthu_model::AccountId, MailboxId, Flags)> = Vec::new();
        let mut forwarded: Vec<String> = Vec::new();
        let mut vacations = Vec::new();
        let mut done_accounts: Vec<hopthu_model::AccountId> = Vec::new();
        // (recipient, how many redirects led to it): a script's local redirect is delivered
        // as a new recipient, its own script run in turn, each account at most once.
        let mut pending: std::collections::VecDeque<(EmailAddress, u32)> =
            envelope.recipients.iter().map(|r| (r.clone(), 0)).collect();
        while let Some((rcpt, hops)) = pending.pop_front() {
            // A bounce to one of our SRS addresses goes back to the original sender.
            let rcpt = match self.srs_reverse(&rcpt) {
                Some(original) => original,
                None => rcpt,
            };
            if !self.is_local_domain(&rcpt) {
                if !report.queued.contains(&rcpt) {
                    report.queued.push(rcpt.clone());
                }
                continue;
            }
            let account = match self
                .resolve_local(&rcpt)
                .await?
                .filter(|a| a.state == AccountState::Active)
            {
                Some(account) => account,
                None if hops > 0 => {
                    tracing::warn!(to = %rcpt, "redirect to a mailbox that is gone: skipped");
                    continue;
                }
                None => {
                    // A group: its members as the directory makes them now, each delivered
                    // to (and its script run) like a recipient of the envelope; one copy
                    // each however many ways the message reaches them (`done_accounts`).
                    let members = match self.group_at(&rcpt).await? {
                        Some(group) => self.group_member_accounts(&group).await?,
                        None => Vec::new(),
                    };
                    if members.is_empty() {
                        return Err(Error::not_found(format!("{rcpt}: no such mailbox")));
                    }
                    if !report.local.contains(&rcpt) {
                        report.local.push(rcpt.clone());
                    }
                    for (_, address) in members {
                        match EmailAddress::parse(&address) {
                            Ok(member) => pending.push_back((member, 1)),
                            Err(_) => {
                                tracing::warn!(group = %rcpt, member = %address, "group member address unreadable: skipped")
                            }
                        }
                    }
                    continue;
                }
            };
            if hops == 0 && !report.local.contains(&rcpt) {
                report.local.push(rcpt.clone());
            }
            if done_accounts.contains(&account.id) {
                continue;
            }
            done_accounts.push(account.id);
            let decision = self.sieve_decide(&account, &rcpt, envelope, &raw).await?;
            if decision.copies.is_empty()
                && decision.redirect_local.is_empty()
                && decision.redirect_remote.is_empty()
            {
                tracing::info!(account = %account.address, "sieve discarded the message");
            }
            for (mailbox, flags) in decision.copies {
                targets.push((account.id, mailbox, flags));
            }
            for to in decision.redirect_local {
                if hops < self.config.sieve.max_redirects {
                    pending.push_back((to, hops + 1));
                } else {
                    tracing::warn!(account = %account.address, to = %to, "too many redirects: not followed");
                }
            }
            for to in decision.redirect_remote {
                if !forwarded.contains(&to) {
                    forwarded.push(to);
                }
            }
            if let Some(reply) = decision.vacation {
                vacations.push((account, reply));
            }
        }
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
        // Forwarded copies leave under an SRS address of ours (a bounce to `<>` stays so).
        let forward_from = if forwarded.is_empty() || mail_from.is_empty() {
            String::new()
        } else {
            self.srs_forward_from(&mail_from)?
        };
        let mut queue = Vec::new();
        if !queued.is_empty() {
            queue.push(QueueEntry {
                mail_from: &mail_from,
                recipients: &queued,
                dsn: queue_dsn.as_ref(),
            });
        }
        if !forwarded.is_empty() {
            queue.push(QueueEntry {
                mail_from: &forward_from,
                recipients: &forwarded,
                dsn: None,
            });
        }
        let copies: Vec<(MailboxId, Flags)> =
            targets.iter().map(|(_, m, f)| (*m, f.clone())).collect();
        self.store
            .deliver_indexed(
                &Delivery {
                    received: true,
                    blob: &body.id,
                    size,
                    internal_date: now(),
                    targets: &copies,
                    queue: &queue,
                },
                text.as_ref(),
            )
            .await?;
        self.store.settle_body(&body, raw.clone()).await?;
        self.text_stored(text.as_ref());
        if !queue.is_empty() {
            self.queue_wake.notify_one();
        }
        if !forwarded.is_empty() {
            tracing::info!(to = ?forwarded, from = %forward_from, "forwarded by sieve redirect");
        }
        let mut accounts: Vec<hopthu_model::AccountId> =
            targets.iter().map(|(a, _, _)| *a).collect();
        accounts.dedup();
        self.warn_nearly_full(&accounts).await;
        crate::metrics::bump(&self.metrics.messages_accepted, 1);
        crate::metrics::bump(&self.metrics.local_deliveries, copies.len() as u64);
        crate::metrics::bump(
            &self.metrics.queued_recipients,
            (queued.len() + forwarded.len()) as u64,
        );
        for (account, mailbox, _) in targets {
            self.notify(account, mailbox);
        }
        for (account, reply) in vacations {
            self.send_vacation(&account, reply, &raw).await;
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
