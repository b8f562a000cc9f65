//! `/api/contacts/*`: each user's contact book is one opaque blob that only
//! they read and write, returned byte for byte; a put must name exactly the
//! stored version + 1, so racing browsers cannot overwrite each other; the
//! size limit, the encoding and the session are enforced.

use hush::model::contacts::MAX_BOOK_BYTES;
use hush::model::encoding::{b64, unb64};
use serde_json::{Value, json};

use crate::util::{Account, TestServer, capture_logs, random};

const PASSWORD: &str = "correct horse battery staple";

async fn call(
    server: &TestServer,
    endpoint: &str,
    body: Value,
    token: Option<&str>,
) -> (u16, Value) {
    let response = server.post(endpoint, body, token).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(server: &TestServer, who: &Account) -> (u16, Value) {
    call(server, "contacts/get", json!({}), Some(&who.token)).await
}

pub async fn put(server: &TestServer, who: &Account, version: u64, book: &[u8]) -> (u16, Value) {
    let body = json!({"version": version, "book": b64(book)});
    call(server, "contacts/put", body, Some(&who.token)).await
}

/// The answer is exactly `{version, book}`, and `book` decodes to `bytes`.
fn assert_book(answer: &Value, version: u64, bytes: &[u8]) {
    assert_eq!(answer, &json!({"version": version, "book": b64(bytes)}));
    assert_eq!(unb64(answer["book"].as_str().unwrap()).unwrap(), bytes);
}

/// A 409 `version_conflict` that gives away nothing but its code.
fn assert_conflict((status, error): (u16, Value), what: &str) {
    assert_eq!(
        (status, error["error"].as_str()),
        (409, Some("version_conflict")),
        "{what}: {error}"
    );
    assert_eq!(
        error.as_object().unwrap().len(),
        2,
        "{what}: only error and message: {error}"
    );
}

#[tokio::test]
async fn a_book_round_trips_and_each_put_must_follow_the_stored_version() {
    let server = TestServer::start_for_accounts().await;
    let alice = server.sign_up("alice", PASSWORD).await;

    let (status, none) = get(&server, &alice).await;
    assert_eq!(status, 200, "{none}");
    assert_eq!(none, json!({"version": 0, "book": ""}));

    let first: [u8; 300] = random();
    let (status, answer) = put(&server, &alice, 1, &first).await;
    assert_eq!((status, &answer), (200, &json!({"version": 1})));
    let (status, stored) = get(&server, &alice).await;
    assert_eq!(status, 200);
    assert_book(&stored, 1, &first);

    let other: [u8; 300] = random();
    assert_conflict(put(&server, &alice, 1, &other).await, "version 1 again");
    assert_conflict(put(&server, &alice, 3, &other).await, "a version skipped");
    let (status, error) = put(&server, &alice, 0, &other).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_request")),
        "{error}"
    );
    assert!(
        error["message"].as_str().unwrap().starts_with("version: "),
        "{error}"
    );
    assert_book(&get(&server, &alice).await.1, 1, &first);

    let (status, answer) = put(&server, &alice, 2, &other).await;
    assert_eq!((status, &answer), (200, &json!({"version": 2})));
    assert_book(&get(&server, &alice).await.1, 2, &other);
}

#[tokio::test]
async fn each_user_reads_and_writes_only_their_own_book() {
    let server = TestServer::start_for_accounts().await;
    let alice = server.sign_up("alice", PASSWORD).await;
    let bob = server.sign_up("bob", PASSWORD).await;
    let alices: [u8; 64] = random();
    assert_eq!(put(&server, &alice, 1, &alices).await.0, 200);

    let (status, bobs_view) = get(&server, &bob).await;
    assert_eq!(status, 200);
    assert_eq!(bobs_view, json!({"version": 0, "book": ""}));

    // Bob names the version that would follow Alice's: his own book is
    // empty, so that is a conflict, and hers is untouched.
    let bobs: [u8; 64] = random();
    assert_conflict(
        put(&server, &bob, 2, &bobs).await,
        "bob over alice's version",
    );
    assert_book(&get(&server, &alice).await.1, 1, &alices);

    // His first put makes his own book, and still leaves hers alone.
    let (status, answer) = put(&server, &bob, 1, &bobs).await;
    assert_eq!((status, &answer), (200, &json!({"version": 1})));
    assert_book(&get(&server, &bob).await.1, 1, &bobs);
    assert_book(&get(&server, &alice).await.1, 1, &alices);
}

