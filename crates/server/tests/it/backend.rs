//! Which metadata back-end the test servers use. `HOPTHU_TEST_STORE=postgres` gives every
//! [`TestServer`](super::harness::TestServer) a PostgreSQL database of its own (created on the
//! server `HOPTHU_TEST_POSTGRES` names, by default the local one, and dropped with the test
//! server), so the whole suite runs on PostgreSQL; unset or `sqlite`, the embedded default.
//! [`sql`] runs a statement on a test server's database, whichever it is.

use std::path::Path;
use std::process::Command;

/// The PostgreSQL server for tests (any database on it: each test server makes its own).
pub fn postgres_server() -> String {
    std::env::var("HOPTHU_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Whether the suite runs on PostgreSQL (`HOPTHU_TEST_STORE=postgres`).
pub fn on_postgres() -> bool {
    match std::env::var("HOPTHU_TEST_STORE").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Ok("") | Err(_) => false,
        Ok(other) => panic!("HOPTHU_TEST_STORE={other:?}: use sqlite or postgres"),
    }
}

/// `server` with its database replaced by `name`.
fn with_database(server: &str, name: &str) -> String {
    let (base, query) = server.split_once('?').unwrap_or((server, ""));
    let base = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    match query {
        "" => format!("{base}/{name}"),
        q => format!("{base}/{name}?{q}"),
    }
}

fn psql(url: &str, sql: &str) -> String {
    super::needs::require(&[super::needs::PSQL]);
    let out = Command::new("psql")
        .args([
            url,
            "-v",
            "ON_ERROR_STOP=1",
            "-X",
            "-q",
            "-At",
            "-F",
            "|",
            "-c",
            sql,
        ])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql {sql:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A new database for one test server: its URL.
pub fn new_database() -> String {
    let name = format!("hopthu_it_{}_{:08x}", std::process::id(), rand_u32());
    psql(&postgres_server(), &format!("CREATE DATABASE {name}"));
    with_database(&postgres_server(), &name)
}

/// Drops a database made by [`new_database`] (its connections too).
pub fn drop_database(url: &str) {
    let name = url.rsplit('/').next().unwrap_or_default();
    let name = name.split('?').next().unwrap_or_default();
    if name.starts_with("hopthu_it_") {
        let _ = Command::new("psql")
            .args([
                &postgres_server(),
                "-X",
                "-q",
                "-c",
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            ])
            .output();
    }
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.finish() as u32
}

/// Runs `sql` (statements with literal values, from the test itself) on the database of a
/// server: `store_url` when it has one, else the SQLite file `data_dir/hopthu.db`. Returns
/// the rows of a query, one per line, columns separated by `|`.
pub fn sql(store_url: Option<&str>, data_dir: &Path, sql: &str) -> String {
    if let Some(url) = store_url {
        return psql(url, sql);
    }
    let out = Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys\n\
             db = sqlite3.connect(sys.argv[1], timeout=30)\n\
             rows = db.execute(sys.argv[2]).fetchall()\n\
             db.commit()\n\
             print(''.join('|'.join(str(c) for c in r) + '\\n' for r in rows), end='')",
            data_dir.join("hopthu.db").to_str().unwrap(),
            sql,
        ])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "sqlite3 {sql:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
