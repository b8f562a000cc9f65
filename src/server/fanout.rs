//! Fan-out between nodes: every push goes through socketioxide's Redis
//! adapter, over a [`Bus`] that is Redis (sharded pub/sub through fred)
//! when `redis_url` is set, and nothing when it is not (one node: the
//! adapter then only delivers to this node's sockets, as the in-process
//! adapter does).
//!
//! The adapter publishes an emit to the other nodes before it delivers to
//! this node's sockets, and gives up on the local delivery when the publish
//! fails. So the bus never fails a publish: one that Redis does not take
//! within [`PUBLISH_TIMEOUT`] (or at once, while the connection is down) is
//! logged (once per outage), and the emit still reaches this node's
//! sockets; until Redis is seen to answer again, emits do not wait on it.
//! A send still answers once its message is stored; members on other nodes
//! miss the push and catch up from history when they next hear anything
//! (the next push's `seq` shows the gap) or reconnect. What else the other
//! nodes missed (their sockets to join to a room or take out of one, a
//! logout's sockets to close) is put right when Redis answers again: this
//! node asks every node, on `{prefix}-resync`, to check its sockets against
//! the database (`realtime::keep_in_step`), and a node that reconnected
//! does so itself.
//!
//! A logout reaches every node the same way: the node that ends the
//! sessions publishes `{user} {version}` on `{prefix}-revoked`, and every
//! node drops the user's cached row ([`RecentUsers::revoke`]), so the
//! ended token is refused everywhere at once rather than within the
//! cache's few seconds (which remain the bound while Redis is down).
//!
//! fred reconnects for ever (exponential backoff up to
//! [`RECONNECT_MAX`]); this node then subscribes again, and a watchdog
//! checks every [`WATCHDOG_EVERY`] that Redis still counts all of this
//! node's subscriptions, subscribing again when it does not (a
//! resubscription after a restart was seen to restore some channels only).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use fred::clients::SubscriberClient;
use fred::prelude::{
    Builder, ClientLike, Config, Error as RedisError, ErrorKind, EventInterface, PubsubInterface,
    ReconnectPolicy,
};
use fred::types::RespVersion;
use socketioxide::SocketIo;
use socketioxide::adapter::Emitter;
use socketioxide::extract::{AckSender, SocketRef};
use socketioxide::layer::SocketIoLayer;
use socketioxide::operators::BroadcastOperators;
use socketioxide_redis::drivers::fred::{FredDriver, FredError};
use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};
use socketioxide_redis::{CustomRedisAdapter, RedisAdapterConfig, RedisAdapterCtr};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::auth::recent::RecentUsers;
use super::settings::Settings;
use crate::model::ids::UserId;

/// The adapter every node runs, with Redis or without.
pub type Adapter = CustomRedisAdapter<Emitter, Bus>;
/// The Socket.IO handle: emit to rooms, move and close sockets.
pub type Io = SocketIo<Adapter>;
/// A socket, in a handler.
pub type Socket = SocketRef<Adapter>;
/// Answers an event's ack, in a handler.
pub type Ack = AckSender<Adapter>;
/// The Socket.IO layer in front of the router.
pub type Layer = SocketIoLayer<Adapter>;

/// Socket.IO's default namespace, where every socket is, to emit to rooms
/// or act on them; `None` once the socket layer has closed at shutdown
/// (`SocketIo::to` and `within` panic then). A request that finishes after
/// that pushes nothing: its answer still goes out, and members catch up
/// from history as after any missed push.
pub fn sockets(io: &Io) -> Option<BroadcastOperators<Adapter>> {
    io.of("/")
}

