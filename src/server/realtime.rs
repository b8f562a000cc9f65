//! The Socket.IO side: the namespace `/` on the path `/socket.io/`, every
//! handler registered here, in one place.
//!
//! No socket may sit connected without a valid session: the connect
//! middleware checks the handshake's token (`auth: {token}`, else the
//! session cookie) before any handler runs; a refusal reaches the client as
//! a `connect_error` with the message `unauthorized`. An admitted socket
//! joins its user's room, `user:{id}`, which logout empties at once, and
//! the room of every conversation its user is a member of; a socket is in a
//! conversation's room only while its user is a member, so it never
//! receives another conversation's events. Handlers log ids, never payloads.
//!
//! A socket lives no longer than its session: [`close_expired`] closes it
//! once its token expires, and a logout that ran while its handshake was
//! still being checked (the socket was not in the namespace yet, so the
//! logout could not close it) is caught by a second check once it is
//! ([`on_connect`]). A refused handshake leaves no room entry behind
//! (socketioxide removes the rooms a rejected middleware joined).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::Request;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, SEC_WEBSOCKET_KEY};
use axum::http::{Extensions, HeaderMap, HeaderName, HeaderValue, Uri};
use hyper::upgrade::OnUpgrade;
use socketioxide::SocketIo;
use socketioxide::extract::{State, TryData};
use socketioxide::handler::ConnectHandler;

use super::accounts;
use super::auth::recent::RecentUsers;
use super::auth::secrets::ServerSecrets;
use super::auth::token;
use super::fanout::{self, Ack, Adapter, Bus, Io, Layer, Socket};
use super::live;
use super::presence::{Arrival, Presence};
use super::rate::{Bucket, Rate};
use super::request::token_in;
use super::settings::Settings;
use super::store::Store;
use super::typing::{Heard, TypingRelay};
use crate::model::error::ErrorCode;
use crate::model::ids::{ConversationId, UserId};
use crate::protocol::{
    self, HandshakeAuth, JOIN_CONVERSATION, LEAVE_CONVERSATION, PRESENCE, PRESENCE_GRACE, RoomAck,
    TYPING, TYPING_EVERY, Typing, TypingIn,
};

/// The most a client may send in one Engine.IO payload (a polling POST) or
/// one WebSocket message or frame. A client sends small packets only: the
/// CONNECT with its token (well under 1 KiB), joins, leaves and pongs; this
/// leaves room for small events to come and bounds what an Engine.IO
/// session, which exists before its CONNECT is authenticated, can make the
/// server hold. A bigger one closes the connection (a polling POST is
/// answered 413) before its payload is read. It bounds nothing the server
/// sends: a polling response batches packets up to it, and one packet
/// bigger than it still goes, alone.
pub const MAX_CLIENT_FRAME: usize = 16 * 1024;

/// How long an Engine.IO session may wait for its Socket.IO CONNECT (a
/// client sends it at once).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Bytes each WebSocket reads at a time. A client only sends small frames
/// (the connect packet with its token, about 300 bytes, then joins, leaves
/// and pongs); the default of 4 KiB, kept for every idle connection, was
/// an eighth of its memory. The buffer grows once, for the connect packet,
/// to what it holds plus the packet (or double, if more), and keeps that
/// size: measured per idle socket, 1,024 bytes held 1,024; 512 grew to
/// 1,024; 256 to 544; 128 to 416.
const WS_READ_BUFFER: usize = 128;

/// Why a connection was refused; the text is what the client's
/// `connect_error` carries.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("unauthorized")]
    Unauthorized,
    /// The store could not say which conversations to join; try again.
    #[error("store_unavailable")]
    Unavailable,
    /// The user holds `sockets_per_user` sockets on this node already.
    #[error("too_many_sockets")]
    TooMany,
}

/// What the socket handlers need to check sessions.
#[derive(Clone)]
struct Sessions {
    store: Arc<dyn Store>,
    secrets: Arc<ServerSecrets>,
    recent: Arc<RecentUsers>,
    /// Who is online on this node.
    online: Arc<Presence>,
    /// The session cookie's name (`Settings::session_cookie`).
    cookie: &'static str,
    /// Sockets one user may hold on this node (`sockets_per_user`).
    per_user: usize,
    /// Events one socket may send (`socket_events_per_minute`).
    events: Rate,
    /// Typing relays, coalesced per conversation.
    typing: Arc<TypingRelay>,
    /// Where presence on other nodes is asked.
    bus: Bus,
}

