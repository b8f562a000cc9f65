//! `/api/conversations/*`: a conversation made by one browser can be
//! checked and used by every member's browser; bad member and key sets are
//! refused with the field named; a retried create is idempotent.

use hush::model::conversation::{MAX_KNOWN, MAX_MEMBERS};
use hush::model::encoding::b64;
use hush::model::ids::ConversationId;
use serde_json::{Value, json};

use crate::chat::{self, create_body};
use crate::util::{Account, TestServer};

async fn three(server: &TestServer) -> (Account, Account, Account) {
    let password = "correct horse battery staple";
    (
        server.sign_up("hi89", password).await,
        server.sign_up("lo89", password).await,
        server.sign_up("mid89", password).await,
    )
}

async fn list(server: &TestServer, who: &Account) -> Vec<Value> {
    let response = server
        .post("conversations/list", json!({}), Some(&who.token))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["conversations"].as_array().unwrap().clone()
}

async fn refused(server: &TestServer, who: &Account, body: Value) -> (u16, String, String) {
    let response = server
        .post("conversations/create", body, Some(&who.token))
        .await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
        body["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn every_member_can_check_and_unwrap_the_key_and_nobody_else_sees_it() {
    let server = TestServer::start_for_accounts().await;
    let (hi, lo, mid) = three(&server).await;
    // An emoji sequence (zero-width joiners) is part of a title.
    let title = "Weekend plans \u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}";
    let group = chat::create(
        &server,
        &hi,
        &[&hi, &lo, &mid],
        Some(&format!("  {title} ")),
    )
    .await;
    assert_eq!(group.wire["title"], title);
    assert_eq!(group.wire["created_by"], hi.id.as_str());
    assert_eq!(group.wire["last_seq"], 0);
    let names: Vec<&str> = group.wire["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["hi89", "lo89", "mid89"]);

    for member in [&hi, &lo, &mid] {
        let listed = list(&server, member).await;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0], group.wire, "list gives what create gave");
        let ck = chat::accept(&listed[0], member);
        assert_eq!(ck.ck.expose(), group.ck.ck.expose());
        assert_eq!(ck.head, group.ck.head);
    }

    let pair = chat::create(&server, &lo, &[&lo, &mid], None).await;
    assert_eq!(pair.wire["title"], Value::Null);
    let outsider = list(&server, &hi).await;
    assert_eq!(
        outsider.len(),
        1,
        "hi89 does not see lo89 and mid89's conversation"
    );
    let listed = list(&server, &mid).await;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["id"], pair.id.as_str(), "newest activity first");
}

#[tokio::test]
async fn a_retried_create_answers_the_same_conversation_and_a_taken_id_is_a_conflict() {
    let server = TestServer::start_for_accounts().await;
    let (hi, lo, mid) = three(&server).await;
    let (body, _) = create_body(&hi, &[&hi, &lo], None);
    let first = server
        .post("conversations/create", body.clone(), Some(&hi.token))
        .await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    let again = server
        .post("conversations/create", body.clone(), Some(&hi.token))
        .await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(list(&server, &lo).await.len(), 1);

    let mut hijack = create_body(&mid, &[&mid, &lo], None).0;
    hijack["conversation_id"] = body["conversation_id"].clone();
    let (status, code, _) = refused(&server, &mid, hijack).await;
    assert_eq!((status, code.as_str()), (409, "id_conflict"));
}

