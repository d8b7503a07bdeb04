//! SQL of the lifecycle: administrators, change requests, notices, inactivity warnings and the
//! hash-chained audit log. Each write appends its audit rows inside its own transaction.

use hopthu_model::{AccountId, PersonId, UnitId};
use sqlx::Row;

use super::{Backend, DbRow, Tx, dialect};
use crate::lifecycle::*;
use crate::{PersonState, Result, StoreError};

/// Ends a write that removed `removed` rows: none → rolled back, `false`, nothing written (not
/// even `audit`); some → `audit` appended and committed, `true`.
pub(super) async fn commit_removal(
    mut tx: Tx,
    removed: u64,
    at: i64,
    audit: &[NewAudit],
) -> Result<bool> {
    if removed == 0 {
        let _ = tx.rollback().await;
        return Ok(false);
    }
    append_audit(&mut tx, at, audit).await?;
    tx.commit().await?;
    Ok(true)
}

/// The audit rows of a write that names its new row by id, known only once inserted: `{id}` in
/// a row's target becomes `id`.
pub(super) fn naming_id(audit: &[NewAudit], id: i64) -> Vec<NewAudit> {
    audit
        .iter()
        .map(|a| NewAudit {
            target: a.target.replace("{id}", &id.to_string()),
            ..a.clone()
        })
        .collect()
}

/// Appends audit rows to the chain inside `tx`.
pub(super) async fn append_audit(tx: &mut Tx, at: i64, rows: &[NewAudit]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    // One chain: writers on other connections (or nodes) wait here until this one commits.
    dialect::lock_audit_chain(tx).await?;
    let mut prev: String =
        sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?
            .unwrap_or_else(|| AUDIT_GENESIS.to_string());
    for row in rows {
        let hash = audit_hash(&prev, at, row);
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, target, before, after, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(at)
        .bind(&row.actor)
        .bind(&row.action)
        .bind(&row.target)
        .bind(row.before.as_deref())
        .bind(row.after.as_deref())
        .bind(&prev)
        .bind(&hash)
        .execute(&mut **tx)
        .await?;
        prev = hash;
    }
    Ok(())
}

