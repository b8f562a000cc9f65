//! `POST /api/login` `{username, auth_key}` → `{token, user, identity}`, and
//! the session cookie.

use leptos::prelude::*;

use crate::api::codec::Api;
use crate::model::account::LoginAnswer;
use crate::model::blob::Blob;
use crate::model::error::ApiError;

#[server(prefix = "/api", endpoint = "login", input = Api, output = Api)]
pub async fn login(username: String, auth_key: Blob) -> Result<LoginAnswer, ApiError> {
    use crate::server::{accounts, request};
    let state = request::state();
    let address = request::client_address().await?;
    let answer = accounts::login(&state, &username, auth_key, address).await?;
    request::set_session_cookie(&answer.token, state.settings.token_ttl_secs);
    Ok(answer)
}
