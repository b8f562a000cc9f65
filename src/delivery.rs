//! The client's delivery core: every decision a client makes about getting
//! messages in and out, as one state machine with no I/O, compiled for the
//! browser (wasm32) and natively alike. The browser's engine, the
//! integration tests' reader and the benchmark's clients all drive it; each
//! is a shell that runs its [`Command`]s (HTTP, Socket.IO, IndexedDB,
//! timers) and feeds back what happened as [`Event`]s.
//!
//! What it decides (DESIGN.md, "Delivery"):
//! - per conversation, which `seq`s are missing: the holes between what is
//!   held and the highest `seq` the server is known to hold (from the list,
//!   a push, or a send's answer), each fetched by its exact range, one
//!   fetch at a time per conversation, so that a push lost on the wire is
//!   recovered as soon as the next one shows its `seq`, and everything
//!   after every reconnect;
//! - which copy of a message is kept (one per id; see [`timeline`]);
//! - the outbox's order and its retries (see [`outbox`]);
//! - when to try again after a failure, with jittered backoff.
//!
//! It never sees a key or a plaintext it did not get from its shell, and
//! keeps nothing of its own beyond what the page shows.

pub mod backoff;
pub mod line;
pub mod outbox;
pub mod reactions;
pub mod reads;
pub mod timeline;

use std::collections::BTreeMap;

use self::backoff::{Backoff, Jitter};
use self::outbox::{Outbox, Parcel, Step};
use self::timeline::{Entry, Outcome, Timeline};
use crate::model::conversation::{Head, MAX_HISTORY_LIMIT};
use crate::model::ids::{ConversationId, MessageId};

/// Messages fetched when a conversation is first shown or scrolled up.
pub const PAGE: u32 = 50;

/// One history request: both bounds exclusive, as the wire has them. With
/// `after` the server answers the oldest `limit` above it; without, the
/// newest `limit` below `before` (or of all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fetch {
    pub conversation: ConversationId,
    pub after: Option<u64>,
    pub before: Option<u64>,
    pub limit: u32,
}

impl Fetch {
    /// Whether it reads downwards (the newest page, or an older one), so
    /// that a short answer means the oldest message was reached.
    fn downwards(&self) -> bool {
        self.after.is_none()
    }

    /// Whether it is a page of older messages the user scrolled up for.
    pub fn is_older(&self) -> bool {
        self.after.is_none() && self.before.is_some()
    }
}

/// What happened, as the shell tells it.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<E> {
    /// List the conversations again (at start, or a push named one the
    /// shell does not know).
    Refresh,
    /// The socket is connected (again): pushes may have been missed.
    Connected,
    /// The socket is down.
    Disconnected,
    /// The answer to [`Command::List`]: where each conversation the shell
    /// holds keys for stands.
    Listed(Vec<Head>),
    ListFailed,
    /// Conversations learnt some other way (added to one).
    Heads(Vec<Head>),
    /// A conversation's keys moved on (a new epoch is held here): a message
    /// waiting for them goes now rather than after its backoff.
    Rekeyed(ConversationId),
    /// The user is looking at this conversation: its newest page is wanted
    /// even before the list says what it holds.
    Open(ConversationId),
    /// The user scrolled up for older messages.
    Older(ConversationId),
    /// This conversation cannot be opened here (its keys were refused, or
    /// the server says it is not the user's): it is forgotten.
    Closed(ConversationId),
    /// A message the server pushed, opened by the shell.
    Pushed {
        conversation: ConversationId,
        entry: E,
    },
    /// The answer to a [`Command::Fetch`], opened by the shell.
    Page {
        fetch: Fetch,
        entries: Vec<E>,
    },
    PageFailed(Fetch),
    /// The user wrote a message: shown at once as pending.
    Written {
        conversation: ConversationId,
        entry: E,
    },
    /// A written message is sealed and kept: queue it for sending.
    Parked(Parcel),
    /// A written message could not be sealed.
    Unsealable {
        conversation: ConversationId,
        id: MessageId,
        reason: String,
    },
    /// The server stored a sent message.
    Sent {
        id: MessageId,
        seq: u64,
        at: String,
    },
    /// The server did not take a sent message: for now (`transient`: no
    /// answer, store unavailable, rate limited) or for good.
    Refused {
        id: MessageId,
        transient: bool,
        reason: String,
    },
    /// The server did not take a sent message because its epoch is no
    /// longer the conversation's (`stale_epoch`, `rekey_required`): it was
    /// not stored, and must be sealed again under the next epoch.
    Stale {
        id: MessageId,
    },
    /// The shell sealed a [`Command::Reseal`] parcel again: the same
    /// message id and text under the conversation's current epoch. It
    /// takes the old parcel's place and goes now.
    Resealed(Parcel),
    /// The user removes a message that failed for good.
    Discard {
        conversation: ConversationId,
        id: MessageId,
    },
    /// A time asked for by [`Command::Wake`] has come (or any time at all:
    /// an early or repeated timer does no harm).
    Timer,
}

