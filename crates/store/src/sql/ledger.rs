//! SQL of the activity ledger ([`crate::LedgerStore`]).

use hopthu_model::{AccountId, MailboxId, PersonId, UnitId};

use super::{Backend, Tx};
use crate::{MailboxEvent, MailboxEventKind, MessageCounts, OpenDay, Result, StoreError};

/// The unit an account belongs to now: its person's, or the unit whose mailbox it is.
const UNIT_OF: &str = "COALESCE((SELECT p.unit_id FROM people p WHERE p.account_id = $1),
                               (SELECT u.id FROM units u WHERE u.account_id = $1))";

/// Counts a message received into `mailbox`, inside the delivery's transaction: once per
/// account and delivery (`counted`: the accounts counted so far), whatever folder its filters
/// filed it in, except Junk (what the spam check or the person set aside is not counted as
/// mail received).
pub(super) async fn count_received(
    tx: &mut Tx,
    mailbox: MailboxId,
    day: i64,
    counted: &mut Vec<i64>,
) -> Result<()> {
    let account: Option<i64> = sqlx::query_scalar(
        "SELECT account_id FROM mailboxes
          WHERE id = $1 AND (special_use IS NULL OR special_use <> '\\Junk')",
    )
    .bind(mailbox.0)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(account) = account.filter(|a| !counted.contains(a)) {
        counted.push(account);
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO message_days (account_id, day, unit_id, received, sent)
             VALUES ($1, $2, {UNIT_OF}, 1, 0)
             ON CONFLICT (account_id, day) DO UPDATE SET received = message_days.received + 1"
        )))
        .bind(account)
        .bind(day)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl crate::LedgerStore for Backend {
    async fn record_open(&self, account: AccountId, day: i64) -> Result<u32> {
        let mut tx = self.begin().await?;
        let opens: i64 = sqlx::query_scalar(
            "INSERT INTO mailbox_opens (account_id, day, opens, unit_id)
             VALUES ($1, $2, 1, (SELECT p.unit_id FROM people p WHERE p.account_id = $1))
             ON CONFLICT (account_id, day) DO UPDATE SET opens = mailbox_opens.opens + 1
             RETURNING opens",
        )
        .bind(account.0)
        .bind(day)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(opens.clamp(0, i64::from(u32::MAX)) as u32)
    }

    async fn mailbox_events_before(&self, to: i64) -> Result<Vec<MailboxEvent>> {
        let rows: Vec<(i64, i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT person_id, at, kind, unit_id FROM mailbox_events
              WHERE at < $1 ORDER BY at, id",
        )
        .bind(to)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(p, at, kind, unit)| {
                Ok(MailboxEvent {
                    person: PersonId(p),
                    at,
                    kind: MailboxEventKind::parse(&kind).ok_or_else(|| {
                        StoreError::Corrupt(format!("mailbox event of kind {kind:?}"))
                    })?,
                    unit: unit.map(UnitId),
                })
            })
            .collect()
    }

    async fn count_sent(&self, account: AccountId, day: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO message_days (account_id, day, unit_id, received, sent)
             VALUES ($1, $2, {UNIT_OF}, 0, 1)
             ON CONFLICT (account_id, day) DO UPDATE SET sent = message_days.sent + 1"
        )))
        .bind(account.0)
        .bind(day)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn messages_between(
        &self,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<(Option<UnitId>, MessageCounts)>> {
        let rows: Vec<(Option<i64>, i64, i64)> = sqlx::query_as(
            "SELECT unit_id, CAST(SUM(received) AS BIGINT), CAST(SUM(sent) AS BIGINT)
               FROM message_days WHERE day >= $1 AND day < $2
              GROUP BY unit_id ORDER BY unit_id",
        )
        .bind(from_day)
        .bind(to_day)
        .fetch_all(&self.read)
        .await?;
        let n = |v: i64| v.max(0) as u64;
        Ok(rows
            .into_iter()
            .map(|(unit, received, sent)| {
                (
                    unit.map(UnitId),
                    MessageCounts {
                        received: n(received),
                        sent: n(sent),
                    },
                )
            })
            .collect())
    }

    async fn opens_between(&self, from_day: i64, to_day: i64) -> Result<Vec<OpenDay>> {
        let rows: Vec<(i64, Option<i64>, i64, i64)> = sqlx::query_as(
            "SELECT account_id, unit_id, day, opens FROM mailbox_opens
              WHERE day >= $1 AND day < $2 ORDER BY day, account_id",
        )
        .bind(from_day)
        .bind(to_day)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(a, unit, day, n)| OpenDay {
                account: AccountId(a),
                unit: unit.map(UnitId),
                day,
                opens: n.clamp(0, i64::from(u32::MAX)) as u32,
            })
            .collect())
    }
}

/// Records in the ledger of personal mailboxes that `person` moved to `unit` at `at`, inside
/// the move's transaction; nothing when the person is already there.
pub(super) async fn record_move(
    tx: &mut Tx,
    at: i64,
    person: PersonId,
    unit: UnitId,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO mailbox_events (at, person_id, kind, unit_id)
         SELECT $1, id, 'moved', $2 FROM people WHERE id = $3 AND unit_id <> $2",
    )
    .bind(at)
    .bind(unit.0)
    .bind(person.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// [`record_move`] for everyone in unit `from` (a reorganisation moving a unit's people).
pub(super) async fn record_moves_out_of(
    tx: &mut Tx,
    at: i64,
    from: UnitId,
    into: UnitId,
) -> Result<()> {
    if from == into {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO mailbox_events (at, person_id, kind, unit_id)
         SELECT $1, id, 'moved', $2 FROM people WHERE unit_id = $3 ORDER BY id",
    )
    .bind(at)
    .bind(into.0)
    .bind(from.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
