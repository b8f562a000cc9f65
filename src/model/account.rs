//! Account types that cross the wire (DESIGN.md, "Wire contract"). Byte
//! fields are [`Blob`]s, base64url on the wire; the server checks each
//! one's length and shape, so a bad field is refused with its name.

use serde::{Deserialize, Serialize};

use super::blob::Blob;
use super::ids::UserId;

/// `{id, username}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
}

/// A user's public keys and wrapped private keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Identity {
    pub dh_public: Blob,
    pub sig_public: Blob,
    pub dh_private_wrapped: Blob,
    pub sig_private_wrapped: Blob,
}

/// The answer to prelogin: how to derive this user's keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct KdfParams {
    pub kdf_salt: Blob,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub kdf_iterations: u32,
}

/// The body of `/api/signup`: the name, the key the password derives for
/// signing in (never the password), how it was derived, and the identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signup {
    pub username: String,
    pub auth_key: Blob,
    /// How `auth_key` was derived: these become the account's
    /// [`KdfParams`] (not flattened in, so that a bad field's error keeps
    /// its name).
    pub kdf_salt: Blob,
    pub kdf_iterations: u32,
    pub identity: Identity,
}

/// The answer to signup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub user: User,
}

/// The answer to login: the session and the wrapped identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginAnswer {
    pub token: String,
    pub user: User,
    pub identity: Identity,
}

/// Another user, as lookup returns them and a conversation lists its
/// members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct PublicUser {
    pub id: UserId,
    pub username: String,
    pub dh_public: Blob,
    pub sig_public: Blob,
}
