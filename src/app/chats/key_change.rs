//! The warning for a key change the contact book holds (`crypto::pins`):
//! in red and in plain words, in every conversation with that person and in
//! the new-conversation dialog, with the way to accept it behind a second,
//! plainer warning. Hush has no key reset, so a change is always alarming.

use leptos::prelude::*;

use super::live;
use crate::screen::KeyWarning;

/// The notice; `accepted` runs once the user accepts the change.
#[component]
pub fn KeyChangeNotice(
    warning: KeyWarning,
    #[prop(optional, into)] accepted: Option<Callback<()>>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let KeyWarning { pinned, name, text } = warning;
    let accept = move |_| {
        live::accept_change(pinned);
        confirming.set(false);
        if let Some(accepted) = accepted {
            accepted.run(());
        }
    };
    let held = format!(
        "Hush never changes anyone's keys, so this most likely means the server, or someone controlling it, \
         is trying to read or forge what you and {name} say. Nothing is sent to {name} until you decide. \
         Ask {name}, in person or another way, before you accept."
    );
    let consequence = format!(
        "Accept only if {name} confirms it. From now on what you send is encrypted to the new keys, \
         and {name} is no longer marked verified."
    );
    view! {
        <div class="key-change" role="alert">
            <p class="key-change-title">{text}</p>
            <p>{held}</p>
            <Show
                when=move || confirming.get()
                fallback=move || view! {
                    <button type="button" class="secondary" on:click=move |_| confirming.set(true)>
                        "Review the change"
                    </button>
                }
            >
                <p class="key-change-confirm">{consequence.clone()}</p>
                <div class="key-change-actions">
                    <button type="button" class="danger" on:click=accept>"Accept the new keys"</button>
                    <button type="button" class="secondary" on:click=move |_| confirming.set(false)>
                        "Keep blocked"
                    </button>
                </div>
            </Show>
        </div>
    }
}
