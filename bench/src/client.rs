//! A client that comes back the way the browser does: a Socket.IO
//! connection reopened after every drop with the browser's backoff
//! (full jitter), and on every connect and every gap a push reveals, the
//! browser's own delivery core ([`Core`]) deciding what to list and fetch.
//! The storm (f) and the soak (h) run hundreds to thousands of these. It
//! never opens a message: it holds them as the wire carries them
//! ([`Message`]) or as a bare id and `seq` ([`Seen`]), which is all the
//! core needs to find holes.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hush::crypto::native_client::random;
use hush::delivery::backoff::Backoff;
use hush::delivery::timeline::{Entry, Outcome, Rank};
use hush::delivery::{Command, Core, Event, Fetch};
use hush::model::conversation::{Head, Message};
use hush::model::ids::{ConversationId, MessageId};
use hush::protocol::NEW_MESSAGE;
use hush::protocol::frames::{self, EnginePacket, SocketPacket};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message as Frame;

use crate::api::Api;
use crate::live::{self, Ws};

/// What the harness can see of one client.
#[derive(Debug, Default)]
pub struct State {
    /// Highest `seq` held with nothing missing below it.
    pub have: AtomicU64,
    pub connected: AtomicBool,
    /// Times the socket went down (dropped, or told to hang up).
    pub reconnects: AtomicU64,
    /// Messages that came by history while (re)connecting: the catch-up.
    pub caught_up: AtomicU64,
    /// Messages that came by history while connected: a gap a push showed
    /// (a push lost, or two pushed out of order).
    pub gap_filled: AtomicU64,
}

/// How a client is told to go away (the soak's churn); it then comes back
/// as after any drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hangup {
    /// As a page that closes: a Socket.IO DISCONNECT, then the WebSocket
    /// closing handshake.
    Clean,
    /// The TCP connection reset (RST): no close at any layer.
    Reset,
    /// Nothing at all: the client stops reading and answering pings, as
    /// one whose network went away, and keeps the connection open for
    /// [`SILENT_FOR`], so only the server's ping timeout ends it.
    Silent,
}

/// How long a silently dropped connection is kept open on this side: more
/// than the server's ping interval and timeout (25 + 20 s, socketioxide's
/// defaults).
pub const SILENT_FOR: Duration = Duration::from_secs(60);

/// A wire message as a client holds it.
pub trait Wire: Entry + DeserializeOwned + Send + 'static {
    fn conversation(&self) -> ConversationId;
}

impl Wire for Message {
    fn conversation(&self) -> ConversationId {
        self.conversation_id
    }
}

/// A message held as its id and `seq` only: the soak's clients hold an
/// hour of messages each.
#[derive(Debug, Clone, Deserialize)]
pub struct Seen {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub seq: u64,
}

impl Entry for Seen {
    fn id(&self) -> MessageId {
        self.id
    }

    fn seq(&self) -> Option<u64> {
        Some(self.seq)
    }

    fn rank(&self) -> Rank {
        Rank::Verified
    }

    fn settled(self, _: Outcome) -> Self {
        self
    }
}

impl Wire for Seen {
    fn conversation(&self) -> ConversationId {
        self.conversation_id
    }
}

/// The browser's reconnect delay before attempt `n` (from 0).
fn backoff(n: u32) -> Duration {
    let [a, b, c, d] = random::<4>();
    let share = f64::from(u32::from_le_bytes([a, b, c, d])) / f64::from(u32::MAX);
    Duration::from_millis(u64::from(Backoff::RECONNECT.delay_ms(n + 1, share)))
}

/// The core's clock: ms since the harness started.
fn clock() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// One client's delivery: the browser's own core ([`Core`]), its
/// commands carried out over the harness's HTTP client.
struct Delivery<E> {
    core: Core<E>,
    room: ConversationId,
    /// The conversations had in full: a list names them (`known`), and
    /// the server answers them as heads, as it does for the browser.
    known: Vec<String>,
    /// Messages that came in history pages, since last taken.
    fetched: u64,
}