/// How long an emit waits for Redis to take its publish before it goes to
/// this node's sockets only.
pub const PUBLISH_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a request between nodes (such as listing rooms across the
/// cluster) waits for the others' answers.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// How long connecting to Redis may take, at start and on reconnects.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest wait between two reconnection attempts.
const RECONNECT_MAX: Duration = Duration::from_secs(2);
/// How long Redis may leave a command unanswered before the connection is
/// closed and made again.
const UNRESPONSIVE: Duration = Duration::from_secs(2);
/// How often the watchdog checks this node's subscriptions.
pub const WATCHDOG_EVERY: Duration = Duration::from_secs(2);
/// Messages from Redis waiting for the adapter before fred drops the
/// oldest (its default, 32, drops under a burst to a room of 1,000).
const INBOX: usize = 4096;

/// Where emits go besides this node's sockets.
#[derive(Clone)]
pub enum Bus {
    /// Nowhere: one node.
    Solo,
    /// To the other nodes, through Redis.
    Redis(Arc<RedisBus>),
}

/// The Redis side of a [`Bus`].
pub struct RedisBus {
    driver: FredDriver,
    client: SubscriberClient,
    /// `{prefix}-revoked`, where logouts are told.
    revocations: String,
    /// `{prefix}-resync`, where a node that could not publish for a while
    /// asks the others to bring their sockets' rooms and sessions back in
    /// step with the database.
    resyncs: String,
    /// Where and under which prefix, for the start-up line (never who).
    described: String,
    /// Whether publishing failed and has not been seen to work since: emits
    /// then go to this node's sockets at once, without waiting on Redis,
    /// until the watchdog (or a reconnection) finds it answering again.
    failing: AtomicBool,
    /// Wakes the task that brings this node's sockets back in step
    /// (`realtime::keep_in_step`).
    resync: Arc<Notify>,
}

/// The bus and its background tasks, as [`connect`] starts them.
pub struct Fanout {
    pub bus: Bus,
    tasks: Vec<JoinHandle<()>>,
}

/// Connects to `redis_url`, if set, and listens there for logouts on other
/// nodes, revoking them in `recent`; fails when Redis does not answer, so
/// a misconfigured node does not start alone. Never logs the URL (it may
/// carry a password).
pub async fn connect(settings: &Settings, recent: Arc<RecentUsers>) -> anyhow::Result<Fanout> {
    let Some(url) = settings.redis_url.as_deref() else {
        return Ok(Fanout {
            bus: Bus::Solo,
            tasks: Vec::new(),
        });
    };
    let mut config = Config::from_url(url).context("redis_url is not a Redis URL")?;
    // fred reads no protocol from the URL; the adapter's sharded pub/sub
    // needs RESP3 (Redis 7).
    config.version = RespVersion::RESP3;
    config.fail_fast = true;
    let client = Builder::from_config(config)
        .with_performance_config(|perf| {
            perf.default_command_timeout = PUBLISH_TIMEOUT;
            perf.broadcast_channel_capacity = INBOX;
        })
        .with_connection_config(|conn| {
            conn.connection_timeout = CONNECT_TIMEOUT;
            conn.internal_command_timeout = CONNECT_TIMEOUT;
            // A push retried after a reconnect would come late, or twice.
            conn.max_command_attempts = 1;
            // A Redis that stops answering without closing the connection
            // is taken for gone, and reconnected to.
            conn.unresponsive.max_timeout = Some(UNRESPONSIVE);
            conn.unresponsive.interval = UNRESPONSIVE / 4;
        })
        .set_policy(ReconnectPolicy::new_exponential(
            0,
            100,
            RECONNECT_MAX.as_millis() as u32,
            2,
        ))
        .build_subscriber_client()
        .context("cannot set up the Redis client")?;
    let driver = tokio::time::timeout(CONNECT_TIMEOUT, FredDriver::new(client.clone()))
        .await
        .map_err(|_| anyhow::anyhow!("Redis (redis_url) did not answer within 5 s"))?
        .context("cannot reach Redis (redis_url)")?;
    let revocations = format!("{}-revoked", settings.redis_prefix);
    let resyncs = format!("{}-resync", settings.redis_prefix);
    let mut heard = Vec::new();
    for channel in [&revocations, &resyncs] {
        heard.push(
            driver
                .subscribe(channel.clone(), INBOX)
                .await
                .context("cannot subscribe on Redis (redis_url)")?,
        );
    }
    let (resync_asked, revoked) = (heard.pop().expect("two"), heard.pop().expect("two"));
    let redis = Arc::new(RedisBus {
        driver,
        client: client.clone(),
        revocations,
        resyncs,
        resync: Arc::default(),
        described: format!("Redis {}, prefix {}", host_of(url), settings.redis_prefix),
        failing: AtomicBool::new(false),
    });
    let tasks = vec![
        tokio::spawn(resubscribe_on_reconnect(redis.clone())),
        tokio::spawn(watchdog(redis.clone())),
        tokio::spawn(hear_revocations(revoked, recent)),
        tokio::spawn(hear_resyncs(resync_asked, redis.resync.clone())),
    ];
    tracing::info!(prefix = %settings.redis_prefix, "pushes fan out through Redis");
    Ok(Fanout {
        bus: Bus::Redis(redis),
        tasks,
    })
}

/// The adapter's construction, for `SocketIo::builder().with_adapter`.
pub fn adapter(bus: Bus, settings: &Settings) -> RedisAdapterCtr<Bus> {
    let config = RedisAdapterConfig::new()
        .with_prefix(settings.redis_prefix.clone())
        .with_request_timeout(REQUEST_TIMEOUT);
    RedisAdapterCtr::new_with_driver(bus, config)
}

impl Fanout {
    /// Stops the background tasks and closes the connection.
    pub async fn close(self) {
        for task in self.tasks {
            task.abort();
        }
        if let Bus::Redis(redis) = self.bus {
            let _ = tokio::time::timeout(PUBLISH_TIMEOUT, redis.client.quit()).await;
        }
    }
}

/// What `/healthz` tells of the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusHealth {
    Solo,
    Up,
    Down,
}

