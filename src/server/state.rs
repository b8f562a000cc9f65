//! The state every axum handler and server function can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use socketioxide::SocketIo;

use super::auth::recent::RecentUsers;
use super::auth::secrets::ServerSecrets;
use super::settings::Settings;
use super::store::Store;
use super::throttle::Throttle;

/// Shared, cheaply cloned server state; handlers extract the part they need.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub secrets: Arc<ServerSecrets>,
    pub throttle: Arc<Throttle>,
    /// Users behind recently checked sessions (shared with the sockets).
    pub recent: Arc<RecentUsers>,
    /// For emitting to rooms and closing sockets from HTTP handlers.
    pub io: SocketIo,
}
