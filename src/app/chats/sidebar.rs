//! The sidebar: the product name and my menu, the connection state, the
//! "New conversation" button, and the conversation list, newest activity
//! first, with each one's last message (opened in this browser), its time,
//! its unread count, and whether a 1:1's other person is online.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use super::avatar::Avatar;
use super::live;
use super::me_menu::MeMenu;
use super::new_conversation::NewConversation;
use crate::app::brand::Brand;
use crate::screen::{Body, Chats, LinkState, Summary};

#[component]
pub fn Sidebar() -> impl IntoView {
    let chats = expect_context::<Chats>();
    let composing = RwSignal::new(false);
    view! {
        <aside class="sidebar" aria-label="Conversations">
            <header class="sidebar-head">
                <Brand />
                <MeMenu />
            </header>
            <LinkBadge />
            <button type="button" class="primary new-chat" on:click=move |_| composing.set(true)>
                "New conversation"
            </button>
            <Show when=move || composing.get()>
                <NewConversation close=move || composing.set(false) />
            </Show>
            <nav class="chat-list-nav">
                <Show
                    when=move || !chats.list.with(Vec::is_empty)
                    fallback=move || {
                        view! {
                            <p class="chat-list-empty">
                                {move || {
                                    if chats.loaded.get() {
                                        "No conversations yet. Start one with someone's username."
                                    } else {
                                        "Loading your conversations…"
                                    }
                                }}
                            </p>
                        }
                    }
                >
                    <ul class="chat-list">
                        <For
                            each=move || chats.list.get()
                            key=|s| (s.id, s.name.clone(), s.group, s.problem.is_some(), s.warning.is_some())
                            children=move |s| view! { <ChatItem summary=s /> }
                        />
                    </ul>
                </Show>
            </nav>
        </aside>
    }
}

/// The connection: a dot and a word.
#[component]
fn LinkBadge() -> impl IntoView {
    let chats = expect_context::<Chats>();
    let state = move || match chats.link.get() {
        LinkState::Connecting => ("connecting", "Connecting…".to_owned()),
        LinkState::CatchingUp => ("catching-up", "Catching up…".to_owned()),
        LinkState::Connected => ("connected", "Connected".to_owned()),
        LinkState::Reconnecting { retry_in_secs } => (
            "reconnecting",
            format!("Reconnecting (next try in {retry_in_secs} s)"),
        ),
        LinkState::Offline => ("offline", "Offline".to_owned()),
        LinkState::SignedOut => ("offline", "Signed out".to_owned()),
    };
    view! {
        <p class="link-state" data-state=move || state().0 role="status" data-testid="link-state">
            <span class="dot" aria-hidden="true"></span>
            {move || state().1}
        </p>
    }
}

/// One conversation in the list.
#[component]
fn ChatItem(summary: Summary) -> impl IntoView {
    let chats = expect_context::<Chats>();
    let location = use_location();
    let id = summary.id;
    let href = format!("/chats/{id}");
    let here = {
        let href = href.clone();
        move || location.pathname.with(|p| *p == href)
    };
    let timeline = chats.timeline(id);
    let preview = move || {
        timeline.with(|t| {
            t.lines().iter().rev().find(|l| l.shown()).map(|line| {
                let text = match &line.body {
                    Body::Text(text) => text.clone(),
                    Body::Unverified => "Message could not be verified".to_owned(),
                    Body::Unreadable => "Message could not be read".to_owned(),
                    Body::Left | Body::Reaction { .. } => String::new(),
                };
                let who = if line.mine {
                    "You: ".to_owned()
                } else if summary.group {
                    format!("{}: ", line.sender)
                } else {
                    String::new()
                };
                (format!("{who}{text}"), live::local_time(&line.at))
            })
        })
    };
    let problem = summary.problem.clone().or_else(|| {
        summary
            .warning
            .as_ref()
            .map(|w| format!("{}'s keys changed: review before writing", w.name))
    });
    let warning = problem.is_some();
    let me = chats.me.get_untracked().map(|m| m.id);
    // A 1:1's other person: the dot says whether they are online.
    let other = (!summary.group)
        .then(|| summary.member_ids.iter().find(|m| Some(**m) != me).copied())
        .flatten();
    let online =
        Signal::derive(move || other.is_some_and(|o| chats.online.with(|on| on.contains(&o))));
    let unread = move || chats.unread(id).label();
    view! {
        <li>
            <A href=href attr:class="chat-item" attr:aria-current=move || here().then_some("page")>
                <Avatar name=summary.name.clone() seed=id.to_string() online=online />
                <span class="chat-item-text">
                    <span class="chat-item-top">
                        <span class="chat-name">{summary.name.clone()}</span>
                        <span class="chat-time">
                            {move || preview().map(|(_, t)| if t.day_label == "Today" { t.clock } else { t.day_label })}
                        </span>
                    </span>
                    <span class="chat-item-bottom">
                        <span class="chat-preview" class:warning=warning class:typing=move || !warning && chats.typing_in(id).is_some()>
                            {move || match (&problem, chats.typing_in(id), preview()) {
                                (Some(p), _, _) => p.clone(),
                                (None, Some(typing), _) => typing,
                                (None, None, Some((text, _))) => text,
                                (None, None, None) => "No messages yet".to_owned(),
                            }}
                        </span>
                        <Show when=move || unread().is_some()>
                            <span class="unread" data-testid="unread" aria-label=move || format!("{} unread", unread().unwrap_or_default())>
                                {unread}
                            </span>
                        </Show>
                    </span>
                </span>
            </A>
        </li>
    }
}