/// The host and port of a `redis://` URL, without user, password or
/// database.
fn host_of(url: &str) -> &str {
    let rest = url.strip_prefix("redis://").unwrap_or(url);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    rest.split(['/', '?']).next().unwrap_or(rest)
}

impl Bus {
    /// What the start-up line says of it.
    pub fn describe(&self) -> &str {
        match self {
            Bus::Solo => "in-process",
            Bus::Redis(redis) => &redis.described,
        }
    }

    pub fn health(&self) -> BusHealth {
        match self {
            Bus::Solo => BusHealth::Solo,
            Bus::Redis(redis)
                if redis.client.is_connected() && !redis.failing.load(Ordering::Relaxed) =>
            {
                BusHealth::Up
            }
            Bus::Redis(_) => BusHealth::Down,
        }
    }

    /// What wakes the task that brings this node's sockets back in step
    /// after Redis lost some of what the other nodes told them; none on
    /// one node.
    pub fn resync(&self) -> Option<Arc<Notify>> {
        match self {
            Bus::Solo => None,
            Bus::Redis(redis) => Some(redis.resync.clone()),
        }
    }

    /// Tells every other node that `user`'s sessions before token version
    /// `version` ended (best effort: a node that misses it trusts its
    /// cached row for at most [`TTL`](super::auth::recent::TTL)).
    pub async fn revoked(&self, user: UserId, version: u32) {
        if let Bus::Redis(redis) = self {
            let told = format!("{user} {version}").into_bytes();
            let _ = self.publish(redis.revocations.clone(), told).await;
        }
    }
}

impl RedisBus {
    /// The connection, for commands of this node's own (the cluster's
    /// throttles).
    pub fn client(&self) -> &SubscriberClient {
        &self.client
    }

