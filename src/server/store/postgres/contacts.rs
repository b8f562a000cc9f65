//! PostgreSQL queries for contact books: one row per user, replaced only by
//! a compare-and-set on its version. The book is ciphertext the server
//! never reads; nothing here logs it.

use sqlx::postgres::PgPool;

use super::super::StoreError;
use crate::model::contacts::{PutBook, StoredBook};
use crate::model::ids::UserId;
use crate::server::fields;

/// `user`'s contact book, if they have put one.
pub(super) async fn contact_book(
    pool: &PgPool,
    user: UserId,
) -> Result<Option<StoredBook>, StoreError> {
    Ok(
        sqlx::query_as("SELECT version, book FROM contact_books WHERE user_id = $1")
            .bind(user)
            .fetch_optional(pool)
            .await?,
    )
}

/// Stores `put` if its version is the stored one + 1, or 1 when no row
/// exists; otherwise `Err(stored version)`, 0 for none.
///
/// The check and the write are one statement: a row is inserted only at
/// version 1, and an existing row is replaced only where its version is the
/// new one - 1 (the upsert's `WHERE`, which PostgreSQL evaluates on the row
/// locked by the conflict). Puts racing for the same version all name the
/// same old version; the first to write moves it on, and every other one
/// then matches no row.
pub(super) async fn put_contact_book(
    pool: &PgPool,
    user: UserId,
    put: &PutBook,
) -> Result<Result<(), u64>, StoreError> {
    // A version past i64 can never follow a stored one.
    if let Ok(version) = i64::try_from(put.version) {
        let written = sqlx::query(
            "INSERT INTO contact_books (user_id, version, book, updated_at) \
             SELECT $1, $2, $3, $4 \
             WHERE $2 = 1 OR EXISTS (SELECT 1 FROM contact_books WHERE user_id = $1) \
             ON CONFLICT (user_id) DO UPDATE SET \
                 version = excluded.version, book = excluded.book, updated_at = excluded.updated_at \
             WHERE contact_books.version = excluded.version - 1",
        )
        .bind(user)
        .bind(version)
        .bind(&put.book)
        .bind(fields::now_rfc3339())
        .execute(pool)
        .await?
        .rows_affected();
        if written == 1 {
            return Ok(Ok(()));
        }
    }
    // The version that refused this put (or a later one: the answer only
    // has to tell the client to read the book again).
    let stored: Option<i64> =
        sqlx::query_scalar("SELECT version FROM contact_books WHERE user_id = $1")
            .bind(user)
            .fetch_optional(pool)
            .await?;
    Ok(Err(stored.map_or(0, |v| v as u64)))
}