/// What the shell is to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// This conversation's timeline changed: show it.
    Show(ConversationId),
    /// Ask for the conversation list.
    List,
    /// Ask for this range of history.
    Fetch(Fetch),
    /// Send this parcel (as it is, byte for byte).
    Send(Parcel),
    /// The server answered this parcel: stop keeping it.
    Unpark(String),
    /// Seal this parcel's message again, with the same id, under the
    /// conversation's next epoch (once this client holds it), and feed
    /// [`Event::Resealed`]; or, if that cannot be done yet,
    /// [`Event::Refused`] as transient, to try again later.
    Reseal(Parcel),
    /// Feed [`Event::Timer`] at this time (ms, the shell's clock).
    Wake { at: u64 },
}

/// One conversation's delivery state.
#[derive(Debug)]
struct Thread<E> {
    timeline: Timeline<E>,
    /// The highest `seq` the server is known to hold; `None` until a list,
    /// a push or an answer says.
    top: Option<u64>,
    /// Whether the newest page has been answered (or the conversation was
    /// empty): until then, pushes alone do not say where history starts.
    based: bool,
    /// The history request in flight.
    fetching: Option<Fetch>,
    /// The user asked for older messages.
    older: bool,
    /// An answer brought nothing new, or a fetch failed while the socket
    /// was down: no more fetches until news (a push, a list, a reconnect)
    /// comes, so a server that lies about what it holds cannot keep the
    /// client fetching.
    stalled: bool,
    /// A fetch failed: the next waits until this time.
    retry_at: Option<u64>,
}

impl<E> Default for Thread<E> {
    fn default() -> Self {
        Thread {
            timeline: Timeline::default(),
            top: None,
            based: false,
            fetching: None,
            older: false,
            stalled: false,
            retry_at: None,
        }
    }
}

impl<E: Entry> Thread<E> {
    /// Learns that the server holds `seq`; returns whether that is news.
    fn saw(&mut self, seq: u64) -> bool {
        let news = self.top.is_none_or(|top| seq > top);
        if news {
            self.top = Some(seq);
            self.stalled = false;
        }
        news
    }

    /// The next history request this conversation needs, if any.
    fn plan(&self, conversation: ConversationId) -> Option<Fetch> {
        if self.fetching.is_some() || self.stalled || self.retry_at.is_some() {
            return None;
        }
        let fetch = |after, before, limit| Fetch {
            conversation,
            after,
            before,
            limit,
        };
        if !self.based && !self.timeline.complete {
            // The newest page first, unless the server holds nothing.
            return (self.top != Some(0)).then(|| fetch(None, None, PAGE));
        }
        if let Some((after, before)) = self.timeline.first_hole(self.known()) {
            let room = before.map_or(u64::MAX, |b| b - after - 1);
            let limit = room.min(u64::from(MAX_HISTORY_LIMIT)) as u32;
            return Some(fetch(Some(after), before, limit));
        }
        if self.older && !self.timeline.complete {
            return Some(fetch(None, self.timeline.first_seq(), PAGE));
        }
        None
    }

