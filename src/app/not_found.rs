//! The page for an address the app does not know.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::brand::Brand;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <main class="auth">
            <section class="card">
                <Brand />
                <h1 class="card-title">"Nothing here"</h1>
                <p class="lede">"This address does not lead anywhere in Hush."</p>
                <p class="switch"><A href="/">"Go to sign in"</A></p>
            </section>
        </main>
    }
}
