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

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use leptos::prelude::*;
use leptos::task::spawn_local;

mod changing;
mod reading;
mod receiving;
mod sending;
mod syncing;
mod typing;

use self::receiving::{Pending, Receiving};
use self::sending::Sealer;
use super::cache;
use super::contacts;
use super::idb;
use super::keyring::{self, Keyring, Rejected};
use super::keystore::{self, LocalIdentity};
use super::session;
use super::socket::{Link, Realtime, sleep};
use crate::api::{accounts, conversations};
use crate::crypto::keyset;
use crate::crypto::pins::{Book, Change, Sight, Unpinned};
use crate::crypto::safety::SafetyNumber;
use crate::delivery::reads::Marker;
use crate::delivery::{Command, Core, Event, Fetch};
use crate::model::account::PublicUser;
use crate::model::conversation::{Conversation, History, MAX_KNOWN, NewConversation};
use crate::model::ids::{ConversationId, MessageId, UserId};
use crate::model::plain::Content;
use crate::screen::{
    ChangeNote, Chats, KeyWarning, Line, LinkState, Me, NameProblem, Summary, Verification,
};

/// The keys this page holds, and every conversation it has seen.
#[derive(Default)]
struct Keys {
    rings: RefCell<HashMap<ConversationId, Rc<Keyring>>>,
    /// Every conversation seen, as the server gave it (kept for offline).
    known: RefCell<HashMap<ConversationId, Conversation>>,
    /// By conversation, the newest epoch in which a member's signed
    /// departure (a `leave` message) was seen: nothing more is sent under
    /// it, whatever the server says (suite step 7).
    departed: RefCell<HashMap<ConversationId, u32>>,
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
    /// The contact book: pins, held key changes, admitted heads.
    book: RefCell<Book>,
    book_sync: BookSync,
    receiving: Receiving,
    sealer: Sealer,
    /// When this page last said `typing`, by conversation (ms).
    typed: RefCell<HashMap<ConversationId, u64>>,
    /// Telling the server how far the user has read, by conversation.
    markers: RefCell<HashMap<ConversationId, Marker>>,
}

/// Whether the contact book is being synced, and whether to go again.
#[derive(Default)]
struct BookSync {
    running: Cell<bool>,
    again: Cell<bool>,
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

/// What the engine waits for first, started before it is built: the core,
/// and the newest page of the conversation being opened, asked for.
struct Boot {
    core: Core<Line>,
    opening: Option<ConversationId>,
    early: Vec<(Fetch, Pending<History>)>,
}

impl Boot {
    fn new() -> Boot {
        let seed = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
        let mut core = Core::new(seed);
        // That page needs only the session cookie: it is asked for before
        // anything local is read.
        let opening = conversation_in_address();
        let commands = opening
            .map(|id| core.handle(clock(), Event::Open(id)))
            .unwrap_or_default();
        Boot {
            core,
            opening,
            early: receiving::ask_early(commands),
        }
    }
}

thread_local! {
    /// The boot started as the page loaded, for the first start to take.
    static BOOT: RefCell<Option<Boot>> = const { RefCell::new(None) };
}

/// Called as a chat page loads, before it hydrates: asks for the open
/// conversation's newest page and starts opening the database, so that
/// both go on while the page's code runs (hydration holds the page's one
/// thread for tens of ms, and the engine starts only after it).
pub fn boot() {
    let on_chats = address().is_some_and(|path| path == "/chats" || path.starts_with("/chats/"));
    if on_chats {
        idb::open_soon();
        BOOT.with(|b| *b.borrow_mut() = Some(Boot::new()));
    }
}

/// Starts the engine for the identity this browser holds; `signed_out`
/// runs if there is none or the session has ended.
pub fn start(chats: Chats, signed_out: impl Fn() + 'static) {
    stop();
    let Boot {
        core,
        opening,
        early,
    } = BOOT
        .with(|b| b.borrow_mut().take())
        .filter(|boot| boot.opening == conversation_in_address())
        .unwrap_or_else(Boot::new);
    spawn_local(async move {
        let Ok(Some(me)) = keystore::load().await else {
            signed_out();
            return;
        };
        let Ok(my_id) = me.user_id.parse::<UserId>() else {
            signed_out();
            return;
        };
        // The rest of what this browser kept is read at once: the contact
        // book, the conversations (checked again below).
        let (fingerprint, book, mut cached) = futures::join!(
            session::fingerprint(&me),
            contacts::load(&me.user_id),
            cache::load(&me.user_id),
        );
        let fingerprint = fingerprint.unwrap_or_default();
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
            book: RefCell::new(book),
            book_sync: BookSync::default(),
            receiving: Receiving::default(),
            sealer: Sealer::default(),
            typed: RefCell::default(),
            markers: RefCell::default(),
        });
        ENGINE.with(|e| *e.borrow_mut() = Some(engine.clone()));
        reading::watch_visibility(engine.chats.visible);
        engine.sync_book();
        engine.load_sharing();
        for (fetch, answer) in early {
            engine.fetch(fetch, Some(answer));
        }
        // What this browser kept: the conversations (checked again now) and
        // the messages still waiting to be sent. Both work offline. The list
        // is asked for while the kept key sets are checked, the one being
        // opened first, so that its page shows before the others are done.
        engine
            .receiving
            .ask_list(known_ids(cached.iter().map(|c| c.id)));
        cached.sort_by_key(|c| Some(c.id) != opening);
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
                // Who is online is not known while disconnected; the next
                // connect tells again.
                engine.chats.online.update(|o| o.clear());
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
        engine.enqueue(conversation, Content::Text { body: text });
    }
}

