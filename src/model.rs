//! Types and rules shared by the server and the browser. Nothing here may
//! depend on axum, sqlx or web-sys.

pub mod account;
pub mod conversation;
pub mod error;
pub mod ids;
pub mod password;
pub mod username;