    /// Redis answers again after publishes failed: the other nodes missed
    /// what this one told them (pushes, and joins, leaves and closes of
    /// their sockets), so they are asked to bring their sockets in step.
    async fn recovered(&self) {
        if !self.failing.swap(false, Ordering::Relaxed) {
            return;
        }
        tracing::warn!("Redis takes pushes again; members on other nodes catch up");
        self.resync.notify_one();
        let asked = tokio::time::timeout(
            PUBLISH_TIMEOUT,
            self.driver.publish(self.resyncs.clone(), Vec::new()),
        )
        .await;
        if !matches!(asked, Ok(Ok(()))) {
            // Not told: fail again, and the watchdog tries once more.
            self.failing.store(true, Ordering::Relaxed);
        }
    }

    fn lost(&self, error: &dyn std::fmt::Display) {
        if !self.failing.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                error = %error,
                "Redis does not take pushes: they reach this node's sockets only, and members on other nodes catch up from history"
            );
        }
    }
}

fn timed_out() -> FredError {
    RedisError::new(ErrorKind::Timeout, "Redis did not answer in time").into()
}

impl Driver for Bus {
    type Error = FredError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        let Bus::Redis(redis) = self else {
            return Ok(());
        };
        if !redis.client.is_connected() {
            redis.lost(&"not connected");
            return Ok(());
        }
        if redis.failing.load(Ordering::Relaxed) {
            // Known to fail: no emit waits on it until the watchdog sees
            // Redis answer again.
            return Ok(());
        }
        match tokio::time::timeout(PUBLISH_TIMEOUT, redis.driver.publish(chan, val)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => redis.lost(&e),
            Err(_) => redis.lost(&"timed out"),
        }
        Ok(())
    }

    async fn subscribe(
        &self,
        chan: String,
        size: usize,
    ) -> Result<MessageStream<ChanItem>, Self::Error> {
        match self {
            Bus::Solo => Ok(MessageStream::new_empty()),
            Bus::Redis(redis) => {
                tokio::time::timeout(CONNECT_TIMEOUT, redis.driver.subscribe(chan, size))
                    .await
                    .map_err(|_| timed_out())?
            }
        }
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), Self::Error> {
        match self {
            Bus::Solo => Ok(()),
            Bus::Redis(redis) => {
                tokio::time::timeout(PUBLISH_TIMEOUT, redis.driver.unsubscribe(chan))
                    .await
                    .map_err(|_| timed_out())?
            }
        }
    }

    async fn num_serv(&self, chan: &str) -> Result<u16, Self::Error> {
        match self {
            Bus::Solo => Ok(1),
            Bus::Redis(redis) => tokio::time::timeout(PUBLISH_TIMEOUT, redis.driver.num_serv(chan))
                .await
                .map_err(|_| timed_out())?,
        }
    }
}

