//! What the conversation endpoints do, apart from HTTP: check a new
//! conversation's member set and key set, store it, make every member's
//! live sockets join its room and tell them (`conversation-added`); list a
//! user's conversations, or get one; change one (a new epoch) and leave
//! one, moving sockets in and out of its room and telling everyone
//! concerned.
//!
//! The server cannot check a key set's signature fully (the commitment
//! needs the content key it never sees); every member's browser does.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::fields;
use super::rate::Action;
use super::state::AppState;
use super::store::{ChangeRecord, ChangeRefusal, Creation, Listed, StoreError, UserRecord};
use crate::model::changes::{Changes, ConversationChanged};
use crate::model::conversation::{
    Change, Conversation, Conversations, Leave, MAX_KNOWN, MAX_MEMBERS, MAX_TITLE_CHARS,
    NewConversation, Removed, WrappedKey, title_char_ok,
};
use crate::model::error::{ApiError, ErrorCode};
use crate::model::ids::{ConversationId, UserId};
use crate::model::suite::{DIGEST_LEN, SIGNATURE_LEN, WRAPPED_KEY_LEN};
use crate::protocol::{self, CONVERSATION_ADDED, CONVERSATION_CHANGED, CONVERSATION_REMOVED};

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
    keys_for(&members, &new.keys)
}

