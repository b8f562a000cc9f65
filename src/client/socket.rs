//! The browser's live link to the server: one Socket.IO v5 connection
//! (Engine.IO v4 over a WebSocket, namespace `/`) to the page's own origin,
//! kept up for as long as the session lasts. It does the handshake, answers
//! the server's pings, declares a silent connection dead, reconnects forever
//! with capped, jittered backoff, hands every server event to the app, and
//! lets the app emit events that the server acknowledges.
//!
//! It must never log event data or the token (only state changes and frame
//! errors, which name no payload); never reconnect once the server has said
//! `unauthorized` or [`Realtime::stop`] was called; never call back after
//! `stop`. It keeps no messages: the app fetches what it missed after every
//! [`Link::Connected`].

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures::channel::{mpsc, oneshot};
use futures::future::Fuse;
use futures::stream::Fuse as FuseStream;
use futures::{FutureExt, SinkExt, StreamExt, select_biased};
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::{Message, WebSocketError};
use js_sys::Promise;
use leptos::logging::{log, warn};
use serde_json::value::RawValue;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::JsFuture;

use crate::delivery::backoff::Backoff;
use crate::protocol::HandshakeAuth;
use crate::protocol::frames::{self, Arg, EnginePacket, Open, SocketPacket};

/// Where Socket.IO listens, relative to the page's host.
const PATH: &str = "/socket.io/?EIO=4&transport=websocket";
/// How long the handshake (Engine.IO open, then Socket.IO connect) may take.
const HANDSHAKE_TIMEOUT_MS: u32 = 20_000;
/// How long [`Realtime::emit_with_ack`] waits for the server's answer.
const ACK_TIMEOUT_MS: u32 = 10_000;
/// The `connect_error` message that ends the session for good.
const UNAUTHORIZED: &str = "unauthorized";

/// The state of the link, as the app shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// The first connection is being made.
    Connecting,
    /// Connected and admitted; sent after every successful (re)connect, so
    /// the app can fetch what it missed.
    Connected,
    /// The link is down; attempt number `attempt` starts in `retry_in_ms`.
    Reconnecting { attempt: u32, retry_in_ms: u32 },
    /// The server refused the session (expired, revoked or missing): no
    /// more attempts; the user has to log in again.
    Unauthorized,
}

/// Why an emit got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SocketError {
    #[error("not connected to the server")]
    NotConnected,
    #[error("the connection dropped before the server answered")]
    Dropped,
    #[error("the server did not answer in time")]
    Timeout,
}

/// A handle on the link; clones share it. Dropping every handle does not end
/// the link: [`Realtime::stop`] does.
#[derive(Clone)]
pub struct Realtime {
    shared: Rc<Shared>,
}

impl Realtime {
    /// Starts the link in the background. `on_event(name, args)` runs for
    /// every event the server sends; `on_link` on every change of [`Link`],
    /// starting with [`Link::Connecting`]. `token`, if given, is sent as the
    /// handshake's `auth: {token}`; the session cookie goes with the
    /// WebSocket upgrade either way.
    pub fn start(
        token: Option<String>,
        on_event: impl Fn(&str, Vec<Arg>) + 'static,
        on_link: impl Fn(Link) + 'static,
    ) -> Realtime {
        let (wake, wakes) = mpsc::unbounded();
        let shared = Rc::new(Shared {
            stopped: Cell::new(false),
            next_ack: Cell::new(0),
            outgoing: RefCell::new(None),
            pending: RefCell::new(HashMap::new()),
            wake,
        });
        let driver = Driver {
            shared: Rc::clone(&shared),
            auth: token.and_then(auth),
            on_event: Box::new(on_event),
            on_link: Box::new(on_link),
            wakes,
        };
        wasm_bindgen_futures::spawn_local(driver.run());
        Realtime { shared }
    }

    /// Emits `event` with `data` (JSON text), asking for no ack: what the
    /// server may drop (a `typing`). Fails at once when not connected.
    pub fn emit(&self, event: &str, data: &RawValue) -> Result<(), SocketError> {
        let outgoing = self.shared.outgoing.borrow();
        let outgoing = outgoing.as_ref().ok_or(SocketError::NotConnected)?;
        outgoing
            .unbounded_send(frames::encode_event(None, event, &[data]))
            .map_err(|_| SocketError::NotConnected)
    }

