//! (f) The reconnect storm: thousands of connected clients, the server
//! restarted under them, and every client coming back the way the browser
//! does (full-jitter backoff, then list and fetch what it missed) while a
//! writer sends into every room. Timed until every client holds every
//! message.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hush::crypto::native_client::random;
use hush::model::ids::MessageId;
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

/// The browser's reconnect delay before attempt `n` (from 0): full jitter
/// over 0.5 s doubling, capped at 10 s.
fn backoff(n: u32) -> Duration {
    let cap = (500u64 << n.min(5)).min(10_000);
    let [a, b, c, d] = random::<4>();
    Duration::from_millis(u64::from(u32::from_le_bytes([a, b, c, d])) % cap.max(1))
}

/// Lists the user's conversations and fetches what is missing after `have`.
/// As the browser does, the list names the conversations already held
/// (`known`), which come back as heads; `known` gains the others.
async fn catch_up(
    api: &Api,
    token: &str,
    room: &str,
    have: u64,
    known: &mut Vec<String>,
) -> Result<u64, String> {
    let list = api
        .post(
            "conversations/list",
            &json!({ "known": known }),
            Some(token),
        )
        .await
        .map_err(|e| e.to_string())?;
    let full = list["conversations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    known.extend(
        full.iter()
            .filter_map(|c| c["id"].as_str().map(str::to_owned)),
    );
    let heads = list["heads"].as_array().cloned().unwrap_or_default();
    let last = full
        .iter()
        .chain(&heads)
        .find(|c| c["id"] == room)
        .and_then(|c| c["last_seq"].as_u64())
        .ok_or("the room is not in the list")?;
    let mut have = have;
    while have < last {
        let page = api
            .post(
                "messages/history",
                &json!({"conversation_id": room, "after_seq": have, "limit": 200}),
                Some(token),
            )
            .await
            .map_err(|e| e.to_string())?;
        let seqs: Vec<u64> = page["messages"]
            .as_array()
            .map(|m| m.iter().filter_map(|m| m["seq"].as_u64()).collect())
            .unwrap_or_default();
        if seqs.is_empty() {
            break;
        }
        for seq in seqs {
            if seq == have + 1 {
                have = seq;
            }
        }
    }
    Ok(have)
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
    let mut known = Vec::new();
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
        let have = state.have.load(Ordering::SeqCst);
        match catch_up(&api, &token, &room, have, &mut known).await {
            Ok(now) => state.have.store(now, Ordering::SeqCst),
            Err(_) => {
                state.connected.store(false, Ordering::SeqCst);
                tokio::time::sleep(backoff(attempt)).await;
                continue;
            }
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
                    if let Ok(SocketPacket::Event { name, args, .. }) =
                        frames::decode_socket(packet)
                        && name == NEW_MESSAGE
                        && let Some(seq) = args.first().and_then(|m| m["seq"].as_u64())
                    {
                        let have = state.have.load(Ordering::SeqCst);
                        if seq == have + 1 {
                            state.have.store(seq, Ordering::SeqCst);
                        } else if seq > have + 1
                            && let Ok(now) = catch_up(&api, &token, &room, have, &mut known).await
                        {
                            state.have.store(now, Ordering::SeqCst);
                        }
                    }
                }
                Ok(EnginePacket::Close) => break,
                _ => {}
            }
        }
        state.connected.store(false, Ordering::SeqCst);
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
