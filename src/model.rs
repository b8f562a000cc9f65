//! Types and rules shared by the server and the browser. Nothing here may
//! depend on axum, sqlx or web-sys, nor do any cryptography: the wire's byte
//! encoding (`encoding`) and the suite's sizes (`suite`) are here so the
//! server can check fields without linking crypto code.

pub mod account;
pub mod conversation;
pub mod encoding;
pub mod error;
pub mod ids;
pub mod password;
pub mod suite;
pub mod username;
