//! The Socket.IO half of a client: a WebSocket from a chosen 127.0.0.x
//! source address, the Engine.IO/Socket.IO handshake with the token, pongs,
//! and every `new-message` handed to the [`Hub`] with its arrival time.
//! Frames are read with the app's own codec (`hush::protocol::frames`).

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hush::protocol::frames::{self, EnginePacket, SocketPacket};
use hush::protocol::{self, CONVERSATION_CHANGED, HandshakeAuth, NEW_MESSAGE};
use serde_json::Value;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

/// One `new-message` as it reached one member's client.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    /// Index of the message in the run's schedule.
    pub message: u32,
    /// Index of the receiving user in the population.
    pub user: u32,
    pub at: Instant,
}

/// What one load run listens for: its messages by id, and what arrived.
pub struct Sheet {
    /// Message id → (index, sender's user index).
    index: HashMap<String, (u32, u32)>,
    arrivals: Mutex<Vec<Arrival>>,
    /// One received copy of every `sample_every`-th message, opened after
    /// the run to check the bytes are the sender's.
    samples: Mutex<HashMap<u32, Value>>,
    sample_every: u32,
    /// Pushes of messages that are not in this run.
    pub strays: AtomicU64,
}

impl Sheet {
    /// A sheet for messages `(id, sender)`, in schedule order.
    pub fn new(messages: impl IntoIterator<Item = (String, u32)>, sample_every: u32) -> Sheet {
        let index: HashMap<String, (u32, u32)> = messages
            .into_iter()
            .enumerate()
            .map(|(i, (id, sender))| (id, (i as u32, sender)))
            .collect();
        Sheet {
            arrivals: Mutex::new(Vec::with_capacity(index.len() * 4)),
            index,
            samples: Mutex::new(HashMap::new()),
            sample_every: sample_every.max(1),
            strays: AtomicU64::new(0),
        }
    }

    /// Records a member's copy; the sender's own copy is not counted.
    fn record(&self, user: u32, message: &Value, at: Instant) {
        let Some(&(i, sender)) = message["id"].as_str().and_then(|id| self.index.get(id)) else {
            self.strays.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if user == sender {
            return;
        }
        self.arrivals.lock().expect("arrivals").push(Arrival {
            message: i,
            user,
            at,
        });
        if i % self.sample_every == 0 {
            self.samples
                .lock()
                .expect("samples")
                .entry(i)
                .or_insert_with(|| message.clone());
        }
    }

    pub fn take_arrivals(&self) -> Vec<Arrival> {
        std::mem::take(&mut *self.arrivals.lock().expect("arrivals"))
    }

    pub fn take_samples(&self) -> HashMap<u32, Value> {
        std::mem::take(&mut *self.samples.lock().expect("samples"))
    }

    /// Copies recorded so far (senders' own not counted).
    pub fn arrived(&self) -> usize {
        self.arrivals.lock().expect("arrivals").len()
    }
}

/// What a member's client does when told its conversation changed (the
/// user, and the head the push carries).
pub type OnChanged = Arc<dyn Fn(u32, Value) + Send + Sync>;

/// Where every socket hands what it hears.
#[derive(Default)]
pub struct Hub {
    sheet: Mutex<Option<Arc<Sheet>>>,
    on_changed: Mutex<Option<OnChanged>>,
    /// Sockets the server closed or that failed, since the start.
    pub drops: AtomicU64,
    /// Every `new-message` heard, in or out of a run.
    pub heard: AtomicU64,
    /// Every `typing` heard.
    pub typing: AtomicU64,
    /// Every typist those named (a coalesced relay names several).
    pub typists: AtomicU64,
}

impl Hub {
    /// Starts listening for a run's messages.
    pub fn listen(&self, sheet: Arc<Sheet>) {
        *self.sheet.lock().expect("sheet") = Some(sheet);
    }

    pub fn stop_listening(&self) {
        *self.sheet.lock().expect("sheet") = None;
    }

    /// Runs `follow` for every `conversation-changed` heard, until
    /// [`Hub::stop_following`].
    pub fn follow(&self, follow: OnChanged) {
        *self.on_changed.lock().expect("on_changed") = Some(follow);
    }

    pub fn stop_following(&self) {
        *self.on_changed.lock().expect("on_changed") = None;
    }

    fn changed(&self, user: u32, head: &Value) {
        let follow = self.on_changed.lock().expect("on_changed").clone();
        if let Some(follow) = follow {
            follow(user, head.clone());
        }
    }

    fn new_message(&self, user: u32, message: &Value, at: Instant) {
        self.heard.fetch_add(1, Ordering::Relaxed);
        let sheet = self.sheet.lock().expect("sheet").clone();
        if let Some(sheet) = sheet {
            sheet.record(user, message, at);
        }
    }
}

/// An open, authenticated socket; dropping it closes it.
pub struct Socket {
    _close: oneshot::Sender<()>,
    /// Frames to send on it.
    out: mpsc::UnboundedSender<String>,
}

impl Socket {
    /// Emits `typing` for a conversation, as the app does while its user
    /// writes.
    pub fn typing(&self, conversation: &str) {
        let data = serde_json::json!({ "conversation_id": conversation });
        let Ok(data) = serde_json::value::to_raw_value(&data) else {
            return;
        };
        let _ = self
            .out
            .send(frames::encode_event(None, protocol::TYPING, &[data]));
    }
}

/// A client's WebSocket, handshake done.
pub type Ws = WebSocketStream<TcpStream>;

/// The n-th of the loopback source addresses sockets are spread over
/// (127.0.0.1 … 127.0.0.100), so that ports do not run out.
pub fn source(n: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, 1 + (n % 100) as u8)
}

