//! Hush: end-to-end encrypted, real-time chat.
//!
//! One crate, two builds. With feature `ssr` it is the server (axum,
//! socketioxide, sqlx) that renders the pages, serves the JSON API and relays
//! ciphertext; with feature `hydrate` it is the browser app (WASM) that holds
//! the keys and does all encryption. Modules shared by both compile for both
//! targets; server-only and browser-only modules are gated as a whole.

// Leptos view types nest deeply; the page components need more room.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
#[cfg(feature = "hydrate")]
pub mod client;
pub mod crypto;
pub mod delivery;
#[cfg(any(test, feature = "fuzz"))]
pub mod fuzzing;
pub mod model;
pub mod protocol;
pub mod screen;

#[cfg(feature = "ssr")]
pub mod server;

/// The browser entry point: takes over the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // What a chat page waits for first goes out before hydration holds the
    // page's one thread.
    client::engine::boot();
    client::service_worker::register();
    // Lazily: the `/chats` route is a part of its own (`app::chats::ChatsRoute`),
    // loaded before the page it rendered is taken over.
    leptos::mount::hydrate_lazy(app::App);
}
