//! `POST /api/conversations/change`
//! `{conversation_id, epoch, member_ids, commit, keys, keys_signature,
//! departures?}` → its next epoch, signed by a member of the current one,
//! as changes gives it to the signer (who holds the epochs before). 409 `epoch_conflict` if another change came first, 409
//! `rekey_required` if it does not carry exactly the pending departures,
//! 403 `not_allowed` if it breaks the removal rule.

use leptos::prelude::*;

use crate::api::codec::{Api, Whole};
use crate::model::changes::Changes;
use crate::model::conversation::Change;
use crate::model::error::ApiError;

/// The body is a [`Change`], whole.
#[server(name = ChangeConversation, prefix = "/api", endpoint = "conversations/change", input = Api, output = Api, custom = Whole)]
pub async fn change(change: Change) -> Result<Changes, ApiError> {
    use crate::server::{conversations, request};
    let signer = request::current_user().await?;
    conversations::change(&request::state(), &signer, change).await
}
