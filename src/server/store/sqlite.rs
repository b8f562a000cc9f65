//! The SQLite backend: the embedded default, one file in the data directory.
//!
//! WAL mode with `synchronous = FULL`: a write the server has answered is on
//! disk, even if the machine loses power right after. Migrations are the ones
//! in `migrations/sqlite`, compiled into the binary and applied at open.

use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

mod appender;
mod changes;
mod contacts;
mod epochs;
mod live;
mod messaging;

use super::rows::select_user;
use super::{
    AppendRefusal, Appended, ChangeRecord, ChangeRefusal, Changed, Creation, ListPage, Marked,
    NewMessage, OpenError, Page, Standing, Store, StoreError, UserRecord, queue,
};
use crate::model::blob::Blob;
use crate::model::contacts::{PutBook, StoredBook};
use crate::model::conversation::{Conversation, Epoch, Message};
use crate::model::ids::{ConversationId, UserId};
use crate::model::live::{Read, Sharing};

/// The database file's name inside the data directory.
pub const FILE_NAME: &str = "hush.db";

/// Log pages at which a commit runs SQLite's own checkpoint (16 MiB); the
/// appender's checkpoints keep the log far shorter (see `appender`).
const WAL_BACKSTOP_PAGES: u32 = 4_000;

/// A pool of connections to one SQLite database.
pub struct SqliteStore {
    pool: SqlitePool,
    appender: queue::Appender,
    what: String,
}

impl SqliteStore {
    /// Opens `hush.db` in `data_dir`, creating the directory (mode 0700) and
    /// the file as needed.
    pub async fn open_file(data_dir: &Path) -> Result<Self, OpenError> {
        crate::server::data_dir::create(data_dir).map_err(|source| OpenError::DataDir {
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
            // The message appender checkpoints off the write path, long
            // before this; SQLite's own checkpoint is only the backstop.
            .pragma("wal_autocheckpoint", WAL_BACKSTOP_PAGES.to_string())
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
        Ok(SqliteStore {
            appender: queue::Appender::start(|jobs| appender::run(pool.clone(), jobs)),
            pool,
            what,
        })
    }
}

backend_store!(SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        let one: i64 = sqlx::query_scalar("SELECT 1").fetch_one(&self.pool).await?;
        debug_assert_eq!(one, 1);
        Ok(())
    }

    async fn server_key(&self, name: &str, proposed: &[u8]) -> Result<Vec<u8>, StoreError> {
        sqlx::query("INSERT INTO server_keys (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(proposed)
            .execute(&self.pool)
            .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM server_keys WHERE name = ?")
                .bind(name)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn create_user(&self, u: &UserRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO users (id, username, auth_hash, kdf_salt, kdf_iterations, dh_public, \
             sig_public, dh_private_wrapped, sig_private_wrapped, token_version, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(u.id)
        .bind(&u.username)
        .bind(&u.auth_hash)
        .bind(&u.kdf.kdf_salt)
        .bind(u.kdf.kdf_iterations)
        .bind(&u.identity.dh_public)
        .bind(&u.identity.sig_public)
        .bind(&u.identity.dh_private_wrapped)
        .bind(&u.identity.sig_private_wrapped)
        .bind(u.token_version)
        .bind(&u.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(sqlx::query_as(select_user!("WHERE username = ?"))
            .bind(username)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        Ok(sqlx::query_as(select_user!("WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn bump_token_version(&self, id: UserId) -> Result<u32, StoreError> {
        let version: i64 = sqlx::query_scalar(
            "UPDATE users SET token_version = token_version + 1 WHERE id = ? RETURNING token_version",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(version as u32)
    }

    fn describe(&self) -> String {
        format!("SQLite {}", self.what)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
});

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

    fn alice() -> UserRecord {
        crate::server::store::test_user("alice")
    }

    #[tokio::test]
    async fn users_round_trip_names_are_unique_versions_bump() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_file(dir.path()).await.unwrap();
        let alice = alice();
        store.create_user(&alice).await.unwrap();
        assert_eq!(
            store.user_by_name("alice").await.unwrap(),
            Some(alice.clone())
        );
        assert_eq!(
            store.user_by_id(alice.id).await.unwrap(),
            Some(alice.clone())
        );
        assert_eq!(store.user_by_name("bob").await.unwrap(), None);

        let twin = UserRecord {
            id: UserId::new(),
            ..alice.clone()
        };
        assert!(matches!(
            store.create_user(&twin).await,
            Err(StoreError::Conflict)
        ));

        assert_eq!(store.bump_token_version(alice.id).await.unwrap(), 1);
        assert_eq!(store.bump_token_version(alice.id).await.unwrap(), 2);
        assert_eq!(
            store
                .user_by_id(alice.id)
                .await
                .unwrap()
                .unwrap()
                .token_version,
            2
        );
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
