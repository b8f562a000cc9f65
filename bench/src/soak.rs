//! (h) The soak: Hush alone under steady load for an hour (by default)
//! with reconnect churn, its footprint sampled at intervals and judged
//! flat or not at the end. A few hundred members, one socket each, in
//! group and one-to-one conversations; open-loop sends at a constant rate
//! ([`load::dispatch`], each message sealed just before it is due); every
//! second a few sockets hang up (cleanly, by a TCP reset, or silently) and
//! come back as the browser does ([`crate::client`]). Nothing may be lost:
//! at the end every member must hold every message of its conversation.
//! The flatness rule is [`Flatness`]; it judges the server alone, never
//! the generator, nor the files the generator's own choices hold open at
//! the server (its HTTP connection pool).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use hush::model::ids::MessageId;
use tokio::sync::{Semaphore, mpsc};

use crate::api::{self, Api, Room};
use crate::client::{self, Client, Hangup, Seen, State, Tasks};
use crate::load::{self, Answer};
use crate::report::{Better, Col, Section};
use crate::scenarios::Scale;
use crate::system::{self, Footprint, Usage};
use crate::target::Target;
use crate::world::World;

/// The address the soak's HTTP client connects from: not one of the
/// sockets' (127.0.0.1–100, [`crate::live::source`]), so the server's
/// connections from it are the client's keep-alive pool, which grows while
/// sends are slow to be answered and idles out after a minute.
pub const HTTP_SOURCE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 101);

/// How the soak runs.
#[derive(Debug, Clone)]
pub struct Soak {
    pub duration: Duration,
    /// Members of each group conversation.
    pub groups: Vec<usize>,
    /// One-to-one conversations.
    pub pairs: usize,
    /// Messages per second, over all conversations.
    pub rate: f64,
    /// Sockets told to hang up each second.
    pub churn: usize,
    /// Whether flatness decides the outcome (not at the smoke's size, where
    /// a few seconds are all warm-up).
    pub judge: bool,
}

impl Soak {
    /// Members, each with one socket (no one is in two conversations).
    pub fn members(&self) -> usize {
        self.groups.iter().sum::<usize>() + 2 * self.pairs
    }

    /// Every minute; twelve samples over a run shorter than 12 minutes
    /// (at most one a second).
    pub fn interval(&self) -> Duration {
        (self.duration / 12).clamp(Duration::from_secs(1), Duration::from_secs(60))
    }
}

/// One interval's readings.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// From the start of the schedule to the reading.
    pub at: Duration,
    pub server: Footprint,
    /// The generator's own (its clients hold every message they got).
    pub generator: Footprint,
    /// The server's database, WAL and shared memory files.
    pub database: u64,
    /// The server's established connections from the generator's HTTP
    /// client ([`HTTP_SOURCE`]), and its open files in its data directory
    /// (two per SQLite connection, at most 8 of them, and one).
    pub http: usize,
    pub database_files: usize,
    /// Cores the server and the generator used over the interval.
    pub server_cpu: f64,
    pub generator_cpu: f64,
    /// Sends answered in the interval: stored, and refused or failed.
    pub stored: u64,
    pub errors: u64,
    /// Copies pushed to members in the interval (senders' own not counted).
    pub pushed: u64,
    /// Their latency, from the moment the message was due, ms.
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
    /// How late the generator began the interval's sends, p99, ms.
    pub late_p99: f64,
    /// From when a send was due until its answer was in, p99, ms: a
    /// latency that is high here too was the store's, not the push's.
    pub answer_p99: f64,
    /// Sockets that went down in the interval, and messages their members
    /// fetched on coming back.
    pub reconnects: u64,
    pub caught_up: u64,
    /// Length of the interval.
    pub span: Duration,
}

impl Sample {
    /// The server's open files less its HTTP connections from the
    /// generator and its database files: what the rule judges.
    pub fn held(&self) -> usize {
        self.server
            .files
            .saturating_sub(self.http + self.database_files)
    }
}

/// What every socket's pushes feed: when each message was due, and the
/// current interval's latencies.
struct Tally {
    /// Message id → (when it was due, its sender).
    sent: Mutex<HashMap<MessageId, (Instant, u32)>>,
    latency: Mutex<Histogram<u64>>,
    pushed: AtomicU64,
    /// Pushes of messages the tally does not know (none expected).
    strays: AtomicU64,
}

