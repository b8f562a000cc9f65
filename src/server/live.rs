//! The live conversation on the server (DESIGN.md, "Live conversation
//! (wire)"): read positions, kept per member and raised only, relayed to
//! the reader's other tabs and, when the reader shares receipts, to the
//! conversation's room (of at most [`LIVE_GROUP_MAX`] members) but the
//! sockets of those who do not; and what each
//! user shares, which moves their sockets in and out of the rooms that
//! keep them from hearing what others share; and presence, told when a
//! user comes online or goes offline (`presence` counts), to the people
//! they share a conversation of at most [`LIVE_GROUP_MAX`] members
//! with, while both share presence. With several nodes, presence is
//! cluster-wide: who is online is read from this node's count and, for
//! the rest, from the other nodes' sockets ([`online_anywhere`]); a user
//! whose last socket on this node closed goes offline only if they have
//! none on another.

use super::conversations::{emit, not_a_member};
use super::fanout::{self, Bus, Io};
use super::presence::Presence as Online;
use super::rate::Action;
use super::state::AppState;
use super::store::{Store, UserRecord};
use crate::model::error::ApiError;
use crate::model::ids::{ConversationId, UserId};
use crate::model::live::{MarkRead, Presence, Read, ReadAt, Sharing};
use crate::protocol::{self, NO_PRESENCE_ROOM, NO_RECEIPTS_ROOM, PRESENCE, READ, SETTINGS};

/// Conversations of more members than this carry neither presence nor
/// live reads: in a group of 1,000, everyone's comings and goings, and
/// every member's read of every message, would be a thousand pushes each.
/// People see each other's presence through their 1:1s and smaller groups;
/// reads in a large group show at the next list.
pub const LIVE_GROUP_MAX: u32 = 100;

/// `reader` has read a conversation up to `mark.seq`: stored if it raises
/// their position, then told (see the module's note).
pub async fn mark_read(
    state: &AppState,
    reader: &UserRecord,
    mark: MarkRead,
) -> Result<ReadAt, ApiError> {
    state.limit(reader.id, Action::Read)?;
    let id = mark.conversation_id;
    let marked = state
        .store
        .mark_read(id, reader.id, mark.seq)
        .await?
        .ok_or_else(not_a_member)?;
    let seq = marked.seq;
    if marked.raised {
        let read = Read {
            conversation_id: id,
            user_id: reader.id,
            seq,
        };
        let mine = protocol::user_room(reader.id);
        // In a large group, the others read positions at their next list:
        // every member's read pushed to every member would be a million
        // pushes per message in a group of 1,000.
        let room = marked.members <= u64::from(LIVE_GROUP_MAX);
        let to = if reader.sharing.receipts && room {
            let rooms = vec![mine, protocol::conversation_room(id)];
            state.to(rooms).map(|to| to.except(NO_RECEIPTS_ROOM))
        } else {
            state.to(mine)
        };
        if let Some(to) = to
            && let Err(e) = to.emit(READ, &read).await
        {
            tracing::warn!(conversation = %id, error = %e, "a read position was not relayed");
        }
    }
    Ok(ReadAt { seq })
}

/// The read positions a list page carries for `user`: their own, and the
/// others' if `user` shares receipts (reciprocity).
pub async fn reads_for(
    state: &AppState,
    user: &UserRecord,
    conversations: &[ConversationId],
) -> Result<Vec<Read>, ApiError> {
    if conversations.is_empty() {
        return Ok(Vec::new());
    }
    Ok(state
        .store
        .reads(user.id, conversations, user.sharing.receipts)
        .await?)
}

/// The rooms a socket of a user who shares `sharing` joins (and the
/// others it leaves), so that it hears only what it may.
pub fn quiet_rooms(sharing: Sharing) -> (Vec<&'static str>, Vec<&'static str>) {
    let (mut join, mut leave) = (Vec::new(), Vec::new());
    for (shares, room) in [
        (sharing.receipts, NO_RECEIPTS_ROOM),
        (sharing.presence, NO_PRESENCE_ROOM),
    ] {
        if shares { &mut leave } else { &mut join }.push(room);
    }
    (join, leave)
}

/// Stores what `user` shares; their sockets move rooms at once and their
/// other tabs are told.
pub async fn set_sharing(
    state: &AppState,
    user: &UserRecord,
    sharing: Sharing,
) -> Result<Sharing, ApiError> {
    state.limit(user.id, Action::Read)?;
    state.store.set_sharing(user.id, sharing).await?;
    state.recent.forget(user.id);
    let was = user.sharing.presence;
    // Asked of the other nodes only when it matters.
    if was != sharing.presence
        && !online_anywhere(&state.io, &state.bus, &state.online, &[user.id])
            .await
            .is_empty()
    {
        // Turning it off looks to the others like going offline; turning
        // it on, like coming online, and this user hears who is.
        announce(&*state.store, &state.io, user.id, sharing.presence).await;
    }
    let (join, leave) = quiet_rooms(sharing);
    let moved = async {
        let Some(sockets) = state.within(protocol::user_room(user.id)) else {
            return Ok(());
        };
        sockets.clone().join(join).await?;
        sockets.leave(leave).await
    };
    if let Err(e) = moved.await {
        tracing::warn!(user = %user.id, error = %e, "sockets not moved after a sharing change");
    }
    emit(state, protocol::user_room(user.id), SETTINGS, &sharing).await;
    if sharing.presence && !was {
        let peers =
            online_peers(&*state.store, &state.io, &state.bus, &state.online, user.id).await;
        for peer in peers {
            emit(state, protocol::user_room(user.id), PRESENCE, &peer).await;
        }
    }
    Ok(sharing)
}

