//! What the conversation endpoints do, apart from HTTP: check a new
//! conversation's member set and key set, store it, make every member's
//! live sockets join its room and tell them (`conversation-added`); list a
//! user's conversations.
//!
//! The server cannot check a key set's signature fully (the commitment
//! needs the content key it never sees); every member's browser does.

use std::collections::{BTreeSet, HashSet};

use super::fields;
use super::rate::Action;
use super::state::AppState;
use super::store::{Creation, Listed, StoreError, UserRecord};
use crate::model::conversation::{
    Conversation, Conversations, MAX_KNOWN, MAX_MEMBERS, MAX_TITLE_CHARS, NewConversation,
    title_char_ok,
};
use crate::model::error::{ApiError, ErrorCode};
use crate::model::ids::{ConversationId, UserId};
use crate::model::suite::{DIGEST_LEN, SIGNATURE_LEN, WRAPPED_KEY_LEN};
use crate::protocol::{self, CONVERSATION_ADDED};

/// A trimmed title, `None` when blank.
fn title(input: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(text) = input else { return Ok(None) };
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > MAX_TITLE_CHARS || !text.chars().all(title_char_ok) {
        return Err(ApiError::invalid(
            "title",
            &format!(
                "at most {MAX_TITLE_CHARS} characters, no control or invisible formatting characters"
            ),
        ));
    }
    Ok(Some(text.to_owned()))
}

/// Checks the member set and the key set: the creator is a member, nobody
/// twice, at most [`MAX_MEMBERS`], keys for exactly the members.
fn key_set(creator: UserId, new: &NewConversation) -> Result<(), ApiError> {
    let members: BTreeSet<UserId> = new.member_ids.iter().copied().collect();
    if members.len() != new.member_ids.len() {
        return Err(ApiError::invalid("member_ids", "a member is named twice"));
    }
    if !members.contains(&creator) {
        return Err(ApiError::invalid("member_ids", "must include you"));
    }
    if members.len() < 2 {
        return Err(ApiError::invalid(
            "member_ids",
            "name at least one other member",
        ));
    }
    if members.len() > MAX_MEMBERS {
        return Err(ApiError::invalid(
            "member_ids",
            &format!("at most {MAX_MEMBERS} members"),
        ));
    }
    if new.epoch != 0 {
        return Err(ApiError::invalid(
            "epoch",
            "a new conversation starts at epoch 0",
        ));
    }
    let mut covered = BTreeSet::new();
    for (i, key) in new.keys.iter().enumerate() {
        if !members.contains(&key.member_id) || !covered.insert(key.member_id) {
            return Err(ApiError::invalid(
                &format!("keys[{i}].member_id"),
                "each member's key exactly once, for members only",
            ));
        }
        fields::exact(
            &format!("keys[{i}].wrapped_key"),
            &key.wrapped_key,
            WRAPPED_KEY_LEN,
        )?;
    }
    if covered != members {
        return Err(ApiError::invalid("keys", "a key is missing for a member"));
    }
    Ok(())
}

/// Creates a conversation for `creator`. Repeating the same create (same
/// id, same creator and members) answers the stored conversation again.
pub async fn create(
    state: &AppState,
    creator: &UserRecord,
    mut new: NewConversation,
) -> Result<Conversation, ApiError> {
    state.limit(creator.id, Action::Create)?;
    new.title = title(new.title.take())?;
    key_set(creator.id, &new)?;
    fields::exact("commit", &new.commit, DIGEST_LEN)?;
    fields::exact("keys_signature", &new.keys_signature, SIGNATURE_LEN)?;
    let cap = state.settings.conversations_per_user;
    let full = state.store.users_at_cap(&new.member_ids, cap).await?;
    if full.contains(&creator.id) {
        return Err(ApiError::new(
            ErrorCode::TooManyConversations,
            format!("You are in {cap} conversations, the most one account may be in."),
        ));
    }
    if let Some(i) = new.member_ids.iter().position(|m| full.contains(m)) {
        return Err(ApiError::new(
            ErrorCode::TooManyConversations,
            format!(
                "member_ids[{i}]: that user is in the most conversations one account may be in."
            ),
        ));
    }
    for (i, member) in new.member_ids.iter().enumerate() {
        if state.store.user_by_id(*member).await?.is_none() {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("member_ids[{i}]: no user has the id {member}"),
            ));
        }
    }
    let creation = Creation {
        new,
        created_by: creator.id,
        created_at: fields::now_rfc3339(),
    };
    match state.store.create_conversation(&creation).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => return repeat(state, creator, &creation.new).await,
        Err(e) => return Err(e.into()),
    }
    let conversation = state
        .store
        .conversation(creation.new.conversation_id)
        .await?
        .ok_or_else(ApiError::internal)?;
    tracing::info!(
        conversation = %conversation.id,
        members = conversation.members.len(),
        "conversation created"
    );
    announce(state, &conversation).await;
    Ok(conversation)
}

/// The answer to a create whose id is already stored: the same conversation
/// if this is a retry of the same create, else 409.
async fn repeat(
    state: &AppState,
    creator: &UserRecord,
    new: &NewConversation,
) -> Result<Conversation, ApiError> {
    let conflict = || ApiError::new(ErrorCode::IdConflict, "conversation_id: that id is taken");
    let stored = state
        .store
        .conversation(new.conversation_id)
        .await?
        .ok_or_else(conflict)?;
    let asked: BTreeSet<UserId> = new.member_ids.iter().copied().collect();
    let held: BTreeSet<UserId> = stored.members.iter().map(|m| m.id).collect();
    if stored.created_by == creator.id && asked == held {
        Ok(stored)
    } else {
        Err(conflict())
    }
}

/// Makes every member's live sockets join the conversation's room, then
/// tells each member. Best effort: a member who misses it catches up
/// through list.
async fn announce(state: &AppState, conversation: &Conversation) {
    let room = protocol::conversation_room(conversation.id);
    for member in &conversation.members {
        let user_room = protocol::user_room(member.id);
        if let Err(e) = state.io.within(user_room.clone()).join(room.clone()).await {
            tracing::warn!(user = %member.id, error = %e, "could not join sockets to a new conversation");
        }
        if let Err(e) = state
            .io
            .to(user_room)
            .emit(CONVERSATION_ADDED, conversation)
            .await
        {
            tracing::warn!(user = %member.id, error = %e, "could not announce a new conversation");
        }
    }
}

/// One page of the conversations of `user` from `cursor` on, newest first:
/// in full, except those named in `known`, which come as heads.
pub async fn list(
    state: &AppState,
    user: UserId,
    known: Vec<ConversationId>,
    cursor: Option<ConversationId>,
) -> Result<Conversations, ApiError> {
    if known.len() > MAX_KNOWN {
        return Err(ApiError::invalid(
            "known",
            &format!("at most {MAX_KNOWN} conversation ids"),
        ));
    }
    let known: HashSet<ConversationId> = known.into_iter().collect();
    let page = state.store.conversations_of(user, &known, cursor).await?;
    let mut answer = Conversations {
        conversations: Vec::new(),
        heads: Vec::new(),
        next: page.next,
    };
    for listed in page.listed {
        match listed {
            Listed::Full(c) => answer.conversations.push(c),
            Listed::Head(head) => answer.heads.push(head),
        }
    }
    Ok(answer)
}