    /// Emits `event` with `data` and waits for the server's ack; resolves
    /// with the ack's arguments. Fails at once when not connected, and later
    /// if the connection drops first or no answer comes within 10 s.
    pub async fn emit_with_ack(
        &self,
        event: &str,
        data: &RawValue,
    ) -> Result<Vec<Arg>, SocketError> {
        let (id, mut answer) = self.shared.queue(event, data)?;
        let mut timeout = sleep(ACK_TIMEOUT_MS).fuse();
        select_biased! {
            args = answer => args.map_err(|_| SocketError::Dropped),
            () = timeout => {
                self.shared.pending.borrow_mut().remove(&id);
                Err(SocketError::Timeout)
            }
        }
    }

    /// Ends the link for good (logout, page left): closes the socket, fails
    /// the emits still waiting, and makes no more attempts and no more
    /// callbacks. Calling it again does nothing.
    pub fn stop(&self) {
        if self.shared.stopped.replace(true) {
            return;
        }
        self.shared.disconnected();
        let _ = self.shared.wake.unbounded_send(Wake::Stop);
    }
}

/// What the handles and the background loop share.
struct Shared {
    stopped: Cell<bool>,
    /// The next ack id; never reused, not even across connections.
    next_ack: Cell<u64>,
    /// Frames for the live connection: `Some` only while connected.
    outgoing: RefCell<Option<mpsc::UnboundedSender<String>>>,
    /// The acks awaited on the live connection, by id.
    pending: RefCell<HashMap<u64, oneshot::Sender<Vec<Arg>>>>,
    /// Wakes the loop: to stop, or to retry now that the browser is online.
    wake: mpsc::UnboundedSender<Wake>,
}

impl Shared {
    /// Queues an event with a fresh ack id on the live connection.
    fn queue(
        &self,
        event: &str,
        data: &RawValue,
    ) -> Result<(u64, oneshot::Receiver<Vec<Arg>>), SocketError> {
        let outgoing = self.outgoing.borrow();
        let outgoing = outgoing.as_ref().ok_or(SocketError::NotConnected)?;
        let id = self.next_ack.get();
        self.next_ack.set(id.wrapping_add(1));
        outgoing
            .unbounded_send(frames::encode_event(Some(id), event, &[data]))
            .map_err(|_| SocketError::NotConnected)?;
        let (answer, answered) = oneshot::channel();
        self.pending.borrow_mut().insert(id, answer);
        Ok((id, answered))
    }

    /// Hands an ack's arguments to the emit waiting for them, if any.
    fn resolve(&self, id: u64, args: Vec<Arg>) {
        let waiting = self.pending.borrow_mut().remove(&id);
        if let Some(waiting) = waiting {
            let _ = waiting.send(args);
        }
    }

    /// The live connection is gone: nothing more can be sent on it, and the
    /// emits waiting on it fail with [`SocketError::Dropped`].
    fn disconnected(&self) {
        self.outgoing.borrow_mut().take();
        let waiting = std::mem::take(&mut *self.pending.borrow_mut());
        drop(waiting);
    }
}

/// Why the loop was woken from outside.
enum Wake {
    Stop,
    /// The browser says the network is back: retry now.
    Online,
    /// The browser says the network is gone: drop the connection now rather
    /// than wait for the heartbeat to notice (a socket can linger).
    Offline,
}

/// How one connection ended.
enum End {
    /// [`Realtime::stop`] was called.
    Stopped,
    /// The server refused the session.
    Unauthorized,
    /// Anything else: a retry may succeed.
    Lost,
}

/// Where one connection's handshake stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for Engine.IO's open packet.
    Opening,
    /// Socket.IO connect sent, waiting for the answer.
    Joining,
    /// Admitted.
    Connected,
}

