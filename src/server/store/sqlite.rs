//! The SQLite backend: the embedded default, one file in the data directory.
//!
//! WAL mode with `synchronous = FULL`: a write the server has answered is on
//! disk, even if the machine loses power right after. Migrations are the ones
//! in `migrations/sqlite`, compiled into the binary and applied at open.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::{OpenError, Store, StoreError};

/// The database file's name inside the data directory.
pub const FILE_NAME: &str = "hush.db";

/// A pool of connections to one SQLite database.
pub struct SqliteStore {
    pool: SqlitePool,
    what: String,
}

impl SqliteStore {
    /// Opens `hush.db` in `data_dir`, creating the directory (mode 0700) and
    /// the file as needed.
    pub async fn open_file(data_dir: &Path) -> Result<Self, OpenError> {
        create_private_dir(data_dir).map_err(|source| OpenError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let path = data_dir.join(FILE_NAME);
        let options = SqliteConnectOptions::new().filename(&path);
        Self::open(options, path.display().to_string()).await
    }

    /// Opens a database named by a `sqlite:` URL.
    pub async fn open_url(url: &str) -> Result<Self, OpenError> {
        let what = url.to_owned();
        let options = SqliteConnectOptions::from_str(url).map_err(|source| OpenError::Connect {
            what: what.clone(),
            source,
        })?;
        Self::open(options, what).await
    }

    async fn open(options: SqliteConnectOptions, what: String) -> Result<Self, OpenError> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(|source| OpenError::Connect {
                what: what.clone(),
                source,
            })?;
        sqlx::migrate!("migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|source| OpenError::Migrate {
                what: what.clone(),
                source,
            })?;
        Ok(SqliteStore { pool, what })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        let one: i64 = sqlx::query_scalar("SELECT 1").fetch_one(&self.pool).await?;
        debug_assert_eq!(one, 1);
        Ok(())
    }

    fn describe(&self) -> String {
        format!("SQLite {}", self.what)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opens_migrates_pings_and_reports_closed() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("nested/data");
        let store = SqliteStore::open_file(&data).await.unwrap();
        assert!(data.join(FILE_NAME).exists());
        store.ping().await.unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        store.close().await;
        assert!(matches!(
            store.ping().await,
            Err(StoreError::Unavailable(_))
        ));
    }

    #[tokio::test]
    async fn reopening_keeps_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        SqliteStore::open_file(dir.path())
            .await
            .unwrap()
            .close()
            .await;
        let store = SqliteStore::open_file(dir.path()).await.unwrap();
        store.ping().await.unwrap();
    }

    #[tokio::test]
    async fn an_unopenable_url_is_an_error_naming_it() {
        let err = SqliteStore::open_url("sqlite:///nonexistent-dir/x/hush.db")
            .await
            .err()
            .expect("a file under a missing directory cannot be created");
        assert!(
            err.to_string().contains("/nonexistent-dir/x/hush.db"),
            "{err}"
        );
    }
}
