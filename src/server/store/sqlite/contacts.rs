//! SQLite queries for contact books: one row per user, replaced only by a
//! compare-and-set on its version. The book is ciphertext the server never
//! reads; nothing here logs it.

use sqlx::sqlite::SqlitePool;

use super::super::StoreError;
use crate::model::contacts::{PutBook, StoredBook};
use crate::model::ids::UserId;
use crate::server::fields;

/// `user`'s contact book, if they have put one.
pub(super) async fn contact_book(
    pool: &SqlitePool,
    user: UserId,
) -> Result<Option<StoredBook>, StoreError> {
    Ok(
        sqlx::query_as("SELECT version, book FROM contact_books WHERE user_id = ?")
            .bind(user)
            .fetch_optional(pool)
            .await?,
    )
}

/// Stores `put` if its version is the stored one + 1, or 1 when no row
/// exists; otherwise `Err(stored version)`, 0 for none.
///
/// The check and the write are one statement: the row is inserted only for
/// version 1 (or when a row exists, to reach the upsert), and an existing
/// row is replaced only where its version is the new one - 1. Puts racing
/// for the same version all name the same old version; the first to write
/// moves it on, and every other one then matches no row.
pub(super) async fn put_contact_book(
    pool: &SqlitePool,
    user: UserId,
    put: &PutBook,
) -> Result<Result<(), u64>, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    // A version past i64 can never follow a stored one.
    if let Ok(version) = i64::try_from(put.version) {
        let written = sqlx::query(
            "INSERT INTO contact_books (user_id, version, book, updated_at) \
             SELECT ?, ?, ?, ? \
             WHERE ? = 1 OR EXISTS (SELECT 1 FROM contact_books WHERE user_id = ?) \
             ON CONFLICT (user_id) DO UPDATE SET \
                 version = excluded.version, book = excluded.book, updated_at = excluded.updated_at \
             WHERE contact_books.version = excluded.version - 1",
        )
        .bind(user)
        .bind(version)
        .bind(&put.book)
        .bind(fields::now_rfc3339())
        .bind(version)
        .bind(user)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if written == 1 {
            tx.commit().await?;
            return Ok(Ok(()));
        }
    }
    // Read in the same transaction: the version that refused this put.
    let stored: Option<i64> =
        sqlx::query_scalar("SELECT version FROM contact_books WHERE user_id = ?")
            .bind(user)
            .fetch_optional(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(Err(stored.map_or(0, |v| v as u64)))
}

#[cfg(test)]
mod tests {
    use super::super::SqliteStore;
    use crate::model::blob::Blob;
    use crate::model::contacts::{PutBook, StoredBook};
    use crate::server::store::{Store, test_user};

    fn put(version: u64, byte: u8) -> PutBook {
        PutBook {
            version,
            book: Blob(vec![byte; 40]),
        }
    }

    #[tokio::test]
    async fn puts_are_compare_and_set_per_user() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_file(dir.path()).await.unwrap();
        let alice = test_user("alice");
        let bob = test_user("bob");
        store.create_user(&alice).await.unwrap();
        store.create_user(&bob).await.unwrap();

        assert_eq!(store.contact_book(alice.id).await.unwrap(), None);
        // The first put must be version 1: no row is created at another.
        assert_eq!(
            store.put_contact_book(alice.id, &put(2, 1)).await.unwrap(),
            Err(0)
        );
        assert_eq!(store.contact_book(alice.id).await.unwrap(), None);
        assert_eq!(
            store.put_contact_book(alice.id, &put(1, 1)).await.unwrap(),
            Ok(())
        );
        for stale in [1, 3, u64::MAX] {
            assert_eq!(
                store
                    .put_contact_book(alice.id, &put(stale, 9))
                    .await
                    .unwrap(),
                Err(1),
                "version {stale}"
            );
        }
        assert_eq!(
            store.contact_book(alice.id).await.unwrap(),
            Some(StoredBook {
                version: 1,
                book: Blob(vec![1; 40]),
            })
        );
        assert_eq!(
            store.put_contact_book(alice.id, &put(2, 2)).await.unwrap(),
            Ok(())
        );
        assert_eq!(
            store.contact_book(alice.id).await.unwrap(),
            Some(StoredBook {
                version: 2,
                book: Blob(vec![2; 40]),
            })
        );

        // Bob's book is his own: his first put is version 1, whatever
        // Alice's is, and leaves hers alone.
        assert_eq!(store.contact_book(bob.id).await.unwrap(), None);
        assert_eq!(
            store.put_contact_book(bob.id, &put(3, 7)).await.unwrap(),
            Err(0)
        );
        assert_eq!(
            store.put_contact_book(bob.id, &put(1, 7)).await.unwrap(),
            Ok(())
        );
        assert_eq!(
            store.contact_book(alice.id).await.unwrap().unwrap().book,
            Blob(vec![2; 40])
        );
    }
}