/// How often sockets whose token has expired are looked for and closed.
pub const EXPIRY_SWEEP: Duration = Duration::from_secs(5);

/// A socket's session, kept in its extensions: whose it is, the token
/// version it was admitted with, when its token expires, and its events'
/// rate limit.
#[derive(Debug, Clone)]
struct SocketSession {
    user: UserId,
    /// Whether the user shared presence when the socket connected.
    presence: bool,
    version: u32,
    /// Seconds since the Unix epoch.
    expires: u64,
    counters: Arc<Counters>,
}

/// What a socket counts as it sends, in one allocation.
#[derive(Debug, Default)]
struct Counters {
    /// Its events, against `socket_events_per_minute`.
    events: Bucket,
    /// When its last `typing` was relayed (ms since the Unix epoch; 0:
    /// never).
    typed: AtomicU64,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Closes, every [`EXPIRY_SWEEP`], the sockets whose token has expired;
/// runs until the server stops (boot aborts it).
pub async fn close_expired(io: Io) {
    let mut every = tokio::time::interval(EXPIRY_SWEEP);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let now = unix_now();
        for socket in io.sockets() {
            let expired = socket
                .extensions
                .get::<SocketSession>()
                .is_some_and(|s| s.expires <= now);
            if expired {
                tracing::debug!(sid = %socket.id, "socket closed: its session expired");
                let _ = socket.disconnect();
            }
        }
    }
}

/// How long a resync waits for more asks before it runs (a Redis restart
/// makes every node ask at once).
const RESYNC_GATHER: Duration = Duration::from_secs(1);

/// Brings this node's sockets back in step with the database whenever
/// `wanted` wakes (the node, or another, lost Redis for a while, so room
/// joins and leaves, and logouts' closes, may have missed sockets here):
/// each user's sockets are closed if their session ended, else put in
/// exactly the rooms of the user's conversations. Runs until the server
/// stops (boot aborts it).
pub async fn keep_in_step(
    io: Io,
    store: Arc<dyn Store>,
    recent: Arc<RecentUsers>,
    wanted: Arc<tokio::sync::Notify>,
) {
    loop {
        wanted.notified().await;
        tokio::time::sleep(RESYNC_GATHER).await;
        let mut by_user: std::collections::HashMap<UserId, Vec<(Socket, u32)>> =
            std::collections::HashMap::new();
        for socket in io.sockets() {
            if let Some(session) = socket.extensions.get::<SocketSession>() {
                by_user
                    .entry(session.user)
                    .or_default()
                    .push((socket, session.version));
            }
        }
        let (mut closed, mut moved) = (0usize, 0usize);
        for (user, sockets) in by_user {
            recent.forget(user);
            let mut rooms: Option<Vec<String>> = None;
            for (socket, version) in sockets {
                let checked = accounts::check_session(store.as_ref(), &recent, user, version).await;
                if let Err(e) = checked
                    && matches!(refusal(e), Refusal::Unauthorized)
                {
                    let _ = socket.disconnect();
                    closed += 1;
                    continue;
                }
                if rooms.is_none() {
                    match store.conversation_ids_of(user).await {
                        Ok(ids) => {
                            rooms = Some(ids.into_iter().map(protocol::conversation_room).collect())
                        }
                        Err(e) => {
                            tracing::warn!(user = %user, error = %e, "rooms not brought in step");
                            break;
                        }
                    }
                }
                let want = rooms.as_deref().unwrap_or_default();
                let held: Vec<String> = socket
                    .rooms()
                    .into_iter()
                    .map(|r| r.into_owned())
                    .filter(|r| r.starts_with(protocol::CONVERSATION_ROOM_PREFIX))
                    .collect();
                let join: Vec<String> =
                    want.iter().filter(|r| !held.contains(r)).cloned().collect();
                let leave: Vec<String> =
                    held.iter().filter(|r| !want.contains(r)).cloned().collect();
                if !join.is_empty() || !leave.is_empty() {
                    moved += 1;
                    socket.join(join);
                    socket.leave(leave);
                }
            }
        }
        tracing::info!(
            closed,
            moved,
            "sockets brought in step after Redis lost messages"
        );
    }
}

