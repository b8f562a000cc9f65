//! The PostgreSQL backend, for several nodes sharing one database: chosen
//! by a `postgres://` `database_url`.
//!
//! Migrations are those in `migrations/postgres`, compiled into the binary
//! and applied at open under PostgreSQL's advisory lock (sqlx takes it), so
//! nodes may start together. Where SQLite's `BEGIN IMMEDIATE` serialises a
//! check and its write, a transaction here first locks the rows of the
//! conversations it checks (`FOR UPDATE`, in id order when there are
//! several, so two nodes' batches never wait on each other in a circle),
//! and retries a deadlock or serialization failure ([`retrying`]).

use std::collections::HashSet;
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use sqlx::Connection;
use sqlx::error::DatabaseError;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};

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

/// Tries of a transaction that PostgreSQL aborted to break a deadlock or
/// keep transactions serializable; the last failure is the answer.
const TRIES: u32 = 5;

/// SQLSTATEs of an aborted transaction that may succeed when run again:
/// serialization_failure and deadlock_detected.
const RETRY: [&str; 2] = ["40001", "40P01"];

/// Runs `attempt` again (up to [`TRIES`] in all, after a short pause that
/// grows) while it fails with a deadlock or a serialization failure, or
/// with an error `also` says is worth another try.
pub(super) async fn retrying<T, F, Fut>(
    mut attempt: F,
    also: fn(&dyn DatabaseError) -> bool,
) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, sqlx::Error>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match attempt().await {
            Err(e)
                if tries < TRIES
                    && e.as_database_error().is_some_and(|d| {
                        d.code().is_some_and(|code| RETRY.contains(&code.as_ref())) || also(d)
                    }) =>
            {
                tracing::debug!(tries, "transaction retried");
                tokio::time::sleep(Duration::from_millis(u64::from(tries) * 5)).await;
            }
            other => return Ok(other?),
        }
    }
}

/// How long a statement waits for a lock before it fails (and the request
/// with it, 503 `store_unavailable`).
const LOCK_TIMEOUT: &str = "5s";

/// A pool of connections to one PostgreSQL database.
pub struct PostgresStore {
    pool: PgPool,
    appender: queue::Appender,
    what: String,
}

impl PostgresStore {
    /// Connects to the database a `postgres://` URL names with up to
    /// `pool_size` connections, and migrates it.
    pub async fn open(url: &str, pool_size: u32) -> Result<Self, OpenError> {
        // Where, never who: the URL may carry a password.
        let unnamed = || "(an unreadable postgres URL)".to_owned();
        let options = PgConnectOptions::from_str(url).map_err(|source| OpenError::Connect {
            what: unnamed(),
            source,
        })?;
        let what = format!(
            "{}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or_default()
        );
        let options = options.application_name("hush");
        let connect_error = |source| OpenError::Connect {
            what: what.clone(),
            source,
        };
        // Migrations on a connection of their own, without the lock
        // timeout: a node that starts while another migrates waits for it.
        let mut migrating = PgConnection::connect_with(&options)
            .await
            .map_err(connect_error)?;
        sqlx::migrate!("migrations/postgres")
            .run(&mut migrating)
            .await
            .map_err(|source| OpenError::Migrate {
                what: what.clone(),
                source,
            })?;
        let _ = migrating.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(pool_size)
            .acquire_timeout(Duration::from_secs(5))
            // A lock held elsewhere (an operator's transaction, a backup)
            // makes a request 503 after this, as SQLite's busy timeout
            // does, rather than hang.
            .connect_with(options.options([("lock_timeout", LOCK_TIMEOUT)]))
            .await
            .map_err(connect_error)?;
        Ok(PostgresStore {
            appender: queue::Appender::start(|jobs| appender::run(pool.clone(), jobs)),
            pool,
            what,
        })
    }
}

backend_store!(PostgresStore {
    async fn ping(&self) -> Result<(), StoreError> {
        let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&self.pool).await?;
        debug_assert_eq!(one, 1);
        Ok(())
    }

    async fn server_key(&self, name: &str, proposed: &[u8]) -> Result<Vec<u8>, StoreError> {
        sqlx::query("INSERT INTO server_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(proposed)
            .execute(&self.pool)
            .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM server_keys WHERE name = $1")
                .bind(name)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn create_user(&self, u: &UserRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO users (id, username, auth_hash, kdf_salt, kdf_iterations, dh_public, \
             sig_public, dh_private_wrapped, sig_private_wrapped, token_version, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(u.id)
        .bind(&u.username)
        .bind(&u.auth_hash)
        .bind(&u.kdf.kdf_salt)
        .bind(i64::from(u.kdf.kdf_iterations))
        .bind(&u.identity.dh_public)
        .bind(&u.identity.sig_public)
        .bind(&u.identity.dh_private_wrapped)
        .bind(&u.identity.sig_private_wrapped)
        .bind(i64::from(u.token_version))
        .bind(&u.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(sqlx::query_as(select_user!("WHERE username = $1"))
            .bind(username)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        Ok(sqlx::query_as(select_user!("WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn bump_token_version(&self, id: UserId) -> Result<u32, StoreError> {
        let version: i64 = sqlx::query_scalar(
            "UPDATE users SET token_version = token_version + 1 WHERE id = $1 \
             RETURNING token_version",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(version as u32)
    }

    fn describe(&self) -> String {
        format!("PostgreSQL {}", self.what)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
});

/// No error but those [`retrying`] always retries.
pub(super) fn nothing_else(_: &dyn DatabaseError) -> bool {
    false
}

/// Ids as PostgreSQL text arrays (`= ANY($1)`, `UNNEST`).
pub(super) fn texts<T: ToString>(ids: &[T]) -> Vec<String> {
    ids.iter().map(ToString::to_string).collect()
}