/// What woke one connection's loop.
enum Step {
    Wake(Option<Wake>),
    Frame(Option<Result<Message, WebSocketError>>),
    Send(Option<String>),
    Tick,
}

/// The app's handler of server events: `(name, args)`.
type OnEvent = Box<dyn Fn(&str, Vec<Arg>)>;

/// The background loop: connects, runs the connection, backs off, again.
struct Driver {
    shared: Rc<Shared>,
    /// The handshake's `auth` object, as JSON text.
    auth: Option<Arg>,
    on_event: OnEvent,
    on_link: Box<dyn Fn(Link)>,
    wakes: mpsc::UnboundedReceiver<Wake>,
}

impl Driver {
    /// Runs until stopped or refused.
    async fn run(mut self) {
        if web_sys::window().is_none() {
            warn!("socket: no window, no live updates");
            return;
        }
        let _online = OnlineListener::install(self.shared.wake.clone());
        self.link(Link::Connecting);
        let mut attempt = 0_u32;
        loop {
            let (end, was_connected) = self.connection().await;
            self.shared.disconnected();
            match end {
                End::Stopped => return,
                End::Unauthorized => {
                    log!("socket: the server refused the session");
                    self.link(Link::Unauthorized);
                    return;
                }
                End::Lost if self.shared.stopped.get() => return,
                End::Lost => {}
            }
            attempt = if was_connected {
                1
            } else {
                attempt.saturating_add(1)
            };
            let retry_in_ms = Backoff::RECONNECT.delay_ms(attempt, js_sys::Math::random());
            log!("socket: link down, attempt {attempt} in {retry_in_ms} ms");
            self.link(Link::Reconnecting {
                attempt,
                retry_in_ms,
            });
            if !self.pause(retry_in_ms).await {
                return;
            }
        }
    }

    /// Waits `ms`, or less if the browser comes back online; false if the
    /// link was stopped meanwhile.
    async fn pause(&mut self, ms: u32) -> bool {
        let mut timer = sleep(ms).fuse();
        let go_on = loop {
            select_biased! {
                wake = self.wakes.next() => match wake {
                    Some(Wake::Online) => break true,
                    Some(Wake::Offline) => continue,
                    Some(Wake::Stop) | None => break false,
                },
                () = timer => break true,
            }
        };
        go_on && !self.shared.stopped.get()
    }

    /// Opens one connection and runs it to its end; also says whether it was
    /// ever admitted (which resets the backoff).
    async fn connection(&mut self) -> (End, bool) {
        let Some(ws) = socket_url().and_then(|url| WebSocket::open(&url).ok()) else {
            return (End::Lost, false);
        };
        let (outgoing, mut queued) = mpsc::unbounded();
        let mut conn = Connection {
            ws: ws.fuse(),
            phase: Phase::Opening,
            watchdog: Watchdog::start(),
            outgoing: Some(outgoing),
        };
        let end = loop {
            let step = select_biased! {
                wake = self.wakes.next() => Step::Wake(wake),
                // Emits before incoming frames, so a burst cannot hold them.
                frame = queued.next() => Step::Send(frame),
                frame = conn.ws.next() => Step::Frame(frame),
                () = &mut conn.watchdog.timer => Step::Tick,
            };
            if let Err(end) = self.step(&mut conn, step) {
                break end;
            }
            if self.shared.stopped.get() {
                break End::Stopped;
            }
        };
        (end, conn.phase == Phase::Connected)
    }

    /// Acts on one wake-up of a connection's loop.
    fn step(&self, conn: &mut Connection, step: Step) -> Result<(), End> {
        match step {
            Step::Wake(Some(Wake::Online)) => Ok(()),
            Step::Wake(Some(Wake::Offline)) => {
                log!("socket: the browser went offline");
                Err(End::Lost)
            }
            Step::Wake(_) => Err(End::Stopped),
            Step::Send(Some(frame)) => conn.send(frame),
            Step::Send(None) => Err(End::Lost),
            Step::Tick if conn.watchdog.expired() => {
                log!("socket: the server went silent");
                Err(End::Lost)
            }
            Step::Tick => Ok(()),
            Step::Frame(Some(Ok(message))) => {
                conn.watchdog.heard();
                match message {
                    Message::Text(text) => self.frame(conn, &text),
                    // Hush never sends binary packets.
                    Message::Bytes(_) => Ok(()),
                }
            }
            Step::Frame(_) => Err(End::Lost),
        }
    }

