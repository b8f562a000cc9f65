//! Socket.IO is mounted at `/socket.io/` on the same router: the Engine.IO v4
//! handshake works, a connect without a valid session is refused with a
//! `connect_error`, and browsers from other origins are kept out.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hush::server::auth::{secrets::ServerSecrets, token};
use hush::server::realtime::EXPIRY_SWEEP;
use serde_json::{Value, json};

use crate::live::Live;
use crate::util::TestServer;

const PASSWORD: &str = "correct horse battery staple";

use crate::live::{POLLING as HANDSHAKE, open as open_session};

/// Opens an Engine.IO session over polling and returns its `sid`.
async fn open(server: &TestServer) -> String {
    open_session(server).await.0
}

#[tokio::test]
async fn engine_io_handshake_answers_with_a_session() {
    let server = TestServer::start().await;
    let (sid, open) = open_session(&server).await;
    assert!(!sid.is_empty());
    assert_eq!(open.upgrades, ["websocket"]);
    assert!(open.ping_interval > 0 && open.ping_timeout > 0);
}

/// Sends a Socket.IO CONNECT for namespace "/" (with `auth`, if given) on an
/// open polling session; returns the packets of the server's answer.
async fn connect(server: &TestServer, sid: &str, auth: Option<Value>) -> Vec<String> {
    let url = server.url(&format!("{HANDSHAKE}&sid={sid}"));
    let packet = match auth {
        Some(auth) => format!("40{auth}"),
        None => "40".to_owned(),
    };
    let posted = server.http.post(&url).body(packet).send().await.unwrap();
    assert_eq!(posted.status(), 200);
    // A ping may come first; the answer to CONNECT is 40… or 44….
    let mut seen = Vec::new();
    for _ in 0..5 {
        let (_, packets) = poll(server, sid).await;
        let answered = packets
            .iter()
            .any(|p| p.starts_with("40") || p.starts_with("44"));
        seen.extend(packets);
        if answered {
            break;
        }
    }
    seen
}

/// One long-poll: the status and the packets (separated by U+001E).
async fn poll(server: &TestServer, sid: &str) -> (u16, Vec<String>) {
    let url = server.url(&format!("{HANDSHAKE}&sid={sid}"));
    let response = server.http.get(&url).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, text.split('\u{1e}').map(str::to_owned).collect())
}

/// The CONNECT_ERROR message among `packets` (4 = Engine.IO message,
/// 4 = Socket.IO CONNECT_ERROR), if any.
fn connect_error(packets: &[String]) -> Option<String> {
    packets.iter().find_map(|p| {
        let body: Value = serde_json::from_str(p.strip_prefix("44")?).ok()?;
        body["message"].as_str().map(str::to_owned)
    })
}

/// Opens a session, connects with `auth`, and returns the CONNECT_ERROR
/// message the server answered with, if any.
async fn refusal(server: &TestServer, auth: Option<Value>) -> Option<String> {
    let sid = open(server).await;
    connect_error(&connect(server, &sid, auth).await)
}

#[tokio::test]
async fn a_valid_token_is_admitted_and_logout_closes_the_socket() {
    let server = TestServer::start_for_accounts().await;
    let alice = server
        .sign_up("alice", "correct horse battery staple")
        .await;
    let sid = open(&server).await;
    let packets = connect(
        &server,
        &sid,
        Some(serde_json::json!({"token": alice.token})),
    )
    .await;
    assert!(
        packets.iter().any(|p| p.starts_with("40{")),
        "admitted: {packets:?}"
    );

    let out = server
        .post("logout", serde_json::json!({}), Some(&alice.token))
        .await;
    assert_eq!(out.status(), 200);
    let (status, packets) = poll(&server, &sid).await;
    assert!(
        packets.iter().any(|p| p == "41") || status == 400,
        "the socket is closed at logout: {status} {packets:?}"
    );

    // The ended token no longer opens a socket.
    let refused = refusal(&server, Some(serde_json::json!({"token": alice.token}))).await;
    assert_eq!(refused.as_deref(), Some("unauthorized"));
}

#[tokio::test]
async fn a_bad_token_is_refused() {
    let server = TestServer::start_for_accounts().await;
    let refused = refusal(&server, Some(serde_json::json!({"token": "not.a.token"}))).await;
    assert_eq!(refused.as_deref(), Some("unauthorized"));
}

