//! Receiving, for the engine: listing conversations and fetching each one's
//! gap after every (re)connect, opening pushed messages (and filling the gap
//! when a push skips ahead), and loading older pages. Every message shown
//! passed `Keyring::open`; each is put in its timeline once, by `seq`.

use std::future::Future;
use std::rc::Rc;

use futures::channel::oneshot;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::Engine;
use crate::api::{conversations, messages};
use crate::app::chats::state::{Body, Delivery, Line};
use crate::client::keyring::Keyring;
use crate::model::conversation::{
    Conversation, Conversations, History, MAX_HISTORY_LIMIT, Message,
};
use crate::model::error::{ApiError, ErrorCode};
use crate::model::ids::ConversationId;
use crate::protocol::{CONVERSATION_ADDED, NEW_MESSAGE};

/// Messages fetched when a conversation is first shown or scrolled up.
const PAGE: u32 = 50;

/// An answer asked for ahead of the step that needs it.
type Pending<T> = oneshot::Receiver<Result<T, ApiError>>;

/// Starts `request` now; its answer waits in the receiver.
fn ask<T: 'static>(request: impl Future<Output = Result<T, ApiError>> + 'static) -> Pending<T> {
    let (answer, answered) = oneshot::channel();
    spawn_local(async move {
        let _ = answer.send(request.await);
    });
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

/// Takes what `slot` holds for `conversation`, leaving anything else.
fn take_for<T>(slot: &mut Option<(ConversationId, T)>, conversation: ConversationId) -> Option<T> {
    if slot.as_ref().is_some_and(|(id, _)| *id == conversation) {
        slot.take().map(|(_, held)| held)
    } else {
        None
    }
}

/// What a page load asks the server for before it has read its keys, so
/// that the round trips overlap the local work instead of following it:
/// the list, and the newest page of the conversation being opened. Each
/// answer is used once, and not after the first refresh: the list by that
/// refresh, the page by `show_early_page` or else by the refresh's
/// `catch_up`. A page asked for this early may be older than the list, and
/// `catch_up` fetches what it lacks.
#[derive(Default)]
pub(super) struct Early {
    list: Option<Pending<Conversations>>,
    page: Option<(ConversationId, Pending<History>)>,
    /// The early page being shown, and the end of that.
    showing: Option<(ConversationId, oneshot::Receiver<()>)>,
}

impl Early {
    /// Asks for `conversation`'s newest page.
    pub(super) fn ask_page(&mut self, conversation: Option<ConversationId>) {
        self.page = conversation.map(|id| (id, ask(messages::history(id, None, None, PAGE))));
    }

    /// Asks for the list, naming `known` as held.
    pub(super) fn ask_list(&mut self, known: Option<Vec<ConversationId>>) {
        self.list = Some(ask(conversations::list(known)));
    }
}

impl Engine {
    /// Lists conversations and fetches every gap. Runs at start and after
    /// every (re)connect; concurrent asks fold into one more run.
    pub(super) async fn refresh(self: &Rc<Self>) {
        if self.refreshing.replace(true) {
            self.again.set(true);
            return;
        }
        loop {
            self.again.set(false);
            // What is held already comes back as heads: members and
            // epochs never change, so a reconnect costs the server little.
            let early = self.early.borrow_mut().list.take();
            let answer = match early {
                Some(pending) => answered(pending).await,
                None => {
                    let known = super::known_ids(self.known.borrow().keys().copied());
                    conversations::list(known).await
                }
            };
            if let Ok(list) = answer {
                for c in &list.conversations {
                    if let Some(ring) = self.adopt(c).await {
                        self.catch_up(&ring, c.last_seq).await;
                    }
                }
                for head in &list.heads {
                    let held = self.known.borrow_mut().get_mut(&head.id).map(|c| {
                        c.last_seq = head.last_seq;
                        c.clone()
                    });
                    if let Some(c) = held
                        && let Some(ring) = self.adopt(&c).await
                    {
                        self.catch_up(&ring, head.last_seq).await;
                    }
                }
                self.chats.loaded.set(true);
                self.remember().await;
            }
            // An early page not used by now is stale.
            let mut early = self.early.borrow_mut();
            (early.page, early.showing) = (None, None);
            drop(early);
            if !self.again.get() {
                break;
            }
        }
        self.refreshing.set(false);
    }

    /// Fetches what is missing of a conversation up to `last_seq`: the
    /// newest page if nothing is held, else everything after the last held.
    pub(super) async fn catch_up(&self, ring: &Keyring, last_seq: u64) {
        let showing = take_for(&mut self.early.borrow_mut().showing, ring.id);
        if let Some(end) = showing {
            // The early page is being shown: what is missing comes after it.
            let _ = end.await;
        }
        let timeline = self.chats.timeline(ring.id);
        if timeline.with_untracked(|t| t.last_seq()) >= last_seq {
            if last_seq == 0 {
                timeline.update(|t| t.complete = true);
            }
            return;
        }
        if timeline.with_untracked(|t| t.lines().is_empty()) {
            let page = self.newest_page(ring).await;
            // A page asked for early may end before `last_seq`.
            if page.is_none() || timeline.with_untracked(|t| t.last_seq()) >= last_seq {
                return;
            }
        }
        loop {
            let after = timeline.with_untracked(|t| t.last_seq());
            match self.page(ring, None, Some(after), MAX_HISTORY_LIMIT).await {
                Some(n) if n == MAX_HISTORY_LIMIT as usize => continue,
                _ => break,
            }
        }
    }

    /// Shows the conversation being opened from its early page as soon as
    /// it is answered, in a task of its own, if its keys are held already
    /// (kept from an earlier visit): neither the list nor the socket waits
    /// for it, and the list's `catch_up` of that conversation waits for it
    /// and then fetches only what is newer.
    pub(super) fn show_early_page(self: &Rc<Self>) {
        let Some(id) = self.early.borrow().page.as_ref().map(|(id, _)| *id) else {
            return;
        };
        let Some(ring) = self.ring(id) else { return };
        if !self
            .chats
            .timeline(id)
            .with_untracked(|t| t.lines().is_empty())
        {
            return;
        }
        let (done, end) = oneshot::channel();
        self.early.borrow_mut().showing = Some((id, end));
        let engine = self.clone();
        spawn_local(async move {
            engine.newest_page(&ring).await;
            let _ = done.send(());
        });
    }

    /// Fetches (or takes the early answer for), opens and inserts a
    /// conversation's newest page, and marks the timeline complete if that
    /// is all there is.
    async fn newest_page(&self, ring: &Keyring) -> Option<usize> {
        let early = take_for(&mut self.early.borrow_mut().page, ring.id);
        let answer = match early {
            Some(pending) => answered(pending).await,
            None => messages::history(ring.id, None, None, PAGE).await,
        };
        let page = match answer {
            Ok(history) => Some(self.show(ring, history).await),
            Err(_) => None,
        };
        let complete = page.is_some_and(|n| n < PAGE as usize);
        self.chats
            .timeline(ring.id)
            .update(|t| t.complete = complete);
        page
    }

    /// Fetches, opens and inserts one history page; the count, or `None` on
    /// failure.
    async fn page(
        &self,
        ring: &Keyring,
        before: Option<u64>,
        after: Option<u64>,
        limit: u32,
    ) -> Option<usize> {
        let history = messages::history(ring.id, before, after, limit)
            .await
            .ok()?;
        Some(self.show(ring, history).await)
    }

    /// Opens and inserts a history page; the count.
    async fn show(&self, ring: &Keyring, history: History) -> usize {
        let count = history.messages.len();
        let mut lines = Vec::with_capacity(count);
        for m in &history.messages {
            lines.push(self.line_of(ring, m).await);
        }
        // One update for the whole page: one render, not one per message.
        self.put(ring.id, lines);
        count
    }

    /// Opens a stored message as a timeline line.
    async fn line_of(&self, ring: &Keyring, m: &Message) -> Line {
        let (sender, body) = match ring.open(m).await {
            Ok((name, plain)) => (name, Body::Text(plain.body)),
            Err(name) => (
                name.unwrap_or_else(|| format!("{} (not in this conversation)", m.sender)),
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
        }
    }

    /// Puts opened lines in their conversation's timeline, in one update.
    fn put(&self, conversation: ConversationId, lines: Vec<Line>) {
        let Some(newest) = lines.iter().map(|l| l.at.clone()).max() else {
            return;
        };
        self.chats.timeline(conversation).update(|t| {
            for line in lines {
                t.upsert(line);
            }
        });
        self.chats.touch(conversation, &newest);
    }

    pub(super) fn on_event(self: &Rc<Self>, event: &str, mut args: Vec<serde_json::Value>) {
        let Some(payload) = args.drain(..).next() else {
            return;
        };
        let engine = self.clone();
        match event {
            NEW_MESSAGE => {
                let Ok(m) = serde_json::from_value::<Message>(payload) else {
                    return;
                };
                spawn_local(async move { engine.on_message(m).await });
            }
            CONVERSATION_ADDED => {
                let Ok(c) = serde_json::from_value::<Conversation>(payload) else {
                    return;
                };
                spawn_local(async move {
                    if let Some(ring) = engine.adopt(&c).await {
                        engine.remember().await;
                        engine.catch_up(&ring, c.last_seq).await;
                    }
                });
            }
            _ => {}
        }
    }

    async fn on_message(self: &Rc<Self>, m: Message) {
        let Some(ring) = self.ring(m.conversation_id) else {
            // A conversation this page has not seen yet: the list has it.
            self.refresh().await;
            return;
        };
        let timeline = self.chats.timeline(ring.id);
        let held = timeline.with_untracked(|t| t.last_seq());
        let empty = timeline.with_untracked(|t| t.lines().is_empty());
        let line = self.line_of(&ring, &m).await;
        self.put(ring.id, vec![line]);
        if !empty && m.seq > held + 1 {
            // A push skipped ahead: fetch what lies between.
            self.catch_up(&ring, m.seq).await;
        }
    }

    pub(super) async fn load_older(&self, conversation: ConversationId) {
        let Some(ring) = self.ring(conversation) else {
            return;
        };
        let timeline = self.chats.timeline(conversation);
        let Some(first) = timeline.with_untracked(|t| t.first_seq()) else {
            return;
        };
        if first <= 1 {
            timeline.update(|t| t.complete = true);
            return;
        }
        if let Some(n) = self.page(&ring, Some(first), None, PAGE).await
            && n < PAGE as usize
        {
            timeline.update(|t| t.complete = true);
        }
    }
}
