//! `POST /api/users/lookup` `{username}` → `{id, username, dh_public, sig_public}`
//! (signed-in users only).

use leptos::prelude::*;

use crate::model::account::PublicUser;
use crate::model::error::ApiError;

#[server(prefix = "/api", endpoint = "users/lookup", input = server_fn::codec::Json, output = server_fn::codec::Json)]
pub async fn lookup(username: String) -> Result<PublicUser, ApiError> {
    use crate::server::{accounts, request};
    request::current_user().await?;
    accounts::lookup(&request::state(), &username).await
}
