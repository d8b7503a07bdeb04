//! Records read from and written to the store.

use hopthu_model::{AccountId, Flags, MailboxId, Uid};

use crate::BlobId;

/// SPECIAL-USE attribute of a mailbox (RFC 6154).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialUse {
    Sent,
    Drafts,
    Trash,
    Junk,
    Archive,
    All,
    Flagged,
}

impl SpecialUse {
    pub fn as_str(self) -> &'static str {
        match self {
            SpecialUse::Sent => "\\Sent",
            SpecialUse::Drafts => "\\Drafts",
            SpecialUse::Trash => "\\Trash",
            SpecialUse::Junk => "\\Junk",
            SpecialUse::Archive => "\\Archive",
            SpecialUse::All => "\\All",
            SpecialUse::Flagged => "\\Flagged",
        }
    }

    pub fn parse(s: &str) -> Option<SpecialUse> {
        Some(match s.to_ascii_lowercase().as_str() {
            "\\sent" => SpecialUse::Sent,
            "\\drafts" => SpecialUse::Drafts,
            "\\trash" => SpecialUse::Trash,
            "\\junk" => SpecialUse::Junk,
            "\\archive" => SpecialUse::Archive,
            "\\all" => SpecialUse::All,
            "\\flagged" => SpecialUse::Flagged,
            _ => return None,
        })
    }
}

/// Whether an account may sign in and receive mail (Đ8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountState {
    Active,
    Revoked,
}

impl AccountState {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountState::Active => "active",
            AccountState::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> AccountState {
        if s == "active" {
            AccountState::Active
        } else {
            AccountState::Revoked
        }
    }
}

/// A new account to create.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub address: String,
    pub display_name: String,
    pub password_hash: String,
    pub must_change_password: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct AccountRecord {
    pub id: AccountId,
    pub address: String,
    pub display_name: String,
    pub password_hash: String,
    pub must_change_password: bool,
    pub state: AccountState,
    pub created_at: i64,
    /// The last successful sign-in (Đ8.3: the inactivity sweep counts months from it), to
    /// within [`ACCESS_RECORD_INTERVAL`]: a sign-in writes its time only when this one is at
    /// least that old ([`AccountRecord::access_record_due`]).
    pub last_access_at: Option<i64>,
}

/// How stale `accounts.last_access_at` may be. A sign-in records its time only when the
/// stored last access is at least this old (or missing): the inactivity sweep measures
/// months, and a mail client signing in every few minutes would otherwise cost a write, and
/// a commit, per sign-in. The caller decides from the account record it read to check the
/// password, so skipping costs no extra read. (A re-issue sets the column too: see
/// `LifecycleEffect::SetPersonState`.)
pub const ACCESS_RECORD_INTERVAL: i64 = 3600;

impl AccountRecord {
    /// Whether a sign-in at `now` should record its time as the last access
    /// ([`ACCESS_RECORD_INTERVAL`]).
    pub fn access_record_due(&self, now: i64) -> bool {
        self.last_access_at
            .is_none_or(|last| now - last >= ACCESS_RECORD_INTERVAL)
    }
}

#[derive(Debug, Clone)]
pub struct MailboxRecord {
    pub id: MailboxId,
    pub account_id: AccountId,
    pub name: String,
    pub special_use: Option<SpecialUse>,
    pub uidvalidity: u32,
    pub uidnext: u32,
    pub highestmodseq: u64,
}

#[derive(Debug, Clone)]
pub struct MailboxStatus {
    pub mailbox: MailboxRecord,
    pub messages: u32,
    pub unseen: u32,
}

#[derive(Debug, Clone)]
pub struct MessageRecord {
    pub uid: Uid,
    pub blob: BlobId,
    pub size: u32,
    /// Unix seconds.
    pub internal_date: i64,
    pub flags: Flags,
    pub modseq: u64,
}

/// Every message of a mailbox as an IMAP session keeps it while the mailbox is selected: UID,
/// flags and modseq only, in parallel vectors (UID order), with each distinct flag set stored
/// once. About 16 bytes a message, so a 100,000-message folder costs a session ~1.6 MB.
#[derive(Debug, Clone, Default)]
pub struct MessageIndex {
    pub uids: Vec<Uid>,
    pub modseqs: Vec<u64>,
    /// Position in `flag_sets` of each message's flags.
    pub flags: Vec<u32>,
    /// The distinct flag sets, each once (a mailbox has a handful).
    pub flag_sets: Vec<Flags>,
    /// The mailbox's highest modseq in the same snapshot as the rows.
    pub highestmodseq: u64,
}