/// How long a sent message's due time is kept for its pushes.
const KEEP_SENT: Duration = Duration::from_secs(300);

impl Tally {
    fn new() -> Tally {
        Tally {
            sent: Mutex::new(HashMap::new()),
            latency: Mutex::new(load::histogram()),
            pushed: AtomicU64::new(0),
            strays: AtomicU64::new(0),
        }
    }

    fn sent(&self, id: MessageId, due: Instant, sender: u32) {
        self.sent.lock().expect("sent").insert(id, (due, sender));
    }

    /// A push of `id` reached `user` at `at`.
    fn pushed(&self, id: MessageId, user: u32, at: Instant) {
        let Some((due, sender)) = self.sent.lock().expect("sent").get(&id).copied() else {
            self.strays.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if sender == user {
            return;
        }
        let micros = (at.saturating_duration_since(due).as_micros() as u64).max(1);
        let _ = self.latency.lock().expect("latency").record(micros);
        self.pushed.fetch_add(1, Ordering::Relaxed);
    }

    /// The interval's latencies and pushes; forgets messages due long ago.
    fn take(&self) -> (Histogram<u64>, u64) {
        let cutoff = Instant::now().checked_sub(KEEP_SENT);
        if let Some(cutoff) = cutoff {
            self.sent
                .lock()
                .expect("sent")
                .retain(|_, (due, _)| *due > cutoff);
        }
        let latency = std::mem::replace(
            &mut *self.latency.lock().expect("latency"),
            load::histogram(),
        );
        (latency, self.pushed.swap(0, Ordering::Relaxed))
    }
}

/// Hang-ups in turn, and how many of each were asked for.
const KINDS: [Hangup; 3] = [Hangup::Clean, Hangup::Reset, Hangup::Silent];

/// Every second, `per_second` sockets in turn are told to hang up, the
/// kinds in turn; a socket that is down at its turn is passed over.
async fn churn(
    clients: Vec<(Arc<State>, mpsc::Sender<Hangup>)>,
    per_second: usize,
    told: Arc<[AtomicU64; 3]>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    let (mut next, mut kind) = (0, 0);
    loop {
        tick.tick().await;
        let (mut done, mut looked) = (0, 0);
        while done < per_second && looked < clients.len() {
            let (state, hangups) = &clients[next % clients.len()];
            next += 1;
            looked += 1;
            if state.connected.load(Ordering::SeqCst)
                && hangups.try_send(KINDS[kind % KINDS.len()]).is_ok()
            {
                told[kind % KINDS.len()].fetch_add(1, Ordering::Relaxed);
                kind += 1;
                done += 1;
            }
        }
    }
}

/// Takes the readings at the end of each interval.
struct Sampler<'a> {
    target: &'a Target,
    tally: &'a Tally,
    answers: &'a Mutex<Vec<Answer>>,
    states: &'a [(usize, Arc<State>)],
    start: Instant,
    step: Duration,
    rooms: usize,
    /// The highest `seq` stored in each room.
    tops: Vec<u64>,
    errors: BTreeMap<String, u64>,
    stored: u64,
    /// Over the whole run: delivery latency, and the generator's lateness.
    latency: Histogram<u64>,
    lateness: Histogram<u64>,
    /// The last reading: when, the server's and the generator's CPU,
    /// reconnects and caught-up messages.
    last: (Instant, Usage, Usage, u64, u64),
}

