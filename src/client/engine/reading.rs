//! Read positions, online status and notifications, for the engine
//! (DESIGN.md, "Live conversation (wire)"): positions from the list and
//! from `read` pushes (this user's other tabs included), told to the
//! server as the user reads, one request at a time per conversation; who
//! is online from `presence`; what this user shares from `settings`; and a
//! desktop notification when someone else's message comes while the tab
//! is hidden, naming who wrote, with its text only if the user chose
//! previews.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use super::{Engine, running};
use crate::api::{conversations, settings};
use crate::client::idb::{self, Store};
use crate::model::ids::ConversationId;
use crate::model::live::{Presence, Read, Sharing};
use crate::screen::{Body, Line, Notices};

impl Engine {
    /// Takes read positions (from a list or a push); the page shows them.
    pub(super) fn took_reads(&self, reads: &[Read]) {
        if reads.is_empty() {
            return;
        }
        let me = self.my_id;
        self.chats.reads.update(|all| {
            for read in reads {
                all.entry(read.conversation_id)
                    .or_default()
                    .raise(read.user_id, me, read.seq);
            }
        });
    }

    /// Someone came online or went offline.
    pub(super) fn heard_presence(&self, presence: Presence) {
        self.chats.online.update(|online| {
            if presence.online {
                online.insert(presence.user_id);
            } else {
                online.remove(&presence.user_id);
            }
        });
    }

    /// What this user shares changed (here or in another tab). Who stops
    /// sharing sees nobody's; who starts reads everyone's again.
    pub(super) fn took_sharing(self: &Rc<Self>, sharing: Sharing) {
        let before = self.chats.sharing.get_untracked();
        self.chats.sharing.set(Some(sharing));
        if !sharing.receipts {
            self.chats.reads.update(|all| {
                for reads in all.values_mut() {
                    reads.others.clear();
                }
            });
        } else if before.is_some_and(|b| !b.receipts) {
            self.feed(crate::delivery::Event::Refresh);
        }
        if !sharing.presence {
            self.chats.online.update(|o| o.clear());
        }
    }

    /// The user has read a conversation up to `seq`: shown at once, told
    /// to the server (the highest position wanted, one request at a time).
    pub(super) fn read_up_to(self: &Rc<Self>, conversation: ConversationId, seq: u64) {
        let raised = self
            .chats
            .reads
            .with_untracked(|all| all.get(&conversation).is_none_or(|r| r.mine < seq));
        if raised {
            self.took_reads(&[Read {
                conversation_id: conversation,
                user_id: self.my_id,
                seq,
            }]);
        }
        let next = self
            .markers
            .borrow_mut()
            .entry(conversation)
            .or_default()
            .want(seq);
        if let Some(seq) = next {
            self.send_read(conversation, seq);
        }
    }

    fn send_read(self: &Rc<Self>, conversation: ConversationId, seq: u64) {
        let engine = self.clone();
        spawn_local(async move {
            let stored = conversations::read(crate::model::live::MarkRead {
                conversation_id: conversation,
                seq,
            })
            .await
            .ok()
            .map(|at| at.seq);
            let next = engine
                .markers
                .borrow_mut()
                .entry(conversation)
                .or_default()
                .answered(stored);
            if let Some(seq) = next {
                engine.send_read(conversation, seq);
            }
        });
    }

    /// Reads what this user shares, once at start.
    pub(super) fn load_sharing(self: &Rc<Self>) {
        let engine = self.clone();
        spawn_local(async move {
            if let Ok(sharing) = settings::get().await {
                engine.took_sharing(sharing);
            }
            let key = notices_key(&engine.me.user_id);
            if let Some(notices) = idb::get_json::<Notices>(Store::Identity, &key).await {
                engine.chats.notices.set(notices);
            }
        });
    }

    /// Someone else's message came: a notification if the tab is hidden
    /// and the user turned them on (and the browser allows them).
    pub(super) fn notify(&self, conversation: ConversationId, line: &Line) {
        let notices = self.chats.notices.get_untracked();
        if line.mine || !notices.enabled || page_visible() || permission() != "granted" {
            return;
        }
        let Body::Text(text) = &line.body else {
            return;
        };
        let Some(summary) = self.chats.summary(conversation) else {
            return;
        };
        let title = if summary.group {
            format!("{} in {}", line.sender, summary.name)
        } else {
            line.sender.clone()
        };
        let body = if notices.previews {
            text.clone()
        } else {
            "New message".to_owned()
        };
        show_notification(&title, &body, conversation);
    }
}

