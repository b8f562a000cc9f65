//! The browser's chat engine: the shell around the delivery core
//! ([`crate::delivery::Core`]). It holds the keyrings and the Socket.IO
//! connection, opens and seals messages with WebCrypto, and runs what the
//! core decides (list, fetch this range, send this parcel, show this
//! timeline, wake me then) with HTTP, IndexedDB and timers, feeding back
//! what happened. Every decision about what to fetch, which copy of a
//! message to keep, and when to send or retry is the core's, tested
//! natively; this file and its two halves only carry it out.
//!
//! It never logs message contents or keys; what it shows as a message body
//! passed [`Keyring::open`]. Receiving is in [`receiving`], sending (the
//! sealer and the outbox) in [`sending`]; this file holds the state, the
//! page's entry points and the command loop.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use leptos::prelude::*;
use leptos::task::spawn_local;

mod receiving;
mod sending;

use self::receiving::Receiving;
use self::sending::Sealer;
use super::cache;
use super::keyring::{self, Keyring};
use super::keystore::{self, LocalIdentity};
use super::session;
use super::socket::{Link, Realtime, sleep};
use crate::api::{accounts, conversations};
use crate::delivery::{Command, Core, Event};
use crate::model::account::PublicUser;
use crate::model::conversation::{Conversation, Head, MAX_KNOWN, NewConversation};
use crate::model::ids::{ConversationId, MessageId, UserId};
use crate::screen::{Chats, Line, LinkState, Me, Summary};

/// The keys this page holds, and every conversation it has seen.
#[derive(Default)]
struct Keys {
    rings: RefCell<HashMap<ConversationId, Rc<Keyring>>>,
    /// Every conversation seen, as the server gave it (kept for offline).
    known: RefCell<HashMap<ConversationId, Conversation>>,
}

/// One running engine per page.
struct Engine {
    me: LocalIdentity,
    my_id: UserId,
    chats: Chats,
    keys: Keys,
    /// Every delivery decision.
    core: RefCell<Core<Line>>,
    realtime: RefCell<Option<Realtime>>,
    receiving: Receiving,
    sealer: Sealer,
}

thread_local! {
    static ENGINE: RefCell<Option<Rc<Engine>>> = const { RefCell::new(None) };
}

fn running() -> Option<Rc<Engine>> {
    ENGINE.with(|e| e.borrow().clone())
}

/// The browser's clock in ms, the core's time.
fn clock() -> u64 {
    js_sys::Date::now() as u64
}

/// Starts the engine for the identity this browser holds; `signed_out`
/// runs if there is none or the session has ended.
pub fn start(chats: Chats, signed_out: impl Fn() + 'static) {
    stop();
    spawn_local(async move {
        let seed = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
        let mut core = Core::new(seed);
        // The newest page of the conversation being opened needs only the
        // session cookie: it is asked for before anything local is read.
        let opening = conversation_in_address()
            .map(|id| core.handle(clock(), Event::Open(id)))
            .unwrap_or_default();
        let early = receiving::ask_early(opening);
        let Ok(Some(me)) = keystore::load().await else {
            signed_out();
            return;
        };
        let Ok(my_id) = me.user_id.parse::<UserId>() else {
            signed_out();
            return;
        };
        let fingerprint = session::fingerprint(&me).await.unwrap_or_default();
        chats.me.set(Some(Me {
            id: my_id,
            username: me.username.clone(),
            fingerprint,
        }));
        let engine = Rc::new(Engine {
            me,
            my_id,
            chats,
            keys: Keys::default(),
            core: RefCell::new(core),
            realtime: RefCell::new(None),
            receiving: Receiving::default(),
            sealer: Sealer::default(),
        });
        ENGINE.with(|e| *e.borrow_mut() = Some(engine.clone()));
        for (fetch, answer) in early {
            engine.fetch(fetch, Some(answer));
        }
        // What this browser kept: the conversations (checked again now) and
        // the messages still waiting to be sent. Both work offline. The list
        // is asked for while the kept key sets are checked.
        let cached = cache::load(&engine.me.user_id).await;
        engine
            .receiving
            .ask_list(known_ids(cached.iter().map(|c| c.id)));
        for c in &cached {
            engine.adopt(c).await;
        }
        if !cached.is_empty() {
            engine.chats.loaded.set(true);
        }
        engine.restore_outbox().await;
        engine.feed(Event::Refresh);
        let signed_out = Rc::new(signed_out);
        let realtime = Realtime::start(
            None,
            |event, args| {
                if let Some(engine) = running() {
                    engine.on_event(event, args);
                }
            },
            move |link| {
                let Some(engine) = running() else { return };
                let state = match link {
                    Link::Connecting => LinkState::Connecting,
                    Link::Connected => {
                        engine.chats.link.set(LinkState::CatchingUp);
                        engine.feed(Event::Connected);
                        return;
                    }
                    Link::Reconnecting { .. } if !online() => LinkState::Offline,
                    Link::Reconnecting { retry_in_ms, .. } => LinkState::Reconnecting {
                        retry_in_secs: retry_in_ms.div_ceil(1000),
                    },
                    Link::Unauthorized => {
                        signed_out();
                        LinkState::SignedOut
                    }
                };
                if engine.core.borrow().connected() {
                    engine.feed(Event::Disconnected);
                }
                engine.chats.link.set(state);
            },
        );
        *engine.realtime.borrow_mut() = Some(realtime);
    });
}

