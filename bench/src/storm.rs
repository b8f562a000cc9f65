//! (f) The reconnect storm: thousands of connected clients, the server
//! restarted under them, and every client coming back the way the browser
//! does ([`crate::client`]: full-jitter backoff, then list and fetch what
//! it missed, decided by the browser's own delivery core) while a writer
//! sends into every room. Timed until every client holds every message.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use hush::model::conversation::Message;
use hush::model::ids::MessageId;

use crate::api::Room;
use crate::client::{self, Client, State, Tasks, all_back};
use crate::report::{Better, Col, Section};
use crate::scenarios::Scale;
use crate::target::{Process, Reading, Target};
use crate::world::World;

/// Sends one message into every room; returns each room's new `seq`.
async fn write_round(world: &World, rooms: &[Room]) -> Result<Vec<u64>, String> {
    let mut seqs = Vec::with_capacity(rooms.len());
    for room in rooms {
        let user = &world.users[room.members[0]];
        let api = world.api_of(room.members[0]);
        let id = MessageId::new().to_string();
        let body = room.seal(user, &id, "storm");
        // As the browser's outbox does: the same request again while the
        // server says "not now" (or does not answer), for up to a minute.
        let mut attempt = 0;
        let answer = loop {
            match api.post("messages/send", &body, Some(&user.token)).await {
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

/// Clients connected at once while the storm is set up.
const WAVE: usize = 250;

pub async fn storm(
    world: &mut World,
    scale: &Scale,
    section: &mut Section,
    col: Col,
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
        let state = Arc::new(State::default());
        states.push((room, state.clone()));
        let client = Client {
            api: world.api_of(user).clone(),
            server: world.addr_of(user),
            n,
            token: world.users[user].token.clone(),
            room: rooms[room].id.parse().expect("a room id"),
            state,
        };
        tasks.0.push(tokio::spawn(client::run::<Message>(
            client,
            None,
            |_, _| {},
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

    // The services (PostgreSQL, Redis) run on: only what they spend from
    // here counts (the nodes' new processes count whole).
    let read = |target: &Target| -> Vec<Reading> {
        target.processes().iter().map(Process::read).collect()
    };
    let before_restart = read(&world.target);
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
    let server_cpu: Duration = read(&world.target)
        .iter()
        .zip(&before_restart)
        .map(|(after, before)| after.since(before))
        .sum();
    let reconnects: u64 = states
        .iter()
        .map(|(_, s)| s.reconnects.load(Ordering::Relaxed))
        .sum();
    drop(tasks);
    let down = listening - stopped;
    section.put(
        col,
        "restart: stop to listening again",
        "s",
        Better::Lower,
        down.as_secs_f64(),
    );
    if let Ok(connected) = connected {
        section.put(
            col,
            "clients connected again, from the restart",
            "s",
            Better::Lower,
            (connected - stopped).as_secs_f64(),
        );
    }
    section.put(
        col,
        &format!(
            "writer: one message into each of {} rooms, done, from the restart",
            rooms.len()
        ),
        "s",
        Better::Lower,
        (written - stopped).as_secs_f64(),
    );
    section.put(
        col,
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
                col,
                &name,
                "s",
                Better::Lower,
                (done - stopped).as_secs_f64(),
            );
            section.target(&name, Better::Lower, 10.0);
            section.put(
                col,
                "clients not back with every message after 60 s",
                "clients",
                Better::Lower,
                0.0,
            );
        }
        Err(behind) => {
            section.put(
                col,
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
        col,
        "reconnects counted",
        "reconnects",
        Better::Lower,
        reconnects as f64,
    );
    Ok(())
}
