//! The scenarios (a)–(e), each against one server, each adding its figures
//! to its report section, and the sizes of all of them ([`Scale`]). (f),
//! the reconnect storm, is in `storm.rs`, (g), the browser, in
//! `browser.rs`, (h), the soak, in `soak.rs`.

use std::time::{Duration, Instant};

use crate::load::{self, Outcome, Plan};
use crate::report::{Better, Col, Curve, Section};
use crate::soak::Soak;
use crate::target::Counters;
use crate::world::{World, bar};

/// How big the run is.
#[derive(Debug, Clone)]
pub struct Scale {
    pub users: usize,
    pub repeats: usize,
    pub latency_rate: f64,
    pub window: Duration,
    pub warmup: Duration,
    pub sizes: Vec<usize>,
    pub rates: Vec<f64>,
    pub idle: Vec<usize>,
    pub big_room: usize,
    /// How long each run at 10 msg/s into the room of 1,000 measures: long
    /// enough that its p99 is not simply its worst message.
    pub big_window: Duration,
    pub big_rates: Vec<f64>,
    pub history: usize,
    pub history_reads: usize,
    pub storm: usize,
    pub sample_every: u32,
    /// The step of (b) whose per-message costs the report gives: a load
    /// every set-up holds.
    pub reference_rate: f64,
    /// Stop a rate search at the first step that does not hold.
    pub stop_early: bool,
    pub soak: Soak,
}

impl Scale {
    /// The whole suite, about 15 minutes on 2 cores (the soak, which is
    /// not in it unless named, an hour more).
    pub fn full() -> Scale {
        Scale {
            users: 1000,
            repeats: 3,
            latency_rate: 1000.0,
            window: Duration::from_secs(4),
            warmup: Duration::from_secs(1),
            sizes: vec![2, 10, 100],
            rates: vec![
                250.0, 500.0, 1000.0, 2000.0, 3000.0, 4000.0, 6000.0, 8000.0, 10_000.0, 12_000.0,
                16_000.0,
            ],
            idle: vec![10_000, 16_000],
            big_room: 1000,
            big_window: Duration::from_secs(30),
            big_rates: vec![20.0, 50.0, 100.0, 200.0, 400.0],
            history: 10_000,
            history_reads: 2000,
            storm: 10_000,
            sample_every: 97,
            reference_rate: 1000.0,
            stop_early: true,
            soak: Soak {
                duration: Duration::from_secs(3600),
                groups: vec![100, 50, 50, 20, 20, 10],
                pairs: 25,
                rate: 75.0,
                churn: 3,
                judge: true,
            },
        }
    }

    /// Every code path at a tiny size, for the test suite.
    pub fn smoke() -> Scale {
        Scale {
            users: 12,
            repeats: 1,
            latency_rate: 50.0,
            window: Duration::from_millis(600),
            warmup: Duration::from_millis(100),
            sizes: vec![2, 10],
            rates: vec![50.0, 100.0],
            idle: vec![40],
            big_room: 12,
            big_window: Duration::from_millis(1200),
            big_rates: vec![20.0],
            history: 120,
            history_reads: 30,
            storm: 36,
            sample_every: 1,
            reference_rate: 100.0,
            stop_early: false,
            soak: Soak {
                duration: Duration::from_secs(8),
                groups: vec![4, 3],
                pairs: 2,
                rate: 20.0,
                churn: 1,
                judge: false,
            },
        }
    }
}