/// Stops the engine: closes the socket, forgets the keyrings.
pub fn stop() {
    if let Some(engine) = ENGINE.with(|e| e.borrow_mut().take())
        && let Some(realtime) = engine.realtime.borrow_mut().take()
    {
        realtime.stop();
    }
}

/// Seals `text` and sends it, retrying until the server answers.
pub fn send(conversation: ConversationId, text: String) {
    if let Some(engine) = running() {
        engine.enqueue(conversation, text);
    }
}

/// Loads the page of messages before the oldest one held; `done` runs
/// once it is shown (or could not be had).
pub fn load_older(conversation: ConversationId, done: impl FnOnce() + 'static) {
    match running() {
        Some(engine) => engine.load_older(conversation, Box::new(done)),
        None => done(),
    }
}

/// Removes a message that failed for good from its timeline.
pub fn discard(conversation: ConversationId, id: MessageId) {
    if let Some(engine) = running() {
        engine.feed(Event::Discard { conversation, id });
    }
}

/// Checks that `name` is a user one can talk to; answers the canonical name.
pub fn check_name(name: String, done: impl FnOnce(Result<PublicUser, String>) + 'static) {
    spawn_local(async move {
        done(accounts::lookup(name).await.map_err(|e| e.message));
    });
}

/// Creates a conversation with `members` (not including me).
pub fn create(
    members: Vec<PublicUser>,
    title: Option<String>,
    done: impl FnOnce(Result<ConversationId, String>) + 'static,
) {
    let Some(engine) = running() else {
        return done(Err("Not signed in.".into()));
    };
    spawn_local(async move { done(engine.create(members, title).await) });
}

/// Logs out here and on the server.
pub fn log_out(done: impl FnOnce(Result<(), String>) + 'static) {
    stop();
    spawn_local(async move { done(session::log_out().await) });
}

/// The conversation the address bar names (`/chats/{id}`), if any.
fn conversation_in_address() -> Option<ConversationId> {
    let path = web_sys::window()?.location().pathname().ok()?;
    path.strip_prefix("/chats/")?
        .trim_end_matches('/')
        .parse()
        .ok()
}

/// The conversations a list request names as held (so the server answers
/// them as heads), or none if they are too many to name.
fn known_ids(ids: impl Iterator<Item = ConversationId>) -> Option<Vec<ConversationId>> {
    let known: Vec<ConversationId> = ids.collect();
    (known.len() <= MAX_KNOWN).then_some(known)
}

/// Whether the browser believes it has a network (`navigator.onLine`).
fn online() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &"navigator".into()).ok())
        .and_then(|n| js_sys::Reflect::get(&n, &"onLine".into()).ok())
        .and_then(|v| v.as_bool())
        .unwrap_or(true)
}

/// The browser's clock as RFC 3339 UTC.
fn now() -> String {
    String::from(js_sys::Date::new_0().to_iso_string())
}

impl Engine {
    /// Hands the core one event and runs what it decides.
    fn feed(self: &Rc<Self>, event: Event<Line>) {
        let commands = self.core.borrow_mut().handle(clock(), event);
        for command in commands {
            self.run(command);
        }
        if self.chats.link.get_untracked() == LinkState::CatchingUp && self.core.borrow().settled()
        {
            self.chats.link.set(LinkState::Connected);
        }
    }

