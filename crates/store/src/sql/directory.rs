//! SQL of the directory: units, people, aliases, reserved names, and the bulk creation of an
//! import.
//!
//! The bulk creation runs in one `BEGIN IMMEDIATE` transaction. Ids are handed out from the
//! current maxima inside that transaction (the only writer), so rows are inserted with
//! multi-row `INSERT`s of explicit ids instead of one statement per row: 20,000 people with
//! six folders each are a few hundred statements.

use std::collections::HashMap;

use hopthu_model::{AccountId, PersonId, UnitId};
use sqlx::{QueryBuilder, Row};

use sqlx::AssertSqlSafe;

use super::{Backend, Db, DbRow, Tx, dialect};
use crate::directory::*;
use crate::{Result, SpecialUse, StoreError};

/// Rows per multi-row `INSERT` (SQLite allows 32,766 bound parameters per statement).
const CHUNK: usize = 1000;

/// One account row of the batch.
struct AccountRow<'a> {
    id: i64,
    address: &'a str,
    display_name: &'a str,
    password_hash: &'a str,
    must_change_password: bool,
}

/// The tables whose ids the bulk creation hands out itself.
#[derive(Clone, Copy)]
enum IdTable {
    Units,
    People,
    Accounts,
    Mailboxes,
}

impl IdTable {
    const ALL: [IdTable; 4] = [
        IdTable::Units,
        IdTable::People,
        IdTable::Accounts,
        IdTable::Mailboxes,
    ];

    fn name(self) -> &'static str {
        match self {
            IdTable::Units => "units",
            IdTable::People => "people",
            IdTable::Accounts => "accounts",
            IdTable::Mailboxes => "mailboxes",
        }
    }
}

/// The first id free in `table` (above every row, and above every id the back-end's own id
/// generator has handed out).
async fn next_id(tx: &mut Tx, table: IdTable) -> Result<i64> {
    let max: i64 = sqlx::query_scalar(AssertSqlSafe(dialect::max_id_sql(table.name())))
        .fetch_one(&mut **tx)
        .await?;
    Ok(max + 1)
}

/// Maps a unique-constraint failure to a conflict naming what was being inserted.
fn conflict(what: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |e| match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(format!("{what}: {}", d.message()))
        }
        e => e.into(),
    }
}