async fn write_lifecycle_in(tx: &mut Tx, write: &LifecycleWrite<'_>) -> Result<()> {
    if let Some(d) = &write.decision {
        let r = sqlx::query(
            "UPDATE change_requests SET state = $1, decided_by = $2, decided_at = $3,
                    decision_note = $4, person_id = COALESCE($5, person_id)
              WHERE id = $6 AND state = 'filed'",
        )
        .bind(d.state.as_str())
        .bind(&d.by)
        .bind(write.at)
        .bind(d.note.as_deref())
        .bind(d.person.map(|p| p.0))
        .bind(d.change)
        .execute(&mut **tx)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "change request {} is not waiting for a decision",
                d.change
            )));
        }
    }
    for effect in write.effects {
        match effect {
            LifecycleEffect::SetPersonState { person, state } => {
                let r = sqlx::query("UPDATE people SET state = $1 WHERE id = $2")
                    .bind(state.as_str())
                    .bind(person.0)
                    .execute(&mut **tx)
                    .await?;
                if r.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("person {}", person.0)));
                }
                // A re-issued mailbox counts its inactivity (Đ8.3) from the re-issue.
                let sql = match state {
                    PersonState::Active => {
                        "UPDATE accounts SET state = 'active', revoked_at = NULL,
                                last_access_at = CASE WHEN last_access_at > $1
                                                 THEN last_access_at ELSE $1 END
                          WHERE id = (SELECT account_id FROM people WHERE id = $2)"
                    }
                    _ => {
                        "UPDATE accounts SET state = 'revoked', revoked_at = $1
                          WHERE id = (SELECT account_id FROM people WHERE id = $2)"
                    }
                };
                sqlx::query(sql)
                    .bind(write.at)
                    .bind(person.0)
                    .execute(&mut **tx)
                    .await?;
                // The Đ17 ledger of mailboxes.
                let kind = match state {
                    PersonState::Active => Some("reissued"),
                    PersonState::Revoked => Some("revoked"),
                    PersonState::Reserved => None,
                };
                if let Some(kind) = kind {
                    sqlx::query(
                        "INSERT INTO mailbox_events (at, person_id, kind, unit_id)
                         SELECT $1, id, $3, unit_id FROM people WHERE id = $2",
                    )
                    .bind(write.at)
                    .bind(person.0)
                    .bind(kind)
                    .execute(&mut **tx)
                    .await?;
                }
            }
            LifecycleEffect::MovePerson { person, unit } => {
                // The Đ17 ledger: from now on the person counts in the new unit.
                super::ledger::record_move(tx, write.at, *person, *unit).await?;
                let r = sqlx::query("UPDATE people SET unit_id = $1 WHERE id = $2")
                    .bind(unit.0)
                    .bind(person.0)
                    .execute(&mut **tx)
                    .await?;
                if r.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("person {}", person.0)));
                }
                // A head who leaves the unit is no longer its head.
                sqlx::query(
                    "UPDATE units SET head_person_id = NULL
                      WHERE head_person_id = $1 AND id <> $2",
                )
                .bind(person.0)
                .bind(unit.0)
                .execute(&mut **tx)
                .await?;
            }
            LifecycleEffect::PurgeMailbox { person } => {
                let account: Option<i64> =
                    sqlx::query_scalar("SELECT account_id FROM people WHERE id = $1")
                        .bind(person.0)
                        .fetch_optional(&mut **tx)
                        .await?
                        .flatten();
                if let Some(account) = account {
                    sqlx::query(
                        "UPDATE blobs SET refcount = refcount - (SELECT COUNT(*) FROM messages m
                           JOIN mailboxes b ON b.id = m.mailbox_id
                          WHERE b.account_id = $1 AND m.blob_hash = blobs.hash)
                         WHERE hash IN (SELECT m.blob_hash FROM messages m
                           JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = $1)",
                    )
                    .bind(account)
                    .execute(&mut **tx)
                    .await?;
                    // Cascades to folders and messages; people.account_id becomes NULL.
                    sqlx::query("DELETE FROM accounts WHERE id = $1")
                        .bind(account)
                        .execute(&mut **tx)
                        .await?;
                }
                sqlx::query("UPDATE people SET state = 'reserved' WHERE id = $1")
                    .bind(person.0)
                    .execute(&mut **tx)
                    .await?;
            }
            LifecycleEffect::SetUnitHead { unit, person } => {
                let r = sqlx::query("UPDATE units SET head_person_id = $1 WHERE id = $2")
                    .bind(person.0)
                    .bind(unit.0)
                    .execute(&mut **tx)
                    .await?;
                if r.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("unit {}", unit.0)));
                }
            }
            LifecycleEffect::EndDelegations { unit, keep } => {
                let rows: Vec<i64> = sqlx::query_scalar(
                    "SELECT delegate_account_id FROM unit_delegates
                      WHERE unit_account_id = (SELECT account_id FROM units WHERE id = $1)",
                )
                .bind(unit.0)
                .fetch_all(&mut **tx)
                .await?;
                for delegate in rows.into_iter().filter(|d| !keep.contains(&AccountId(*d))) {
                    sqlx::query(
                        "DELETE FROM unit_delegates
                          WHERE unit_account_id = (SELECT account_id FROM units WHERE id = $1)
                            AND delegate_account_id = $2",
                    )
                    .bind(unit.0)
                    .bind(delegate)
                    .execute(&mut **tx)
                    .await?;
                }
            }
            LifecycleEffect::SetUnitMailboxOpen { unit, open } => {
                let sql = if *open {
                    "UPDATE accounts SET state = 'active', revoked_at = NULL,
                            last_access_at = CASE WHEN last_access_at > $1
                                             THEN last_access_at ELSE $1 END
                      WHERE id = (SELECT account_id FROM units WHERE id = $2)"
                } else {
                    "UPDATE accounts SET state = 'revoked', revoked_at = $1
                      WHERE id = (SELECT account_id FROM units WHERE id = $2)"
                };
                let r = sqlx::query(sql)
                    .bind(write.at)
                    .bind(unit.0)
                    .execute(&mut **tx)
                    .await?;
                if r.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("mailbox of unit {}", unit.0)));
                }
            }
            LifecycleEffect::LinkAccount { person, account } => {
                sqlx::query("UPDATE people SET account_id = $1 WHERE id = $2")
                    .bind(account.0)
                    .bind(person.0)
                    .execute(&mut **tx)
                    .await?;
            }
            LifecycleEffect::SetPassword {
                account,
                hash,
                must_change,
            } => {
                sqlx::query(
                    "UPDATE accounts SET password_hash = $1, must_change_password = $2,
                            activated_at = NULL
                      WHERE id = $3",
                )
                .bind(hash)
                .bind(*must_change)
                .bind(account.0)
                .execute(&mut **tx)
                .await?;
                // A new password signs out every web session (as `MailStore::set_password`).
                sqlx::query("DELETE FROM web_sessions WHERE account_id = $1")
                    .bind(account.0)
                    .execute(&mut **tx)
                    .await?;
            }
            LifecycleEffect::Unit(effect) => {
                super::reorganise::apply(tx, write.at, effect).await?;
            }
            LifecycleEffect::ResolveCompromise {
                incident,
                note,
                confirmation: c,
            } => {
                let r = sqlx::query(
                    "UPDATE incidents SET status = 'resolved', note = $1, updated_at = $2,
                            resolved_at = $2
                      WHERE id = $3 AND locks_account = 1 AND status <> 'resolved'",
                )
                .bind(note)
                .bind(write.at)
                .bind(incident)
                .execute(&mut **tx)
                .await?;
                if r.rows_affected() == 0 {
                    return Err(StoreError::Conflict(format!(
                        "incident {incident} does not lock an account or is resolved already"
                    )));
                }
                let size = i64::try_from(c.size)
                    .map_err(|_| StoreError::Corrupt(format!("size {}", c.size)))?;
                sqlx::query(
                    "INSERT INTO blobs (hash, size, refcount) VALUES ($1, $2, 1)
                     ON CONFLICT (hash) DO UPDATE SET refcount = blobs.refcount + 1",
                )
                .bind(&c.blob)
                .bind(size)
                .execute(&mut **tx)
                .await?;
                sqlx::query(
                    "INSERT INTO incident_confirmations
                            (incident_id, blob_hash, file_name, content_type, size, added_by,
                             added_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(incident)
                .bind(&c.blob)
                .bind(&c.file_name)
                .bind(&c.content_type)
                .bind(size)
                .bind(&c.added_by)
                .bind(c.added_at)
                .execute(&mut **tx)
                .await?;
            }
            LifecycleEffect::SetPersonDetails {
                person,
                full_name,
                position,
                phone,
                public,
            } => set_person_details(tx, *person, full_name, position, phone, *public).await?,
            LifecycleEffect::ReaddressPerson { person, address } => {
                readdress_person(tx, *person, address, write.at).await?
            }
        }
    }
    for (account, since, days) in write.warnings {
        sqlx::query(
            "INSERT INTO inactivity_warnings (account_id, since, days, sent_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(account.0)
        .bind(*since)
        .bind(i64::from(*days))
        .bind(write.at)
        .execute(&mut **tx)
        .await?;
    }
    append_audit(tx, write.at, write.audit).await
}

