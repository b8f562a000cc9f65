//! The composer: a textarea that grows to a few lines; Enter sends,
//! Shift+Enter starts a new line; the send button is disabled while empty.
//! Typing tells the others (at most every two seconds). A paused composer
//! says why and sends nothing.

use leptos::prelude::*;

use super::live;
use crate::model::ids::ConversationId;

/// Most lines the textarea grows to before it scrolls.
const MAX_ROWS: usize = 6;

#[component]
pub fn Composer(id: ConversationId, paused: Option<String>) -> impl IntoView {
    let is_paused = paused.is_some();
    let text = RwSignal::new(String::new());
    let area = NodeRef::<leptos::html::Textarea>::new();
    let blank = move || text.with(|t| t.trim().is_empty());
    let rows = move || {
        text.with(|t| {
            t.lines().count().clamp(1, MAX_ROWS)
                + usize::from(t.ends_with('\n') && t.lines().count() < MAX_ROWS)
        })
    };

    let send = move || {
        let body = text.get_untracked();
        if is_paused || body.trim().is_empty() {
            return;
        }
        live::send(id, body.trim_end().to_owned());
        text.set(String::new());
        if let Some(area) = area.get_untracked() {
            area.set_value("");
            let _ = area.focus();
        }
    };

    view! {
        <form class="composer" on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            send();
        }>
            <label for="compose" class="visually-hidden">"Message"</label>
            <textarea
                id="compose"
                node_ref=area
                rows=move || rows().to_string()
                placeholder=paused.unwrap_or_else(|| "Write a message".to_owned())
                disabled=is_paused
                prop:value=move || text.get()
                on:input=move |ev| {
                    let typed = event_target_value(&ev);
                    if !typed.trim().is_empty() {
                        live::typing(id);
                    }
                    text.set(typed);
                }
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        send();
                    }
                }
            ></textarea>
            <button type="submit" class="send" disabled=move || is_paused || blank() aria-label="Send">
                <svg viewBox="0 0 24 24" aria-hidden="true">
                    <path d="M3.4 20.4 21 12 3.4 3.6l-.1 6.5L15 12 3.3 13.9Z" fill="currentColor" />
                </svg>
            </button>
        </form>
    }
}
