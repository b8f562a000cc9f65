//! Account types that cross the wire (DESIGN.md, "Wire contract"). Byte
//! fields are base64url text here; the server decodes and checks each one,
//! so a bad field is refused with its name.

use serde::{Deserialize, Serialize};

use super::ids::UserId;

/// `{id, username}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
}

/// A user's public keys and wrapped private keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub dh_public: String,
    pub sig_public: String,
    pub dh_private_wrapped: String,
    pub sig_private_wrapped: String,
}

/// The answer to prelogin: how to derive this user's keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    pub kdf_salt: String,
    pub kdf_iterations: u32,
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

/// Another user, as lookup returns them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicUser {
    pub id: UserId,
    pub username: String,
    pub dh_public: String,
    pub sig_public: String,
}
