//! Abuse limits (#17 item 8): rates per user on sends, lookups and creates
//! (429 `rate_limited` with `Retry-After`), events per socket (an error
//! ack), Socket.IO handshakes per address, conversations per user, the
//! list in pages, and request bodies bounded in size (413 with the
//! endpoint's code) and in time (408). Each test sets the limit it checks;
//! every other test server runs with the rates out of reach.

use std::collections::HashSet;
use std::time::Duration;

use hush::server::rate::Rate;
use hush::server::settings::Settings;
use hush::server::store::LIST_PAGE;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::chat::{self, create, seal, send};
use crate::live::{Live, POLLING};
use crate::util::{TEST_ITERATIONS, TestServer, assert_rate_limited};

const PASSWORD: &str = "correct horse battery staple";

/// A server for accounts made by the test (`TEST_ITERATIONS`), with one
/// limit adjusted.
async fn server_with(adjust: impl FnOnce(&mut Settings)) -> TestServer {
    TestServer::start_with(|s| {
        s.kdf_min_iterations = TEST_ITERATIONS;
        adjust(s);
    })
    .await
}

/// A rate with a burst of `burst` (a quarter minute's worth).
fn burst_of(burst: u32) -> Rate {
    Rate {
        per_minute: burst * 4,
    }
}

#[tokio::test]
async fn sends_past_the_rate_are_429_per_user() {
    let server = server_with(|s| s.sends_per_minute = burst_of(2)).await;
    let ana = server.sign_up("ana", PASSWORD).await;
    let ben = server.sign_up("ben", PASSWORD).await;
    let chat = create(&server, &ana, &[&ana, &ben], None).await;
    let ck = chat::accept(&chat.wire, &ben);
    for i in 0..2 {
        let (status, answer) = send(&server, &ana, &seal(&chat.id, &chat.ck, &ana, "hi")).await;
        assert_eq!(status, 200, "send {i}: {answer}");
    }
    let refused = server
        .post(
            "messages/send",
            seal(&chat.id, &chat.ck, &ana, "one too many"),
            Some(&ana.token),
        )
        .await;
    assert_rate_limited(refused).await;
    // Ben has his own allowance.
    let (status, answer) = send(&server, &ben, &seal(&chat.id, &ck, &ben, "hello")).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn lookups_past_the_rate_are_429() {
    let server = server_with(|s| s.lookups_per_minute = burst_of(1)).await;
    let ana = server.sign_up("ana", PASSWORD).await;
    server.sign_up("ben", PASSWORD).await;
    let first = server
        .post("users/lookup", json!({"username": "ben"}), Some(&ana.token))
        .await;
    assert_eq!(first.status(), 200);
    let second = server
        .post("users/lookup", json!({"username": "ben"}), Some(&ana.token))
        .await;
    assert_rate_limited(second).await;
}

#[tokio::test]
async fn creates_past_the_rate_are_429() {
    let server = server_with(|s| s.creates_per_minute = burst_of(1)).await;
    let ana = server.sign_up("ana", PASSWORD).await;
    let ben = server.sign_up("ben", PASSWORD).await;
    create(&server, &ana, &[&ana, &ben], None).await;
    let (body, _) = chat::create_body(&ana, &[&ana, &ben], None);
    let refused = server
        .post("conversations/create", body, Some(&ana.token))
        .await;
    assert_rate_limited(refused).await;
}

#[tokio::test]
async fn socket_events_past_the_rate_get_an_error_ack_and_the_socket_stays() {
    let server = server_with(|s| s.socket_events_per_minute = burst_of(2)).await;
    let ana = server.sign_up("ana", PASSWORD).await;
    let ben = server.sign_up("ben", PASSWORD).await;
    let chat = create(&server, &ana, &[&ana, &ben], None).await;
    let mut live = Live::connect(&server, &ana.token).await;
    for _ in 0..2 {
        assert_eq!(
            live.ask("join-conversation", json!(chat.id)).await,
            json!({"ok": true})
        );
    }
    assert_eq!(
        live.ask("join-conversation", json!(chat.id)).await,
        json!({"error": "rate_limited"})
    );
    assert_eq!(
        live.ask("no-such-event", json!(1)).await,
        json!({"error": "rate_limited"}),
        "every event counts, known or not"
    );
    // Still connected: a message still arrives.
    let (status, _) = send(&server, &ana, &seal(&chat.id, &chat.ck, &ana, "hi")).await;
    assert_eq!(status, 200);
    live.expect("new-message").await;
}

#[tokio::test]
async fn handshakes_past_the_limit_per_address_are_429() {
    let server = server_with(|s| s.handshakes_per_address = 3).await;
    let mut sids = Vec::new();
    for i in 0..3 {
        let response = server.get(POLLING).await;
        assert_eq!(response.status(), 200, "handshake {i}");
        let body = response.text().await.unwrap();
        let open: Value = serde_json::from_str(&body[1..]).unwrap();
        sids.push(open["sid"].as_str().unwrap().to_owned());
    }
    assert_rate_limited(server.get(POLLING).await).await;
    // Requests of a session already open are not handshakes.
    let polled = server.get(&format!("{POLLING}&sid={}", sids[0])).await;
    assert_eq!(polled.status(), 200);
    // Another address has its own count.
    let elsewhere = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let other = elsewhere.get(server.url(POLLING)).send().await.unwrap();
    assert_eq!(other.status(), 200);
}

#[tokio::test]
async fn a_create_past_conversations_per_user_is_403() {
    let server = server_with(|s| s.conversations_per_user = 2).await;
    let ana = server.sign_up("ana", PASSWORD).await;
    let ben = server.sign_up("ben", PASSWORD).await;
    let cy = server.sign_up("cyd", PASSWORD).await;
    create(&server, &ana, &[&ana, &ben], None).await;
    create(&server, &ana, &[&ana, &cy], None).await;
    let (body, _) = chat::create_body(&ana, &[&ana, &ben, &cy], None);
    let response = server
        .post("conversations/create", body, Some(&ana.token))
        .await;
    assert_eq!(response.status(), 403);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"], "too_many_conversations");
    // Ben may start one, but not with Ana, who is full.
    let (body, _) = chat::create_body(&ben, &[&ben, &ana], None);
    let response = server
        .post("conversations/create", body, Some(&ben.token))
        .await;
    assert_eq!(response.status(), 403);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"], "too_many_conversations");
    assert!(
        error["message"].as_str().unwrap().contains("member_ids[1]"),
        "{error}"
    );
    create(&server, &ben, &[&ben, &cy], None).await;
}

/// Every page of `who`'s list from the start, naming `known` as held.
async fn every_page(server: &TestServer, token: &str, known: &[String]) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let response = server
            .post(
                "conversations/list",
                json!({"known": known, "cursor": cursor}),
                Some(token),
            )
            .await;
        assert_eq!(response.status(), 200);
        let page: Value = response.json().await.unwrap();
        pages.push(page.clone());
        match page.get("next") {
            Some(next) => cursor = next.clone(),
            None => return pages,
        }
        assert!(pages.len() < 100, "the list does not end");
    }
}

