//! Official documents (Đ15): a unit dispatches a document — number and symbol (số/ký hiệu),
//! date, kind from the catalogue (Đ9), summary (trích yếu), the signed file — to recipient
//! units (nơi nhận) picked from the directory tree, whole subtrees included. Each recipient
//! unit's INBOX receives one message whose body is stored once; its fields travel as
//! structured `X-Document-*` headers so other systems can read them. Per recipient the store
//! tracks delivery, the first opening (by whom) and the acknowledgement.
//!
//! **Invariant**: the message, the document and its recipients are written in one transaction
//! (`DocumentStore::dispatch_document`); the CLI, the API and the webmail all go through
//! [`Core::dispatch_document`].

use std::sync::Arc;

use hopthu_model::{Flags, MailboxId, Uid, UnitId};
use hopthu_store::{Delivery, NewDocument};
use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::directory::UnitRecord;
use hopthu_model::DelegateRight;

use crate::{Actor, AdminScope, Core, Error, NewAudit, Principal, Result, now};

/// The longest number (số/ký hiệu) accepted.
const NUMBER_MAX: usize = 60;
/// The longest summary (trích yếu) accepted.
const SUMMARY_MAX: usize = 1000;

/// A document to dispatch, as the CLI, the API and the webmail give it.
#[derive(Debug, Clone, Default)]
pub struct DispatchRequest {
    /// The issuing unit's code.
    pub from: String,
    /// Số/ký hiệu, e.g. `12/STTTT`.
    pub number: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// A kind id of the catalogue.
    pub kind: String,
    pub summary: String,
    pub file_name: String,
    pub file: Vec<u8>,
    /// Recipient unit codes (nơi nhận).
    pub to: Vec<String>,
    /// Each recipient with its whole subtree ("every commune of Hòa An").
    pub subtree: bool,
}

/// A dispatched document.
#[derive(Debug, Clone, Serialize)]
pub struct Dispatched {
    pub id: i64,
    pub number: String,
    /// How many units received it.
    pub recipients: usize,
}

/// One recipient unit's line of a document's tracking table.
#[derive(Debug, Clone, Serialize)]
pub struct RecipientStatus {
    pub unit: String,
    pub name: String,
    pub address: String,
    pub delivered: bool,
    pub opened_at: Option<i64>,
    pub opened_by: Option<String>,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<String>,
}

/// A document and its tracking table (`hopthu document status`, `GET /api/documents/{id}`).
#[derive(Debug, Clone, Serialize)]
pub struct DocumentStatus {
    pub id: i64,
    pub number: String,
    pub date: String,
    /// The issuing unit's code and name.
    pub unit: String,
    pub unit_name: String,
    /// The kind's id and its name in the catalogue (the id when the catalogue lost it).
    pub kind: String,
    pub kind_name: String,
    pub summary: String,
    pub file_name: String,
    pub sha256: String,
    pub dispatched_by: String,
    pub dispatched_at: i64,
    pub recipients: Vec<RecipientStatus>,
}

/// A header value without line breaks or control characters, trimmed.
fn one_line(s: &str) -> String {
    hopthu_model::text::clean(s)
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .to_string()
}

/// The content type of the signed file, by its extension.
fn content_type(file_name: &str) -> &'static str {
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "odt" => "application/vnd.oasis.opendocument.text",
        "zip" => "application/zip",
        "xml" => "application/xml",
        "txt" => "text/plain",
        _ => "application/octet-stream",
    }
}