#[tokio::test]
async fn a_connect_without_a_session_is_refused() {
    let server = TestServer::start().await;
    assert_eq!(
        refusal(&server, None).await.as_deref(),
        Some("unauthorized")
    );
}

#[tokio::test]
async fn another_origin_is_refused_before_the_handshake() {
    let server = TestServer::start().await;
    let response = server
        .http
        .get(server.url(HANDSHAKE))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "forbidden_origin");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

/// A request to the Socket.IO layer from `origin`: a polling GET, a polling
/// POST, or a WebSocket upgrade, at `path`.
async fn from_origin(server: &TestServer, method: &str, path: &str, origin: &str) -> u16 {
    let url = server.url(path);
    let request = match method {
        "POST" => server.http.post(url).body("40"),
        "UPGRADE" => server
            .http
            .get(url)
            .header("Connection", "Upgrade")
            .header("Upgrade", "websocket")
            .header("Sec-WebSocket-Version", "13")
            .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        _ => server.http.get(url),
    };
    let response = request.header("Origin", origin).send().await.unwrap();
    response.status().as_u16()
}

#[tokio::test]
async fn regression_a_foreign_origin_is_refused_on_every_path_and_transport_the_layer_serves() {
    // The guard used to cover `/socket.io/` only; the layer also answers
    // `/socket.io?EIO=4…`, where a foreign origin went unchecked.
    let server = TestServer::start().await;
    let own = format!("http://{}", server.running.addr());
    for base in ["/socket.io/", "/socket.io"] {
        let polling = format!("{base}?EIO=4&transport=polling");
        let post = format!("{base}?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA");
        let websocket = format!("{base}?EIO=4&transport=websocket");
        for (method, path) in [("GET", &polling), ("POST", &post), ("UPGRADE", &websocket)] {
            let status = from_origin(&server, method, path, "https://evil.example").await;
            assert_eq!(status, 403, "{method} {path}");
        }
        // The same requests from the app's own origin reach the layer.
        assert_eq!(
            from_origin(&server, "GET", &polling, &own).await,
            200,
            "{polling}"
        );
        let upgraded = from_origin(&server, "UPGRADE", &websocket, &own).await;
        assert_eq!(upgraded, 101, "{websocket}");
    }
}

#[tokio::test]
async fn own_and_allowed_origins_pass() {
    let server = TestServer::start_with(|s| {
        s.allowed_origins = vec!["https://app.example".to_owned()];
    })
    .await;
    let own = format!("http://{}", server.running.addr());
    for origin in [own.as_str(), "https://app.example"] {
        let response = server
            .http
            .get(server.url(HANDSHAKE))
            .header("Origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{origin}");
    }
}