    /// Acts on one Engine.IO packet.
    fn frame(&self, conn: &mut Connection, text: &str) -> Result<(), End> {
        let packet = match frames::decode_engine(text) {
            Ok(packet) => packet,
            Err(e) => {
                warn!("socket: ignored a frame: {e}");
                return Ok(());
            }
        };
        match (conn.phase, packet) {
            (Phase::Opening, EnginePacket::Open(open)) => {
                conn.watchdog.opened(&open);
                conn.phase = Phase::Joining;
                conn.send(frames::encode_connect(self.auth.as_deref()))
            }
            (Phase::Opening, _) | (_, EnginePacket::Open(_)) => Err(End::Lost),
            (_, EnginePacket::Ping(data)) => conn.send(frames::encode_pong(data)),
            (_, EnginePacket::Close) => Err(End::Lost),
            (_, EnginePacket::Message(packet)) => self.packet(conn, packet),
            (_, EnginePacket::Pong(_) | EnginePacket::Upgrade | EnginePacket::Noop) => Ok(()),
        }
    }

    /// Acts on one Socket.IO packet.
    fn packet(&self, conn: &mut Connection, text: &str) -> Result<(), End> {
        let packet = match frames::decode_socket(text) {
            Ok(packet) => packet,
            Err(e) => {
                warn!("socket: ignored a packet: {e}");
                return Ok(());
            }
        };
        match (conn.phase, packet) {
            (Phase::Joining, SocketPacket::Connect { .. }) => {
                self.admitted(conn);
                Ok(())
            }
            (Phase::Joining, SocketPacket::ConnectError { message, .. }) => {
                if message == UNAUTHORIZED {
                    Err(End::Unauthorized)
                } else {
                    warn!("socket: connect refused: {message}");
                    Err(End::Lost)
                }
            }
            (_, SocketPacket::Disconnect) => Err(End::Lost),
            (Phase::Connected, SocketPacket::Event { name, args, .. }) => {
                self.event(&name, args);
                Ok(())
            }
            (Phase::Connected, SocketPacket::Ack { id, args }) => {
                self.shared.resolve(id, args);
                Ok(())
            }
            (_, _) => {
                warn!("socket: ignored an out-of-place packet");
                Ok(())
            }
        }
    }

    /// The server admitted the socket: emits may go out now.
    fn admitted(&self, conn: &mut Connection) {
        conn.phase = Phase::Connected;
        conn.watchdog.admitted();
        *self.shared.outgoing.borrow_mut() = conn.outgoing.take();
        log!("socket: connected");
        self.link(Link::Connected);
    }

    /// Reports a state change, unless stopped.
    fn link(&self, link: Link) {
        if !self.shared.stopped.get() {
            (self.on_link)(link);
        }
    }

    /// Hands a server event to the app, unless stopped.
    fn event(&self, name: &str, args: Vec<Arg>) {
        if !self.shared.stopped.get() {
            (self.on_event)(name, args);
        }
    }
}

/// One WebSocket and where its handshake stands.
struct Connection {
    ws: FuseStream<WebSocket>,
    phase: Phase,
    watchdog: Watchdog,
    /// The sending end of this connection's queue, handed to
    /// [`Shared::outgoing`] once admitted.
    outgoing: Option<mpsc::UnboundedSender<String>>,
}

impl Connection {
    /// Sends one frame. Frames only go out after the server has spoken, so
    /// the socket is open and the send completes at once.
    fn send(&mut self, frame: String) -> Result<(), End> {
        match self.ws.send(Message::Text(frame)).now_or_never() {
            Some(Ok(())) => Ok(()),
            _ => Err(End::Lost),
        }
    }
}