    /// The highest `seq` known to exist: what the server said, or failing
    /// that what is held.
    fn known(&self) -> u64 {
        self.top.unwrap_or_else(|| self.timeline.last_seq())
    }
}

/// Whether the list is being asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listing {
    Idle,
    Running,
    /// Running, and asked for again meanwhile: one more run follows.
    Again,
}

/// The delivery state of one signed-in client.
#[derive(Debug)]
pub struct Core<E> {
    threads: BTreeMap<ConversationId, Thread<E>>,
    outbox: Outbox<E>,
    listing: Listing,
    connected: bool,
    /// The list failed: it is asked for again at this time.
    relist_at: Option<u64>,
    /// Lists and fetches failed in a row, for the backoff.
    failures: u32,
    jitter: Jitter,
}

impl<E: Entry> Core<E> {
    /// A core with nothing held; `seed` feeds the backoff's jitter.
    pub fn new(seed: u64) -> Self {
        Core {
            threads: BTreeMap::new(),
            outbox: Outbox::default(),
            listing: Listing::Idle,
            connected: false,
            relist_at: None,
            failures: 0,
            jitter: Jitter::new(seed),
        }
    }

    /// A conversation's timeline, once anything is known of it.
    pub fn timeline(&self, conversation: ConversationId) -> Option<&Timeline<E>> {
        self.threads.get(&conversation).map(|t| &t.timeline)
    }

    /// The highest `seq` of a conversation held with nothing missing below
    /// it (0 if none).
    pub fn contiguous(&self, conversation: ConversationId) -> u64 {
        self.timeline(conversation).map_or(0, Timeline::contiguous)
    }

    /// Whether the socket is up, as last told.
    pub fn connected(&self) -> bool {
        self.connected
    }

    /// Whether nothing is being fetched or listed: caught up, as far as
    /// this client knows.
    pub fn settled(&self) -> bool {
        self.listing == Listing::Idle && self.threads.values().all(|t| t.fetching.is_none())
    }

    /// Whether an older page is wanted or on its way for a conversation.
    pub fn wants_older(&self, conversation: ConversationId) -> bool {
        self.threads.get(&conversation).is_some_and(|t| t.older)
    }

    /// Messages waiting to be sent, the one in flight included.
    pub fn unsent(&self) -> usize {
        self.outbox.len()
    }

