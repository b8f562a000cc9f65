//! `hush-bench`: the load generator. It starts Hush (in the set-ups named:
//! one node on SQLite, one on PostgreSQL, nodes sharing PostgreSQL and
//! Redis) and the Node.js peer (`bench/peers/node`) one after the other on
//! the same machine, drives
//! each with the same scenarios through real clients (native `hush-v1`
//! sealing, real Socket.IO connections), and writes a Markdown report with
//! every server side by side, a latency plot, and for the soak (h, Hush
//! only) a plot of the server's footprint over time. `--help` lists the
//! flags.

mod api;
mod browser;
mod client;
mod live;
mod load;
mod report;
mod scenarios;
mod soak;
mod storm;
mod system;
mod target;
mod world;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use report::{Col, Curve, Heading, Section};
use scenarios::Scale;
use target::{Kind, Launch, Setup, Target};
use world::World;

const HELP: &str = "\
hush-bench: Hush and the Node.js peer under the same load, side by side.

USAGE: hush-bench [flags]

  --smoke               every scenario at a tiny size (what the tests run)
  --only LETTERS        scenarios to run, e.g. --only ab (default: abcdefg;
                        the soak, h, an hour long, runs only when named,
                        or in --smoke, where it takes seconds)
  --soak-minutes N      how long the soak (h) runs (default 60; e.g. 2 to
                        try it; it samples every minute, or 12 times over
                        a run shorter than 12 minutes)
  --servers LIST        hush,peer (default), or any of: hush (one node,
                        SQLite), hush-pg (one node, PostgreSQL),
                        hush-cluster (two nodes, PostgreSQL and Redis),
                        hush-cluster+1 (and a third node with no
                        clients), peer; a column each (g and h run against
                        hush only). The machine's PostgreSQL and Redis
                        are pinned to the servers' core while a set-up
                        that uses them runs, and put back after
  --postgres-url URL    the database hush-pg and the clusters use, dropped
                        and created again at each start (default
                        postgres://postgres@127.0.0.1:5432/hush_bench)
  --redis-url URL       the clusters' Redis (default redis://127.0.0.1:6379;
                        each run under a prefix of its own)
  --hush-bin PATH       the server to measure (default target/release/hush)
  --site-dir PATH       its built site (default target/site)
  --peer-dir PATH       the peer (default bench/peers/node)
  --out DIR             where reports go (default bench/results)
  --scratch DIR         the servers' data (default target/bench-data)
  --end2end-dir DIR     the Playwright project, for (g) (default end2end)
  --commit TEXT         the commit the server was built from, for the
                        report (default: `git rev-parse --short HEAD` at
                        the start; say it when the binary was built
                        elsewhere or the tree has moved on since)
  --quiet               no progress bars
";

/// Every scenario, and those run when none are named.
const SCENARIOS: &str = "abcdefgh";
const DEFAULT_SCENARIOS: &str = "abcdefg";
/// Scenarios run against Hush, one node on SQLite, only.
const HUSH_ONLY: &str = "gh";

struct Options {
    smoke: bool,
    only: String,
    soak_minutes: Option<f64>,
    commit: Option<String>,
    servers: Vec<Kind>,
    launch: Launch,
    out: PathBuf,
    scratch: PathBuf,
    end2end: PathBuf,
    quiet: bool,
}

fn parse() -> Result<Options, String> {
    let mut o = Options {
        smoke: false,
        only: String::new(),
        soak_minutes: None,
        commit: None,
        servers: vec![Kind::Hush(Setup::Sqlite), Kind::Peer],
        launch: Launch {
            hush_bin: "target/release/hush".into(),
            site_dir: "target/site".into(),
            peer_dir: "bench/peers/node".into(),
            core: None,
            postgres_url: "postgres://postgres@127.0.0.1:5432/hush_bench".to_owned(),
            redis_url: "redis://127.0.0.1:6379".to_owned(),
        },
        out: "bench/results".into(),
        scratch: "target/bench-data".into(),
        end2end: "end2end".into(),
        quiet: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--smoke" => o.smoke = true,
            "--quiet" => o.quiet = true,
            "--only" => o.only = value()?,
            "--soak-minutes" => {
                let minutes = value()?;
                o.soak_minutes = Some(
                    minutes
                        .parse::<f64>()
                        .ok()
                        .filter(|m| m.is_finite() && *m > 0.0)
                        .ok_or_else(|| format!("--soak-minutes: not a duration: {minutes:?}"))?,
                );
            }
            "--commit" => o.commit = Some(value()?),
            "--servers" => {
                o.servers = value()?
                    .split(',')
                    .map(Kind::parse)
                    .collect::<Result<_, _>>()?;
            }
            "--hush-bin" => o.launch.hush_bin = value()?.into(),
            "--site-dir" => o.launch.site_dir = value()?.into(),
            "--peer-dir" => o.launch.peer_dir = value()?.into(),
            "--postgres-url" => o.launch.postgres_url = value()?,
            "--redis-url" => o.launch.redis_url = value()?,
            "--out" => o.out = value()?.into(),
            "--scratch" => o.scratch = value()?.into(),
            "--end2end-dir" => o.end2end = value()?.into(),
            "-h" | "--help" => {
                print!("{HELP}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown flag {other:?} (see --help)")),
        }
    }
    if o.only.is_empty() {
        o.only = if o.smoke {
            SCENARIOS
        } else {
            DEFAULT_SCENARIOS
        }
        .to_owned();
    }
    if let Some(bad) = o.only.chars().find(|c| !SCENARIOS.contains(*c)) {
        return Err(format!("--only: no scenario {bad:?} (a to h)"));
    }
    Ok(o)
}