/// Declares a connection dead when nothing arrives for a ping interval plus
/// a ping timeout, or when the handshake takes too long. One timer at a
/// time: it is re-armed when it fires, not on every frame.
struct Watchdog {
    /// When the last frame arrived (ms since the epoch).
    heard_at: f64,
    /// How long silence may last (ms).
    limit_ms: f64,
    /// Until admitted: when the handshake must be done.
    handshake_until: Option<f64>,
    timer: Fuse<Sleep>,
}

impl Watchdog {
    fn start() -> Self {
        let now = js_sys::Date::now();
        let limit_ms = f64::from(HANDSHAKE_TIMEOUT_MS);
        Self {
            heard_at: now,
            limit_ms,
            handshake_until: Some(now + limit_ms),
            timer: sleep(HANDSHAKE_TIMEOUT_MS).fuse(),
        }
    }

    fn heard(&mut self) {
        self.heard_at = js_sys::Date::now();
    }

    /// Takes the server's ping times; the deadline may now be sooner.
    fn opened(&mut self, open: &Open) {
        self.limit_ms = f64::from(open.ping_interval) + f64::from(open.ping_timeout);
        self.timer = sleep(self.remaining_ms()).fuse();
    }

    fn admitted(&mut self) {
        self.handshake_until = None;
    }

    /// On the timer: true if the deadline has passed, else re-arms.
    fn expired(&mut self) -> bool {
        match self.remaining_ms() {
            0 => true,
            ms => {
                self.timer = sleep(ms).fuse();
                false
            }
        }
    }

    fn remaining_ms(&self) -> u32 {
        let silence_ends = self.heard_at + self.limit_ms;
        let deadline = self
            .handshake_until
            .map_or(silence_ends, |until| until.min(silence_ends));
        // The clamp also covers a wall clock that jumped.
        (deadline - js_sys::Date::now()).clamp(0.0, self.limit_ms) as u32
    }
}

/// A `setTimeout` as a future. It never resolves without a window.
pub struct Sleep(JsFuture);

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}

/// Resolves after `ms` milliseconds.
pub fn sleep(ms: u32) -> Sleep {
    let delay = i32::try_from(ms).unwrap_or(i32::MAX);
    let promise = Promise::new(&mut |resolve, _reject| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, delay);
        }
    });
    Sleep(JsFuture::from(promise))
}

/// The handshake's `auth` object.
fn auth(token: String) -> Option<Arg> {
    serde_json::value::to_raw_value(&HandshakeAuth { token: Some(token) }).ok()
}

/// `ws(s)://<the page's host>/socket.io/…`, by the page's protocol.
fn socket_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = match location.protocol().ok()?.as_str() {
        "https:" => "wss",
        _ => "ws",
    };
    Some(format!("{scheme}://{}{PATH}", location.host().ok()?))
}

/// Listens for the browser's `online` and `offline` events while the loop
/// runs: a wait between attempts ends as soon as the network is back, and a
/// connection is dropped as soon as it is gone.
struct OnlineListener {
    window: web_sys::Window,
    online: Closure<dyn FnMut()>,
    offline: Closure<dyn FnMut()>,
}

impl OnlineListener {
    fn install(wake: mpsc::UnboundedSender<Wake>) -> Option<Self> {
        let window = web_sys::window()?;
        let on = wake.clone();
        let online = Closure::<dyn FnMut()>::new(move || {
            let _ = on.unbounded_send(Wake::Online);
        });
        let offline = Closure::<dyn FnMut()>::new(move || {
            let _ = wake.unbounded_send(Wake::Offline);
        });
        window
            .add_event_listener_with_callback("online", online.as_ref().unchecked_ref())
            .ok()?;
        window
            .add_event_listener_with_callback("offline", offline.as_ref().unchecked_ref())
            .ok()?;
        Some(Self {
            window,
            online,
            offline,
        })
    }
}

impl Drop for OnlineListener {
    fn drop(&mut self) {
        let _ = self
            .window
            .remove_event_listener_with_callback("online", self.online.as_ref().unchecked_ref());
        let _ = self
            .window
            .remove_event_listener_with_callback("offline", self.offline.as_ref().unchecked_ref());
    }
}
