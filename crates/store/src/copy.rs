//! Moving an embedded installation (SQLite under `data_dir`, bodies in `data_dir/blobs`) into
//! an empty PostgreSQL database and, optionally, an S3 bucket: `hopthu store copy`.
//!
//! 1. [`check_source`] opens `data_dir/hopthu.db` read-only (the source is never written) and
//!    refuses one whose migrations are not all applied; [`check_target`] refuses a database
//!    whose tables hold any row, before anything is written there.
//! 2. [`copy_bodies`] puts every body the source's `blobs` table names into the target blob
//!    store (content-addressed, so a second run re-puts the same objects).
//! 3. [`copy_tables`] migrates the target (creating the schema) and copies every table in
//!    foreign-key order with the same ids, in ONE PostgreSQL transaction read from ONE SQLite
//!    read transaction. The target's user triggers are disabled meanwhile (`DISABLE TRIGGER
//!    USER`, enabled again before the commit), so mailbox counters and subscriptions are copied
//!    as they are rather than recomputed on top, and the audit log keeps its rows and hashes.
//!    Values are bound per the target column's type (`information_schema`): SQLite's 0/1
//!    become BOOLEAN; a NUL in text becomes a space, as PostgreSQL's own insert makes it
//!    (`search::no_nul`). Each identity sequence is then set above the largest id. Emptiness is
//!    checked again inside the transaction, after the tables are locked.
//! 4. [`verify`]: row counts equal per table, and every body the target's `blobs` table names
//!    re-read from the target blob store hashes to its name.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::str::FromStr;

use futures_util::{StreamExt, TryStreamExt};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Row};

use crate::{BlobId, BlobStore, Result, StoreError, backup};

/// Rows sent to PostgreSQL per INSERT (`search_text` rows hold whole bodies' text: fewer).
const BATCH: usize = 2000;
const TEXT_BATCH: usize = 200;
/// Bodies uploaded or re-read at once.
const PARALLEL: usize = 16;

/// Progress of a long step: `start(what, total)` then `advance(n)` as work is done.
pub trait Progress: Send + Sync {
    fn start(&self, what: &str, total: u64);
    fn advance(&self, n: u64);
}

/// No progress shown.
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
}

/// What the source holds.
#[derive(Debug, Clone)]
pub struct Source {
    /// Row counts of the tables copied, by name.
    pub tables: BTreeMap<String, u64>,
    /// The bodies the `blobs` table names, with their sizes.
    pub blobs: Vec<(BlobId, u64)>,
}

impl Source {
    pub fn rows(&self) -> u64 {
        self.tables.values().sum()
    }
    pub fn blob_bytes(&self) -> u64 {
        self.blobs.iter().map(|(_, s)| s).sum()
    }
}

/// What [`verify`] found.
#[derive(Debug, Clone, Default)]
pub struct CopyCheck {
    /// Row counts per table in the target.
    pub tables: BTreeMap<String, u64>,
    pub blobs: u64,
    pub blob_bytes: u64,
    pub problems: Vec<String>,
}

/// SQLite tables that are not data to copy: the FTS5 index (PostgreSQL indexes `search_text`
/// itself) and SQLite's own.
fn sqlite_only(table: &str) -> bool {
    table.starts_with("search_index") || table.starts_with("sqlite_") || table == MIGRATIONS
}

const MIGRATIONS: &str = "schema_migrations";

async fn open_source(data_dir: &Path) -> Result<SqliteConnection> {
    let path = data_dir.join(backup::DATABASE);
    if !path.is_file() {
        return Err(StoreError::NotFound(format!(
            "no embedded database at {}",
            path.display()
        )));
    }
    Ok(SqliteConnectOptions::from_str("sqlite://")
        .map_err(StoreError::Database)?
        .filename(&path)
        .read_only(true)
        .connect()
        .await?)
}

async fn connect_target(url: &str) -> Result<PgConnection> {
    if !crate::is_postgres_url(url) {
        return Err(StoreError::Corrupt(format!(
            "the target must be a postgres:// or postgresql:// URL, not {url:?}"
        )));
    }
    Ok(PgConnectOptions::from_str(url)
        .map_err(StoreError::Database)?
        .application_name("hopthu store copy")
        .connect()
        .await?)
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

async fn source_tables(db: &mut SqliteConnection) -> Result<Vec<String>> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(&mut *db)
            .await?;
    Ok(names.into_iter().filter(|t| !sqlite_only(t)).collect())
}