/// Builds the Socket.IO layer for the router and the handle used to emit,
/// its emits fanning out over `bus`; fails if the namespace cannot
/// subscribe to the bus.
#[allow(clippy::too_many_arguments)]
pub async fn layer(
    store: Arc<dyn Store>,
    secrets: Arc<ServerSecrets>,
    recent: Arc<RecentUsers>,
    online: Arc<Presence>,
    typing: Arc<TypingRelay>,
    bus: Bus,
    settings: &Settings,
) -> anyhow::Result<(Layer, Io)> {
    let (layer, io) = SocketIo::builder()
        .with_adapter::<Adapter>(fanout::adapter(bus.clone(), settings))
        .req_path(protocol::SOCKET_PATH)
        .ws_read_buffer_size(WS_READ_BUFFER)
        .max_payload(MAX_CLIENT_FRAME as u64)
        .ws_max_message_size(MAX_CLIENT_FRAME)
        .ws_max_frame_size(MAX_CLIENT_FRAME)
        .connect_timeout(CONNECT_TIMEOUT)
        .with_state(Sessions {
            store,
            secrets,
            recent,
            online,
            cookie: settings.session_cookie(),
            per_user: settings.sockets_per_user,
            events: settings.socket_events_per_minute,
            typing,
            bus,
        })
        .build_layer();
    io.ns("/", on_connect.with(authenticate))
        .await
        .map_err(|e| anyhow::anyhow!("cannot subscribe to the other nodes' pushes: {e}"))?;
    Ok((layer, io))
}

/// The handshake request's headers the Socket.IO layer reads: the
/// WebSocket key (engineioxide's upgrade answer), the content type (a
/// polling POST), and the session (a bearer token or the session cookie,
/// read by [`authenticate`]).
const HANDSHAKE_HEADERS: [HeaderName; 4] = [SEC_WEBSOCKET_KEY, CONTENT_TYPE, AUTHORIZATION, COOKIE];

/// Socket.IO keeps every socket's handshake request (URI, headers,
/// extensions) for the socket's whole life. Hyper parses the URI and the
/// header values as views into its 8 to 16 KiB read buffer, so keeping them
/// kept that buffer (heaptrack found it to be 15 KiB of every idle
/// connection); and the rest of the request (the browser's dozen headers,
/// the router's extensions: the address, the original URI, the path
/// parameters) was another 0.8 KiB a socket, read by nothing once the
/// socket was admitted. In front of the Socket.IO layer this keeps, as
/// copies of their own, only the URI, [`HANDSHAKE_HEADERS`] and the
/// upgrade's handle; what runs before it (the origin guard, the
/// per-address handshake limit) has read the rest. Other requests pass
/// untouched.
pub async fn detach_handshake(request: Request) -> Request {
    if !protocol::is_socket_path(request.uri().path()) {
        return request;
    }
    let (mut parts, body) = request.into_parts();
    let kept = HANDSHAKE_HEADERS
        .iter()
        .map(|name| parts.headers.get_all(name).iter().count())
        .sum();
    let mut headers = HeaderMap::with_capacity(kept);
    for name in HANDSHAKE_HEADERS {
        for value in parts.headers.get_all(&name) {
            // A value hyper accepted is always a valid copy; were it not,
            // the original stays rather than the header going missing.
            let copy = HeaderValue::from_bytes(value.as_bytes())
                .map(|mut copy| {
                    copy.set_sensitive(value.is_sensitive());
                    copy
                })
                .unwrap_or_else(|_| value.clone());
            headers.append(name.clone(), copy);
        }
    }
    parts.headers = headers;
    if let Ok(uri) = Uri::try_from(parts.uri.to_string()) {
        parts.uri = uri;
    }
    let upgrade = parts.extensions.remove::<OnUpgrade>();
    parts.extensions = Extensions::new();
    if let Some(upgrade) = upgrade {
        parts.extensions.insert(upgrade);
    }
    Request::from_parts(parts, body)
}

