//! Official documents (Đ15) in storage terms: a document a unit dispatched, the recipient units
//! whose INBOX received its message, and each recipient's tracking (delivered, first opened and
//! by whom, acknowledged and by whom).
//!
//! The message itself is an ordinary delivery: one blob, one message row per recipient unit's
//! INBOX ([`DocumentStore::dispatch_document`] writes them with the document's rows in ONE
//! transaction, [`crate::contract`] §17). Which units receive it, the catalogue of kinds and who
//! may dispatch are decided in core.

use hopthu_model::{MailboxId, Uid, UnitId};

use crate::search::SearchText;
use crate::types::Delivery;
use crate::{NewAudit, Result};

/// A document to record with its delivery.
#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    /// The issuing unit.
    pub unit: UnitId,
    /// Số/ký hiệu, e.g. `12/STTTT`: unique per issuing unit and year.
    pub number: &'a str,
    /// The document's date, `YYYY-MM-DD`.
    pub issued_on: &'a str,
    pub year: i64,
    /// A kind id of the catalogue.
    pub kind: &'a str,
    /// Trích yếu.
    pub summary: &'a str,
    pub file_name: &'a str,
    /// The signed file's SHA-256, lower-case hex.
    pub file_sha256: &'a str,
    /// The message's `Message-ID` (without angle brackets).
    pub message_id: &'a str,
    /// Who dispatched it: an administrator's address, `cli:<user>`, a person's address.
    pub dispatched_by: &'a str,
    pub dispatched_at: i64,
    /// The recipient units, in the order of `Delivery::targets` (each unit's INBOX).
    pub recipients: &'a [UnitId],
    /// Audit rows, committed with it.
    pub audit: &'a [NewAudit],
}

/// A dispatched document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRecord {
    pub id: i64,
    pub unit: UnitId,
    pub number: String,
    pub issued_on: String,
    pub kind: String,
    pub summary: String,
    pub file_name: String,
    pub file_sha256: String,
    pub message_id: String,
    pub dispatched_by: String,
    pub dispatched_at: i64,
}

/// One recipient unit of a document and what happened to its copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientRecord {
    pub unit: UnitId,
    /// Where the copy is (`None` once that folder is deleted).
    pub mailbox: Option<MailboxId>,
    pub uid: Option<Uid>,
    pub delivered_at: Option<i64>,
    pub opened_at: Option<i64>,
    pub opened_by: Option<String>,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<String>,
}

/// Official documents (part of the storage contract, [`crate::contract`] §17).
#[async_trait::async_trait]
pub trait DocumentStore: Send + Sync {
    /// Delivers the document's message (`delivery`: its blob to each recipient unit's INBOX,
    /// `targets` in the order of `document.recipients`) and records the document, its
    /// recipients as delivered, and the audit rows, in one transaction: either all of it is
    /// stored or nothing. `Conflict` when the unit already issued that number this year.
    /// Returns the document's id and the UID each INBOX gave.
    async fn dispatch_document(
        &self,
        document: &NewDocument<'_>,
        delivery: &Delivery<'_>,
        text: Option<&SearchText>,
    ) -> Result<(i64, Vec<(MailboxId, Uid)>)>;

    async fn document(&self, id: i64) -> Result<Option<DocumentRecord>>;

    /// The documents whose file has this SHA-256 (verification, Đ14.2), oldest first.
    async fn documents_by_file(&self, sha256: &str) -> Result<Vec<DocumentRecord>>;

    /// The document with this `Message-ID`, if any.
    async fn document_by_message_id(&self, message_id: &str) -> Result<Option<DocumentRecord>>;

    /// The recipients of a document, by unit id.
    async fn document_recipients(&self, id: i64) -> Result<Vec<RecipientRecord>>;

    /// The documents a unit issued, newest first, at most `limit`.
    async fn documents_of_unit(&self, unit: UnitId, limit: u32) -> Result<Vec<DocumentRecord>>;

    /// How many documents each unit dispatched with `dispatched_at` in `[from, to)` (Đ17),
    /// units without any left out.
    async fn documents_dispatched(&self, from: i64, to: i64) -> Result<Vec<(UnitId, u64)>>;

    /// Records that `by` first opened the messages `uids` of `mailbox` at `at`: the recipients
    /// whose copy one of them is, and that were not opened yet, become opened. One indexed
    /// update; nothing when none is a document's copy. Returns how many became opened.
    async fn document_opened(
        &self,
        mailbox: MailboxId,
        uids: &[Uid],
        by: &str,
        at: i64,
    ) -> Result<u64>;

    /// Records that the recipient unit `unit` acknowledged the document, by `by` at `at` (the
    /// first acknowledgement stays). `false` when the unit is not a recipient.
    async fn acknowledge_document(&self, id: i64, unit: UnitId, by: &str, at: i64) -> Result<bool>;
}
