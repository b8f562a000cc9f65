//! Types and rules shared by the server and the browser: one type per
//! concept, from the wire to the store. Nothing here may depend on axum or
//! web-sys, nor do any cryptography: the wire's byte encoding (`encoding`,
//! `blob`) and the suite's sizes (`suite`) are here so the server can check
//! fields without linking crypto code. Under `ssr` alone, ids and byte
//! fields map to the store's column types (`sqlx::Type`), so a message read
//! from the database is the message the wire carries.

pub mod account;
pub mod blob;
pub mod changes;
pub mod contacts;
pub mod conversation;
pub mod encoding;
pub mod error;
pub mod ids;
pub mod live;
pub mod password;
pub mod plain;
pub mod suite;
pub mod username;