pub(super) async fn create_directory_in(
    tx: &mut Tx,
    batch: &NewDirectory<'_>,
) -> Result<CreatedDirectory> {
    // No other writer hands out ids in these tables until this transaction ends.
    dialect::lock_for_explicit_ids(tx, &IdTable::ALL.map(IdTable::name)).await?;
    // Unit codes already stored, then the ids this batch hands out.
    let mut unit_ids: HashMap<String, i64> = sqlx::query("SELECT id, code FROM units")
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get::<String, _>("code")?, r.try_get::<i64, _>("id")?)))
        .collect::<Result<_>>()?;
    let first_unit = next_id(tx, IdTable::Units).await?;
    let first_person = next_id(tx, IdTable::People).await?;
    let first_account = next_id(tx, IdTable::Accounts).await?;
    let first_mailbox = next_id(tx, IdTable::Mailboxes).await?;

    let mut created = CreatedDirectory::default();
    let mut accounts: Vec<AccountRow<'_>> =
        Vec::with_capacity(batch.units.len() + batch.people.len());
    let mut account_id = first_account;
    for (i, unit) in batch.units.iter().enumerate() {
        let id = first_unit + i as i64;
        if unit_ids.insert(unit.code.clone(), id).is_some() {
            return Err(StoreError::Conflict(format!("unit code {}", unit.code)));
        }
        accounts.push(AccountRow {
            id: account_id,
            address: &unit.address,
            display_name: &unit.name,
            password_hash: &unit.password_hash,
            must_change_password: unit.must_change_password,
        });
        created.units.push((UnitId(id), AccountId(account_id)));
        account_id += 1;
    }
    for (i, person) in batch.people.iter().enumerate() {
        accounts.push(AccountRow {
            id: account_id,
            address: &person.address,
            display_name: &person.full_name,
            password_hash: &person.password_hash,
            must_change_password: person.must_change_password,
        });
        created
            .people
            .push((PersonId(first_person + i as i64), AccountId(account_id)));
        account_id += 1;
    }
    let unit_id = |code: &str| -> Result<i64> {
        unit_ids
            .get(code)
            .copied()
            .ok_or_else(|| StoreError::NotFound(format!("unit code {code}")))
    };

    // Accounts.
    for chunk in accounts.chunks(CHUNK) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO accounts (id, address, display_name, password_hash, \
             must_change_password, state, created_at) ",
        );
        q.push_values(chunk, |mut b, a| {
            b.push_bind(a.id)
                .push_bind(a.address)
                .push_bind(a.display_name)
                .push_bind(a.password_hash)
                .push_bind(a.must_change_password)
                .push_bind("active")
                .push_bind(batch.created_at);
        });
        q.build()
            .execute(&mut **tx)
            .await
            .map_err(conflict("address"))?;
    }

    // Mailboxes: RFC 3501 §2.3.1.1 wants a fresh UIDVALIDITY per new mailbox; time plus the
    // mailbox id, as `insert_mailbox` does.
    let mailboxes: Vec<(i64, i64, &str, Option<SpecialUse>)> = accounts
        .iter()
        .flat_map(|a| batch.folders.iter().map(move |(n, s)| (a.id, *n, *s)))
        .enumerate()
        .map(|(i, (account, name, special))| (first_mailbox + i as i64, account, name, special))
        .collect();
    let now32 = batch.created_at as u32;
    for chunk in mailboxes.chunks(CHUNK) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO mailboxes (id, account_id, name, special_use, uidvalidity) ",
        );
        q.push_values(chunk, |mut b, (id, account, name, special)| {
            let uidvalidity = (now32.wrapping_add(*id as u32) & 0x7fff_ffff).max(1);
            b.push_bind(*id)
                .push_bind(*account)
                .push_bind(*name)
                .push_bind(special.map(SpecialUse::as_str))
                .push_bind(i64::from(uidvalidity));
        });
        q.build().execute(&mut **tx).await?;
    }

    // Units, with parents resolved to ids (of this batch or stored).
    let mut unit_rows = Vec::with_capacity(batch.units.len());
    for (unit, (id, account)) in batch.units.iter().zip(&created.units) {
        let parent = unit.parent_code.as_deref().map(unit_id).transpose()?;
        unit_rows.push((unit, id.0, account.0, parent));
    }
    for chunk in unit_rows.chunks(CHUNK) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO units (id, code, kind, name, parent_id, address, account_id, created_at) ",
        );
        q.push_values(chunk, |mut b, (unit, id, account, parent)| {
            b.push_bind(*id)
                .push_bind(&unit.code)
                .push_bind(&unit.kind)
                .push_bind(&unit.name)
                .push_bind(*parent)
                .push_bind(&unit.address)
                .push_bind(*account)
                .push_bind(batch.created_at);
        });
        q.build()
            .execute(&mut **tx)
            .await
            .map_err(conflict("unit"))?;
    }

    // People.
    let mut person_rows = Vec::with_capacity(batch.people.len());
    for (person, (id, account)) in batch.people.iter().zip(&created.people) {
        person_rows.push((person, id.0, account.0, unit_id(&person.unit_code)?));
    }
    for chunk in person_rows.chunks(CHUNK) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO people (id, full_name, unit_id, position, staff_id, phone, address, \
             account_id, state, public, created_at) ",
        );
        q.push_values(chunk, |mut b, (person, id, account, unit)| {
            b.push_bind(*id)
                .push_bind(&person.full_name)
                .push_bind(*unit)
                .push_bind(person.position.as_deref())
                .push_bind(person.staff_id.as_deref())
                .push_bind(person.phone.as_deref())
                .push_bind(&person.address)
                .push_bind(*account)
                .push_bind("active")
                .push_bind(person.public)
                .push_bind(batch.created_at);
        });
        q.build()
            .execute(&mut **tx)
            .await
            .map_err(conflict("person"))?;
    }
    // The Đ17 ledger: each new person's mailbox created, in this transaction.
    if let Some((first, _)) = created.people.first() {
        sqlx::query(
            "INSERT INTO mailbox_events (at, person_id, kind, unit_id)
             SELECT created_at, id, 'created', unit_id FROM people WHERE id >= $1 ORDER BY id",
        )
        .bind(first.0)
        .execute(&mut **tx)
        .await?;
    }
    for (_, id, _, unit) in person_rows.iter().filter(|(p, ..)| p.head) {
        sqlx::query("UPDATE units SET head_person_id = $1 WHERE id = $2")
            .bind(id)
            .bind(unit)
            .execute(&mut **tx)
            .await?;
    }

    for alias in batch.aliases {
        sqlx::query(
            "INSERT INTO aliases (address, target, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (address) DO NOTHING",
        )
        .bind(&alias.address)
        .bind(&alias.target)
        .bind(batch.created_at)
        .execute(&mut **tx)
        .await?;
    }
    // Ids given explicitly: the back-end's own generator must continue above them.
    dialect::after_explicit_ids(tx, &IdTable::ALL.map(IdTable::name)).await?;
    super::lifecycle::append_audit(tx, batch.created_at, batch.audit).await?;
    Ok(created)
}

