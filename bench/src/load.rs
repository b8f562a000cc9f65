//! One open-loop load run: messages sealed and signed beforehand, sent on
//! a fixed schedule whatever the server answers, and every member's copy
//! timed from the moment its message was due to the moment it arrived.
//! Lateness of the generator itself counts against the server's figures,
//! so queueing cannot hide.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use hush::crypto::native_client;
use hush::model::ids::MessageId;
use tokio::sync::Semaphore;

use crate::api::{Api, Room, User};
use crate::live::{Hub, Sheet};
use crate::system::{self, Usage};
use crate::target::{Process, Reading, Target};
use native_client::EpochKey;

/// Sends in flight at once, at most; a send beyond waits for a slot, and
/// its wait counts in its latency.
pub const MAX_IN_FLIGHT: usize = 2048;

/// What to send.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Messages per second, over all rooms.
    pub rate: f64,
    /// How long the schedule lasts, warm-up included.
    pub duration: Duration,
    /// The first part of the schedule, left out of the latency figures.
    pub warmup: Duration,
    /// Open every n-th message at a receiver after the run.
    pub sample_every: u32,
}

/// A change of a room's members (a new epoch) in the middle of a run: the
/// room's messages from index `at` on are sealed under its key, and its
/// body is posted when that message is due, before it is sent.
pub struct MidChange {
    pub room: usize,
    pub at: usize,
    /// The `/api/conversations/change` body, and its signer's token.
    pub body: String,
    pub token: String,
    pub key: EpochKey,
}

/// What posting a [`MidChange`] took, and its answer's size (the whole
/// conversation).
#[derive(Debug, Clone)]
pub struct ChangeTaken {
    /// When it was posted.
    pub posted: Instant,
    pub took: Duration,
    pub outcome: Result<usize, String>,
}

/// A latency distribution, in microseconds.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds")
}

/// What one run measured.
pub struct Outcome {
    pub offered: u64,
    /// Sends the server answered 200.
    pub accepted: u64,
    /// Refused or failed sends, by status.
    pub errors: BTreeMap<String, u64>,
    /// Every member's copy (the sender's own excluded), after the warm-up.
    pub delivery: Histogram<u64>,
    /// Per message: until the last member had it, after the warm-up.
    pub last_member: Histogram<u64>,
    /// Until the sender had the server's answer, after the warm-up.
    pub answer: Histogram<u64>,
    /// How late the generator began each send call, after the warm-up: a
    /// part of every latency above that is the generator's, not the server's.
    pub lateness: Histogram<u64>,
    /// Copies expected (members but the sender, per message offered).
    pub expected: u64,
    /// Copies received, each (message, member) once.
    pub delivered: u64,
    /// A message pushed to the same member twice.
    pub duplicates: u64,
    /// Copies pushed to someone outside the message's room.
    pub strays: u64,
    /// Received copies opened and checked, and those that did not match.
    pub verified: u64,
    pub corrupt: u64,
    /// CPU share over the measured window (1.0 = one core): every process
    /// of the server side added up, and each of them.
    pub server_cpu: f64,
    pub processes: Vec<(String, f64)>,
    /// Messages due in the measured window, and how long it lasted.
    pub measured: u64,
    pub window: Duration,
    pub generator_cpu: f64,
    pub server_rss: u64,
    /// The change posted in the middle, if the run had one.
    pub change: Option<ChangeTaken>,
}

impl Outcome {
    pub fn completeness(&self) -> f64 {
        if self.expected == 0 {
            return 1.0;
        }
        self.delivered as f64 / self.expected as f64
    }
}

/// The text of the `i`-th message of a run: about the length of a chat line.
pub fn text_of(i: usize) -> String {
    format!("benchmark message {i}: the quick brown fox jumps over the lazy dog")
}

