//! Receiving, for the engine: asking for the list and for history pages
//! when the core says so, opening what comes back (and what is pushed)
//! with the keyrings, and feeding it to the core. Every message shown
//! passed `Keyring::open`.
//!
//! A page load asks for the newest page of the conversation in the address
//! bar before the page hydrates ([`super::boot`]), and for the list before
//! it has checked its kept keys, so that the round trips overlap the local
//! work; an answer that comes before the conversation's keys are held waits
//! for them (or is dropped if they never come).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures::channel::oneshot;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{Engine, known_ids};
use crate::api::{conversations, messages};
use crate::client::keyring::Keyring;
use crate::delivery::{Command, Event, Fetch};
use crate::model::changes::ConversationChanged;
use crate::model::conversation::{Conversation, Conversations, History, Message, Removed};
use crate::model::error::{ApiError, ErrorCode};
use crate::model::ids::ConversationId;
use crate::model::live::{Presence, Read, Sharing};
use crate::protocol::frames::Arg;
use crate::protocol::{
    CONVERSATION_ADDED, CONVERSATION_CHANGED, CONVERSATION_REMOVED, NEW_MESSAGE, PRESENCE, READ,
    SETTINGS, TYPING, Typing,
};
use crate::screen::{Body, Delivery, Line};

/// An answer asked for ahead of the step that needs it.
pub(super) type Pending<T> = oneshot::Receiver<Result<T, ApiError>>;

/// Starts `request` now; its answer waits in the receiver.
///
/// The request is polled once here, so it leaves at once, even from inside
/// a long synchronous call (the page's hydration), rather than when the
/// spawned task first runs, after that call returns.
fn ask<T: 'static>(request: impl Future<Output = Result<T, ApiError>> + 'static) -> Pending<T> {
    let (answer, answered) = oneshot::channel();
    let mut request = Box::pin(request);
    match request
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(result) => {
            let _ = answer.send(result);
        }
        // The task polls again with its own waker, which the request keeps
        // from then on. It is spawned on wasm-bindgen's queue, not Leptos's
        // executor: the page's boot asks before hydration sets that up.
        Poll::Pending => wasm_bindgen_futures::spawn_local(async move {
            let _ = answer.send(request.await);
        }),
    }
    answered
}

/// The answer to a request asked for early.
async fn answered<T>(pending: Pending<T>) -> Result<T, ApiError> {
    // The asking task always answers, unless the page is torn down first.
    pending.await.unwrap_or_else(|_| {
        Err(ApiError::new(
            ErrorCode::Unreachable,
            "The request ended before it was answered.",
        ))
    })
}

/// Every page of the list, gathered into one answer: the pages come newest
/// conversation first, each from where the last one ended. A cursor that
/// does not move down (a faulty or lying server) ends the list with an
/// error rather than a loop.
async fn list_all(known: Option<Vec<ConversationId>>) -> Result<Conversations, ApiError> {
    let mut all = conversations::list(known.clone(), None).await?;
    let mut last: Option<ConversationId> = None;
    while let Some(cursor) = all.next.take() {
        if last.is_some_and(|last| cursor >= last) {
            return Err(ApiError::new(
                ErrorCode::Internal,
                "The server's list of conversations did not move on.",
            ));
        }
        last = Some(cursor);
        let page = conversations::list(known.clone(), Some(cursor)).await?;
        all.conversations.extend(page.conversations);
        all.heads.extend(page.heads);
        all.next = page.next;
        all.reads.extend(page.reads);
    }
    Ok(all)
}

/// Starts the history requests the core asked for before the engine was
/// built (the conversation being opened).
pub(super) fn ask_early(commands: Vec<Command>) -> Vec<(Fetch, Pending<History>)> {
    commands
        .into_iter()
        .filter_map(|command| match command {
            Command::Fetch(fetch) => Some((fetch, ask(history(fetch)))),
            _ => None,
        })
        .collect()
}

fn history(fetch: Fetch) -> impl Future<Output = Result<History, ApiError>> {
    messages::history(fetch.conversation, fetch.before, fetch.after, fetch.limit)
}

/// What to call once an older page is shown.
type Done = Box<dyn FnOnce()>;

/// What receiving keeps between answers.
#[derive(Default)]
pub(super) struct Receiving {
    /// The list asked for at start, used by the first list command.
    early_list: RefCell<Option<Pending<Conversations>>>,
    /// Pages answered before their conversation's keys were held.
    waiting: RefCell<HashMap<ConversationId, (Fetch, History)>>,
    /// A list has been answered: keys not held by now will not come.
    listed: Cell<bool>,
    /// What to call once an older page is shown.
    older_done: RefCell<HashMap<ConversationId, Vec<Done>>>,
}