/// The units `codes` names, each with its subtree when asked, once each, in tree order of
/// the import (by id), without `except`. An unknown code is an error naming it.
pub(crate) fn recipient_units<'a>(
    units: &'a [UnitRecord],
    codes: &[String],
    subtree: bool,
    except: UnitId,
) -> Result<Vec<&'a UnitRecord>> {
    let mut chosen: Vec<UnitId> = Vec::new();
    for code in codes.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        let root = units
            .iter()
            .find(|u| u.code.eq_ignore_ascii_case(code))
            .ok_or_else(|| Error::invalid(format!("{code}: không có đơn vị này / no such unit")))?;
        if subtree {
            chosen.extend(
                units
                    .iter()
                    .filter(|u| {
                        crate::admin::in_scope(crate::AdminScope::Unit(root.id), u.id, units)
                    })
                    .map(|u| u.id),
            );
        } else {
            chosen.push(root.id);
        }
    }
    let out: Vec<&UnitRecord> = units
        .iter()
        .filter(|u| u.id != except && chosen.contains(&u.id))
        .collect();
    if out.is_empty() {
        return Err(Error::invalid(
            "chưa chọn nơi nhận / no recipient unit (to)",
        ));
    }
    Ok(out)
}

impl Core {
    /// The name of a document kind of the catalogue (Đ9), in Vietnamese; `Invalid` for a kind
    /// the catalogue does not have.
    pub fn document_kind_name(&self, kind: &str) -> Result<String> {
        let kind = kind.trim();
        self.config
            .documents
            .kind(kind)
            .map(|k| k.name.clone())
            .ok_or_else(|| {
                Error::invalid(format!(
                    "{kind}: không có trong danh mục văn bản / not a document kind of the catalogue"
                ))
            })
    }

