//! SQL of the organisation tree's changes after go-live ([`UnitEffect`]): units created,
//! renamed, re-addressed, moved, merged and dissolved, each inside the lifecycle write's
//! transaction, so that a whole reorganisation commits or nothing does.

use hopthu_model::{AccountId, UnitId};

use super::Tx;
use crate::lifecycle::UnitEffect;
use crate::{NewDirectory, Result, StoreError};

pub(super) async fn apply(tx: &mut Tx, at: i64, effect: &UnitEffect) -> Result<()> {
    match effect {
        UnitEffect::Create { units, folders } => {
            super::directory::create_directory_in(
                tx,
                &NewDirectory {
                    units,
                    people: &[],
                    aliases: &[],
                    folders,
                    created_at: at,
                    audit: &[],
                },
            )
            .await?;
        }
        UnitEffect::Rename {
            unit,
            code,
            kind,
            name,
        } => {
            let r = sqlx::query("UPDATE units SET code = $1, kind = $2, name = $3 WHERE id = $4")
                .bind(code)
                .bind(kind)
                .bind(name)
                .bind(unit.0)
                .execute(&mut **tx)
                .await
                .map_err(unique("unit code", code))?;
            if r.rows_affected() == 0 {
                return Err(StoreError::NotFound(format!("unit {}", unit.0)));
            }
            sqlx::query(
                "UPDATE accounts SET display_name = $1
                  WHERE id = (SELECT account_id FROM units WHERE id = $2)",
            )
            .bind(name)
            .bind(unit.0)
            .execute(&mut **tx)
            .await?;
        }
        UnitEffect::Readdress { unit, address } => {
            let old = unit_address(tx, *unit).await?;
            if &old == address {
                return Ok(());
            }
            sqlx::query("UPDATE units SET address = $1 WHERE id = $2")
                .bind(address)
                .bind(unit.0)
                .execute(&mut **tx)
                .await
                .map_err(unique("address", address))?;
            sqlx::query(
                "UPDATE accounts SET address = $1
                  WHERE id = (SELECT account_id FROM units WHERE id = $2)",
            )
            .bind(address)
            .bind(unit.0)
            .execute(&mut **tx)
            .await
            .map_err(unique("address", address))?;
            keep_reachable(tx, at, &old, address).await?;
        }
        UnitEffect::Reparent { unit, parent_code } => {
            let parent = match parent_code {
                Some(code) => Some(unit_by_code(tx, code).await?),
                None => None,
            };
            if parent == Some(*unit) {
                return Err(StoreError::Conflict(format!(
                    "unit {} cannot be its own parent",
                    unit.0
                )));
            }
            sqlx::query("UPDATE units SET parent_id = $1 WHERE id = $2")
                .bind(parent.map(|p| p.0))
                .bind(unit.0)
                .execute(&mut **tx)
                .await?;
            // No cycle: walking up from the new parent never meets the unit.
            let mut up = parent;
            let mut steps = 0;
            while let Some(u) = up {
                if u == *unit || steps > 10_000 {
                    return Err(StoreError::Conflict(format!(
                        "moving unit {} under {} makes a cycle",
                        unit.0,
                        parent_code.as_deref().unwrap_or_default()
                    )));
                }
                up = sqlx::query_scalar::<_, Option<i64>>(
                    "SELECT parent_id FROM units WHERE id = $1",
                )
                .bind(u.0)
                .fetch_optional(&mut **tx)
                .await?
                .flatten()
                .map(UnitId);
                steps += 1;
            }
        }
        UnitEffect::MovePeople { from, into } => {
            let into = unit_by_code(tx, into).await?;
            // The Đ17 ledger: from now on they count in the unit they move to.
            super::ledger::record_moves_out_of(tx, at, *from, into).await?;
            sqlx::query("UPDATE people SET unit_id = $1 WHERE unit_id = $2")
                .bind(into.0)
                .bind(from.0)
                .execute(&mut **tx)
                .await?;
            sqlx::query("UPDATE units SET head_person_id = NULL WHERE id = $1")
                .bind(from.0)
                .execute(&mut **tx)
                .await?;
        }
        UnitEffect::Merge {
            from,
            into,
            folder_prefix,
        } => {
            let into = unit_by_code(tx, into).await?;
            if into == *from {
                return Err(StoreError::Conflict(format!(
                    "unit {} cannot be merged into itself",
                    from.0
                )));
            }
            still_holds(tx, *from).await?;
            let from_address = unit_address(tx, *from).await?;
            let into_address = unit_address(tx, into).await?;
            let from_account = unit_account(tx, *from).await?;
            let into_account = unit_account(tx, into).await?;
            if let Some(source) = from_account {
                let Some(target) = into_account else {
                    return Err(StoreError::Conflict(format!(
                        "{into_address}: the unit has no mailbox to take the contents"
                    )));
                };
                move_folders(tx, source, target, folder_prefix).await?;
                // Cascades to its delegations, sessions and sign-ins; the address stays given,
                // as an alias below.
                sqlx::query("DELETE FROM accounts WHERE id = $1")
                    .bind(source.0)
                    .execute(&mut **tx)
                    .await?;
            }
            keep_reachable(tx, at, &from_address, &into_address).await?;
            sqlx::query("UPDATE admins SET unit_id = $1 WHERE unit_id = $2")
                .bind(into.0)
                .bind(from.0)
                .execute(&mut **tx)
                .await?;
            // A group of the merged unit now follows the unit it became part of (a dissolved
            // unit's group keeps it and, with nobody left, refuses mail at RCPT saying so).
            sqlx::query("UPDATE mail_groups SET unit_id = $1 WHERE unit_id = $2")
                .bind(into.0)
                .bind(from.0)
                .execute(&mut **tx)
                .await?;
            sqlx::query(
                "UPDATE units SET dissolved_at = $1, merged_into = $2, head_person_id = NULL
                  WHERE id = $3",
            )
            .bind(at)
            .bind(into.0)
            .bind(from.0)
            .execute(&mut **tx)
            .await?;
        }
        UnitEffect::Dissolve { unit } => {
            still_holds(tx, *unit).await?;
            let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM admins WHERE unit_id = $1")
                .bind(unit.0)
                .fetch_one(&mut **tx)
                .await?;
            if admins > 0 {
                return Err(StoreError::Conflict(format!(
                    "unit {}: {admins} administrator(s) confined to it",
                    unit.0
                )));
            }
            if let Some(account) = unit_account(tx, *unit).await? {
                sqlx::query("UPDATE accounts SET state = 'revoked', revoked_at = $1 WHERE id = $2")
                    .bind(at)
                    .bind(account.0)
                    .execute(&mut **tx)
                    .await?;
                sqlx::query("DELETE FROM unit_delegates WHERE unit_account_id = $1")
                    .bind(account.0)
                    .execute(&mut **tx)
                    .await?;
                sqlx::query("DELETE FROM web_sessions WHERE account_id = $1")
                    .bind(account.0)
                    .execute(&mut **tx)
                    .await?;
            }
            sqlx::query("UPDATE units SET dissolved_at = $1, head_person_id = NULL WHERE id = $2")
                .bind(at)
                .bind(unit.0)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// A unique-constraint failure as a conflict naming the value.
fn unique<'a>(what: &'a str, value: &'a str) -> impl FnOnce(sqlx::Error) -> StoreError + 'a {
    move |e| match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(format!("{what} {value} is taken"))
        }
        e => e.into(),
    }
}

/// A unit still in the directory, by code (as earlier effects of the write left it).
async fn unit_by_code(tx: &mut Tx, code: &str) -> Result<UnitId> {
    sqlx::query_scalar::<_, i64>("SELECT id FROM units WHERE code = $1 AND dissolved_at IS NULL")
        .bind(code)
        .fetch_optional(&mut **tx)
        .await?
        .map(UnitId)
        .ok_or_else(|| StoreError::NotFound(format!("unit code {code}")))
}

async fn unit_address(tx: &mut Tx, unit: UnitId) -> Result<String> {
    sqlx::query_scalar("SELECT address FROM units WHERE id = $1 AND dissolved_at IS NULL")
        .bind(unit.0)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("unit {}", unit.0)))
}