impl Receiving {
    /// Asks for the list now, naming `known` as held.
    pub(super) fn ask_list(&self, known: Option<Vec<ConversationId>>) {
        *self.early_list.borrow_mut() = Some(ask(list_all(known)));
    }
}

impl Engine {
    /// Lists the conversations, checks the keys of those new here, and
    /// tells the core where each stands.
    pub(super) fn list(self: &Rc<Self>) {
        let engine = self.clone();
        spawn_local(async move {
            let early = engine.receiving.early_list.borrow_mut().take();
            let answer = match early {
                Some(pending) => answered(pending).await,
                None => {
                    // What is held already comes back as heads: members and
                    // epochs never change, so a reconnect costs the server
                    // little.
                    let known = known_ids(engine.keys.known.borrow().keys().copied());
                    list_all(known).await
                }
            };
            let Ok(list) = answer else {
                engine.feed(Event::ListFailed);
                return;
            };
            engine.took_reads(&list.reads);
            let mut heads = Vec::new();
            for c in &list.conversations {
                if engine.adopt(c).await.is_some() {
                    heads.push(c.head());
                }
            }
            for head in &list.heads {
                let held = engine.keys.known.borrow_mut().get_mut(&head.id).map(|c| {
                    c.last_seq = head.last_seq;
                    c.clone()
                });
                let Some(c) = held else { continue };
                if !c.head().same_keys(head) {
                    // It changed while this page was away: read it again.
                    let (engine, head) = (engine.clone(), head.clone());
                    spawn_local(async move { engine.moved(&head).await });
                } else if engine.adopt(&c).await.is_some() {
                    heads.push(head.clone());
                }
            }
            // Held here and not listed: this user may no longer be in it,
            // or it came while the list was asked for. The server says
            // which.
            let listed: std::collections::HashSet<ConversationId> = list
                .conversations
                .iter()
                .map(|c| c.id)
                .chain(list.heads.iter().map(|h| h.id))
                .collect();
            let unlisted: Vec<ConversationId> = engine
                .keys
                .known
                .borrow()
                .keys()
                .filter(|id| !listed.contains(id))
                .copied()
                .collect();
            for id in unlisted {
                let engine = engine.clone();
                spawn_local(async move { engine.reload(id).await });
            }
            engine.chats.loaded.set(true);
            engine.receiving.listed.set(true);
            // A page that waited for keys the list did not bring is dropped.
            let orphans: Vec<ConversationId> = engine
                .receiving
                .waiting
                .borrow()
                .keys()
                .filter(|id| engine.ring(**id).is_none())
                .copied()
                .collect();
            for id in orphans {
                engine.receiving.waiting.borrow_mut().remove(&id);
                engine.feed(Event::Closed(id));
            }
            engine.feed(Event::Listed(heads));
            engine.remember().await;
        });
    }

    /// Fetches a history range (or takes the answer asked for early),
    /// opens it and feeds it to the core.
    pub(super) fn fetch(self: &Rc<Self>, fetch: Fetch, early: Option<Pending<History>>) {
        let engine = self.clone();
        spawn_local(async move {
            let answer = match early {
                Some(pending) => answered(pending).await,
                None => history(fetch).await,
            };
            match answer {
                Ok(page) => match engine.ring(fetch.conversation) {
                    Some(ring) => engine.show_page(&ring, fetch, page).await,
                    None => {
                        let id = fetch.conversation;
                        engine
                            .receiving
                            .waiting
                            .borrow_mut()
                            .insert(id, (fetch, page));
                    }
                },
                Err(e) if matches!(e.error, ErrorCode::NotAMember | ErrorCode::NotFound) => {
                    engine.feed(Event::Closed(fetch.conversation));
                }
                Err(_) => engine.feed(Event::PageFailed(fetch)),
            }
            if fetch.is_older() {
                engine.older_shown(fetch.conversation);
            }
        });
    }

    /// Opens a page that waited for this keyring, if one did.
    pub(super) fn open_waiting(self: &Rc<Self>, ring: &Rc<Keyring>) {
        let Some((fetch, page)) = self.receiving.waiting.borrow_mut().remove(&ring.id) else {
            return;
        };
        let (engine, ring) = (self.clone(), ring.clone());
        spawn_local(async move { engine.show_page(&ring, fetch, page).await });
    }

    /// Opens a history page and feeds it to the core.
    async fn show_page(self: &Rc<Self>, ring: &Rc<Keyring>, fetch: Fetch, page: History) {
        let newest = page.messages.iter().map(|m| m.epoch).max().unwrap_or(0);
        let ring = self.ring_for(ring.clone(), newest).await;
        let mut entries = Vec::with_capacity(page.messages.len());
        for m in &page.messages {
            entries.push(self.line_of(&ring, m).await);
        }
        self.feed(Event::Page { fetch, entries });
    }