/// The server's answer to one send.
pub struct Answer {
    /// Index of the message in the schedule.
    pub index: u32,
    /// The `seq` the server stored it at; `Err`: the status.
    pub outcome: Result<u64, String>,
    /// When the send call began, and when the answer was in.
    pub handed: Instant,
    pub answered: Instant,
}

/// One scheduled message.
pub struct Due {
    /// When it is due, from the start of the schedule.
    pub at: Duration,
    pub room: usize,
    pub sender: usize,
    pub body: String,
}

/// The `i`-th message of a schedule at one message every `step`:
/// round-robin over `rooms`, each room's members taking turns to send,
/// sealed and signed. Returns it with its id and text.
pub fn due(
    i: usize,
    step: Duration,
    users: &[User],
    rooms: &[Room],
    change: Option<&MidChange>,
) -> (Due, String, String) {
    let room_index = i % rooms.len();
    let room = &rooms[room_index];
    let sender = room.members[(i / rooms.len()) % room.members.len()];
    let id = MessageId::new().to_string();
    let text = text_of(i);
    let body = match change {
        Some(c) if c.room == room_index && i >= c.at => {
            let user = &users[sender];
            native_client::seal(
                &room.id,
                &c.key,
                &user.id,
                &user.sig,
                &id,
                &text,
                "2026-11-30T00:00:00.000Z",
            )
        }
        _ => room.seal(&users[sender], &id, &text),
    };
    let due = Due {
        at: step * i as u32,
        room: room_index,
        sender,
        body: body.to_string(),
    };
    (due, id, text)
}

/// Seals the run's messages. Returns the schedule, the ids and the texts.
fn seal_all(
    plan: &Plan,
    users: &[User],
    rooms: &[Room],
    change: Option<&MidChange>,
) -> (Vec<Due>, Vec<String>, Vec<String>) {
    let count = (plan.rate * plan.duration.as_secs_f64()).round().max(1.0) as usize;
    let step = Duration::from_secs_f64(1.0 / plan.rate);
    let mut dues = Vec::with_capacity(count);
    let mut ids = Vec::with_capacity(count);
    let mut texts = Vec::with_capacity(count);
    for i in 0..count {
        let (due, id, text) = due(i, step, users, rooms, change);
        dues.push(due);
        ids.push(id);
        texts.push(text);
    }
    (dues, ids, texts)
}

/// Hands each of `dues` to the HTTP send call at `start + due.at`, through
/// and as `senders[due.sender]` (its node's client, its token), whatever
/// happened to the ones before, with at most as many in flight as `slots`
/// has permits; every answer goes into `answers`. `before` sees each
/// message at its time, before its send begins. The schedule is kept by a thread of its own: tokio's timers
/// tick in whole milliseconds, which at 1,000 msg/s made every send about
/// a millisecond late and counted that against the server. Ends once the
/// last send has begun (not answered: take every permit of `slots` to wait
/// for that).
pub fn dispatch(
    start: Instant,
    dues: impl Iterator<Item = Due> + Send + 'static,
    senders: Vec<(Api, String)>,
    slots: Arc<Semaphore>,
    answers: Arc<Mutex<Vec<Answer>>>,
    mut before: impl FnMut(&Due) + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        system::precise_sleeps();
        for (i, due) in dues.enumerate() {
            let when = start + due.at;
            if let Some(wait) = when.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            before(&due);
            let slot = runtime
                .block_on(slots.clone().acquire_owned())
                .expect("open semaphore");
            let answers = answers.clone();
            let (api, token) = senders[due.sender].clone();
            runtime.spawn(async move {
                let handed = Instant::now();
                let answer = api
                    .post_raw("messages/send", due.body, Some(&token))
                    .await
                    .map(|answer| answer["seq"].as_u64().unwrap_or(0))
                    .map_err(|f| f.status.to_string());
                answers.lock().expect("answers").push(Answer {
                    index: i as u32,
                    outcome: answer,
                    handed,
                    answered: Instant::now(),
                });
                drop(slot);
            });
        }
    })
}

