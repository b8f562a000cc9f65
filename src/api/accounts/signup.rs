//! `POST /api/signup` → `{token, user}`, and the session cookie.

use leptos::prelude::*;

use crate::api::codec::{Api, Whole};
use crate::model::account::{Session, Signup};
use crate::model::error::ApiError;

/// The body is a [`Signup`], whole.
#[server(name = CreateAccount, prefix = "/api", endpoint = "signup", input = Api, output = Api, custom = Whole)]
pub async fn signup(signup: Signup) -> Result<Session, ApiError> {
    use crate::server::{accounts, request};
    let state = request::state();
    let address = request::client_address().await?;
    let session = accounts::signup(&state, signup, address).await?;
    request::set_session_cookie(&session.token, state.settings.token_ttl_secs);
    Ok(session)
}