#[tokio::test]
async fn the_list_comes_in_pages_newest_first_each_conversation_once() {
    let server = server_with(|_| {}).await;
    let ana = server.sign_up("ana", PASSWORD).await;
    let ben = server.sign_up("ben", PASSWORD).await;
    let total = LIST_PAGE + 5;
    let mut created = Vec::new();
    for _ in 0..total {
        let (body, _) = chat::create_body(&ana, &[&ana, &ben], None);
        created.push(body["conversation_id"].as_str().unwrap().to_owned());
        let response = server
            .post("conversations/create", body, Some(&ana.token))
            .await;
        assert_eq!(response.status(), 200);
    }
    let pages = every_page(&server, &ana.token, &[]).await;
    assert_eq!(
        pages.len(),
        2,
        "{total} conversations in pages of {LIST_PAGE}"
    );
    assert_eq!(
        pages[0]["conversations"].as_array().unwrap().len(),
        LIST_PAGE
    );
    let listed: Vec<String> = pages
        .iter()
        .flat_map(|p| p["conversations"].as_array().unwrap().clone())
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    let mut newest_first = created.clone();
    newest_first.reverse();
    assert_eq!(listed, newest_first, "each once, newest first");

    // Named as known, they come as heads, in the same pages.
    let pages = every_page(&server, &ana.token, &created).await;
    let heads: HashSet<String> = pages
        .iter()
        .flat_map(|p| p["heads"].as_array().unwrap().clone())
        .map(|h| h["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(heads.len(), total);
    assert!(
        pages
            .iter()
            .all(|p| p["conversations"].as_array().unwrap().is_empty())
    );

    // A cursor that is not an id is refused by name.
    let response = server
        .post(
            "conversations/list",
            json!({"cursor": "not-an-id"}),
            Some(&ana.token),
        )
        .await;
    assert_eq!(response.status(), 400);
}

/// Sends a raw HTTP/1.1 request and reads the answer's status line and body.
async fn raw(server: &TestServer, request: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(server.running.addr()).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("an answer within 10 s")
        .unwrap();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text[9..12].parse().unwrap();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

#[tokio::test]
async fn regression_an_oversized_send_is_always_413_message_too_large() {
    let server = server_with(|s| s.max_message_bytes = 1024).await;
    let ana = server.sign_up("ana", PASSWORD).await;
    let ben = server.sign_up("ben", PASSWORD).await;
    let chat = create(&server, &ana, &[&ana, &ben], None).await;
    // Just over the ciphertext limit: the handler's check.
    let mut body = seal(&chat.id, &chat.ck, &ana, "x");
    body["ciphertext"] = json!(hush::model::encoding::b64(&[7u8; 1025]));
    let (status, answer) = send(&server, &ana, &body).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (413, Some("message_too_large"))
    );
    // Far over it: the body limit, before anything is decoded.
    body["ciphertext"] = json!(hush::model::encoding::b64(&vec![7u8; 1 << 20]));
    let (status, answer) = send(&server, &ana, &body).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (413, Some("message_too_large"))
    );
    // Declared too big: refused before it is read.
    let request = format!(
        "POST /api/messages/send HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         authorization: Bearer {}\r\ncontent-length: 100000000\r\nconnection: close\r\n\r\n{{",
        ana.token
    );
    let (status, answer) = raw(&server, request.as_bytes()).await;
    assert_eq!(status, 413, "{answer}");
    assert!(answer.contains("message_too_large"), "{answer}");
}

#[tokio::test]
async fn regression_any_other_body_is_bounded_too() {
    let server = server_with(|_| {}).await;
    let big = "x".repeat(64 * 1024);
    let response = server
        .post("login", json!({"username": big, "auth_key": "AAAA"}), None)
        .await;
    assert_eq!(response.status(), 413);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"], "request_too_large");
}

#[tokio::test]
async fn regression_a_body_that_trickles_is_408_after_the_body_timeout() {
    let server = server_with(|s| s.body_timeout = Duration::from_secs(1)).await;
    let mut stream = TcpStream::connect(server.running.addr()).await.unwrap();
    stream
        .write_all(
            b"POST /api/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
              content-length: 100\r\n\r\n{\"username\":",
        )
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    let mut answer = vec![0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("an answer within 10 s")
        .unwrap();
    let text = String::from_utf8_lossy(&answer[..read]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("request_timeout"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(5));
}