/// Connect middleware: admits a socket only with a valid session.
async fn authenticate(
    socket: Socket,
    TryData(auth): TryData<HandshakeAuth>,
    State(sessions): State<Sessions>,
) -> Result<(), Refusal> {
    let token = auth
        .ok()
        .and_then(|a| a.token)
        .or_else(|| token_in(&socket.req_parts().headers, sessions.cookie))
        .ok_or(Refusal::Unauthorized)?;
    let claims =
        token::verify(sessions.secrets.token_key(), &token).ok_or(Refusal::Unauthorized)?;
    let user = accounts::check_session(
        sessions.store.as_ref(),
        &sessions.recent,
        claims.sub,
        claims.ver,
    )
    .await
    .map_err(refusal)?;
    // A soft cap: handshakes at the very same moment may pass it by one
    // or two, which the next connect sees.
    let held = socket.within(protocol::user_room(user.id)).sockets().len();
    if held >= sessions.per_user {
        return Err(Refusal::TooMany);
    }
    socket.extensions.insert(SocketSession {
        user: user.id,
        presence: user.sharing.presence,
        version: claims.ver,
        expires: claims.exp,
        counters: Arc::default(),
    });
    // The user room first: a conversation created from now on joins this
    // socket through it, so none falls between the lookup and the join.
    socket.join(protocol::user_room(user.id));
    let (quiet, _) = live::quiet_rooms(user.sharing);
    if !quiet.is_empty() {
        socket.join(quiet);
    }
    let conversations = sessions
        .store
        .conversation_ids_of(user.id)
        .await
        .map_err(|_| Refusal::Unavailable)?;
    socket.join(
        conversations
            .into_iter()
            .map(protocol::conversation_room)
            .collect::<Vec<_>>(),
    );
    Ok(())
}

/// A store outage is not a verdict on the session: the client retries
/// instead of signing out.
fn refusal(e: crate::model::error::ApiError) -> Refusal {
    match e.error {
        ErrorCode::StoreUnavailable | ErrorCode::Internal => Refusal::Unavailable,
        _ => Refusal::Unauthorized,
    }
}

/// The socket is in the namespace now, where a logout reaches it: the
/// session is checked once more, for a logout that ran while the handshake
/// was being checked.
async fn on_connect(socket: Socket, io: Io, State(sessions): State<Sessions>) {
    let Some(session) = socket.extensions.get::<SocketSession>() else {
        let _ = socket.disconnect();
        return;
    };
    let checked = accounts::check_session(
        sessions.store.as_ref(),
        &sessions.recent,
        session.user,
        session.version,
    )
    .await;
    if let Err(e) = checked
        && matches!(refusal(e), Refusal::Unauthorized)
    {
        tracing::debug!(sid = %socket.id, "socket closed: its session ended during the handshake");
        let _ = socket.disconnect();
        return;
    }
    tracing::debug!(sid = %socket.id, "socket connected");
    socket.on(JOIN_CONVERSATION, on_join);
    socket.on(LEAVE_CONVERSATION, on_leave);
    socket.on(TYPING, on_typing);
    socket.on_fallback(on_unknown);
    // The close handler first, then the count: a close can only follow.
    socket.on_disconnect(on_disconnect);
    let user = session.user;
    // Back within the grace, in a cluster: another node may have told
    // them gone meanwhile (it could not see this node's grace), so they
    // are told online again (a client that already shows them so does
    // not change).
    let news = match sessions.online.connected(user) {
        Arrival::Came => true,
        Arrival::Back => !matches!(sessions.bus, Bus::Solo),
        Arrival::Another => false,
    };
    if news && session.presence {
        live::announce(sessions.store.as_ref(), &io, user, true).await;
    }
    if session.presence {
        let peers = live::online_peers(
            sessions.store.as_ref(),
            &io,
            &sessions.bus,
            &sessions.online,
            user,
        )
        .await;
        for peer in peers {
            let _ = socket.emit(PRESENCE, &peer);
        }
    }
}