    /// Takes one event at time `now` (ms, the shell's clock); answers what
    /// to do, each conversation to show at most once, in the order decided.
    pub fn handle(&mut self, now: u64, event: Event<E>) -> Vec<Command> {
        let mut out = Out::default();
        match event {
            Event::Refresh => self.list(&mut out),
            Event::Connected => {
                self.connected = true;
                self.relist_at = None;
                self.failures = 0;
                for thread in self.threads.values_mut() {
                    (thread.stalled, thread.retry_at) = (false, None);
                }
                self.list(&mut out);
                out.step(self.outbox.tick(now, true));
            }
            Event::Disconnected => self.connected = false,
            Event::Rekeyed(conversation) => {
                if self.outbox.head_in(conversation) {
                    out.step(self.outbox.tick(now, true));
                }
            }
            Event::Listed(heads) => {
                self.failures = 0;
                self.learn(&heads, &mut out);
                self.listing = match self.listing {
                    Listing::Again => {
                        out.push(Command::List);
                        Listing::Running
                    }
                    _ => Listing::Idle,
                };
            }
            Event::ListFailed if self.listing == Listing::Again => {
                // Asked for again after this one started: that one goes now.
                out.push(Command::List);
                self.listing = Listing::Running;
            }
            Event::ListFailed => {
                self.listing = Listing::Idle;
                // Not connected: the next connect lists anyway.
                if self.connected && self.relist_at.is_none() {
                    let at = self.backoff(now);
                    self.relist_at = Some(at);
                    out.push(Command::Wake { at });
                }
            }
            Event::Heads(heads) => self.learn(&heads, &mut out),
            Event::Open(conversation) => {
                self.threads.entry(conversation).or_default().stalled = false;
            }
            Event::Closed(conversation) => {
                self.threads.remove(&conversation);
            }
            Event::Older(conversation) => {
                if let Some(thread) = self.threads.get_mut(&conversation)
                    && !thread.timeline.complete
                {
                    thread.older = true;
                    thread.stalled = false;
                }
            }
            Event::Pushed {
                conversation,
                entry,
            } => {
                let thread = self.threads.entry(conversation).or_default();
                // The server is there: a failed fetch need not wait.
                thread.retry_at = None;
                if let Some(seq) = entry.seq() {
                    thread.saw(seq);
                }
                if thread.timeline.upsert(entry) {
                    out.show(conversation);
                }
            }
            Event::Page { fetch, entries } => {
                self.failures = 0;
                self.page(fetch, entries, &mut out)
            }
            Event::PageFailed(fetch) => {
                let at = self.backoff(now);
                if let Some(thread) = self.threads.get_mut(&fetch.conversation)
                    && thread.fetching == Some(fetch)
                {
                    thread.fetching = None;
                    if self.connected {
                        thread.retry_at = Some(at);
                        out.push(Command::Wake { at });
                    } else {
                        // The next connect fetches again.
                        thread.stalled = true;
                    }
                }
            }
            Event::Written {
                conversation,
                entry,
            } => {
                if self
                    .threads
                    .entry(conversation)
                    .or_default()
                    .timeline
                    .upsert(entry)
                {
                    out.show(conversation);
                }
            }
            Event::Parked(parcel) => {
                let conversation = parcel.outgoing.conversation_id;
                let entry = self
                    .threads
                    .get(&conversation)
                    .and_then(|t| t.timeline.get(parcel.id()))
                    .cloned();
                // Written first, always; a parcel of nothing shown is not sent.
                if let Some(entry) = entry {
                    out.step(self.outbox.push(parcel, entry));
                }
            }
            Event::Unsealable {
                conversation,
                id,
                reason,
            } => self.settle(conversation, id, None, Outcome::Failed(reason), &mut out),
            Event::Sent { id, seq, at } => {
                if let Some(((parcel, entry), next)) = self.outbox.answered(id) {
                    out.push(Command::Unpark(parcel.key));
                    let conversation = parcel.outgoing.conversation_id;
                    let stored = Outcome::Stored { seq, at };
                    self.settle(conversation, id, Some(entry), stored, &mut out);
                    out.step(next);
                }
            }
            Event::Refused {
                id,
                transient: true,
                ..
            } => {
                let random = self.jitter.share();
                out.step(self.outbox.retry_later(id, now, random));
            }
            Event::Stale { id } => {
                if let Some(parcel) = self.outbox.stale(id) {
                    out.push(Command::Reseal(parcel));
                }
            }
            Event::Resealed(parcel) => out.step(self.outbox.resealed(parcel)),
            Event::Refused { id, reason, .. } => {
                if let Some(((parcel, entry), next)) = self.outbox.refused(id) {
                    let conversation = parcel.outgoing.conversation_id;
                    let failed = Outcome::Failed(reason);
                    self.settle(conversation, id, Some(entry), failed, &mut out);
                    out.step(next);
                }
            }
            Event::Discard { conversation, id } => {
                if let Some(thread) = self.threads.get_mut(&conversation)
                    && thread.timeline.remove(id)
                {
                    out.show(conversation);
                }
                if let Some(key) = self.outbox.discard(id) {
                    out.push(Command::Unpark(key));
                }
            }
            Event::Timer => {
                if self.relist_at.is_some_and(|at| at <= now) {
                    self.list(&mut out);
                }
                for thread in self.threads.values_mut() {
                    if thread.retry_at.is_some_and(|at| at <= now) {
                        thread.retry_at = None;
                    }
                }
                out.step(self.outbox.tick(now, false));
            }
        }
        self.plan(&mut out);
        out.0
    }