impl Sampler<'_> {
    /// Reconnects and caught-up messages so far, over every client.
    fn counted(&self) -> (u64, u64) {
        self.states.iter().fold((0, 0), |(r, c), (_, s)| {
            (
                r + s.reconnects.load(Ordering::Relaxed),
                c + s.caught_up.load(Ordering::Relaxed),
            )
        })
    }

    /// Takes the answers in so far: (stored, failed, lateness, answer
    /// times).
    fn answers(&mut self) -> (u64, u64, Histogram<u64>, Histogram<u64>) {
        let (mut late, mut answer) = (load::histogram(), load::histogram());
        let (mut stored, mut failed) = (0, 0);
        let micros = |d: Duration| (d.as_micros() as u64).max(1);
        for a in self.answers.lock().expect("answers").drain(..) {
            let due = self.start + self.step * a.index;
            let _ = late.record(micros(a.handed.saturating_duration_since(due)));
            let _ = answer.record(micros(a.answered.saturating_duration_since(due)));
            match a.outcome {
                Ok(seq) => {
                    stored += 1;
                    let room = a.index as usize % self.rooms;
                    self.tops[room] = self.tops[room].max(seq);
                }
                Err(status) => {
                    failed += 1;
                    *self.errors.entry(status).or_default() += 1;
                }
            }
        }
        self.stored += stored;
        let _ = self.lateness.add(&late);
        (stored, failed, late, answer)
    }

    fn take(&mut self) -> Sample {
        let now = Instant::now();
        let (usage, me) = (self.target.usage(), Usage::me());
        let (stored, errors, late, answer) = self.answers();
        let (latency, pushed) = self.tally.take();
        let _ = self.latency.add(&latency);
        let (reconnects, caught_up) = self.counted();
        let (then, before, me_before, reconnected, fetched) = self.last;
        self.last = (now, usage, me, reconnects, caught_up);
        let ms = |micros: u64| micros as f64 / 1000.0;
        let (pid, data) = (self.target.pid(), self.target.data_dir());
        let http = match self.target.addr() {
            SocketAddr::V4(server) => system::established(server, HTTP_SOURCE),
            SocketAddr::V6(_) => 0,
        };
        Sample {
            at: now.saturating_duration_since(self.start),
            server: Footprint::of(pid).unwrap_or_default(),
            http,
            database_files: system::open_files_under(pid, data),
            generator: Footprint::of(std::process::id()).unwrap_or_default(),
            database: database_bytes(self.target),
            server_cpu: system::cpu_share(before, usage, now - then),
            generator_cpu: system::cpu_share(me_before, me, now - then),
            stored,
            errors,
            pushed,
            p50: ms(latency.value_at_quantile(0.5)),
            p99: ms(latency.value_at_quantile(0.99)),
            max: ms(latency.max()),
            late_p99: ms(late.value_at_quantile(0.99)),
            answer_p99: ms(answer.value_at_quantile(0.99)),
            reconnects: reconnects - reconnected,
            caught_up: caught_up - fetched,
            span: now - then,
        }
    }
}

/// Bytes of the server's data directory (its database, WAL and shared
/// memory, and its small secrets).
fn database_bytes(target: &Target) -> u64 {
    std::fs::read_dir(target.data_dir()).map_or(0, |dir| {
        dir.filter_map(Result::ok)
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum()
    })
}

/// The part of the run samples are compared over: `(from, to]` as shares
/// of the run.
#[derive(Debug, Clone, Copy)]
struct Window {
    from: f64,
    to: f64,
}

/// Minutes 5–15 of an hour: after the warm-up.
const BASELINE: Window = Window {
    from: 1.0 / 12.0,
    to: 0.25,
};
/// The last 10 minutes of an hour.
const END: Window = Window {
    from: 5.0 / 6.0,
    to: 1.0,
};
/// RSS may grow by this share from the baseline to the end.
pub const RSS_GROWTH: f64 = 0.10;
/// Open files may grow by this many, or this share, whichever is more
/// (sockets between a hang-up and their reconnect, and silently dropped
/// ones the server has not timed out yet, come and go).
pub const FILES_GROWTH: (f64, f64) = (10.0, 0.03);

/// The flatness verdict: medians of the baseline and end windows.
#[derive(Debug, Clone)]
pub struct Flatness {
    pub rss: (f64, f64),
    /// What the rule judges ([`Sample::held`]), and all open files.
    pub files: (f64, f64),
    pub all_files: (f64, f64),
    pub threads: (f64, f64),
    pub rss_flat: bool,
    pub files_flat: bool,
    /// The windows, as read.
    pub baseline: String,
    pub end: String,
}