impl<E: Wire> Delivery<E> {
    /// Feeds the core one event and carries out what it decides. A request
    /// that fails is told to the core and ends the run with `Err`: the
    /// client then reconnects, and the core plans again.
    async fn feed(&mut self, api: &Api, token: &str, event: Event<E>) -> Result<(), String> {
        let mut commands: VecDeque<Command> = self.core.handle(clock(), event).into();
        while let Some(command) = commands.pop_front() {
            let answer = match command {
                Command::List => match self.list(api, token).await {
                    Ok(heads) => Event::Listed(heads),
                    Err(e) => {
                        self.core.handle(clock(), Event::ListFailed);
                        return Err(e);
                    }
                },
                Command::Fetch(fetch) => match history(api, token, fetch).await {
                    Ok(entries) => {
                        self.fetched += entries.len() as u64;
                        Event::Page { fetch, entries }
                    }
                    Err(e) => {
                        self.core.handle(clock(), Event::PageFailed(fetch));
                        return Err(e);
                    }
                },
                // Nothing shown, nothing sent through the core, no timers:
                // a failure reconnects instead.
                Command::Show(_)
                | Command::Send(_)
                | Command::Reseal(_)
                | Command::Unpark(_)
                | Command::Wake { .. } => {
                    continue;
                }
            };
            commands.extend(self.core.handle(clock(), answer));
        }
        Ok(())
    }

    /// The list, as heads of the client's own room.
    async fn list(&mut self, api: &Api, token: &str) -> Result<Vec<Head>, String> {
        let list = api
            .post(
                "conversations/list",
                &json!({ "known": self.known }),
                Some(token),
            )
            .await
            .map_err(|e| e.to_string())?;
        let full = list["conversations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        self.known.extend(
            full.iter()
                .filter_map(|c| c["id"].as_str().map(str::to_owned)),
        );
        let heads = list["heads"].as_array().cloned().unwrap_or_default();
        Ok(full
            .into_iter()
            .chain(heads)
            .filter_map(|c| serde_json::from_value::<Head>(c).ok())
            .filter(|h| h.id == self.room)
            .collect())
    }

    /// The highest `seq` held with nothing missing below it.
    fn have(&self) -> u64 {
        self.core.contiguous(self.room)
    }

    /// Messages fetched since the last call.
    fn take_fetched(&mut self) -> u64 {
        std::mem::take(&mut self.fetched)
    }
}

/// One history page.
async fn history<E: Wire>(api: &Api, token: &str, fetch: Fetch) -> Result<Vec<E>, String> {
    #[derive(Deserialize)]
    struct Page<E> {
        messages: Vec<E>,
    }
    let page = api
        .post(
            "messages/history",
            &json!({
                "conversation_id": fetch.conversation,
                "after_seq": fetch.after,
                "before_seq": fetch.before,
                "limit": fetch.limit,
            }),
            Some(token),
        )
        .await
        .map_err(|e| e.to_string())?;
    serde_json::from_value::<Page<E>>(page)
        .map(|h| h.messages)
        .map_err(|e| e.to_string())
}

/// Who a client is.
pub struct Client {
    pub api: Api,
    pub server: SocketAddr,
    /// Its number: picks its source address and seeds its jitter.
    pub n: usize,
    pub token: String,
    /// The one conversation it follows.
    pub room: ConversationId,
    pub state: Arc<State>,
}

/// The next hang-up asked for (never, without a channel).
async fn next_hangup(hangups: &mut Option<mpsc::Receiver<Hangup>>) -> Option<Hangup> {
    match hangups {
        Some(hangups) => hangups.recv().await,
        None => std::future::pending().await,
    }
}

/// Goes away as `how` says.
async fn hang_up(mut ws: Ws, how: Hangup, silent: &mut JoinSet<()>) {
    match how {
        Hangup::Clean => {
            // Socket.IO DISCONNECT of the namespace "/" (what
            // socket.disconnect() sends), then the closing handshake.
            let _ = ws.send(Frame::text("41")).await;
            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                let _ = ws.close(None).await;
                while let Some(Ok(_)) = ws.next().await {}
            })
            .await;
        }
        Hangup::Reset => {
            let _ = ws.get_ref().set_zero_linger();
            drop(ws);
        }
        Hangup::Silent => {
            while silent.try_join_next().is_some() {}
            silent.spawn(async move {
                tokio::time::sleep(SILENT_FOR).await;
                drop(ws);
            });
        }
    }
}

