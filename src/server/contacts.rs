//! What the contact book endpoints do, apart from HTTP: give a user their
//! own book, and store a new one only over the version it follows
//! (DESIGN.md, suite step 8).
//!
//! The book is ciphertext made in the browser; the server checks its
//! version and size and never reads, logs or hands it to anyone else. At
//! debug level it logs the user id, versions and sizes only.

use super::state::AppState;
use crate::model::contacts::{BookVersion, MAX_BOOK_BYTES, PutBook, StoredBook};
use crate::model::error::{ApiError, ErrorCode};
use crate::model::ids::UserId;

fn version_conflict() -> ApiError {
    ApiError::new(
        ErrorCode::VersionConflict,
        "The contact book changed elsewhere. Fetch it again, merge and retry.",
    )
}

/// `user`'s own contact book; version 0 and no bytes before their first put.
pub async fn get(state: &AppState, user: UserId) -> Result<StoredBook, ApiError> {
    Ok(state
        .store
        .contact_book(user)
        .await?
        .unwrap_or_else(StoredBook::none))
}

/// Stores `put` as `user`'s contact book if its version is the stored one
/// + 1 (1 for the first); 409 `version_conflict` otherwise.
pub async fn put(state: &AppState, user: UserId, put: PutBook) -> Result<BookVersion, ApiError> {
    if put.version == 0 {
        return Err(ApiError::invalid("version", "the first version is 1"));
    }
    let bytes = put.book.len();
    if bytes > MAX_BOOK_BYTES {
        return Err(ApiError::new(
            ErrorCode::BookTooLarge,
            format!("book: at most {MAX_BOOK_BYTES} bytes"),
        ));
    }
    match state.store.put_contact_book(user, &put).await? {
        Ok(()) => {
            tracing::debug!(user = %user, version = put.version, bytes, "contact book stored");
            Ok(BookVersion {
                version: put.version,
            })
        }
        Err(stored) => {
            tracing::debug!(
                user = %user,
                version = put.version,
                stored,
                "contact book put refused: not the stored version + 1"
            );
            Err(version_conflict())
        }
    }
}