#[tokio::test]
async fn an_oversized_book_is_refused_and_changes_nothing() {
    let server = TestServer::start_for_accounts().await;
    let alice = server.sign_up("alice", PASSWORD).await;
    let small: [u8; 100] = random();
    assert_eq!(put(&server, &alice, 1, &small).await.0, 200);

    let over = vec![7u8; MAX_BOOK_BYTES + 1];
    let (status, error) = put(&server, &alice, 2, &over).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (413, Some("book_too_large")),
        "{error}"
    );
    assert_book(&get(&server, &alice).await.1, 1, &small);

    // The limit itself is allowed.
    let full = vec![8u8; MAX_BOOK_BYTES];
    let (status, answer) = put(&server, &alice, 2, &full).await;
    assert_eq!((status, &answer), (200, &json!({"version": 2})));
    assert_book(&get(&server, &alice).await.1, 2, &full);
}

#[tokio::test]
async fn without_a_session_both_endpoints_answer_401() {
    let server = TestServer::start_for_accounts().await;
    let alice = server.sign_up("alice", PASSWORD).await;
    let body = json!({"version": 1, "book": b64(&[1; 32])});
    for (endpoint, body, token) in [
        ("contacts/get", json!({}), None),
        ("contacts/put", body.clone(), None),
        ("contacts/get", json!({}), Some("not.a.token")),
        ("contacts/put", body, Some("not.a.token")),
    ] {
        let (status, error) = call(&server, endpoint, body.clone(), token).await;
        assert_eq!(
            (status, error["error"].as_str()),
            (401, Some("unauthorized")),
            "{endpoint} with {token:?}: {error}"
        );
    }
    assert_eq!(
        get(&server, &alice).await.1,
        json!({"version": 0, "book": ""})
    );
}

#[tokio::test]
async fn a_book_that_is_not_base64url_is_invalid_encoding() {
    let server = TestServer::start_for_accounts().await;
    let alice = server.sign_up("alice", PASSWORD).await;
    let valid = b64(&[0xfb, 0xff, 0x01]);
    for bad in ["+/8B", "-_8B=", "not base64!", "a"] {
        let body = json!({"version": 1, "book": bad});
        let (status, error) = call(&server, "contacts/put", body, Some(&alice.token)).await;
        assert_eq!(
            (status, error["error"].as_str()),
            (400, Some("invalid_encoding")),
            "{bad}: {error}"
        );
        assert!(
            error["message"].as_str().unwrap().starts_with("book: "),
            "{bad}: {error}"
        );
    }
    assert_eq!(
        get(&server, &alice).await.1,
        json!({"version": 0, "book": ""})
    );
    // The same body with canonical base64url goes through.
    let body = json!({"version": 1, "book": valid});
    let (status, _) = call(&server, "contacts/put", body, Some(&alice.token)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn fifty_concurrent_puts_of_the_same_version_store_exactly_one() {
    let server = TestServer::start_for_accounts().await;
    let alice = server.sign_up("alice", PASSWORD).await;
    assert_eq!(put(&server, &alice, 1, &[1; 64]).await.0, 200);

    let books: Vec<Vec<u8>> = (0..50u8).map(|i| vec![i + 10; 64]).collect();
    let attempts = books.iter().map(|book| put(&server, &alice, 2, book));
    let answers = futures_util::future::join_all(attempts).await;

    let won: Vec<usize> = (0..50).filter(|&i| answers[i].0 == 200).collect();
    assert_eq!(won.len(), 1, "{answers:?}");
    assert_eq!(answers[won[0]].1, json!({"version": 2}));
    for (i, answer) in answers.into_iter().enumerate() {
        if i != won[0] {
            assert_conflict(answer, &format!("put {i}"));
        }
    }
    assert_book(&get(&server, &alice).await.1, 2, &books[won[0]]);
}

// A current-thread runtime: the server's tasks run on this thread, so the
// thread's default subscriber sees everything they log.
#[tokio::test(flavor = "current_thread")]
async fn the_book_never_reaches_the_log() {
    let (log, _guard) = capture_logs();
    let server = TestServer::start_for_accounts().await;
    let alice = server.sign_up("alice", PASSWORD).await;
    let book: [u8; 600] = random();
    assert_eq!(put(&server, &alice, 1, &book).await.0, 200);
    assert_conflict(put(&server, &alice, 1, &book).await, "a repeat");
    assert_book(&get(&server, &alice).await.1, 1, &book);

    let log = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    assert!(log.contains("contact book stored"), "the capture works");
    let text = b64(&book);
    let hex: String = book.iter().map(|b| format!("{b:02x}")).collect();
    // Any 24 characters of either encoding would be a leak.
    for (name, encoded) in [("base64url", &text), ("hex", &hex)] {
        for start in (0..encoded.len() - 24).step_by(12) {
            assert!(
                !log.contains(&encoded[start..start + 24]),
                "the book in {name} is in the log"
            );
        }
    }
}