/// Counts the rows and lists the bodies of the embedded store under `data_dir`, refusing one
/// that an older or newer hopthu left (its migrations differ from this build's).
pub async fn check_source(data_dir: &Path) -> Result<Source> {
    let mut db = open_source(data_dir).await?;
    let result = async {
        let latest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
            .fetch_one(&mut db)
            .await?;
        if latest != Some(crate::sqlite::LATEST_MIGRATION) {
            return Err(StoreError::Conflict(format!(
                "the embedded database is at migration {latest:?}, this hopthu at {}: start \
                 `hopthu serve` with this version once, stop it, then copy",
                crate::sqlite::LATEST_MIGRATION
            )));
        }
        let mut tx = db.begin().await?;
        let mut tables = BTreeMap::new();
        for table in source_tables(&mut tx).await? {
            let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM {}",
                quote(&table)
            )))
            .fetch_one(&mut *tx)
            .await?;
            tables.insert(table, n.max(0) as u64);
        }
        let rows: Vec<(String, i64)> = sqlx::query_as("SELECT hash, size FROM blobs ORDER BY hash")
            .fetch_all(&mut *tx)
            .await?;
        tx.rollback().await?;
        let mut blobs = Vec::with_capacity(rows.len());
        for (hash, size) in rows {
            let id = BlobId::parse(&hash)
                .ok_or_else(|| StoreError::Corrupt(format!("blob name {hash:?} in blobs")))?;
            blobs.push((id, size.max(0) as u64));
        }
        Ok(Source { tables, blobs })
    }
    .await;
    db.close().await?;
    result
}

/// The base tables of the target's schema (without `schema_migrations`).
async fn target_tables(db: &mut PgConnection) -> Result<Vec<String>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
          WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
          ORDER BY table_name",
    )
    .fetch_all(&mut *db)
    .await?;
    Ok(names.into_iter().filter(|t| t != MIGRATIONS).collect())
}

/// The target's tables that hold rows, with their counts.
async fn non_empty(db: &mut PgConnection) -> Result<Vec<(String, i64)>> {
    let mut out = Vec::new();
    for table in target_tables(db).await? {
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {}",
            quote(&table)
        )))
        .fetch_one(&mut *db)
        .await?;
        if n > 0 {
            out.push((table, n));
        }
    }
    Ok(out)
}

fn refuse_non_empty(tables: &[(String, i64)]) -> StoreError {
    let shown: Vec<String> = tables
        .iter()
        .take(8)
        .map(|(t, n)| format!("{t}: {n}"))
        .collect();
    StoreError::Conflict(format!(
        "the target database is not empty ({}); copy only into an empty database",
        shown.join(", ")
    ))
}

/// Refuses a target database that holds rows in any table (nothing is written to it).
pub async fn check_target(url: &str) -> Result<()> {
    let mut db = connect_target(url).await?;
    let found = non_empty(&mut db).await;
    db.close().await?;
    let found = found?;
    if found.is_empty() {
        Ok(())
    } else {
        Err(refuse_non_empty(&found))
    }
}

/// Puts every body of `source` (read from `from`) into `to`, [`PARALLEL`] at a time, each
/// checked against its name; returns the bytes copied.
pub async fn copy_bodies(
    from: &BlobStore,
    to: &BlobStore,
    blobs: &[(BlobId, u64)],
    progress: &dyn Progress,
) -> Result<u64> {
    progress.start("Nội dung thư / message bodies", blobs.len() as u64);
    let mut copied = 0u64;
    let mut puts = futures_util::stream::iter(blobs.iter().map(|(id, _)| async move {
        let bytes = from.get(id).await?;
        if BlobId::of(&bytes) != *id {
            return Err(StoreError::Corrupt(format!(
                "body {} in {} does not hash to its name",
                id.as_str(),
                from.describe()
            )));
        }
        let len = bytes.len() as u64;
        let put = to.put(std::sync::Arc::new(bytes)).await?;
        if put != *id {
            return Err(StoreError::Corrupt(format!(
                "body {} changed while being copied",
                id.as_str()
            )));
        }
        Ok(len)
    }))
    .buffer_unordered(PARALLEL);
    while let Some(len) = puts.try_next().await? {
        copied += len;
        progress.advance(1);
    }
    Ok(copied)
}