    /// The keys to open messages of `epoch` with: `ring`, unless `epoch` is
    /// newer than any it holds (the message came before this page read the
    /// change that made the epoch: a big group's members all read it at
    /// once, and a message sealed under it may overtake the read). Then the
    /// conversation is read again first, so that the message opens rather
    /// than showing as one that could not be verified.
    async fn ring_for(self: &Rc<Self>, ring: Rc<Keyring>, epoch: u32) -> Rc<Keyring> {
        if epoch <= ring.current() {
            return ring;
        }
        let id = ring.id;
        self.reload(id).await;
        self.ring(id).unwrap_or(ring)
    }

    /// Opens a stored message as a timeline line. A member's departure
    /// closes its epoch here: nothing more is sent under it.
    async fn line_of(self: &Rc<Self>, ring: &Keyring, m: &Message) -> Line {
        let (sender, body) = match ring.open(m).await {
            Ok((name, Some(plain))) => {
                let body = Body::from(plain.content);
                if body == Body::Left {
                    self.departure_seen(ring.id, m.epoch);
                }
                (name, body)
            }
            Ok((name, None)) => (name, Body::Unreadable),
            Err(name) => (
                // Never the server's `sender`: a name shown comes from a
                // signed member set, or there is none.
                name.unwrap_or_else(|| "Someone not in this conversation".to_owned()),
                Body::Unverified,
            ),
        };
        Line {
            id: m.id,
            seq: Some(m.seq),
            sender_id: m.sender_id,
            sender,
            mine: m.sender_id == self.my_id,
            body,
            at: m.created_at.clone(),
            delivery: Delivery::Sent,
            epoch: m.epoch,
        }
    }

    pub(super) fn on_event(self: &Rc<Self>, event: &str, args: Vec<Arg>) {
        let Some(payload) = args.first().map(|arg| arg.get()) else {
            return;
        };
        let engine = self.clone();
        match event {
            NEW_MESSAGE => {
                let Ok(m) = serde_json::from_str::<Message>(payload) else {
                    return;
                };
                let Some(ring) = self.ring(m.conversation_id) else {
                    // A conversation this page has not seen yet: the list
                    // has it.
                    self.feed(Event::Refresh);
                    return;
                };
                if m.epoch < ring.first() {
                    // Sent before I was added (a push that crossed my
                    // joining): not shared with me, and not mine to open.
                    return;
                }
                self.done_typing(m.conversation_id, m.sender_id);
                spawn_local(async move {
                    let ring = engine.ring_for(ring, m.epoch).await;
                    let entry = engine.line_of(&ring, &m).await;
                    let conversation = m.conversation_id;
                    engine.notify(conversation, &entry);
                    engine.feed(Event::Pushed {
                        conversation,
                        entry,
                    });
                });
            }
            CONVERSATION_CHANGED => {
                let Ok(changed) = serde_json::from_str::<ConversationChanged>(payload) else {
                    return;
                };
                spawn_local(async move { engine.pushed_change(changed).await });
            }
            TYPING => {
                if let Ok(typing) = serde_json::from_str::<Typing>(payload) {
                    self.heard_typing(typing);
                }
            }
            READ => {
                if let Ok(read) = serde_json::from_str::<Read>(payload) {
                    self.took_reads(&[read]);
                }
            }
            PRESENCE => {
                if let Ok(presence) = serde_json::from_str::<Presence>(payload) {
                    self.heard_presence(presence);
                }
            }
            SETTINGS => {
                if let Ok(sharing) = serde_json::from_str::<Sharing>(payload) {
                    self.took_sharing(sharing);
                }
            }
            CONVERSATION_REMOVED => {
                let Ok(removed) = serde_json::from_str::<Removed>(payload) else {
                    return;
                };
                self.gone(
                    removed.conversation_id,
                    "You were removed from this conversation.",
                );
            }
            CONVERSATION_ADDED => {
                let Ok(c) = serde_json::from_str::<Conversation>(payload) else {
                    return;
                };
                spawn_local(async move {
                    if engine.adopt(&c).await.is_some() {
                        engine.remember().await;
                        engine.feed(Event::Heads(vec![c.head()]));
                    }
                });
            }
            _ => {}
        }
    }

    /// Asks the core for older messages; `done` runs once they are shown,
    /// at once if there is nothing older to fetch.
    pub(super) fn load_older(self: &Rc<Self>, conversation: ConversationId, done: Done) {
        self.feed(Event::Older(conversation));
        if self.core.borrow().wants_older(conversation) {
            self.receiving
                .older_done
                .borrow_mut()
                .entry(conversation)
                .or_default()
                .push(done);
        } else {
            done();
        }
    }

    /// An older page of a conversation was shown (or could not be had).
    fn older_shown(&self, conversation: ConversationId) {
        let done = self
            .receiving
            .older_done
            .borrow_mut()
            .remove(&conversation)
            .unwrap_or_default();
        for done in done {
            done();
        }
    }
}
