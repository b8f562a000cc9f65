//! The suite on PostgreSQL: with `TEST_POSTGRES_URL` set to a server's URL
//! (`postgres://postgres@127.0.0.1:5432/test`), every test server gets a
//! database of its own on it, created on first use and named in the test's
//! data directory, so that a restart on the same data finds it. Unset, the
//! servers use SQLite in their data directory, as in production by default.
//! `scripts/test` runs the suite both ways and drops the databases after.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// Every test database's name starts with this.
pub const PREFIX: &str = "hush_t_";

/// The PostgreSQL server the suite runs on, if it is asked to.
pub fn server() -> Option<String> {
    std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

/// Where a data directory names its PostgreSQL database.
const MARKER: &str = "postgres-database-url";

/// The `database_url` of a server on the data directory `data`: `None` on
/// SQLite (the file in `data`), else its own PostgreSQL database.
pub fn database_for(data: &Path) -> Option<String> {
    let admin = server()?;
    let marker = data.join(MARKER);
    if let Ok(url) = std::fs::read_to_string(&marker) {
        return Some(url);
    }
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    // The test's name (libtest names its thread after it) says whose a
    // database is; identifiers stop at 63 bytes.
    let test: String = std::thread::current()
        .name()
        .unwrap_or("")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let mut name = format!(
        "{PREFIX}{}_{nanos}_{}_{test}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    name.truncate(63);
    administer(&admin, format!("CREATE DATABASE {name}"));
    let url = with_database(&admin, &name);
    std::fs::write(&marker, &url).unwrap();
    Some(url)
}

/// Runs `sql` on the PostgreSQL server at `admin`, on a thread and runtime
/// of its own (callers are sync and async alike, and drops).
fn administer(admin: &str, sql: String) {
    let admin = admin.to_owned();
    let run = move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let mut c = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                    panic!("TEST_POSTGRES_URL is set, but PostgreSQL cannot be reached: {e}")
                });
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut c)
                    .await
                    .expect("PostgreSQL does what the test asks");
            })
    };
    std::thread::spawn(run).join().expect("done");
}

/// A test server's data directory; on PostgreSQL, the database it names is
/// dropped with it, connections and all: a server dropped without being
/// stopped leaves its pool behind (its Socket.IO state holds it), and
/// PostgreSQL takes 100 clients by default.
pub struct Data(tempfile::TempDir);

impl Data {
    pub fn new() -> Data {
        Data(tempfile::tempdir().expect("a temporary directory"))
    }
}

impl std::ops::Deref for Data {
    type Target = tempfile::TempDir;
    fn deref(&self) -> &tempfile::TempDir {
        &self.0
    }
}

impl Drop for Data {
    fn drop(&mut self) {
        let (Some(admin), Ok(url)) = (
            server(),
            std::fs::read_to_string(self.0.path().join(MARKER)),
        ) else {
            return;
        };
        // Only ever a database this suite made (the URL's query may hold
        // slashes: its path is before the `?`).
        let path = url.split('?').next().unwrap_or_default();
        if let Some(name) = path.rsplit('/').next().filter(|n| n.starts_with(PREFIX)) {
            administer(
                &admin,
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

/// `url` naming database `name` instead of its own.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let (server, _) = base
        .rsplit_once('/')
        .filter(|(server, _)| server.contains("//"))
        .unwrap_or((base, ""));
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

#[test]
fn a_database_name_replaces_the_one_in_the_url() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "hush_t_1"),
        "postgres://postgres@127.0.0.1:5432/hush_t_1"
    );
    assert_eq!(
        with_database("postgres://u:p@db/x?sslmode=disable", "hush_t_2"),
        "postgres://u:p@db/hush_t_2?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://db", "hush_t_3"),
        "postgres://db/hush_t_3"
    );
}

/// Every value stored in the database at `url`, table by table and column
/// by column, as bytes (text as UTF-8, BYTEA as itself, the rest as their
/// text form): what a scan for secrets must search on PostgreSQL.
pub async fn dump(url: &str) -> Vec<u8> {
    let mut c = PgConnection::connect(url).await.expect("the test database");
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text \
         FROM information_schema.columns WHERE table_schema = 'public' \
         ORDER BY table_name, ordinal_position",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    assert!(
        columns.iter().any(|(t, _, _)| t == "messages"),
        "the dump sees the schema"
    );
    let mut all = Vec::new();
    for (table, column, kind) in columns {
        let sql = if kind == "bytea" {
            format!("SELECT \"{column}\" FROM \"{table}\"")
        } else {
            format!("SELECT convert_to(\"{column}\"::text, 'UTF8') FROM \"{table}\"")
        };
        let values: Vec<Option<Vec<u8>>> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut c)
            .await
            .unwrap();
        for value in values.into_iter().flatten() {
            all.extend(value);
            all.push(0);
        }
    }
    all
}
