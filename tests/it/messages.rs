//! `/api/messages/*`: a sealed message gets the conversation's next `seq`
//! and every member can verify and open it; sends are idempotent by id;
//! size, membership, epoch and encoding are enforced; history pages by
//! `seq` in both directions.

use serde_json::{Value, json};

use crate::chat::{self, history, open, seal, seal_with_id, send};
use crate::util::{Account, TestServer};

async fn pair(server: &TestServer) -> (Account, Account, chat::Chat) {
    let password = "correct horse battery staple";
    let hi = server.sign_up("hi89", password).await;
    let lo = server.sign_up("lo89", password).await;
    let chat = chat::create(server, &hi, &[&hi, &lo], None).await;
    (hi, lo, chat)
}

fn seqs(page: &Value) -> Vec<u64> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn messages_get_gap_free_seqs_and_the_other_member_opens_them() {
    let server = TestServer::start_for_accounts().await;
    let (hi, lo, chat) = pair(&server).await;
    let (status, first) = send(&server, &hi, &seal(&chat.id, &chat.ck, &hi, "hello lo")).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["seq"], 1);
    assert!(first["created_at"].as_str().unwrap().ends_with('Z'));
    let (_, second) = send(&server, &lo, &seal(&chat.id, &chat.ck, &lo, "hi hi")).await;
    assert_eq!(second["seq"], 2);

    let (status, page) = history(
        &server,
        &lo,
        json!({"conversation_id": chat.id, "limit": 50}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(seqs(&page), [1, 2]);
    let messages = page["messages"].as_array().unwrap();
    let ck = chat::accept(&chat.wire, &lo);
    assert_eq!(open(&messages[0], &ck, &hi.sig_public), "hello lo");
    assert_eq!(messages[0]["sender"], "hi89");
    assert_eq!(messages[0]["sender_id"], hi.id.as_str());
    assert_eq!(messages[0]["created_at"], first["created_at"]);
    assert_eq!(open(&messages[1], &ck, &lo.sig_public), "hi hi");

    let listed: Value = server
        .post("conversations/list", json!({}), Some(&hi.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["conversations"][0]["last_seq"], 2);
}

#[tokio::test]
async fn a_repeated_send_is_idempotent_and_a_reused_id_is_a_conflict() {
    let server = TestServer::start_for_accounts().await;
    let (hi, lo, chat) = pair(&server).await;
    let body = seal(&chat.id, &chat.ck, &hi, "once");
    let (_, first) = send(&server, &hi, &body).await;
    let (status, again) = send(&server, &hi, &body).await;
    assert_eq!(status, 200);
    assert_eq!(again, first, "the original seq and time");

    let id = body["message_id"].as_str().unwrap();
    let other_bytes = seal_with_id(&chat.id, &chat.ck, &hi, "twice", id);
    let (status, answer) = send(&server, &hi, &other_bytes).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (409, Some("id_conflict"))
    );
    let other_sender = seal_with_id(&chat.id, &chat.ck, &lo, "once", id);
    let (status, _) = send(&server, &lo, &other_sender).await;
    assert_eq!(status, 409);
    let other_chat = chat::create(&server, &hi, &[&hi, &lo], None).await;
    let (status, _) = send(
        &server,
        &hi,
        &seal_with_id(&other_chat.id, &other_chat.ck, &hi, "once", id),
    )
    .await;
    assert_eq!(status, 409);

    let (_, page) = history(
        &server,
        &hi,
        json!({"conversation_id": chat.id, "limit": 200}),
    )
    .await;
    assert_eq!(seqs(&page), [1], "one row");
}

#[tokio::test]
async fn an_oversized_message_is_refused_with_413_and_the_limit_is_a_setting() {
    let server = TestServer::start_with(|s| {
        s.kdf_min_iterations = crate::util::TEST_ITERATIONS;
        s.max_message_bytes = 1024;
    })
    .await;
    let (hi, _lo, chat) = pair(&server).await;
    // The tag (16 bytes), the JSON around the text (under 100) and the
    // padding to the next 64 bytes (under 64) on top of the text.
    let fits = "x".repeat(1024 - 16 - 100 - 64);
    let (status, _) = send(&server, &hi, &seal(&chat.id, &chat.ck, &hi, &fits)).await;
    assert_eq!(status, 200);
    let big = "x".repeat(2000);
    let (status, answer) = send(&server, &hi, &seal(&chat.id, &chat.ck, &hi, &big)).await;
    assert_eq!(status, 413);
    assert_eq!(answer["error"], "message_too_large");
    assert!(answer["message"].as_str().unwrap().contains("1024"));
}

#[tokio::test]
async fn only_members_send_and_read() {
    let server = TestServer::start_for_accounts().await;
    let (hi, _lo, chat) = pair(&server).await;
    let eve = server.sign_up("eve", "correct horse battery staple").await;
    let (status, answer) = send(&server, &eve, &seal(&chat.id, &chat.ck, &eve, "let me in")).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (403, Some("not_a_member"))
    );
    let (status, answer) = history(
        &server,
        &eve,
        json!({"conversation_id": chat.id, "limit": 10}),
    )
    .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (403, Some("not_a_member"))
    );
    let nowhere = hush::model::ids::ConversationId::new().to_string();
    let (status, _) = send(&server, &hi, &seal(&nowhere, &chat.ck, &hi, "void")).await;
    assert_eq!(status, 403, "an unknown conversation looks like any other");
    let anonymous = server
        .post("messages/send", seal(&chat.id, &chat.ck, &hi, "x"), None)
        .await;
    assert_eq!(anonymous.status(), 401);
    let (_, page) = history(
        &server,
        &hi,
        json!({"conversation_id": chat.id, "limit": 10}),
    )
    .await;
    assert!(seqs(&page).is_empty());
}