fn main() -> ExitCode {
    let mut options = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("hush-bench: {e}");
            return ExitCode::from(2);
        }
    };
    // Two cores or more: the generator on core 0, the servers on core 1.
    if system::cores() >= 2 {
        if let Err(e) = system::pin_self(0) {
            eprintln!("hush-bench: not pinned: {e}");
        } else {
            options.launch.core = Some(1);
        }
    }
    let files = system::raise_file_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    // Ctrl-C drops the suite, and with it the running server: its nodes
    // stop and the services it pinned get their cores back.
    let interrupted = async {
        let _ = tokio::signal::ctrl_c().await;
        Err("interrupted".to_owned())
    };
    let run = async {
        tokio::select! {
            done = suite(&options, files) => done,
            stop = interrupted => stop,
        }
    };
    match runtime.block_on(run) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("hush-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Every scenario's section, in report order.
fn sections(scale: &Scale) -> Vec<(char, Section)> {
    let s = |letter, title: &str, settings: String| (letter, Section::new(title, settings));
    vec![
        s('a', "(a) End-to-end latency at light load", format!(
            "Rooms of {:?} members; {} msg/s over up to 10 rooms ({} msg/s into rooms of 100); {} s measured after {} s of warm-up; median of {} runs (by p99). Latency: from the moment a message is due to be handed to the send call until a member's socket has it; the sender's own copy is not counted.",
            scale.sizes, scale.latency_rate, scale.latency_rate / 10.0, scale.window.as_secs_f64(), scale.warmup.as_secs_f64(), scale.repeats)),
        s('b', "(b) Sustained message rate into 10-member rooms", format!(
            "Up to 10 rooms of 10; open-loop steps of {:?} msg/s, {} s each after {} s of warm-up, until p99 > 50 ms or fewer than 99.99 % of copies arrive or a send is refused.",
            scale.rates, scale.window.as_secs_f64(), scale.warmup.as_secs_f64())),
        s('c', "(c) Idle authenticated connections", format!(
            "{:?} sockets (Socket.IO over WebSocket, handshake with a token), from 127.0.0.1–100, spread over the users; per connection: the server's RSS 2 s after connecting them, less its RSS before the first step, divided by the count.",
            scale.idle)),
        s('d', "(d) A room of 1,000 members", format!(
            "One room of {} members, each with one socket; 10 msg/s for {} s after {} s of warm-up, for the time to the last member (p50, p99 and the worst message), then steps of {:?} msg/s, {} s each.",
            scale.big_room, scale.big_window.as_secs_f64(), scale.warmup.as_secs_f64(), scale.big_rates, (scale.window * 2).min(std::time::Duration::from_secs(5)).as_secs_f64())),
        s('e', "(e) History", format!(
            "A conversation of {} messages; the newest 50 read {} times one after the other, timed at the client over loopback HTTP (so an upper bound of the server's time).",
            scale.history, scale.history_reads)),
        s('f', "(f) Reconnect storm", format!(
            "{} connected clients (sockets spread over the users, each in one room of 10), the server restarted (SIGTERM, start on the same data and port); then one message into every room. Each client reconnects with the browser's policy (full jitter from 0.5 s doubling to 10 s), lists its conversations naming those it holds (Hush answers those as heads, the peer has no such form and sends everything) and fetches what it missed. Timed from the restart until every client is back and holds every message.",
            scale.storm)),
        s('g', "(g) The browser", "The browser app as built (`scripts/bench`: release): the WASM + JS the sign-in page downloads and a conversation's page (the whole app both; in a build split by route, `--split`, the main part, and the main part with the part of `/chats` from the split manifest), compressed with `gzip -9`, and as the build's brotli copies hold them (as served, where the build made them); then a conversation of 1,000 messages opened in Chromium (Playwright, `end2end/bench/open.mjs`), timed in the page until its newest message is in the timeline: once as a full page load of the conversation's address, once as a click in the list of the already open app, and once as the full page load again after the service worker was stopped (as Chromium stops an idle one).".to_owned()),
        s('h', "(h) Soak", format!(
            "Hush only (the peer is not soaked). {} at {} msg/s, open-loop, round-robin over {} conversations ({} groups of {:?} members and {} one-to-one), each conversation's members taking turns to send; each message sealed and signed just before it is due. One socket per member ({} sockets). Every second {} hang up, the kinds in turn: cleanly (Socket.IO DISCONNECT, then the WebSocket close), by a TCP reset, or silently (no more reads or pongs: the connection stays open until the server's ping timeout ends it); each comes back as the browser does (backoff from 0–0.5 s, list naming the conversation it holds, fetch what it missed, through the delivery core). Every {}: the server's RSS (VmRSS, RssAnon), open files (`/proc/<pid>/fd`), threads, CPU and data directory size, and the interval's delivery latency (from the moment a message was due until a member's socket had it; the sender's own copy not counted) and throughput. At the end, with the churn stopped, every member must hold every message of its conversation within 60 s.",
            soak::length(scale.soak.duration), scale.soak.rate, scale.soak.groups.len() + scale.soak.pairs, scale.soak.groups.len(), scale.soak.groups, scale.soak.pairs, scale.soak.members(), if scale.soak.churn == 1 { "1 socket".to_owned() } else { format!("{} sockets", scale.soak.churn) }, soak::length(scale.soak.interval()))),
    ]
}

async fn suite(options: &Options, files: u64) -> Result<bool, String> {
    let mut scale = if options.smoke {
        Scale::smoke()
    } else {
        Scale::full()
    };
    if let Some(minutes) = options.soak_minutes {
        scale.soak.duration = Duration::from_secs_f64(minutes * 60.0);
    }
    let commit = options.commit.clone().unwrap_or_else(commit);
    let mut all = sections(&scale);
    all.retain(|(letter, _)| options.only.contains(*letter));
    let mut curves = Vec::new();
    let mut soaked = Vec::new();
    let mut failures = Vec::new();
    let started = Instant::now();
    let mut columns = Vec::new();
    for &kind in &options.servers {
        // g and h: Hush on one node, with its SQLite file.
        let plain = kind == Kind::Hush(Setup::Sqlite);
        if !plain && all.iter().all(|(letter, _)| HUSH_ONLY.contains(*letter)) {
            continue;
        }
        let col = Col {
            index: columns.len(),
            hush: kind.is_hush(),
        };
        columns.push(Heading {
            name: kind.name(),
            hush: kind.is_hush(),
        });
        eprintln!("\u{1b}[1m{}\u{1b}[0m", kind.name());
        let data = options.scratch.join(kind.slug());
        let target = Target::start(kind, &options.launch, &data)?;
        let mut world = World::populate(target, scale.users, options.quiet).await?;
        let mut curve = Curve {
            server: kind.name().to_owned(),
            points: Vec::new(),
        };
        // The storm before the room of 1,000: each storm client's first,
        // full list would carry that room's 1,000 members, which would make
        // (f)'s set-up a test of (d)'s aftermath rather than of reconnecting.
        let order = "abcefdgh";
        all.sort_by_key(|(letter, _)| order.find(*letter));
        for (letter, section) in &mut all {
            if HUSH_ONLY.contains(*letter) && !plain {
                continue;
            }
            eprintln!("  {}", section.title);
            world.settle().await;
            let t = Instant::now();
            let result = match letter {
                'a' => scenarios::latency(&world, &scale, section, col).await,
                'b' => scenarios::throughput(&world, &scale, section, col, &mut curve).await,
                'c' => scenarios::idle(&world, &scale, section, col).await,
                'd' => scenarios::big_room(&world, &scale, section, col).await,
                'e' => scenarios::history(&world, &scale, section, col).await,
                'f' => storm::storm(&mut world, &scale, section, col).await,
                'g' => browser::measure(&world, options, section, col).await,
                'h' => soak::soak(&world, &scale, section, col, &mut soaked).await,
                _ => Ok(()),
            };
            eprintln!("    done in {:.1} s", t.elapsed().as_secs_f64());
            if let Err(e) = result {
                eprintln!("    FAILED: {e}");
                section
                    .notes
                    .push(format!("**{} failed**: {e}", kind.name()));
                failures.push(format!("{} {}: {e}", kind.name(), section.title));
            }
        }
        if !curve.points.is_empty() {
            curves.push(curve);
        }
        world.target.stop();
    }
    let stamp = stamp();
    let dir = options.out.join(&stamp);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let header = vec![
        (
            "When".to_owned(),
            format!("{stamp} (UTC), {:.0} s", started.elapsed().as_secs_f64()),
        ),
        ("Commit".to_owned(), commit),
        ("Machine".to_owned(), system::machine()),
        (
            "Pinning".to_owned(),
            match options.launch.core {
                Some(core) => {
                    format!("generator on core 0 (one tokio worker), servers on core {core}")
                }
                None => "none (fewer than 2 cores)".to_owned(),
            },
        ),
        (
            "Durability".to_owned(),
            format!("SQLite {}", target::DURABILITY),
        ),
        (
            "Scale".to_owned(),
            if options.smoke {
                "smoke (tiny; not a measurement)".to_owned()
            } else {
                "full".to_owned()
            },
        ),
        ("Scenarios".to_owned(), options.only.clone()),
        (
            "Open files".to_owned(),
            format!("{files} per process (the hard limit here)"),
        ),
        (
            "Servers".to_owned(),
            format!(
                "Hush: `{} serve --kdf-min-iterations 1 --signups-per-address 1000000 --sockets-per-user 100000 --handshakes-per-address 1000000` and every rate limit at 10000000 a minute; peer: `node bench/peers/node/server.js --synchronous FULL` (Express 5, socket.io 4.8, better-sqlite3 12)",
                options.launch.hush_bin.display()
            ),
        ),
    ];
    all.sort_by_key(|(letter, _)| *letter);
    let sections: Vec<Section> = all.into_iter().map(|(_, s)| s).collect();
    let mut header = header;
    if let Some(services) = services(options) {
        header.push(("Services".to_owned(), services));
    }
    let mut text = report::markdown(&header, &columns, &sections);
    if !curves.is_empty() {
        report::plot(&dir.join("latency.svg"), &curves)?;
        text.push_str("\n![Delivery latency against offered rate](latency.svg)\n");
    }
    if !soaked.is_empty() {
        report::plot_footprint(&dir.join("soak.svg"), &soaked, scale.soak.duration)?;
        text.push_str("\n![The server's footprint during the soak](soak.svg)\n");
    }
    let path = dir.join("report.md");
    std::fs::write(&path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("{text}");
    eprintln!("report: {}", path.display());
    for f in &failures {
        eprintln!("FAILED: {f}");
    }
    Ok(failures.is_empty())
}

/// PostgreSQL's and Redis's versions and durability, when a set-up used
/// them.
fn services(options: &Options) -> Option<String> {
    let uses = |pick: fn(Setup) -> bool| {
        options
            .servers
            .iter()
            .any(|k| matches!(k, Kind::Hush(setup) if pick(*setup)))
    };
    if !uses(|s| s != Setup::Sqlite) {
        return None;
    }
    let pinned = if options.launch.core.is_some() {
        ", pinned with the nodes while they run"
    } else {
        ""
    };
    let postgres = target::psql(
        &options.launch.postgres_url,
        "SELECT split_part(version(), ' ', 2) || ', synchronous_commit = ' || \
         current_setting('synchronous_commit') || ', fsync = ' || current_setting('fsync') || \
         ', shared_buffers = ' || current_setting('shared_buffers')",
    )
    .unwrap_or_else(|e| format!("unknown ({e})"));
    let mut text = format!("PostgreSQL {postgres} (the machine's own{pinned})");
    if uses(|s| matches!(s, Setup::Cluster { .. })) {
        let redis = std::process::Command::new("redis-server")
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        text.push_str(&format!(
            "; Redis: {redis} (the machine's own{pinned}). Each node's database pool: 16 connections. In a cluster, user number n's sockets and sends go to node n mod 2 (a \"+1\" cluster's third node takes no clients); the set-up calls (sign-ups, rooms) go to node 1"
        ));
    }
    Some(text)
}

/// `2026-11-26T04-30-00Z`: a folder name that sorts by time.
fn stamp() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}-{:02}-{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `git rev-parse --short HEAD`, and whether the server's sources differ
/// from it (a build from this tree then holds more than the commit).
fn commit() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let Some(head) = git(&["rev-parse", "--short", "HEAD"]) else {
        return "unknown".to_owned();
    };
    let sources = [
        "status",
        "--porcelain",
        "--",
        "src",
        "migrations",
        "Cargo.toml",
        "Cargo.lock",
    ];
    match git(&sources) {
        Some(changes) if !changes.is_empty() => {
            format!("{head}, with uncommitted changes to the server's sources")
        }
        _ => head,
    }
}
