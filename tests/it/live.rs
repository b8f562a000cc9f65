//! The live fixture: a Socket.IO client over Engine.IO long-polling, built
//! on the app's own frame codec (`hush::protocol::frames`). A background
//! task keeps one poll open, answers pings, and hands every Socket.IO
//! packet to the test, so a test can wait for events, assert that none
//! came, and emit with acks.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hush::protocol::frames::{
    self, Arg, EnginePacket, SocketPacket, decode_engine, decode_socket, encode_event,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::util::Client;

pub const POLLING: &str = "/socket.io/?EIO=4&transport=polling";

/// Opens an Engine.IO session over polling; returns its `sid` and open data.
pub async fn open(server: &Client) -> (String, frames::Open) {
    let response = server.get(POLLING).await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    match decode_engine(&body) {
        Ok(EnginePacket::Open(open)) => (open.sid.clone(), open),
        other => panic!("expected an Engine.IO open packet, got {other:?}"),
    }
}

/// A connected Socket.IO client.
pub struct Live {
    url: String,
    http: reqwest::Client,
    packets: mpsc::UnboundedReceiver<SocketPacket>,
    poller: JoinHandle<()>,
    next_ack: u64,
    /// Whether `presence` events count; off, they are skipped (they come
    /// whenever a fellow member connects, and would be noise to the tests
    /// of everything else).
    hears_presence: bool,
    /// Events that arrived while waiting for an ack.
    backlog: VecDeque<SocketPacket>,
    /// While set, no new poll is made: the client stalls, as a slow one does.
    paused: Arc<AtomicBool>,
}

impl Drop for Live {
    fn drop(&mut self) {
        self.poller.abort();
    }
}

async fn post(http: &reqwest::Client, url: &str, packet: String) {
    let response = http.post(url).body(packet).send().await.unwrap();
    assert_eq!(response.status(), 200, "a POST to the polling transport");
}

/// Keeps a long-poll open; answers pings; forwards Socket.IO packets.
async fn poll_forever(
    http: reqwest::Client,
    url: String,
    packets: mpsc::UnboundedSender<SocketPacket>,
    paused: Arc<AtomicBool>,
) {
    loop {
        while paused.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let Ok(response) = http.get(&url).send().await else {
            return;
        };
        if response.status() != 200 {
            return;
        }
        let Ok(body) = response.text().await else {
            return;
        };
        for frame in body.split('\u{1e}') {
            match decode_engine(frame) {
                Ok(EnginePacket::Ping(data)) => {
                    post(&http, &url, frames::encode_pong(data)).await;
                }
                Ok(EnginePacket::Message(message)) => {
                    let packet = decode_socket(message).expect("a well-formed Socket.IO packet");
                    if packets.send(packet).is_err() {
                        return;
                    }
                }
                Ok(EnginePacket::Close) => return,
                _ => {}
            }
        }
    }
}

impl Live {
    /// Opens a session and connects with `auth: {token}`; `Err` with the
    /// connect_error message if the server refuses.
    pub async fn try_connect(server: &Client, token: Option<&str>) -> Result<Live, String> {
        let (sid, _) = open(server).await;
        let url = server.url(&format!("{POLLING}&sid={sid}"));
        let http = server.http.clone();
        let auth = token.map(|t| raw(&json!({"token": t})));
        post(&http, &url, frames::encode_connect(auth.as_deref())).await;
        let (tx, mut packets) = mpsc::unbounded_channel();
        let paused = Arc::new(AtomicBool::new(false));
        let poller = tokio::spawn(poll_forever(http.clone(), url.clone(), tx, paused.clone()));
        let answer = tokio::time::timeout(Duration::from_secs(10), packets.recv())
            .await
            .expect("an answer to CONNECT within 10 s");
        let live = Live {
            url,
            http,
            packets,
            poller,
            next_ack: 0,
            hears_presence: false,
            backlog: VecDeque::new(),
            paused,
        };
        match answer {
            Some(SocketPacket::Connect { .. }) => Ok(live),
            Some(SocketPacket::ConnectError { message, .. }) => Err(message),
            other => panic!("expected connect or connect_error, got {other:?}"),
        }
    }

