//! The "Members" dialog of a conversation: who is in it (from the signed
//! key set), adding people by username (anyone in it may), removing someone
//! (the creator only), and leaving. Each change is a new key made in this
//! browser, which only the people in the conversation then hold.

use leptos::prelude::*;

use super::dialog::Dialog;
use super::key_change::KeyChangeNotice;
use super::live;
use crate::model::conversation::MAX_MEMBERS;
use crate::model::ids::{ConversationId, UserId};
use crate::model::username;
use crate::screen::{KeyWarning, NameProblem};

#[component]
pub fn MembersDialog(
    id: ConversationId,
    /// Everyone in it, me included, as the signed key set names them.
    people: Vec<(UserId, String)>,
    me: Option<UserId>,
    /// Whether I created it (and so may remove people).
    creator: bool,
    close: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let name_error = RwSignal::new(None::<String>);
    let changed = RwSignal::new(None::<KeyWarning>);
    let busy = RwSignal::new(None::<&'static str>);
    let problem = RwSignal::new(None::<String>);
    let confirm_leave = RwSignal::new(false);
    let count = people.len();
    let known: Vec<String> = people.iter().map(|(_, name)| name.clone()).collect();

    let done = move |outcome: Result<(), String>| {
        busy.set(None);
        match outcome {
            Ok(()) => problem.set(None),
            Err(why) => problem.set(Some(why)),
        }
    };

    let add = move || {
        let text = typed.get_untracked();
        let name = match username::canonical(text.trim()) {
            Ok(name) => name,
            Err(e) => return name_error.set(Some(e.to_string())),
        };
        if known.contains(&name) {
            return name_error.set(Some(format!("{name} is already in this conversation.")));
        }
        if count >= MAX_MEMBERS {
            return name_error.set(Some(format!(
                "A conversation holds at most {MAX_MEMBERS} people."
            )));
        }
        busy.set(Some("Adding…"));
        changed.set(None);
        live::check_name(name, move |found| match found {
            Ok(user) => {
                typed.set(String::new());
                name_error.set(None);
                live::add_people(id, vec![user], done);
            }
            Err(NameProblem::Other(why)) => {
                busy.set(None);
                name_error.set(Some(why));
            }
            Err(NameProblem::Changed(warning)) => {
                busy.set(None);
                changed.set(Some(warning));
            }
        });
    };
    let add_again = add.clone();

    let close_leave = close.clone();
    let close_done = close.clone();
    let rows = people
        .into_iter()
        .map(|(member, name)| {
            let is_me = Some(member) == me;
            let label = name.clone();
            view! {
                <li class="member">
                    <span class="member-name">{name.clone()}</span>
                    {is_me.then(|| view! { <span class="member-you">"(you)"</span> })}
                    {(creator && !is_me).then(|| view! {
                        <button
                            type="button"
                            class="link-button member-remove"
                            aria-label=format!("Remove {label}")
                            disabled=move || busy.with(Option::is_some)
                            on:click=move |_| {
                                busy.set(Some("Removing…"));
                                live::remove_member(id, member, done);
                            }
                        >"Remove"</button>
                    })}
                </li>
            }
        })
        .collect_view();

    view! {
        <Dialog labelled_by="members-title" class="members" close=close.clone()>
            <h2 id="members-title" class="dialog-title">{format!("Members ({count})")}</h2>
            <ul class="member-list" aria-label="People in this conversation">{rows}</ul>
            <form class="form" on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                add();
            }>
                <div class="field">
                    <label for="add-member">"Add someone by username"</label>
                    <div class="add-row">
                        <input
                            id="add-member"
                            autocomplete="off"
                            autocapitalize="none"
                            spellcheck="false"
                            placeholder="username"
                            aria-invalid=move || name_error.with(Option::is_some).to_string()
                            aria-describedby="add-member-error"
                            prop:value=move || typed.get()
                            on:input=move |ev| {
                                typed.set(event_target_value(&ev));
                                name_error.set(None);
                            }
                        />
                        <button type="submit" class="secondary" disabled=move || busy.with(Option::is_some)>
                            "Add"
                        </button>
                    </div>
                    <p id="add-member-error" class="field-error" role="alert">{move || name_error.get()}</p>
                    <span class="field-hint">"They will read what is said from now on, not what was said before."</span>
                    {move || changed.get().map(|warning| {
                        let add_again = add_again.clone();
                        view! {
                            <KeyChangeNotice warning=warning accepted=move || {
                                changed.set(None);
                                add_again();
                            } />
                        }
                    })}
                </div>
            </form>
            <p class="form-status" role="status">{move || busy.get().map(str::to_owned).or_else(|| problem.get())}</p>
            <div class="dialog-actions">
                {move || if confirm_leave.get() {
                    let close_leave = close_leave.clone();
                    view! {
                        <p class="leave-confirm">"Leave? You will no longer get its messages."</p>
                        <button type="button" class="secondary" on:click=move |_| confirm_leave.set(false)>"Stay"</button>
                        <button type="button" class="danger" disabled=move || busy.with(Option::is_some) on:click=move |_| {
                            busy.set(Some("Leaving…"));
                            let close_leave = close_leave.clone();
                            live::leave(id, move |outcome| {
                                let left = outcome.is_ok();
                                done(outcome);
                                if left {
                                    close_leave();
                                }
                            });
                        }>"Leave conversation"</button>
                    }.into_any()
                } else {
                    let close_done = close_done.clone();
                    view! {
                        <button type="button" class="danger-outline" on:click=move |_| confirm_leave.set(true)>"Leave…"</button>
                        <button type="button" class="primary" on:click=move |_| close_done()>"Done"</button>
                    }.into_any()
                }}
            </div>
        </Dialog>
    }
}