    /// Asks for the list, or for one more run if one is under way.
    fn list(&mut self, out: &mut Out) {
        self.relist_at = None;
        self.listing = match self.listing {
            Listing::Idle => {
                out.push(Command::List);
                Listing::Running
            }
            _ => Listing::Again,
        };
    }

    /// Takes what the server says each conversation holds.
    fn learn(&mut self, heads: &[Head], out: &mut Out) {
        for head in heads {
            let thread = self.threads.entry(head.id).or_default();
            thread.saw(head.last_seq);
            if head.last_seq == 0 && !thread.timeline.has_stored() && !thread.timeline.complete {
                // Nothing was ever said: the whole conversation is held.
                thread.timeline.complete = true;
                out.show(head.id);
            }
        }
    }

    /// Takes a history page.
    fn page(&mut self, fetch: Fetch, entries: Vec<E>, out: &mut Out) {
        let thread = self.threads.entry(fetch.conversation).or_default();
        if thread.fetching == Some(fetch) {
            thread.fetching = None;
        }
        let count = entries.len();
        let mut news = false;
        for entry in entries {
            if let Some(seq) = entry.seq() {
                thread.saw(seq);
            }
            news |= thread.timeline.upsert(entry);
        }
        if fetch.downwards() && fetch.before.is_none() {
            thread.based = true;
        }
        let reached_oldest = fetch.downwards() && count < fetch.limit as usize
            || thread.timeline.first_seq() == Some(1);
        if reached_oldest && !thread.timeline.complete {
            thread.timeline.complete = true;
            news = true;
        }
        if fetch.is_older() {
            thread.older = false;
        }
        if news {
            out.show(fetch.conversation);
        } else {
            thread.stalled = true;
        }
    }

    /// Puts the settled copy of one of my messages in its timeline: the
    /// copy kept when it was queued, else the one shown.
    fn settle(
        &mut self,
        conversation: ConversationId,
        id: MessageId,
        queued: Option<E>,
        outcome: Outcome,
        out: &mut Out,
    ) {
        let Some(thread) = self.threads.get_mut(&conversation) else {
            return;
        };
        let Some(entry) = queued.or_else(|| thread.timeline.get(id).cloned()) else {
            return;
        };
        if let Outcome::Stored { seq, .. } = outcome {
            thread.saw(seq);
        }
        if thread.timeline.upsert(entry.settled(outcome)) {
            out.show(conversation);
        }
    }

    /// The time to try again after one more failure in a row.
    fn backoff(&mut self, now: u64) -> u64 {
        self.failures = self.failures.saturating_add(1);
        now + u64::from(Backoff::RETRY.delay_ms(self.failures, self.jitter.share()))
    }

    /// Asks for every history range a conversation needs and is not
    /// fetching or waiting to fetch yet.
    fn plan(&mut self, out: &mut Out) {
        for (id, thread) in &mut self.threads {
            if let Some(fetch) = thread.plan(*id) {
                thread.fetching = Some(fetch);
                out.push(Command::Fetch(fetch));
            }
        }
    }
}

/// Commands collected while handling one event.
#[derive(Default)]
struct Out(Vec<Command>);

impl Out {
    fn push(&mut self, command: Command) {
        self.0.push(command);
    }

    fn show(&mut self, conversation: ConversationId) {
        if !self.0.contains(&Command::Show(conversation)) {
            self.0.push(Command::Show(conversation));
        }
    }

    fn step(&mut self, step: Option<Step>) {
        match step {
            Some(Step::Send(parcel)) => self.0.push(Command::Send(parcel)),
            Some(Step::Wake { at }) => self.0.push(Command::Wake { at }),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests;