impl Flatness {
    /// Judges `samples` of a run of `duration`; `None` if a window is empty.
    pub fn of(samples: &[Sample], duration: Duration) -> Option<Flatness> {
        // A reading comes a little after its due time: half an interval
        // (at most half a second) of slack on both bounds.
        let slack = (duration / 24).min(Duration::from_millis(500));
        let pick = |w: Window, value: &dyn Fn(&Sample) -> f64| -> Option<f64> {
            let (from, to) = (duration.mul_f64(w.from), duration.mul_f64(w.to));
            let mut values: Vec<f64> = samples
                .iter()
                .filter(|s| s.at > from + slack && s.at <= to + slack)
                .map(value)
                .collect();
            values.sort_by(f64::total_cmp);
            let n = values.len();
            (n > 0).then(|| (values[(n - 1) / 2] + values[n / 2]) / 2.0)
        };
        let both =
            |value: &dyn Fn(&Sample) -> f64| Some((pick(BASELINE, value)?, pick(END, value)?));
        let rss = both(&|s| s.server.rss as f64 / 1048576.0)?;
        let files = both(&|s| s.held() as f64)?;
        let all_files = both(&|s| s.server.files as f64)?;
        let threads = both(&|s| s.server.threads as f64)?;
        let span = |w: Window| {
            format!(
                "{}–{}",
                clock(duration.mul_f64(w.from)),
                clock(duration.mul_f64(w.to))
            )
        };
        Some(Flatness {
            rss,
            files,
            all_files,
            threads,
            rss_flat: rss.1 <= rss.0 * (1.0 + RSS_GROWTH),
            files_flat: files.1 - files.0 <= files_tolerance(files.0),
            baseline: span(BASELINE),
            end: span(END),
        })
    }

    pub fn flat(&self) -> bool {
        self.rss_flat && self.files_flat
    }
}

/// Open files the end may hold beyond the baseline.
pub fn files_tolerance(baseline: f64) -> f64 {
    FILES_GROWTH.0.max(baseline * FILES_GROWTH.1)
}

/// A length in words: `60 minutes`, `1 minute`, `10 s`.
pub fn length(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.0} s")
    } else if (s - 60.0).abs() < 0.5 {
        "1 minute".to_owned()
    } else {
        let minutes = format!("{:.2}", s / 60.0);
        format!(
            "{} minutes",
            minutes.trim_end_matches('0').trim_end_matches('.')
        )
    }
}

/// `m:ss` from the start.
fn clock(d: Duration) -> String {
    let s = d.as_secs_f64().round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// The samples as a Markdown table.
pub fn table(samples: &[Sample]) -> String {
    let mib = |b: u64| format!("{:.1}", b as f64 / 1048576.0);
    let mut out = String::from(
        "| at (m:ss) | RSS (MiB) | anon (MiB) | files | HTTP conns | DB files | judged files | threads | server CPU (cores) | data (MiB) | stored/s | copies pushed/s | p50 (ms) | p99 (ms) | max (ms) | answer p99 (ms) | send late p99 (ms) | reconnects | caught up (msgs) | errors | generator CPU (cores) | generator RSS (MiB) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for s in samples {
        let per_s = |n: u64| format!("{:.1}", n as f64 / s.span.as_secs_f64().max(1e-9));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.3} | {} | {} | {} | {:.2} | {:.2} | {:.1} | {:.2} | {:.2} | {} | {} | {} | {:.3} | {} |",
            clock(s.at),
            mib(s.server.rss),
            mib(s.server.rss_anon),
            s.server.files,
            s.http,
            s.database_files,
            s.held(),
            s.server.threads,
            s.server_cpu,
            mib(s.database),
            per_s(s.stored),
            per_s(s.pushed),
            s.p50,
            s.p99,
            s.max,
            s.answer_p99,
            s.late_p99,
            s.reconnects,
            s.caught_up,
            s.errors,
            s.generator_cpu,
            mib(s.generator.rss),
        );
    }
    out
}

/// Creates the soak's conversations: the groups, then the pairs, over
/// consecutive users from the first.
async fn rooms(world: &World, soak: &Soak) -> Result<Vec<Room>, String> {
    let sizes = soak
        .groups
        .iter()
        .copied()
        .chain(std::iter::repeat_n(2, soak.pairs));
    let mut rooms = Vec::new();
    let mut next = 0;
    for size in sizes {
        let members: Vec<usize> = (next..next + size).collect();
        next += size;
        rooms.push(
            api::create_room(&world.api, &world.users, members)
                .await
                .map_err(|e| format!("create a room of {size}: {e}"))?,
        );
    }
    Ok(rooms)
}