    /// Carries out one of the core's commands.
    fn run(self: &Rc<Self>, command: Command) {
        match command {
            Command::Show(id) => self.show(id),
            Command::List => self.list(),
            Command::Fetch(fetch) => self.fetch(fetch, None),
            Command::Send(parcel) => self.send_parcel(parcel),
            Command::Unpark(key) => sending::unpark(key),
            Command::Wake { at } => {
                let engine = Rc::downgrade(self);
                spawn_local(async move {
                    let wait = at.saturating_sub(clock());
                    sleep(u32::try_from(wait).unwrap_or(u32::MAX)).await;
                    if let Some(engine) = Weak::upgrade(&engine) {
                        engine.feed(Event::Timer);
                    }
                });
            }
        }
    }

    /// Puts the core's timeline of a conversation on the page.
    fn show(&self, id: ConversationId) {
        let Some(timeline) = self.core.borrow().timeline(id).cloned() else {
            return;
        };
        let newest = timeline.newest().map(|l| l.at.clone());
        self.chats.timeline(id).set(timeline);
        if let Some(at) = newest {
            self.chats.touch(id, &at);
        }
    }

    fn me_public(&self) -> PublicUser {
        PublicUser {
            id: self.my_id,
            username: self.me.username.clone(),
            dh_public: self.me.dh_public.as_slice().into(),
            sig_public: self.me.sig_public.as_slice().into(),
        }
    }

    fn ring(&self, id: ConversationId) -> Option<Rc<Keyring>> {
        self.keys.rings.borrow().get(&id).cloned()
    }

    fn summary_of(&self, c: &Conversation, problem: Option<String>) -> Summary {
        let others: Vec<String> = c
            .members
            .iter()
            .filter(|m| m.id != self.my_id)
            .map(|m| m.username.clone())
            .collect();
        let name = c.title.clone().unwrap_or_else(|| others.join(", "));
        let timeline = self.chats.timeline(c.id);
        let active_at = timeline
            .with_untracked(|t| t.newest().map(|l| l.at.clone()))
            .filter(|at| at.as_str() > c.created_at.as_str())
            .unwrap_or_else(|| c.created_at.clone());
        Summary {
            id: c.id,
            name,
            members: c.members.iter().map(|m| m.username.clone()).collect(),
            group: c.members.len() > 2,
            problem,
            active_at,
        }
    }

    /// Checks and holds a conversation's keys, and lists it; a page of it
    /// answered before its keys were held is opened now.
    async fn adopt(self: &Rc<Self>, c: &Conversation) -> Option<Rc<Keyring>> {
        if let Some(ring) = self.ring(c.id) {
            return Some(ring);
        }
        self.keys.known.borrow_mut().insert(c.id, c.clone());
        match keyring::accept(c, &self.me).await {
            Ok(ring) => {
                let ring = Rc::new(ring);
                self.keys.rings.borrow_mut().insert(c.id, ring.clone());
                self.chats.put_summary(self.summary_of(c, None));
                self.open_waiting(&ring);
                Some(ring)
            }
            Err(why) => {
                let problem = format!("This conversation cannot be opened safely: {why}.");
                self.chats.put_summary(self.summary_of(c, Some(problem)));
                None
            }
        }
    }

    /// Keeps the conversations known here for the next offline start.
    async fn remember(&self) {
        let all: Vec<Conversation> = self.keys.known.borrow().values().cloned().collect();
        let _ = cache::save(&self.me.user_id, &all).await;
    }

    async fn create(
        self: &Rc<Self>,
        others: Vec<PublicUser>,
        title: Option<String>,
    ) -> Result<ConversationId, String> {
        let mut members = vec![self.me_public()];
        for other in others {
            if !members.iter().any(|m| m.id == other.id) {
                members.push(other);
            }
        }
        let id = ConversationId::new();
        let set = keyring::new_key_set(id, &self.me, &members)
            .await
            .map_err(|e| format!("Your browser could not make the keys ({e})."))?;
        let created = conversations::create(NewConversation {
            conversation_id: id,
            title,
            member_ids: members.iter().map(|m| m.id).collect(),
            epoch: 0,
            commit: set.commit,
            keys: set.keys,
            keys_signature: set.keys_signature,
        })
        .await
        .map_err(|e| e.message)?;
        self.adopt(&created)
            .await
            .ok_or_else(|| "The new conversation's keys did not check out.".to_owned())?;
        self.feed(Event::Heads(vec![Head {
            id,
            last_seq: created.last_seq,
        }]));
        self.remember().await;
        Ok(id)
    }
}
