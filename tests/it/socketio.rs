//! Socket.IO is mounted at `/socket.io/` on the same router: the Engine.IO v4
//! handshake works, a connect without a valid session is refused with a
//! `connect_error`, and browsers from other origins are kept out.

use serde_json::Value;

use crate::util::TestServer;

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
