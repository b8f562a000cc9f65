//! The state every axum handler and server function can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::auth::recent::RecentUsers;
use super::auth::secrets::ServerSecrets;
use super::epoch_changes::EpochChanges;
use super::fanout::{Bus, Io};
use super::presence::Presence;
use super::rate::{self, Action, Limiter};
use super::settings::Settings;
use super::store::Store;
use super::throttle::Throttle;
use super::typing::TypingRelay;
use crate::model::error::ApiError;
use crate::model::ids::UserId;

/// Shared, cheaply cloned server state; handlers extract the part they need.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub secrets: Arc<ServerSecrets>,
    pub throttle: Arc<Throttle>,
    /// Sends, lookups, reads and creates per user.
    pub limiter: Arc<Limiter>,
    /// Users behind recently checked sessions (shared with the sockets).
    pub recent: Arc<RecentUsers>,
    /// For emitting to rooms and closing sockets from HTTP handlers.
    pub io: Io,
    /// Where emits go besides this node's sockets (for `/healthz`).
    pub bus: Bus,
    /// Epoch changes recently read, for every member catching up at once.
    pub epoch_changes: Arc<EpochChanges>,
    /// Who is online on this node (shared with the sockets).
    pub online: Arc<Presence>,
    /// Typing relays, coalesced per conversation (shared with the
    /// sockets): a stored message takes its sender out of the next flush.
    pub typing: Arc<TypingRelay>,
}

impl AppState {
    /// Counts one `action` by `user` against its setting, or 429.
    pub fn limit(&self, user: UserId, action: Action) -> Result<(), ApiError> {
        let settings = &self.settings;
        let rate = match action {
            Action::Send => settings.sends_per_minute,
            Action::Lookup => settings.lookups_per_minute,
            Action::Read => settings.reads_per_minute,
            Action::Create => settings.creates_per_minute,
        };
        self.limiter
            .take(user, action, rate)
            .map_err(|wait| rate::refused(action, wait))
    }
}
