//! The settings dialog: what this user shares with the people they talk to
//! (read receipts, online status; stored on the server, both reciprocal),
//! and this browser's desktop notifications (asked for here, never on page
//! load) and whether they show the message's text.

use leptos::prelude::*;

use super::dialog::Dialog;
use super::live;
use crate::screen::{Chats, Notices, Sharing};

#[component]
pub fn SettingsDialog(close: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let chats = expect_context::<Chats>();
    let problem = RwSignal::new(None::<String>);
    let sharing = move || chats.sharing.get().unwrap_or_default();
    let share = move |change: fn(&mut Sharing, bool), on: bool| {
        let mut wanted = sharing();
        change(&mut wanted, on);
        problem.set(None);
        live::set_sharing(wanted, move |outcome| {
            if let Err(why) = outcome {
                problem.set(Some(why));
            }
        });
    };
    let notify = move |change: fn(&mut Notices, bool), on: bool| {
        let mut wanted = chats.notices.get_untracked();
        change(&mut wanted, on);
        problem.set(None);
        live::set_notices(wanted, move |outcome| {
            if let Err(why) = outcome {
                problem.set(Some(why));
            }
        });
    };
    let close_button = close.clone();
    view! {
        <Dialog labelled_by="settings-title" class="settings" close=close>
            <h2 id="settings-title" class="dialog-title">"Settings"</h2>
            <fieldset class="setting-group">
                <legend>"Privacy"</legend>
                <Toggle
                    name="receipts"
                    title="Read receipts"
                    hint="Others see when you have read their messages. Off, you see nobody's either."
                    checked=Signal::derive(move || sharing().receipts)
                    disabled=Signal::derive(move || chats.sharing.get().is_none())
                    set=move |on| share(|s, on| s.receipts = on, on)
                />
                <Toggle
                    name="presence"
                    title="Online status"
                    hint="People you talk to see when you are online. Off, you see nobody's either."
                    checked=Signal::derive(move || sharing().presence)
                    disabled=Signal::derive(move || chats.sharing.get().is_none())
                    set=move |on| share(|s, on| s.presence = on, on)
                />
            </fieldset>
            <fieldset class="setting-group">
                <legend>"Notifications in this browser"</legend>
                <Toggle
                    name="notifications"
                    title="Desktop notifications"
                    hint="When this tab is hidden, a new message raises a notification saying who wrote."
                    checked=Signal::derive(move || chats.notices.get().enabled)
                    disabled=Signal::derive(|| false)
                    set=move |on| notify(|n, on| n.enabled = on, on)
                />
                <Toggle
                    name="previews"
                    title="Show message text"
                    hint="Off, a notification never shows what was written: anyone near your screen could read it."
                    checked=Signal::derive(move || chats.notices.get().previews)
                    disabled=Signal::derive(move || !chats.notices.get().enabled)
                    set=move |on| notify(|n, on| n.previews = on, on)
                />
            </fieldset>
            <p class="form-status" role="alert">{move || problem.get()}</p>
            <div class="dialog-actions">
                <button type="button" class="secondary" on:click=move |_| close_button()>"Done"</button>
            </div>
        </Dialog>
    }
}

/// One setting: a checkbox, its name and what it means.
#[component]
fn Toggle(
    name: &'static str,
    title: &'static str,
    hint: &'static str,
    checked: Signal<bool>,
    disabled: Signal<bool>,
    set: impl Fn(bool) + 'static,
) -> impl IntoView {
    view! {
        <label class="setting">
            <input
                type="checkbox"
                name=name
                prop:checked=move || checked.get()
                disabled=move || disabled.get()
                on:change=move |ev| set(event_target_checked(&ev))
            />
            <span>
                {title}
                <small>{hint}</small>
            </span>
        </label>
    }
}
