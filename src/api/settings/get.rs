//! `POST /api/settings/get` `{}` → `{receipts, presence}`: what the caller
//! shares.

use leptos::prelude::*;

use crate::api::codec::Api;
use crate::model::error::ApiError;
use crate::model::live::Sharing;

#[server(name = GetSettings, prefix = "/api", endpoint = "settings/get", input = Api, output = Api)]
pub async fn get() -> Result<Sharing, ApiError> {
    use crate::server::request;
    Ok(request::current_user().await?.sharing)
}
