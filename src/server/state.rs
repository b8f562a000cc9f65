//! The state every axum handler and server function can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::auth::recent::RecentUsers;
use super::auth::secrets::ServerSecrets;
use super::epoch_changes::EpochChanges;
use super::fanout::{self, Adapter, Bus, Io};
use super::presence::Presence;
use super::rate::{self, Action, Limiter};
use super::settings::Settings;
use super::store::Store;
use super::throttle::Throttle;
use super::typing::TypingRelay;
use crate::model::error::ApiError;
use crate::model::ids::UserId;
use socketioxide::operators::BroadcastOperators;

/// The rooms an emit goes to: one, or several.
pub struct Rooms(Vec<String>);

impl From<String> for Rooms {
    fn from(room: String) -> Self {
        Rooms(vec![room])
    }
}

impl From<Vec<String>> for Rooms {
    fn from(rooms: Vec<String>) -> Self {
        Rooms(rooms)
    }
}

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
    /// Emits to `rooms`: on every node through Redis, or, on one node, to
    /// this node's sockets without the adapter's encoding for other nodes
    /// (a change in a group of 1,000 emits to each member's room). `None`
    /// once the socket layer has closed ([`fanout::sockets`]).
    pub fn to(&self, rooms: impl Into<Rooms>) -> Option<BroadcastOperators<Adapter>> {
        let to = fanout::sockets(&self.io)?.to(rooms.into().0);
        Some(if matches!(self.bus, Bus::Solo) {
            to.local()
        } else {
            to
        })
    }

    /// The sockets in `rooms` on every node, to join them to a room, take
    /// them out of one or close them; `None` once the socket layer has
    /// closed ([`fanout::sockets`]).
    pub fn within(&self, rooms: impl Into<Rooms>) -> Option<BroadcastOperators<Adapter>> {
        Some(fanout::sockets(&self.io)?.within(rooms.into().0))
    }

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