/// A column's values for one batch, typed as the target column.
enum Column {
    Int(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
    Text(Vec<Option<String>>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Bool,
    Text,
}

struct TargetColumn {
    name: String,
    kind: Kind,
    /// Where its value comes from in the SQLite row.
    source: usize,
}

impl Kind {
    fn of(data_type: &str) -> Option<(Kind, &'static str)> {
        match data_type {
            "bigint" | "integer" | "smallint" => Some((Kind::Int, "bigint[]")),
            "boolean" => Some((Kind::Bool, "boolean[]")),
            "text" | "character varying" => Some((Kind::Text, "text[]")),
            _ => None,
        }
    }
}

/// The copy order: every table after the tables its non-deferrable foreign keys point to.
async fn copy_order(db: &mut PgConnection, tables: &[String]) -> Result<Vec<String>> {
    let edges: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, p.relname::text
           FROM pg_constraint k
           JOIN pg_class c ON c.oid = k.conrelid
           JOIN pg_class p ON p.oid = k.confrelid
          WHERE k.contype = 'f' AND NOT k.condeferrable
            AND c.relnamespace = current_schema()::regnamespace",
    )
    .fetch_all(&mut *db)
    .await?;
    let mut order = Vec::new();
    let mut done = BTreeSet::new();
    let mut left: Vec<&String> = tables.iter().collect();
    while !left.is_empty() {
        let before = left.len();
        left.retain(|t| {
            let ready = edges
                .iter()
                .filter(|(child, parent)| child == *t && parent != *t)
                .all(|(_, parent)| done.contains(parent) || !tables.contains(parent));
            if ready {
                order.push((*t).clone());
                done.insert((*t).clone());
            }
            !ready
        });
        if left.len() == before {
            return Err(StoreError::Corrupt(format!(
                "foreign keys form a cycle among {left:?}"
            )));
        }
    }
    Ok(order)
}

/// Copies every table of the embedded store under `data_dir` into the PostgreSQL database
/// `url` (which must be empty; its schema is created here) in one transaction, and returns the
/// rows copied per table.
pub async fn copy_tables(
    data_dir: &Path,
    url: &str,
    progress: &dyn Progress,
) -> Result<BTreeMap<String, u64>> {
    check_target(url).await?;
    // The schema, created as `hopthu serve` would (an empty database is all this changes).
    crate::NodeStore::close(&crate::postgres::PgMeta::open(url).await?).await;
    let mut source = open_source(data_dir).await?;
    let mut target = connect_target(url).await?;
    let result = copy_in(&mut source, &mut target, progress).await;
    let _ = source.close().await;
    let _ = target.close().await;
    result
}

async fn copy_in(
    source: &mut SqliteConnection,
    target: &mut PgConnection,
    progress: &dyn Progress,
) -> Result<BTreeMap<String, u64>> {
    let mut read = source.begin().await?;
    let mut write = target.begin().await?;
    let tables = target_tables(&mut write).await?;
    let from_tables = source_tables(&mut read).await?;
    if let Some(missing) = from_tables.iter().find(|t| !tables.contains(t)) {
        return Err(StoreError::Corrupt(format!(
            "the target has no table {missing:?}: is it the same hopthu version?"
        )));
    }
    for table in &tables {
        sqlx::query(AssertSqlSafe(format!(
            "ALTER TABLE {} DISABLE TRIGGER USER",
            quote(table)
        )))
        .execute(&mut *write)
        .await?;
    }
    // Locked now: nobody filled it since the first check.
    let found = non_empty(&mut write).await?;
    if !found.is_empty() {
        return Err(refuse_non_empty(&found));
    }
    let mut total = 0u64;
    for table in &from_tables {
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {}",
            quote(table)
        )))
        .fetch_one(&mut *read)
        .await?;
        total += n.max(0) as u64;
    }
    progress.start("Bảng / tables", total);
    let mut copied = BTreeMap::new();
    for table in copy_order(&mut write, &tables).await? {
        let n = copy_table(
            &mut read,
            &mut write,
            &table,
            from_tables.contains(&table),
            progress,
        )
        .await?;
        copied.insert(table, n);
    }
    // Identity sequences above the ids copied.
    let identities: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
          WHERE table_schema = current_schema() AND is_identity = 'YES'",
    )
    .fetch_all(&mut *write)
    .await?;
    for (table, column) in identities {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence($1, $2), (SELECT MAX({c}) FROM {t}))
              WHERE EXISTS (SELECT 1 FROM {t})",
            c = quote(&column),
            t = quote(&table)
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(quote(&table))
            .bind(&column)
            .execute(&mut *write)
            .await?;
    }
    // The deferred foreign keys (units ↔ people) checked now: a table with pending checks
    // cannot be altered.
    sqlx::query("SET CONSTRAINTS ALL IMMEDIATE")
        .execute(&mut *write)
        .await?;
    for table in &tables {
        sqlx::query(AssertSqlSafe(format!(
            "ALTER TABLE {} ENABLE TRIGGER USER",
            quote(table)
        )))
        .execute(&mut *write)
        .await?;
    }
    write.commit().await?;
    read.rollback().await?;
    Ok(copied)
}

