//! `POST /api/signup` → `{token, user}`, and the session cookie.

use leptos::prelude::*;

use crate::api::codec::Api;
use crate::model::account::{Identity, Session};
use crate::model::error::ApiError;

#[server(prefix = "/api", endpoint = "signup", input = Api, output = Api)]
pub async fn signup(
    username: String,
    auth_key: String,
    kdf_salt: String,
    kdf_iterations: u32,
    identity: Identity,
) -> Result<Session, ApiError> {
    use crate::server::accounts::{self, SignupInput};
    use crate::server::request;
    let state = request::state();
    let input = SignupInput {
        username,
        auth_key,
        kdf_salt,
        kdf_iterations,
        identity,
    };
    let session = accounts::signup(&state, input).await?;
    request::set_session_cookie(&session.token, state.settings.token_ttl_secs);
    Ok(session)
}