    /// Dispatches a document from a unit in the actor's scope to its recipient units (Đ15):
    /// checks every field, builds one message with the signed file attached and the fields as
    /// `X-Document-*` headers, stores its body once and delivers it to each recipient unit's
    /// INBOX with the document's rows, in one transaction.
    pub async fn dispatch_document(
        &self,
        actor: &Actor,
        request: &DispatchRequest,
    ) -> Result<Dispatched> {
        let units = self.store.units().await?;
        let issuer = units
            .iter()
            .find(|u| u.code.eq_ignore_ascii_case(request.from.trim()))
            .ok_or_else(|| {
                Error::invalid(format!(
                    "{}: không có đơn vị ban hành này / no such issuing unit",
                    request.from.trim()
                ))
            })?;
        self.authorize(actor, issuer.id).await?;
        let number = one_line(&request.number);
        if number.is_empty() || number.chars().count() > NUMBER_MAX {
            return Err(Error::invalid(format!(
                "số/ký hiệu phải có từ 1 đến {NUMBER_MAX} ký tự / the number must have 1 to {NUMBER_MAX} characters"
            )));
        }
        let date =
            chrono::NaiveDate::parse_from_str(request.date.trim(), "%Y-%m-%d").map_err(|_| {
                Error::invalid(format!(
                    "{}: ngày phải có dạng YYYY-MM-DD / the date must be YYYY-MM-DD",
                    request.date.trim()
                ))
            })?;
        let kind = request.kind.trim().to_string();
        let kind_name = self.document_kind_name(&kind)?;
        let summary = one_line(&request.summary);
        if summary.is_empty() || summary.chars().count() > SUMMARY_MAX {
            return Err(Error::invalid(format!(
                "trích yếu phải có từ 1 đến {SUMMARY_MAX} ký tự / the summary must have 1 to {SUMMARY_MAX} characters"
            )));
        }
        // Secret documents never go by e-mail (Đ9): a summary carrying a secrecy marker is
        // refused, audited, and nothing is stored.
        let levels = &self.config.documents.secrecy_levels;
        if let Some(level) = crate::classification::subject_marking(levels, &summary) {
            let audit = [NewAudit {
                actor: actor.name.clone(),
                action: "document.secret_refused".into(),
                target: format!("unit:{}", issuer.code),
                before: None,
                after: Some(
                    serde_json::json!({"level": level.id, "detected_by": "summary", "via": "dispatch"})
                        .to_string(),
                ),
            }];
            self.store
                .write_lifecycle(&hopthu_store::LifecycleWrite {
                    at: now(),
                    decision: None,
                    effects: &[],
                    warnings: &[],
                    audit: &audit,
                })
                .await?;
            return Err(Error::new(
                crate::ErrorKind::Forbidden,
                format!(
                    "văn bản mật ({}) không được gửi qua thư điện tử (Điều 9) / secret documents ({}) may not be sent by e-mail",
                    level.name, level.name_en
                ),
            ));
        }
        let file_name = one_line(&request.file_name).replace(['/', '\\'], "_");
        if file_name.is_empty() {
            return Err(Error::invalid("thiếu tên tệp / the file has no name"));
        }
        if request.file.is_empty() {
            return Err(Error::invalid("tệp văn bản rỗng / the file is empty"));
        }
        let recipients = recipient_units(&units, &request.to, request.subtree, issuer.id)?;
        let mut inboxes: Vec<MailboxId> = Vec::with_capacity(recipients.len());
        let mut accounts = Vec::with_capacity(recipients.len());
        let mut without = Vec::new();
        for unit in &recipients {
            let inbox = match unit.account {
                Some(account) if unit.revoked_at.is_none() => {
                    self.store.mailbox_by_name(account, "INBOX").await?
                }
                _ => None,
            };
            match inbox {
                Some(inbox) => {
                    inboxes.push(inbox.id);
                    accounts.push(inbox.account_id);
                }
                None => without.push(unit.code.clone()),
            }
        }
        if !without.is_empty() {
            return Err(Error::invalid(format!(
                "đơn vị không có hộp thư hoạt động / units without an open mailbox: {}",
                without.join(", ")
            )));
        }

        let sha256 = hex::encode(Sha256::digest(&request.file));
        let message_id = format!(
            "vb.{:016x}.{}@{}",
            rand::random::<u64>(),
            now(),
            self.config.hostname
        );
        let shown_date = date.format("%d/%m/%Y").to_string();
        let recipient_lines: String = recipients
            .iter()
            .map(|u| format!("  - {} ({}) <{}>\r\n", u.name, u.code, u.address))
            .collect();
        let text = format!(
            "VĂN BẢN ĐIỆN TỬ / OFFICIAL DOCUMENT\r\n\r\n\
             Cơ quan ban hành / Issued by: {issuer_name} ({issuer_code})\r\n\
             Số, ký hiệu / Number: {number}\r\n\
             Ngày / Date: {shown_date}\r\n\
             Loại văn bản / Kind: {kind_name}\r\n\
             Trích yếu / Summary: {summary}\r\n\
             Tệp / File: {file_name} (SHA-256 {sha256})\r\n\r\n\
             Nơi nhận / Recipients ({count}):\r\n{recipient_lines}\r\n\
             Kiểm tra nguồn gốc và tính toàn vẹn / Verify: https://{host}/verify\r\n",
            issuer_name = issuer.name,
            issuer_code = issuer.code,
            count = recipients.len(),
            host = self.config.hostname,
        );
        let subject = format!("{kind_name} số {number} ngày {shown_date}: {summary}");
        let raw = MessageBuilder::new()
            .from((issuer.name.clone(), issuer.address.clone()))
            .to((issuer.name.clone(), issuer.address.clone()))
            .subject(subject)
            .date(now())
            .message_id(message_id.clone())
            .header("X-Document-Number", Text::new(number.clone()))
            .header(
                "X-Document-Date",
                Raw::new(date.format("%Y-%m-%d").to_string()),
            )
            .header("X-Document-Issuer", Raw::new(issuer.code.clone()))
            .header("X-Document-Issuer-Name", Text::new(issuer.name.clone()))
            .header("X-Document-Kind", Raw::new(kind.clone()))
            .header("X-Document-Summary", Text::new(summary.clone()))
            .header("X-Document-SHA256", Raw::new(sha256.clone()))
            .text_body(text)
            .attachment(
                content_type(&file_name),
                file_name.clone(),
                request.file.clone(),
            )
            .write_to_vec()
            .map_err(|e| Error::invalid(format!("cannot build the message: {e}")))?;
        // Đ14.2: the province's DKIM signature covers the body, the file and the
        // `X-Document-*` fields (`dkim.rs`); `/verify` checks it.
        let raw = self.dkim_sign(raw)?;
        let size = self.check_size(raw.len())?;
        let raw = Arc::new(raw);
        let (text, body) = tokio::join!(
            crate::search::extract_blocking(raw.clone()),
            self.store.put_body(raw.clone())
        );
        let body = body?;
        let at = now();
        let unit_ids: Vec<UnitId> = recipients.iter().map(|u| u.id).collect();
        let audit = [NewAudit {
            actor: actor.name.clone(),
            action: "document.dispatch".into(),
            target: format!("unit:{}", issuer.code),
            before: None,
            after: Some(
                serde_json::json!({
                    "number": number, "date": request.date.trim(), "kind": kind,
                    "sha256": sha256, "recipients": recipients.len(),
                })
                .to_string(),
            ),
        }];
        let year = i64::from(chrono::Datelike::year(&date));
        let (id, delivered) = self
            .store
            .dispatch_document(
                &NewDocument {
                    unit: issuer.id,
                    number: &number,
                    issued_on: &date.format("%Y-%m-%d").to_string(),
                    year,
                    kind: &kind,
                    summary: &summary,
                    file_name: &file_name,
                    file_sha256: &sha256,
                    message_id: &message_id,
                    dispatched_by: &actor.name,
                    dispatched_at: at,
                    recipients: &unit_ids,
                    audit: &audit,
                },
                &Delivery {
                    received: true,
                    blob: &body.id,
                    size,
                    internal_date: at,
                    targets: &hopthu_store::same_flags(&inboxes, &Flags::new()),
                    queue: &[],
                },
                Some(&text),
            )
            .await
            .map_err(|e| match e {
                hopthu_store::StoreError::Conflict(_) => Error::new(
                    crate::ErrorKind::AlreadyExists,
                    format!(
                        "{number}: {} đã ban hành văn bản số này trong năm {year} / already issued this number in {year}",
                        issuer.code
                    ),
                ),
                e => e.into(),
            })?;
        self.store.settle_body(&body, raw).await?;
        self.text_stored(Some(&text));
        self.warn_nearly_full(&accounts).await;
        crate::metrics::bump(&self.metrics.messages_accepted, 1);
        crate::metrics::bump(&self.metrics.local_deliveries, delivered.len() as u64);
        for (account, (mailbox, _)) in accounts.iter().zip(&delivered) {
            self.notify(*account, *mailbox);
        }
        tracing::info!(id, number = %number, unit = %issuer.code, recipients = delivered.len(), "document dispatched");
        Ok(Dispatched {
            id,
            number,
            recipients: delivered.len(),
        })
    }

