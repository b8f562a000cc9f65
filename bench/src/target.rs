//! The servers under test: Hush's release binary in one of its set-ups
//! (one node on SQLite, one on PostgreSQL, or several nodes sharing
//! PostgreSQL and Redis) and the Node.js peer, started as child processes
//! on their own data, pinned to their own core, stopped and restarted on
//! the same ports and data; and what the services they use (PostgreSQL,
//! Redis) did meanwhile.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::system::{self, Usage};

/// What Hush runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// One node on its SQLite file, pushes in process: the default.
    Sqlite,
    /// One node on PostgreSQL, pushes in process.
    Postgres,
    /// Nodes sharing PostgreSQL and pushing to each other through Redis:
    /// the first `serving` take the clients (each user on one of them),
    /// `listening` more take none but hear every push the others publish,
    /// as each node of a bigger cluster does for rooms it has no member of.
    Cluster { serving: usize, listening: usize },
}

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Hush(Setup),
    Peer,
}

impl Kind {
    /// `hush`, `hush-pg`, `hush-cluster` (two nodes), `hush-cluster+1`
    /// (two nodes and one listening), `peer`.
    pub fn parse(name: &str) -> Result<Kind, String> {
        Ok(match name {
            "hush" => Kind::Hush(Setup::Sqlite),
            "hush-pg" => Kind::Hush(Setup::Postgres),
            "hush-cluster" => Kind::Hush(Setup::Cluster {
                serving: 2,
                listening: 0,
            }),
            "hush-cluster+1" => Kind::Hush(Setup::Cluster {
                serving: 2,
                listening: 1,
            }),
            "peer" => Kind::Peer,
            other => {
                return Err(format!(
                    "unknown server {other:?} (hush, hush-pg, hush-cluster, hush-cluster+1, peer)"
                ));
            }
        })
    }

    pub fn name(self) -> String {
        match self {
            Kind::Hush(Setup::Sqlite) => "Hush".to_owned(),
            Kind::Hush(Setup::Postgres) => "Hush on PostgreSQL".to_owned(),
            Kind::Hush(Setup::Cluster {
                serving,
                listening: 0,
            }) => format!("Hush, {serving} nodes"),
            Kind::Hush(Setup::Cluster { serving, listening }) => {
                format!("Hush, {serving} nodes + {listening} listening")
            }
            Kind::Peer => "peer (Node.js)".to_owned(),
        }
    }

    /// A name for its data directory.
    pub fn slug(self) -> String {
        match self {
            Kind::Hush(Setup::Sqlite) => "hush".to_owned(),
            Kind::Hush(Setup::Postgres) => "hush-pg".to_owned(),
            Kind::Hush(Setup::Cluster { serving, listening }) => {
                format!("hush-cluster-{serving}-{listening}")
            }
            Kind::Peer => "peer".to_owned(),
        }
    }

    pub fn is_hush(self) -> bool {
        matches!(self, Kind::Hush(_))
    }

    /// The services it uses besides its own processes.
    fn services(self) -> &'static [Service] {
        match self {
            Kind::Hush(Setup::Postgres) => &[Service::Postgres],
            Kind::Hush(Setup::Cluster { .. }) => &[Service::Postgres, Service::Redis],
            _ => &[],
        }
    }
}

/// A service a set-up shares with the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    Postgres,
    Redis,
}

impl Service {
    /// Its processes' command name.
    fn process(self) -> &'static str {
        match self {
            Service::Postgres => "postgres",
            Service::Redis => "redis-server",
        }
    }
}

/// Where to find the servers, and how to run them.
#[derive(Debug, Clone)]
pub struct Launch {
    pub hush_bin: PathBuf,
    pub site_dir: PathBuf,
    pub peer_dir: PathBuf,
    /// The core servers are pinned to (`None`: not pinned).
    pub core: Option<usize>,
    /// The database Hush's PostgreSQL set-ups use, dropped and created
    /// again at every start.
    pub postgres_url: String,
    /// The Redis its clusters use (each run under a prefix of its own).
    pub redis_url: String,
}