/// One client, forever (until its task is aborted): connects, catches up,
/// takes pushes, and after a drop or a hang-up asked through `hangups`
/// comes back. `pushed` sees every push as it arrives, before the core.
pub async fn run<E: Wire>(
    client: Client,
    mut hangups: Option<mpsc::Receiver<Hangup>>,
    pushed: impl Fn(&E, Instant) + Send + 'static,
) {
    let Client {
        api,
        server,
        n,
        token,
        room,
        state,
    } = client;
    let mut attempt = 0u32;
    let mut delivery = Delivery::<E> {
        core: Core::new(n as u64),
        room,
        known: Vec::new(),
        fetched: 0,
    };
    // Connections dropped silently, kept open until the server gives up;
    // closed with the client.
    let mut silent = JoinSet::new();
    loop {
        let mut ws = match live::handshake(server, live::source(n), &token).await {
            Ok(ws) => ws,
            Err(_) => {
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
                continue;
            }
        };
        attempt = 0;
        state.connected.store(true, Ordering::SeqCst);
        let caught_up = delivery.feed(&api, &token, Event::Connected).await;
        state
            .caught_up
            .fetch_add(delivery.take_fetched(), Ordering::Relaxed);
        state.have.store(delivery.have(), Ordering::SeqCst);
        if caught_up.is_err() {
            state.connected.store(false, Ordering::SeqCst);
            delivery.core.handle(clock(), Event::Disconnected);
            tokio::time::sleep(backoff(attempt)).await;
            continue;
        }
        // Pushes, until the socket drops or the client is told to go.
        let hangup = loop {
            let frame = tokio::select! {
                frame = ws.next() => frame,
                Some(how) = next_hangup(&mut hangups) => break Some(how),
            };
            let Some(Ok(frame)) = frame else { break None };
            let at = Instant::now();
            let Frame::Text(text) = frame else { continue };
            match frames::decode_engine(text.as_str()) {
                Ok(EnginePacket::Ping(data))
                    if ws
                        .send(Frame::text(frames::encode_pong(data)))
                        .await
                        .is_err() =>
                {
                    break None;
                }
                Ok(EnginePacket::Message(packet)) => {
                    if let Ok(SocketPacket::Event { name, args, .. }) =
                        frames::decode_socket(packet)
                        && name == NEW_MESSAGE
                        && let Some(payload) = args.first()
                        && let Ok(entry) = serde_json::from_str::<E>(payload.get())
                    {
                        pushed(&entry, at);
                        let conversation = entry.conversation();
                        let event = Event::Pushed {
                            conversation,
                            entry,
                        };
                        // A failed gap fetch is planned again by the next
                        // push or the next connect.
                        let _ = delivery.feed(&api, &token, event).await;
                        state
                            .gap_filled
                            .fetch_add(delivery.take_fetched(), Ordering::Relaxed);
                        state.have.store(delivery.have(), Ordering::SeqCst);
                    }
                }
                Ok(EnginePacket::Close) => break None,
                _ => {}
            }
        };
        state.connected.store(false, Ordering::SeqCst);
        delivery.core.handle(clock(), Event::Disconnected);
        state.reconnects.fetch_add(1, Ordering::Relaxed);
        if let Some(how) = hangup {
            hang_up(ws, how, &mut silent).await;
        }
        tokio::time::sleep(backoff(attempt)).await;
        attempt += 1;
    }
}

/// Waits until every client is connected and holds its room's `seq`
/// (`states`: each client's room index and state); `Err` with how many
/// are not, after `limit`.
pub async fn all_back(
    states: &[(usize, Arc<State>)],
    seqs: &[u64],
    limit: Duration,
) -> Result<Instant, usize> {
    let deadline = Instant::now() + limit;
    loop {
        let behind = states
            .iter()
            .filter(|(room, s)| {
                !s.connected.load(Ordering::SeqCst) || s.have.load(Ordering::SeqCst) < seqs[*room]
            })
            .count();
        if behind == 0 {
            return Ok(Instant::now());
        }
        if Instant::now() > deadline {
            return Err(behind);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Clients' tasks, stopped whichever way a scenario ends.
pub struct Tasks(pub Vec<tokio::task::JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}
