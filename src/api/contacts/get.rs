//! `POST /api/contacts/get` `{}` → `{version, book}`: the caller's own
//! contact book, `{version: 0, book: ""}` before their first put.

use leptos::prelude::*;

use crate::api::codec::Api;
use crate::model::contacts::StoredBook;
use crate::model::error::ApiError;

#[server(name = GetContactBook, prefix = "/api", endpoint = "contacts/get", input = Api, output = Api)]
pub async fn get() -> Result<StoredBook, ApiError> {
    use crate::server::{contacts, request};
    let user = request::current_user().await?;
    contacts::get(&request::state(), user.id).await
}