/// One process whose CPU time a run measures (or, for PostgreSQL, every
/// process of it).
#[derive(Debug, Clone)]
pub struct Process {
    pub name: String,
    probe: Probe,
}

#[derive(Debug, Clone)]
enum Probe {
    Pid(u32),
    /// Every process of that name (PostgreSQL runs one per connection).
    Named(&'static str),
}

impl Probe {
    fn pids(&self) -> Vec<u32> {
        match self {
            Probe::Pid(pid) => vec![*pid],
            Probe::Named(name) => system::processes_named(name),
        }
    }

    fn usage(&self) -> Usage {
        self.pids()
            .into_iter()
            .filter_map(Usage::of)
            .fold(Usage::default(), |sum, u| sum + u)
    }
}

/// CPU time of a [`Process`]'s processes at one moment, each on its own.
#[derive(Debug, Clone, Default)]
pub struct Reading(Vec<(u32, Duration)>);

impl Reading {
    /// CPU time spent since `before`: each process's own difference, so
    /// that one which ended in between takes nothing away (what it spent
    /// in between is not counted) and one which began counts whole.
    pub fn since(&self, before: &Reading) -> Duration {
        self.0
            .iter()
            .map(|(pid, cpu)| {
                let then = before.0.iter().find(|(p, _)| p == pid);
                cpu.saturating_sub(then.map_or(Duration::ZERO, |(_, c)| *c))
            })
            .sum()
    }
}

impl Process {
    pub fn read(&self) -> Reading {
        Reading(
            self.probe
                .pids()
                .into_iter()
                .filter_map(|pid| Some((pid, Usage::of(pid)?.cpu)))
                .collect(),
        )
    }
}

/// A service a running set-up uses, and the cores its processes ran on
/// before they were pinned with the nodes (restored when it stops).
struct Used {
    service: Service,
    probe: Probe,
    cores: Option<Vec<usize>>,
}

/// What PostgreSQL and Redis have done, as their statistics count it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counters {
    pub redis_commands: f64,
    pub redis_publishes: f64,
    /// Bytes Redis read from its clients, and wrote to them.
    pub redis_in: f64,
    pub redis_out: f64,
    /// Transactions (statements outside one count as one each).
    pub pg_transactions: f64,
    pub pg_inserted: f64,
    pub pg_updated: f64,
    /// Rows read through an index (`tup_fetched`).
    pub pg_fetched: f64,
}

impl std::ops::Sub for Counters {
    type Output = Counters;
    fn sub(self, o: Counters) -> Counters {
        Counters {
            redis_commands: self.redis_commands - o.redis_commands,
            redis_publishes: self.redis_publishes - o.redis_publishes,
            redis_in: self.redis_in - o.redis_in,
            redis_out: self.redis_out - o.redis_out,
            pg_transactions: self.pg_transactions - o.pg_transactions,
            pg_inserted: self.pg_inserted - o.pg_inserted,
            pg_updated: self.pg_updated - o.pg_updated,
            pg_fetched: self.pg_fetched - o.pg_fetched,
        }
    }
}

/// One server process.
struct Node {
    addr: SocketAddr,
    data: PathBuf,
    child: Option<Child>,
}

/// A running server: one process, or a cluster's nodes.
pub struct Target {
    pub kind: Kind,
    nodes: Vec<Node>,
    /// How many of `nodes` (the first) take clients.
    serving: usize,
    launch: Launch,
    redis_prefix: String,
    services: Vec<Used>,
}

/// A free port on 127.0.0.1.
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The fixed token secret the peer uses, so that tokens survive restarts
/// (Hush keeps its generated secret in its data directory).
const PEER_SECRET: &str = "benchmark-only-secret-not-for-anything-else";

/// The token secret Hush's nodes share when they share PostgreSQL (one
/// node on SQLite keeps its own, generated, in its data directory).
const HUSH_SHARED_SECRET: &str = "bench0nly-SHARED-secret-QWERTY-uiop-1234567890-asdfghjkl-ZXCV";

