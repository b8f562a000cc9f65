//! The browser's chat engine: it holds the keyrings, keeps the Socket.IO
//! connection, and turns what the server says into the page's state
//! ([`Chats`]): conversations checked and listed, messages opened and put
//! in `seq` order once each, sends sealed and retried until the server
//! answers. After every (re)connect it refreshes the list and fetches each
//! conversation's gap, so a push missed while offline is never lost.
//!
//! It never logs message contents or keys; what it shows as a message body
//! passed [`Keyring::open`]. Receiving is in [`receiving`], sending (the
//! outbox) in [`sending`]; this file holds the state and the page's entry
//! points.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

mod receiving;
mod sending;

use futures::channel::oneshot;

use self::receiving::Early;
use self::sending::{Draft, Parked};
use super::cache;
use super::keyring::{self, Keyring};
use super::keystore::{self, LocalIdentity};
use super::session;
use super::socket::{Link, Realtime};
use crate::api::{accounts, conversations};
use crate::app::chats::state::{Chats, LinkState, Me, Summary};
use crate::crypto::encoding::b64;
use crate::model::account::PublicUser;
use crate::model::conversation::{Conversation, MAX_KNOWN};
use crate::model::ids::{ConversationId, MessageId, UserId};

/// One running engine per page.
struct Engine {
    me: LocalIdentity,
    my_id: UserId,
    chats: Chats,
    rings: RefCell<HashMap<ConversationId, Rc<Keyring>>>,
    /// Every conversation seen, as the server gave it (kept for offline).
    known: RefCell<HashMap<ConversationId, Conversation>>,
    realtime: RefCell<Option<Realtime>>,
    /// Messages written here, not yet sealed, in order.
    drafts: RefCell<VecDeque<Draft>>,
    /// The drafts are being sealed.
    sealing: Cell<bool>,
    /// Sealed and parked messages not yet answered, in order.
    outbox: RefCell<VecDeque<Parked>>,
    /// The outbox is being sent.
    sending: Cell<bool>,
    /// Ends the sender's wait between tries.
    wake: RefCell<Option<oneshot::Sender<()>>>,
    /// Parcel keys of messages refused for good, until deleted.
    failed: RefCell<HashMap<MessageId, String>>,
    /// A refresh is running; another was asked for meanwhile.
    refreshing: Cell<bool>,
    again: Cell<bool>,
    /// Answers asked for at start, before the keys were read: the list and
    /// the newest page of the conversation in the address bar.
    early: RefCell<Early>,
}

thread_local! {
    static ENGINE: RefCell<Option<Rc<Engine>>> = const { RefCell::new(None) };
}

fn running() -> Option<Rc<Engine>> {
    ENGINE.with(|e| e.borrow().clone())
}

/// Starts the engine for the identity this browser holds; `signed_out`
/// runs if there is none or the session has ended.
pub fn start(chats: Chats, signed_out: impl Fn() + 'static) {
    stop();
    spawn_local(async move {
        // The newest page of the conversation being opened needs only the
        // session cookie: it is asked for before anything local is read.
        let mut early = Early::default();
        early.ask_page(conversation_in_address());
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
            rings: RefCell::new(HashMap::new()),
            known: RefCell::new(HashMap::new()),
            realtime: RefCell::new(None),
            drafts: RefCell::new(VecDeque::new()),
            sealing: Cell::new(false),
            outbox: RefCell::new(VecDeque::new()),
            sending: Cell::new(false),
            wake: RefCell::new(None),
            failed: RefCell::new(HashMap::new()),
            refreshing: Cell::new(false),
            again: Cell::new(false),
            early: RefCell::new(early),
        });
        ENGINE.with(|e| *e.borrow_mut() = Some(engine.clone()));
        // What this browser kept: the conversations (checked again now) and
        // the messages still waiting to be sent. Both work offline. The list
        // is asked for while the kept key sets are checked.
        let cached = cache::load(&engine.me.user_id).await;
        engine
            .early
            .borrow_mut()
            .ask_list(known_ids(cached.iter().map(|c| c.id)));
        for c in &cached {
            engine.adopt(c).await;
        }
        if !cached.is_empty() {
            engine.chats.loaded.set(true);
        }
        engine.show_early_page();
        engine.restore_outbox().await;
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
                        engine.nudge();
                        let engine = engine.clone();
                        spawn_local(async move {
                            engine.refresh().await;
                            engine.chats.link.update(|link| {
                                if *link == LinkState::CatchingUp {
                                    *link = LinkState::Connected;
                                }
                            });
                        });
                        LinkState::CatchingUp
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
                engine.chats.link.set(state);
            },
        );
        *engine.realtime.borrow_mut() = Some(realtime);
        engine.refresh().await;
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

/// Loads the page of messages before the oldest one held.
pub fn load_older(conversation: ConversationId, done: impl FnOnce() + 'static) {
    let Some(engine) = running() else {
        return done();
    };
    spawn_local(async move {
        engine.load_older(conversation).await;
        done();
    });
}

/// Removes a message that failed for good from its timeline.
pub fn discard(conversation: ConversationId, id: MessageId) {
    if let Some(engine) = running() {
        engine.discard(conversation, id);
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
    fn me_public(&self) -> PublicUser {
        PublicUser {
            id: self.my_id,
            username: self.me.username.clone(),
            dh_public: b64(&self.me.dh_public),
            sig_public: b64(&self.me.sig_public),
        }
    }

    fn ring(&self, id: ConversationId) -> Option<Rc<Keyring>> {
        self.rings.borrow().get(&id).cloned()
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

    /// Checks and holds a conversation's keys, and lists it.
    async fn adopt(&self, c: &Conversation) -> Option<Rc<Keyring>> {
        if let Some(ring) = self.ring(c.id) {
            return Some(ring);
        }
        self.known.borrow_mut().insert(c.id, c.clone());
        match keyring::accept(c, &self.me).await {
            Ok(ring) => {
                let ring = Rc::new(ring);
                self.rings.borrow_mut().insert(c.id, ring.clone());
                self.chats.put_summary(self.summary_of(c, None));
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
        let all: Vec<Conversation> = self.known.borrow().values().cloned().collect();
        let _ = cache::save(&self.me.user_id, &all).await;
    }

    async fn create(
        &self,
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
        let created = conversations::create(
            id,
            title,
            members.iter().map(|m| m.id).collect(),
            0,
            set.keys,
            set.keys_signature,
        )
        .await
        .map_err(|e| e.message)?;
        self.chats.timeline(id).update(|t| t.complete = true);
        self.adopt(&created)
            .await
            .ok_or_else(|| "The new conversation's keys did not check out.".to_owned())?;
        self.remember().await;
        Ok(id)
    }
}
