//! The contact book as it crosses the wire and as the store keeps it
//! (DESIGN.md, suite step 8): one opaque ciphertext per user, made in the
//! browser, with a version that only ever goes up by one. The server checks
//! the version and the size and never reads the bytes; nothing here is
//! plaintext, and nothing here may decrypt.

use serde::{Deserialize, Serialize};

use super::blob::Blob;

/// Most bytes of ciphertext a contact book may hold.
pub const MAX_BOOK_BYTES: usize = 256 * 1024;

/// A user's contact book as get answers it: `version` 0 and an empty
/// `book` while the user has none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct StoredBook {
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub version: u64,
    /// The ciphertext, exactly as its owner's browser put it.
    pub book: Blob,
}

impl StoredBook {
    /// What get answers before the first put.
    pub fn none() -> Self {
        StoredBook {
            version: 0,
            book: Blob::default(),
        }
    }
}

/// The body of a put: the book's next version, which must be exactly the
/// stored version + 1 (1 for the first put), and its ciphertext.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutBook {
    pub version: u64,
    pub book: Blob,
}

/// The answer of a put: the version now stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookVersion {
    pub version: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_forms_are_pinned() {
        assert_eq!(
            serde_json::to_string(&StoredBook::none()).unwrap(),
            r#"{"version":0,"book":""}"#
        );
        let stored = StoredBook {
            version: 7,
            book: Blob(vec![0xfb, 0xff]),
        };
        let json = serde_json::to_string(&stored).unwrap();
        assert_eq!(json, r#"{"version":7,"book":"-_8"}"#);
        assert_eq!(serde_json::from_str::<StoredBook>(&json).unwrap(), stored);

        let put: PutBook = serde_json::from_str(r#"{"version":2,"book":"-_8"}"#).unwrap();
        assert_eq!(
            put,
            PutBook {
                version: 2,
                book: Blob(vec![0xfb, 0xff]),
            }
        );
        assert_eq!(
            serde_json::to_string(&put).unwrap(),
            r#"{"version":2,"book":"-_8"}"#
        );
        assert_eq!(
            serde_json::to_string(&BookVersion { version: 2 }).unwrap(),
            r#"{"version":2}"#
        );
    }

    #[test]
    fn a_put_needs_both_fields_and_base64url_bytes() {
        for bad in [
            r#"{"version":1}"#,
            r#"{"book":"-_8"}"#,
            r#"{"version":-1,"book":"-_8"}"#,
            r#"{"version":"1","book":"-_8"}"#,
            r#"{"version":1,"book":"+/8"}"#,
            r#"{"version":1,"book":"-_8="}"#,
        ] {
            assert!(serde_json::from_str::<PutBook>(bad).is_err(), "{bad}");
        }
    }
}