/// Whether the socket `sid` is closed (a DISCONNECT packet, or its session
/// gone) within `within`.
async fn closed_within(server: &TestServer, sid: &str, within: Duration) -> bool {
    tokio::time::timeout(within, async {
        loop {
            let (status, packets) = poll(server, sid).await;
            if status == 400 || packets.iter().any(|p| p == "41") {
                return;
            }
        }
    })
    .await
    .is_ok()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A token for `user` at token `version` that expires `left` seconds from now.
fn token_expiring(server: &TestServer, user: &str, version: u32, left: u64) -> String {
    let secrets = ServerSecrets::load_or_create(server.data.path(), None).unwrap();
    // Issued a minute ago, so it is valid now (`nbf`) whatever `left` is.
    let issued = unix_now() - 60;
    token::issue(
        secrets.token_key(),
        user.parse().unwrap(),
        version,
        issued,
        60 + left,
    )
}

#[tokio::test]
async fn regression_a_socket_is_closed_when_its_token_expires() {
    let server = TestServer::start_for_accounts().await;
    let alice = server.sign_up("alice", PASSWORD).await;
    let mut lasting = Live::connect(&server, &alice.token).await;
    let short = token_expiring(&server, &alice.id, 0, 2);
    let sid = open(&server).await;
    let packets = connect(&server, &sid, Some(json!({"token": short}))).await;
    assert!(
        packets.iter().any(|p| p.starts_with("40{")),
        "admitted while its token lasts: {packets:?}"
    );
    let within = Duration::from_secs(2) + EXPIRY_SWEEP + Duration::from_secs(3);
    assert!(
        closed_within(&server, &sid, within).await,
        "closed once its token expired"
    );
    // A socket whose token lasts is left alone by the same sweeps.
    let answer = lasting
        .ask(
            "leave-conversation",
            json!("0192f0c5-1d3e-7a40-b5c6-d7e8f9a0b1c2"),
        )
        .await;
    assert_eq!(answer, json!({"ok": true}));
}

#[tokio::test]
async fn regression_a_logout_during_the_handshake_still_closes_the_socket() {
    let server = TestServer::start_for_accounts().await;
    let alice = server.sign_up("alice", PASSWORD).await;
    let id: hush::model::ids::UserId = alice.id.parse().unwrap();
    for round in 0..20 {
        let user = server
            .running
            .store()
            .user_by_id(id)
            .await
            .unwrap()
            .unwrap();
        let token = token_expiring(&server, &alice.id, user.token_version, 600);
        let sid = open(&server).await;
        let auth = Some(json!({"token": token}));
        let (packets, out) = tokio::join!(
            connect(&server, &sid, auth),
            server.post("logout", json!({}), Some(&token)),
        );
        assert_eq!(out.status(), 200, "round {round}");
        // Whichever came first, the socket does not stay connected.
        if connect_error(&packets).is_some() {
            continue;
        }
        assert!(
            packets.iter().any(|p| p == "41")
                || closed_within(&server, &sid, Duration::from_secs(5)).await,
            "round {round}: a socket outlived its logout: {packets:?}"
        );
    }
}

#[tokio::test]
async fn regression_a_refused_handshake_leaves_no_room_entry_behind() {
    let server = TestServer::start_for_accounts().await;
    let alice = server.sign_up("alice", PASSWORD).await;
    // Her session is in the short cache; then the store goes away. The
    // handshake passes the session check, joins her room, and is refused
    // when her conversations cannot be listed.
    let looked_up = server
        .post(
            "users/lookup",
            json!({"username": "alice"}),
            Some(&alice.token),
        )
        .await;
    assert_eq!(looked_up.status(), 200);
    server.running.store().close().await;
    let refused = refusal(&server, Some(json!({"token": alice.token}))).await;
    assert_eq!(refused.as_deref(), Some("store_unavailable"));
    let rooms = server.running.io().rooms().await.unwrap();
    assert!(rooms.is_empty(), "rooms left behind: {rooms:?}");
}

#[tokio::test]
async fn an_unknown_event_gets_an_error_ack() {
    let server = TestServer::start_for_accounts().await;
    let alice = server.sign_up("alice", PASSWORD).await;
    let mut live = Live::connect(&server, &alice.token).await;
    let answer = live.ask("no-such-event", json!({"x": 1})).await;
    assert_eq!(answer, json!({"error": "invalid_request"}));
    // The socket goes on as before.
    let left = live
        .ask(
            "leave-conversation",
            json!("0192f0c5-1d3e-7a40-b5c6-d7e8f9a0b1c2"),
        )
        .await;
    assert_eq!(left, json!({"ok": true}));
}

#[tokio::test]
async fn a_user_holds_at_most_sockets_per_user_sockets() {
    let server = TestServer::start_with(|s| {
        s.kdf_min_iterations = crate::util::TEST_ITERATIONS;
        s.sockets_per_user = 2;
    })
    .await;
    let alice = server.sign_up("alice", PASSWORD).await;
    let bob = server.sign_up("bob", PASSWORD).await;
    let first = Live::connect(&server, &alice.token).await;
    let _second = Live::connect(&server, &alice.token).await;
    let third = Live::try_connect(&server, Some(&alice.token)).await;
    assert_eq!(third.err().as_deref(), Some("too_many_sockets"));
    // Another user is not counted against her.
    let _bob = Live::connect(&server, &bob.token).await;
    // One closed, one more is admitted.
    first.close().await;
    let mut admitted = false;
    for _ in 0..50 {
        if Live::try_connect(&server, Some(&alice.token)).await.is_ok() {
            admitted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(admitted, "a slot came free once a socket closed");
}
