//! Authentication on the server: the secrets it keeps, the Argon2id hash of
//! each user's `auth_key`, and session tokens (JWT, HS256).
//!
//! The server never sees a password: the browser derives `auth_key` from it
//! and sends only that. Nothing here logs a token, a key or a hash.

pub mod password;
pub mod recent;
pub mod secrets;
pub mod token;
