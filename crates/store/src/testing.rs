//! The contract tests run on every back-end: [`on_each_backend!`] turns each `async fn
//! name(kind: Kind)` into `on_sqlite::name` and `on_postgres::name`. PostgreSQL tests each get
//! a database of their own on the server `HOPTHU_TEST_POSTGRES` names (by default the local
//! one, `postgres://postgres@127.0.0.1:5432/test`), dropped when the test ends.

use std::cell::RefCell;
use std::path::PathBuf;

use crate::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server the tests use (any database on it; each test makes its own).
pub(crate) fn postgres_server() -> String {
    std::env::var("HOPTHU_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

tokio::task_local! {
    /// Databases the current test created, dropped when it ends.
    static DATABASES: RefCell<Vec<String>>;
}

/// `server` with its database replaced by `name`.
pub(crate) fn with_database(server: &str, name: &str) -> String {
    let (base, query) = server.split_once('?').unwrap_or((server, ""));
    let base = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("{base}/{name}{query}")
}

async fn admin() -> sqlx::PgConnection {
    use sqlx::Connection;
    let server = postgres_server();
    sqlx::PgConnection::connect(&server).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL at {server} (HOPTHU_TEST_POSTGRES) is needed for the contract tests: {e}"
        )
    })
}

/// A new, empty database on the test server; its URL.
pub(crate) async fn new_database() -> String {
    let name = format!("hopthu_test_{:016x}", rand::random::<u64>());
    let mut conn = admin().await;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let _ = DATABASES.try_with(|d| d.borrow_mut().push(name.clone()));
    with_database(&postgres_server(), &name)
}

/// A store of `kind` in a new temporary directory (and database).
pub(crate) async fn open(kind: Kind) -> (Store, PathBuf) {
    let dir = std::env::temp_dir().join(format!("hopthu-store-{}", rand::random::<u64>()));
    let store = match kind {
        Kind::Sqlite => Store::open(&dir, None, None).await.unwrap(),
        Kind::Postgres => Store::open(&dir, Some(&new_database().await), None)
            .await
            .unwrap(),
    };
    (store, dir)
}

/// Runs a test with database bookkeeping, then drops the databases it made.
pub(crate) async fn run<F: std::future::Future<Output = ()>>(test: F) {
    let made = RefCell::new(Vec::new());
    let made = DATABASES
        .scope(made, async {
            test.await;
            DATABASES.with(|d| d.take())
        })
        .await;
    if !made.is_empty() {
        let mut conn = admin().await;
        for name in made {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await;
        }
    }
}

/// `on_each_backend!(a, b)` where `async fn a(kind: Kind)`: one `#[tokio::test]` per test and
/// back-end, in `on_sqlite` and `on_postgres`.
macro_rules! on_each_backend {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    $crate::testing::run(super::$name($crate::testing::Kind::Sqlite)).await
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    $crate::testing::run(super::$name($crate::testing::Kind::Postgres)).await
                }
            )*
        }
    };
}
pub(crate) use on_each_backend;

#[test]
fn a_database_name_replaces_the_path_only() {
    assert_eq!(
        with_database("postgres://u@h:5432/test", "x"),
        "postgres://u@h:5432/x"
    );
    assert_eq!(
        with_database("postgres://u@h/test?sslmode=disable", "x"),
        "postgres://u@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
}
