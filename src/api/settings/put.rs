//! `POST /api/settings/put` `{receipts, presence}` → the same, as stored:
//! what the caller shares from now on. Their sockets hear others' reads
//! and presence only while they share them too; their other tabs get
//! `settings`.

use leptos::prelude::*;

use crate::api::codec::{Api, Whole};
use crate::model::error::ApiError;
use crate::model::live::Sharing;

/// The body is a [`Sharing`], whole.
#[server(name = PutSettings, prefix = "/api", endpoint = "settings/put", input = Api, output = Api, custom = Whole)]
pub async fn put(sharing: Sharing) -> Result<Sharing, ApiError> {
    use crate::server::{live, request};
    let user = request::current_user().await?;
    live::set_sharing(&request::state(), &user, sharing).await
}
