//! What the webmail reads: a page of a mailbox (newest first, keyset-paged by UID, only the
//! page's messages parsed, and only their header), a message broken into what a reading view
//! shows (text, HTML, attachments with their decoded names, inline `cid:` parts), and a
//! diacritic-insensitive search over the index that IMAP SEARCH uses.
//!
//! **Invariant**: every method takes the principal and checks the mailbox is theirs.

use hopthu_model::{MailboxId, Uid};
use hopthu_store::{MailboxRecord, MessageRecord};
use mail_parser::{Address, MessageParser, MimeHeaders, PartType};

use crate::{Core, Error, Principal, Result, SearchField};

#[cfg(test)]
#[path = "webmail_fuzz.rs"]
mod fuzz;

/// The most messages one list page shows.
pub const MAX_PAGE: u32 = 200;
/// Bytes read from a blob to show it in a list (the header, nearly always).
const HEAD_BYTES: usize = 16 * 1024;

/// One line of a message list.
#[derive(Debug, Clone)]
pub struct MessageSummary {
    pub record: MessageRecord,
    pub from_name: String,
    pub from_address: String,
    pub subject: String,
    /// The Date header (Unix seconds), else the arrival time.
    pub date: i64,
    pub has_attachments: bool,
}

/// A page of a mailbox, newest first.
#[derive(Debug, Clone)]
pub struct MessagePage {
    pub mailbox: MailboxRecord,
    pub messages: Vec<MessageSummary>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub next_before: Option<Uid>,
}

/// A part of a message that is not its body text: an attachment or an inline image.
#[derive(Debug, Clone)]
pub struct PartInfo {
    /// The part's position in the parsed message (`Core::message_part` takes it).
    pub index: u32,
    pub name: String,
    pub content_type: String,
    pub size: usize,
    pub content_id: Option<String>,
    pub inline: bool,
}

/// An address as shown: display name and address.
#[derive(Debug, Clone, Default)]
pub struct ShownAddress {
    pub name: String,
    pub address: String,
}

/// A message broken into what a reading view shows.
#[derive(Debug, Clone)]
pub struct MessageView {
    pub record: MessageRecord,
    pub subject: String,
    pub from: Vec<ShownAddress>,
    pub to: Vec<ShownAddress>,
    pub cc: Vec<ShownAddress>,
    /// Only in the sender's own copy (Sent, Drafts).
    pub bcc: Vec<ShownAddress>,
    pub reply_to: Vec<ShownAddress>,
    /// `Sender:`, when the message was sent on behalf of `From:` (a unit mailbox, Đ12).
    pub sender: Vec<ShownAddress>,
    pub date: i64,
    pub message_id: Option<String>,
    pub references: Vec<String>,
    /// The plain text body (the HTML turned into text when there is only HTML).
    pub text: String,
    /// The HTML body as sent, unsanitised: the web layer sanitises it before showing it.
    pub html: Option<String>,
    pub parts: Vec<PartInfo>,
    /// For an official document (an `X-Document-Number:` field): whether it was issued
    /// through this system and is unchanged (Đ14.2, [`Core::verify_message`]).
    pub document: Option<crate::verify::Verdict>,
}

/// One part's content, for download.
#[derive(Debug, Clone)]
pub struct PartContent {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

fn addresses(a: Option<&Address<'_>>) -> Vec<ShownAddress> {
    a.map(|a| {
        a.iter()
            .map(|addr| ShownAddress {
                name: addr.name.as_deref().unwrap_or_default().to_string(),
                address: addr.address.as_deref().unwrap_or_default().to_string(),
            })
            .collect()
    })
    .unwrap_or_default()
}

fn summarise(record: MessageRecord, head: &[u8]) -> MessageSummary {
    let parsed = MessageParser::default().parse_headers(head);
    let (from_name, from_address, subject, date, has_attachments) = match &parsed {
        Some(m) => {
            let from = addresses(m.from()).into_iter().next().unwrap_or_default();
            let multipart_mixed = m.content_type().is_some_and(|ct| {
                ct.ctype().eq_ignore_ascii_case("multipart")
                    && ct
                        .subtype()
                        .is_some_and(|s| s.eq_ignore_ascii_case("mixed"))
            });
            (
                from.name,
                from.address,
                m.subject().unwrap_or_default().to_string(),
                m.date().map(|d| d.to_timestamp()),
                multipart_mixed,
            )
        }
        None => (String::new(), String::new(), String::new(), None, false),
    };
    MessageSummary {
        date: date.unwrap_or(record.internal_date),
        record,
        from_name,
        from_address,
        subject,
        has_attachments,
    }
}

fn content_type_of(part: &mail_parser::MessagePart<'_>) -> String {
    part.content_type()
        .map(|ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_string(),
        })
        .unwrap_or_else(|| "application/octet-stream".to_string())
        .to_ascii_lowercase()
}