async fn set_person_details(
    tx: &mut Tx,
    person: PersonId,
    full_name: &Option<String>,
    position: &Option<Option<String>>,
    phone: &Option<Option<String>>,
    public: Option<bool>,
) -> Result<()> {
    let account: Option<Option<i64>> =
        sqlx::query_scalar("SELECT account_id FROM people WHERE id = $1")
            .bind(person.0)
            .fetch_optional(&mut **tx)
            .await?;
    let Some(account) = account else {
        return Err(StoreError::NotFound(format!("person {}", person.0)));
    };
    if let Some(name) = full_name {
        sqlx::query("UPDATE people SET full_name = $1 WHERE id = $2")
            .bind(name)
            .bind(person.0)
            .execute(&mut **tx)
            .await?;
        sqlx::query("UPDATE accounts SET display_name = $1 WHERE id = $2")
            .bind(name)
            .bind(account)
            .execute(&mut **tx)
            .await?;
    }
    if let Some(position) = position {
        sqlx::query("UPDATE people SET position = $1 WHERE id = $2")
            .bind(position.as_deref())
            .bind(person.0)
            .execute(&mut **tx)
            .await?;
    }
    if let Some(phone) = phone {
        sqlx::query("UPDATE people SET phone = $1 WHERE id = $2")
            .bind(phone.as_deref())
            .bind(person.0)
            .execute(&mut **tx)
            .await?;
    }
    if let Some(public) = public {
        sqlx::query("UPDATE people SET public = $1 WHERE id = $2")
            .bind(public)
            .bind(person.0)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn readdress_person(tx: &mut Tx, person: PersonId, address: &str, at: i64) -> Result<()> {
    let row = sqlx::query("SELECT address, account_id FROM people WHERE id = $1")
        .bind(person.0)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("person {}", person.0)))?;
    let old: String = row.try_get("address")?;
    let account: Option<i64> = row.try_get("account_id")?;
    if old == address {
        return Ok(());
    }
    let given = sqlx::query(
        "SELECT 1 FROM accounts WHERE address = $1
         UNION ALL SELECT 1 FROM people WHERE address = $1
         UNION ALL SELECT 1 FROM units WHERE address = $1
         UNION ALL SELECT 1 FROM aliases WHERE address = $1
         LIMIT 1",
    )
    .bind(address)
    .fetch_optional(&mut **tx)
    .await?;
    if given.is_some() {
        return Err(StoreError::Conflict(format!("{address} is already given")));
    }
    // A writer on another connection may give it meanwhile: its unique index answers.
    let taken = |e: sqlx::Error| match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(format!("{address} is already given"))
        }
        e => e.into(),
    };
    sqlx::query("UPDATE people SET address = $1 WHERE id = $2")
        .bind(address)
        .bind(person.0)
        .execute(&mut **tx)
        .await
        .map_err(taken)?;
    if let Some(account) = account {
        sqlx::query("UPDATE accounts SET address = $1 WHERE id = $2")
            .bind(address)
            .bind(account)
            .execute(&mut **tx)
            .await
            .map_err(taken)?;
    }
    super::reorganise::keep_reachable(tx, at, &old, address).await
}

