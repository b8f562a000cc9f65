//! Storage: the one trait every backend implements, and opening the backend
//! that the settings choose.
//!
//! Server functions and handlers talk to `dyn Store` only; SQL lives in the
//! backend modules. The store holds what DESIGN.md says the server may see
//! (names, membership, sizes, times, ciphertext) and nothing else; it never
//! logs row contents.

mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

use super::settings::Settings;
use crate::model::ids::UserId;
pub use sqlite::SqliteStore;

/// An account as stored. Everything here is what the server may see: the
/// private keys are wrapped under a key only the password can derive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    /// Canonical (lowercase) form.
    pub username: String,
    /// PHC string of Argon2id(auth_key).
    pub auth_hash: String,
    pub kdf_salt: Vec<u8>,
    pub kdf_iterations: u32,
    pub dh_public: Vec<u8>,
    pub sig_public: Vec<u8>,
    pub dh_private_wrapped: Vec<u8>,
    pub sig_private_wrapped: Vec<u8>,
    /// Tokens carry the version they were issued under; logout bumps it.
    pub token_version: u32,
    /// RFC 3339 UTC.
    pub created_at: String,
}

/// What a store operation can fail with, as handlers need to tell it apart.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule refused the write (a taken username, a reused id).
    #[error("conflict with an existing row")]
    Conflict,
    /// The database could not be reached or answered with an I/O failure;
    /// the request may succeed later (HTTP 503 `store_unavailable`).
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// Anything else the database reported.
    #[error("database error: {0}")]
    Other(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if e.as_database_error()
            .is_some_and(|d| d.is_unique_violation())
        {
            return StoreError::Conflict;
        }
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e),
            other => StoreError::Other(other),
        }
    }
}

/// The storage every backend provides.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// One real round trip to the database.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Stores a new account; [`StoreError::Conflict`] if the name is taken.
    async fn create_user(&self, user: &UserRecord) -> Result<(), StoreError>;

    /// The account with this canonical name.
    async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>, StoreError>;

    /// The account with this id.
    async fn user_by_id(&self, id: UserId) -> Result<Option<UserRecord>, StoreError>;

    /// Ends every token issued so far for this user; returns the new version.
    async fn bump_token_version(&self, id: UserId) -> Result<u32, StoreError>;

    /// The backend and where it lives, for the start-up line; never a
    /// credential.
    fn describe(&self) -> String;

    /// Waits for in-flight work and closes every connection. Later calls
    /// fail with [`StoreError::Unavailable`].
    async fn close(&self);
}

/// Why the store could not be opened at start-up.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open database {what}: {source}")]
    Connect {
        what: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot migrate database {what}: {source}")]
    Migrate {
        what: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
}

/// Opens (creating and migrating where needed) the store the settings name.
pub async fn open(settings: &Settings) -> Result<Arc<dyn Store>, OpenError> {
    let store = match &settings.database_url {
        None => SqliteStore::open_file(&settings.data_dir).await?,
        Some(url) => SqliteStore::open_url(url).await?,
    };
    Ok(Arc::new(store))
}