#[tokio::test]
async fn bad_fields_are_refused_naming_them() {
    let server = TestServer::start_for_accounts().await;
    let (hi, _lo, chat) = pair(&server).await;
    let good = || seal(&chat.id, &chat.ck, &hi, "x");
    for (field, value, status, code) in [
        ("nonce", json!("AAAA"), 400, "invalid_encoding"),
        ("signature", json!("AAAA"), 400, "invalid_encoding"),
        ("ciphertext", json!("AA=="), 400, "invalid_encoding"),
        ("ciphertext", json!("AAAA"), 400, "invalid_encoding"),
        ("epoch", json!(1), 400, "stale_epoch"),
        ("epoch", json!("0"), 400, "invalid_request"),
        ("message_id", json!("0192"), 400, "invalid_request"),
    ] {
        let mut body = good();
        body[field] = value.clone();
        let (got, answer) = send(&server, &hi, &body).await;
        assert_eq!(
            (got, answer["error"].as_str().unwrap()),
            (status, code),
            "{field} = {value}: {answer}"
        );
        assert!(
            answer["message"].as_str().unwrap().contains(field),
            "{field}: {answer}"
        );
    }
    let (_, page) = history(
        &server,
        &hi,
        json!({"conversation_id": chat.id, "limit": 10}),
    )
    .await;
    assert!(seqs(&page).is_empty(), "nothing was stored");
}

#[tokio::test]
async fn history_pages_both_ways_with_exclusive_bounds() {
    let server = TestServer::start_for_accounts().await;
    let (hi, lo, chat) = pair(&server).await;
    chat::send_numbered(&server, &hi, &chat.id, &chat.ck, 1..=7).await;
    let page = |body: Value| {
        let server = &server;
        let lo = &lo;
        async move {
            let (status, page) = history(server, lo, body).await;
            assert_eq!(status, 200, "{page}");
            seqs(&page)
        }
    };
    let id = chat.id.as_str();
    assert_eq!(
        page(json!({"conversation_id": id, "limit": 3})).await,
        [5, 6, 7]
    );
    assert_eq!(
        page(json!({"conversation_id": id, "before_seq": 5, "limit": 3})).await,
        [2, 3, 4]
    );
    assert_eq!(
        page(json!({"conversation_id": id, "before_seq": 3, "limit": 3})).await,
        [1, 2]
    );
    assert_eq!(
        page(json!({"conversation_id": id, "after_seq": 2, "limit": 3})).await,
        [3, 4, 5]
    );
    assert_eq!(
        page(json!({"conversation_id": id, "after_seq": 7, "limit": 3})).await,
        Vec::<u64>::new()
    );
    assert_eq!(
        page(json!({"conversation_id": id, "after_seq": 1, "before_seq": 4, "limit": 200})).await,
        [2, 3]
    );
    for limit in [0, 201] {
        let (status, answer) =
            history(&server, &lo, json!({"conversation_id": id, "limit": limit})).await;
        assert_eq!(status, 400);
        assert!(
            answer["message"].as_str().unwrap().starts_with("limit:"),
            "{answer}"
        );
    }
}
