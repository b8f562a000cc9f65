//! The open conversation (`/chats/{id}`): a header with the name and the
//! members, the timeline, and the composer. A conversation whose keys did
//! not check out shows why, and cannot be written to.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::avatar::Avatar;
use super::composer::Composer;
use super::timeline::Timeline;
use crate::model::ids::ConversationId;
use crate::screen::Chats;

#[component]
pub fn ConversationPane() -> impl IntoView {
    let chats = expect_context::<Chats>();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<ConversationId>().ok()));
    view! {
        {move || {
            let Some(id) = id() else {
                return view! { <div class="pane-empty"><h2>"No such conversation"</h2></div> }.into_any();
            };
            // Only what the pane shows: activity in the list (a new message,
            // a reorder) must not rebuild the pane and its timeline.
            let header = Memo::new(move |_| {
                chats
                    .summary(id)
                    .map(|s| (s.name, s.members, s.group, s.problem))
            });
            let summary = move || header.get();
            view! {
                <Show
                    when=move || summary().is_some()
                    fallback=move || view! {
                        <div class="pane-empty">
                            <p>{move || if chats.loaded.get() { "This conversation is not in your list." } else { "Opening…" }}</p>
                        </div>
                    }
                >
                    {move || summary().map(|(name, members, group, problem)| {
                        let members = members.join(", ");
                        view! {
                            <section class="conversation" aria-labelledby="conversation-title">
                                <header class="conversation-head">
                                    <A href="/chats" attr:class="back" attr:aria-label="Back to conversations">
                                        <svg viewBox="0 0 20 20" aria-hidden="true"><path d="M12.5 4 6.5 10l6 6" fill="none" stroke="currentColor" stroke-width="2" /></svg>
                                    </A>
                                    <Avatar name=name.clone() seed=id.to_string() />
                                    <div class="conversation-head-text">
                                        <h1 id="conversation-title">{name.clone()}</h1>
                                        <p class="members">{members}</p>
                                    </div>
                                </header>
                                {match problem {
                                    Some(why) => view! { <p class="conversation-problem" role="alert">{why}</p> }.into_any(),
                                    None => view! {
                                        <Timeline id=id group=group />
                                        <Composer id=id />
                                    }.into_any(),
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