/// Runs `plan` into `rooms` and measures it. The members' sockets must be
/// connected to `hub` already; `apis` holds a client of each node that
/// takes clients, and each user sends through its own
/// ([`Target::node_of`]).
pub async fn run(
    plan: Plan,
    target: &Target,
    apis: &[Api],
    hub: &Hub,
    users: &[User],
    rooms: &[Room],
) -> Outcome {
    run_with(plan, target, apis, hub, users, rooms, None).await
}

/// [`run`], with a change of one room's members posted in the middle.
pub async fn run_with(
    plan: Plan,
    target: &Target,
    apis: &[Api],
    hub: &Hub,
    users: &[User],
    rooms: &[Room],
    change: Option<MidChange>,
) -> Outcome {
    let (dues, ids, texts) = seal_all(&plan, users, rooms, change.as_ref());
    let offered = dues.len() as u64;
    let meta: Vec<(usize, usize, Duration)> =
        dues.iter().map(|d| (d.room, d.sender, d.at)).collect();
    let senders = meta.iter().map(|&(_, sender, _)| sender as u32);
    let sheet = Arc::new(Sheet::new(ids.into_iter().zip(senders), plan.sample_every));
    hub.listen(sheet.clone());

    let answers: Arc<Mutex<Vec<Answer>>> = Arc::new(Mutex::new(Vec::with_capacity(dues.len())));
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let start = Instant::now() + Duration::from_millis(50);
    // The server's and the generator's CPU from the first message after
    // the warm-up.
    let measured = Arc::new(OnceLock::new());
    // The change, posted from the schedule's thread when its message is
    // due: the sends after it wait for its answer, as a member's would.
    let taken: Arc<Mutex<Option<ChangeTaken>>> = Arc::new(Mutex::new(None));
    let change_at = change.as_ref().map(|c| dues[c.at.min(dues.len() - 1)].at);
    // What to post (moved to the schedule's thread), and the new key, kept
    // here to open the sampled messages sealed under it.
    let (post, new_key) = match change {
        Some(c) => (Some((c.body, c.token)), Some((c.room, c.at, c.key))),
        None => (None, None),
    };
    let processes = target.processes();
    let read = |processes: &[Process]| {
        processes
            .iter()
            .map(Process::read)
            .collect::<Vec<Reading>>()
    };
    let mark = {
        let (measured, processes) = (measured.clone(), processes.clone());
        let (api, taken, runtime) = (
            apis[0].clone(),
            taken.clone(),
            tokio::runtime::Handle::current(),
        );
        let mut post = post;
        move |due: &Due| {
            if due.at >= plan.warmup {
                measured.get_or_init(|| (Instant::now(), read(&processes), Usage::me()));
            }
            if change_at.is_some_and(|at| due.at >= at)
                && let Some((body, token)) = post.take()
            {
                let began = Instant::now();
                let answer =
                    runtime.block_on(api.post_raw("conversations/change", body, Some(&token)));
                *taken.lock().expect("taken") = Some(ChangeTaken {
                    posted: began,
                    took: began.elapsed(),
                    outcome: answer
                        .map(|a| a.to_string().len())
                        .map_err(|f| format!("{} {}", f.status, f.detail)),
                });
            }
        }
    };
    let senders = users
        .iter()
        .enumerate()
        .map(|(i, u)| (apis[target.node_of(i)].clone(), u.token.clone()))
        .collect();
    dispatch(
        start,
        dues.into_iter(),
        senders,
        slots.clone(),
        answers.clone(),
        mark,
    )
    .await
    .expect("the dispatch thread");
    let sent_all = Instant::now();
    let (window_start, server_before, me_before) = measured
        .get()
        .cloned()
        .unwrap_or_else(|| (start, read(&processes), Usage::me()));
    let server_after = read(&processes);
    let me_after = Usage::me();
    let window = sent_all.saturating_duration_since(window_start);
    let shares: Vec<(String, f64)> = processes
        .iter()
        .zip(server_before.iter().zip(&server_after))
        .map(|(p, (before, after))| {
            let spent = after.since(before).as_secs_f64();
            (p.name.clone(), spent / window.as_secs_f64().max(1e-9))
        })
        .collect();

    // Every answer, then every copy (or 3 s of nothing more).
    let _ = slots.acquire_many(MAX_IN_FLIGHT as u32).await;
    let expected: u64 = meta
        .iter()
        .map(|&(room, _, _)| rooms[room].members.len() as u64 - 1)
        .sum();
    let mut last = (sheet.arrived(), Instant::now());
    while (sheet.arrived() as u64) < expected && last.1.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = sheet.arrived();
        if now != last.0 {
            last = (now, Instant::now());
        }
    }
    hub.stop_listening();

    let mut outcome = Outcome {
        offered,
        accepted: 0,
        errors: BTreeMap::new(),
        delivery: histogram(),
        last_member: histogram(),
        answer: histogram(),
        lateness: histogram(),
        expected,
        delivered: 0,
        duplicates: 0,
        strays: 0,
        verified: 0,
        corrupt: 0,
        server_cpu: shares.iter().map(|(_, share)| share).sum(),
        processes: shares,
        measured: meta.iter().filter(|m| m.2 >= plan.warmup).count() as u64,
        window,
        generator_cpu: system::cpu_share(me_before, me_after, window),
        server_rss: target.usage().rss,
        change: taken.lock().expect("taken").take(),
    };
    let micros = |d: Duration| (d.as_micros() as u64).max(1);
    for a in answers.lock().expect("answers").drain(..) {
        let due = meta[a.index as usize].2;
        if due >= plan.warmup {
            let late = a.handed.saturating_duration_since(start + due);
            let _ = outcome.lateness.record(micros(late));
        }
        match a.outcome {
            Ok(_) => {
                outcome.accepted += 1;
                if due >= plan.warmup {
                    let _ = outcome.answer.record(micros(a.answered - (start + due)));
                }
            }
            Err(status) => *outcome.errors.entry(status).or_default() += 1,
        }
    }
    // Each (message, member) once.
    let mut first: HashMap<(u32, u32), Instant> = HashMap::new();
    for a in sheet.take_arrivals() {
        let (room, sender, _) = meta[a.message as usize];
        if a.user as usize == sender || !rooms[room].members.contains(&(a.user as usize)) {
            outcome.strays += 1;
            continue;
        }
        if first.insert((a.message, a.user), a.at).is_some() {
            outcome.duplicates += 1;
        }
    }
    outcome.delivered = first.len() as u64;
    // Per message: the latest copy, and how many members had it.
    let mut latest: HashMap<u32, (Duration, u64)> = HashMap::new();
    for ((message, _), at) in &first {
        let due = meta[*message as usize].2;
        if due < plan.warmup {
            continue;
        }
        let latency = at.saturating_duration_since(start + due);
        let _ = outcome.delivery.record(micros(latency));
        let slot = latest.entry(*message).or_default();
        *slot = (slot.0.max(latency), slot.1 + 1);
    }
    for (message, (latency, got)) in latest {
        // Only messages every member got have a "last member".
        let (room, _, _) = meta[message as usize];
        if got == rooms[room].members.len() as u64 - 1 {
            let _ = outcome.last_member.record(micros(latency));
        }
    }
    for (i, message) in sheet.take_samples() {
        let (room, sender, _) = meta[i as usize];
        let key = match &new_key {
            Some((changed, at, key)) if *changed == room && i as usize >= *at => key,
            _ => &rooms[room].ck,
        };
        let opened = native_client::open(&message, key, &users[sender].sig_public);
        outcome.verified += 1;
        if opened.as_deref() != Ok(texts[i as usize].as_str()) {
            outcome.corrupt += 1;
        }
    }
    outcome
}
