//! `POST /api/users/lookup` `{username}` → `{id, username, dh_public, sig_public}`
//! (signed-in users only).

use leptos::prelude::*;

use crate::api::codec::Api;
use crate::model::account::PublicUser;
use crate::model::error::ApiError;

#[server(prefix = "/api", endpoint = "users/lookup", input = Api, output = Api)]
pub async fn lookup(username: String) -> Result<PublicUser, ApiError> {
    use crate::server::{accounts, request};
    let caller = request::current_user().await?;
    accounts::lookup(&request::state(), caller.id, &username).await
}