impl Core {
    /// Every mailbox of the principal with its message and unseen counts (the folder list).
    pub async fn folder_counts(&self, who: &Principal) -> Result<Vec<(MailboxRecord, u32, u32)>> {
        self.counted_folders(who.account, "").await
    }

    /// The mailboxes of `account`, shown with `prefix` (`crate::shared::shown`), each with its
    /// message and unseen counts.
    pub(crate) async fn counted_folders(
        &self,
        account: hopthu_model::AccountId,
        prefix: &str,
    ) -> Result<Vec<(MailboxRecord, u32, u32)>> {
        let counts = self.store.mailbox_counts(account).await?;
        Ok(self
            .store
            .mailboxes(account)
            .await?
            .into_iter()
            .map(|m| {
                let (total, unseen) = counts
                    .iter()
                    .find(|(id, _, _)| *id == m.id)
                    .map_or((0, 0), |(_, t, u)| (*t, *u));
                (crate::shared::shown(m, prefix), total, unseen)
            })
            .collect())
    }

    /// A page of a mailbox: at most `limit` messages older than `before`, newest first.
    pub async fn message_page(
        &self,
        who: &Principal,
        mailbox: MailboxId,
        before: Option<Uid>,
        limit: u32,
    ) -> Result<MessagePage> {
        let mailbox = self.mailbox_by_id(who, mailbox).await?;
        let limit = limit.clamp(1, MAX_PAGE);
        // One more than asked tells whether there is a next page.
        let mut records = self
            .store
            .messages_page(mailbox.id, before, limit + 1)
            .await?;
        let next_before = if records.len() > limit as usize {
            records.truncate(limit as usize);
            records.last().map(|r| r.uid)
        } else {
            None
        };
        let messages = self.summaries(records).await;
        Ok(MessagePage {
            mailbox,
            messages,
            next_before,
        })
    }

