//! Socket.IO delivery: a stored message reaches every member's live socket
//! at once (`new-message`, after the commit) and no one else's; a socket
//! joins the rooms of its user's conversations at connect, and of a new
//! conversation the moment it is created (`conversation-added`); joins are
//! for members only; a repeated send is not broadcast twice.

use std::time::Duration;

use serde_json::{Value, json};

use crate::chat::{self, open, seal, send};
use crate::live::Live;
use crate::util::{Account, TestServer};

const QUIET: Duration = Duration::from_millis(800);

async fn users(server: &TestServer, names: &[&str]) -> Vec<Account> {
    let mut all = Vec::new();
    for name in names {
        all.push(server.sign_up(name, "correct horse battery staple").await);
    }
    all
}

#[tokio::test]
async fn a_member_online_before_the_conversation_existed_gets_it_and_its_messages() {
    let server = TestServer::start_for_accounts().await;
    let [hi, lo] = <[Account; 2]>::try_from(users(&server, &["hi89", "lo89"]).await).unwrap();
    let mut lo_live = Live::connect(&server, &lo.token).await;
    let mut hi_live = Live::connect(&server, &hi.token).await;

    let chat = chat::create(&server, &hi, &[&hi, &lo], None).await;
    let added = lo_live.expect("conversation-added").await;
    assert_eq!(added, chat.wire, "the conversation as create answered it");
    let ck = chat::accept(&added, &lo);

    let (status, sent) = send(
        &server,
        &hi,
        &seal(&chat.id, &chat.ck, &hi, "hello from hi89"),
    )
    .await;
    assert_eq!(status, 200);
    let pushed = lo_live.expect("new-message").await;
    let fields: Vec<&str> = pushed
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "ciphertext",
        "conversation_id",
        "created_at",
        "epoch",
        "id",
        "nonce",
        "sender",
        "sender_id",
        "seq",
        "signature",
    ];
    expected.sort_unstable();
    assert_eq!(fields, expected, "exactly the contract's fields");
    assert_eq!(pushed["seq"], sent["seq"]);
    assert_eq!(pushed["created_at"], sent["created_at"]);
    assert_eq!(pushed["sender"], "hi89");
    assert_eq!(open(&pushed, &ck, &hi.sig_public), "hello from hi89");

    // The sender's own sockets get it too (their other tabs and devices).
    hi_live.expect("conversation-added").await;
    assert_eq!(hi_live.expect("new-message").await["id"], pushed["id"]);

    // The reply comes back the same way.
    send(&server, &lo, &seal(&chat.id, &ck, &lo, "hi back")).await;
    let reply = hi_live.expect("new-message").await;
    assert_eq!(open(&reply, &chat.ck, &lo.sig_public), "hi back");
    assert_eq!(reply["seq"], 2);
}

#[tokio::test]
async fn a_socket_that_connects_later_is_in_its_rooms_without_joining() {
    let server = TestServer::start_for_accounts().await;
    let [hi, lo] = <[Account; 2]>::try_from(users(&server, &["hi89", "lo89"]).await).unwrap();
    let chat = chat::create(&server, &hi, &[&hi, &lo], None).await;
    let mut lo_live = Live::connect(&server, &lo.token).await;
    send(
        &server,
        &hi,
        &seal(&chat.id, &chat.ck, &hi, "are you there"),
    )
    .await;
    let pushed = lo_live.expect("new-message").await;
    assert_eq!(open(&pushed, &chat.ck, &hi.sig_public), "are you there");
}

#[tokio::test]
async fn a_non_member_cannot_join_and_hears_nothing() {
    let server = TestServer::start_for_accounts().await;
    let [hi, lo, eve] =
        <[Account; 3]>::try_from(users(&server, &["hi89", "lo89", "eve"]).await).unwrap();
    let chat = chat::create(&server, &hi, &[&hi, &lo], None).await;
    let mut eve_live = Live::connect(&server, &eve.token).await;
    let mut lo_live = Live::connect(&server, &lo.token).await;

    assert_eq!(
        eve_live.ask("join-conversation", json!(chat.id)).await,
        json!({"error": "not_a_member"})
    );
    assert_eq!(
        eve_live.ask("join-conversation", json!("not an id")).await,
        json!({"error": "invalid_request"})
    );
    assert_eq!(
        lo_live.ask("join-conversation", json!(chat.id)).await,
        json!({"ok": true})
    );

    send(&server, &hi, &seal(&chat.id, &chat.ck, &hi, "secret plans")).await;
    lo_live.expect("new-message").await;
    eve_live.expect_silence(QUIET).await;

    // Leaving a room stops its pushes; joining again brings them back.
    assert_eq!(
        lo_live.ask("leave-conversation", json!(chat.id)).await,
        json!({"ok": true})
    );
    send(&server, &hi, &seal(&chat.id, &chat.ck, &hi, "while away")).await;
    lo_live.expect_silence(QUIET).await;
    lo_live.ask("join-conversation", json!(chat.id)).await;
    send(&server, &hi, &seal(&chat.id, &chat.ck, &hi, "welcome back")).await;
    assert_eq!(lo_live.expect("new-message").await["seq"], 3);
    eve_live.expect_silence(QUIET).await;
}

#[tokio::test]
async fn a_repeated_send_is_broadcast_once() {
    let server = TestServer::start_for_accounts().await;
    let [hi, lo] = <[Account; 2]>::try_from(users(&server, &["hi89", "lo89"]).await).unwrap();
    let chat = chat::create(&server, &hi, &[&hi, &lo], None).await;
    let mut lo_live = Live::connect(&server, &lo.token).await;
    let body = seal(&chat.id, &chat.ck, &hi, "just once");
    for _ in 0..3 {
        let (status, answer) = send(&server, &hi, &body).await;
        assert_eq!((status, answer["seq"].clone()), (200, Value::from(1)));
    }
    lo_live.expect("new-message").await;
    lo_live.expect_silence(QUIET).await;
}

#[tokio::test]
async fn a_refused_send_is_not_broadcast() {
    let server = TestServer::start_with(|s| {
        s.kdf_min_iterations = crate::util::TEST_ITERATIONS;
        s.max_message_bytes = 256;
    })
    .await;
    let [hi, lo] = <[Account; 2]>::try_from(users(&server, &["hi89", "lo89"]).await).unwrap();
    let chat = chat::create(&server, &hi, &[&hi, &lo], None).await;
    let mut lo_live = Live::connect(&server, &lo.token).await;
    let (status, _) = send(
        &server,
        &hi,
        &seal(&chat.id, &chat.ck, &hi, &"x".repeat(400)),
    )
    .await;
    assert_eq!(status, 413);
    lo_live.expect_silence(QUIET).await;
}
