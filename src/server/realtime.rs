//! The Socket.IO side: the namespace `/` on the path `/socket.io/`, every
//! handler registered here, in one place.
//!
//! No socket may sit connected without a valid session: the connect
//! middleware checks the handshake's token (`auth: {token}`, else the
//! session cookie) before any handler runs; a refusal reaches the client as
//! a `connect_error` with the message `unauthorized`. An admitted socket
//! joins its user's room, `user:{id}`, which logout empties at once.

use std::sync::Arc;

use serde::Deserialize;
use socketioxide::SocketIo;
use socketioxide::extract::{SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;

use super::accounts;
use super::auth::secrets::ServerSecrets;
use super::request::token_in;
use super::store::Store;
use crate::model::ids::UserId;

/// Why a connection was refused; the text is what the client's
/// `connect_error` carries.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("unauthorized")]
    Unauthorized,
}

/// What the socket handlers need to check sessions.
#[derive(Clone)]
struct Sessions {
    store: Arc<dyn Store>,
    secrets: Arc<ServerSecrets>,
}

/// The handshake's `auth` payload.
#[derive(Debug, Deserialize)]
struct HandshakeAuth {
    token: Option<String>,
}

/// The room of every socket of one user.
pub fn user_room(user: UserId) -> String {
    format!("user:{user}")
}

/// Builds the Socket.IO layer for the router and the handle used to emit.
pub fn layer(store: Arc<dyn Store>, secrets: Arc<ServerSecrets>) -> (SocketIoLayer, SocketIo) {
    let (layer, io) = SocketIo::builder()
        .with_state(Sessions { store, secrets })
        .build_layer();
    io.ns("/", on_connect.with(authenticate));
    (layer, io)
}

/// Connect middleware: admits a socket only with a valid session.
async fn authenticate(
    socket: SocketRef,
    TryData(auth): TryData<HandshakeAuth>,
    State(sessions): State<Sessions>,
) -> Result<(), Refusal> {
    let token = auth
        .ok()
        .and_then(|a| a.token)
        .or_else(|| token_in(&socket.req_parts().headers))
        .ok_or(Refusal::Unauthorized)?;
    let user = accounts::authenticate(sessions.store.as_ref(), &sessions.secrets, &token)
        .await
        .map_err(|_| Refusal::Unauthorized)?;
    socket.extensions.insert(user.id);
    socket.join(user_room(user.id));
    Ok(())
}

async fn on_connect(socket: SocketRef) {
    tracing::debug!(sid = %socket.id, "socket connected");
}
