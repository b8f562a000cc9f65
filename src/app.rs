//! The Leptos app: the HTML shell the server renders, and the routes.
//! One component a file under `app/`.

mod auth_page;
mod brand;
pub mod chats;
mod flows;
mod not_found;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{Lazy, path};

use auth_page::{AuthPage, Mode};
use chats::ChatsRoute;
use not_found::NotFound;

/// The whole HTML document, rendered by the server for every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <meta name="description" content="Hush: end-to-end encrypted chat. Messages are encrypted in your browser; the server only relays ciphertext." />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HashedStylesheet options=options.clone() />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The root component, shared by the server render and the browser.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { "Hush".to_owned() } else { format!("{page} · Hush") }
        } />
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=|| view! { <AuthPage mode=Mode::SignIn /> } />
                <Route path=path!("/signup") view=|| view! { <AuthPage mode=Mode::SignUp /> } />
                // The signed-in app is its own part of the WASM (a build split
                // by route): the sign-in and sign-up pages never load it. Its
                // two panes are chosen inside it, so the part is one piece.
                <ParentRoute path=path!("/chats") view={Lazy::<ChatsRoute>::new()}>
                    <Route path=path!("") view=|| () />
                    <Route path=path!(":id") view=|| () />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
