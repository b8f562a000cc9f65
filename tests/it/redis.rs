//! Redis for the cluster tests: the suite's server (`TEST_REDIS_URL`,
//! default `redis://127.0.0.1:6379`; a test fails, saying so, when it does
//! not answer), a channel prefix of each test's own (pub/sub ignores
//! database numbers, so the prefix is what keeps tests apart), and a
//! `redis-server` of a test's own on a free port, for the tests that stop
//! it.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The Redis the suite shares.
pub fn shared() -> String {
    let url = std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
    let host = url.trim_start_matches("redis://");
    if let Err(e) = command(host, &["PING"]) {
        panic!(
            "Redis at {host} does not answer ({e}): the cluster tests need it; start it or set TEST_REDIS_URL"
        );
    }
    url
}

/// A prefix no other test uses.
pub fn prefix() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "hush_t_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs one command on the Redis at `host` (`127.0.0.1:6379`) and returns
/// its answer, flattened: the simple strings, numbers and bulk strings of
/// the reply, in order.
pub fn command(host: &str, args: &[&str]) -> std::io::Result<Vec<String>> {
    let mut stream = TcpStream::connect_timeout(
        &host.parse().expect("a host:port address"),
        Duration::from_secs(1),
    )?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    stream.write_all(request.as_bytes())?;
    let mut reader = BufReader::new(stream);
    let mut out = Vec::new();
    read_reply(&mut reader, &mut out)?;
    Ok(out)
}

fn read_reply(reader: &mut impl BufRead, out: &mut Vec<String>) -> std::io::Result<()> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let line = line.trim_end();
    let (kind, rest) = line.split_at(1.min(line.len()));
    match kind {
        "+" | ":" => out.push(rest.to_owned()),
        "-" => return Err(std::io::Error::other(rest.to_owned())),
        "$" => {
            let len: i64 = rest.parse().map_err(std::io::Error::other)?;
            if len >= 0 {
                let mut bytes = vec![0; len as usize + 2];
                reader.read_exact(&mut bytes)?;
                bytes.truncate(len as usize);
                out.push(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        "*" => {
            let count: i64 = rest.parse().map_err(std::io::Error::other)?;
            for _ in 0..count.max(0) {
                read_reply(reader, out)?;
            }
        }
        _ => return Err(std::io::Error::other(format!("unexpected reply {line:?}"))),
    }
    Ok(())
}

/// How many nodes of `prefix` Redis counts on both channels every node
/// subscribes to (the adapter's requests and the logouts).
pub fn nodes_subscribed(host: &str, prefix: &str) -> usize {
    ["-request#/#", "-revoked"]
        .iter()
        .map(|channel| {
            command(
                host,
                &["PUBSUB", "SHARDNUMSUB", &format!("{prefix}{channel}")],
            )
            .ok()
            .and_then(|reply| reply.get(1)?.parse().ok())
            .unwrap_or(0)
        })
        .min()
        .unwrap_or(0)
}

/// Waits (up to 15 s) until `count` nodes of `prefix` are subscribed.
pub async fn await_nodes(host: &str, prefix: &str, count: usize) {
    for _ in 0..300 {
        if nodes_subscribed(host, prefix) == count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{count} nodes did not subscribe on Redis {host} within 15 s");
}

/// A `redis-server` of a test's own, on a free port, keeping nothing on
/// disk; stopped when dropped.
pub struct OwnRedis {
    pub host: String,
    child: Option<Child>,
}

impl OwnRedis {
    pub fn start() -> OwnRedis {
        let port = crate::util::free_addr().port();
        let mut own = OwnRedis {
            host: format!("127.0.0.1:{port}"),
            child: None,
        };
        own.resume();
        own
    }

    pub fn url(&self) -> String {
        format!("redis://{}", self.host)
    }

    /// Kills it (as a crash or an outage would).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub fn resume(&mut self) {
        let port = self.host.rsplit(':').next().unwrap();
        let child = Command::new("redis-server")
            .args(["--port", port, "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("redis-server cannot be started ({e}): the outage tests need it installed")
            });
        self.child = Some(child);
        for _ in 0..200 {
            if command(&self.host, &["PING"]).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("redis-server on {} did not come up", self.host);
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
