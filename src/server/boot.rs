//! Start-up and shutdown: settings → store → Redis (if set) → sockets →
//! router → listener.
//!
//! [`start`] returns once the server is listening, so a test can boot the
//! real server on `127.0.0.1:0` and talk to [`Running::addr`]; [`Running::stop`]
//! shuts it down gracefully (stop accepting, close sockets, finish requests,
//! close the store).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use leptos::config::{Env, LeptosOptions};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::auth::recent::RecentUsers;
use super::auth::secrets::ServerSecrets;
use super::fanout::{self, Fanout, Io};
use super::presence::Presence;
use super::settings::Settings;
use super::state::AppState;
use super::store::{self, Store};
use super::typing::TypingRelay;
use super::{build_files, listener, realtime, router};

/// A server that is listening.
pub struct Running {
    addr: SocketAddr,
    store: Arc<dyn Store>,
    io: Io,
    fanout: Fanout,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
    /// Closes sockets whose token has expired.
    sweeper: JoinHandle<()>,
    /// Brings sockets back in step after Redis lost messages (with Redis).
    resync: Option<JoinHandle<()>>,
}

/// Opens the store, binds the listener and starts serving in the background.
pub async fn start(settings: Settings) -> anyhow::Result<Running> {
    let store = store::open(&settings).await?;
    let mut secrets =
        ServerSecrets::load_or_create(&settings.data_dir, settings.token_secret.as_deref())
            .with_context(|| format!("cannot load secrets from {}", settings.data_dir.display()))?;
    secrets
        .share_salt_key(store.as_ref())
        .await
        .context("cannot read the shared salt key from the database")?;
    let listener = TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let recent = Arc::new(RecentUsers::default());
    let fanout = fanout::connect(&settings, recent.clone()).await?;
    let addr = listener.local_addr()?;
    let hash_file = build_files::hash_file(&settings.site_dir);
    if hash_file.is_some() && !build_files::is_split(&settings.site_dir) {
        tracing::error!(
            site = %settings.site_dir.display(),
            "the app was built without --split: browsers cannot start it; build it with `cargo leptos build --split`"
        );
    }
    let leptos_options = LeptosOptions::builder()
        .output_name(env!("CARGO_PKG_NAME"))
        .site_root(settings.site_dir.to_string_lossy().into_owned())
        .site_addr(addr)
        .env(leptos_env())
        .hash_files(hash_file.is_some())
        .hash_file(
            hash_file
                .map(|path| path.to_string_lossy().into_owned())
                .unwrap_or_else(|| build_files::HASH_FILE.to_owned())
                .into(),
        )
        .build();
    let secrets = Arc::new(secrets);
    let online = Arc::new(Presence::default());
    let typing = Arc::new(TypingRelay::default());
    let layer = realtime::layer(
        store.clone(),
        secrets.clone(),
        recent.clone(),
        online.clone(),
        typing.clone(),
        fanout.bus.clone(),
        &settings,
    )
    .await;
    let (sockets, io) = match layer {
        Ok(built) => built,
        Err(e) => {
            fanout.close().await;
            return Err(e);
        }
    };
    let header_timeout = settings.header_timeout;
    let state = AppState {
        leptos_options,
        settings: Arc::new(settings),
        store: store.clone(),
        secrets,
        throttle: Arc::default(),
        limiter: Arc::default(),
        recent: recent.clone(),
        io: io.clone(),
        bus: fanout.bus.clone(),
        epoch_changes: Arc::default(),
        online,
        typing,
    };
    let app = router::router(state, sockets);

    let sweeper = tokio::spawn(realtime::close_expired(io.clone()));
    let resync = fanout.bus.resync().map(|wanted| {
        tokio::spawn(realtime::keep_in_step(
            io.clone(),
            store.clone(),
            recent,
            wanted,
        ))
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(listener::serve(listener, app, header_timeout, async {
        let _ = stopped.await;
    }));
    Ok(Running {
        addr,
        store,
        io,
        fanout,
        stop,
        task,
        sweeper,
        resync,
    })
}

/// `DEV` only when cargo-leptos runs us in watch mode (it sets `LEPTOS_ENV`):
/// then pages carry the live-reload script.
fn leptos_env() -> Env {
    match std::env::var("LEPTOS_ENV").as_deref() {
        Ok("DEV" | "dev" | "development") => Env::DEV,
        _ => Env::PROD,
    }
}

impl Running {
    /// The address actually bound (the port is real even when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Where pushes fan out besides this node's sockets, for the start-up
    /// line.
    pub fn fanout(&self) -> &str {
        self.fanout.bus.describe()
    }

    /// The Socket.IO handle (rooms, sockets).
    pub fn io(&self) -> &Io {
        &self.io
    }

    /// Stops accepting, closes every socket, lets requests in flight finish,
    /// then closes the store.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.sweeper.abort();
        if let Some(resync) = &self.resync {
            resync.abort();
        }
        self.io.close().await;
        self.task.await.context("the server task failed")?;
        self.fanout.close().await;
        self.store.close().await;
        Ok(())
    }
}
