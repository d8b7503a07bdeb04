//! What the shared SQL (`src/sql/`) needs said in PostgreSQL's own words, and the row locks
//! that make its read-then-write steps safe when several connections (and several nodes)
//! write at once. SQLite gets the same safety from its single writer; here each writer locks
//! only what it changes.

use super::Tx;
use crate::Result;

/// How a write transaction starts (READ COMMITTED; the locks below do the rest).
pub(crate) const BEGIN_WRITE: &str = "BEGIN";

/// A write transaction whose commit does not wait for the WAL flush (`synchronous_commit =
/// off` for this transaction only): atomic and consistent, possibly lost if the database
/// server itself stops uncleanly. For the state of mail already kept, never for mail
/// (`group.rs`).
pub(crate) const BEGIN_WRITE_UNSYNCED: &str = "BEGIN; SET LOCAL synchronous_commit = off";

/// Messages of a mailbox, and how many of them are `\Seen`.
pub(crate) const STATUS_COUNTS: &str = "SELECT COUNT(*),
        CAST(COALESCE(SUM(CASE WHEN strpos(flags, '\\Seen') > 0 THEN 1 ELSE 0 END), 0) AS BIGINT)
   FROM messages WHERE mailbox_id = $1";

/// Count and bytes of the messages of a mailbox flagged `\Deleted`.
pub(crate) const DELETED_USAGE: &str =
    "SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM messages
  WHERE mailbox_id = $1 AND strpos(flags, '\\Deleted') > 0";

/// The messages of a mailbox flagged `\Deleted`, in UID order.
pub(crate) const DELETED_MESSAGES: &str =
    "SELECT uid, blob_hash, size, internal_date, flags, modseq FROM messages
  WHERE mailbox_id = $1 AND strpos(flags, '\\Deleted') > 0 ORDER BY uid";

/// One row for the whole mailbox: `uid TAB modseq TAB flags` lines in one text.
pub(crate) const MESSAGE_INDEX_PACKED: &str =
    "SELECT string_agg(uid || chr(9) || modseq || chr(9) || flags, chr(10) ORDER BY uid)
   FROM messages WHERE mailbox_id = $1";

/// The SORT keys of a mailbox packed like [`MESSAGE_INDEX_PACKED`]: fields split by US
/// (0x1f), messages by RS (0x1e); both are removed from the text fields first.
pub(crate) const SORT_ROWS_PACKED: &str = "SELECT string_agg(
        m.uid || chr(31) || m.size || chr(31) || m.internal_date || chr(31)
        || COALESCE(CAST(t.sent_at AS TEXT), '') || chr(31)
        || replace(replace(COALESCE(t.hfrom, ''), chr(30), ' '), chr(31), ' ')
        || chr(31)
        || replace(replace(COALESCE(t.hto, ''), chr(30), ' '), chr(31), ' ')
        || chr(31)
        || replace(replace(COALESCE(t.hcc, ''), chr(30), ' '), chr(31), ' ')
        || chr(31)
        || replace(replace(COALESCE(t.subject, ''), chr(30), ' '), chr(31), ' '),
        chr(30) ORDER BY m.uid)
   FROM messages m LEFT JOIN search_text t ON t.blob_hash = m.blob_hash
  WHERE m.mailbox_id = $1";

/// Claims due pending recipients nobody else holds for `$3` until `$4` (`$1` now, `$2` at
/// most; what `$3` holds already is taken again, so work it skipped is not stuck until its
/// lease ends);
/// returns the queue id of each. `SKIP LOCKED`: a row another node is claiming right now is left to it, not waited for.
pub(crate) const CLAIM_DUE: &str = "UPDATE queue_recipients SET lease_owner = $3, lease_until = $4
  WHERE (queue_id, address) IN (
        SELECT queue_id, address FROM queue_recipients
         WHERE state = 'pending' AND next_attempt_at <= $1
           AND (lease_until IS NULL OR lease_until < $1 OR lease_owner = $3)
         ORDER BY next_attempt_at, queue_id LIMIT $2 FOR UPDATE SKIP LOCKED)
  RETURNING queue_id";

/// A sub-select of the integers of a JSON array bound at `param` (`[1,2,3]`).
pub(crate) fn json_ids(param: &str) -> String {
    format!("SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST({param} AS JSON))")
}

/// The highest id of `table` or of its identity sequence, whichever is higher.
pub(crate) fn max_id_sql(table: &str) -> String {
    format!(
        "SELECT GREATEST(COALESCE(MAX(id), 0),
                COALESCE((SELECT last_value FROM {table}_id_seq WHERE is_called), 0))
           FROM {table}"
    )
}

/// Other writers of these tables wait until this transaction ends (readers do not).
pub(crate) async fn lock_for_explicit_ids(tx: &mut Tx, tables: &[&str]) -> Result<()> {
    let sql = format!(
        "LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE",
        tables.join(", ")
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Moves each identity sequence above the ids given explicitly.
pub(crate) async fn after_explicit_ids(tx: &mut Tx, tables: &[&str]) -> Result<()> {
    for table in tables {
        let sql = format!(
            "SELECT setval('{table}_id_seq', (SELECT MAX(id) FROM {table}))
              WHERE EXISTS (SELECT 1 FROM {table})"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Transaction-scoped advisory lock keys (one namespace for the whole schema).
pub(crate) mod lock_keys {
    pub(crate) const MIGRATIONS: i64 = 0x686f_7074_0000;
    pub(crate) const AUDIT_CHAIN: i64 = 0x686f_7074_0001;
    /// The collector's look-and-delete of an object in a shared bucket (exclusive) against a
    /// node's check after its commit (shared): `NodeStore::blob_gate`.
    pub(crate) const BLOB_GATE: i64 = 0x686f_7074_0002;
}

/// Nodes starting together migrate one after the other (the later finds nothing to do).
pub(crate) async fn lock_migrations(tx: &mut Tx) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(lock_keys::MIGRATIONS)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Serialises appends to the audit chain: each reads the last hash and links to it.
pub(crate) async fn lock_audit_chain(tx: &mut Tx) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(lock_keys::AUDIT_CHAIN)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Locks the rows of these mailboxes (in id order, so two writers never wait on each other
/// crosswise) until the transaction ends: their messages, UIDs and modseqs change only here.
pub(crate) async fn lock_mailboxes(tx: &mut Tx, mailboxes: &[i64]) -> Result<()> {
    let mut ids = mailboxes.to_vec();
    ids.sort_unstable();
    ids.dedup();
    sqlx::query("SELECT id FROM mailboxes WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .bind(ids)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
