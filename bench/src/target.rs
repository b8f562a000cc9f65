//! The servers under test: Hush's release binary and the Node.js peer,
//! started as child processes on their own data, pinned to their own core,
//! stopped and restarted on the same port and data.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::system::{self, Usage};

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Hush,
    Peer,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Hush => "Hush",
            Kind::Peer => "peer (Node.js)",
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
}

/// A running server.
pub struct Target {
    pub kind: Kind,
    pub addr: SocketAddr,
    data: PathBuf,
    launch: Launch,
    child: Option<Child>,
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

/// SQLite durability both servers run with.
pub const DURABILITY: &str = "WAL, synchronous = FULL";

impl Target {
    /// Starts `kind` on a fresh data directory under `data`.
    pub fn start(kind: Kind, launch: &Launch, data: &Path) -> Result<Target, String> {
        let _ = std::fs::remove_dir_all(data);
        std::fs::create_dir_all(data).map_err(|e| format!("{}: {e}", data.display()))?;
        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let mut target = Target {
            kind,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            data: data.to_owned(),
            launch: launch.clone(),
            child: None,
        };
        target.spawn()?;
        Ok(target)
    }

    fn command(&self) -> Command {
        let port = self.addr.port().to_string();
        match self.kind {
            Kind::Hush => {
                let mut c = Command::new(&self.launch.hush_bin);
                c.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
                    .arg("--data-dir")
                    .arg(&self.data)
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
                c
            }
            Kind::Peer => {
                let mut c = Command::new("node");
                c.arg(self.launch.peer_dir.join("server.js"))
                    .args(["--port", &port, "--synchronous", "FULL"])
                    .arg("--db")
                    .arg(self.data.join("peer.db"))
                    .args(["--secret", PEER_SECRET]);
                c
            }
        }
    }

    /// Starts the process and waits for its "listening" line.
    fn spawn(&mut self) -> Result<(), String> {
        let mut command = self.command();
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
        self.child = Some(child);
        Ok(())
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    pub fn usage(&self) -> Usage {
        Usage::of(self.pid()).unwrap_or_default()
    }

    /// SIGTERM, and wait for a graceful exit (at most 20 s, then SIGKILL).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Stops the server and starts it again on the same port and data.
    /// Returns when it listens again.
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        self.spawn()
    }

    /// Where the server keeps its data (the database among it).
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.stop();
    }
}