async fn add_checkpoint_in(tx: &mut Tx, day: i64, at: i64) -> Result<Option<CheckpointRecord>> {
    dialect::lock_audit_chain(tx).await?;
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?;
    let Some((row_id, hash)) = head else {
        return Ok(None);
    };
    let r = sqlx::query(
        "INSERT INTO audit_checkpoints (day, at, row_id, hash) VALUES ($1, $2, $3, $4)
         ON CONFLICT (day) DO NOTHING",
    )
    .bind(day)
    .bind(at)
    .bind(row_id)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    Ok((r.rows_affected() == 1).then_some(CheckpointRecord {
        day,
        at,
        row_id,
        hash,
    }))
}

fn admin_from_row(r: &DbRow) -> Result<AdminRecord> {
    let focal: bool = r.try_get("focal")?;
    let inspector: bool = r.try_get("inspector")?;
    let unit: Option<i64> = r.try_get("unit_id")?;
    let scope = match (focal, unit) {
        (true, _) if inspector => AdminScope::Inspector,
        (true, _) => AdminScope::Focal,
        (false, Some(u)) => AdminScope::Unit(UnitId(u)),
        (false, None) => return Err(StoreError::Corrupt("admin without a scope".into())),
    };
    Ok(AdminRecord {
        account: AccountId(r.try_get("account_id")?),
        address: r.try_get("address")?,
        scope,
        granted_by: r.try_get("granted_by")?,
        granted_at: r.try_get("granted_at")?,
    })
}

fn change_from_row(r: &DbRow) -> Result<ChangeRecord> {
    let state: String = r.try_get("state")?;
    Ok(ChangeRecord {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        unit: UnitId(r.try_get("unit_id")?),
        person: r.try_get::<Option<i64>, _>("person_id")?.map(PersonId),
        payload: r.try_get("payload")?,
        reason: r.try_get("reason")?,
        state: ChangeState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("change state {state:?}")))?,
        filed_by: r.try_get("filed_by")?,
        filed_at: r.try_get("filed_at")?,
        decided_by: r.try_get("decided_by")?,
        decided_at: r.try_get("decided_at")?,
        decision_note: r.try_get("decision_note")?,
    })
}

fn notice_from_row(r: &DbRow) -> Result<NoticeRecord> {
    Ok(NoticeRecord {
        id: r.try_get("id")?,
        year: r.try_get("year")?,
        number: r.try_get::<i64, _>("number")? as u32,
        reference: r.try_get("reference")?,
        unit: UnitId(r.try_get("unit_id")?),
        subject: r.try_get("subject")?,
        body_text: r.try_get("body_text")?,
        body_html: r.try_get("body_html")?,
        created_at: r.try_get("created_at")?,
    })
}