    /// A document and its tracking table, for an actor whose scope holds the issuing unit.
    pub async fn document_status(&self, actor: &Actor, id: i64) -> Result<DocumentStatus> {
        let not_found =
            || Error::not_found(format!("{id}: không có văn bản này / no such document"));
        let doc = self.store.document(id).await?.ok_or_else(not_found)?;
        self.authorize_read(actor, doc.unit)
            .await
            .map_err(|_| not_found())?;
        self.status_of(doc).await
    }

    async fn status_of(&self, doc: hopthu_store::DocumentRecord) -> Result<DocumentStatus> {
        let units = self.store.units().await?;
        let unit_of = |id: UnitId| units.iter().find(|u| u.id == id);
        let recipients = self
            .store
            .document_recipients(doc.id)
            .await?
            .into_iter()
            .map(|r| {
                let unit = unit_of(r.unit);
                RecipientStatus {
                    unit: unit.map(|u| u.code.clone()).unwrap_or_default(),
                    name: unit.map(|u| u.name.clone()).unwrap_or_default(),
                    address: unit.map(|u| u.address.clone()).unwrap_or_default(),
                    delivered: r.delivered_at.is_some(),
                    opened_at: r.opened_at,
                    opened_by: r.opened_by,
                    acknowledged_at: r.acknowledged_at,
                    acknowledged_by: r.acknowledged_by,
                }
            })
            .collect();
        Ok(DocumentStatus {
            id: doc.id,
            number: doc.number,
            date: doc.issued_on,
            unit: unit_of(doc.unit)
                .map(|u| u.code.clone())
                .unwrap_or_default(),
            unit_name: unit_of(doc.unit)
                .map(|u| u.name.clone())
                .unwrap_or_default(),
            kind_name: self
                .document_kind_name(&doc.kind)
                .unwrap_or_else(|_| doc.kind.clone()),
            kind: doc.kind,
            summary: doc.summary,
            file_name: doc.file_name,
            sha256: doc.file_sha256,
            dispatched_by: doc.dispatched_by,
            dispatched_at: doc.dispatched_at,
            recipients,
        })
    }