/// Checks that `keys` hold one wrapped key of the right size for each of
/// `members`, and no other.
fn keys_for(members: &BTreeSet<UserId>, keys: &[WrappedKey]) -> Result<(), ApiError> {
    let mut covered = BTreeSet::new();
    for (i, key) in keys.iter().enumerate() {
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
    if &covered != members {
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
    let members: Vec<UserId> = conversation.members.iter().map(|m| m.id).collect();
    super::live::introduce(state, conversation.id, &members).await;
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
        if let Some(sockets) = state.within(user_room.clone())
            && let Err(e) = sockets.join(room.clone()).await
        {
            tracing::warn!(user = %member.id, error = %e, "could not join sockets to a new conversation");
        }
        if let Some(to) = state.to(user_room)
            && let Err(e) = to.emit(CONVERSATION_ADDED, conversation).await
        {
            tracing::warn!(user = %member.id, error = %e, "could not announce a new conversation");
        }
    }
}

/// One page of the conversations of `user` from `cursor` on, newest first:
/// in full, except those named in `known`, which come as heads.
pub async fn list(
    state: &AppState,
    user: &UserRecord,
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
    let page = state
        .store
        .conversations_of(user.id, &known, cursor)
        .await?;
    let mut answer = Conversations {
        conversations: Vec::new(),
        heads: Vec::new(),
        next: page.next,
        reads: Vec::new(),
    };
    for listed in page.listed {
        match listed {
            Listed::Full(c) => answer.conversations.push(c),
            Listed::Head(head) => answer.heads.push(head),
        }
    }
    let ids: Vec<ConversationId> = answer
        .conversations
        .iter()
        .map(|c| c.id)
        .chain(answer.heads.iter().map(|h| h.id))
        .collect();
    answer.reads = super::live::reads_for(state, user, &ids).await?;
    Ok(answer)
}

/// The conversation `reader` is a member of, in full.
pub async fn get(
    state: &AppState,
    reader: UserId,
    id: ConversationId,
) -> Result<Conversation, ApiError> {
    if !state.store.is_member(id, reader).await? {
        return Err(not_a_member());
    }
    state.store.conversation(id).await?.ok_or_else(not_a_member)
}

/// The epochs of a conversation `reader` is a member of from `since` on,
/// each as the change from the one before, with the reader's own wrapped
/// key: what a member who holds the epochs before reads after a change.
pub async fn changes(
    state: &AppState,
    reader: UserId,
    id: ConversationId,
    since: u32,
) -> Result<Changes, ApiError> {
    if since == 0 {
        return Err(ApiError::invalid(
            "since_epoch",
            "at least 1 (epoch 0 comes whole, with get)",
        ));
    }
    let standing = state
        .store
        .standing(id, Some(reader))
        .await?
        .ok_or_else(not_a_member)?;
    let mut epochs = Vec::new();
    for epoch in since..=standing.epoch {
        let kept = state
            .epoch_changes
            .get(&*state.store, id, epoch)
            .await?
            .ok_or_else(ApiError::internal)?;
        epochs.push(kept.for_reader(reader));
    }
    Ok(standing.changes(epochs))
}

pub(super) fn not_a_member() -> ApiError {
    ApiError::new(
        ErrorCode::NotAMember,
        "conversation_id: you are not a member of that conversation",
    )
}

/// What a refused change or leave answers.
fn refused(refusal: ChangeRefusal) -> ApiError {
    match refusal {
        ChangeRefusal::NotAMember => not_a_member(),
        ChangeRefusal::EpochConflict { current } => ApiError::new(
            ErrorCode::EpochConflict,
            format!("epoch: the conversation is at epoch {current}; reload it and try again"),
        ),
        ChangeRefusal::RekeyRequired => ApiError::new(
            ErrorCode::RekeyRequired,
            "departures: carry exactly the conversation's pending departures",
        ),
        ChangeRefusal::NotAllowed => ApiError::new(
            ErrorCode::NotAllowed,
            "member_ids: only the creator removes members, and who left stays out",
        ),
    }
}

/// Checks a change's shape: a member set (at most [`MAX_MEMBERS`], the
/// signer in it, nobody twice), keys for exactly the members, the sizes.
/// The rules that depend on where the conversation stands are the store's
/// to check, in the change's transaction.
fn change_shape(signer: UserId, change: &Change) -> Result<(), ApiError> {
    let members: BTreeSet<UserId> = change.member_ids.iter().copied().collect();
    if members.len() != change.member_ids.len() {
        return Err(ApiError::invalid("member_ids", "a member is named twice"));
    }
    if !members.contains(&signer) {
        return Err(ApiError::invalid(
            "member_ids",
            "must include you (to leave, use leave)",
        ));
    }
    if members.len() > MAX_MEMBERS {
        return Err(ApiError::invalid(
            "member_ids",
            &format!("at most {MAX_MEMBERS} members"),
        ));
    }
    keys_for(&members, &change.keys)?;
    fields::exact("commit", &change.commit, DIGEST_LEN)?;
    fields::exact("keys_signature", &change.keys_signature, SIGNATURE_LEN)?;
    let mut left = BTreeSet::new();
    for (i, departure) in change.departures.iter().enumerate() {
        if !left.insert(departure.member_id) {
            return Err(ApiError::invalid(
                &format!("departures[{i}].member_id"),
                "a departure is named twice",
            ));
        }
        fields::exact(
            &format!("departures[{i}].signature"),
            &departure.signature,
            SIGNATURE_LEN,
        )?;
    }
    Ok(())
}

/// Stores the next epoch of a conversation, signed by `signer`: people
/// added, removed by the creator, or dropped after they left. Those no
/// longer in it leave its room at once and are told
/// (`conversation-removed`); the added join it; every member is told
/// (`conversation-changed`, or `conversation-added` for the added).
pub async fn change(
    state: &AppState,
    signer: &UserRecord,
    change: Change,
) -> Result<Changes, ApiError> {
    state.limit(signer.id, Action::Create)?;
    change_shape(signer.id, &change)?;
    let id = change.conversation_id;
    // Who is added must exist and have room for one more conversation;
    // read before the transaction, which checks everything that moves.
    let before: HashSet<UserId> = state.store.member_ids(id).await?.into_iter().collect();
    if !before.contains(&signer.id) {
        return Err(not_a_member());
    }
    let fresh: Vec<UserId> = change
        .member_ids
        .iter()
        .copied()
        .filter(|m| !before.contains(m))
        .collect();
    let mut newcomers = HashMap::new();
    for member in &fresh {
        if let Some(user) = state.store.user_by_id(*member).await? {
            newcomers.insert(*member, user.public());
        } else {
            let i = change.member_ids.iter().position(|m| m == member);
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!(
                    "member_ids[{}]: no user has the id {member}",
                    i.unwrap_or(0)
                ),
            ));
        }
    }
    let cap = state.settings.conversations_per_user;
    if let Some(full) = state.store.users_at_cap(&fresh, cap).await?.first() {
        let i = change.member_ids.iter().position(|m| m == full);
        return Err(ApiError::new(
            ErrorCode::TooManyConversations,
            format!(
                "member_ids[{}]: that user is in the most conversations one account may be in.",
                i.unwrap_or(0)
            ),
        ));
    }
    let record = ChangeRecord {
        change,
        signer: signer.id,
    };
    let changed = state
        .store
        .change_conversation(&record)
        .await?
        .map_err(refused)?;
    let epoch = record.change.epoch;
    tracing::info!(
        conversation = %id,
        epoch,
        added = changed.added.len(),
        removed = changed.removed.len(),
        departures = record.change.departures.len(),
        "conversation changed"
    );
    // Kept as stored, not read back: in a group of 1,000 reading both
    // epochs took longer than storing this one. The signer holds every
    // epoch before this one, and gets this one as the others will.
    state.epoch_changes.keep(&record, &changed, newcomers);
    let answer = changes(state, signer.id, id, epoch).await?;
    part(state, id, &changed.removed).await;
    if !changed.added.is_empty() {
        // Those added read the whole chain: they hold none of it.
        let whole = state
            .store
            .conversation(id)
            .await?
            .ok_or_else(ApiError::internal)?;
        let room = protocol::conversation_room(id);
        for member in &changed.added {
            let user_room = protocol::user_room(*member);
            if let Some(sockets) = state.within(user_room.clone())
                && let Err(e) = sockets.join(room.clone()).await
            {
                tracing::warn!(user = %member, error = %e, "could not join sockets to a conversation");
            }
            emit(state, user_room, CONVERSATION_ADDED, &whole).await;
        }
        let members: Vec<UserId> = whole.members.iter().map(|m| m.id).collect();
        super::live::introduce(state, id, &members).await;
    }
    tell_members(state, id, &changed.added, Some(epoch)).await?;
    Ok(answer)
}

