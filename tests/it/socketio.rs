//! Socket.IO is mounted at `/socket.io/` on the same router: the Engine.IO v4
//! handshake works, a connect without a valid session is refused with a
//! `connect_error`, and browsers from other origins are kept out.

use serde_json::Value;

use crate::util::TestServer;

const HANDSHAKE: &str = "/socket.io/?EIO=4&transport=polling";

/// Opens an Engine.IO session over polling and returns its `sid`.
async fn open(server: &TestServer) -> String {
    let response = server.get(HANDSHAKE).await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    let open = body.strip_prefix('0').expect("an Engine.IO open packet");
    let open: Value = serde_json::from_str(open).unwrap();
    assert_eq!(open["upgrades"], serde_json::json!(["websocket"]));
    assert!(open["pingInterval"].as_u64().unwrap() > 0);
    open["sid"].as_str().expect("a session id").to_owned()
}

#[tokio::test]
async fn engine_io_handshake_answers_with_a_session() {
    let server = TestServer::start().await;
    let sid = open(&server).await;
    assert!(!sid.is_empty());
}

#[tokio::test]
async fn a_connect_without_a_session_is_refused() {
    let server = TestServer::start().await;
    let sid = open(&server).await;
    let url = server.url(&format!("{HANDSHAKE}&sid={sid}"));
    // The Socket.IO CONNECT packet for namespace "/" with no auth.
    let posted = server.http.post(&url).body("40").send().await.unwrap();
    assert_eq!(posted.status(), 200);
    let reply = server
        .http
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // A polling payload holds packets separated by U+001E (a ping may come
    // first). 4 = Engine.IO message, 4 = Socket.IO CONNECT_ERROR.
    let error = reply
        .split('\u{1e}')
        .find_map(|packet| packet.strip_prefix("44"))
        .unwrap_or_else(|| panic!("no CONNECT_ERROR in {reply:?}"));
    let error: Value = serde_json::from_str(error).unwrap();
    assert_eq!(error["message"], "unauthorized");
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
