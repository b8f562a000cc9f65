//! (f) The reconnect storm: thousands of connected clients, the server
//! restarted under them, and every client coming back the way the browser
//! does (full-jitter backoff, then list and fetch what it missed, decided
//! by the browser's own delivery core) while a writer sends into every
//! room. Timed until every client holds every message.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hush::crypto::native_client::random;
use hush::delivery::backoff::Backoff;
use hush::delivery::{Command, Core, Event, Fetch};
use hush::model::conversation::{Head, History, Message};
use hush::model::ids::{ConversationId, MessageId};
use hush::protocol::NEW_MESSAGE;
use hush::protocol::frames::{self, EnginePacket, SocketPacket};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message as Frame;

use crate::api::{Api, Room};
use crate::live;
use crate::report::{Better, Section};
use crate::scenarios::Scale;
use crate::world::World;

/// What the harness can see of one client.
struct State {
    /// Highest `seq` held with nothing missing below it.
    have: AtomicU64,
    connected: AtomicBool,
    reconnects: AtomicU64,
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
struct Delivery {
    core: Core<Message>,
    room: ConversationId,
    /// The conversations had in full: a list names them (`known`), and
    /// the server answers them as heads, as it does for the browser.
    known: Vec<String>,
}

impl Delivery {
    /// Feeds the core one event and carries out what it decides. A request
    /// that fails is told to the core and ends the run with `Err`: the
    /// client then reconnects, and the core plans again.
    async fn feed(&mut self, api: &Api, token: &str, event: Event<Message>) -> Result<(), String> {
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
                    Ok(entries) => Event::Page { fetch, entries },
                    Err(e) => {
                        self.core.handle(clock(), Event::PageFailed(fetch));
                        return Err(e);
                    }
                },
                // Nothing shown, nothing sent through the core, no timers:
                // a failure reconnects instead.
                Command::Show(_) | Command::Send(_) | Command::Unpark(_) | Command::Wake { .. } => {
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
}

/// One history page.
async fn history(api: &Api, token: &str, fetch: Fetch) -> Result<Vec<Message>, String> {
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
    serde_json::from_value::<History>(page)
        .map(|h| h.messages)
        .map_err(|e| e.to_string())
}

/// One client, forever (until the task is aborted).
async fn client(
    api: Api,
    server: std::net::SocketAddr,
    n: usize,
    token: String,
    room: String,
    state: Arc<State>,
) {
    let mut attempt = 0u32;
    let mut delivery = Delivery {
        core: Core::new(n as u64),
        room: room.parse().expect("a room id"),
        known: Vec::new(),
    };
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
        state.have.store(delivery.have(), Ordering::SeqCst);
        if caught_up.is_err() {
            state.connected.store(false, Ordering::SeqCst);
            delivery.core.handle(clock(), Event::Disconnected);
            tokio::time::sleep(backoff(attempt)).await;
            continue;
        }
        // Pushes, until the socket drops.
        while let Some(Ok(frame)) = ws.next().await {
            let Frame::Text(text) = frame else { continue };
            match frames::decode_engine(text.as_str()) {
                Ok(EnginePacket::Ping(data))
                    if ws
                        .send(Frame::text(frames::encode_pong(data)))
                        .await
                        .is_err() =>
                {
                    break;
                }
                Ok(EnginePacket::Message(packet)) => {
                    if let Ok(SocketPacket::Event { name, mut args, .. }) =
                        frames::decode_socket(packet)
                        && name == NEW_MESSAGE
                        && !args.is_empty()
                        && let Ok(entry) = serde_json::from_value::<Message>(args.swap_remove(0))
                    {
                        let conversation = entry.conversation_id;
                        let pushed = Event::Pushed {
                            conversation,
                            entry,
                        };
                        // A failed gap fetch is planned again by the next
                        // push or the next connect.
                        let _ = delivery.feed(&api, &token, pushed).await;
                        state.have.store(delivery.have(), Ordering::SeqCst);
                    }
                }
                Ok(EnginePacket::Close) => break,
                _ => {}
            }
        }
        state.connected.store(false, Ordering::SeqCst);
        delivery.core.handle(clock(), Event::Disconnected);
        state.reconnects.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(backoff(attempt)).await;
        attempt += 1;
    }
}

/// Sends one message into every room; returns each room's new `seq`.
async fn write_round(world: &World, rooms: &[Room]) -> Result<Vec<u64>, String> {
    let mut seqs = Vec::with_capacity(rooms.len());
    for room in rooms {
        let user = &world.users[room.members[0]];
        let id = MessageId::new().to_string();
        let body = room.seal(user, &id, "storm");
        // As the browser's outbox does: the same request again while the
        // server says "not now" (or does not answer), for up to a minute.
        let mut attempt = 0;
        let answer = loop {
            match world
                .api
                .post("messages/send", &body, Some(&user.token))
                .await
            {
                Ok(answer) => break answer,
                Err(e) if (e.status == 0 || e.status == 503) && attempt < 60 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => return Err(format!("send: {e}")),
            }
        };
        seqs.push(answer["seq"].as_u64().ok_or("no seq in the answer")?);
    }
    Ok(seqs)
}

/// Waits until every client is connected and holds its room's `seq`s;
/// `Err` with how many are not, after `limit`.
async fn all_back(
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

/// Clients connected at once while the storm is set up.
const WAVE: usize = 250;

/// The clients' tasks, stopped whichever way the scenario ends.
struct Tasks(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

pub async fn storm(
    world: &mut World,
    scale: &Scale,
    section: &mut Section,
    hush: bool,
) -> Result<(), String> {
    let size = 10.min(world.users.len());
    let rooms = world.rooms(world.users.len() / size, size).await?;
    let mut states = Vec::with_capacity(scale.storm);
    let mut tasks = Tasks(Vec::with_capacity(scale.storm));
    let progress = crate::world::bar(world.quiet, scale.storm as u64, "connecting storm clients");
    // Connected in waves, each caught up before the next: the storm is the
    // restart, not the start.
    let nobody = vec![0; rooms.len()];
    for n in 0..scale.storm {
        let room = n % rooms.len();
        let user = rooms[room].members[(n / rooms.len()) % size];
        let state = Arc::new(State {
            have: AtomicU64::new(0),
            connected: AtomicBool::new(false),
            reconnects: AtomicU64::new(0),
        });
        states.push((room, state.clone()));
        tasks.0.push(tokio::spawn(client(
            world.api.clone(),
            world.target.addr,
            n,
            world.users[user].token.clone(),
            rooms[room].id.clone(),
            state,
        )));
        if n % WAVE == WAVE - 1 || n + 1 == scale.storm {
            all_back(&states, &nobody, Duration::from_secs(60))
                .await
                .map_err(|behind| {
                    format!("{behind} clients could not connect before the restart")
                })?;
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    let before = write_round(world, &rooms).await?;
    all_back(&states, &before, Duration::from_secs(60))
        .await
        .map_err(|behind| format!("{behind} clients missed a message before the restart"))?;

    let stopped = Instant::now();
    let target = &mut world.target;
    tokio::task::block_in_place(|| target.restart())?;
    let listening = Instant::now();
    // The writer and the reconnects run at once; when each finished tells
    // where the time goes.
    let (after, connected) = tokio::join!(
        write_round(world, &rooms),
        all_back(&states, &nobody, Duration::from_secs(60))
    );
    let written = Instant::now();
    let after = after?;
    let result = all_back(&states, &after, Duration::from_secs(60)).await;
    let server_cpu = world.target.usage().cpu;
    let reconnects: u64 = states
        .iter()
        .map(|(_, s)| s.reconnects.load(Ordering::Relaxed))
        .sum();
    drop(tasks);
    let down = listening - stopped;
    section.put(
        hush,
        "restart: stop to listening again",
        "s",
        Better::Lower,
        down.as_secs_f64(),
    );
    if let Ok(connected) = connected {
        section.put(
            hush,
            "clients connected again, from the restart",
            "s",
            Better::Lower,
            (connected - stopped).as_secs_f64(),
        );
    }
    section.put(
        hush,
        &format!(
            "writer: one message into each of {} rooms, done, from the restart",
            rooms.len()
        ),
        "s",
        Better::Lower,
        (written - stopped).as_secs_f64(),
    );
    section.put(
        hush,
        "server CPU from its start until everyone is caught up",
        "core-s",
        Better::Lower,
        server_cpu.as_secs_f64(),
    );
    match result {
        Ok(done) => {
            let name = format!(
                "{} clients back and caught up, from the restart",
                scale.storm
            );
            section.put(
                hush,
                &name,
                "s",
                Better::Lower,
                (done - stopped).as_secs_f64(),
            );
            section.target(&name, Better::Lower, 10.0);
            section.put(
                hush,
                "clients not back with every message after 60 s",
                "clients",
                Better::Lower,
                0.0,
            );
        }
        Err(behind) => {
            section.put(
                hush,
                "clients not back with every message after 60 s",
                "clients",
                Better::Lower,
                behind as f64,
            );
            return Err(format!(
                "{behind} clients not back with every message after 60 s"
            ));
        }
    }
    section.put(
        hush,
        "reconnects counted",
        "reconnects",
        Better::Lower,
        reconnects as f64,
    );
    Ok(())
}
