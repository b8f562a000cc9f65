//! The signed-in app at `/chats`: the sidebar (who I am, the connection,
//! the conversation list) beside the open conversation (`/chats/{id}`).
//! From 768 px up both panes show; below, one at a time. The page's state
//! lives in [`crate::screen::Chats`], filled by the browser engine through [`live`].

mod avatar;
mod composer;
mod conversation;
mod dialog;
mod key_change;
pub mod live;
mod me_menu;
mod members;
mod new_conversation;
mod settings;
mod sidebar;
mod timeline;
mod verify;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Outlet;
use leptos_router::hooks::{use_location, use_navigate};

use crate::screen::Chats;
pub use conversation::ConversationPane;
use sidebar::Sidebar;

/// The parent route: provides the state, starts the engine, lays out panes.
#[component]
pub fn ChatsPage() -> impl IntoView {
    let chats = Chats::new();
    provide_context(chats);
    let navigate = use_navigate();
    Effect::new(move |_| {
        let navigate = navigate.clone();
        live::start(chats, move || navigate("/", Default::default()));
    });
    on_cleanup(live::stop);
    // A notification was clicked: its conversation opens.
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(id) = chats.go_to.get() {
            chats.go_to.set(None);
            navigate(&format!("/chats/{id}"), Default::default());
        }
    });
    // The tab's title carries the unread messages' count.
    let title = move || match chats.total_unread() {
        0 => "Chats".to_owned(),
        n => format!("({n}) Chats"),
    };
    let location = use_location();
    let open = move || {
        location
            .pathname
            .with(|p| p.trim_end_matches('/') != "/chats")
    };

    view! {
        <Title text=title />
        <div class="app" class:showing-conversation=open>
            <Sidebar />
            <main class="pane">
                <Outlet />
            </main>
        </div>
    }
}

/// The pane when no conversation is open.
#[component]
pub fn NoConversation() -> impl IntoView {
    let chats = expect_context::<Chats>();
    view! {
        <div class="pane-empty">
            {move || {
                if chats.list.with(Vec::is_empty) {
                    view! {
                        <h2>"Start your first conversation"</h2>
                        <p>"Choose “New conversation” and add someone by their username. Everything you write is encrypted in this browser before it leaves."</p>
                    }
                        .into_any()
                } else {
                    view! {
                        <h2>"Pick a conversation"</h2>
                        <p>"Messages are end-to-end encrypted: only the people in a conversation can read them."</p>
                    }
                        .into_any()
                }
            }}
        </div>
    }
}
