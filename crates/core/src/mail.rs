//! Mailboxes and messages of a signed-in account: list, create, rename, delete, subscribe,
//! status, append, flags, copy, expunge, and the change feed sessions use to stay in step.
//!
//! **Invariant**: every method checks that the mailbox belongs to the principal, and notifies
//! [`crate::MailEvent`] only after its change is committed.

use std::sync::Arc;

use hopthu_model::{FlagOp, Flags, MailboxId, Uid};
use hopthu_store::{
    BlobId, Changes, Delivery, MailboxRecord, MailboxStatus, MessageIndex, MessageRecord, SortRow,
    SpecialUse, StoreFlagsOutcome,
};

use crate::{Core, Error, ErrorKind, Principal, Result, now};

/// The folders every personal mailbox gets, with their SPECIAL-USE attributes (RFC 6154).
pub const STANDARD_FOLDERS: &[(&str, Option<SpecialUse>)] = &[
    ("INBOX", None),
    ("Sent", Some(SpecialUse::Sent)),
    ("Drafts", Some(SpecialUse::Drafts)),
    ("Trash", Some(SpecialUse::Trash)),
    ("Junk", Some(SpecialUse::Junk)),
    ("Archive", Some(SpecialUse::Archive)),
];

/// The hierarchy separator of mailbox names.
pub const SEPARATOR: char = '/';

/// Result of APPEND (RFC 4315 APPENDUID).
#[derive(Debug, Clone, Copy)]
pub struct AppendOutcome {
    pub uidvalidity: u32,
    pub uid: Uid,
}

/// `INBOX` is case-insensitive (RFC 3501 §5.1); every other name is kept as given.
/// A mailbox name as stored: INBOX in capitals, the rest in Unicode NFC (RFC 9051 §5.1 wants
/// Net-Unicode names, so "Công văn" typed in decomposed form finds the same folder).
fn canonical_name(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    if name.eq_ignore_ascii_case("INBOX") {
        "INBOX".to_string()
    } else {
        name.nfc().collect()
    }
}

fn check_new_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.starts_with(SEPARATOR)
        || name.ends_with(SEPARATOR)
        || name.contains("//")
        || name.chars().any(|c| c.is_control() || c == '*' || c == '%')
        || name.len() > 512
    {
        return Err(Error::invalid(format!("invalid mailbox name {name:?}")));
    }
    Ok(())
}

impl Core {
    /// All mailboxes of the principal, by name.
    pub async fn mailboxes(&self, who: &Principal) -> Result<Vec<MailboxRecord>> {
        Ok(self.store.mailboxes(who.account).await?)
    }

    /// A mailbox of the principal by name.
    pub async fn mailbox(&self, who: &Principal, name: &str) -> Result<MailboxRecord> {
        self.store
            .mailbox_by_name(who.account, &canonical_name(name))
            .await?
            .ok_or_else(|| Error::not_found(format!("no mailbox named {name:?}")))
    }

    /// A mailbox of the principal by id.
    pub async fn mailbox_by_id(&self, who: &Principal, id: MailboxId) -> Result<MailboxRecord> {
        self.store
            .mailbox(id)
            .await?
            .filter(|m| m.account_id == who.account)
            .ok_or_else(|| Error::not_found("no such mailbox"))
    }

    /// Creates a mailbox, and any missing parents (RFC 3501 §6.3.3).
    pub async fn create_mailbox(
        &self,
        who: &Principal,
        name: &str,
        special_use: Option<SpecialUse>,
    ) -> Result<MailboxId> {
        let name = canonical_name(name.trim_end_matches(SEPARATOR));
        check_new_name(&name)?;
        if name == "INBOX" {
            return Err(Error::new(ErrorKind::AlreadyExists, "INBOX always exists"));
        }
        let mut parent = String::new();
        let parts: Vec<&str> = name.split(SEPARATOR).collect();
        for part in &parts[..parts.len() - 1] {
            if !parent.is_empty() {
                parent.push(SEPARATOR);
            }
            parent.push_str(part);
            if self
                .store
                .mailbox_by_name(who.account, &parent)
                .await?
                .is_none()
            {
                self.store
                    .create_mailbox(who.account, &parent, None)
                    .await?;
            }
        }
        Ok(self
            .store
            .create_mailbox(who.account, &name, special_use)
            .await?)
    }

