//! The product mark and name, as they head the sign-in card and the sidebar.

use leptos::prelude::*;

#[component]
pub fn Brand() -> impl IntoView {
    view! {
        <div class="brand">
            <svg class="brand-mark" viewBox="0 0 32 32" aria-hidden="true">
                <path
                    fill="currentColor"
                    d="M16 3C8.8 3 3 8.1 3 14.5c0 3.4 1.6 6.4 4.3 8.5L6 29l6.2-3.3c1.2.3 2.5.5 3.8.5 7.2 0 13-5.1 13-11.5S23.2 3 16 3Z"
                />
                <path
                    fill="var(--mark-cut)"
                    d="M12.5 13.5v-1.8a3.5 3.5 0 0 1 7 0v1.8h.7c.7 0 1.3.6 1.3 1.3v5.4c0 .7-.6 1.3-1.3 1.3h-8.4c-.7 0-1.3-.6-1.3-1.3v-5.4c0-.7.6-1.3 1.3-1.3h.7Zm1.8 0h3.4v-1.8a1.7 1.7 0 0 0-3.4 0v1.8Z"
                />
            </svg>
            <span class="brand-name">"Hush"</span>
        </div>
    }
}