/// What SORT (RFC 5256) orders a message by: size and dates, and the folded header text of
/// the search index (empty until the message is indexed).
#[derive(Debug, Clone)]
pub struct SortRow {
    pub uid: Uid,
    pub size: u32,
    pub internal_date: i64,
    /// The Date header (Unix seconds).
    pub sent_at: Option<i64>,
    pub from: String,
    pub to: String,
    pub cc: String,
    pub subject: String,
}

/// What changed in a mailbox after a given modseq.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// Messages added or whose flags changed, in UID order.
    pub changed: Vec<MessageRecord>,
    /// UIDs expunged, ascending.
    pub expunged: Vec<Uid>,
    pub highestmodseq: u64,
}

/// Outcome of a flag change.
#[derive(Debug, Clone, Default)]
pub struct StoreFlagsOutcome {
    /// Messages whose flags changed, with their new flags and modseq.
    pub changed: Vec<MessageRecord>,
    /// UIDs left alone because they were modified after `unchanged_since`.
    pub failed: Vec<Uid>,
}

/// One durable delivery of an already stored blob: one message row per target, each with the
/// flags of that copy (a Sieve rule may flag the copy filed in one folder and not another),
/// and the outbound queue's entries (the remote recipients; mail a rule forwards, under its
/// own envelope sender). All of it commits in one transaction or none of it does.
#[derive(Debug, Clone)]
pub struct Delivery<'a> {
    pub blob: &'a BlobId,
    pub size: u32,
    pub internal_date: i64,
    /// (mailbox, flags of the copy stored there).
    pub targets: &'a [(MailboxId, Flags)],
    pub queue: &'a [QueueEntry<'a>],
    /// Mail received (SMTP, local delivery, a document): each account it reaches is counted in
    /// the Đ17 ledger once, whatever folder its filters chose, Junk excepted. An IMAP APPEND or
    /// an import is not mail received.
    pub received: bool,
}

/// The targets of a delivery whose copies all carry the same flags.
pub fn same_flags(mailboxes: &[MailboxId], flags: &Flags) -> Vec<(MailboxId, Flags)> {
    mailboxes.iter().map(|m| (*m, flags.clone())).collect()
}

/// Mail for other domains waiting for the outbound queue.
#[derive(Debug, Clone)]
pub struct QueueEntry<'a> {
    pub mail_from: &'a str,
    pub recipients: &'a [String],
    /// DSN parameters (RFC 3461) when the client gave any.
    pub dsn: Option<&'a crate::QueueDsn>,
}

#[derive(Debug, Clone)]
pub struct QueueRecord {
    pub id: i64,
    pub blob: BlobId,
    pub mail_from: String,
    pub recipients: Vec<String>,
    pub created_at: i64,
    pub next_attempt_at: i64,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// Counts for the metrics endpoint, read in one go.
#[derive(Debug, Clone, Default)]
pub struct StoreStats {
    /// Accounts per state (`active`, `revoked`, ...).
    pub accounts: Vec<(String, u64)>,
    /// Messages in every mailbox.
    pub messages: u64,
    /// Distinct bodies still referenced, and their bytes.
    pub blobs: u64,
    pub blob_bytes: u64,
    /// Outbound queue recipients per state (`pending`, `delivered`, `failed`, `reported`).
    pub queue: Vec<(String, u64)>,
}

/// How long sign-in history is kept.
pub const SIGN_IN_HISTORY_DAYS: i64 = 180;

/// One sign-in attempt: when, through what (`imap`, `pop3`, `smtp`, `webmail`, `api`), from
/// where, and how it ended (`ok`, `failed`, `refused`, `expired`, `throttled`, `must_change`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInRecord {
    pub account: AccountId,
    pub at: i64,
    pub via: String,
    pub ip: String,
    pub result: String,
}

/// One unit's figures over a period, for the report to the provincial People's Committee
/// (Đ17, SPEC §9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitActivity {
    pub unit_id: i64,
    /// People of the unit with an active mailbox now.
    pub active: u64,
    /// People added to the unit in the period.
    pub new: u64,
    /// Mailboxes of the unit's people revoked in the period.
    pub revoked: u64,
    /// Messages that arrived in the INBOX of the unit's people and unit mailbox.
    pub received: u64,
    /// Messages put in their Sent folders (sent from the webmail or kept by a mail client).
    pub sent: u64,
    /// Of those mailboxes, how many were signed in to at least once.
    pub signed_in: u64,
    /// Person-days on which one of the unit's people signed in at least twice on a working
    /// day (Monday to Friday, Vietnam time): Đ13.1 asks staff to open their mailbox at least
    /// twice per working day.
    pub compliant_days: u64,
}
