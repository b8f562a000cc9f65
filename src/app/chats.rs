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
use leptos_router::{LazyRoute, lazy_route};

use crate::screen::{Chats, pane_in_address};
use conversation::ConversationPane;
use sidebar::Sidebar;

/// The `/chats` route, loaded on its own: in a build split by route
/// (`cargo leptos build --split`) its code is a WASM part of its own, which
/// the server's page for `/chats` preloads and the other pages never ask for.
pub struct ChatsRoute;

#[lazy_route]
impl LazyRoute for ChatsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <ChatsPage /> }.into_any()
    }
}

/// The parent route: provides the state, starts the engine, lays out panes.
#[component]
fn ChatsPage() -> impl IntoView {
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
    // The tab's title carries the unread messages' count. The server reads
    // no signal for it: its list is always empty (the browser fills it), and
    // Leptos reads a page's title once the route's lazy part has been
    // awaited, outside the request's reactive arena, where reading one
    // panics or reads another request's.
    let title = move || {
        let unread = if cfg!(feature = "ssr") {
            0
        } else {
            chats.total_unread()
        };
        match unread {
            0 => "Chats".to_owned(),
            n => format!("({n}) Chats"),
        }
    };
    let location = use_location();
    let pane = Memo::new(move |_| location.pathname.with(|p| pane_in_address(p)));
    // The pane is rebuilt only between "a conversation" and "none": moving
    // from one conversation to another changes what the pane shows.
    let showing = Memo::new(move |_| pane.with(Option::is_some));
    let id = Signal::derive(move || pane.get().flatten());

    view! {
        <Title text=title />
        <div class="app" class:showing-conversation=showing>
            <Sidebar />
            <main class="pane">
                {move || {
                    if showing.get() {
                        view! { <ConversationPane id /> }.into_any()
                    } else {
                        view! { <NoConversation /> }.into_any()
                    }
                }}
                // The child routes render nothing (the pane is chosen above,
                // within this part of the WASM), but the router completes a
                // navigation, and so updates the address bar, only once the
                // new child's view has been rendered in an outlet.
                <Outlet />
            </main>
        </div>
    }
}

/// The pane when no conversation is open.
#[component]
fn NoConversation() -> impl IntoView {
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