async fn copy_table(
    read: &mut SqliteConnection,
    write: &mut PgConnection,
    table: &str,
    in_source: bool,
    progress: &dyn Progress,
) -> Result<u64> {
    if !in_source {
        // A table this SQLite schema does not have (none today): nothing to copy.
        return Ok(0);
    }
    // (name, type, whether a row may leave it out: nullable or with a default)
    let columns: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text,
                is_nullable = 'YES' OR column_default IS NOT NULL
           FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name = $1
          ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut *write)
    .await?;
    let source_columns: Vec<String> =
        sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
            .bind(table)
            .fetch_all(&mut *read)
            .await?;
    let mut selected: Vec<String> = Vec::new();
    let mut targets: Vec<TargetColumn> = Vec::new();
    let mut casts: Vec<&'static str> = Vec::new();
    for (name, data_type, optional) in &columns {
        let source = if source_columns.contains(name) || name == "rowid" {
            selected.push(name.clone());
            selected.len() - 1
        } else if *optional {
            // A PostgreSQL-only column (e.g. for several nodes): its default or NULL.
            continue;
        } else {
            return Err(StoreError::Corrupt(format!(
                "{table}.{name} has no column in the embedded database"
            )));
        };
        let (kind, cast) = Kind::of(data_type).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{table}.{name}: column type {data_type} not copied"
            ))
        })?;
        targets.push(TargetColumn {
            name: name.clone(),
            kind,
            source,
        });
        casts.push(cast);
    }
    if let Some(lost) = source_columns
        .iter()
        .find(|c| !columns.iter().any(|(n, _, _)| n == *c))
    {
        return Err(StoreError::Corrupt(format!(
            "{table}.{lost} has no column in the target database"
        )));
    }
    let select = format!(
        "SELECT {} FROM {}",
        selected
            .iter()
            .map(|c| quote(c))
            .collect::<Vec<_>>()
            .join(", "),
        quote(table)
    );
    let insert = format!(
        "INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT * FROM UNNEST({})",
        quote(table),
        targets
            .iter()
            .map(|c| quote(&c.name))
            .collect::<Vec<_>>()
            .join(", "),
        casts
            .iter()
            .enumerate()
            .map(|(i, cast)| format!("${}::{cast}", i + 1))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut rows = sqlx::query(AssertSqlSafe(select)).fetch(&mut *read);
    let size = if table == "search_text" {
        TEXT_BATCH
    } else {
        BATCH
    };
    let mut batch: Vec<sqlx::sqlite::SqliteRow> = Vec::with_capacity(size);
    let mut copied = 0u64;
    loop {
        let next = rows.try_next().await?;
        let end = next.is_none();
        if let Some(row) = next {
            batch.push(row);
        }
        if batch.len() == size || (end && !batch.is_empty()) {
            let data = columns_of(&targets, &batch)?;
            let mut query = sqlx::query(AssertSqlSafe(insert.clone()));
            for column in data {
                query = match column {
                    Column::Int(v) => query.bind(v),
                    Column::Bool(v) => query.bind(v),
                    Column::Text(v) => query.bind(v),
                };
            }
            query.execute(&mut *write).await?;
            copied += batch.len() as u64;
            progress.advance(batch.len() as u64);
            batch.clear();
        }
        if end {
            break;
        }
    }
    Ok(copied)
}

