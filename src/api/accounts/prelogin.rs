//! `POST /api/prelogin` `{username}` → `{kdf_salt, kdf_iterations}`.

use leptos::prelude::*;

use crate::api::codec::Api;
use crate::model::account::KdfParams;
use crate::model::error::ApiError;

#[server(prefix = "/api", endpoint = "prelogin", input = Api, output = Api)]
pub async fn prelogin(username: String) -> Result<KdfParams, ApiError> {
    use crate::server::{accounts, request};
    let address = request::client_address().await?;
    accounts::prelogin(&request::state(), &username, address).await
}
