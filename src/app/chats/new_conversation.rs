//! The "New conversation" dialog: add people by username (each checked as
//! it is added, with a clear error for an unknown name), an optional title,
//! then create. The keys are made in this browser (see `client::keyring`).

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::dialog::Dialog;
use super::key_change::KeyChangeNotice;
use super::live;
use crate::model::account::PublicUser;
use crate::model::conversation::{MAX_MEMBERS, MAX_TITLE_CHARS};
use crate::model::username;
use crate::screen::{KeyWarning, NameProblem};

#[component]
pub fn NewConversation(close: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let people = RwSignal::new(Vec::<PublicUser>::new());
    let typed = RwSignal::new(String::new());
    let title = RwSignal::new(String::new());
    let name_error = RwSignal::new(None::<String>);
    let changed = RwSignal::new(None::<KeyWarning>);
    let checking = RwSignal::new(false);
    let creating = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let input = NodeRef::<leptos::html::Input>::new();

    Effect::new(move |_| {
        if let Some(input) = input.get() {
            let _ = input.focus();
        }
    });

    let add = move || {
        let text = typed.get_untracked();
        let name = match username::canonical(text.trim()) {
            Ok(name) => name,
            Err(e) => return name_error.set(Some(e.to_string())),
        };
        if people.with_untracked(|p| p.iter().any(|u| u.username == name)) {
            return name_error.set(Some(format!("{name} is already added.")));
        }
        if people.with_untracked(Vec::len) + 1 >= MAX_MEMBERS {
            return name_error.set(Some(format!(
                "A conversation holds at most {MAX_MEMBERS} people."
            )));
        }
        checking.set(true);
        changed.set(None);
        live::check_name(name, move |found| {
            checking.set(false);
            match found {
                Ok(user) => {
                    people.update(|p| p.push(user));
                    typed.set(String::new());
                    name_error.set(None);
                }
                Err(NameProblem::Other(why)) => name_error.set(Some(why)),
                Err(NameProblem::Changed(warning)) => changed.set(Some(warning)),
            }
        });
    };

    let create = {
        let close = close.clone();
        move || {
            if people.with_untracked(Vec::is_empty) {
                return name_error.set(Some("Add at least one person.".into()));
            }
            creating.set(true);
            problem.set(None);
            let chosen_title =
                Some(title.get_untracked().trim().to_owned()).filter(|t| !t.is_empty());
            let navigate = navigate.clone();
            let close = close.clone();
            live::create(people.get_untracked(), chosen_title, move |outcome| {
                creating.set(false);
                match outcome {
                    Ok(id) => {
                        close();
                        navigate(&format!("/chats/{id}"), Default::default());
                    }
                    Err(why) => problem.set(Some(why)),
                }
            });
        }
    };

    let close_button = close.clone();
    view! {
        <Dialog labelled_by="new-chat-title" close=close.clone()>
            <h2 id="new-chat-title" class="dialog-title">"New conversation"</h2>
            <form class="form" on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                if typed.with_untracked(|t| !t.trim().is_empty()) { add() } else { create() }
            }>
                <div class="field">
                    <label for="add-person">"Add people by username"</label>
                    <div class="add-row">
                        <input
                            id="add-person"
                            node_ref=input
                            autocomplete="off"
                            autocapitalize="none"
                            spellcheck="false"
                            placeholder="username"
                            aria-invalid=move || name_error.with(Option::is_some).to_string()
                            aria-describedby="add-person-error"
                            prop:value=move || typed.get()
                            on:input=move |ev| {
                                typed.set(event_target_value(&ev));
                                name_error.set(None);
                            }
                        />
                        <button type="button" class="secondary" disabled=move || checking.get() on:click=move |_| add()>
                            {move || if checking.get() { "Checking…" } else { "Add" }}
                        </button>
                    </div>
                    <p id="add-person-error" class="field-error" role="alert">{move || name_error.get()}</p>
                    {move || changed.get().map(|warning| view! {
                        <KeyChangeNotice warning=warning accepted=move || {
                            changed.set(None);
                            add();
                        } />
                    })}
                </div>
                <ul class="chips" aria-label="People in the conversation">
                    <For
                        each=move || people.get()
                        key=|u| u.id
                        children=move |u| {
                            let id = u.id;
                            let name = u.username.clone();
                            view! {
                                <li class="chip">
                                    {u.username.clone()}
                                    <button
                                        type="button"
                                        class="chip-remove"
                                        aria-label=format!("Remove {name}")
                                        on:click=move |_| people.update(|p| p.retain(|x| x.id != id))
                                    >"×"</button>
                                </li>
                            }
                        }
                    />
                </ul>
                <div class="field">
                    <label for="chat-title">"Title " <span class="optional">"(optional)"</span></label>
                    <input
                        id="chat-title"
                        maxlength=MAX_TITLE_CHARS.to_string()
                        placeholder="e.g. Weekend plans"
                        prop:value=move || title.get()
                        on:input=move |ev| title.set(event_target_value(&ev))
                    />
                    <span class="field-hint">"The server can see titles and who is in a conversation, never what you write."</span>
                </div>
                <p class="form-status" role="status">{move || problem.get()}</p>
                <div class="dialog-actions">
                    <button type="button" class="secondary" on:click=move |_| close_button()>"Cancel"</button>
                    <button
                        type="button"
                        class="primary"
                        disabled=move || creating.get() || people.with(Vec::is_empty)
                        on:click={
                            let create = create.clone();
                            move |_| create()
                        }
                    >
                        {move || if creating.get() { "Creating keys…" } else { "Start conversation" }}
                    </button>
                </div>
            </form>
        </Dialog>
    }
}
