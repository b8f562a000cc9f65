//! The Socket.IO side: the namespace `/` on the path `/socket.io/`, every
//! handler registered here, in one place.
//!
//! No socket may sit connected without a valid session: the connect
//! middleware decides before any handler runs, and a refusal reaches the
//! client as a `connect_error`. Checking the handshake's token arrives with
//! the conversations work; until then every connect is refused.

use socketioxide::SocketIo;
use socketioxide::extract::SocketRef;
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;

/// Why a connection was refused; the text is what the client's
/// `connect_error` carries.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("unauthorized")]
    Unauthorized,
}

/// Builds the Socket.IO layer for the router and the handle used to emit.
pub fn layer() -> (SocketIoLayer, SocketIo) {
    let (layer, io) = SocketIo::builder().build_layer();
    io.ns("/", on_connect.with(authenticate));
    (layer, io)
}

/// Connect middleware: admits a socket only with a valid session.
async fn authenticate(_socket: SocketRef) -> Result<(), Refusal> {
    Err(Refusal::Unauthorized)
}

async fn on_connect(socket: SocketRef) {
    tracing::debug!(sid = %socket.id, "socket connected");
}
