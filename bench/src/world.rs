//! One server under test with everything a scenario needs around it: an
//! HTTP client of each of its nodes, the signed-up population, the hub every socket reports to,
//! and helpers to make rooms and connect their members.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream;
use indicatif::{ProgressBar, ProgressStyle};

use std::net::SocketAddr;

use crate::api::{self, Api, Room, User};
use crate::live::{self, Hub, Socket};
use crate::load::{self, MidChange, Outcome, Plan};
use crate::target::Target;

pub struct World {
    pub target: Target,
    /// A client of the first node (for set-up calls).
    pub api: Api,
    /// A client of each node that takes clients, by node.
    pub apis: Vec<Api>,
    pub hub: Arc<Hub>,
    pub users: Vec<User>,
    pub quiet: bool,
}

/// A progress bar for `len` steps (hidden when quiet).
pub fn bar(quiet: bool, len: u64, what: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("  {msg:<34} [{bar:30}] {pos}/{len} {elapsed}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

impl World {
    /// Signs up `count` users on `target`.
    pub async fn populate(target: Target, count: usize, quiet: bool) -> Result<World, String> {
        let api = Api::new(target.base());
        let progress = bar(quiet, count as u64, "signing up users");
        let results: Vec<Result<User, String>> = stream::iter(0..count)
            .map(|i| {
                let (api, progress) = (api.clone(), progress.clone());
                async move {
                    let user = User::sign_up(&api, &format!("bench{i:05}"))
                        .await
                        .map_err(|e| format!("signup {i}: {e}"));
                    progress.inc(1);
                    user
                }
            })
            .buffered(4)
            .collect()
            .await;
        progress.finish_and_clear();
        let users = results.into_iter().collect::<Result<Vec<_>, _>>()?;
        let apis = (0..target.serving())
            .map(|n| Api::new(format!("http://{}", target.addr_of(n))))
            .collect();
        Ok(World {
            target,
            api,
            apis,
            hub: Arc::new(Hub::default()),
            users,
            quiet,
        })
    }

    /// The client of the node user number `user` talks to.
    pub fn api_of(&self, user: usize) -> &Api {
        &self.apis[self.target.node_of(user)]
    }

    /// The address of the node user number `user` talks to.
    pub fn addr_of(&self, user: usize) -> SocketAddr {
        self.target.addr_of(self.target.node_of(user))
    }

    /// Waits (at most 20 s) until the server is idle (under 5 % of a core
    /// over half a second) and the generator's own closed sockets are gone,
    /// so one scenario's teardown does not count against the next.
    pub async fn settle(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let open_files = || crate::system::open_files(std::process::id());
        let mut files = open_files();
        while std::time::Instant::now() < deadline {
            let before = self.target.usage();
            tokio::time::sleep(Duration::from_millis(500)).await;
            let busy =
                crate::system::cpu_share(before, self.target.usage(), Duration::from_millis(500));
            let now = open_files();
            if busy < 0.05 && now >= files {
                return;
            }
            files = now;
        }
    }

    /// One load run into `rooms`, whose members are connected.
    pub async fn run(&self, plan: Plan, rooms: &[Room]) -> Outcome {
        load::run(
            plan,
            &self.target,
            &self.apis,
            &self.hub,
            &self.users,
            rooms,
        )
        .await
    }

    /// [`World::run`] with `change` posted in the middle; each member told
    /// of it takes the new epoch as the app does: from the push when it
    /// carries the member's change (its own key), else read (changes since
    /// the epoch it holds).
    /// Returns the run and, per member, when it had the new epoch.
    pub async fn run_with_change(
        &self,
        plan: Plan,
        rooms: &[Room],
        change: MidChange,
    ) -> (Outcome, Vec<Result<std::time::Instant, String>>) {
        let (target, hub) = (&self.target, &self.hub);
        let read: Arc<std::sync::Mutex<Vec<Result<std::time::Instant, String>>>> = Arc::default();
        let follow = {
            let (read, runtime) = (read.clone(), tokio::runtime::Handle::current());
            // Each member reads from its own node.
            let (tokens, apis): (Vec<String>, Vec<Api>) = (0..self.users.len())
                .map(|u| (self.users[u].token.clone(), self.api_of(u).clone()))
                .unzip();
            Arc::new(move |user: u32, changed: serde_json::Value| {
                if changed["changes"]["epochs"][0]["key"].is_string() {
                    read.lock()
                        .expect("read")
                        .push(Ok(std::time::Instant::now()));
                    return;
                }
                let (api, read) = (apis[user as usize].clone(), read.clone());
                let token = tokens[user as usize].clone();
                runtime.spawn(async move {
                    let body = serde_json::json!({
                        "conversation_id": changed["id"],
                        "since_epoch": changed["epoch"],
                    });
                    let got = api.post("conversations/changes", &body, Some(&token)).await;
                    read.lock().expect("read").push(
                        got.map(|_| std::time::Instant::now())
                            .map_err(|f| f.to_string()),
                    );
                });
            })
        };
        hub.follow(follow);
        let o = load::run_with(
            plan,
            target,
            &self.apis,
            hub,
            &self.users,
            rooms,
            Some(change),
        )
        .await;
        // The reads still under way finish (or 10 s pass).
        // Every member is told, the signer too.
        let everyone: usize = rooms.iter().map(|r| r.members.len()).sum();
        let until = std::time::Instant::now() + Duration::from_secs(10);
        while read.lock().expect("read").len() < everyone && std::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        hub.stop_following();
        let read = std::mem::take(&mut *read.lock().expect("read"));
        (o, read)
    }

    /// Makes `count` rooms of `size` members from consecutive users
    /// (wrapping around the population).
    pub async fn rooms(&self, count: usize, size: usize) -> Result<Vec<Room>, String> {
        let size = size.min(self.users.len());
        let mut rooms = Vec::with_capacity(count);
        for r in 0..count {
            let members: Vec<usize> = (0..size)
                .map(|m| (r * size + m) % self.users.len())
                .collect();
            rooms.push(
                api::create_room(&self.api, &self.users, members)
                    .await
                    .map_err(|e| format!("create a room of {size}: {e}"))?,
            );
        }
        Ok(rooms)
    }

    /// Connects one socket for each distinct member of `rooms`.
    pub async fn connect_members(&self, rooms: &[Room]) -> Result<Vec<Socket>, String> {
        let mut members: Vec<usize> = rooms
            .iter()
            .flat_map(|r| r.members.iter().copied())
            .collect();
        members.sort_unstable();
        members.dedup();
        self.connect(&members, 1).await
    }

    /// Connects `per_user` sockets for each of `users`, 64 handshakes at a
    /// time, spread over the loopback source addresses.
    pub async fn connect(&self, users: &[usize], per_user: usize) -> Result<Vec<Socket>, String> {
        let total = users.len() * per_user;
        let progress = bar(
            self.quiet || total < 500,
            total as u64,
            "connecting sockets",
        );
        let sockets: Vec<Result<Socket, String>> = stream::iter(0..total)
            .map(|n| {
                let user = users[n % users.len()];
                let token = self.users[user].token.clone();
                let (hub, progress) = (self.hub.clone(), progress.clone());
                async move {
                    let socket = live::connect(
                        self.addr_of(user),
                        live::source(n),
                        &token,
                        user as u32,
                        hub,
                    )
                    .await;
                    progress.inc(1);
                    socket
                }
            })
            .buffer_unordered(64)
            .collect()
            .await;
        progress.finish_and_clear();
        let sockets = sockets.into_iter().collect::<Result<Vec<_>, _>>()?;
        // Let the server finish joining rooms before anything is sent.
        tokio::time::sleep(Duration::from_millis(200)).await;
        Ok(sockets)
    }
}