#[async_trait::async_trait]
impl crate::LifecycleStore for Backend {
    async fn grant_admin(
        &self,
        account: AccountId,
        scope: AdminScope,
        granted_by: &str,
        at: i64,
        audit: &[NewAudit],
    ) -> Result<()> {
        let (focal, unit, inspector) = match scope {
            AdminScope::Focal => (true, None, false),
            AdminScope::Unit(u) => (false, Some(u.0), false),
            AdminScope::Inspector => (true, None, true),
        };
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO admins (account_id, focal, unit_id, granted_by, granted_at, inspector)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (account_id) DO UPDATE SET focal = excluded.focal,
                unit_id = excluded.unit_id, granted_by = excluded.granted_by,
                granted_at = excluded.granted_at, inspector = excluded.inspector",
        )
        .bind(account.0)
        .bind(focal)
        .bind(unit)
        .bind(granted_by)
        .bind(at)
        .bind(inspector)
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, at, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn revoke_admin(&self, account: AccountId, at: i64, audit: &[NewAudit]) -> Result<bool> {
        let mut tx = self.begin().await?;
        let r = sqlx::query("DELETE FROM admins WHERE account_id = $1")
            .bind(account.0)
            .execute(&mut *tx)
            .await?;
        commit_removal(tx, r.rows_affected(), at, audit).await
    }

    async fn admins(&self) -> Result<Vec<AdminRecord>> {
        sqlx::query(
            "SELECT d.*, a.address FROM admins d JOIN accounts a ON a.id = d.account_id
              ORDER BY a.address",
        )
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(admin_from_row)
        .collect()
    }

    async fn admin(&self, account: AccountId) -> Result<Option<AdminRecord>> {
        sqlx::query(
            "SELECT d.*, a.address FROM admins d JOIN accounts a ON a.id = d.account_id
              WHERE d.account_id = $1",
        )
        .bind(account.0)
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(admin_from_row)
        .transpose()
    }

