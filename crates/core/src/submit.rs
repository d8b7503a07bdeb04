//! The one submission path for mail a signed-in user sends from the webmail: the same rules
//! and in the same order as SMTP submission (`smtp/src/cmd/data.rs::finish`): the hourly rate
//! limit (counted in recipients) and `max_recipients`, `prepare_submission` on the content
//! (a secret document refused, From:/Sender: and the envelope sender, Date, Message-ID),
//! recipient checks, the virus scan,
//! then `deliver` (local mailboxes and the outbound queue) and `record_sent`. A copy goes to
//! the sender's Sent: the person's own, or for a message sent as or on behalf of a unit
//! mailbox the unit's (with the audit row, [`Core::record_unit_sending`]). The envelope
//! sender is [`crate::Sending::envelope_sender`]: the unit's address for send-as, else the
//! person's own.

use hopthu_model::{EmailAddress, Flag, Flags};

use crate::{
    Core, DeliveryReport, Envelope, Error, ErrorKind, Principal, RecipientVerdict, Result,
    ScanVerdict, Sending, SpecialUse, SubmittedVia,
};

/// Where a submitted message went, and the UID of its copy in Sent (when there is a Sent).
#[derive(Debug, Clone)]
pub struct Submitted {
    pub report: DeliveryReport,
    pub sent_uid: Option<hopthu_model::Uid>,
}

impl Core {
    /// Submits `content` (a complete message) from `who` to `recipients` (To, Cc and Bcc).
    pub async fn submit(
        &self,
        who: &Principal,
        recipients: &[EmailAddress],
        content: Vec<u8>,
    ) -> Result<Submitted> {
        self.submit_with_copy(who, recipients, content, None).await
    }

    /// Like [`Core::submit`], keeping `sent_copy` in Sent instead of `content` (the same
    /// message with its `Bcc:` field, which recipients must not see).
    pub async fn submit_with_copy(
        &self,
        who: &Principal,
        recipients: &[EmailAddress],
        content: Vec<u8>,
        sent_copy: Option<Vec<u8>>,
    ) -> Result<Submitted> {
        if recipients.is_empty() {
            return Err(Error::invalid("no recipient / chưa có người nhận"));
        }
        // The same limits as SMTP: `max_recipients` per message, and the hourly limit counts
        // recipients.
        let max = self.config.limits.max_recipients;
        if recipients.len() > max {
            return Err(Error::invalid(format!(
                "too many recipients: {} (at most {max} per message) / \
                 quá nhiều người nhận: {} (tối đa {max} mỗi thư)",
                recipients.len(),
                recipients.len()
            )));
        }
        self.check_send_rate(who.account, recipients.len())
            .await
            .map_err(|e| Error::new(ErrorKind::Temporary, e.to_string()))?;
        let prepared = self
            .prepare_submission(who, SubmittedVia::Webmail, None, content)
            .await?;
        let sent_copy = match sent_copy {
            Some(copy) => Some(
                self.prepare_submission(who, SubmittedVia::Webmail, None, copy)
                    .await?
                    .content,
            ),
            None => None,
        };
        let content = prepared.content;
        let mail_from = prepared.sending.envelope_sender(&who.address);
        let sender = crate::SenderContext {
            mail_from: Some(&mail_from),
            principal: Some(who),
        };
        for rcpt in recipients {
            match self.check_recipient(rcpt, sender).await? {
                RecipientVerdict::Refused(refusal) => {
                    return Err(Error::forbidden(refusal.text));
                }
                RecipientVerdict::Local | RecipientVerdict::Remote => {}
                RecipientVerdict::UnknownLocal => {
                    return Err(Error::invalid(format!(
                        "{rcpt}: no such mailbox / không có hộp thư này"
                    )));
                }
                RecipientVerdict::Full => {
                    return Err(Error::new(
                        ErrorKind::Temporary,
                        format!("{rcpt}: mailbox full / hộp thư đã đầy"),
                    ));
                }
                RecipientVerdict::Disabled => {
                    return Err(Error::invalid(format!(
                        "{rcpt}: mailbox disabled / hộp thư đã bị thu hồi"
                    )));
                }
            }
        }
        let mut scan_header = "";
        match self.scan(&content).await {
            ScanVerdict::NotScanned | ScanVerdict::Clean => {}
            ScanVerdict::Infected(name) => {
                return Err(Error::forbidden(format!(
                    "the message contains a virus ({name}) / thư có virus"
                )));
            }
            ScanVerdict::Unavailable(reason) => {
                if self.config.antivirus.accept_on_error {
                    tracing::warn!(reason, "virus scanner unavailable, accepting unscanned");
                    scan_header = "X-Virus-Scan: unavailable\r\n";
                } else {
                    return Err(Error::new(
                        ErrorKind::Temporary,
                        "virus scanner unavailable, try again later",
                    ));
                }
            }
        }
        let received = format!(
            "Received: from webmail by {} with HTTPS; {}\r\n",
            self.config.hostname,
            chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S +0000")
        );
        let mut raw = received.into_bytes();
        raw.extend_from_slice(scan_header.as_bytes());
        raw.extend_from_slice(&content);
        let envelope = Envelope {
            mail_from: Some(prepared.sending.envelope_sender(&who.address)),
            recipients: recipients.to_vec(),
            dsn: None,
        };
        let refs = crate::documents::reply_refs(&content);
        let report = self.deliver(&envelope, raw).await?;
        self.record_sent(who.account, recipients.len()).await;
        if !refs.is_empty() {
            let from = crate::documents::replying_as(who, &prepared.sending);
            self.acknowledge_by_reply(who, &from, &refs).await;
        }
        tracing::info!(
            from = %who.address,
            sender = %envelope.mail_from.as_ref().map(ToString::to_string).unwrap_or_default(),
            recipients = recipients.len(),
            local = report.local.len(),
            queued = report.queued.len(),
            "webmail message accepted"
        );
        // The copy in Sent: the message as submitted, or the same with its Bcc: field.
        let copy = sent_copy.unwrap_or(content);
        if let Sending::Unit { unit, mode } = &prepared.sending {
            let sent_uid = self
                .record_unit_sending(
                    who,
                    unit,
                    *mode,
                    &prepared.message_id,
                    recipients.len(),
                    copy,
                )
                .await;
            return Ok(Submitted { report, sent_uid });
        }
        let sent_uid = match self.special_folder(who, SpecialUse::Sent).await {
            Some(sent) => {
                let mut flags = Flags::new();
                flags.insert(Flag::Seen);
                match self.append(who, sent, copy, &flags, None).await {
                    Ok(outcome) => Some(outcome.uid),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not keep a copy in Sent");
                        None
                    }
                }
            }
            None => None,
        };
        Ok(Submitted { report, sent_uid })
    }

    /// The principal's folder with this SPECIAL-USE attribute.
    pub async fn special_folder(
        &self,
        who: &Principal,
        special: SpecialUse,
    ) -> Option<hopthu_model::MailboxId> {
        self.mailboxes(who)
            .await
            .ok()?
            .into_iter()
            .find(|m| m.special_use == Some(special))
            .map(|m| m.id)
    }
}
