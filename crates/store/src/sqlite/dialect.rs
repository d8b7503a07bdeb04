//! What the shared SQL (`src/sql/`) needs said in SQLite's own words: aggregates that pack a
//! mailbox into one text, the test for a system flag, a list of ids bound as one parameter,
//! and the locks that PostgreSQL needs and SQLite does not (every SQLite write already holds
//! the one database lock, `BEGIN IMMEDIATE`).

use super::Tx;
use crate::Result;

/// How a write transaction starts: with the database's write lock taken at once, so a writer
/// in another process waits (busy timeout) instead of failing half-way, and its commit waiting
/// for the WAL's fsync (`synchronous = FULL`). The setting belongs to the connection, so every
/// write transaction says its own: one that followed [`BEGIN_WRITE_UNSYNCED`] must not inherit it.
pub(crate) const BEGIN_WRITE: &str = "PRAGMA synchronous = FULL; BEGIN IMMEDIATE";

/// A write transaction whose commit does not wait for the disk (`synchronous = NORMAL`: the
/// WAL is written but fsynced only by a later FULL commit or checkpoint). Atomic and
/// consistent; after a power cut (not a crash of the process) it may be lost. For the state
/// of mail that is already kept — flags, expunges, copies, sign-in history — never for mail
/// itself (`group.rs`).
pub(crate) const BEGIN_WRITE_UNSYNCED: &str = "PRAGMA synchronous = NORMAL; BEGIN IMMEDIATE";

/// Messages of a mailbox, and how many of them are `\Seen`.
pub(crate) const STATUS_COUNTS: &str =
    "SELECT COUNT(*), COALESCE(SUM(instr(flags, '\\Seen') > 0), 0)
   FROM messages WHERE mailbox_id = $1";

/// Count and bytes of the messages of a mailbox flagged `\Deleted`. A keyword cannot contain
/// a backslash, so the text test is exact.
pub(crate) const DELETED_USAGE: &str = "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM messages
  WHERE mailbox_id = $1 AND instr(flags, '\\Deleted') > 0";

/// The messages of a mailbox flagged `\Deleted`, in UID order.
pub(crate) const DELETED_MESSAGES: &str =
    "SELECT uid, blob_hash, size, internal_date, flags, modseq FROM messages
  WHERE mailbox_id = $1 AND instr(flags, '\\Deleted') > 0 ORDER BY uid";

/// One row for the whole mailbox: `uid TAB modseq TAB flags` lines in one text (ORDER BY
/// inside the aggregate, SQLite >= 3.44). Streaming 100,000 rows through the driver costs
/// ~10 us each; this costs ~20 ms in all. TAB and LF cannot occur in flags (a keyword is an
/// atom: no control characters).
pub(crate) const MESSAGE_INDEX_PACKED: &str =
    "SELECT group_concat(uid || char(9) || modseq || char(9) || flags, char(10) ORDER BY uid)
   FROM messages WHERE mailbox_id = $1";

/// The SORT keys of a mailbox packed like [`MESSAGE_INDEX_PACKED`]: fields split by US
/// (0x1f), messages by RS (0x1e); both are removed from the text fields first.
pub(crate) const SORT_ROWS_PACKED: &str = "SELECT group_concat(
        m.uid || char(31) || m.size || char(31) || m.internal_date || char(31)
        || COALESCE(t.sent_at, '') || char(31)
        || replace(replace(COALESCE(t.hfrom, ''), char(30), ' '), char(31), ' ')
        || char(31)
        || replace(replace(COALESCE(t.hto, ''), char(30), ' '), char(31), ' ')
        || char(31)
        || replace(replace(COALESCE(t.hcc, ''), char(30), ' '), char(31), ' ')
        || char(31)
        || replace(replace(COALESCE(t.subject, ''), char(30), ' '), char(31), ' '),
        char(30) ORDER BY m.uid)
   FROM messages m LEFT JOIN search_text t ON t.blob_hash = m.blob_hash
  WHERE m.mailbox_id = $1";

/// Claims due pending recipients nobody else holds for `$3` until `$4` (`$1` now, `$2` at
/// most; what `$3` holds already is taken again, so work it skipped is not stuck until its
/// lease ends);
/// returns the queue id of each. SQLite's one writer makes the claim atomic.
pub(crate) const CLAIM_DUE: &str = "UPDATE queue_recipients SET lease_owner = $3, lease_until = $4
  WHERE (queue_id, address) IN (
        SELECT queue_id, address FROM queue_recipients
         WHERE state = 'pending' AND next_attempt_at <= $1
           AND (lease_until IS NULL OR lease_until < $1 OR lease_owner = $3)
         ORDER BY next_attempt_at, queue_id LIMIT $2)
  RETURNING queue_id";

/// A sub-select of the integers of a JSON array bound at `param` (`[1,2,3]`).
pub(crate) fn json_ids(param: &str) -> String {
    format!("SELECT value FROM json_each({param})")
}

/// The highest id of `table` (0 when empty).
pub(crate) fn max_id_sql(table: &str) -> String {
    format!("SELECT COALESCE(MAX(id), 0) FROM {table}")
}

/// Nothing to lock: the transaction holds SQLite's write lock.
pub(crate) async fn lock_for_explicit_ids(_tx: &mut Tx, _tables: &[&str]) -> Result<()> {
    Ok(())
}

/// Nothing to do: `INTEGER PRIMARY KEY` continues above the highest row by itself.
pub(crate) async fn after_explicit_ids(_tx: &mut Tx, _tables: &[&str]) -> Result<()> {
    Ok(())
}

/// Nothing to lock: the transaction holds SQLite's write lock.
pub(crate) async fn lock_migrations(_tx: &mut Tx) -> Result<()> {
    Ok(())
}

/// Nothing to lock: the transaction holds SQLite's write lock.
pub(crate) async fn lock_audit_chain(_tx: &mut Tx) -> Result<()> {
    Ok(())
}

/// Nothing to lock: the transaction holds SQLite's write lock.
pub(crate) async fn lock_mailboxes(_tx: &mut Tx, _mailboxes: &[i64]) -> Result<()> {
    Ok(())
}