/// Tells the people `user` shares a small conversation with, who share
/// presence, that `user` came online or went offline (the caller checked
/// that `user` shares it). Best effort: who misses it sees it at their next
/// connect.
pub async fn announce(store: &dyn Store, io: &Io, user: UserId, online: bool) {
    let rooms = match store.presence_rooms(user, LIVE_GROUP_MAX).await {
        Ok(rooms) if !rooms.is_empty() => rooms,
        Ok(_) => return,
        Err(e) => {
            tracing::warn!(user = %user, error = %e, "presence not told");
            return;
        }
    };
    let rooms: Vec<String> = rooms.into_iter().map(protocol::conversation_room).collect();
    let quiet = vec![NO_PRESENCE_ROOM.to_owned(), protocol::user_room(user)];
    let said = Presence {
        user_id: user,
        online,
    };
    if let Some(sockets) = fanout::sockets(io)
        && let Err(e) = sockets.to(rooms).except(quiet).emit(PRESENCE, &said).await
    {
        tracing::warn!(user = %user, error = %e, "presence not told");
    }
}

/// People who share a conversation now (a new one, or some were added)
/// learn who of them is online: each online member who shares presence is
/// told in its room, as at a connect. Not in a conversation of more than
/// [`LIVE_GROUP_MAX`] members.
pub async fn introduce(state: &AppState, id: ConversationId, members: &[UserId]) {
    if members.len() > LIVE_GROUP_MAX as usize {
        return;
    }
    let room = protocol::conversation_room(id);
    for member in online_anywhere(&state.io, &state.bus, &state.online, members).await {
        let shares =
            matches!(state.store.user_by_id(member).await, Ok(Some(u)) if u.sharing.presence);
        if !shares {
            continue;
        }
        let said = Presence {
            user_id: member,
            online: true,
        };
        let quiet = vec![NO_PRESENCE_ROOM.to_owned(), protocol::user_room(member)];
        if let Some(to) = state.to(room.clone())
            && let Err(e) = to.except(quiet).emit(PRESENCE, &said).await
        {
            tracing::warn!(conversation = %id, error = %e, "presence not told");
        }
    }
}

/// Who of the people `user` may see the presence of is online now, as the
/// pushes that tell it (the caller checked that `user` shares presence).
pub async fn online_peers(
    store: &dyn Store,
    io: &Io,
    bus: &Bus,
    online: &Online,
    user: UserId,
) -> Vec<Presence> {
    let peers = match store.presence_peers(user, LIVE_GROUP_MAX).await {
        Ok(peers) => peers,
        Err(e) => {
            tracing::warn!(user = %user, error = %e, "presence not read");
            return Vec::new();
        }
    };
    online_anywhere(io, bus, online, &peers)
        .await
        .into_iter()
        .map(|user_id| Presence {
            user_id,
            online: true,
        })
        .collect()
}

/// Those of `users` who are online: on this node (its count, grace periods
/// included), or with a socket on another node (one request to them all,
/// for the users this node does not hold; with Redis down, this node's
/// count alone).
pub async fn online_anywhere(io: &Io, bus: &Bus, online: &Online, users: &[UserId]) -> Vec<UserId> {
    let mut found = online.online_among(users);
    if matches!(bus, Bus::Solo) || found.len() == users.len() {
        return found;
    }
    let elsewhere: Vec<UserId> = users
        .iter()
        .filter(|u| !found.contains(u))
        .copied()
        .collect();
    let rooms: Vec<String> = elsewhere.iter().map(|u| protocol::user_room(*u)).collect();
    // The rooms of every socket in those users' rooms, on every node: a
    // user's own room among them means they have a socket somewhere.
    let Some(sockets) = fanout::sockets(io) else {
        return found;
    };
    match sockets.within(rooms).rooms().await {
        Ok(held) => {
            let held: std::collections::HashSet<&str> = held.iter().map(|r| r.as_ref()).collect();
            found.extend(
                elsewhere
                    .into_iter()
                    .filter(|u| held.contains(protocol::user_room(*u).as_str())),
            );
        }
        Err(e) => tracing::warn!(error = %e, "presence on other nodes not read"),
    }
    found
}
