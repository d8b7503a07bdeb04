//! Accounts, mailboxes and messages: the SQL both back-ends share. This file is compiled once
//! per back-end (`sqlite/mod.rs`, `postgres/mod.rs` include it with `#[path]`), against that
//! back-end's `Db`, `DbRow`, `Tx` and `dialect`, so the two run the same statements except
//! where `dialect` says otherwise.

use std::collections::{HashMap, HashSet};

use hopthu_model::{AccountId, FlagOp, Flags, MailboxId, Uid};
use sqlx::Row;

use sqlx::AssertSqlSafe;

use super::{Backend, DbRow, Tx, dialect, group, now};
use crate::types::*;
use crate::{BlobId, Result, StoreError};

impl Backend {
    /// Hands `work` to the group-commit writer (`group.rs`) and waits until the transaction
    /// holding it has committed.
    async fn write(&self, work: group::Work) -> Result<group::Done> {
        let (job, answer) = group::WriteJob::new(work);
        let stopped = || StoreError::io("group commit", std::io::Error::other("writer stopped"));
        self.deliveries.send(job).await.map_err(|_| stopped())?;
        self.group
            .submitted
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        answer.await.map_err(|_| stopped())?
    }

    /// (writes handed to the writer, transactions it committed).
    #[cfg(test)]
    pub(crate) fn group_stats(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.group.submitted.load(Relaxed),
            self.group.commits.load(Relaxed),
        )
    }

    /// fsyncs of SQLite's WAL by the group commit's syncer (0 on PostgreSQL).
    #[cfg(test)]
    pub(crate) fn wal_syncs(&self) -> u64 {
        self.group
            .wal_syncs
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Records `uid` of `mailbox` as expunged at `modseq` (QRESYNC's VANISHED reads it).
async fn record_expunged(tx: &mut Tx, mailbox: MailboxId, uid: Uid, modseq: u64) -> Result<()> {
    sqlx::query(
        "INSERT INTO expunged (mailbox_id, uid, modseq) VALUES ($1, $2, $3)
         ON CONFLICT (mailbox_id, uid) DO UPDATE SET modseq = excluded.modseq",
    )
    .bind(mailbox.0)
    .bind(i64::from(uid.0))
    .bind(modseq as i64)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Removes messages from a mailbox inside `tx`, as EXPUNGE does: one new modseq, each UID
/// recorded as expunged (QRESYNC), the blob references released.
async fn remove_messages(tx: &mut Tx, mailbox: MailboxId, doomed: &[MessageRecord]) -> Result<()> {
    let modseq = bump_modseq(tx, mailbox).await?;
    for m in doomed {
        sqlx::query("DELETE FROM messages WHERE mailbox_id = $1 AND uid = $2")
            .bind(mailbox.0)
            .bind(i64::from(m.uid.0))
            .execute(&mut **tx)
            .await?;
        record_expunged(tx, mailbox, m.uid, modseq).await?;
        sqlx::query("UPDATE blobs SET refcount = refcount - 1 WHERE hash = $1")
            .bind(m.blob.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

impl Backend {
    // ---- queue ----------------------------------------------------------------------------
}

/// Inserts an account with `folders` inside `tx`; an address taken already is a
/// [`StoreError::Conflict`].
pub(super) async fn insert_account(
    tx: &mut Tx,
    account: &NewAccount,
    folders: &[(&str, Option<SpecialUse>)],
) -> Result<AccountId> {
    let result = sqlx::query(
        "INSERT INTO accounts (address, display_name, password_hash, must_change_password, state, created_at)
         VALUES ($1, $2, $3, $4, 'active', $5) RETURNING id",
    )
    .bind(&account.address)
    .bind(&account.display_name)
    .bind(&account.password_hash)
    .bind(account.must_change_password)
    .bind(account.created_at)
    .fetch_one(&mut **tx)
    .await;
    let id = match result {
        Ok(r) => AccountId(r.try_get(0)?),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(StoreError::Conflict(account.address.clone()));
        }
        Err(e) => return Err(e.into()),
    };
    for (name, special_use) in folders {
        insert_mailbox(tx, id, name, *special_use).await?;
    }
    Ok(id)
}

pub(super) async fn insert_mailbox(
    tx: &mut Tx,
    account: AccountId,
    name: &str,
    special_use: Option<SpecialUse>,
) -> Result<MailboxId> {
    // RFC 3501 §2.3.1.1: a recreated mailbox must get a new UIDVALIDITY; time plus a sequence
    // number keeps them distinct even within one second.
    let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM mailboxes")
        .fetch_one(&mut **tx)
        .await?;
    let uidvalidity = (now() as u32).wrapping_add(seq as u32) & 0x7fff_ffff;
    let r = sqlx::query(
        "INSERT INTO mailboxes (account_id, name, special_use, uidvalidity) VALUES ($1, $2, $3, $4)
         RETURNING id",
    )
    .bind(account.0)
    .bind(name)
    .bind(special_use.map(SpecialUse::as_str))
    .bind(i64::from(uidvalidity.max(1)))
    .fetch_one(&mut **tx)
    .await;
    match r {
        Ok(r) => Ok(MailboxId(r.try_get(0)?)),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(StoreError::Conflict(name.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Inserts a message row into `mailbox` with the next UID and a new modseq (the triggers
/// count it and index it); the caller accounts for the blob reference.
pub(super) async fn insert_message(
    tx: &mut Tx,
    mailbox: MailboxId,
    blob: &BlobId,
    size: u32,
    internal_date: i64,
    flags: &str,
) -> Result<Uid> {
    let (uid, modseq) = next_uid(tx, mailbox).await?;
    sqlx::query(
        "INSERT INTO messages (mailbox_id, uid, blob_hash, size, internal_date, flags, modseq, added_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(mailbox.0)
    .bind(i64::from(uid.0))
    .bind(blob.as_str())
    .bind(i64::from(size))
    .bind(internal_date)
    .bind(flags)
    .bind(modseq as i64)
    .bind(now())
    .execute(&mut **tx)
    .await?;
    Ok(uid)
}

/// Allocates the next UID of a mailbox and a new modseq for the message that gets it.
pub(super) async fn next_uid(tx: &mut Tx, mailbox: MailboxId) -> Result<(Uid, u64)> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1
          WHERE id = $1 RETURNING uidnext - 1, highestmodseq",
    )
    .bind(mailbox.0)
    .fetch_optional(&mut **tx)
    .await?;
    let (uid, modseq) = row.ok_or_else(|| StoreError::NotFound(format!("mailbox {mailbox}")))?;
    Ok((Uid(uid as u32), modseq as u64))
}

async fn bump_modseq(tx: &mut Tx, mailbox: MailboxId) -> Result<u64> {
    let modseq: Option<i64> = sqlx::query_scalar(
        "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = $1 RETURNING highestmodseq",
    )
    .bind(mailbox.0)
    .fetch_optional(&mut **tx)
    .await?;
    modseq
        .map(|m| m as u64)
        .ok_or_else(|| StoreError::NotFound(format!("mailbox {mailbox}")))
}

/// The messages of `mailbox` whose UID is in `uids`, in UID order.
async fn messages_in(tx: &mut Tx, mailbox: MailboxId, uids: &[Uid]) -> Result<Vec<MessageRecord>> {
    let (Some(min), Some(max)) = (uids.iter().min(), uids.iter().max()) else {
        return Ok(Vec::new());
    };
    let wanted: HashSet<Uid> = uids.iter().copied().collect();
    let rows = sqlx::query(
        "SELECT uid, blob_hash, size, internal_date, flags, modseq FROM messages
          WHERE mailbox_id = $1 AND uid BETWEEN $2 AND $3 ORDER BY uid",
    )
    .bind(mailbox.0)
    .bind(i64::from(min.0))
    .bind(i64::from(max.0))
    .fetch_all(&mut **tx)
    .await?;
    let mut out = Vec::new();
    for row in &rows {
        let m = message_from_row(row)?;
        if wanted.contains(&m.uid) {
            out.push(m);
        }
    }
    Ok(out)
}

fn account_from_row(r: &DbRow) -> Result<AccountRecord> {
    Ok(AccountRecord {
        id: AccountId(r.try_get("id")?),
        address: r.try_get("address")?,
        display_name: r.try_get("display_name")?,
        password_hash: r.try_get("password_hash")?,
        must_change_password: r.try_get("must_change_password")?,
        state: AccountState::parse(r.try_get::<&str, _>("state")?),
        created_at: r.try_get("created_at")?,
        last_access_at: r.try_get("last_access_at")?,
    })
}

fn mailbox_from_row(r: &DbRow) -> Result<MailboxRecord> {
    let special_use: Option<String> = r.try_get("special_use")?;
    Ok(MailboxRecord {
        id: MailboxId(r.try_get("id")?),
        account_id: AccountId(r.try_get("account_id")?),
        name: r.try_get("name")?,
        special_use: special_use.as_deref().and_then(SpecialUse::parse),
        uidvalidity: r.try_get::<i64, _>("uidvalidity")? as u32,
        uidnext: r.try_get::<i64, _>("uidnext")? as u32,
        highestmodseq: r.try_get::<i64, _>("highestmodseq")? as u64,
    })
}

pub(super) fn message_from_row(r: &DbRow) -> Result<MessageRecord> {
    let hash: &str = r.try_get("blob_hash")?;
    Ok(MessageRecord {
        uid: Uid(r.try_get::<i64, _>("uid")? as u32),
        blob: BlobId::parse(hash)
            .ok_or_else(|| StoreError::Corrupt(format!("blob hash {hash:?}")))?,
        size: r.try_get::<i64, _>("size")? as u32,
        internal_date: r.try_get("internal_date")?,
        flags: Flags::from_storage(r.try_get("flags")?),
        modseq: r.try_get::<i64, _>("modseq")? as u64,
    })
}

// ---- move and quota (IMAP MOVE, RFC 6851; QUOTA, RFC 9208) ----------------------------------

// ---- the writes the group-commit writer runs (`group.rs`), each inside its transaction ----

/// STORE: changes flags of the given UIDs; the mailbox's modseq moves only when a flag does.
/// Moves the mailbox's `\Recent` mark up to `upto` (never down) and gives the mark before.
pub(super) async fn claim_recent_in(tx: &mut Tx, mailbox: MailboxId, upto: Uid) -> Result<u32> {
    dialect::lock_mailboxes(tx, &[mailbox.0]).await?;
    let mark: Option<i64> = sqlx::query_scalar("SELECT recent_upto FROM mailboxes WHERE id = $1")
        .bind(mailbox.0)
        .fetch_optional(&mut **tx)
        .await?;
    let mark = mark.ok_or_else(|| StoreError::NotFound(format!("mailbox {mailbox}")))? as u32;
    if upto.0 > mark {
        sqlx::query("UPDATE mailboxes SET recent_upto = $2 WHERE id = $1")
            .bind(mailbox.0)
            .bind(i64::from(upto.0))
            .execute(&mut **tx)
            .await?;
    }
    Ok(mark)
}

pub(super) async fn store_flags_in(
    tx: &mut Tx,
    mailbox: MailboxId,
    uids: &[Uid],
    op: FlagOp,
    flags: &Flags,
    unchanged_since: Option<u64>,
) -> Result<StoreFlagsOutcome> {
    let mut outcome = StoreFlagsOutcome::default();
    dialect::lock_mailboxes(tx, &[mailbox.0]).await?;
    let mut changing = Vec::new();
    for mut message in messages_in(tx, mailbox, uids).await? {
        if unchanged_since.is_some_and(|since| message.modseq > since) {
            outcome.failed.push(message.uid);
        } else if message.flags.apply(op, flags) {
            changing.push(message);
        }
    }
    if changing.is_empty() {
        return Ok(outcome);
    }
    let modseq = bump_modseq(tx, mailbox).await?;
    for mut message in changing {
        sqlx::query(
            "UPDATE messages SET flags = $1, modseq = $2 WHERE mailbox_id = $3 AND uid = $4",
        )
        .bind(message.flags.to_storage())
        .bind(modseq as i64)
        .bind(mailbox.0)
        .bind(i64::from(message.uid.0))
        .execute(&mut **tx)
        .await?;
        message.modseq = modseq;
        outcome.changed.push(message);
    }
    Ok(outcome)
}

/// COPY: new rows in `target` sharing the blobs; returns (source UID, new UID).
pub(super) async fn copy_in(
    tx: &mut Tx,
    source: MailboxId,
    uids: &[Uid],
    target: MailboxId,
) -> Result<Vec<(Uid, Uid)>> {
    dialect::lock_mailboxes(tx, &[source.0, target.0]).await?;
    let messages = messages_in(tx, source, uids).await?;
    let mut pairs = Vec::with_capacity(messages.len());
    for m in messages {
        let uid = insert_message(
            tx,
            target,
            &m.blob,
            m.size,
            m.internal_date,
            &m.flags.to_storage(),
        )
        .await?;
        sqlx::query("UPDATE blobs SET refcount = refcount + 1 WHERE hash = $1")
            .bind(m.blob.as_str())
            .execute(&mut **tx)
            .await?;
        pairs.push((m.uid, uid));
    }
    Ok(pairs)
}

/// EXPUNGE (all `\Deleted` messages, or those among `uids`); returns the UIDs removed.
pub(super) async fn expunge_in(
    tx: &mut Tx,
    mailbox: MailboxId,
    uids: Option<&[Uid]>,
) -> Result<Vec<Uid>> {
    dialect::lock_mailboxes(tx, &[mailbox.0]).await?;
    let candidates = match uids {
        Some(uids) => messages_in(tx, mailbox, uids).await?,
        None => sqlx::query(dialect::DELETED_MESSAGES)
            .bind(mailbox.0)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(message_from_row)
            .collect::<Result<Vec<_>>>()?,
    };
    let doomed: Vec<MessageRecord> = candidates
        .into_iter()
        .filter(|m| m.flags.contains(&hopthu_model::Flag::Deleted))
        .collect();
    if doomed.is_empty() {
        return Ok(Vec::new());
    }
    remove_messages(tx, mailbox, &doomed).await?;
    Ok(doomed.into_iter().map(|m| m.uid).collect())
}

/// MOVE (RFC 6851): each row changes mailbox and gets a new UID and modseq in `target` (its
/// blob reference and search index entry follow it), and its old UID is recorded as expunged
/// in `source`. Returns (old UID, new UID) pairs in UID order.
pub(super) async fn move_in(
    tx: &mut Tx,
    source: MailboxId,
    uids: &[Uid],
    target: MailboxId,
) -> Result<Vec<(Uid, Uid)>> {
    dialect::lock_mailboxes(tx, &[source.0, target.0]).await?;
    let messages = messages_in(tx, source, uids).await?;
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    // Into the same mailbox too (RFC 6851 §3.3, as COPY then EXPUNGE would): each message
    // gets a new UID there and its old one is expunged.
    let expunge_modseq = bump_modseq(tx, source).await?;
    let mut pairs = Vec::with_capacity(messages.len());
    for m in messages {
        let (uid, modseq) = next_uid(tx, target).await?;
        sqlx::query(
            "UPDATE messages SET mailbox_id = $1, uid = $2, modseq = $3,
                    added_at = $6
              WHERE mailbox_id = $4 AND uid = $5",
        )
        .bind(target.0)
        .bind(i64::from(uid.0))
        .bind(modseq as i64)
        .bind(source.0)
        .bind(i64::from(m.uid.0))
        .bind(now())
        .execute(&mut **tx)
        .await?;
        record_expunged(tx, source, m.uid, expunge_modseq).await?;
        pairs.push((m.uid, uid));
    }
    Ok(pairs)
}

#[async_trait::async_trait]
impl crate::MailStore for Backend {
    // Through the group-commit writer (`group.rs`): returns once the transaction holding the
    // rows is committed.
    async fn deliver_indexed(
        &self,
        d: &Delivery<'_>,
        text: Option<&crate::search::SearchText>,
    ) -> Result<Vec<(MailboxId, Uid)>> {
        match self.write(group::Work::deliver(d, text)).await? {
            group::Done::Delivered(uids) => Ok(uids),
            other => Err(other.unexpected()),
        }
    }

    async fn create_account(
        &self,
        account: &NewAccount,
        folders: &[(&str, Option<SpecialUse>)],
    ) -> Result<AccountId> {
        let mut tx = self.begin().await?;
        let id = insert_account(&mut tx, account, folders).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn account_by_address(&self, address: &str) -> Result<Option<AccountRecord>> {
        sqlx::query("SELECT * FROM accounts WHERE address = $1")
            .bind(address)
            .fetch_optional(&self.read)
            .await?
            .map(|r| account_from_row(&r))
            .transpose()
    }

    async fn account(&self, id: AccountId) -> Result<Option<AccountRecord>> {
        sqlx::query("SELECT * FROM accounts WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.read)
            .await?
            .map(|r| account_from_row(&r))
            .transpose()
    }

    async fn account_count(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
            .fetch_one(&self.read)
            .await?;
        Ok(n as u64)
    }

    async fn record_sign_in(&self, s: &crate::SignInRecord) -> Result<()> {
        // Through the group-commit writer, see `record_access`.
        match self.write(group::Work::SignIn(s.clone())).await? {
            group::Done::Recorded => Ok(()),
            other => Err(other.unexpected()),
        }
    }

    async fn sign_ins(&self, account: AccountId, limit: u32) -> Result<Vec<crate::SignInRecord>> {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT at, via, ip, result FROM sign_ins WHERE account_id = $1
              ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(account.0)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(at, via, ip, result)| crate::SignInRecord {
                account,
                at,
                via,
                ip,
                result,
            })
            .collect())
    }

    async fn record_access(&self, id: AccountId, at: i64) -> Result<()> {
        // Through the group-commit writer (`group.rs`), like `record_sign_in`: a login storm's
        // sign-ins share their commits with each other and with the mail writes, instead of
        // an fsynced transaction each on the single writer. Committed when this returns.
        match self.write(group::Work::Access { account: id, at }).await? {
            group::Done::Recorded => Ok(()),
            other => Err(other.unexpected()),
        }
    }

    async fn set_password(
        &self,
        id: AccountId,
        hash: &str,
        must_change: bool,
        keep_web_session: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let r = sqlx::query(
            "UPDATE accounts SET password_hash = $1, must_change_password = $2 WHERE id = $3",
        )
        .bind(hash)
        .bind(must_change)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("account {id}")));
        }
        sqlx::query("DELETE FROM web_sessions WHERE account_id = $1 AND token_hash <> $2")
            .bind(id.0)
            .bind(keep_web_session.unwrap_or(""))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn mailboxes(&self, account: AccountId) -> Result<Vec<MailboxRecord>> {
        sqlx::query("SELECT * FROM mailboxes WHERE account_id = $1 ORDER BY name")
            .bind(account.0)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(mailbox_from_row)
            .collect()
    }

    async fn mailbox(&self, id: MailboxId) -> Result<Option<MailboxRecord>> {
        sqlx::query("SELECT * FROM mailboxes WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.read)
            .await?
            .map(|r| mailbox_from_row(&r))
            .transpose()
    }

    async fn mailbox_by_name(
        &self,
        account: AccountId,
        name: &str,
    ) -> Result<Option<MailboxRecord>> {
        sqlx::query("SELECT * FROM mailboxes WHERE account_id = $1 AND name = $2")
            .bind(account.0)
            .bind(name)
            .fetch_optional(&self.read)
            .await?
            .map(|r| mailbox_from_row(&r))
            .transpose()
    }

    async fn create_mailbox(
        &self,
        account: AccountId,
        name: &str,
        special_use: Option<SpecialUse>,
    ) -> Result<MailboxId> {
        let mut tx = self.begin().await?;
        let id = insert_mailbox(&mut tx, account, name, special_use).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn delete_mailbox(&self, id: MailboxId) -> Result<()> {
        let mut tx = self.begin().await?;
        dialect::lock_mailboxes(&mut tx, &[id.0]).await?;
        sqlx::query(
            "UPDATE blobs SET refcount = refcount - (SELECT COUNT(*) FROM messages m
               WHERE m.mailbox_id = $1 AND m.blob_hash = blobs.hash)
             WHERE hash IN (SELECT blob_hash FROM messages WHERE mailbox_id = $1)",
        )
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        let r = sqlx::query("DELETE FROM mailboxes WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("mailbox {id}")));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn rename_mailbox(&self, account: AccountId, from: &str, to: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT id FROM mailboxes WHERE account_id = $1 AND name = $2")
                .bind(account.0)
                .bind(to)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(to.to_string()));
        }
        let prefix = format!("{from}/");
        let r = sqlx::query(
            "UPDATE mailboxes
                SET name = CASE WHEN name = $2 THEN $3 ELSE $3 || substr(name, length($2) + 1) END,
                    uidvalidity = uidvalidity + 1
              WHERE account_id = $1 AND (name = $2 OR substr(name, 1, length($4)) = $4)",
        )
        .bind(account.0)
        .bind(from)
        .bind(to)
        .bind(&prefix)
        .execute(&mut *tx)
        .await;
        match r {
            Ok(r) if r.rows_affected() == 0 => {
                return Err(StoreError::NotFound(from.to_string()));
            }
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::Conflict(to.to_string()));
            }
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        Ok(())
    }

    async fn set_subscribed(&self, account: AccountId, name: &str, subscribed: bool) -> Result<()> {
        let mut tx = self.begin().await?;
        let sql = if subscribed {
            "INSERT INTO subscriptions (account_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM subscriptions WHERE account_id = $1 AND name = $2"
        };
        sqlx::query(sql)
            .bind(account.0)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn subscriptions(&self, account: AccountId) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar(
                "SELECT name FROM subscriptions WHERE account_id = $1 ORDER BY name",
            )
            .bind(account.0)
            .fetch_all(&self.read)
            .await?,
        )
    }

    async fn mailbox_status(&self, id: MailboxId) -> Result<MailboxStatus> {
        let mut conn = self.read.acquire().await?;
        let mailbox = sqlx::query("SELECT * FROM mailboxes WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("mailbox {id}")))?;
        let mailbox = mailbox_from_row(&mailbox)?;
        let (messages, seen): (i64, i64) = sqlx::query_as(dialect::STATUS_COUNTS)
            .bind(id.0)
            .fetch_one(&mut *conn)
            .await?;
        Ok(MailboxStatus {
            mailbox,
            messages: messages as u32,
            unseen: (messages - seen) as u32,
        })
    }

    async fn messages(&self, mailbox: MailboxId) -> Result<Vec<MessageRecord>> {
        sqlx::query(
            "SELECT uid, blob_hash, size, internal_date, flags, modseq FROM messages
              WHERE mailbox_id = $1 ORDER BY uid",
        )
        .bind(mailbox.0)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(message_from_row)
        .collect()
    }

    async fn message_index(&self, mailbox: MailboxId) -> Result<MessageIndex> {
        // One read transaction: the rows and the highest modseq describe the same moment.
        let mut tx = self.read.begin().await?;
        let highestmodseq: i64 =
            sqlx::query_scalar("SELECT highestmodseq FROM mailboxes WHERE id = $1")
                .bind(mailbox.0)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("mailbox {mailbox}")))?;
        let mut index = MessageIndex {
            highestmodseq: highestmodseq as u64,
            ..MessageIndex::default()
        };
        // One row for the whole mailbox: SQLite packs `uid TAB modseq TAB flags` lines into
        // one text (ORDER BY inside the aggregate, SQLite >= 3.44). Streaming 100,000 rows
        // through the driver costs ~10 us each; this costs ~20 ms in all. TAB and LF cannot
        // occur in flags (a keyword is an atom: no control characters).
        let packed: Option<String> = sqlx::query_scalar(dialect::MESSAGE_INDEX_PACKED)
            .bind(mailbox.0)
            .fetch_one(&mut *tx)
            .await?;
        let packed = packed.unwrap_or_default();
        let mut interned: HashMap<&str, u32> = HashMap::new();
        let corrupt = || StoreError::Corrupt(format!("message index of mailbox {mailbox}"));
        for line in packed.split('\n').filter(|l| !l.is_empty()) {
            let mut fields = line.splitn(3, '\t');
            let (Some(uid), Some(modseq), Some(raw)) =
                (fields.next(), fields.next(), fields.next())
            else {
                return Err(corrupt());
            };
            let uid: u32 = uid.parse().map_err(|_| corrupt())?;
            let modseq: u64 = modseq.parse().map_err(|_| corrupt())?;
            let set = match interned.get(raw) {
                Some(&i) => i,
                None => {
                    let i = index.flag_sets.len() as u32;
                    index.flag_sets.push(Flags::from_storage(raw));
                    interned.insert(raw, i);
                    i
                }
            };
            index.uids.push(Uid(uid));
            index.flags.push(set);
            index.modseqs.push(modseq);
        }
        tx.commit().await?;
        Ok(index)
    }

    async fn messages_by_uid(
        &self,
        mailbox: MailboxId,
        uids: &[Uid],
    ) -> Result<Vec<MessageRecord>> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let list = format!(
            "[{}]",
            uids.iter()
                .map(|u| u.0.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        sqlx::query(AssertSqlSafe(format!(
            "SELECT uid, blob_hash, size, internal_date, flags, modseq FROM messages
              WHERE mailbox_id = $1 AND uid IN ({}) ORDER BY uid",
            dialect::json_ids("$2")
        )))
        .bind(mailbox.0)
        .bind(list)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(message_from_row)
        .collect()
    }

    async fn sort_rows(&self, mailbox: MailboxId) -> Result<Vec<SortRow>> {
        // Packed into one text like `message_index` (one row per message through the driver
        // is ~10 us each): fields split by US (0x1f), messages by RS (0x1e); both are removed
        // from the text fields first.
        let packed: Option<String> = sqlx::query_scalar(dialect::SORT_ROWS_PACKED)
            .bind(mailbox.0)
            .fetch_one(&self.read)
            .await?;
        let corrupt = || StoreError::Corrupt(format!("sort keys of mailbox {mailbox}"));
        let packed = packed.unwrap_or_default();
        let mut rows = Vec::new();
        for record in packed.split('\u{1e}').filter(|r| !r.is_empty()) {
            let f: Vec<&str> = record.splitn(8, '\u{1f}').collect();
            let [uid, size, internal, sent, from, to, cc, subject] = f.as_slice() else {
                return Err(corrupt());
            };
            rows.push(SortRow {
                uid: Uid(uid.parse().map_err(|_| corrupt())?),
                size: size.parse().map_err(|_| corrupt())?,
                internal_date: internal.parse().map_err(|_| corrupt())?,
                sent_at: if sent.is_empty() {
                    None
                } else {
                    Some(sent.parse().map_err(|_| corrupt())?)
                },
                from: from.to_string(),
                to: to.to_string(),
                cc: cc.to_string(),
                subject: subject.to_string(),
            });
        }
        Ok(rows)
    }

    async fn deleted_usage(&self, mailbox: MailboxId) -> Result<(u32, u64)> {
        // A keyword cannot contain a backslash, so the text test is exact.
        let (count, bytes): (i64, i64) = sqlx::query_as(dialect::DELETED_USAGE)
            .bind(mailbox.0)
            .fetch_one(&self.read)
            .await?;
        Ok((count as u32, bytes as u64))
    }

    async fn count_above(&self, mailbox: MailboxId, uid: Uid) -> Result<u32> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE mailbox_id = $1 AND uid > $2")
                .bind(mailbox.0)
                .bind(i64::from(uid.0))
                .fetch_one(&self.read)
                .await?;
        Ok(count as u32)
    }

    async fn recent_mark(&self, mailbox: MailboxId) -> Result<u32> {
        let mark: Option<i64> =
            sqlx::query_scalar("SELECT recent_upto FROM mailboxes WHERE id = $1")
                .bind(mailbox.0)
                .fetch_optional(&self.read)
                .await?;
        let mark = mark.ok_or_else(|| StoreError::NotFound(format!("mailbox {mailbox}")))?;
        Ok(mark as u32)
    }

    async fn claim_recent(&self, mailbox: MailboxId, upto: Uid) -> Result<u32> {
        // Read first: a SELECT that finds nothing new writes nothing (no commit to wait for).
        let before = self.recent_mark(mailbox).await?;
        if upto.0 <= before {
            return Ok(before);
        }
        // The group commit: a login storm's SELECTs claim together, without an fsync (which
        // session shows a message as \Recent is not mail).
        match self
            .write(group::Work::ClaimRecent { mailbox, upto })
            .await?
        {
            group::Done::Recent(mark) => Ok(mark),
            other => Err(other.unexpected()),
        }
    }

    async fn mailbox_size(&self, mailbox: MailboxId) -> Result<u64> {
        let bytes: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM messages WHERE mailbox_id = $1",
        )
        .bind(mailbox.0)
        .fetch_one(&self.read)
        .await?;
        Ok(bytes as u64)
    }

    async fn changes_since(&self, mailbox: MailboxId, modseq: u64) -> Result<Changes> {
        // One statement, so its three parts read one snapshot (a statement is its own read
        // transaction on both back-ends) and a session's check for changes, run before most
        // commands, costs one round trip to the database instead of five. Part 0 is the
        // mailbox's HIGHESTMODSEQ (no row: the mailbox is gone), part 1 the messages changed
        // since `modseq`, part 2 the UIDs expunged since.
        let rows = sqlx::query(
            "SELECT CAST(0 AS BIGINT) AS part, highestmodseq AS uid, CAST('' AS TEXT) AS blob_hash,
                    CAST(0 AS BIGINT) AS size, CAST(0 AS BIGINT) AS internal_date,
                    CAST('' AS TEXT) AS flags, highestmodseq AS modseq
               FROM mailboxes WHERE id = $1
             UNION ALL
             SELECT CAST(1 AS BIGINT), uid, blob_hash, size, internal_date, flags, modseq
               FROM messages WHERE mailbox_id = $1 AND modseq > $2
             UNION ALL
             SELECT CAST(2 AS BIGINT), uid, CAST('' AS TEXT), CAST(0 AS BIGINT),
                    CAST(0 AS BIGINT), CAST('' AS TEXT), modseq
               FROM expunged WHERE mailbox_id = $1 AND modseq > $2
             ORDER BY part, uid",
        )
        .bind(mailbox.0)
        .bind(modseq as i64)
        .fetch_all(&self.read)
        .await?;
        let mut highestmodseq = None;
        let mut changed = Vec::new();
        let mut expunged = Vec::new();
        for row in &rows {
            let uid: i64 = row.try_get("uid")?;
            match row.try_get::<i64, _>("part")? {
                0 => highestmodseq = Some(uid as u64),
                1 => changed.push(message_from_row(row)?),
                _ => expunged.push(Uid(uid as u32)),
            }
        }
        let highestmodseq =
            highestmodseq.ok_or_else(|| StoreError::NotFound(format!("mailbox {mailbox}")))?;
        Ok(Changes {
            changed,
            expunged,
            highestmodseq,
        })
    }

    async fn store_flags(
        &self,
        mailbox: MailboxId,
        uids: &[Uid],
        op: FlagOp,
        flags: &Flags,
        unchanged_since: Option<u64>,
    ) -> Result<StoreFlagsOutcome> {
        if uids.is_empty() {
            return Ok(StoreFlagsOutcome::default());
        }
        let work = group::Work::StoreFlags {
            mailbox,
            uids: uids.to_vec(),
            op,
            flags: flags.clone(),
            unchanged_since,
        };
        match self.write(work).await? {
            group::Done::Flags(outcome) => Ok(outcome),
            other => Err(other.unexpected()),
        }
    }

    async fn copy_messages(
        &self,
        source: MailboxId,
        uids: &[Uid],
        target: MailboxId,
    ) -> Result<Vec<(Uid, Uid)>> {
        let work = group::Work::Copy {
            source,
            uids: uids.to_vec(),
            target,
        };
        match self.write(work).await? {
            group::Done::Pairs(pairs) => Ok(pairs),
            other => Err(other.unexpected()),
        }
    }

    /// Moves messages in one transaction: each row changes mailbox and gets a new UID and
    /// modseq in `target` (its blob reference and search index entry follow it), and its old
    /// UID is recorded as expunged in `source`.
    async fn move_messages(
        &self,
        source: MailboxId,
        uids: &[Uid],
        target: MailboxId,
    ) -> Result<Vec<(Uid, Uid)>> {
        let work = group::Work::Move {
            source,
            uids: uids.to_vec(),
            target,
        };
        match self.write(work).await? {
            group::Done::Pairs(pairs) => Ok(pairs),
            other => Err(other.unexpected()),
        }
    }

    /// Total size of the given messages of a mailbox.
    async fn messages_size(&self, mailbox: MailboxId, uids: &[Uid]) -> Result<u64> {
        let list = format!(
            "[{}]",
            uids.iter()
                .map(|u| u.0.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        let bytes: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM messages
              WHERE mailbox_id = $1 AND uid IN ({})",
            dialect::json_ids("$2")
        )))
        .bind(mailbox.0)
        .bind(list)
        .fetch_one(&self.read)
        .await?;
        Ok(bytes as u64)
    }

    /// Each unit's figures over `[from, to)`. Days are Vietnam days: the offset is passed in
    /// and the day and weekday are integer arithmetic, the same on every back-end.
    async fn unit_activity(
        &self,
        from: i64,
        to: i64,
        utc_offset: i64,
    ) -> Result<Vec<UnitActivity>> {
        /// unit id, active, new, revoked, received, sent, signed in, compliant person-days.
        type Row = (i64, i64, i64, i64, i64, i64, i64, i64);
        let rows: Vec<Row> = sqlx::query_as(
            "WITH unit_accounts AS (
                 SELECT unit_id, account_id FROM people WHERE account_id IS NOT NULL
                 UNION ALL
                 SELECT id, account_id FROM units WHERE account_id IS NOT NULL
             )
             SELECT u.id,
               (SELECT COUNT(*) FROM people p WHERE p.unit_id = u.id AND p.state = 'active'),
               (SELECT COUNT(*) FROM people p
                 WHERE p.unit_id = u.id AND p.created_at >= $1 AND p.created_at < $2),
               (SELECT COUNT(*) FROM people p JOIN accounts a ON a.id = p.account_id
                 WHERE p.unit_id = u.id AND a.revoked_at >= $1 AND a.revoked_at < $2),
               (SELECT COUNT(*) FROM unit_accounts ua
                  JOIN mailboxes mb ON mb.account_id = ua.account_id AND mb.name = 'INBOX'
                  JOIN messages m ON m.mailbox_id = mb.id
                 WHERE ua.unit_id = u.id AND m.added_at >= $1 AND m.added_at < $2),
               (SELECT COUNT(*) FROM unit_accounts ua
                  JOIN mailboxes mb ON mb.account_id = ua.account_id AND mb.special_use = '\\Sent'
                  JOIN messages m ON m.mailbox_id = mb.id
                 WHERE ua.unit_id = u.id AND m.added_at >= $1 AND m.added_at < $2),
               (SELECT COUNT(DISTINCT s.account_id) FROM unit_accounts ua
                  JOIN sign_ins s ON s.account_id = ua.account_id
                 WHERE ua.unit_id = u.id AND s.result = 'ok' AND s.at >= $1 AND s.at < $2),
               (SELECT COUNT(*) FROM (
                    SELECT s.account_id, (s.at + $3) / 86400 AS day
                      FROM people p JOIN sign_ins s ON s.account_id = p.account_id
                     WHERE p.unit_id = u.id AND s.result = 'ok' AND s.at >= $1 AND s.at < $2
                       AND ((s.at + $3) / 86400 + 4) % 7 NOT IN (0, 6)
                     GROUP BY s.account_id, (s.at + $3) / 86400 HAVING COUNT(*) >= 2) AS days)
             FROM units u ORDER BY u.code",
        )
        .bind(from)
        .bind(to)
        .bind(utc_offset)
        .fetch_all(&self.read)
        .await?;
        let n = |v: i64| v.max(0) as u64;
        Ok(rows
            .into_iter()
            .map(
                |(unit_id, active, new, revoked, received, sent, signed_in, compliant)| {
                    UnitActivity {
                        unit_id,
                        active: n(active),
                        new: n(new),
                        revoked: n(revoked),
                        received: n(received),
                        sent: n(sent),
                        signed_in: n(signed_in),
                        compliant_days: n(compliant),
                    }
                },
            )
            .collect())
    }

    async fn stats(&self) -> Result<crate::StoreStats> {
        let mut db = self.read.acquire().await?;
        let counts = |rows: Vec<(String, i64)>| {
            rows.into_iter()
                .map(|(state, n)| (state, n.max(0) as u64))
                .collect::<Vec<_>>()
        };
        let accounts: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM accounts GROUP BY state ORDER BY state")
                .fetch_all(&mut *db)
                .await?;
        let messages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
            .fetch_one(&mut *db)
            .await?;
        let (blobs, blob_bytes): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM blobs WHERE refcount > 0",
        )
        .fetch_one(&mut *db)
        .await?;
        let queue: Vec<(String, i64)> = sqlx::query_as(
            "SELECT state, COUNT(*) FROM queue_recipients GROUP BY state ORDER BY state",
        )
        .fetch_all(&mut *db)
        .await?;
        Ok(crate::StoreStats {
            accounts: counts(accounts),
            messages: messages.max(0) as u64,
            blobs: blobs.max(0) as u64,
            blob_bytes: blob_bytes.max(0) as u64,
            queue: counts(queue),
        })
    }

    /// Deletes the messages put into `mailbox` before `before` (unix time), in one
    /// transaction like an EXPUNGE; returns their UIDs.
    async fn purge_before(&self, mailbox: MailboxId, before: i64) -> Result<Vec<Uid>> {
        let mut tx = self.begin().await?;
        dialect::lock_mailboxes(&mut tx, &[mailbox.0]).await?;
        let doomed = sqlx::query(
            "SELECT uid, blob_hash, size, internal_date, flags, modseq FROM messages
              WHERE mailbox_id = $1 AND COALESCE(added_at, internal_date) < $2 ORDER BY uid",
        )
        .bind(mailbox.0)
        .bind(before)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(message_from_row)
        .collect::<Result<Vec<_>>>()?;
        if doomed.is_empty() {
            tx.rollback().await?;
            return Ok(Vec::new());
        }
        remove_messages(&mut tx, mailbox, &doomed).await?;
        tx.commit().await?;
        Ok(doomed.into_iter().map(|m| m.uid).collect())
    }

    /// Mailboxes of every account with the given special use (`\Trash`, `\Junk`).
    async fn mailboxes_with_old(
        &self,
        special_use: SpecialUse,
        before: i64,
    ) -> Result<Vec<MailboxRecord>> {
        sqlx::query(
            "SELECT * FROM mailboxes mb WHERE mb.special_use = $1 AND EXISTS (
                 SELECT 1 FROM messages m
                  WHERE m.mailbox_id = mb.id AND COALESCE(m.added_at, m.internal_date) < $2)
              ORDER BY mb.id",
        )
        .bind(special_use.as_str())
        .bind(before)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(mailbox_from_row)
        .collect()
    }

    async fn quota_warnings(
        &self,
        accounts: &[AccountId],
    ) -> Result<Vec<(AccountId, u64, Option<i64>)>> {
        if accounts.is_empty() {
            return Ok(Vec::new());
        }
        // One query for every account a delivery reached, their ids as one JSON array.
        let ids = format!(
            "[{}]",
            accounts
                .iter()
                .map(|a| a.0.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        Ok(
            sqlx::query_as::<_, (i64, i64, Option<i64>)>(AssertSqlSafe(format!(
                "SELECT a.id, CAST(COALESCE(SUM(m.used_bytes), 0) AS BIGINT), a.quota_warned_at
               FROM accounts a LEFT JOIN mailboxes m ON m.account_id = a.id
              WHERE a.id IN ({}) GROUP BY a.id",
                dialect::json_ids("$1")
            )))
            .bind(ids)
            .fetch_all(&self.read)
            .await?
            .into_iter()
            .map(|(id, used, warned)| (AccountId(id), used.max(0) as u64, warned))
            .collect(),
        )
    }

    async fn set_quota_warned(&self, account: AccountId, at: Option<i64>) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE accounts SET quota_warned_at = $1 WHERE id = $2")
            .bind(at)
            .bind(account.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn account_usage(&self, account: AccountId) -> Result<(u64, u64)> {
        let (bytes, count): (i64, i64) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(used_bytes), 0) AS BIGINT),
                    CAST(COALESCE(SUM(used_messages), 0) AS BIGINT)
               FROM mailboxes WHERE account_id = $1",
        )
        .bind(account.0)
        .fetch_one(&self.read)
        .await?;
        Ok((bytes as u64, count as u64))
    }

    async fn expunge(&self, mailbox: MailboxId, uids: Option<&[Uid]>) -> Result<Vec<Uid>> {
        let work = group::Work::Expunge {
            mailbox,
            uids: uids.map(<[Uid]>::to_vec),
        };
        match self.write(work).await? {
            group::Done::Expunged(uids) => Ok(uids),
            other => Err(other.unexpected()),
        }
    }

    async fn queue(&self) -> Result<Vec<QueueRecord>> {
        sqlx::query("SELECT * FROM queue ORDER BY id")
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|r| {
                let hash: String = r.try_get("blob_hash")?;
                let recipients: String = r.try_get("recipients")?;
                Ok(QueueRecord {
                    id: r.try_get("id")?,
                    blob: BlobId::parse(&hash)
                        .ok_or_else(|| StoreError::Corrupt(format!("blob hash {hash:?}")))?,
                    mail_from: r.try_get("mail_from")?,
                    recipients: recipients.lines().map(str::to_string).collect(),
                    created_at: r.try_get("created_at")?,
                    next_attempt_at: r.try_get("next_attempt_at")?,
                    attempts: r.try_get::<i64, _>("attempts")? as u32,
                    last_error: r.try_get("last_error")?,
                })
            })
            .collect()
    }
}
