//! `POST /api/conversations/list` `{}` → `{conversations}`, most recently
//! active first.

use leptos::prelude::*;

use crate::api::codec::Api;
use crate::model::conversation::Conversations;
use crate::model::error::ApiError;

#[server(name = ListConversations, prefix = "/api", endpoint = "conversations/list", input = Api, output = Api)]
pub async fn list() -> Result<Conversations, ApiError> {
    use crate::server::{conversations, request};
    let user = request::current_user().await?;
    let conversations = conversations::list(&request::state(), user.id).await?;
    Ok(Conversations { conversations })
}
