//! Browser-only code (feature `hydrate`): where the signed-in identity's keys
//! live, the sign-up, login and logout flows that make them, and the live
//! Socket.IO link to the server, conversation keys, and the chat engine
//! that ties them to the page.

pub mod cache;
pub mod contacts;
pub mod engine;
pub mod idb;
pub mod keyring;
pub mod keystore;
pub mod outbox;
pub mod qr;
pub mod service_worker;
pub mod session;
pub mod socket;