    /// Deletes a mailbox and its messages. INBOX cannot be deleted; a mailbox with children
    /// cannot either (RFC 3501 §6.3.4 allows refusing; we keep the hierarchy whole).
    pub async fn delete_mailbox(&self, who: &Principal, name: &str) -> Result<()> {
        let mailbox = self.mailbox(who, name).await?;
        if mailbox.name == "INBOX" {
            return Err(Error::forbidden("INBOX cannot be deleted"));
        }
        let prefix = format!("{}{SEPARATOR}", mailbox.name);
        if self
            .store
            .mailboxes(who.account)
            .await?
            .iter()
            .any(|m| m.name.starts_with(&prefix))
        {
            return Err(Error::new(
                ErrorKind::HasChildren,
                format!("{} has child mailboxes; delete them first", mailbox.name),
            ));
        }
        self.store.delete_mailbox(mailbox.id).await?;
        self.notify(who.account, mailbox.id);
        Ok(())
    }

    /// Renames a mailbox with its children. Renaming INBOX (RFC 9051 §6.3.6) moves its
    /// messages into a new mailbox of that name and leaves INBOX empty, children untouched.
    /// Returns the old and new names as stored (NFC, see `canonical_name`).
    pub async fn rename_mailbox(
        &self,
        who: &Principal,
        from: &str,
        to: &str,
    ) -> Result<(String, String)> {
        let mailbox = self.mailbox(who, from).await?;
        let to = canonical_name(to.trim_end_matches(SEPARATOR));
        check_new_name(&to)?;
        if to == "INBOX" {
            return Err(Error::new(ErrorKind::AlreadyExists, "INBOX always exists"));
        }
        if mailbox.name == "INBOX" {
            let target = self.create_mailbox(who, &to, None).await?;
            let uids = self.store.message_index(mailbox.id).await?.uids;
            self.store.move_messages(mailbox.id, &uids, target).await?;
            self.notify(who.account, mailbox.id);
            self.notify(who.account, target);
            return Ok((mailbox.name, to));
        }
        if to.starts_with(&format!("{}{SEPARATOR}", mailbox.name)) {
            return Err(Error::invalid("a mailbox cannot move below itself"));
        }
        if let Some((parent, _)) = to.rsplit_once(SEPARATOR)
            && self
                .store
                .mailbox_by_name(who.account, parent)
                .await?
                .is_none()
        {
            self.create_mailbox(who, parent, None).await?;
        }
        self.store
            .rename_mailbox(who.account, &mailbox.name, &to)
            .await?;
        self.notify(who.account, mailbox.id);
        Ok((mailbox.name, to))
    }

    /// Subscribes to a mailbox name or drops the subscription. The name need not exist yet,
    /// and a subscription outlives its mailbox (RFC 9051 §6.3.7); RENAME carries it along.
    pub async fn set_subscribed(&self, who: &Principal, name: &str, on: bool) -> Result<()> {
        let name = canonical_name(name.trim_end_matches(SEPARATOR));
        if on {
            check_new_name(&name)?;
        }
        Ok(self.store.set_subscribed(who.account, &name, on).await?)
    }

    /// The subscribed mailbox names, sorted (some may name no mailbox).
    pub async fn subscriptions(&self, who: &Principal) -> Result<Vec<String>> {
        Ok(self.store.subscriptions(who.account).await?)
    }

    /// Counts and the mailbox row (STATUS, SELECT).
    pub async fn mailbox_status(&self, who: &Principal, id: MailboxId) -> Result<MailboxStatus> {
        let status = self.store.mailbox_status(id).await?;
        if status.mailbox.account_id != who.account {
            return Err(Error::not_found("no such mailbox"));
        }
        Ok(status)
    }

    /// Every message of a mailbox in UID order (the session's view at SELECT).
    pub async fn messages(&self, who: &Principal, id: MailboxId) -> Result<Vec<MessageRecord>> {
        self.mailbox_by_id(who, id).await?;
        Ok(self.store.messages(id).await?)
    }

    /// UID, flags and modseq of every message of a mailbox, compact (the session's view at
    /// SELECT; the rest of a message is read with [`Core::messages_by_uid`] when needed).
    pub async fn message_index(&self, who: &Principal, id: MailboxId) -> Result<MessageIndex> {
        self.mailbox_by_id(who, id).await?;
        Ok(self.store.message_index(id).await?)
    }

    /// The full records (blob, size, date) of the given UIDs that still exist, in UID order.
    pub async fn messages_by_uid(
        &self,
        who: &Principal,
        id: MailboxId,
        uids: &[Uid],
    ) -> Result<Vec<MessageRecord>> {
        self.mailbox_by_id(who, id).await?;
        Ok(self.store.messages_by_uid(id, uids).await?)
    }

