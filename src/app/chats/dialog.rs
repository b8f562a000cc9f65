//! A modal dialog's frame, one for every dialog of the chat page: the
//! backdrop (a click on it closes), the box with its role and its label,
//! and Escape to close.

use leptos::prelude::*;

#[component]
pub fn Dialog(
    /// The id of the heading that names the dialog.
    labelled_by: &'static str,
    /// Classes beside `dialog`.
    #[prop(optional)]
    class: &'static str,
    close: impl Fn() + Clone + Send + Sync + 'static,
    children: Children,
) -> impl IntoView {
    let backdrop = close.clone();
    view! {
        <div class="dialog-backdrop" on:click=move |_| backdrop()></div>
        <div
            class=format!("dialog {class}")
            role="dialog"
            aria-modal="true"
            aria-labelledby=labelled_by
            on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                if ev.key() == "Escape" {
                    close();
                }
            }
        >
            {children()}
        </div>
    }
}
