//! The JSON API under `/api/` (docs/API.md): Leptos server functions with
//! JSON in and out, callable by the browser app and by any HTTP client.
//! Each is thin: read the request's parts, call the server's logic, return
//! its answer or its [`ApiError`](crate::model::error::ApiError).

pub mod accounts;
pub mod codec;
pub mod contacts;
pub mod conversations;
pub mod messages;
pub mod settings;

use serde::{Deserialize, Serialize};

/// The empty answer, `{}`, of endpoints that only do something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {}
