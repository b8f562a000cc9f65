//! The open conversation (`/chats/{id}`): a header with the name and the
//! members (and a "Members" dialog to add, remove or leave), the timeline,
//! and the composer. A conversation whose keys did not check out shows why,
//! and cannot be written to; one with a member whose key change waits for
//! the user shows the warning, and its composer is paused until the change
//! is accepted; one the user is no longer in keeps what it showed,
//! read-only, and offers to delete it here.

use leptos::prelude::*;
use leptos_router::components::A;

use super::avatar::Avatar;
use super::composer::Composer;
use super::key_change::KeyChangeNotice;
use super::live;
use super::members::MembersDialog;
use super::timeline::Timeline;
use super::verify::VerifyDialog;
use crate::model::ids::{ConversationId, UserId};
use crate::screen::Chats;

/// `id` is the conversation the address names, `None` when it names none.
#[component]
pub fn ConversationPane(#[prop(into)] id: Signal<Option<ConversationId>>) -> impl IntoView {
    let chats = expect_context::<Chats>();
    view! {
        {move || {
            let Some(id) = id.get() else {
                return view! { <div class="pane-empty"><h2>"No such conversation"</h2></div> }.into_any();
            };
            // Only what the pane shows: activity in the list (a new message,
            // a reorder) must not rebuild the pane and its timeline.
            let header = Memo::new(move |_| {
                chats
                    .summary(id)
                    .map(|s| {
                        let people: Vec<(UserId, String)> =
                            s.member_ids.into_iter().zip(s.members).collect();
                        (s.name, people, s.group, s.problem, s.warning, s.created_by, s.gone)
                    })
            });
            let summary = move || header.get();
            // The verified marks change without rebuilding the pane.
            let verified = Memo::new(move |_| chats.summary(id).map(|s| s.verified).unwrap_or_default());
            let verifying = RwSignal::new(false);
            let managing = RwSignal::new(false);
            // On screen: what it shows is read while the tab is visible.
            chats.open.set(Some(id));
            on_cleanup(move || {
                if chats.open.get_untracked() == Some(id) {
                    chats.open.set(None);
                }
            });
            let timeline = chats.timeline(id);
            Effect::new(move |_| {
                let readable = header.with(|h| h.as_ref().is_some_and(|h| h.3.is_none() && h.6.is_none()));
                let last = timeline.with(|t| t.last_seq());
                if readable && chats.visible.get() && last > 0 {
                    live::read_up_to(id, last);
                }
            });
            view! {
                <Show
                    when=move || summary().is_some()
                    fallback=move || view! {
                        <div class="pane-empty">
                            <p>{move || if chats.loaded.get() { "This conversation is not in your list." } else { "Opening…" }}</p>
                        </div>
                    }
                >
                    {move || summary().map(|(name, people, group, problem, warning, created_by, gone)| {
                        let me = chats.me.get_untracked().map(|m| m.id);
                        let creator = me == Some(created_by);
                        let can_manage = problem.is_none() && gone.is_none();
                        let everyone = people.clone();
                        let others: Vec<(UserId, String)> =
                            people.iter().filter(|(id, _)| Some(*id) != me).cloned().collect();
                        let can_verify = !others.is_empty() && problem.is_none();
                        // A 1:1's other person: "online" while they are.
                        let other = (!group).then(|| others.first().map(|(id, _)| *id)).flatten();
                        let online = Signal::derive(move || other.is_some_and(|o| chats.online.with(|on| on.contains(&o))));
                        let members = people
                            .iter()
                            .enumerate()
                            .map(|(at, (member, name))| {
                                let member = *member;
                                let mark = move || verified.with(|v| v.contains(&member));
                                view! {
                                    {(at > 0).then_some(", ")}
                                    {name.clone()}
                                    <Show when=mark>
                                        <span class="verified-badge" title="Verified" aria-label="verified">"✓"</span>
                                    </Show>
                                }
                            })
                            .collect_view();
                        view! {
                            <section class="conversation" aria-labelledby="conversation-title">
                                <header class="conversation-head">
                                    <A href="/chats" attr:class="back" attr:aria-label="Back to conversations">
                                        <svg viewBox="0 0 20 20" aria-hidden="true"><path d="M12.5 4 6.5 10l6 6" fill="none" stroke="currentColor" stroke-width="2" /></svg>
                                    </A>
                                    <Avatar name=name.clone() seed=id.to_string() online=online />
                                    <div class="conversation-head-text">
                                        <h1 id="conversation-title">{name.clone()}</h1>
                                        <p class="members">
                                            {members}
                                            <Show when=move || online.get()>
                                                <span class="presence" data-testid="presence">" · online"</span>
                                            </Show>
                                        </p>
                                    </div>
                                    <Show when=move || can_manage>
                                        <button type="button" class="secondary members-open" on:click=move |_| managing.set(true)>
                                            "Members"
                                        </button>
                                    </Show>
                                    <Show when=move || can_verify>
                                        <button type="button" class="secondary verify-open" on:click=move |_| verifying.set(true)>
                                            "Verify"
                                        </button>
                                    </Show>
                                </header>
                                <Show when=move || managing.get()>
                                    <MembersDialog
                                        id=id
                                        people=everyone.clone()
                                        me=me
                                        creator=creator
                                        close=move || managing.set(false)
                                    />
                                </Show>
                                <Show when=move || verifying.get()>
                                    <VerifyDialog people=others.clone() close=move || verifying.set(false) />
                                </Show>
                                {match (problem, gone) {
                                    (Some(why), _) => view! { <p class="conversation-problem" role="alert">{why}</p> }.into_any(),
                                    (None, Some(why)) => view! {
                                        <Timeline id=id group=group />
                                        <div class="conversation-gone" role="status">
                                            <p>{why}</p>
                                            <button type="button" class="secondary" on:click=move |_| live::forget(id)>
                                                "Delete from this browser"
                                            </button>
                                        </div>
                                    }.into_any(),
                                    (None, None) => {
                                        let paused = warning.as_ref().map(|w| {
                                            format!("Paused until you review the change to {}'s keys.", w.name)
                                        });
                                        view! {
                                            {warning.map(|w| view! { <KeyChangeNotice warning=w /> })}
                                            <Timeline id=id group=group />
                                            <p class="typing" aria-live="polite">{move || chats.typing_in(id)}</p>
                                            <Composer id=id paused=paused />
                                        }.into_any()
                                    }
                                }}
                            </section>
                        }
                    })}
                </Show>
            }
            .into_any()
        }}
    }
}