/// SQLite durability both servers run with.
pub const DURABILITY: &str = "WAL, synchronous = FULL";

/// Runs `psql` on `url` with `sql`; its unaligned output.
pub fn psql(url: &str, sql: &str) -> Result<String, String> {
    let out = Command::new("psql")
        .arg(url)
        .args(["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .map_err(|e| format!("psql: {e} (scripts/setup --with-browser installs it)"))?;
    if !out.status.success() {
        return Err(format!(
            "psql on {}: {}",
            without_password(url),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Runs `redis-cli` on `url` with `args`; its output.
fn redis_cli(url: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new("redis-cli")
        .args(["-u", url])
        .args(args)
        .output()
        .map_err(|e| format!("redis-cli: {e} (scripts/setup installs it)"))?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || text.starts_with("ERR") || text.contains("Could not connect") {
        return Err(format!(
            "redis-cli on {}: {text} {}",
            without_password(url),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(text)
}

/// `url` with any password left out, for messages.
fn without_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…{}", &url[..scheme], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// The database a `postgres://` URL names, and the URL of the same server's
/// `postgres` database (to drop and create it from).
fn database_of(url: &str) -> Result<(String, String), String> {
    let path = url.split('?').next().unwrap_or(url);
    match path.rsplit_once('/') {
        Some((server, name))
            if server.contains("://")
                && !server.ends_with('/')
                && !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            Ok((name.to_owned(), format!("{server}/postgres")))
        }
        _ => Err(format!(
            "--postgres-url: expected postgres://user@host:port/name (name: letters, digits, _), got {}",
            without_password(url)
        )),
    }
}

/// `name: value` lines (INFO's), the value of `key`.
fn info_field(info: &str, key: &str) -> Option<f64> {
    info.lines()
        .find_map(|l| l.trim_end().strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.parse().ok())
}

impl Target {
    /// Starts `kind` on fresh data: a new directory per node under
    /// `data`, and for PostgreSQL a new database.
    pub fn start(kind: Kind, launch: &Launch, data: &Path) -> Result<Target, String> {
        let _ = std::fs::remove_dir_all(data);
        let (count, serving) = match kind {
            Kind::Hush(Setup::Cluster { serving, listening }) => (serving + listening, serving),
            _ => (1, 1),
        };
        let mut nodes = Vec::with_capacity(count);
        for n in 0..count {
            let dir = if count == 1 {
                data.to_owned()
            } else {
                data.join(format!("node{}", n + 1))
            };
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let port = free_port().map_err(|e| format!("no free port: {e}"))?;
            nodes.push(Node {
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
                data: dir,
                child: None,
            });
        }
        let mut target = Target {
            kind,
            nodes,
            serving,
            launch: launch.clone(),
            redis_prefix: format!("hush-bench-{}-{}", std::process::id(), kind.slug()),
            services: Vec::new(),
        };
        for service in kind.services() {
            let used = target.prepare(*service)?;
            target.services.push(used);
        }
        target.spawn()?;
        Ok(target)
    }

    /// A fresh database, or the Redis `redis_url` names (its process, by
    /// the pid it gives); either pinned with the nodes, every thread, so
    /// that the server side of every set-up gets the same core.
    fn prepare(&self, service: Service) -> Result<Used, String> {
        let probe = match service {
            Service::Postgres => {
                let (name, maintenance) = database_of(&self.launch.postgres_url)?;
                psql(
                    &maintenance,
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                )?;
                psql(&maintenance, &format!("CREATE DATABASE {name}"))?;
                Probe::Named(service.process())
            }
            Service::Redis => {
                let info = redis_cli(&self.launch.redis_url, &["INFO", "server"])?;
                let pid =
                    info_field(&info, "process_id").ok_or("Redis's INFO names no process_id")?;
                Probe::Pid(pid as u32)
            }
        };
        let mut used = Used {
            service,
            probe,
            cores: None,
        };
        if let Some(core) = self.launch.core {
            // PostgreSQL's connections are forked from its first process
            // and inherit its cores.
            let pids = used.probe.pids();
            used.cores = pids.first().and_then(|&pid| system::affinity(pid as i32));
            for pid in pids {
                if let Err(e) = system::set_process_affinity(pid, &[core]) {
                    eprintln!(
                        "hush-bench: {} not pinned ({e}): its CPU is not kept to core {core}",
                        service.process()
                    );
                    break;
                }
            }
        }
        Ok(used)
    }

    fn command(&self, node: &Node) -> Command {
        let port = node.addr.port().to_string();
        match self.kind {
            Kind::Hush(setup) => {
                let mut c = Command::new(&self.launch.hush_bin);
                c.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
                    .arg("--data-dir")
                    .arg(&node.data)
                    .arg("--site-dir")
                    .arg(&self.launch.site_dir)
                    .args(["--kdf-min-iterations", "1"])
                    .args(["--signups-per-address", "1000000"])
                    .args(["--sockets-per-user", "100000"])
                    .args(["--handshakes-per-address", "1000000"])
                    .args(["--sends-per-minute", "10000000"])
                    .args(["--creates-per-minute", "10000000"])
                    .args(["--lookups-per-minute", "10000000"])
                    .args(["--socket-events-per-minute", "10000000"])
                    .env("RUST_LOG", "warn");
                if setup != Setup::Sqlite {
                    c.env("HUSH_DATABASE_URL", &self.launch.postgres_url)
                        .env("HUSH_TOKEN_SECRET", HUSH_SHARED_SECRET);
                }
                if let Setup::Cluster { .. } = setup {
                    c.env("HUSH_REDIS_URL", &self.launch.redis_url)
                        .env("HUSH_REDIS_PREFIX", &self.redis_prefix);
                }
                c
            }
            Kind::Peer => {
                let mut c = Command::new("node");
                c.arg(self.launch.peer_dir.join("server.js"))
                    .args(["--port", &port, "--synchronous", "FULL"])
                    .arg("--db")
                    .arg(node.data.join("peer.db"))
                    .args(["--secret", PEER_SECRET]);
                c
            }
        }
    }

    /// Starts every node, one after the other, each once the one before
    /// listens (the first runs the migrations).
    fn spawn(&mut self) -> Result<(), String> {
        for n in 0..self.nodes.len() {
            let child = self.spawn_node(&self.nodes[n])?;
            self.nodes[n].child = Some(child);
        }
        Ok(())
    }

    /// Starts one node's process and waits for its "listening" line.
    fn spawn_node(&self, node: &Node) -> Result<Child, String> {
        let mut command = self.command(node);
        if let Some(core) = self.launch.core {
            // Pinned before exec, so the server sizes its thread pools for
            // the one core it gets.
            // SAFETY: the closure only calls sched_setaffinity, which is
            // async-signal-safe, between fork and exec.
            unsafe {
                command.pre_exec(move || system::pin(0, core).map_err(std::io::Error::other));
            }
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.kind.name()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = match lines.next() {
            Some(Ok(line)) => line.contains("http://"),
            _ => false,
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        if !ready {
            let status = child.wait().ok();
            return Err(format!("{} did not start ({status:?})", self.kind.name()));
        }
        Ok(child)
    }

    /// The first node's process (the soak watches it).
    pub fn pid(&self) -> u32 {
        self.nodes[0].child.as_ref().map_or(0, Child::id)
    }

    /// Every process a run's CPU is counted over: the nodes, then the
    /// services the set-up uses.
    pub fn processes(&self) -> Vec<Process> {
        let one = self.nodes.len() == 1;
        let mut all: Vec<Process> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(n, node)| Process {
                name: match () {
                    () if one => "server".to_owned(),
                    () if n < self.serving => format!("node {}", n + 1),
                    () => format!("node {} (no clients)", n + 1),
                },
                probe: Probe::Pid(node.child.as_ref().map_or(0, Child::id)),
            })
            .collect();
        for used in &self.services {
            all.push(Process {
                name: used.service.process().to_owned(),
                probe: used.probe.clone(),
            });
        }
        all
    }

    /// CPU time of every process in [`Target::processes`]; resident memory
    /// of the nodes alone (PostgreSQL's shared memory would count once per
    /// connection).
    pub fn usage(&self) -> Usage {
        let nodes = self
            .nodes
            .iter()
            .filter_map(|n| Usage::of(n.child.as_ref()?.id()))
            .fold(Usage::default(), |sum, u| sum + u);
        // The services' since they started (days, maybe): only
        // differences mean anything.
        let services: Duration = self.services.iter().map(|u| u.probe.usage().cpu).sum();
        Usage {
            cpu: nodes.cpu + services,
            rss: nodes.rss,
        }
    }

    /// What PostgreSQL and Redis have counted so far (zero for what the
    /// set-up does not use). PostgreSQL's lag: an idle connection may hold
    /// back its counts for 10 s (`scenarios::counted_run` waits 11).
    pub fn counters(&self) -> Result<Counters, String> {
        let mut c = Counters::default();
        let services = self.kind.services();
        if services.contains(&Service::Redis) {
            let info = redis_cli(&self.launch.redis_url, &["INFO", "stats", "commandstats"])?;
            let field = |key| info_field(&info, key).unwrap_or(0.0);
            c.redis_commands = field("total_commands_processed");
            c.redis_in = field("total_net_input_bytes");
            c.redis_out = field("total_net_output_bytes");
            c.redis_publishes = info
                .lines()
                .filter(|l| l.starts_with("cmdstat_spublish:") || l.starts_with("cmdstat_publish:"))
                .filter_map(|l| l.split(['=', ',']).nth(1)?.parse::<f64>().ok())
                .sum();
        }
        if services.contains(&Service::Postgres) {
            let row = psql(
                &self.launch.postgres_url,
                "SELECT xact_commit + xact_rollback, tup_inserted, tup_updated, tup_fetched \
                 FROM pg_stat_database WHERE datname = current_database()",
            )?;
            let v: Vec<f64> = row.split('|').filter_map(|f| f.parse().ok()).collect();
            if let [transactions, inserted, updated, fetched] = v[..] {
                c.pg_transactions = transactions;
                c.pg_inserted = inserted;
                c.pg_updated = updated;
                c.pg_fetched = fetched;
            } else {
                return Err(format!("pg_stat_database: unexpected row {row:?}"));
            }
        }
        Ok(c)
    }

    /// Whether [`Target::counters`] counts anything.
    pub fn has_services(&self) -> bool {
        !self.kind.services().is_empty()
    }

    /// SIGTERM to every node at once, then wait for each to exit
    /// gracefully (at most 20 s, then SIGKILL).
    pub fn stop(&mut self) {
        let children: Vec<Child> = self
            .nodes
            .iter_mut()
            .filter_map(|n| n.child.take())
            .collect();
        for child in &children {
            // SAFETY: kill(2) on our own child's pid.
            unsafe {
                libc::kill(child.id() as i32, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        for mut child in children {
            let mut exited = false;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    exited = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if !exited {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    /// Stops the server and starts it again on the same ports and data.
    /// Returns when it listens again.
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        self.spawn()
    }

    /// Where the (first) node keeps its data.
    pub fn data_dir(&self) -> &Path {
        &self.nodes[0].data
    }

    /// The first node's address.
    pub fn addr(&self) -> SocketAddr {
        self.nodes[0].addr
    }

    /// How many nodes take clients.
    pub fn serving(&self) -> usize {
        self.serving
    }

    /// The node (an index below [`Target::serving`]) user number `user`
    /// talks to, for its sends and its sockets alike.
    pub fn node_of(&self, user: usize) -> usize {
        user % self.serving
    }

    /// The address of node `node`.
    pub fn addr_of(&self, node: usize) -> SocketAddr {
        self.nodes[node].addr
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr())
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.stop();
        // The services back on the cores they had (their processes begun
        // since, PostgreSQL's connections, inherited the pinning).
        for used in &self.services {
            if let Some(cores) = &used.cores {
                for pid in used.probe.pids() {
                    let _ = system::set_process_affinity(pid, cores);
                }
            }
        }
    }
}