    /// From now on `presence` events count (those already received too).
    pub fn hear_presence(&mut self) {
        self.hears_presence = true;
    }

    /// Stops reading from the server (after the poll in flight).
    pub fn stall(&self) {
        self.paused.store(true, Ordering::SeqCst);
    }

    /// Reads from the server again.
    pub fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
    }

    /// Closes the Engine.IO session (a CLOSE packet), as a client that
    /// goes away properly does.
    pub async fn close(self) {
        post(&self.http, &self.url, "1".to_owned()).await;
    }

    /// Whether the server closes this socket (a DISCONNECT, or the session
    /// gone) within `within`; events before that are skipped.
    pub async fn closed(&mut self, within: Duration) -> bool {
        let closing = async {
            loop {
                match self.packets.recv().await {
                    None | Some(SocketPacket::Disconnect) => return,
                    Some(_) => continue,
                }
            }
        };
        tokio::time::timeout(within, closing).await.is_ok()
    }

    /// Connects as the holder of `token`, which must be admitted.
    pub async fn connect(server: &Client, token: &str) -> Live {
        Self::try_connect(server, Some(token))
            .await
            .expect("the socket is admitted")
    }

    /// The next event within `within`, skipping nothing else but acks.
    pub async fn next_event(&mut self, within: Duration) -> Option<(String, Value)> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let packet = match self.backlog.pop_front() {
                Some(packet) => packet,
                None => tokio::time::timeout_at(deadline, self.packets.recv())
                    .await
                    .ok()??,
            };
            if let SocketPacket::Event { name, args, .. } = packet {
                if name == "presence" && !self.hears_presence {
                    continue;
                }
                return Some((name, first(&args)));
            }
        }
    }

    /// The next event named `name` within 5 s; other events are an error.
    pub async fn expect(&mut self, name: &str) -> Value {
        match self.next_event(Duration::from_secs(5)).await {
            Some((got, payload)) if got == name => payload,
            other => panic!("expected {name}, got {other:?}"),
        }
    }

    /// The next `presence` within 5 s, skipping any other event (such as
    /// `conversation-added`).
    pub async fn next_presence(&mut self) -> Value {
        loop {
            match self.next_event(Duration::from_secs(5)).await {
                Some((name, payload)) if name == "presence" => return payload,
                Some(_) => continue,
                None => panic!("expected presence, got nothing"),
            }
        }
    }

    /// Asserts that no event arrives within `within`.
    pub async fn expect_silence(&mut self, within: Duration) {
        if let Some((name, _)) = self.next_event(within).await {
            panic!("expected no event, got {name}");
        }
    }

    /// Emits `name` with `arg`, asking for no ack.
    pub async fn emit(&self, name: &str, arg: Value) {
        let frame = encode_event(None, name, &[raw(&arg)]);
        post(&self.http, &self.url, frame).await;
    }

    /// Emits `name` with `arg` and waits for the ack's first argument.
    pub async fn ask(&mut self, name: &str, arg: Value) -> Value {
        let id = self.next_ack;
        self.next_ack += 1;
        let frame = encode_event(Some(id), name, &[raw(&arg)]);
        post(&self.http, &self.url, frame).await;
        loop {
            let packet = tokio::time::timeout(Duration::from_secs(5), self.packets.recv())
                .await
                .expect("an ack within 5 s")
                .expect("the socket stays open");
            match packet {
                SocketPacket::Ack { id: got, args } if got == id => return first(&args),
                other => self.backlog.push_back(other),
            }
        }
    }
}

/// `value` as an event argument.
fn raw(value: &Value) -> Arg {
    serde_json::value::to_raw_value(value).expect("JSON")
}

/// An event's or ack's first argument, `null` if it has none.
fn first(args: &[Arg]) -> Value {
    args.first().map_or(Value::Null, |arg| {
        serde_json::from_str(arg.get()).expect("JSON")
    })
}