/// The next message on a channel of this node's own.
async fn next(stream: &mut MessageStream<ChanItem>) -> Option<ChanItem> {
    use futures_core::Stream;
    std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

/// Revokes, in this node's cache, the sessions other nodes ended.
async fn hear_revocations(mut heard: MessageStream<ChanItem>, recent: Arc<RecentUsers>) {
    while let Some((_, told)) = next(&mut heard).await {
        let told = String::from_utf8_lossy(&told);
        let parsed = told.split_once(' ').and_then(|(user, version)| {
            Some((user.parse::<UserId>().ok()?, version.parse().ok()?))
        });
        match parsed {
            Some((user, version)) => recent.revoke(user, version, Instant::now()),
            None => tracing::warn!("an unreadable revocation on Redis was ignored"),
        }
    }
}

/// Subscribes again, one by one, to every channel this node subscribed to
/// (SSUBSCRIBE to a channel already subscribed changes nothing). fred's own
/// `resubscribe_all` sends them grouped and, after a Redis restart, was
/// seen to restore only the first.
async fn restore(redis: &RedisBus) -> Result<(), RedisError> {
    for channel in redis.client.tracked_shard_channels() {
        redis.client.ssubscribe(channel.to_string()).await?;
    }
    Ok(())
}

/// Subscribes again at every reconnection.
async fn resubscribe_on_reconnect(redis: Arc<RedisBus>) {
    let mut reconnected = redis.client.reconnect_rx();
    loop {
        match reconnected.recv().await {
            Ok(_) => {
                // Whatever was published while this node was away, it
                // missed.
                redis.resync.notify_one();
                match restore(&redis).await {
                    Ok(()) => redis.recovered().await,
                    Err(e) => {
                        tracing::warn!(error = %e, "Redis subscriptions not restored at reconnect; the watchdog retries")
                    }
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// How many shard channels Redis counts this connection subscribed to
/// (`ssub=` in `CLIENT INFO`).
async fn subscribed(redis: &RedisBus) -> Result<usize, RedisError> {
    let info: String = redis
        .client
        .custom(fred::cmd!("CLIENT"), vec!["INFO"])
        .await?;
    info.split_whitespace()
        .find_map(|field| field.strip_prefix("ssub=")?.parse().ok())
        .ok_or_else(|| RedisError::new(ErrorKind::Protocol, "CLIENT INFO without ssub"))
}

/// Wakes this node's resync whenever another node asks for one.
async fn hear_resyncs(mut asked: MessageStream<ChanItem>, resync: Arc<Notify>) {
    while next(&mut asked).await.is_some() {
        resync.notify_one();
    }
}

/// Every [`WATCHDOG_EVERY`], while connected: if Redis counts fewer
/// subscriptions on this node's connection than it made, some were lost (a
/// resubscription at reconnect failed); subscribe again.
async fn watchdog(redis: Arc<RedisBus>) {
    let refused = AtomicBool::new(false);
    let mut every = tokio::time::interval(WATCHDOG_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if !redis.client.is_connected() {
            continue;
        }
        let made = redis.client.tracked_shard_channels().len();
        let counted = match subscribed(&redis).await {
            Ok(counted) => counted,
            Err(e) => {
                // Not answered: the connection is going (fred reconnects),
                // or CLIENT is not allowed here (said once).
                if e.kind() != &ErrorKind::Timeout && !refused.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %e, "the Redis watchdog cannot read CLIENT INFO; lost subscriptions are restored at reconnects only");
                }
                redis.lost(&e);
                continue;
            }
        };
        redis.recovered().await;
        if counted >= made {
            continue;
        }
        match restore(&redis).await {
            Ok(()) => {
                redis.resync.notify_one();
                tracing::warn!(
                    lost = made - counted,
                    "Redis had lost some of this node's subscriptions; subscribed again"
                );
            }
            Err(e) => tracing::warn!(error = %e, "Redis subscriptions not restored; trying again"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request that finishes after shutdown closed the socket layer (a
    /// send committed while the node stops) finds no namespace, where
    /// `SocketIo::to` would panic.
    #[tokio::test]
    async fn once_the_socket_layer_is_closed_there_is_nowhere_to_emit() {
        let settings = Settings::default();
        let (_layer, io) = SocketIo::builder()
            .with_adapter::<Adapter>(adapter(Bus::Solo, &settings))
            .build_layer();
        io.ns("/", async |_: Socket| {})
            .await
            .expect("the namespace");
        let sockets = super::sockets(&io).expect("the namespace while open");
        sockets
            .to("a-room")
            .emit("event", &1)
            .await
            .expect("an emit to nobody");
        io.close().await;
        assert!(super::sockets(&io).is_none());
    }

    #[test]
    fn the_start_up_line_names_the_host_never_who() {
        assert_eq!(host_of("redis://127.0.0.1:6379"), "127.0.0.1:6379");
        assert_eq!(host_of("redis://:hunter2@cache:6380/2"), "cache:6380");
        assert_eq!(host_of("redis://hush:p@ss@cache?protocol=resp3"), "cache");
    }
}