    async fn summaries(&self, records: Vec<MessageRecord>) -> Vec<MessageSummary> {
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            // A missing blob shows as an empty line rather than failing the whole page.
            let head = self
                .store
                .blobs()
                .head(&record.blob, HEAD_BYTES)
                .await
                .unwrap_or_default();
            out.push(summarise(record, &head));
        }
        out
    }

    /// Messages of a mailbox whose text (headers and body) contains `query`, diacritic- and
    /// case-insensitive (`hoa an` finds "Hòa An", `oa a` too), newest first, `limit` at a time: the
    /// page of matches with UIDs below `before`, and the UID to ask for the next page with
    /// (`None` on the last page).
    pub async fn search_messages(
        &self,
        who: &Principal,
        mailbox: MailboxId,
        query: &str,
        before: Option<Uid>,
        limit: u32,
    ) -> Result<(Vec<MessageSummary>, Option<Uid>)> {
        let mut uids = self
            .search_text(who, mailbox, SearchField::Text, query)
            .await?;
        uids.retain(|uid| before.is_none_or(|b| *uid < b));
        uids.sort_unstable_by(|a, b| b.cmp(a));
        let limit = limit.clamp(1, MAX_PAGE) as usize;
        let next = (uids.len() > limit).then(|| uids[limit - 1]);
        uids.truncate(limit);
        // The store answers in UID order; the list shows the newest first.
        let mut records = self.store.messages_by_uid(mailbox, &uids).await?;
        records.reverse();
        Ok((self.summaries(records).await, next))
    }

    async fn message_record(
        &self,
        who: &Principal,
        mailbox: MailboxId,
        uid: Uid,
    ) -> Result<MessageRecord> {
        self.mailbox_by_id(who, mailbox).await?;
        self.store
            .messages_by_uid(mailbox, &[uid])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Error::not_found("no such message"))
    }

    /// A message of the principal, parsed for reading.
    pub async fn message_view(
        &self,
        who: &Principal,
        mailbox: MailboxId,
        uid: Uid,
    ) -> Result<MessageView> {
        let record = self.message_record(who, mailbox, uid).await?;
        let raw = self.message_bytes(&record.blob).await?;
        let message = MessageParser::default()
            .parse(&raw)
            .ok_or_else(|| Error::invalid("the message cannot be parsed"))?;
        let html = (!message.html_body.is_empty()
            && message.html_body.iter().any(|id| {
                message
                    .part(*id)
                    .is_some_and(|p| matches!(p.body, PartType::Html(_)))
            }))
        .then(|| message.body_html(0).map(|h| h.into_owned()))
        .flatten();
        let text = message
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default();
        let body_parts: Vec<u32> = message
            .text_body
            .iter()
            .chain(message.html_body.iter())
            .copied()
            .collect();
        let mut parts = Vec::new();
        for (index, part) in message.parts.iter().enumerate() {
            let index = index as u32;
            if body_parts.contains(&index) || index == 0 {
                continue;
            }
            if matches!(part.body, PartType::Multipart(_)) {
                continue;
            }
            let inline = matches!(part.body, PartType::InlineBinary(_))
                || part.content_disposition().is_some_and(|d| d.is_inline());
            let content_type = content_type_of(part);
            let name = part
                .attachment_name()
                .map(str::to_string)
                .unwrap_or_else(|| match content_type.split('/').next_back() {
                    Some(ext) if !ext.is_empty() => format!("part-{index}.{ext}"),
                    _ => format!("part-{index}"),
                });
            parts.push(PartInfo {
                index,
                name,
                content_type,
                size: part.contents().len(),
                content_id: part
                    .content_id()
                    .map(|c| c.trim_matches(['<', '>']).to_string()),
                inline,
            });
        }
        let references = match message.references() {
            mail_parser::HeaderValue::Text(t) => vec![t.to_string()],
            mail_parser::HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
            _ => Vec::new(),
        };
        let document = if message.header("X-Document-Number").is_some() {
            // The message is shown even when the check cannot run now.
            match self.verify_message(&raw).await {
                Ok(verdict) => Some(verdict),
                Err(e) => {
                    tracing::warn!(error = %e, "document check failed");
                    None
                }
            }
        } else {
            None
        };
        Ok(MessageView {
            document,
            subject: message.subject().unwrap_or_default().to_string(),
            from: addresses(message.from()),
            to: addresses(message.to()),
            cc: addresses(message.cc()),
            bcc: addresses(message.bcc()),
            reply_to: addresses(message.reply_to()),
            sender: addresses(message.sender()),
            date: message
                .date()
                .map_or(record.internal_date, |d| d.to_timestamp()),
            message_id: message.message_id().map(str::to_string),
            references,
            text,
            html,
            parts,
            record,
        })
    }

    /// One part of a message of the principal (an attachment, an inline image).
    pub async fn message_part(
        &self,
        who: &Principal,
        mailbox: MailboxId,
        uid: Uid,
        index: u32,
    ) -> Result<PartContent> {
        self.message_parts(who, mailbox, uid, &[index])
            .await?
            .pop()
            .ok_or_else(|| Error::not_found("no such part"))
    }

    /// Several parts of one message of the principal, in the order asked, with the message read
    /// and parsed once (the `cid:` images of an HTML body, a forward's attachments). A missing
    /// part is [`ErrorKind::NotFound`](crate::ErrorKind::NotFound).
    pub async fn message_parts(
        &self,
        who: &Principal,
        mailbox: MailboxId,
        uid: Uid,
        indices: &[u32],
    ) -> Result<Vec<PartContent>> {
        let record = self.message_record(who, mailbox, uid).await?;
        let raw = self.message_bytes(&record.blob).await?;
        let message = MessageParser::default()
            .parse(&raw)
            .ok_or_else(|| Error::invalid("the message cannot be parsed"))?;
        indices
            .iter()
            .map(|&index| {
                let part = message
                    .part(index)
                    .filter(|p| !matches!(p.body, PartType::Multipart(_)) && index != 0)
                    .ok_or_else(|| Error::not_found("no such part"))?;
                Ok(PartContent {
                    name: part
                        .attachment_name()
                        .map_or_else(|| format!("part-{index}"), str::to_string),
                    content_type: content_type_of(part),
                    bytes: part.contents().to_vec(),
                })
            })
            .collect()
    }
}