/// Small buffers: tens of thousands of these are open at once.
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
}

/// Opens a WebSocket to the server and completes the Socket.IO connect
/// with `token`. `Err` says why not (refused, unauthorized, timed out).
pub async fn handshake(server: SocketAddr, from: Ipv4Addr, token: &str) -> Result<Ws, String> {
    let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    socket
        .bind(SocketAddr::V4(SocketAddrV4::new(from, 0)))
        .map_err(|e| format!("bind {from}: {e}"))?;
    let stream = socket
        .connect(server)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).ok();
    let url = format!("ws://{server}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = client_async_with_config(url, stream, Some(config()))
        .await
        .map_err(|e| format!("websocket: {e}"))?;
    // Engine.IO open, then our Socket.IO connect with the token.
    match next_text(&mut ws)
        .await?
        .as_deref()
        .map(frames::decode_engine)
    {
        Some(Ok(EnginePacket::Open(_))) => {}
        other => return Err(format!("expected an Engine.IO open, got {other:?}")),
    }
    let auth = serde_json::value::to_raw_value(&HandshakeAuth {
        token: Some(token.to_owned()),
    })
    .map_err(|e| format!("auth: {e}"))?;
    ws.send(Frame::text(frames::encode_connect(Some(&auth))))
        .await
        .map_err(|e| format!("send connect: {e}"))?;
    loop {
        let Some(text) = next_text(&mut ws).await? else {
            return Err("closed during the handshake".into());
        };
        match frames::decode_engine(&text) {
            Ok(EnginePacket::Ping(data)) => {
                let pong = frames::encode_pong(data);
                ws.send(Frame::text(pong))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok(EnginePacket::Message(packet)) => match frames::decode_socket(packet) {
                Ok(SocketPacket::Connect { .. }) => return Ok(ws),
                Ok(SocketPacket::ConnectError { message, .. }) => {
                    return Err(format!("refused: {message}"));
                }
                // Events may come before our connect is acknowledged on
                // some servers; none are expected here.
                _ => {}
            },
            other => return Err(format!("unexpected during the handshake: {other:?}")),
        }
    }
}

/// The next text frame (`None`: closed), within 20 s.
async fn next_text(ws: &mut Ws) -> Result<Option<String>, String> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .map_err(|_| "timed out".to_owned())?;
        match frame {
            None | Some(Ok(Frame::Close(_))) => return Ok(None),
            Some(Ok(Frame::Text(text))) => return Ok(Some(text.as_str().to_owned())),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.to_string()),
        }
    }
}

/// Connects user `user` and hands its pushes to `hub` until dropped.
pub async fn connect(
    server: SocketAddr,
    from: Ipv4Addr,
    token: &str,
    user: u32,
    hub: Arc<Hub>,
) -> Result<Socket, String> {
    let ws = handshake(server, from, token).await?;
    let (close, closed) = oneshot::channel();
    let (out, said) = mpsc::unbounded_channel();
    tokio::spawn(listen(ws, user, hub, closed, said));
    Ok(Socket { _close: close, out })
}

/// Reads frames until the socket closes or its [`Socket`] is dropped.
async fn listen(
    mut ws: Ws,
    user: u32,
    hub: Arc<Hub>,
    mut closed: oneshot::Receiver<()>,
    mut said: mpsc::UnboundedReceiver<String>,
) {
    loop {
        let frame = tokio::select! {
            frame = ws.next() => frame,
            Some(say) = said.recv() => {
                if ws.send(Frame::text(say)).await.is_err() {
                    hub.drops.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                continue;
            }
            _ = &mut closed => {
                let _ = ws.close(None).await;
                return;
            }
        };
        let at = Instant::now();
        let text = match frame {
            Some(Ok(Frame::Text(text))) => text,
            Some(Ok(Frame::Close(_))) | None | Some(Err(_)) => {
                hub.drops.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Some(Ok(_)) => continue,
        };
        match frames::decode_engine(text.as_str()) {
            Ok(EnginePacket::Ping(data)) => {
                let pong = frames::encode_pong(data);
                if ws.send(Frame::text(pong)).await.is_err() {
                    hub.drops.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
            Ok(EnginePacket::Message(packet)) => {
                if let Ok(SocketPacket::Event { name, args, .. }) = frames::decode_socket(packet)
                    && let Some(payload) = args.first()
                    && let Ok(payload) = serde_json::from_str::<Value>(payload.get())
                {
                    match name.as_str() {
                        NEW_MESSAGE => hub.new_message(user, &payload, at),
                        CONVERSATION_CHANGED => hub.changed(user, &payload),
                        protocol::TYPING => {
                            hub.typing.fetch_add(1, Ordering::Relaxed);
                            let named = payload["user_ids"].as_array().map_or(1, Vec::len);
                            hub.typists.fetch_add(named as u64, Ordering::Relaxed);
                        }
                        _ => {}
                    }
                }
            }
            Ok(EnginePacket::Close) => {
                hub.drops.fetch_add(1, Ordering::Relaxed);
                return;
            }
            _ => {}
        }
    }
}