    /// The SORT keys (RFC 5256) of every message of a mailbox, in UID order.
    pub async fn sort_rows(&self, who: &Principal, id: MailboxId) -> Result<Vec<SortRow>> {
        self.mailbox_by_id(who, id).await?;
        Ok(self.store.sort_rows(id).await?)
    }

    /// Number and total size of the messages flagged `\Deleted` (STATUS DELETED).
    pub async fn deleted_usage(&self, who: &Principal, id: MailboxId) -> Result<(u32, u64)> {
        self.mailbox_by_id(who, id).await?;
        Ok(self.store.deleted_usage(id).await?)
    }

    /// How many messages of a mailbox have a UID above `uid` (STATUS RECENT: those above
    /// the `\Recent` mark).
    pub async fn count_above(&self, who: &Principal, id: MailboxId, uid: Uid) -> Result<u32> {
        self.mailbox_by_id(who, id).await?;
        Ok(self.store.count_above(id, uid).await?)
    }

    /// Total size of the messages of a mailbox (STATUS SIZE, RFC 9051 §6.3.11).
    pub async fn mailbox_size(&self, who: &Principal, id: MailboxId) -> Result<u64> {
        self.mailbox_by_id(who, id).await?;
        Ok(self.store.mailbox_size(id).await?)
    }

    /// What changed after `modseq`: new messages, flag changes, expunged UIDs.
    pub async fn changes_since(
        &self,
        who: &Principal,
        id: MailboxId,
        modseq: u64,
    ) -> Result<Changes> {
        self.mailbox_by_id(who, id).await?;
        Ok(self.store.changes_since(id, modseq).await?)
    }

    /// The raw bytes of a message.
    pub async fn message_bytes(&self, blob: &BlobId) -> Result<Vec<u8>> {
        Ok(self.store.blobs().get(blob).await?)
    }

    /// The raw bytes of several messages, read together (one result per blob, in order).
    pub async fn messages_bytes(&self, blobs: Vec<BlobId>) -> Result<Vec<Result<Vec<u8>>>> {
        Ok(self
            .store
            .blobs()
            .get_many(blobs)
            .await?
            .into_iter()
            .map(|r| r.map_err(Error::from))
            .collect())
    }

    /// Stores a message in a mailbox of the principal (IMAP APPEND, saving a draft).
    pub async fn append(
        &self,
        who: &Principal,
        id: MailboxId,
        raw: Vec<u8>,
        flags: &Flags,
        internal_date: Option<i64>,
    ) -> Result<AppendOutcome> {
        let mailbox = self.mailbox_by_id(who, id).await?;
        let size = self.check_size(raw.len())?;
        self.check_quota(who, u64::from(size)).await?;
        let raw = Arc::new(raw);
        // Text extraction (a blocking thread) and the blob write (fsync) overlap.
        let (text, body) = tokio::join!(
            crate::search::extract_blocking(raw.clone()),
            self.store.put_body(raw.clone())
        );
        let body = body?;
        let uids = self
            .store
            .deliver_indexed(
                &Delivery {
                    blob: &body.id,
                    size,
                    internal_date: internal_date.unwrap_or_else(now),
                    flags,
                    targets: &[id],
                    queue: None,
                },
                Some(&text),
            )
            .await?;
        self.store.settle_body(&body, raw).await?;
        self.notify(who.account, id);
        Ok(AppendOutcome {
            uidvalidity: mailbox.uidvalidity,
            uid: uids[0].1,
        })
    }

    pub(crate) fn check_size(&self, len: usize) -> Result<u32> {
        if len as u64 > self.config.limits.max_message_size {
            return Err(Error::new(
                ErrorKind::QuotaExceeded,
                format!(
                    "message is larger than the limit of {} bytes",
                    self.config.limits.max_message_size
                ),
            ));
        }
        Ok(len as u32)
    }

    /// Changes flags (IMAP STORE).
    pub async fn store_flags(
        &self,
        who: &Principal,
        id: MailboxId,
        uids: &[Uid],
        op: FlagOp,
        flags: &Flags,
        unchanged_since: Option<u64>,
    ) -> Result<StoreFlagsOutcome> {
        self.mailbox_by_id(who, id).await?;
        let outcome = self
            .store
            .store_flags(id, uids, op, flags, unchanged_since)
            .await?;
        if !outcome.changed.is_empty() {
            self.notify(who.account, id);
        }
        Ok(outcome)
    }

