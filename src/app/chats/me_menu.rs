//! The signed-in user's menu in the sidebar: who is signed in, the safety
//! number to compare with contacts, settings, and logging out.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::live;
use super::settings::SettingsDialog;
use crate::screen::Chats;

#[component]
pub fn MeMenu() -> impl IntoView {
    let chats = expect_context::<Chats>();
    let open = RwSignal::new(false);
    let leaving = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let settings = RwSignal::new(false);
    let navigate = use_navigate();
    let name = move || {
        chats
            .me
            .with(|me| me.as_ref().map(|m| m.username.clone()).unwrap_or_default())
    };

    let log_out = move |_| {
        leaving.set(true);
        let navigate = navigate.clone();
        live::log_out(move |outcome| match outcome {
            Ok(()) => navigate("/", Default::default()),
            Err(why) => {
                leaving.set(false);
                problem.set(Some(why));
            }
        });
    };

    view! {
        <div class="me">
            <button
                type="button"
                class="me-button"
                aria-expanded=move || open.get().to_string()
                aria-controls="me-menu"
                aria-label=move || format!("Account: {}", name())
                on:click=move |_| open.update(|o| *o = !*o)
            >
                <span class="me-name">{name}</span>
                <svg viewBox="0 0 16 16" aria-hidden="true" class="chevron">
                    <path d="M4 6l4 4 4-4" fill="none" stroke="currentColor" stroke-width="1.6" />
                </svg>
            </button>
            <div id="me-menu" class="me-menu" hidden=move || !open.get()>
                <h2 class="me-title">"Signed in as " <span class="who">{name}</span></h2>
                <div class="fingerprint">
                    <span class="fingerprint-label">"Safety number"</span>
                    <code data-testid="safety-number">
                        {move || chats.me.with(|me| me.as_ref().map(|m| m.fingerprint.clone()))}
                    </code>
                    <span class="field-hint">"The same on every device you sign in to. Compare it with your contacts."</span>
                </div>
                <button type="button" class="secondary" on:click=move |_| {
                    open.set(false);
                    settings.set(true);
                }>"Settings"</button>
                <button type="button" class="secondary" disabled=move || leaving.get() on:click=log_out>
                    {move || if leaving.get() { "Logging out…" } else { "Log out" }}
                </button>
                <p class="form-status" role="status">{move || problem.get()}</p>
            </div>
            <Show when=move || settings.get()>
                <SettingsDialog close=move || settings.set(false) />
            </Show>
        </div>
    }
}