pub async fn soak(
    world: &World,
    scale: &Scale,
    section: &mut Section,
    col: Col,
    samples: &mut Vec<Sample>,
) -> Result<(), String> {
    let soak = &scale.soak;
    if world.users.len() < soak.members() {
        return Err(format!(
            "{} members need as many users; {} signed up",
            soak.members(),
            world.users.len()
        ));
    }
    let rooms = Arc::new(rooms(world, soak).await?);
    let tally = Arc::new(Tally::new());
    let api = Api::from_address(world.target.base(), Some(HTTP_SOURCE.into()));

    // One client per member, each with its own hang-up channel.
    let mut states = Vec::with_capacity(soak.members());
    let mut churned = Vec::with_capacity(soak.members());
    let mut tasks = Tasks(Vec::with_capacity(soak.members() + 1));
    for (r, room) in rooms.iter().enumerate() {
        for &user in &room.members {
            let state = Arc::new(State::default());
            let (hangups, told) = mpsc::channel(1);
            let client = Client {
                api: api.clone(),
                server: world.target.addr(),
                n: states.len(),
                token: world.users[user].token.clone(),
                room: room.id.parse().expect("a room id"),
                state: state.clone(),
            };
            let tally = tally.clone();
            let pushed = move |seen: &Seen, at| tally.pushed(seen.id, user as u32, at);
            tasks
                .0
                .push(tokio::spawn(client::run(client, Some(told), pushed)));
            states.push((r, state.clone()));
            churned.push((state, hangups));
        }
    }
    client::all_back(&states, &vec![0; rooms.len()], Duration::from_secs(60))
        .await
        .map_err(|behind| format!("{behind} members could not connect"))?;
    // Let the last lists and room joins finish before anything is sent.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The schedule: sealed one message at a time, just before it is due.
    let count = (soak.rate * soak.duration.as_secs_f64()).round().max(1.0) as usize;
    let step = Duration::from_secs_f64(1.0 / soak.rate);
    let start = Instant::now() + Duration::from_millis(50);
    let dues = {
        let (users, rooms, tally) = (world.users.clone(), rooms.clone(), tally.clone());
        (0..count).map(move |i| {
            let (due, id, _) = load::due(i, step, &users, &rooms, None);
            tally.sent(
                id.parse().expect("a message id"),
                start + due.at,
                due.sender as u32,
            );
            due
        })
    };
    let answers = Arc::new(Mutex::new(Vec::new()));
    let slots = Arc::new(Semaphore::new(load::MAX_IN_FLIGHT));
    let senders = world
        .users
        .iter()
        .map(|u| (api.clone(), u.token.clone()))
        .collect();
    let sending = load::dispatch(start, dues, senders, slots.clone(), answers.clone(), |_| {});
    let told = Arc::new([AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)]);
    let churning = Tasks(vec![tokio::spawn(churn(churned, soak.churn, told.clone()))]);

    let mut sampler = Sampler {
        target: &world.target,
        tally: &tally,
        answers: &answers,
        states: &states,
        start,
        step,
        rooms: rooms.len(),
        tops: vec![0; rooms.len()],
        errors: BTreeMap::new(),
        stored: 0,
        latency: load::histogram(),
        lateness: load::histogram(),
        last: (start, world.target.usage(), Usage::me(), 0, 0),
    };
    (sampler.last.3, sampler.last.4) = sampler.counted();
    let interval = soak.interval();
    let intervals = (soak.duration.as_secs_f64() / interval.as_secs_f64()).floor() as u32;
    let started_cpu = world.target.usage();
    for k in 1..=intervals {
        tokio::time::sleep_until((start + interval * k).into()).await;
        let s = sampler.take();
        if !world.quiet {
            eprintln!(
                "    {}: RSS {:.1} MiB (anon {:.1}), {} files ({} HTTP, {} database, {} judged), {} threads, CPU {:.2}; {:.0} stored/s, {:.0} copies/s, p50 {:.2} ms, p99 {:.2} ms, answer p99 {:.2} ms; {} reconnects, {} caught up, {} errors; generator CPU {:.2}",
                clock(s.at),
                s.server.rss as f64 / 1048576.0,
                s.server.rss_anon as f64 / 1048576.0,
                s.server.files,
                s.http,
                s.database_files,
                s.held(),
                s.server.threads,
                s.server_cpu,
                s.stored as f64 / s.span.as_secs_f64(),
                s.pushed as f64 / s.span.as_secs_f64(),
                s.p50,
                s.p99,
                s.answer_p99,
                s.reconnects,
                s.caught_up,
                s.errors,
                s.generator_cpu
            );
        }
        samples.push(s);
    }
    sending.await.expect("the dispatch thread");
    let _ = slots.acquire_many(load::MAX_IN_FLIGHT as u32).await;
    let server_cpu = system::cpu_share(
        started_cpu,
        world.target.usage(),
        start.elapsed().min(soak.duration),
    );
    sampler.answers();
    // The churn stops; every member must come back with every message.
    drop(churning);
    let tops = sampler.tops.clone();
    let back = client::all_back(&states, &tops, Duration::from_secs(60)).await;
    // Pushes since the last reading count in the run's latency.
    let (rest, _) = tally.take();
    let _ = sampler.latency.add(&rest);
    let expected: u64 = states.iter().map(|(r, _)| tops[*r]).sum();
    let held: u64 = states
        .iter()
        .map(|(r, s)| s.have.load(Ordering::SeqCst).min(tops[*r]))
        .sum();
    let sum = |field: fn(&State) -> &AtomicU64| -> u64 {
        states
            .iter()
            .map(|(_, s)| field(s).load(Ordering::Relaxed))
            .sum()
    };
    drop(tasks);

    // Figures.
    let ms = |micros: u64| micros as f64 / 1000.0;
    let put = |section: &mut Section, name: &str, unit, better, value| {
        section.put(col, name, unit, better, value)
    };
    put(
        section,
        "messages offered",
        "messages",
        Better::Higher,
        count as f64,
    );
    put(
        section,
        "messages stored",
        "messages",
        Better::Higher,
        sampler.stored as f64,
    );
    let failed: u64 = sampler.errors.values().sum();
    put(
        section,
        "sends refused or failed",
        "sends",
        Better::Lower,
        failed as f64,
    );
    section.target("sends refused or failed", Better::Lower, 0.0);
    let latency = &sampler.latency;
    for (name, q) in [("p50", 0.5), ("p99", 0.99), ("p99.9", 0.999)] {
        put(
            section,
            &format!("delivery latency over the run, {name}"),
            "ms",
            Better::Lower,
            ms(latency.value_at_quantile(q)),
        );
    }
    put(
        section,
        "delivery latency over the run, max",
        "ms",
        Better::Lower,
        ms(latency.max()),
    );
    put(
        section,
        "generator late to send, p99",
        "ms",
        Better::Lower,
        ms(sampler.lateness.value_at_quantile(0.99)),
    );
    put(
        section,
        "copies pushed (senders' own not counted)",
        "copies",
        Better::Higher,
        latency.len() as f64,
    );
    for (kind, n) in ["clean", "TCP reset", "silent"].iter().zip(told.iter()) {
        put(
            section,
            &format!("hang-ups asked for: {kind}"),
            "sockets",
            Better::Higher,
            n.load(Ordering::Relaxed) as f64,
        );
    }
    put(
        section,
        "sockets gone down and reconnected",
        "reconnects",
        Better::Higher,
        sum(|s| &s.reconnects) as f64,
    );
    put(
        section,
        "messages caught up from history on reconnecting",
        "messages",
        Better::Higher,
        sum(|s| &s.caught_up) as f64,
    );
    put(
        section,
        "messages fetched for a gap while connected",
        "messages",
        Better::Lower,
        sum(|s| &s.gap_filled) as f64,
    );
    let completeness = if expected == 0 {
        1.0
    } else {
        held as f64 / expected as f64
    };
    put(
        section,
        "completeness: members holding every message of their conversation at the end",
        "%",
        Better::Higher,
        completeness * 100.0,
    );
    section.target(
        "completeness: members holding every message of their conversation at the end",
        Better::Higher,
        100.0,
    );
    put(
        section,
        "copies lost",
        "copies",
        Better::Lower,
        (expected - held) as f64,
    );
    put(
        section,
        "server CPU over the run",
        "cores",
        Better::Lower,
        server_cpu,
    );
    let strays = tally.strays.load(Ordering::Relaxed);
    if strays > 0 {
        put(
            section,
            "pushes of messages not sent by the soak",
            "pushes",
            Better::Lower,
            strays as f64,
        );
    }

    let flatness = Flatness::of(samples, soak.duration);
    if let Some(f) = &flatness {
        let windows = format!("(medians, {} vs {})", f.baseline, f.end);
        put(
            section,
            &format!("server RSS after the warm-up {windows}"),
            "MiB",
            Better::Lower,
            f.rss.0,
        );
        put(
            section,
            "server RSS at the end",
            "MiB",
            Better::Lower,
            f.rss.1,
        );
        let growth = "server RSS growth, end over after the warm-up";
        put(
            section,
            growth,
            "%",
            Better::Lower,
            // A tenth of a per cent is as close as it means anything.
            ((f.rss.1 / f.rss.0 - 1.0) * 1000.0).round() / 10.0,
        );
        section.target(growth, Better::Lower, RSS_GROWTH * 100.0);
        put(
            section,
            &format!("server open files after the warm-up {windows}"),
            "files",
            Better::Lower,
            f.all_files.0,
        );
        put(
            section,
            "server open files at the end",
            "files",
            Better::Lower,
            f.all_files.1,
        );
        put(
            section,
            "judged files (less the generator's HTTP connections and the database's) after the warm-up",
            "files",
            Better::Lower,
            f.files.0,
        );
        put(
            section,
            "judged files at the end",
            "files",
            Better::Lower,
            f.files.1,
        );
        let growth = "judged files growth, end over after the warm-up";
        put(
            section,
            growth,
            "files",
            Better::Lower,
            f.files.1 - f.files.0,
        );
        section.target(growth, Better::Lower, files_tolerance(f.files.0));
        put(
            section,
            &format!("server threads after the warm-up {windows}"),
            "threads",
            Better::Lower,
            f.threads.0,
        );
        put(
            section,
            "server threads at the end",
            "threads",
            Better::Lower,
            f.threads.1,
        );
    }
    section.notes.push(format!(
        "**Flatness rule.** Over the samples from {} to {} of the run (minutes 5–15 of an hour, after the warm-up) and over the last sixth (the last 10 minutes of an hour), the medians of the server's RSS (VmRSS) and of its judged files are compared: its open files (entries of `/proc/<pid>/fd`) less its established connections from the generator's HTTP client (which connects from {} alone: a keep-alive pool that grows while sends are slow to be answered and idles out after a minute, the client's doing) and less its files in its data directory (SQLite: a database and a WAL file per pooled connection, at most 8 connections, and the shared memory). The run is flat if the RSS at the end is at most {:.0} % above the RSS after the warm-up, and the judged files at most {} more, or {:.0} % more, whichever is larger (sockets between a hang-up and their reconnect, and silently dropped ones not yet timed out, come and go). Threads (a worker per SQLite connection among them) are shown, not judged. {}",
        clock(soak.duration.mul_f64(BASELINE.from)),
        clock(soak.duration.mul_f64(BASELINE.to)),
        HTTP_SOURCE,
        RSS_GROWTH * 100.0,
        FILES_GROWTH.0,
        FILES_GROWTH.1 * 100.0,
        if soak.judge { "A run that is not flat fails." } else { "At this size (a few seconds) flatness is shown, not judged." }
    ));
    let verdict = match &flatness {
        None => "**Verdict**: no samples in a window; the run was too short to judge.".to_owned(),
        Some(f) => format!(
            "**Verdict: {}.** RSS {:.1} → {:.1} MiB ({:+.1} %, limit +{:.0} %: {}); judged files {:.0} → {:.0} ({:+.0}, limit +{:.0}: {}; all open files {:.0} → {:.0}); threads {:.0} → {:.0}.",
            if f.flat() { "flat" } else { "not flat" },
            f.rss.0,
            f.rss.1,
            (f.rss.1 / f.rss.0 - 1.0) * 100.0,
            RSS_GROWTH * 100.0,
            if f.rss_flat { "within" } else { "exceeded" },
            f.files.0,
            f.files.1,
            f.files.1 - f.files.0,
            files_tolerance(f.files.0),
            if f.files_flat { "within" } else { "exceeded" },
            f.all_files.0,
            f.all_files.1,
            f.threads.0,
            f.threads.1,
        ),
    };
    section.notes.push(verdict);
    section.notes.push(format!(
        "Every {} (at: the reading's time from the start of the schedule; rates and latencies are the interval's; caught up: messages members fetched from history on coming back; data: the server's data directory):\n\n{}",
        length(soak.interval()),
        table(samples)
    ));

    if let Err(behind) = back {
        return Err(format!(
            "{behind} members not back with every message 60 s after the last send ({} copies lost)",
            expected - held
        ));
    }
    if failed > 0 {
        return Err(format!(
            "{failed} sends refused or failed: {:?}",
            sampler.errors
        ));
    }
    match flatness {
        Some(f) if soak.judge && !f.flat() => {
            Err("the server's footprint is not flat (see the verdict)".to_owned())
        }
        None if soak.judge => Err("too few samples to judge flatness".to_owned()),
        _ => Ok(()),
    }
}
