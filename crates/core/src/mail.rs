//! Mailboxes and messages of a signed-in account: list, create, rename, delete, subscribe,
//! status, append, flags, copy, expunge, and the change feed sessions use to stay in step.
//!
//! **Invariant**: every method checks that the mailbox belongs to the principal, and notifies
//! [`crate::MailEvent`] only after its change is committed.

use std::sync::Arc;

use hopthu_model::{AccountId, Flag, FlagOp, Flags, MailboxId, Uid};
use hopthu_store::{
    BlobId, Changes, Delivery, MailboxRecord, MailboxStatus, MessageIndex, MessageRecord, SortRow,
    SpecialUse, StoreFlagsOutcome,
};

use crate::shared::{SHARED_ROOT, is_shared_name, shown};
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
    /// All mailboxes of the principal, by name: its own, then the folders of each unit
    /// mailbox it may see, as `Shared/<unit address>/<folder>` (`crate::shared`).
    pub async fn mailboxes(&self, who: &Principal) -> Result<Vec<MailboxRecord>> {
        let mut all = self.store.mailboxes(who.account).await?;
        for unit in self.shared_mailboxes(who).await? {
            if !unit.access.allows('l') {
                continue;
            }
            let prefix = unit.prefix();
            for record in self.store.mailboxes(unit.account).await? {
                all.push(shown(record, &prefix));
            }
        }
        Ok(all)
    }

    /// A mailbox of the principal by name (its own, or a shared one it may see).
    pub async fn mailbox(&self, who: &Principal, name: &str) -> Result<MailboxRecord> {
        let place = self.place(who, name).await?;
        self.store
            .mailbox_by_name(place.owner, &canonical_name(&place.local))
            .await?
            .map(|m| shown(m, &place.prefix))
            .ok_or_else(|| Error::not_found(format!("no mailbox named {name:?}")))
    }

    /// A mailbox of the principal by id (its own, or a shared one it may see).
    pub async fn mailbox_by_id(&self, who: &Principal, id: MailboxId) -> Result<MailboxRecord> {
        Ok(self.mailbox_access(who, id).await?.0)
    }

    /// Creates a mailbox, and any missing parents (RFC 3501 §6.3.3).
    pub async fn create_mailbox(
        &self,
        who: &Principal,
        name: &str,
        special_use: Option<SpecialUse>,
    ) -> Result<MailboxId> {
        let place = self
            .place(who, &canonical_name(name.trim_end_matches(SEPARATOR)))
            .await?;
        let name = canonical_name(&place.local);
        check_new_name(&name)?;
        if name == "INBOX" {
            return Err(Error::new(ErrorKind::AlreadyExists, "INBOX always exists"));
        }
        if place.prefix.is_empty() && is_shared_name(&name) {
            return Err(Error::invalid(format!(
                "\"{SHARED_ROOT}\" là tên dành cho hộp thư đơn vị / \"{SHARED_ROOT}\" is reserved for unit mailboxes"
            )));
        }
        place.access.require('k')?;
        let (owner, special_use) = if place.prefix.is_empty() {
            (who.account, special_use)
        } else {
            (place.owner, None)
        };
        let mut parent = String::new();
        let parts: Vec<&str> = name.split(SEPARATOR).collect();
        for part in &parts[..parts.len() - 1] {
            if !parent.is_empty() {
                parent.push(SEPARATOR);
            }
            parent.push_str(part);
            if self.store.mailbox_by_name(owner, &parent).await?.is_none() {
                self.store.create_mailbox(owner, &parent, None).await?;
            }
        }
        Ok(self.store.create_mailbox(owner, &name, special_use).await?)
    }

    /// Deletes a mailbox and its messages. INBOX cannot be deleted; a mailbox with children
    /// cannot either (RFC 3501 §6.3.4 allows refusing; we keep the hierarchy whole).
    pub async fn delete_mailbox(&self, who: &Principal, name: &str) -> Result<()> {
        let place = self.place(who, name).await?;
        let mailbox = self.mailbox(who, name).await?;
        place.access.require('x')?;
        let local = &mailbox.name[place.prefix.len()..];
        if local == "INBOX" {
            return Err(Error::forbidden("INBOX cannot be deleted"));
        }
        let prefix = format!("{local}{SEPARATOR}");
        if self
            .store
            .mailboxes(place.owner)
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
        self.notify(place.owner, mailbox.id);
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
        let from_place = self.place(who, from).await?;
        let mailbox = self.mailbox(who, from).await?;
        let to = canonical_name(to.trim_end_matches(SEPARATOR));
        let to_place = self.place(who, &to).await?;
        if from_place.owner != to_place.owner {
            return Err(Error::invalid(
                "không thể chuyển thư mục sang hộp thư khác / a mailbox cannot move to another account's mailboxes",
            ));
        }
        from_place.access.require('x')?;
        to_place.access.require('k')?;
        let owner = from_place.owner;
        let local = mailbox.name[from_place.prefix.len()..].to_string();
        let to_local = canonical_name(&to_place.local);
        check_new_name(&to_local)?;
        if to_local == "INBOX" {
            return Err(Error::new(ErrorKind::AlreadyExists, "INBOX always exists"));
        }
        if to_place.prefix.is_empty() && is_shared_name(&to_local) {
            return Err(Error::invalid(format!(
                "\"{SHARED_ROOT}\" là tên dành cho hộp thư đơn vị / \"{SHARED_ROOT}\" is reserved for unit mailboxes"
            )));
        }
        if local == "INBOX" {
            let target = self.create_mailbox(who, &to, None).await?;
            let uids = self.store.message_index(mailbox.id).await?.uids;
            self.store.move_messages(mailbox.id, &uids, target).await?;
            self.notify(owner, mailbox.id);
            self.notify(owner, target);
            return Ok((mailbox.name, to));
        }
        if to_local.starts_with(&format!("{local}{SEPARATOR}")) {
            return Err(Error::invalid("a mailbox cannot move below itself"));
        }
        if let Some((parent, _)) = to_local.rsplit_once(SEPARATOR)
            && self.store.mailbox_by_name(owner, parent).await?.is_none()
        {
            let shown_parent = format!("{}{parent}", to_place.prefix);
            self.create_mailbox(who, &shown_parent, None).await?;
        }
        self.store.rename_mailbox(owner, &local, &to_local).await?;
        self.notify(owner, mailbox.id);
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
        let mut status = self.store.mailbox_status(id).await?;
        if status.mailbox.account_id != who.account {
            status.mailbox = self.mailbox_by_id(who, id).await?;
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
        let (mailbox, access) = self.mailbox_access(who, id).await?;
        access.require('i')?;
        let size = self.check_size(raw.len())?;
        self.check_quota(mailbox.account_id, u64::from(size))
            .await?;
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
                    received: false, // an APPEND is not mail received
                    blob: &body.id,
                    size,
                    internal_date: internal_date.unwrap_or_else(now),
                    targets: &hopthu_store::same_flags(&[id], flags),
                    queue: &[],
                },
                Some(&text),
            )
            .await?;
        self.store.settle_body(&body, raw).await?;
        self.text_stored(Some(&text));
        self.notify(mailbox.account_id, id);
        self.audit_shared(who, &mailbox, access, "append", &[uids[0].1], None)
            .await;
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
        let (mailbox, access) = self.mailbox_access(who, id).await?;
        // RFC 4314 §4: \Seen needs `s`, \Deleted `t`, every other flag `w`; replacing the
        // flags may clear any of them.
        let replace = matches!(op, FlagOp::Replace);
        if replace || flags.contains(&Flag::Deleted) {
            access.require('t')?;
        }
        if replace
            || flags
                .iter()
                .any(|f| !matches!(f, Flag::Seen | Flag::Deleted))
        {
            access.require('w')?;
        }
        if flags.contains(&Flag::Seen) {
            access.require('s')?;
        }
        let outcome = self
            .store
            .store_flags(id, uids, op, flags, unchanged_since)
            .await?;
        if !outcome.changed.is_empty() {
            self.notify(mailbox.account_id, id);
            let changed: Vec<Uid> = outcome.changed.iter().map(|m| m.uid).collect();
            if op != FlagOp::Remove && flags.contains(&Flag::Seen) {
                // An official document's copy read for the first time (Đ15 tracking).
                self.note_documents_opened(id, &changed, &who.address.to_string())
                    .await;
            }
            if op != FlagOp::Remove {
                for (flag, action) in [(Flag::Seen, "read"), (Flag::Deleted, "delete")] {
                    if flags.contains(&flag) {
                        self.audit_shared(who, &mailbox, access, action, &changed, None)
                            .await;
                    }
                }
            }
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
        let (source_mailbox, access) = self.mailbox_access(who, source).await?;
        access.require('r')?;
        let (target_mailbox, target_access) = self.mailbox_access(who, target).await?;
        target_access.require('i')?;
        if source != target {
            let adding = self.size_of(who, source, uids).await?;
            self.check_quota(target_mailbox.account_id, adding).await?;
        }
        let pairs = self.store.copy_messages(source, uids, target).await?;
        if !pairs.is_empty() {
            self.notify(target_mailbox.account_id, target);
            let copied: Vec<Uid> = pairs.iter().map(|p| p.0).collect();
            let to = ("to", target_mailbox.name.as_str());
            self.audit_shared(who, &source_mailbox, access, "copy", &copied, Some(to))
                .await;
            let added: Vec<Uid> = pairs.iter().map(|p| p.1).collect();
            self.audit_shared(who, &target_mailbox, target_access, "append", &added, None)
                .await;
            // Into or out of Junk: the spam classifier learns (after the commit, never failing).
            self.note_filed(who, &source_mailbox, &target_mailbox, added);
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
        let (mailbox, access) = self.mailbox_access(who, id).await?;
        access.require('e')?;
        let removed = self.store.expunge(id, uids).await?;
        if !removed.is_empty() {
            self.notify(mailbox.account_id, id);
            self.audit_shared(who, &mailbox, access, "expunge", &removed, None)
                .await;
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
        // RFC 6851 §3.3 with RFC 4314: MOVE needs `t` and `e` on the source, `i` on the
        // target.
        let (source_mailbox, access) = self.mailbox_access(who, source).await?;
        access.require('t')?;
        access.require('e')?;
        let (target_mailbox, target_access) = self.mailbox_access(who, target).await?;
        target_access.require('i')?;
        if source_mailbox.account_id != target_mailbox.account_id {
            let adding = self.size_of(who, source, uids).await?;
            self.check_quota(target_mailbox.account_id, adding).await?;
        }
        let pairs = self.store.move_messages(source, uids, target).await?;
        if !pairs.is_empty() {
            self.notify(source_mailbox.account_id, source);
            if target != source {
                self.notify(target_mailbox.account_id, target);
            }
            let moved: Vec<Uid> = pairs.iter().map(|p| p.0).collect();
            let to = ("to", target_mailbox.name.as_str());
            self.audit_shared(who, &source_mailbox, access, "move", &moved, Some(to))
                .await;
            let added: Vec<Uid> = pairs.iter().map(|p| p.1).collect();
            self.audit_shared(who, &target_mailbox, target_access, "append", &added, None)
                .await;
            // Into or out of Junk: the spam classifier learns (after the commit, never failing).
            self.note_filed(who, &source_mailbox, &target_mailbox, added);
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
        self.quota_of(who.account).await
    }

    /// Storage use of an account (its own, or a unit mailbox's a delegate adds to).
    async fn quota_of(&self, account: AccountId) -> Result<Quota> {
        let (used, messages) = self.store.account_usage(account).await?;
        Ok(Quota {
            used,
            limit: self.config.limits.account_quota,
            messages,
        })
    }

    /// Refuses with `QuotaExceeded` when `adding` more bytes would exceed the quota.
    pub(crate) async fn check_quota(&self, account: AccountId, adding: u64) -> Result<()> {
        let quota = self.quota_of(account).await?;
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