    /// Copies messages to another mailbox of the principal; returns the target's UIDVALIDITY
    /// and (source UID, new UID) pairs for COPYUID.
    pub async fn copy_messages(
        &self,
        who: &Principal,
        source: MailboxId,
        uids: &[Uid],
        target: MailboxId,
    ) -> Result<(u32, Vec<(Uid, Uid)>)> {
        self.mailbox_by_id(who, source).await?;
        let target_mailbox = self.mailbox_by_id(who, target).await?;
        if source != target {
            let adding = self.size_of(who, source, uids).await?;
            self.check_quota(who, adding).await?;
        }
        let pairs = self.store.copy_messages(source, uids, target).await?;
        if !pairs.is_empty() {
            self.notify(who.account, target);
        }
        Ok((target_mailbox.uidvalidity, pairs))
    }

    /// Removes `\Deleted` messages (only among `uids` when given); returns the removed UIDs.
    pub async fn expunge(
        &self,
        who: &Principal,
        id: MailboxId,
        uids: Option<&[Uid]>,
    ) -> Result<Vec<Uid>> {
        self.mailbox_by_id(who, id).await?;
        let removed = self.store.expunge(id, uids).await?;
        if !removed.is_empty() {
            self.notify(who.account, id);
        }
        Ok(removed)
    }

    /// Moves messages to another mailbox of the principal in one transaction (IMAP MOVE,
    /// RFC 6851): they get new UIDs there and are expunged here, or nothing happens.
    pub async fn move_messages(
        &self,
        who: &Principal,
        source: MailboxId,
        uids: &[Uid],
        target: MailboxId,
    ) -> Result<MoveOutcome> {
        self.mailbox_by_id(who, source).await?;
        let target_mailbox = self.mailbox_by_id(who, target).await?;
        let pairs = self.store.move_messages(source, uids, target).await?;
        if !pairs.is_empty() {
            self.notify(who.account, source);
            if target != source {
                self.notify(who.account, target);
            }
        }
        Ok(MoveOutcome {
            uidvalidity: target_mailbox.uidvalidity,
            pairs,
        })
    }

    /// Empties Trash and Junk of every account of what was put there more than
    /// `[lifecycle] trash_days` / `junk_days` before `as_of` (SPEC §7); 0 days keeps
    /// everything. Sessions see the removals as expunges. Returns how many messages went.
    pub async fn empty_trash(&self, as_of: i64) -> Result<u64> {
        let cfg = &self.config.lifecycle;
        let mut removed = 0u64;
        for (special_use, days) in [
            (SpecialUse::Trash, cfg.trash_days),
            (SpecialUse::Junk, cfg.junk_days),
        ] {
            if days == 0 {
                continue;
            }
            let before = as_of - i64::from(days) * 86_400;
            for mailbox in self.store.mailboxes_with_old(special_use, before).await? {
                let uids = self.store.purge_before(mailbox.id, before).await?;
                if !uids.is_empty() {
                    removed += uids.len() as u64;
                    self.notify(mailbox.account_id, mailbox.id);
                }
            }
        }
        if removed > 0 {
            tracing::info!(removed, "Trash and Junk emptied of old messages");
        }
        Ok(removed)
    }

    /// The storage quota of the principal's account and what it uses (RFC 9208).
    pub async fn quota(&self, who: &Principal) -> Result<Quota> {
        let (used, messages) = self.store.account_usage(who.account).await?;
        Ok(Quota {
            used,
            limit: self.config.limits.account_quota,
            messages,
        })
    }

    /// Refuses with `QuotaExceeded` when `adding` more bytes would exceed the quota.
    async fn check_quota(&self, who: &Principal, adding: u64) -> Result<()> {
        let quota = self.quota(who).await?;
        if quota.used.saturating_add(adding) > quota.limit {
            return Err(Error::new(
                ErrorKind::QuotaExceeded,
                format!(
                    "mailbox is full: {} of {} bytes used / hop thu da day",
                    quota.used, quota.limit
                ),
            ));
        }
        Ok(())
    }

    /// Total size of some messages of a mailbox.
    async fn size_of(&self, _who: &Principal, mailbox: MailboxId, uids: &[Uid]) -> Result<u64> {
        Ok(self.store.messages_size(mailbox, uids).await?)
    }
}

/// Result of MOVE: the target's UIDVALIDITY and (old UID, new UID) pairs for COPYUID.
#[derive(Debug, Clone)]
pub struct MoveOutcome {
    pub uidvalidity: u32,
    pub pairs: Vec<(Uid, Uid)>,
}

/// Storage use of an account against its quota (RFC 9208 STORAGE is in KiB on the wire).
#[derive(Debug, Clone, Copy)]
pub struct Quota {
    pub used: u64,
    pub limit: u64,
    pub messages: u64,
}