#[tokio::test]
async fn bad_member_and_key_sets_are_refused_naming_the_field() {
    let server = TestServer::start_for_accounts().await;
    let (hi, lo, mid) = three(&server).await;
    let good = || create_body(&hi, &[&hi, &lo], None).0;

    let mut without_me = create_body(&hi, &[&lo, &mid], None).0;
    without_me["member_ids"] = json!([lo.id, mid.id]);
    let (status, code, message) = refused(&server, &hi, without_me).await;
    assert_eq!((status, code.as_str()), (400, "invalid_request"));
    assert!(message.starts_with("member_ids:"), "{message}");

    let mut alone = good();
    alone["member_ids"] = json!([hi.id]);
    alone["keys"] = json!([alone["keys"][0]]);
    let (status, _, message) = refused(&server, &hi, alone).await;
    assert_eq!(status, 400);
    assert!(message.starts_with("member_ids:"), "{message}");

    let mut twice = good();
    twice["member_ids"] = json!([hi.id, lo.id, lo.id]);
    let (status, _, message) = refused(&server, &hi, twice).await;
    assert_eq!(status, 400);
    assert!(message.contains("twice"), "{message}");

    let mut missing_key = good();
    missing_key["keys"] = json!([missing_key["keys"][0]]);
    let (status, _, message) = refused(&server, &hi, missing_key).await;
    assert_eq!(status, 400);
    assert!(message.starts_with("keys:"), "{message}");

    let mut foreign_key = good();
    foreign_key["keys"][1]["member_id"] = json!(mid.id);
    let (status, _, message) = refused(&server, &hi, foreign_key).await;
    assert_eq!(status, 400);
    assert!(message.starts_with("keys[1].member_id:"), "{message}");

    let mut short_key = good();
    short_key["keys"][1]["wrapped_key"] = json!("AAAA");
    let (status, code, message) = refused(&server, &hi, short_key).await;
    assert_eq!((status, code.as_str()), (400, "invalid_encoding"));
    assert!(message.starts_with("keys[1].wrapped_key:"), "{message}");

    let mut bad_signature = good();
    bad_signature["keys_signature"] = json!("AAAA");
    let (status, code, message) = refused(&server, &hi, bad_signature).await;
    assert_eq!((status, code.as_str()), (400, "invalid_encoding"));
    assert!(message.starts_with("keys_signature:"), "{message}");

    let mut later_epoch = good();
    later_epoch["epoch"] = json!(1);
    let (status, _, message) = refused(&server, &hi, later_epoch).await;
    assert_eq!(status, 400);
    assert!(message.starts_with("epoch:"), "{message}");

    let mut nobody = good();
    let ghost = hush::model::ids::UserId::new().to_string();
    nobody["member_ids"][1] = json!(ghost);
    nobody["keys"][1]["member_id"] = json!(ghost);
    let (status, code, message) = refused(&server, &hi, nobody).await;
    assert_eq!((status, code.as_str()), (404, "not_found"));
    assert!(message.starts_with("member_ids[1]:"), "{message}");

    let mut crowd = good();
    let ids: Vec<String> = std::iter::once(hi.id.clone())
        .chain((0..MAX_MEMBERS).map(|_| hush::model::ids::UserId::new().to_string()))
        .collect();
    crowd["member_ids"] = json!(ids);
    crowd["keys"] = ids
        .iter()
        .map(|id| json!({"member_id": id, "wrapped_key": b64(&[7; 125])}))
        .collect();
    let (status, _, message) = refused(&server, &hi, crowd).await;
    assert_eq!(status, 400);
    let limit = format!("member_ids: at most {MAX_MEMBERS} members");
    assert!(message.starts_with(&limit), "{message}");

    let mut long_title = good();
    long_title["title"] = json!("x".repeat(101));
    let (status, _, message) = refused(&server, &hi, long_title).await;
    assert_eq!(status, 400);
    assert!(message.starts_with("title:"), "{message}");

    // A right-to-left override would make "plans\u{202E}gpj.exe" read as
    // something else: regression, titles refuse Unicode format characters.
    let mut disguised = good();
    disguised["title"] = json!("plans\u{202E}gpj.exe");
    let (status, code, message) = refused(&server, &hi, disguised).await;
    assert_eq!((status, code.as_str()), (400, "invalid_request"));
    assert!(message.starts_with("title:"), "{message}");

    let mut bad_id = good();
    bad_id["conversation_id"] = json!("NOT-A-UUID");
    let (status, code, message) = refused(&server, &hi, bad_id).await;
    assert_eq!((status, code.as_str()), (400, "invalid_request"));
    assert!(message.contains("conversation_id"), "{message}");

    let anonymous = server.post("conversations/create", good(), None).await;
    assert_eq!(anonymous.status(), 401);
    let anonymous = server.post("conversations/list", json!({}), None).await;
    assert_eq!(anonymous.status(), 401);

    assert!(list(&server, &hi).await.is_empty(), "nothing was stored");
}

#[tokio::test]
async fn a_list_naming_held_conversations_answers_those_as_heads_and_reveals_no_other() {
    let server = TestServer::start_for_accounts().await;
    let (hi, lo, mid) = three(&server).await;
    let pair = chat::create(&server, &hi, &[&hi, &lo], None).await;
    let group = chat::create(&server, &hi, &[&hi, &lo, &mid], Some("Group")).await;
    chat::send_numbered(&server, &hi, &pair.id, &pair.ck, 1..=2).await;
    let theirs = chat::create(&server, &lo, &[&lo, &mid], None).await;
    let nothing = ConversationId::new().to_string();
    let listed = |known: Value| {
        let (server, token) = (&server, hi.token.clone());
        async move {
            let response = server
                .post(
                    "conversations/list",
                    json!({ "known": known }),
                    Some(&token),
                )
                .await;
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };

    // Held: the pair (and ids that are not hi's, which change nothing).
    let answer = listed(json!([pair.id, theirs.id, nothing])).await;
    let full = answer["conversations"].as_array().unwrap();
    assert_eq!(full.len(), 1, "{answer}");
    assert_eq!(full[0], group.wire, "the rest comes in full");
    assert_eq!(
        answer["heads"],
        json!([{"id": pair.id, "last_seq": 2, "epoch": 0}])
    );

    // Everything held: heads only, newest conversation first.
    let answer = listed(json!([group.id, pair.id])).await;
    assert_eq!(answer["conversations"], json!([]));
    assert_eq!(
        answer["heads"],
        json!([
            {"id": group.id, "last_seq": 0, "epoch": 0},
            {"id": pair.id, "last_seq": 2, "epoch": 0}
        ])
    );

    // Nothing held, or `known` left out: everything in full.
    for answer in [listed(json!([])).await, {
        let response = server
            .post("conversations/list", json!({}), Some(&hi.token))
            .await;
        response.json::<Value>().await.unwrap()
    }] {
        let ids: Vec<&str> = answer["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [group.id.as_str(), pair.id.as_str()]);
        assert_eq!(answer["heads"], json!([]));
    }
}

#[tokio::test]
async fn a_list_with_a_bad_or_oversized_known_is_refused_naming_it() {
    let server = TestServer::start_for_accounts().await;
    let (hi, _, _) = three(&server).await;
    let post = |body: Value| {
        let (server, token) = (&server, hi.token.clone());
        async move {
            let response = server.post("conversations/list", body, Some(&token)).await;
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            (
                status,
                body["error"].as_str().unwrap_or_default().to_owned(),
                body["message"].as_str().unwrap_or_default().to_owned(),
            )
        }
    };
    let (status, code, message) = post(json!({"known": ["NOT-A-UUID"]})).await;
    assert_eq!((status, code.as_str()), (400, "invalid_request"));
    assert!(message.contains("known[0]: expected"), "{message}");

    let many: Vec<String> = (0..=MAX_KNOWN)
        .map(|_| ConversationId::new().to_string())
        .collect();
    let (status, code, message) = post(json!({ "known": many })).await;
    assert_eq!((status, code.as_str()), (400, "invalid_request"));
    assert!(message.starts_with("known: at most"), "{message}");
}