    async fn file_change(&self, change: &NewChange, audit: &[NewAudit]) -> Result<i64> {
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO change_requests (kind, unit_id, person_id, payload, reason, state,
                                          filed_by, filed_at)
             VALUES ($1, $2, $3, $4, $5, 'filed', $6, $7) RETURNING id",
        )
        .bind(&change.kind)
        .bind(change.unit.0)
        .bind(change.person.map(|p| p.0))
        .bind(&change.payload)
        .bind(&change.reason)
        .bind(&change.filed_by)
        .bind(change.filed_at)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        append_audit(&mut tx, change.filed_at, &naming_id(audit, id)).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn change(&self, id: i64) -> Result<Option<ChangeRecord>> {
        sqlx::query("SELECT * FROM change_requests WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .as_ref()
            .map(change_from_row)
            .transpose()
    }

    async fn changes(&self) -> Result<Vec<ChangeRecord>> {
        sqlx::query("SELECT * FROM change_requests ORDER BY id DESC")
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(change_from_row)
            .collect()
    }

    async fn write_lifecycle(&self, write: &LifecycleWrite<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        let result = write_lifecycle_in(&mut tx, write).await;
        match result {
            Ok(()) => {
                tx.commit().await?;
                Ok(())
            }
            Err(e) => {
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }

    async fn next_notice_number(&self, year: i32) -> Result<u32> {
        let max: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(number), 0) FROM notices WHERE year = $1")
                .bind(year)
                .fetch_one(&self.read)
                .await?;
        Ok(max as u32 + 1)
    }

    async fn insert_notice(&self, n: &NewNotice, audit: &[NewAudit]) -> Result<i64> {
        let mut tx = self.begin().await?;
        let r = sqlx::query(
            "INSERT INTO notices (year, number, reference, unit_id, subject, body_text,
                                  body_html, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(n.year)
        .bind(i64::from(n.number))
        .bind(&n.reference)
        .bind(n.unit.0)
        .bind(&n.subject)
        .bind(&n.body_text)
        .bind(&n.body_html)
        .bind(n.created_at)
        .fetch_one(&mut *tx)
        .await;
        let id: i64 = match r {
            Ok(r) => r.try_get(0)?,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                let _ = tx.rollback().await;
                return Err(StoreError::Conflict(format!("notice {}", n.reference)));
            }
            Err(e) => return Err(e.into()),
        };
        append_audit(&mut tx, n.created_at, audit).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn notice(&self, id: i64) -> Result<Option<NoticeRecord>> {
        sqlx::query("SELECT * FROM notices WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .as_ref()
            .map(notice_from_row)
            .transpose()
    }

    async fn notices(&self) -> Result<Vec<NoticeRecord>> {
        sqlx::query("SELECT * FROM notices ORDER BY id DESC")
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(notice_from_row)
            .collect()
    }

    async fn inactivity_warnings(&self) -> Result<Vec<WarningRecord>> {
        sqlx::query("SELECT account_id, since, days FROM inactivity_warnings")
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|r| {
                Ok(WarningRecord {
                    account: AccountId(r.try_get("account_id")?),
                    since: r.try_get("since")?,
                    days: r.try_get::<i64, _>("days")? as u32,
                })
            })
            .collect()
    }

    async fn audit_log(&self) -> Result<Vec<AuditRecord>> {
        sqlx::query("SELECT * FROM audit_log ORDER BY id")
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(audit_record)
            .collect()
    }

    async fn add_checkpoint(&self, day: i64, at: i64) -> Result<Option<CheckpointRecord>> {
        let mut tx = self.begin().await?;
        let added = add_checkpoint_in(&mut tx, day, at).await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn checkpoints(&self) -> Result<Vec<CheckpointRecord>> {
        let rows: Vec<(i64, i64, i64, String)> =
            sqlx::query_as("SELECT day, at, row_id, hash FROM audit_checkpoints ORDER BY day")
                .fetch_all(&self.read)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(day, at, row_id, hash)| CheckpointRecord {
                day,
                at,
                row_id,
                hash,
            })
            .collect())
    }

    async fn audit_for(&self, target: &str, limit: u32) -> Result<Vec<AuditRecord>> {
        sqlx::query("SELECT * FROM audit_log WHERE target = $1 ORDER BY id DESC LIMIT $2")
            .bind(target)
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(audit_record)
            .collect()
    }

    async fn activate(&self, account: AccountId, at: i64) -> Result<i64> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE accounts SET activated_at = COALESCE(activated_at, $1) WHERE id = $2")
            .bind(at)
            .bind(account.0)
            .execute(&mut *tx)
            .await?;
        let activated: Option<i64> =
            sqlx::query_scalar("SELECT activated_at FROM accounts WHERE id = $1")
                .bind(account.0)
                .fetch_optional(&mut *tx)
                .await?
                .flatten();
        tx.commit().await?;
        Ok(activated.unwrap_or(at))
    }

    async fn revoked_accounts(&self) -> Result<Vec<(AccountId, i64)>> {
        sqlx::query("SELECT id, revoked_at FROM accounts WHERE revoked_at IS NOT NULL")
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|r| Ok((AccountId(r.try_get("id")?), r.try_get("revoked_at")?)))
            .collect()
    }

    async fn revoked_at(&self, account: AccountId) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT revoked_at FROM accounts WHERE id = $1")
                .bind(account.0)
                .fetch_optional(&self.read)
                .await?
                .flatten(),
        )
    }

    async fn create_exception_account(
        &self,
        account: &crate::NewAccount,
        folders: &[(&str, Option<crate::SpecialUse>)],
        reason: &str,
        created_by: &str,
        audit: &[NewAudit],
    ) -> Result<AccountId> {
        let mut tx = self.begin().await?;
        let id = super::mail::insert_account(&mut tx, account, folders).await?;
        sqlx::query(
            "INSERT INTO account_exceptions (account_id, reason, created_by, created_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id.0)
        .bind(reason)
        .bind(created_by)
        .bind(account.created_at)
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, account.created_at, audit).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn account_exceptions(&self) -> Result<Vec<AccountException>> {
        sqlx::query(
            "SELECT e.*, a.address, a.display_name FROM account_exceptions e
               JOIN accounts a ON a.id = e.account_id ORDER BY e.account_id",
        )
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|r| {
            Ok(AccountException {
                account: AccountId(r.try_get("account_id")?),
                address: r.try_get("address")?,
                display_name: r.try_get("display_name")?,
                reason: r.try_get("reason")?,
                created_by: r.try_get("created_by")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
    }
}

fn audit_record(r: &super::DbRow) -> Result<AuditRecord> {
    Ok(AuditRecord {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        action: r.try_get("action")?,
        target: r.try_get("target")?,
        before: r.try_get("before")?,
        after: r.try_get("after")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}