/// The batch's values per target column.
fn columns_of(targets: &[TargetColumn], batch: &[sqlx::sqlite::SqliteRow]) -> Result<Vec<Column>> {
    let mut out = Vec::with_capacity(targets.len());
    for column in targets {
        let index = column.source;
        out.push(match column.kind {
            Kind::Int => Column::Int(
                batch
                    .iter()
                    .map(|r| r.try_get_unchecked::<Option<i64>, _>(index))
                    .collect::<std::result::Result<_, _>>()?,
            ),
            Kind::Bool => Column::Bool(
                batch
                    .iter()
                    .map(|r| {
                        r.try_get_unchecked::<Option<i64>, _>(index)
                            .map(|v| v.map(|v| v != 0))
                    })
                    .collect::<std::result::Result<_, _>>()?,
            ),
            Kind::Text => {
                let mut values = Vec::with_capacity(batch.len());
                for row in batch {
                    let text: Option<String> = row.try_get_unchecked(index)?;
                    values.push(text.map(|t| {
                        if t.contains('\0') {
                            // PostgreSQL text holds no NUL (its insert does the same).
                            t.replace('\0', " ")
                        } else {
                            t
                        }
                    }));
                }
                Column::Text(values)
            }
        });
    }
    Ok(out)
}

/// Counts the target's rows per table and re-reads every body its `blobs` table names from
/// `blobs`, hashing each; `expected` are the counts copied.
pub async fn verify(
    url: &str,
    blobs: &BlobStore,
    expected: &BTreeMap<String, u64>,
    progress: &dyn Progress,
) -> Result<CopyCheck> {
    let mut db = connect_target(url).await?;
    let mut check = CopyCheck::default();
    let listed = async {
        for table in target_tables(&mut db).await? {
            let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM {}",
                quote(&table)
            )))
            .fetch_one(&mut db)
            .await?;
            check.tables.insert(table, n.max(0) as u64);
        }
        let rows: Vec<(String, i64)> = sqlx::query_as("SELECT hash, size FROM blobs ORDER BY hash")
            .fetch_all(&mut db)
            .await?;
        Ok::<_, StoreError>(rows)
    }
    .await;
    let _ = db.close().await;
    let rows = listed?;
    for (table, n) in expected {
        let found = check.tables.get(table).copied().unwrap_or(0);
        if found != *n {
            check
                .problems
                .push(format!("{table}: {n} rows copied, {found} in the target"));
        }
    }
    progress.start("Kiểm tra nội dung / checking bodies", rows.len() as u64);
    let mut ids = Vec::with_capacity(rows.len());
    for (hash, size) in rows {
        match BlobId::parse(&hash) {
            Some(id) => ids.push((id, size.max(0) as u64)),
            None => check.problems.push(format!("blob name {hash:?} in blobs")),
        }
    }
    let mut reads = futures_util::stream::iter(ids.into_iter().map(|(id, size)| async move {
        let got = blobs.get(&id).await;
        (id, size, got)
    }))
    .buffer_unordered(PARALLEL);
    while let Some((id, size, got)) = reads.next().await {
        check.blobs += 1;
        check.blob_bytes += size;
        match got {
            Ok(bytes) if bytes.len() as u64 == size && BlobId::of(&bytes) == id => {}
            Ok(bytes) => check.problems.push(format!(
                "{}: {} bytes that do not hash to its name (the database says {size})",
                id.as_str(),
                bytes.len()
            )),
            Err(e) => check.problems.push(format!("{}: {e}", id.as_str())),
        }
        progress.advance(1);
    }
    Ok(check)
}