/// A socket closed: if it was its user's last, they go offline once
/// [`PRESENCE_GRACE`] has passed without another.
async fn on_disconnect(socket: Socket, io: Io, State(sessions): State<Sessions>) {
    let Some(session) = socket.extensions.get::<SocketSession>() else {
        return;
    };
    let user = session.user;
    let Some(generation) = sessions.online.disconnected(user) else {
        return;
    };
    tokio::spawn(async move {
        tokio::time::sleep(PRESENCE_GRACE).await;
        if !sessions.online.expire(user, generation) {
            return;
        }
        // Still connected through another node: online.
        let anywhere = live::online_anywhere(&io, &sessions.bus, &sessions.online, &[user]).await;
        if !anywhere.is_empty() {
            return;
        }
        // What they share now (they may have changed it meanwhile).
        let shares = match sessions.store.user_by_id(user).await {
            Ok(found) => found.is_some_and(|u| u.sharing.presence),
            Err(_) => session.presence,
        };
        if shares {
            live::announce(sessions.store.as_ref(), &io, user, false).await;
        }
    });
}

fn error_ack(error: ErrorCode) -> RoomAck {
    RoomAck::Error { error }
}

/// Counts one event of the socket against `socket_events_per_minute`: the
/// session it runs under, or the error ack to answer instead.
fn admit(socket: &Socket, events: Rate) -> Result<SocketSession, RoomAck> {
    let session = socket
        .extensions
        .get::<SocketSession>()
        .ok_or(error_ack(ErrorCode::Unauthorized))?;
    match session.counters.events.take(events) {
        Ok(()) => Ok(session),
        Err(_) => Err(error_ack(ErrorCode::RateLimited)),
    }
}

/// `join-conversation` (a conversation id): members only.
async fn on_join(
    socket: Socket,
    TryData(id): TryData<ConversationId>,
    ack: Ack,
    State(sessions): State<Sessions>,
) {
    let answer = match (admit(&socket, sessions.events), id) {
        (Err(refused), _) => refused,
        (Ok(_), Err(_)) => error_ack(ErrorCode::InvalidRequest),
        (Ok(session), Ok(id)) => match sessions.store.is_member(id, session.user).await {
            Ok(true) => {
                socket.join(protocol::conversation_room(id));
                RoomAck::Ok { ok: true }
            }
            Ok(false) => error_ack(ErrorCode::NotAMember),
            Err(_) => error_ack(ErrorCode::StoreUnavailable),
        },
    };
    let _ = ack.send(&answer);
}

