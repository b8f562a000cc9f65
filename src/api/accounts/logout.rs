//! `POST /api/logout` `{}` → `{}`: every token of the user stops working at
//! once, and the session cookie is cleared.

use leptos::prelude::*;

use crate::api::Done;
use crate::api::codec::Api;
use crate::model::error::ApiError;

#[server(prefix = "/api", endpoint = "logout", input = Api, output = Api)]
pub async fn logout() -> Result<Done, ApiError> {
    use crate::server::{accounts, request};
    let user = request::current_user().await?;
    accounts::logout(&request::state(), user.id).await?;
    request::clear_session_cookie();
    Ok(Done {})
}
