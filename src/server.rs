//! Everything that runs only on the server (feature `ssr`): settings, the
//! store, the HTTP router, the Socket.IO side and start-up.
//!
//! Nothing in here ever logs a token, a key or message bytes: at debug level,
//! ids and sizes only.

pub mod accounts;
pub mod address;
pub mod api_status;
pub mod auth;
pub mod boot;
pub mod build_files;
pub mod cli;
pub mod contacts;
pub mod conversations;
pub mod data_dir;
pub mod epoch_changes;
pub mod error;
pub mod fanout;
pub mod fields;
pub mod headers;
pub mod health;
pub mod intake;
pub mod listener;
pub mod live;
pub mod logging;
pub mod memory;
pub mod messages;
pub mod origin;
pub mod presence;
pub mod rate;
pub mod realtime;
pub mod request;
pub mod router;
pub mod settings;
pub mod shared_throttle;
pub mod state;
pub mod store;
pub mod throttle;
pub mod typing;