/// `typing` (`{conversation_id}`): relayed to the conversation's room but
/// this socket, as `{conversation_id, user_id}`, if the socket is in that
/// room (its user is a member) and relayed none in the last
/// [`TYPING_EVERY`]; otherwise dropped. Never stored, never acked. When
/// the room heard a relay less than a second ago
/// ([`WINDOW`](super::typing::WINDOW)), it waits for the window's end and
/// goes to the whole room with the others who typed meanwhile, in one
/// event ([`TypingRelay`]).
async fn on_typing(
    socket: Socket,
    io: Io,
    TryData(typing): TryData<TypingIn>,
    State(sessions): State<Sessions>,
) {
    let (Ok(session), Ok(typing)) = (admit(&socket, sessions.events), typing) else {
        return;
    };
    let room = protocol::conversation_room(typing.conversation_id);
    if !socket.rooms().iter().any(|r| *r == room) {
        return;
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let typed = &session.counters.typed;
    let last = typed.load(Ordering::Relaxed);
    let every = TYPING_EVERY.as_millis() as u64;
    if now.saturating_sub(last) < every
        || typed
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    let conversation = typing.conversation_id;
    let relay = &sessions.typing;
    match relay.heard(conversation, session.user, Instant::now()) {
        Heard::Now => {
            let relayed = Typing {
                conversation_id: conversation,
                user_id: session.user,
                user_ids: Vec::new(),
            };
            if let Err(e) = socket.to(room).emit(TYPING, &relayed).await {
                tracing::debug!(sid = %socket.id, error = %e, "typing not relayed");
            }
        }
        Heard::FlushAt(at) => {
            let relay = relay.clone();
            tokio::spawn(async move {
                tokio::time::sleep_until(at.into()).await;
                let user_ids = relay.flush(conversation, Instant::now());
                let Some(&user_id) = user_ids.first() else {
                    return;
                };
                let relayed = Typing {
                    conversation_id: conversation,
                    user_id,
                    user_ids,
                };
                if let Some(sockets) = fanout::sockets(&io)
                    && let Err(e) = sockets.to(room).emit(TYPING, &relayed).await
                {
                    tracing::debug!(conversation = %conversation, error = %e, "typing not relayed");
                }
            });
        }
        Heard::Kept => {}
    }
}

/// Any other event: an error ack if it asked for one, and nothing else.
async fn on_unknown(socket: Socket, ack: Ack, State(sessions): State<Sessions>) {
    let answer = admit(&socket, sessions.events)
        .err()
        .unwrap_or(error_ack(ErrorCode::InvalidRequest));
    let _ = ack.send(&answer);
}

/// `leave-conversation` (a conversation id).
async fn on_leave(
    socket: Socket,
    TryData(id): TryData<ConversationId>,
    ack: Ack,
    State(sessions): State<Sessions>,
) {
    let answer = match (admit(&socket, sessions.events), id) {
        (Err(refused), _) => refused,
        (Ok(_), Err(_)) => error_ack(ErrorCode::InvalidRequest),
        (Ok(_), Ok(id)) => {
            socket.leave(protocol::conversation_room(id));
            RoomAck::Ok { ok: true }
        }
    };
    let _ = ack.send(&answer);
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::body::{Body, Bytes};
    use axum::extract::{ConnectInfo, OriginalUri};
    use axum::http::header::{HOST, USER_AGENT};

    use super::*;

    /// A request as hyper and the router leave it: URI and header values
    /// views into one read buffer, the connection's address and the
    /// original URI in its extensions.
    fn parsed(buffer: &Bytes, path: &str) -> Request {
        let at = |from: usize, len: usize| {
            HeaderValue::from_maybe_shared(buffer.slice(from..from + len)).unwrap()
        };
        let uri = Uri::from_maybe_shared(buffer.slice(0..path.len())).unwrap();
        let mut request = Request::builder()
            .uri(uri.clone())
            .body(Body::empty())
            .unwrap();
        let headers = request.headers_mut();
        headers.insert(HOST, at(path.len(), 9));
        let mut auth = at(path.len() + 9, 10);
        auth.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        headers.insert(SEC_WEBSOCKET_KEY, at(path.len() + 19, 24));
        headers.insert(USER_AGENT, at(path.len() + 43, 7));
        headers.append(COOKIE, at(path.len() + 50, 12));
        headers.append(COOKIE, at(path.len() + 62, 3));
        request.extensions_mut().insert(OriginalUri(uri));
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 4000))));
        request
    }

    const HEADERS: &str = "127.0.0.1Bearer abcdGhlIHNhbXBsZSBub25jZQ==Mozillahush_s=tokena=b";

    #[tokio::test]
    async fn a_socket_handshake_keeps_what_the_socket_layer_reads_as_its_own_copies() {
        let path = "/socket.io/?EIO=4&transport=websocket";
        let buffer = Bytes::from(format!("{path}{HEADERS}"));
        let request = detach_handshake(parsed(&buffer, path)).await;
        assert!(
            buffer.is_unique(),
            "the request still holds the read buffer"
        );
        assert_eq!(request.uri(), path);
        let headers = request.headers();
        assert_eq!(headers[AUTHORIZATION], "Bearer abc");
        assert!(headers[AUTHORIZATION].is_sensitive());
        assert_eq!(headers[SEC_WEBSOCKET_KEY], "dGhlIHNhbXBsZSBub25jZQ==");
        let cookies: Vec<_> = headers.get_all(COOKIE).iter().collect();
        assert_eq!(cookies, ["hush_s=token", "a=b"]);
        assert!(headers.get(HOST).is_none());
        assert!(headers.get(USER_AGENT).is_none());
        assert_eq!(headers.len(), 4);
        assert!(request.extensions().get::<OriginalUri>().is_none());
        assert!(
            request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .is_none()
        );
    }

    #[tokio::test]
    async fn other_requests_pass_untouched() {
        let path = "/api/messages/send";
        let buffer = Bytes::from(format!("{path}{HEADERS}"));
        let request = detach_handshake(parsed(&buffer, path)).await;
        assert!(!buffer.is_unique());
        assert_eq!(request.uri(), path);
        assert_eq!(request.headers().len(), 6);
        assert!(request.extensions().get::<OriginalUri>().is_some());
        assert!(
            request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .is_some()
        );
    }
}
