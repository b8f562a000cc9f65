//! The HTTP half of a client: JSON POSTs to `/api/*` with a Bearer token,
//! and the users a run signs up, each with the identity only its own
//! client holds.

use std::net::IpAddr;
use std::time::Duration;

use hush::crypto::native::PrivateKey;
use hush::crypto::native_client::{self, EpochKey, Identity};
use hush::model::account::PublicUser;
use serde_json::{Value, json};

use crate::load::MidChange;

/// PBKDF2 iterations of the benchmark's users: the servers are started
/// with the minimum lowered to this, since key derivation happens once
/// per login and is not what is measured.
pub const ITERATIONS: u32 = 1;

/// An HTTP client of one server.
#[derive(Clone)]
pub struct Api {
    base: String,
    http: reqwest::Client,
}

/// A failed call: the status (0: no answer) and what came back.
#[derive(Debug, Clone)]
pub struct Failure {
    pub status: u16,
    pub detail: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {}: {}", self.status, self.detail)
    }
}

impl Api {
    pub fn new(base: String) -> Api {
        Api::from_address(base, None)
    }

    /// A client whose connections come from `source` (a loopback address
    /// of its own lets the soak tell them apart at the server).
    pub fn from_address(base: String, source: Option<IpAddr>) -> Api {
        let http = reqwest::Client::builder()
            .local_address(source)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(60))
            // A saturated server leaves up to 2,048 sends in flight, each on
            // its own connection; keeping them all idle for a minute took the
            // files the next scenario's sockets need.
            .pool_max_idle_per_host(256)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client");
        Api { base, http }
    }

    /// POSTs `body` to `/api/<endpoint>`.
    pub async fn post(
        &self,
        endpoint: &str,
        body: &Value,
        token: Option<&str>,
    ) -> Result<Value, Failure> {
        self.post_raw(endpoint, body.to_string(), token).await
    }

    /// POSTs an already serialised JSON body.
    pub async fn post_raw(
        &self,
        endpoint: &str,
        body: String,
        token: Option<&str>,
    ) -> Result<Value, Failure> {
        let mut request = self
            .http
            .post(format!("{}/api/{endpoint}", self.base))
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| Failure {
            status: 0,
            detail: e.to_string(),
        })?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| Failure {
            status,
            detail: e.to_string(),
        })?;
        if status != 200 {
            return Err(Failure {
                status,
                detail: String::from_utf8_lossy(&bytes).into_owned(),
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| Failure {
            status,
            detail: format!("not JSON: {e}"),
        })
    }
}

/// A signed-up user.
#[derive(Clone)]
pub struct User {
    pub id: String,
    /// Canonical, as the server answered it.
    pub username: String,
    pub token: String,
    pub dh_public: [u8; 65],
    pub sig_public: [u8; 65],
    pub dh: PrivateKey,
    pub sig: PrivateKey,
}

impl User {
    /// Signs `name` up as the browser does (with [`ITERATIONS`]).
    pub async fn sign_up(api: &Api, name: &str) -> Result<User, Failure> {
        Self::sign_up_with(api, name, "benchmark password 1", ITERATIONS).await
    }

    /// Signs `name` up with `password` and `iterations`.
    pub async fn sign_up_with(
        api: &Api,
        name: &str,
        password: &str,
        iterations: u32,
    ) -> Result<User, Failure> {
        let (body, Identity { dh, sig }) =
            native_client::sign_up_body(name, name, password, iterations);
        let answer = api.post("signup", &body, None).await?;
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        Ok(User {
            id: text(&answer["user"]["id"]),
            username: text(&answer["user"]["username"]),
            token: text(&answer["token"]),
            dh_public: dh.public(),
            sig_public: sig.public(),
            dh,
            sig,
        })
    }

    /// The user as others see them.
    fn member(&self) -> PublicUser {
        PublicUser {
            id: self.id.parse().expect("the server's ids are canonical"),
            username: self.username.clone(),
            dh_public: self.dh_public.into(),
            sig_public: self.sig_public.into(),
        }
    }
}

/// A conversation as the benchmark holds it: who is in it (indexes into
/// the population) and its content key.
pub struct Room {
    pub id: String,
    pub members: Vec<usize>,
    pub ck: EpochKey,
}

impl Room {
    /// A send body: `text` from `sender`, sealed and signed as the browser
    /// does (epoch 0).
    pub fn seal(&self, sender: &User, message_id: &str, text: &str) -> Value {
        native_client::seal(
            &self.id,
            &self.ck,
            &sender.id,
            &sender.sig,
            message_id,
            text,
            "2026-11-26T00:00:00.000Z",
        )
    }
}

/// Creates a conversation of `members` (indexes into `users`; the first
/// creates it), and checks the last member accepts its key set.
pub async fn create_room(api: &Api, users: &[User], members: Vec<usize>) -> Result<Room, Failure> {
    let creator = &users[members[0]];
    let wire: Vec<PublicUser> = members.iter().map(|&m| users[m].member()).collect();
    let (body, ck) =
        native_client::create_body(&creator.id, &creator.sig, &wire, None).map_err(|e| {
            Failure {
                status: 0,
                detail: e.to_string(),
            }
        })?;
    let answer = api
        .post("conversations/create", &body, Some(&creator.token))
        .await?;
    let last = &users[*members.last().expect("a room has members")];
    native_client::accept(&answer, &last.id, &last.dh).map_err(|e| Failure {
        status: 200,
        detail: format!("the created conversation does not verify: {e}"),
    })?;
    Ok(Room {
        id: body["conversation_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        members,
        ck,
    })
}

/// The next epoch of `room` for the same members (a new key), signed by
/// its creator, to be posted when message `at` of a run is due: what a
/// change costs the room, whoever comes or goes.
pub async fn next_epoch(
    api: &Api,
    users: &[User],
    room: &Room,
    room_index: usize,
    at: usize,
) -> Result<MidChange, Failure> {
    let creator = &users[room.members[0]];
    let now = api
        .post(
            "conversations/get",
            &json!({ "conversation_id": room.id }),
            Some(&creator.token),
        )
        .await?;
    let members: Vec<PublicUser> = room.members.iter().map(|&m| users[m].member()).collect();
    let (body, key) = native_client::change_body(&now, &creator.id, &creator.sig, &members)
        .map_err(|e| Failure {
            status: 200,
            detail: format!("the room does not verify: {e}"),
        })?;
    Ok(MidChange {
        room: room_index,
        at,
        body: body.to_string(),
        token: creator.token.clone(),
        key,
    })
}

/// One history page: the newest `limit` messages of `room` as `reader`.
pub async fn newest(api: &Api, reader: &User, room: &str, limit: u32) -> Result<Value, Failure> {
    api.post(
        "messages/history",
        &json!({"conversation_id": room, "limit": limit}),
        Some(&reader.token),
    )
    .await
}