/// Reacts to a message with `emoji`, or (`remove`) takes it back: sealed
/// and sent like a text, and shown under its target at once.
pub fn react(conversation: ConversationId, target: MessageId, emoji: String, remove: bool) {
    if let Some(engine) = running() {
        let content = Content::Reaction {
            target,
            emoji,
            remove,
        };
        engine.enqueue(conversation, content);
    }
}

pub use reading::{read_up_to, set_notices, set_sharing};

/// This user is typing in a conversation (the room hears it, at most every
/// two seconds).
pub fn typing(conversation: ConversationId) {
    if let Some(engine) = running() {
        engine.typed(conversation);
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

/// Checks that `name` is a user one can talk to, against the pins (a first
/// sight pins them); answers the user as pinned.
pub fn check_name(name: String, done: impl FnOnce(Result<PublicUser, NameProblem>) + 'static) {
    let Some(engine) = running() else {
        return done(Err(NameProblem::Other("Not signed in.".into())));
    };
    spawn_local(async move {
        let outcome = match accounts::lookup(name).await {
            Ok(user) => engine.sighted(&user).await.map(|()| user),
            Err(e) => Err(NameProblem::Other(e.message)),
        };
        done(outcome);
    });
}

/// The user accepts the key change held for the contact pinned under
/// `pinned`, after the warning: re-pins, and opens what it held back.
pub fn accept_change(pinned: UserId) {
    if let Some(engine) = running() {
        spawn_local(async move { engine.accept_change(pinned).await });
    }
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

/// Adds `people` (each checked with [`check_name`] first) to a
/// conversation: a new epoch, signed here.
pub fn add_people(
    conversation: ConversationId,
    people: Vec<PublicUser>,
    done: impl FnOnce(Result<(), String>) + 'static,
) {
    let Some(engine) = running() else {
        return done(Err("Not signed in.".into()));
    };
    spawn_local(async move { done(engine.add_people(conversation, people).await) });
}

/// Removes a member from a conversation I created: a new epoch without
/// them, signed here.
pub fn remove_member(
    conversation: ConversationId,
    member: UserId,
    done: impl FnOnce(Result<(), String>) + 'static,
) {
    let Some(engine) = running() else {
        return done(Err("Not signed in.".into()));
    };
    spawn_local(async move { done(engine.remove_member(conversation, member).await) });
}

/// Leaves a conversation.
pub fn leave(conversation: ConversationId, done: impl FnOnce(Result<(), String>) + 'static) {
    let Some(engine) = running() else {
        return done(Err("Not signed in.".into()));
    };
    spawn_local(async move { done(engine.leave(conversation).await) });
}

/// Deletes here a conversation I am no longer in.
pub fn forget(conversation: ConversationId) {
    if let Some(engine) = running() {
        spawn_local(async move { engine.forget(conversation).await });
    }
}

/// The "Verify" view of a pinned contact: the safety number of the user
/// and them, from the pinned keys.
pub fn verification(contact: UserId) -> Option<Verification> {
    let engine = running()?;
    let pinned = engine.book.borrow().contact(contact)?.clone();
    let number = SafetyNumber::of(&engine.me_public(), &pinned.user);
    Some(Verification {
        id: contact,
        name: pinned.user.username,
        groups: number.groups().into_iter().map(str::to_owned).collect(),
        qr_svg: super::qr::svg(&number.qr)?,
        verified: pinned.verified,
    })
}

/// Marks a pinned contact verified (after comparing safety numbers), or
/// takes the mark off.
pub fn set_verified(contact: UserId, verified: bool) {
    if let Some(engine) = running() {
        spawn_local(async move {
            if engine.book.borrow_mut().set_verified(contact, verified) {
                engine.save_book().await;
                engine.refresh_marks();
            }
        });
    }
}

/// Logs out here and on the server.
pub fn log_out(done: impl FnOnce(Result<(), String>) + 'static) {
    stop();
    spawn_local(async move { done(session::log_out().await) });
}

/// The path in the address bar.
fn address() -> Option<String> {
    web_sys::window()?.location().pathname().ok()
}

/// The conversation the address bar names (`/chats/{id}`), if any.
fn conversation_in_address() -> Option<ConversationId> {
    crate::screen::pane_in_address(&address()?).flatten()
}

/// The conversations a list request names as held (so the server answers
/// them as heads), or none if they are too many to name.
fn known_ids(ids: impl Iterator<Item = ConversationId>) -> Option<Vec<ConversationId>> {
    let known: Vec<ConversationId> = ids.collect();
    (known.len() <= MAX_KNOWN).then_some(known)
}

/// The timeline's lines for who came and went, epoch by epoch, built from
/// the signed chain alone ("ana added carl", "ben left", "ana removed
/// ben"); "You" and "you" for this user.
fn change_notes(chain: &[keyset::Checked], me: UserId) -> Vec<ChangeNote> {
    let name = |id: UserId, start: bool| {
        if id == me {
            return if start { "You" } else { "you" }.to_owned();
        }
        chain
            .iter()
            .rev()
            .find_map(|e| e.member(id))
            .map_or_else(|| "someone".to_owned(), |m| m.username.clone())
    };
    let names = |ids: &[UserId]| {
        let all: Vec<String> = ids.iter().map(|id| name(*id, false)).collect();
        match all.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => all.join(""),
        }
    };
    let mut notes = Vec::new();
    for change in keyset::membership(chain) {
        let signer = name(change.signer, true);
        let mut say = |text: String| {
            notes.push(ChangeNote {
                epoch: change.epoch,
                text,
            })
        };
        for id in &change.left {
            say(format!("{} left", name(*id, true)));
        }
        if !change.removed.is_empty() {
            say(format!("{signer} removed {}", names(&change.removed)));
        }
        if !change.added.is_empty() {
            say(format!("{signer} added {}", names(&change.added)));
        }
    }
    notes
}

/// A held key change as the page shows it.
fn warning_of(change: &Change) -> KeyWarning {
    KeyWarning {
        pinned: change.pinned.user.id,
        name: change.pinned.user.username.clone(),
        text: change.describe(),
    }
}

/// Those of `members` marked verified in `book`.
fn verified_among(book: &Book, members: &[UserId]) -> Vec<UserId> {
    members
        .iter()
        .filter(|id| book.contact(**id).is_some_and(|c| c.verified))
        .copied()
        .collect()
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
            Command::Reseal(parcel) => self.reseal(parcel),
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

    /// The list's entry for `c`, with the names of `members` (from its
    /// signed key set; none if it could not be checked).
    fn summary_of(
        &self,
        c: &Conversation,
        members: Vec<(UserId, String)>,
        problem: Option<String>,
    ) -> Summary {
        let others: Vec<String> = members
            .iter()
            .filter(|(id, _)| *id != self.my_id)
            .map(|(_, name)| name.clone())
            .collect();
        let name = c.title.clone().unwrap_or_else(|| match others.is_empty() {
            true => "A conversation that could not be checked".to_owned(),
            false => others.join(", "),
        });
        let timeline = self.chats.timeline(c.id);
        let active_at = timeline
            .with_untracked(|t| t.newest().map(|l| l.at.clone()))
            .filter(|at| at.as_str() > c.created_at.as_str())
            .unwrap_or_else(|| c.created_at.clone());
        let member_ids: Vec<UserId> = members.iter().map(|(id, _)| *id).collect();
        let book = self.book.borrow();
        let chain = keyset::check_chain(c).unwrap_or_default();
        let first_epoch = chain
            .iter()
            .find(|e| e.member(self.my_id).is_some())
            .map_or(0, |e| e.epoch);
        Summary {
            id: c.id,
            name,
            group: members.len() > 2 || chain.len() > 1,
            members: members.into_iter().map(|(_, name)| name).collect(),
            warning: book.change_among(member_ids.iter()).map(warning_of),
            verified: verified_among(&book, &member_ids),
            member_ids,
            problem,
            active_at,
            created_by: c.created_by,
            changes: change_notes(&chain, self.my_id),
            first_epoch,
            gone: None,
        }
    }

    /// Puts every held key change on the conversations it concerns (and
    /// takes accepted ones off), and the verified marks.
    fn refresh_marks(&self) {
        let book = self.book.borrow();
        self.chats.list.update(|list| {
            for summary in list {
                summary.warning = book.change_among(summary.member_ids.iter()).map(warning_of);
                summary.verified = verified_among(&book, &summary.member_ids);
            }
        });
    }

    /// Keeps the contact book here.
    async fn keep_book(&self) {
        let book = self.book.borrow().clone();
        if contacts::save(&self.me.user_id, &book).await.is_err() {
            leptos::logging::warn!("the contact book could not be kept");
        }
    }

    /// Keeps the contact book here, and on the server if it changed.
    async fn save_book(self: &Rc<Self>) {
        self.keep_book().await;
        if self.book.borrow().dirty() {
            self.sync_book();
        }
    }

    /// A lookup's answer, against the pins.
    async fn sighted(self: &Rc<Self>, user: &PublicUser) -> Result<(), NameProblem> {
        let sight = self.book.borrow_mut().sight(&self.me_public(), user);
        match sight {
            Sight::Me | Sight::Known => Ok(()),
            Sight::New => {
                self.save_book().await;
                Ok(())
            }
            Sight::NotMe => Err(NameProblem::Other(
                "The server answered with your own name or id and keys that are not yours. Nothing was added."
                    .into(),
            )),
            Sight::Changed(change) => {
                self.save_book().await;
                self.refresh_marks();
                Err(NameProblem::Changed(warning_of(&change)))
            }
        }
    }

    async fn accept_change(self: &Rc<Self>, pinned: UserId) {
        if !self.book.borrow_mut().accept(pinned) {
            return;
        }
        self.save_book().await;
        self.refresh_marks();
        // What the change held back is checked again now.
        let held: Vec<Conversation> = self
            .keys
            .known
            .borrow()
            .values()
            .filter(|c| self.ring(c.id).is_none())
            .cloned()
            .collect();
        let mut heads = Vec::new();
        for c in held {
            if self.adopt(&c).await.is_some() {
                heads.push(c.head());
            }
        }
        self.save_book().await;
        self.feed(Event::Heads(heads));
    }

    /// Checks and holds a conversation's keys, against the pins, and lists
    /// it; a page of it answered before its keys were held is opened now.
    /// A key change holds it back (listed, with the warning) until the user
    /// accepts the change.
    async fn adopt(self: &Rc<Self>, c: &Conversation) -> Option<Rc<Keyring>> {
        if let Some(ring) = self.ring(c.id) {
            return Some(ring);
        }
        self.keys.known.borrow_mut().insert(c.id, c.clone());
        let me = self.me_public();
        let admit = |chain: &[keyset::Checked]| self.book.borrow_mut().admit(&me, c.id, chain);
        match keyring::accept(c, &self.me, admit).await {
            Ok(ring) => {
                let ring = Rc::new(ring);
                self.keys.rings.borrow_mut().insert(c.id, ring.clone());
                self.chats
                    .put_summary(self.summary_of(c, ring.members(), None));
                self.open_waiting(&ring);
                Some(ring)
            }
            Err(why) => {
                // Names from the signed set, once its signatures verified.
                let signed = !matches!(why, Rejected::Chain(_));
                let members = keyset::check_chain(c)
                    .ok()
                    .filter(|_| signed)
                    .and_then(|chain| chain.last().map(|e| e.members.clone()))
                    .unwrap_or_default()
                    .into_iter()
                    .map(|m| (m.id, m.username))
                    .collect();
                let problem = match why {
                    Rejected::Pins(Unpinned::Changed(_)) => {
                        self.refresh_marks();
                        None
                    }
                    why => Some(format!("This conversation cannot be opened safely: {why}.")),
                };
                self.chats.put_summary(self.summary_of(c, members, problem));
                None
            }
        }
    }

    /// Keeps the conversations known here, for the next offline start, and
    /// the contact book.
    async fn remember(self: &Rc<Self>) {
        let all: Vec<Conversation> = self.keys.known.borrow().values().cloned().collect();
        let _ = cache::save(&self.me.user_id, &all).await;
        self.save_book().await;
    }

    async fn create(
        self: &Rc<Self>,
        others: Vec<PublicUser>,
        title: Option<String>,
    ) -> Result<ConversationId, String> {
        let me = self.me_public();
        let mut members = vec![me.clone()];
        for other in others {
            // Nothing is wrapped for keys that are not exactly as pinned.
            match self.book.borrow().compare(&me, &other) {
                Sight::Known => {}
                Sight::Me => continue,
                _ => {
                    return Err(format!(
                        "{}'s keys are not the ones you know. Remove them and add them again to review the change.",
                        other.username
                    ));
                }
            }
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
        self.feed(Event::Heads(vec![created.head()]));
        self.remember().await;
        Ok(id)
    }
}