    /// Every unit with an open mailbox, in tree order (each after its parent, siblings by
    /// code) with its depth: the recipients the dispatch form offers.
    pub async fn recipient_choices(&self) -> Result<Vec<(UnitRecord, usize)>> {
        let mut units = self.store.units().await?;
        units.sort_by(|a, b| a.code.cmp(&b.code));
        let mut out = Vec::with_capacity(units.len());
        let mut stack: Vec<(Option<UnitId>, usize)> = vec![(None, 0)];
        // Depth-first, iteratively; `seen` guards against a corrupt tree.
        let mut seen = std::collections::HashSet::new();
        while let Some((parent, depth)) = stack.pop() {
            if let Some(id) = parent
                && let Some(u) = units.iter().find(|u| u.id == id)
                && u.account.is_some()
                && u.revoked_at.is_none()
            {
                out.push((u.clone(), depth - 1));
            }
            let children: Vec<UnitId> = units
                .iter()
                .filter(|u| u.parent == parent && seen.insert(u.id))
                .map(|u| u.id)
                .collect();
            for child in children.into_iter().rev() {
                stack.push((Some(child), depth + 1));
            }
        }
        Ok(out)
    }

    /// The units `who` may issue documents for from the webmail: those whose mailbox they own
    /// (the unit's head) or may send as (`send-as`, Đ12), by name.
    pub async fn dispatching_units(&self, who: &Principal) -> Result<Vec<UnitRecord>> {
        let senders = self.unit_senders(who).await?;
        let mut out: Vec<UnitRecord> = self
            .store
            .units()
            .await?
            .into_iter()
            .filter(|u| {
                senders
                    .iter()
                    .any(|s| Some(s.account) == u.account && s.rights.has(DelegateRight::SendAs))
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// [`Core::dispatch_document`] from the webmail: `who` must be the issuing unit's head or
    /// hold `send-as` on its mailbox; the audit log names them.
    pub async fn dispatch_document_as(
        &self,
        who: &Principal,
        request: &DispatchRequest,
    ) -> Result<Dispatched> {
        let unit = self
            .dispatching_units(who)
            .await?
            .into_iter()
            .find(|u| u.code.eq_ignore_ascii_case(request.from.trim()))
            .ok_or_else(|| {
                Error::forbidden(
                    "chỉ lãnh đạo đơn vị hoặc người được gửi với danh nghĩa đơn vị mới ban hành được văn bản / only the unit's head or a send-as delegate may issue its documents",
                )
            })?;
        let actor = Actor {
            name: who.address.to_string(),
            scope: AdminScope::Unit(unit.id),
        };
        self.dispatch_document(&actor, request).await
    }

    /// The documents a unit issued, newest first (at most `limit`), with how many recipients
    /// opened and acknowledged each, for someone who may read the unit's mailbox (its head,
    /// a delegate) or signs in as it.
    pub async fn unit_documents(
        &self,
        who: &Principal,
        unit_address: &str,
        limit: u32,
    ) -> Result<(UnitRecord, Vec<DocumentStatus>)> {
        let unit = self.unit_readable_by(who, unit_address).await?;
        let mut out = Vec::new();
        for doc in self.store.documents_of_unit(unit.id, limit).await? {
            out.push(self.status_of(doc).await?);
        }
        Ok((unit, out))
    }

    /// One document's tracking table for someone who may read the issuing unit's mailbox.
    pub async fn document_status_as(&self, who: &Principal, id: i64) -> Result<DocumentStatus> {
        let not_found =
            || Error::not_found(format!("{id}: không có văn bản này / no such document"));
        let doc = self.store.document(id).await?.ok_or_else(not_found)?;
        let unit = self.unit_by_id(doc.unit).await?;
        self.unit_readable_by(who, &unit.address)
            .await
            .map_err(|_| not_found())?;
        self.status_of(doc).await
    }

    /// The unit whose mailbox is `unit_address`, if `who` signs in as it or may read it.
    async fn unit_readable_by(&self, who: &Principal, unit_address: &str) -> Result<UnitRecord> {
        let refused = || {
            Error::forbidden(format!(
                "{}: không có quyền xem hộp thư đơn vị này / you may not read this unit mailbox",
                unit_address.trim()
            ))
        };
        let unit = self
            .store
            .units()
            .await?
            .into_iter()
            .find(|u| u.address.eq_ignore_ascii_case(unit_address.trim()))
            .ok_or_else(refused)?;
        let account = unit.account.ok_or_else(refused)?;
        if account == who.account {
            return Ok(unit);
        }
        match self.access_to(who, account).await? {
            Some((access, _)) if access.allows('r') => Ok(unit),
            _ => Err(refused()),
        }
    }

    /// A recipient unit acknowledges a document (a button in the webmail, or a reply): `who`
    /// signs in as the recipient unit's mailbox or may read it. The first acknowledgement
    /// stays; `NotFound` when the unit is not a recipient.
    pub async fn acknowledge_document_as(
        &self,
        who: &Principal,
        id: i64,
        unit_address: &str,
    ) -> Result<()> {
        let unit = self.unit_readable_by(who, unit_address).await?;
        if self
            .store
            .acknowledge_document(id, unit.id, &who.address.to_string(), now())
            .await?
        {
            Ok(())
        } else {
            Err(Error::not_found(format!(
                "{}: không phải nơi nhận văn bản {id} / not a recipient of document {id}",
                unit.address
            )))
        }
    }

    /// The document a message is a copy of, by its `Message-ID`, with the recipient unit the
    /// copy in `mailbox` belongs to (the webmail's read page: the acknowledge button).
    pub async fn document_of_message(
        &self,
        who: &Principal,
        mailbox: MailboxId,
        message_id: &str,
    ) -> Result<Option<(DocumentStatus, Option<RecipientStatus>)>> {
        let message_id = message_id.trim().trim_matches(['<', '>']);
        if message_id.is_empty() {
            return Ok(None);
        }
        let Some(doc) = self.store.document_by_message_id(message_id).await? else {
            return Ok(None);
        };
        let (record, _) = self.mailbox_access(who, mailbox).await?;
        let status = self.status_of(doc).await?;
        let owner = self.store.account(record.account_id).await?;
        let here = owner.and_then(|a| {
            status
                .recipients
                .iter()
                .find(|r| r.address.eq_ignore_ascii_case(&a.address))
                .cloned()
        });
        Ok(Some((status, here)))
    }

    /// A reply to a document by a recipient unit acknowledges it: `from` is the reply's
    /// author (a recipient unit's address, already allowed by the sending rules), `refers`
    /// its `In-Reply-To` and `References` ids. Failures are logged; the reply stands.
    pub async fn acknowledge_by_reply(&self, who: &Principal, from: &str, refers: &[String]) {
        for id in refers {
            let id = id.trim().trim_matches(['<', '>']);
            let doc = match self.store.document_by_message_id(id).await {
                Ok(Some(doc)) => doc,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "document of a reply not looked up");
                    return;
                }
            };
            if let Err(e) = self.acknowledge_document_as(who, doc.id, from).await {
                tracing::debug!(document = doc.id, from, error = %e.message, "reply does not acknowledge");
            }
            return;
        }
    }

    /// Records that `by` opened the messages `uids` of `mailbox` (first `\Seen` over IMAP, a
    /// view in the webmail): the documents they are copies of become opened by that person.
    /// A failure is logged: the opening itself stands.
    pub(crate) async fn note_documents_opened(&self, mailbox: MailboxId, uids: &[Uid], by: &str) {
        if uids.is_empty() {
            return;
        }
        if let Err(e) = self.store.document_opened(mailbox, uids, by, now()).await {
            tracing::warn!(mailbox = mailbox.0, error = %e, "document opening not recorded");
        }
    }
}

/// The message ids a message answers (`In-Reply-To`, then `References`, newest first),
/// without angle brackets: a reply to a document acknowledges it.
pub fn reply_refs(content: &[u8]) -> Vec<String> {
    let Some(message) = mail_parser::MessageParser::new().parse_headers(content) else {
        return Vec::new();
    };
    let ids = |value: &mail_parser::HeaderValue| match value {
        mail_parser::HeaderValue::Text(t) => vec![t.to_string()],
        mail_parser::HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    };
    let mut out = ids(message.in_reply_to());
    let mut references = ids(message.references());
    references.reverse();
    for id in references {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out.truncate(20);
    out
}

/// The `From:` a submission acknowledges documents as: the unit it was sent for, or the
/// signed-in mailbox itself (a unit mailbox signing in with its own password).
pub fn replying_as(who: &Principal, sending: &crate::Sending) -> String {
    match sending {
        crate::Sending::Unit { unit, .. } => unit.address.to_string(),
        crate::Sending::Own => who.address.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hopthu_model::AccountId;

    fn unit(id: i64, parent: Option<i64>) -> UnitRecord {
        UnitRecord {
            id: UnitId(id),
            code: format!("U{id}"),
            kind: "commune".into(),
            name: format!("U{id}"),
            parent: parent.map(UnitId),
            address: format!("u{id}@x"),
            account: Some(AccountId(id)),
            head: None,
            created_at: 0,
            last_access_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn recipients_are_units_or_whole_subtrees_once_without_the_issuer() {
        let units = [
            unit(1, None),
            unit(2, Some(1)),
            unit(3, Some(2)),
            unit(4, Some(2)),
            unit(5, None),
        ];
        let codes = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let ids = |r: Vec<&UnitRecord>| r.iter().map(|u| u.id.0).collect::<Vec<_>>();
        assert_eq!(
            ids(recipient_units(&units, &codes(&["U2", "u5"]), false, UnitId(9)).unwrap()),
            [2, 5]
        );
        assert_eq!(
            ids(recipient_units(&units, &codes(&["U2", "U3"]), true, UnitId(9)).unwrap()),
            [2, 3, 4]
        );
        assert_eq!(
            ids(recipient_units(&units, &codes(&["U1"]), true, UnitId(2)).unwrap()),
            [1, 3, 4]
        );
        let e = recipient_units(&units, &codes(&["U7"]), true, UnitId(9)).unwrap_err();
        assert!(e.message.contains("U7"), "{}", e.message);
        assert!(recipient_units(&units, &codes(&["U2"]), false, UnitId(2)).is_err());
        assert!(recipient_units(&units, &[], false, UnitId(9)).is_err());
    }

    #[test]
    fn replies_name_the_messages_they_answer() {
        let reply =
            b"From: a@x\r\nIn-Reply-To: <vb.1@mail.x>\r\nReferences: <a@x> <vb.1@mail.x>\r\n\r\nok";
        assert_eq!(reply_refs(reply), ["vb.1@mail.x", "a@x"]);
        assert!(reply_refs(b"From: a@x\r\n\r\nno reply").is_empty());
    }

    #[test]
    fn header_values_lose_line_breaks() {
        let line = one_line(" 12/STTTT\r\nBcc: x@y ");
        assert!(
            !line.contains(['\r', '\n']) && line.starts_with("12/STTTT"),
            "{line}"
        );
        assert_eq!(content_type("QD 12.PDF"), "application/pdf");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}