impl Scale {
    /// A measured run at `rate`: warm-up, then the window.
    pub fn plan(&self, rate: f64) -> Plan {
        Plan {
            rate,
            duration: self.window + self.warmup,
            warmup: self.warmup,
            sample_every: self.sample_every,
        }
    }
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

/// The figures every load run gives.
fn put_run(section: &mut Section, col: Col, prefix: &str, o: &Outcome) {
    let p = |name: &str| format!("{prefix}{name}");
    section.put(
        col,
        &p("p50"),
        "ms",
        Better::Lower,
        ms(o.delivery.value_at_quantile(0.50)),
    );
    section.put(
        col,
        &p("p99"),
        "ms",
        Better::Lower,
        ms(o.delivery.value_at_quantile(0.99)),
    );
    section.put(
        col,
        &p("p99.9"),
        "ms",
        Better::Lower,
        ms(o.delivery.value_at_quantile(0.999)),
    );
    section.put(col, &p("max"), "ms", Better::Lower, ms(o.delivery.max()));
    // Part of every latency above: how late the generator began the send.
    section.put(
        col,
        &p("generator late to send, p50"),
        "ms",
        Better::Lower,
        ms(o.lateness.value_at_quantile(0.50)),
    );
    section.put(
        col,
        &p("generator late to send, p99"),
        "ms",
        Better::Lower,
        ms(o.lateness.value_at_quantile(0.99)),
    );
    section.put(
        col,
        &p("completeness"),
        "%",
        Better::Higher,
        o.completeness() * 100.0,
    );
    section.put(
        col,
        &p("copies lost"),
        "copies",
        Better::Lower,
        (o.expected - o.delivered) as f64,
    );
}

fn put_costs(section: &mut Section, col: Col, prefix: &str, o: &Outcome) {
    section.put(
        col,
        &format!("{prefix}server CPU"),
        "cores",
        Better::Lower,
        o.server_cpu,
    );
    section.put(
        col,
        &format!("{prefix}generator CPU"),
        "cores",
        Better::Lower,
        o.generator_cpu,
    );
    section.put(
        col,
        &format!("{prefix}server RSS"),
        "MiB",
        Better::Lower,
        o.server_rss as f64 / 1048576.0,
    );
}

/// Each process's share of the CPU, when the server side is more than one.
fn put_processes(section: &mut Section, col: Col, prefix: &str, o: &Outcome) {
    if o.processes.len() < 2 {
        return;
    }
    for (name, share) in &o.processes {
        section.put(
            col,
            &format!("{prefix}CPU of {name}"),
            "cores",
            Better::Lower,
            *share,
        );
    }
}

/// What one message cost each process and the services: CPU time per
/// message in the measured window, and PostgreSQL's and Redis's work per
/// message accepted over the whole run (`counted`).
fn put_per_message(
    section: &mut Section,
    col: Col,
    prefix: &str,
    o: &Outcome,
    counted: Option<Counters>,
) {
    let per = o.window.as_secs_f64() * 1e6 / o.measured.max(1) as f64;
    section.put(
        col,
        &format!("{prefix}CPU per message, whole server side"),
        "µs",
        Better::Lower,
        o.server_cpu * per,
    );
    if o.processes.len() > 1 {
        for (name, share) in &o.processes {
            section.put(
                col,
                &format!("{prefix}CPU per message, {name}"),
                "µs",
                Better::Lower,
                share * per,
            );
        }
    }
    let Some(c) = counted else {
        return;
    };
    let messages = o.accepted.max(1) as f64;
    let rows: [(&str, &'static str, f64); 8] = [
        ("Redis commands", "commands", c.redis_commands),
        ("Redis publishes", "publishes", c.redis_publishes),
        ("bytes into Redis", "bytes", c.redis_in),
        ("bytes out of Redis", "bytes", c.redis_out),
        ("PostgreSQL transactions", "transactions", c.pg_transactions),
        ("PostgreSQL rows inserted", "rows", c.pg_inserted),
        ("PostgreSQL rows updated", "rows", c.pg_updated),
        ("PostgreSQL rows fetched", "rows", c.pg_fetched),
    ];
    for (what, unit, total) in rows {
        // A service the set-up does not use counts nothing.
        if total > 0.0 {
            section.put(
                col,
                &format!("{prefix}{what} per message"),
                unit,
                Better::Lower,
                total / messages,
            );
        }
    }
}

/// [`World::run`], with what PostgreSQL and Redis did over it when the
/// set-up uses them.
async fn counted_run(
    world: &World,
    plan: Plan,
    rooms: &[crate::api::Room],
) -> Result<(Outcome, Option<Counters>), String> {
    if !world.target.has_services() {
        return Ok((world.run(plan, rooms).await, None));
    }
    // A PostgreSQL connection that goes idle reports what it counted at
    // once, or, within a second of its last report, 10 s later
    // (PGSTAT_IDLE_INTERVAL): wait that out before and after, so that
    // neither what came before nor this run's last second is misplaced.
    let lag = Duration::from_secs(11);
    tokio::time::sleep(lag).await;
    let before = world.target.counters()?;
    let o = world.run(plan, rooms).await;
    tokio::time::sleep(lag).await;
    let after = world.target.counters()?;
    Ok((o, Some(after - before)))
}

/// Errors that make a run's figures meaningless.
fn check(o: &Outcome, what: &str) -> Result<(), String> {
    if o.strays > 0 {
        return Err(format!(
            "{what}: {} copies went to users outside the room",
            o.strays
        ));
    }
    if o.duplicates > 0 {
        return Err(format!(
            "{what}: {} copies were pushed twice to one member",
            o.duplicates
        ));
    }
    if o.corrupt > 0 {
        return Err(format!(
            "{what}: {} received messages did not open to what was sent",
            o.corrupt
        ));
    }
    if o.verified == 0 && o.delivered > 0 {
        return Err(format!("{what}: no received message was opened"));
    }
    Ok(())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Runs `plan` `repeats` times and keeps the run with the median p99.
async fn median_run(
    world: &World,
    rooms: &[crate::api::Room],
    plan: Plan,
    repeats: usize,
) -> Result<Outcome, String> {
    let mut runs = Vec::new();
    for _ in 0..repeats.max(1) {
        let o = world.run(plan, rooms).await;
        check(&o, "latency run")?;
        runs.push(o);
    }
    let p99 = median(
        runs.iter()
            .map(|o| o.delivery.value_at_quantile(0.99) as f64)
            .collect(),
    );
    let index = runs
        .iter()
        .position(|o| o.delivery.value_at_quantile(0.99) as f64 == p99)
        .unwrap_or(0);
    Ok(runs.swap_remove(index))
}

/// (a) End-to-end latency at light load in rooms of 2, 10 and 100.
pub async fn latency(
    world: &World,
    scale: &Scale,
    section: &mut Section,
    col: Col,
) -> Result<(), String> {
    for &size in &scale.sizes {
        // Light load: the target's 1,000 msg/s for small rooms; a tenth of
        // it into rooms of 100 (the copies delivered are then the same).
        let rate = if size >= 100 {
            scale.latency_rate / 10.0
        } else {
            scale.latency_rate
        };
        let count = (scale.users / size).clamp(1, 10);
        let rooms = world.rooms(count, size).await?;
        let _sockets = world.connect_members(&rooms).await?;
        let plan = scale.plan(rate);
        let o = median_run(world, &rooms, plan, scale.repeats).await?;
        let prefix = format!("{size} members, {rate} msg/s: ");
        put_run(section, col, &prefix, &o);
        put_costs(section, col, &prefix, &o);
        if size == 10 {
            section.target(&format!("{prefix}p50"), Better::Lower, 1.0);
            section.target(&format!("{prefix}p99"), Better::Lower, 5.0);
        }
    }
    Ok(())
}

/// Whether a step of a rate search held: p99 within `p99_ms`, at least
/// 99.99 % delivered, and nothing refused.
fn held(o: &Outcome, p99_ms: f64) -> bool {
    ms(o.delivery.value_at_quantile(0.99)) <= p99_ms
        && o.completeness() >= 0.9999
        && o.errors.is_empty()
        && o.delivered > 0
}

/// (b) The highest sustained rate into 10-member rooms with p99 ≤ 50 ms
/// and ≥ 99.99 % delivered; every step goes into the table and the plot.
pub async fn throughput(
    world: &World,
    scale: &Scale,
    section: &mut Section,
    col: Col,
    curve: &mut Curve,
) -> Result<(), String> {
    let size = 10.min(world.users.len());
    let rooms = world
        .rooms((world.users.len() / size).clamp(1, 10), size)
        .await?;
    let _sockets = world.connect_members(&rooms).await?;
    let mut best = 0.0;
    let mut best_processes = None;
    for &rate in &scale.rates {
        let plan = scale.plan(rate);
        let reference = rate == scale.reference_rate;
        let (o, counted) = if reference {
            counted_run(world, plan, &rooms).await?
        } else {
            (world.run(plan, &rooms).await, None)
        };
        check(&o, "rate step")?;
        if reference {
            put_per_message(section, col, &format!("at {rate} msg/s: "), &o, counted);
        }
        let (p50, p99) = (
            ms(o.delivery.value_at_quantile(0.50)),
            ms(o.delivery.value_at_quantile(0.99)),
        );
        curve.points.push((rate, p50, p99));
        let accepted = o.accepted as f64 / plan.duration.as_secs_f64();
        if !world.quiet {
            let each: Vec<String> = o
                .processes
                .iter()
                .map(|(name, share)| format!("{name} {share:.2}"))
                .collect();
            eprintln!(
                "    {rate:>7} msg/s offered ({} messages): {accepted:.0} accepted/s, p50 {p50:.2} ms, p99 {p99:.2} ms, {:.4} % delivered, server {:.2} cores ({}), generator {:.2} cores",
                o.offered,
                o.completeness() * 100.0,
                o.server_cpu,
                each.join(", "),
                o.generator_cpu,
            );
        }
        let step = format!("{rate} msg/s: ");
        section.put(
            col,
            &format!("{step}accepted"),
            "msg/s",
            Better::Higher,
            accepted,
        );
        section.put(col, &format!("{step}p50"), "ms", Better::Lower, p50);
        section.put(col, &format!("{step}p99"), "ms", Better::Lower, p99);
        section.put(
            col,
            &format!("{step}completeness"),
            "%",
            Better::Higher,
            o.completeness() * 100.0,
        );
        section.put(
            col,
            &format!("{step}server CPU"),
            "cores",
            Better::Lower,
            o.server_cpu,
        );
        section.put(
            col,
            &format!("{step}generator CPU"),
            "cores",
            Better::Lower,
            o.generator_cpu,
        );
        if held(&o, 50.0) {
            best = rate;
            best_processes = Some(o);
        } else if scale.stop_early {
            break;
        }
    }
    let name = "highest rate with p99 ≤ 50 ms and ≥ 99.99 % delivered";
    section.put(col, name, "msg/s", Better::Higher, best);
    if let Some(o) = best_processes {
        put_processes(section, col, "at the highest rate: ", &o);
    }
    section.target(name, Better::Higher, 10_000.0);
    Ok(())
}

/// (c) Idle authenticated connections: server RSS per connection.
pub async fn idle(
    world: &World,
    scale: &Scale,
    section: &mut Section,
    col: Col,
) -> Result<(), String> {
    let users: Vec<usize> = (0..world.users.len()).collect();
    // One baseline, before any of these sockets: memory the allocator keeps
    // from an earlier step must not make a later one look cheaper.
    let before = world.target.usage().rss;
    for &count in &scale.idle {
        let per_user = count.div_ceil(users.len());
        let started = Instant::now();
        let sockets = world.connect(&users, per_user).await?;
        let took = started.elapsed();
        // Let allocations settle.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let after = world.target.usage().rss;
        let held = sockets.len();
        let per = after.saturating_sub(before) as f64 / held as f64 / 1024.0;
        if !world.quiet {
            eprintln!(
                "    {held} sockets: RSS {:.0} MiB over {:.0} MiB before any, {per:.1} KiB each",
                after.saturating_sub(before) as f64 / 1048576.0,
                before as f64 / 1048576.0
            );
        }
        let name = format!("{held} connections: RSS per connection");
        section.put(col, &name, "KiB", Better::Lower, per);
        section.target(&name, Better::Lower, 16.0);
        section.put(
            col,
            &format!("{held} connections: server RSS"),
            "MiB",
            Better::Lower,
            after as f64 / 1048576.0,
        );
        section.put(
            col,
            &format!("{held} connections: handshakes per second"),
            "1/s",
            Better::Higher,
            held as f64 / took.as_secs_f64(),
        );
        drop(sockets);
        world.settle().await;
    }
    Ok(())
}

/// (d) A room of 1,000: until the last member has a message, and the
/// highest sustained rate into it.
pub async fn big_room(
    world: &World,
    scale: &Scale,
    section: &mut Section,
    col: Col,
) -> Result<(), String> {
    let size = scale.big_room.min(world.users.len());
    let rooms = world.rooms(1, size).await?;
    let sockets = world.connect_members(&rooms).await?;
    // 300 messages at 10 msg/s: of 50, the p99 was the worst one.
    let light = Plan {
        rate: 10.0,
        duration: scale.big_window + scale.warmup,
        warmup: scale.warmup,
        sample_every: scale.sample_every,
    };
    let (o, counted) = counted_run(world, light, &rooms).await?;
    check(&o, "big room")?;
    let costs = format!("{size} members, 10 msg/s: ");
    put_processes(section, col, &costs, &o);
    put_per_message(section, col, &costs, &o, counted);
    let p = format!("{size} members, 10 msg/s: last member reached, ");
    section.put(
        col,
        &format!("{p}p50"),
        "ms",
        Better::Lower,
        ms(o.last_member.value_at_quantile(0.5)),
    );
    section.put(
        col,
        &format!("{p}p99"),
        "ms",
        Better::Lower,
        ms(o.last_member.value_at_quantile(0.99)),
    );
    section.target(&format!("{p}p99"), Better::Lower, 25.0);
    section.put(
        col,
        &format!("{p}worst"),
        "ms",
        Better::Lower,
        ms(o.last_member.max()),
    );
    section.put(
        col,
        &format!("{size} members, 10 msg/s: completeness"),
        "%",
        Better::Higher,
        o.completeness() * 100.0,
    );
    let mut best = 0.0;
    for &rate in &scale.big_rates {
        let plan = Plan {
            rate,
            duration: Duration::from_secs(5).min(scale.window * 2) + scale.warmup,
            ..light
        };
        let o = world.run(plan, &rooms).await;
        check(&o, "big room rate")?;
        if !world.quiet {
            eprintln!(
                "    {rate:>5} msg/s into {size}: p99 {:.1} ms, last member p99 {:.1} ms, {:.3} % delivered",
                ms(o.delivery.value_at_quantile(0.99)),
                ms(o.last_member.value_at_quantile(0.99)),
                o.completeness() * 100.0
            );
        }
        if held(&o, 50.0) {
            best = rate;
        } else if scale.stop_early {
            break;
        }
    }
    section.put(
        col,
        &format!("highest rate into {size} with p99 ≤ 50 ms, ≥ 99.99 % delivered"),
        "msg/s",
        Better::Higher,
        best,
    );
    if col.hush {
        // 10 msg/s again while 50 members type (#19): each says `typing`
        // every 2 s, as the app does while its user writes; the server
        // relays them to the whole room, several typists in one event when
        // they come within a second (`server::typing`).
        let typers = &sockets[1..sockets.len().min(TYPERS + 1)];
        let count = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
        let (events, named) = (count(&world.hub.typing), count(&world.hub.typists));
        let (o, ()) = tokio::join!(
            world.run(light, &rooms),
            type_along(typers, &rooms[0].id, light.duration)
        );
        check(&o, "big room with people typing")?;
        let events = count(&world.hub.typing) - events;
        let heard = count(&world.hub.typists) - named;
        let t = format!(
            "{size} members, 10 msg/s, {} of them typing: ",
            typers.len()
        );
        put_last_member(section, col, &t, &o);
        section.target(&format!("{t}last member reached, p99"), Better::Lower, 25.0);
        section.put_hush_only(
            col,
            &format!("{t}typists each member heard of, per second"),
            "/s",
            Better::Higher,
            heard as f64 / size as f64 / light.duration.as_secs_f64(),
        );
        section.put_hush_only(
            col,
            &format!("{t}typing events each member received, per second"),
            "/s",
            Better::Lower,
            events as f64 / size as f64 / light.duration.as_secs_f64(),
        );
        // 10 msg/s again while 50 members read along (each tells the
        // server how far it has read every second, as the app does with
        // the conversation on screen) and 50 others open and close a second
        // tab (each connect looks up who of the user's people is online;
        // presence itself is never told in a room over 100 members, nor are
        // reads: `live::LIVE_GROUP_MAX`).
        let readers: Vec<usize> = rooms[0]
            .members
            .iter()
            .skip(1)
            .take(READERS)
            .copied()
            .collect();
        let tabs: Vec<usize> = rooms[0]
            .members
            .iter()
            .rev()
            .take(READERS)
            .copied()
            .collect();
        let (o, reads, opened) = tokio::join!(
            world.run(light, &rooms),
            read_along(world, &readers, &rooms[0].id, light.duration),
            come_and_go(world, &tabs, light.duration)
        );
        check(&o, "big room with people reading and opening tabs")?;
        let reads = reads?;
        let secs = light.duration.as_secs_f64();
        let r = format!(
            "{size} members, 10 msg/s, {} reading along, {} opening and closing a tab: ",
            readers.len(),
            tabs.len()
        );
        put_last_member(section, col, &r, &o);
        section.target(&format!("{r}last member reached, p99"), Better::Lower, 25.0);
        section.put_hush_only(
            col,
            &format!("{r}read positions stored, per second"),
            "/s",
            Better::Higher,
            reads as f64 / secs,
        );
        section.put_hush_only(
            col,
            &format!("{r}tabs opened, per second"),
            "/s",
            Better::Higher,
            opened as f64 / secs,
        );
        // Last, since it moves the room to epoch 1, which the runs above do
        // not seal for: 10 msg/s again, with the room's next epoch (a new
        // key wrapped for every member, signed; each member is told where
        // it stands and reads the new epoch) posted halfway.
        let count = (light.rate * light.duration.as_secs_f64()).round() as usize;
        let change = crate::api::next_epoch(&world.api, &world.users, &rooms[0], 0, count / 2)
            .await
            .map_err(|e| format!("the big room's next epoch: {e}"))?;
        let (o, read) = world.run_with_change(light, &rooms, change).await;
        check(&o, "big room with a change")?;
        let told = read.len();
        if told < rooms[0].members.len() {
            return Err(format!(
                "big room with a change: {told} of {} members were told of it",
                rooms[0].members.len()
            ));
        }
        // A read the server refused (the app reads again later) counts
        // apart; the times are those of the reads that succeeded.
        let taken = o.change.clone().ok_or("the change was not posted")?;
        let mut reads: Vec<Duration> = read
            .iter()
            .filter_map(|r| r.as_ref().ok().map(|at| at.duration_since(taken.posted)))
            .collect();
        let failed = told - reads.len();
        reads.sort();
        let quantile = |q: f64| {
            reads
                .get(((reads.len() as f64 * q).ceil() as usize).saturating_sub(1))
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        let size = taken
            .outcome
            .map_err(|e| format!("the change was refused: {e}"))?;
        let c = format!(
            "{} members, 10 msg/s, a new epoch halfway: ",
            rooms[0].members.len()
        );
        put_last_member(section, col, &c, &o);
        section.put_hush_only(
            col,
            &format!("{c}completeness"),
            "%",
            Better::Higher,
            o.completeness() * 100.0,
        );
        section.put_hush_only(
            col,
            &format!("{c}the change answered in"),
            "ms",
            Better::Lower,
            taken.took.as_secs_f64() * 1000.0,
        );
        section.put_hush_only(
            col,
            &format!("{c}members told whose first read of it the server refused"),
            "members",
            Better::Lower,
            failed as f64,
        );
        section.target(
            &format!("{c}members told whose first read of it the server refused"),
            Better::Lower,
            0.0,
        );
        section.put_hush_only(
            col,
            &format!("{c}a member had the new epoch, p50 after it was posted"),
            "ms",
            Better::Lower,
            quantile(0.5),
        );
        section.put_hush_only(
            col,
            &format!("{c}the last member had the new epoch, after it was posted"),
            "ms",
            Better::Lower,
            quantile(1.0),
        );
        section.put_hush_only(
            col,
            &format!("{c}the change's answer (the new epoch as a change)"),
            "KiB",
            Better::Lower,
            size as f64 / 1024.0,
        );
    }
    Ok(())
}

/// The p50, p99 and worst until the last member had each message, of a
/// run of Hush alone, named after `prefix`.
fn put_last_member(section: &mut Section, col: Col, prefix: &str, o: &Outcome) {
    for (q, name) in [(0.5, "p50"), (0.99, "p99"), (1.0, "worst")] {
        section.put_hush_only(
            col,
            &format!("{prefix}last member reached, {name}"),
            "ms",
            Better::Lower,
            ms(o.last_member.value_at_quantile(q)),
        );
    }
}

/// How many members type at once in the room of 1,000 (#19, item 8).
const TYPERS: usize = 50;

/// Has `typers` say `typing` in `conversation` for `how_long`, each every
/// two seconds (the most the server relays per socket), spread evenly.
async fn type_along(typers: &[crate::live::Socket], conversation: &str, how_long: Duration) {
    if typers.is_empty() {
        return;
    }
    let end = Instant::now() + how_long;
    let step = Duration::from_secs(2) / typers.len() as u32;
    for typer in typers.iter().cycle() {
        if Instant::now() >= end {
            break;
        }
        typer.typing(conversation);
        tokio::time::sleep(step).await;
    }
}

/// How many members read along, and how many open and close a tab, in
/// the room of 1,000 (#19, item 8).
const READERS: usize = 50;

/// Has `readers` tell the server they have read `conversation` to its end,
/// each once a second, spread evenly, for `how_long`; answers how many
/// reads were stored, or why one was refused.
async fn read_along(
    world: &World,
    readers: &[usize],
    conversation: &str,
    how_long: Duration,
) -> Result<u64, String> {
    if readers.is_empty() {
        return Ok(0);
    }
    let end = Instant::now() + how_long;
    let mut every = tokio::time::interval(Duration::from_secs(1) / readers.len() as u32);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Past the end: the server stores the conversation's last `seq`.
    let body = serde_json::json!({ "conversation_id": conversation, "seq": u64::MAX });
    let (mut stored, mut refused) = (0, None);
    for reader in readers.iter().cycle() {
        every.tick().await;
        if Instant::now() >= end {
            break;
        }
        let token = Some(world.users[*reader].token.as_str());
        match world
            .api_of(*reader)
            .post("conversations/read", &body, token)
            .await
        {
            Ok(_) => stored += 1,
            Err(e) => refused = Some(e.to_string()),
        }
    }
    match refused {
        Some(why) => Err(format!("a read was refused: {why}")),
        None => Ok(stored),
    }
}

/// Has `users` open a second socket (a tab) and close it about a second
/// later, one every 2 s each, spread evenly, for `how_long`; what those
/// sockets hear is dropped. Answers how many were opened.
async fn come_and_go(world: &World, users: &[usize], how_long: Duration) -> u64 {
    if users.is_empty() {
        return 0;
    }
    let hub = std::sync::Arc::new(crate::live::Hub::default());
    let end = Instant::now() + how_long;
    let mut every = tokio::time::interval(Duration::from_secs(2) / users.len() as u32);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut open = std::collections::VecDeque::new();
    let mut opened = 0;
    for (n, user) in users.iter().cycle().enumerate() {
        every.tick().await;
        if Instant::now() >= end {
            break;
        }
        let token = &world.users[*user].token;
        let from = crate::live::source(n);
        if let Ok(tab) =
            crate::live::connect(world.addr_of(*user), from, token, *user as u32, hub.clone()).await
        {
            open.push_back(tab);
            opened += 1;
        }
        // Dropping a socket closes it: the one opened half a round ago.
        if open.len() > users.len() / 2 {
            open.pop_front();
        }
    }
    opened
}

/// (e) History: the newest 50 of a long conversation.
pub async fn history(
    world: &World,
    scale: &Scale,
    section: &mut Section,
    col: Col,
) -> Result<(), String> {
    let rooms = world.rooms(1, 2).await?;
    let room = &rooms[0];
    // Fill it as fast as the server takes it (not measured).
    let fill = Plan {
        rate: 2000.0,
        duration: Duration::from_secs_f64(scale.history as f64 / 2000.0),
        warmup: Duration::ZERO,
        sample_every: u32::MAX,
    };
    let o = world.run(fill, &rooms).await;
    if o.accepted as usize != scale.history {
        return Err(format!(
            "history fill: {} of {} stored ({:?})",
            o.accepted, scale.history, o.errors
        ));
    }
    let reader = &world.users[room.members[1]];
    let mut times = load::histogram();
    let progress = bar(world.quiet, scale.history_reads as u64, "reading history");
    for _ in 0..scale.history_reads {
        let started = Instant::now();
        let page = crate::api::newest(world.api_of(room.members[1]), reader, &room.id, 50)
            .await
            .map_err(|e| format!("history: {e}"))?;
        let took = started.elapsed();
        let got = page["messages"].as_array().map_or(0, Vec::len);
        if got != 50 {
            return Err(format!("history: {got} messages instead of 50"));
        }
        let _ = times.record((took.as_micros() as u64).max(1));
        progress.inc(1);
    }
    progress.finish_and_clear();
    let p = format!("newest 50 of {}: ", scale.history);
    section.put(
        col,
        &format!("{p}p50"),
        "ms",
        Better::Lower,
        ms(times.value_at_quantile(0.5)),
    );
    section.put(
        col,
        &format!("{p}p99"),
        "ms",
        Better::Lower,
        ms(times.value_at_quantile(0.99)),
    );
    section.target(&format!("{p}p99"), Better::Lower, 2.0);
    Ok(())
}