/// `leaver`'s signed departure from the current epoch: they are out at
/// once (their sockets leave the room and are told), and sends wait until
/// a remaining member's app posts the next epoch without them.
pub async fn leave(state: &AppState, leaver: &UserRecord, leave: Leave) -> Result<(), ApiError> {
    state.limit(leaver.id, Action::Create)?;
    fields::exact("signature", &leave.signature, SIGNATURE_LEN)?;
    let id = leave.conversation_id;
    state
        .store
        .leave_conversation(id, leaver.id, leave.epoch, &leave.signature)
        .await?
        .map_err(refused)?;
    tracing::info!(conversation = %id, epoch = leave.epoch, "member left");
    part(state, id, &[leaver.id]).await;
    tell_members(state, id, &[], None).await?;
    Ok(())
}

/// Takes every socket of `users` out of the conversation's room and tells
/// them they are no longer in it.
async fn part(state: &AppState, id: ConversationId, users: &[UserId]) {
    let room = protocol::conversation_room(id);
    for user in users {
        let user_room = protocol::user_room(*user);
        if let Some(sockets) = state.within(user_room.clone())
            && let Err(e) = sockets.leave(room.clone()).await
        {
            tracing::warn!(user = %user, error = %e, "could not take sockets out of a conversation");
        }
        let removed = Removed {
            conversation_id: id,
        };
        emit(state, user_room, CONVERSATION_REMOVED, &removed).await;
    }
}

/// Tells every member but `skip` that the conversation changed: where it
/// stands now (its head), not the whole conversation, which a group of
/// 1,000 would push a thousand times over; and when `epoch` is the new
/// epoch it stands at, that epoch as each member's change (its own key and
/// path, about 1 KB), from the one kept ([`EpochChanges`]), so that the
/// members need not read it.
///
/// [`EpochChanges`]: super::epoch_changes::EpochChanges
async fn tell_members(
    state: &AppState,
    id: ConversationId,
    skip: &[UserId],
    epoch: Option<u32>,
) -> Result<(), ApiError> {
    let Some(standing) = state.store.standing(id, None).await? else {
        return Ok(());
    };
    let head = standing.head();
    let kept = match epoch.filter(|e| *e == standing.epoch) {
        Some(e) => state.epoch_changes.get(&*state.store, id, e).await?,
        None => None,
    };
    for member in state.store.member_ids(id).await? {
        if skip.contains(&member) {
            continue;
        }
        let changed = ConversationChanged {
            head: head.clone(),
            changes: kept
                .as_ref()
                .map(|k| standing.changes(vec![k.for_reader(member)])),
        };
        emit(
            state,
            protocol::user_room(member),
            CONVERSATION_CHANGED,
            &changed,
        )
        .await;
        // Pushing each of 1,000 members takes about 17 ms of the server's
        // core in all; between two pushes, whatever else is ready runs
        // rather than waiting for them all (no difference measured in the
        // benchmark's room of 1,000 either way).
        tokio::task::yield_now().await;
    }
    Ok(())
}

/// Emits to one user's room. Best effort: who misses it catches up through
/// list (or, for what `live` tells, at the next connect).
pub(super) async fn emit<T: serde::Serialize + ?Sized>(
    state: &AppState,
    room: String,
    event: &str,
    data: &T,
) {
    if let Some(to) = state.to(room)
        && let Err(e) = to.emit(event, data).await
    {
        tracing::warn!(event, error = %e, "could not tell a user");
    }
}