fn unit_from_row(r: &DbRow) -> Result<UnitRecord> {
    Ok(UnitRecord {
        id: UnitId(r.try_get("id")?),
        code: r.try_get("code")?,
        kind: r.try_get("kind")?,
        name: r.try_get("name")?,
        parent: r.try_get::<Option<i64>, _>("parent_id")?.map(UnitId),
        address: r.try_get("address")?,
        account: r.try_get::<Option<i64>, _>("account_id")?.map(AccountId),
        head: r.try_get::<Option<i64>, _>("head_person_id")?.map(PersonId),
        created_at: r.try_get("created_at")?,
        last_access_at: r.try_get("last_access_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

fn person_from_row(r: &DbRow) -> Result<PersonRecord> {
    let state: String = r.try_get("state")?;
    Ok(PersonRecord {
        id: PersonId(r.try_get("id")?),
        full_name: r.try_get("full_name")?,
        unit: UnitId(r.try_get("unit_id")?),
        position: r.try_get("position")?,
        staff_id: r.try_get("staff_id")?,
        phone: r.try_get("phone")?,
        address: r.try_get("address")?,
        account: r.try_get::<Option<i64>, _>("account_id")?.map(AccountId),
        state: PersonState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("person state {state:?}")))?,
        public: r.try_get("public")?,
        created_at: r.try_get("created_at")?,
        last_access_at: r.try_get("last_access_at")?,
    })
}

#[async_trait::async_trait]
impl crate::DirectoryStore for Backend {
    async fn create_directory(&self, batch: &NewDirectory<'_>) -> Result<CreatedDirectory> {
        let mut tx = self.begin().await?;
        let result = create_directory_in(&mut tx, batch).await;
        match result {
            Ok(created) => {
                tx.commit().await?;
                Ok(created)
            }
            Err(e) => {
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }

    async fn units(&self) -> Result<Vec<UnitRecord>> {
        sqlx::query(
            "SELECT u.*, a.last_access_at, a.revoked_at FROM units u
               LEFT JOIN accounts a ON a.id = u.account_id
              WHERE u.dissolved_at IS NULL ORDER BY u.id",
        )
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(unit_from_row)
        .collect()
    }

    async fn people(&self) -> Result<Vec<PersonRecord>> {
        sqlx::query(
            "SELECT p.*, a.last_access_at FROM people p
               LEFT JOIN accounts a ON a.id = p.account_id ORDER BY p.id",
        )
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(person_from_row)
        .collect()
    }

    async fn public_people(&self) -> Result<Vec<PersonRecord>> {
        sqlx::query(
            "SELECT p.*, a.last_access_at FROM people p
               LEFT JOIN accounts a ON a.id = p.account_id
              WHERE p.public AND p.state = 'active' ORDER BY p.id",
        )
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(person_from_row)
        .collect()
    }

    async fn account_addresses(&self) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT address FROM accounts ORDER BY id")
                .fetch_all(&self.read)
                .await?,
        )
    }

    async fn aliases(&self) -> Result<Vec<AliasRecord>> {
        sqlx::query("SELECT address, target FROM aliases ORDER BY address")
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|r| {
                Ok(AliasRecord {
                    address: r.try_get("address")?,
                    target: r.try_get("target")?,
                })
            })
            .collect()
    }

    async fn alias_target(&self, address: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT target FROM aliases WHERE address = $1")
                .bind(address)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    async fn add_alias(
        &self,
        alias: &AliasRecord,
        created_at: i64,
        audit: &[crate::NewAudit],
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let r =
            sqlx::query("INSERT INTO aliases (address, target, created_at) VALUES ($1, $2, $3)")
                .bind(&alias.address)
                .bind(&alias.target)
                .bind(created_at)
                .execute(&mut *tx)
                .await;
        match r {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::Conflict(alias.address.clone()));
            }
            Err(e) => return Err(e.into()),
        }
        super::lifecycle::append_audit(&mut tx, created_at, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn reserved_names(&self) -> Result<Vec<ReservedName>> {
        sqlx::query("SELECT local, note FROM reserved_names ORDER BY local")
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|r| {
                Ok(ReservedName {
                    local: r.try_get("local")?,
                    note: r.try_get("note")?,
                })
            })
            .collect()
    }

    async fn add_reserved_name(
        &self,
        name: &ReservedName,
        created_at: i64,
        audit: &[crate::NewAudit],
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let r =
            sqlx::query("INSERT INTO reserved_names (local, note, created_at) VALUES ($1, $2, $3)")
                .bind(&name.local)
                .bind(&name.note)
                .bind(created_at)
                .execute(&mut *tx)
                .await;
        match r {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::Conflict(name.local.clone()));
            }
            Err(e) => return Err(e.into()),
        }
        super::lifecycle::append_audit(&mut tx, created_at, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}