async fn unit_account(tx: &mut Tx, unit: UnitId) -> Result<Option<AccountId>> {
    Ok(
        sqlx::query_scalar::<_, Option<i64>>("SELECT account_id FROM units WHERE id = $1")
            .bind(unit.0)
            .fetch_optional(&mut **tx)
            .await?
            .flatten()
            .map(AccountId),
    )
}

/// A unit that still has people or child units in the directory cannot go.
async fn still_holds(tx: &mut Tx, unit: UnitId) -> Result<()> {
    let people: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM people WHERE unit_id = $1")
        .bind(unit.0)
        .fetch_one(&mut **tx)
        .await?;
    let children: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM units WHERE parent_id = $1 AND dissolved_at IS NULL",
    )
    .bind(unit.0)
    .fetch_one(&mut **tx)
    .await?;
    if people > 0 || children > 0 {
        return Err(StoreError::Conflict(format!(
            "unit {} still has {people} person(s) and {children} unit(s): move them first",
            unit.0
        )));
    }
    Ok(())
}

/// Mail to `old` keeps arriving at `new`: `old` becomes an alias of `new`, and aliases that
/// pointed to `old` point to `new` (delivery follows one hop). A unit's and a person's new
/// address alike.
pub(super) async fn keep_reachable(tx: &mut Tx, at: i64, old: &str, new: &str) -> Result<()> {
    sqlx::query("UPDATE aliases SET target = $1 WHERE target = $2")
        .bind(new)
        .bind(old)
        .execute(&mut **tx)
        .await?;
    // An alias of the new address back to itself would loop: a rename back drops it.
    sqlx::query("DELETE FROM aliases WHERE address = $1")
        .bind(new)
        .execute(&mut **tx)
        .await?;
    sqlx::query("INSERT INTO aliases (address, target, created_at) VALUES ($1, $2, $3)")
        .bind(old)
        .bind(new)
        .bind(at)
        .execute(&mut **tx)
        .await
        .map_err(unique("alias", old))?;
    Ok(())
}