/// Where this browser keeps a user's notification settings.
fn notices_key(user_id: &str) -> String {
    format!("notices:{user_id}")
}

/// Changes this user's sharing on the server; `done` gets what is stored.
pub fn set_sharing(sharing: Sharing, done: impl FnOnce(Result<Sharing, String>) + 'static) {
    let Some(engine) = running() else {
        return done(Err("Not signed in.".into()));
    };
    spawn_local(async move {
        match settings::put(sharing).await {
            Ok(stored) => {
                engine.took_sharing(stored);
                done(Ok(stored));
            }
            Err(e) => done(Err(e.message)),
        }
    });
}

/// Changes this browser's notification settings; turning them on asks the
/// browser's permission (the user clicked for it). `done` gets what is in
/// force, or why not.
pub fn set_notices(wanted: Notices, done: impl FnOnce(Result<Notices, String>) + 'static) {
    let Some(engine) = running() else {
        return done(Err("Not signed in.".into()));
    };
    spawn_local(async move {
        if wanted.enabled && permission() != "granted" && ask_permission().await != "granted" {
            return done(Err(
                "Your browser did not allow notifications for this site.".into(),
            ));
        }
        engine.chats.notices.set(wanted);
        let key = notices_key(&engine.me.user_id);
        let _ = idb::put_json(Store::Identity, &key, &wanted).await;
        done(Ok(wanted));
    });
}

/// The user has read a conversation up to `seq`.
pub fn read_up_to(conversation: ConversationId, seq: u64) {
    if let Some(engine) = running() {
        engine.read_up_to(conversation, seq);
    }
}

/// Whether the page is visible (`document.visibilityState`).
pub(super) fn page_visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| js_sys::Reflect::get(&d, &"visibilityState".into()).ok())
        .and_then(|v| v.as_string())
        .is_none_or(|state| state == "visible")
}

/// Keeps `chats.visible` in step with the page's visibility.
pub(super) fn watch_visibility(visible: RwSignal<bool>) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    visible.set(page_visible());
    let changed = Closure::<dyn FnMut()>::new(move || visible.set(page_visible()));
    let _ = document
        .add_event_listener_with_callback("visibilitychange", changed.as_ref().unchecked_ref());
    // Lives as long as the page.
    changed.forget();
}

/// The browser's `Notification` constructor, if it has one.
fn notification_class() -> Option<js_sys::Function> {
    let window = web_sys::window()?;
    js_sys::Reflect::get(&window, &"Notification".into())
        .ok()?
        .dyn_into()
        .ok()
}

/// `Notification.permission`: "granted", "denied", "default" (or "").
fn permission() -> String {
    notification_class()
        .and_then(|n| js_sys::Reflect::get(&n, &"permission".into()).ok())
        .and_then(|p| p.as_string())
        .unwrap_or_default()
}

/// Asks for permission to notify; the answer.
async fn ask_permission() -> String {
    let Some(class) = notification_class() else {
        return String::new();
    };
    let Some(ask) = js_sys::Reflect::get(&class, &"requestPermission".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    else {
        return String::new();
    };
    let Ok(promise) = ask.call0(&class) else {
        return String::new();
    };
    match wasm_bindgen_futures::JsFuture::from(js_sys::Promise::from(promise)).await {
        Ok(answer) => answer.as_string().unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Raises a notification; clicking it brings the tab forward and opens the
/// conversation.
fn show_notification(title: &str, body: &str, conversation: ConversationId) {
    let Some(class) = notification_class() else {
        return;
    };
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"body".into(), &body.into());
    let _ = js_sys::Reflect::set(&options, &"tag".into(), &conversation.to_string().into());
    let args = js_sys::Array::of2(&title.into(), &options);
    let Ok(notification) = js_sys::Reflect::construct(&class, &args) else {
        return;
    };
    let clicked = Closure::<dyn FnMut()>::once(move || {
        if let Some(window) = web_sys::window() {
            let _ = window.focus();
        }
        if let Some(engine) = running() {
            engine.chats.go_to.set(Some(conversation));
        }
    });
    let _ = js_sys::Reflect::set(&notification, &"onclick".into(), clicked.as_ref());
    clicked.forget();
}