/// Moves every folder of `source` into `target` under `prefix/` (created as plain folders).
/// Messages keep their UIDs and flags; each moved folder gets a new UIDVALIDITY, as a rename
/// does, and loses its special use (the target has its own Sent, Trash…).
async fn move_folders(
    tx: &mut Tx,
    source: AccountId,
    target: AccountId,
    prefix: &str,
) -> Result<()> {
    let clash: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM mailboxes WHERE account_id = $1
            AND (name = $2 OR substr(name, 1, length($2) + 1) = $2 || '/')",
    )
    .bind(target.0)
    .bind(prefix)
    .fetch_one(&mut **tx)
    .await?;
    if clash > 0 {
        return Err(StoreError::Conflict(format!(
            "folder {prefix} exists in the receiving mailbox"
        )));
    }
    // Renamed inside the source first, so that the subscription trigger (which follows a
    // rename within one account) carries the source's own subscriptions.
    sqlx::query(
        "UPDATE mailboxes SET name = $1 || '/' || name, special_use = NULL,
                uidvalidity = uidvalidity + 1
          WHERE account_id = $2",
    )
    .bind(prefix)
    .bind(source.0)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE mailboxes SET account_id = $1 WHERE account_id = $2")
        .bind(target.0)
        .bind(source.0)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO subscriptions (account_id, name)
         SELECT $1, name FROM subscriptions WHERE account_id = $2
         ON CONFLICT DO NOTHING",
    )
    .bind(target.0)
    .bind(source.0)
    .execute(&mut **tx)
    .await?;
    // The parents, so that LIST shows a tree: `Lưu trữ`, `Lưu trữ/<address>`.
    let mut parent = String::new();
    for part in prefix.split('/') {
        if !parent.is_empty() {
            parent.push('/');
        }
        parent.push_str(part);
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT id FROM mailboxes WHERE account_id = $1 AND name = $2")
                .bind(target.0)
                .bind(&parent)
                .fetch_optional(&mut **tx)
                .await?;
        if exists.is_none() {
            super::mail::insert_mailbox(tx, target, &parent, None).await?;
        }
    }
    Ok(())
}
