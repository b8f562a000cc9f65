//! Two nodes on one database (PostgreSQL in the suite's PostgreSQL pass,
//! one SQLite file otherwise): sends through both at once into the same
//! conversations are each stored once, numbered gap-free per conversation
//! in one order that both nodes' histories agree on, and a change through
//! one node refuses a send sealed for the old epoch through the other.
//! Each node batches its own sends, so the batches of the two compete for
//! the same conversations' locks.

use std::collections::BTreeSet;

use serde_json::json;

use crate::chat::{self, history, seal, send};
use crate::util::{Client, TestServer, random};

/// The `database_url` nodes on the data directory `shared` share: its
/// PostgreSQL database in the PostgreSQL pass, else a SQLite file in it.
pub fn shared_database(shared: &crate::pg::Data) -> String {
    crate::pg::database_for(shared.path())
        .unwrap_or_else(|| format!("sqlite://{}/shared.db?mode=rwc", shared.path().display()))
}

/// `count` in-process servers sharing one database and one token secret,
/// each also adjusted by `adjust`, and the directory of that database
/// (SQLite's file is in it).
pub async fn nodes(
    count: usize,
    adjust: impl Fn(&mut hush::server::settings::Settings),
) -> (crate::pg::Data, Vec<TestServer>) {
    let shared = crate::pg::Data::new();
    let url = shared_database(&shared);
    let secret = hush::model::encoding::b64(&random::<32>());
    let mut nodes = Vec::new();
    for _ in 0..count {
        let (url, secret) = (url.clone(), secret.clone());
        let adjust = &adjust;
        nodes.push(
            TestServer::start_with(move |s| {
                s.database_url = Some(url);
                s.token_secret = Some(secret);
                s.kdf_min_iterations = crate::util::TEST_ITERATIONS;
                adjust(s);
            })
            .await,
        );
    }
    (shared, nodes)
}

/// Two nodes on one database, each pushing to its own sockets only.
async fn two_nodes() -> (crate::pg::Data, TestServer, TestServer) {
    let (shared, mut nodes) = nodes(2, |_| {}).await;
    let b = nodes.pop().unwrap();
    let a = nodes.pop().unwrap();
    (shared, a, b)
}

#[tokio::test]
async fn sends_through_two_nodes_at_once_are_numbered_gap_free_in_one_order() {
    let (_shared, a, b) = two_nodes().await;
    let password = "correct horse battery staple";
    let ann = a.sign_up("ann31", password).await;
    let bob = b.sign_up("bob31", password).await;
    let cyd = a.sign_up("cyd31", password).await;
    // Three conversations, so that one node's batch spans several and the
    // two nodes' batches lock them in competition.
    let x = chat::create(&a, &ann, &[&ann, &bob, &cyd], None).await;
    let y = chat::create(&b, &bob, &[&bob, &cyd], None).await;
    let z = chat::create(&a, &cyd, &[&cyd, &ann], None).await;

    const EACH: usize = 60;
    let mut sends = Vec::new();
    for i in 0..EACH {
        for (chat, who) in [(&x, &ann), (&x, &bob), (&y, &bob), (&y, &cyd), (&z, &ann)] {
            let node = if i % 2 == 0 { &a } else { &b };
            let body = seal(&chat.id, &chat.ck, who, &format!("{i}"));
            let node = Client {
                base: node.base.clone(),
                http: node.http.clone(),
            };
            let (who, chat_id) = (who.clone(), chat.id.clone());
            sends.push(tokio::spawn(async move {
                let (status, answer) = send(&node, &who, &body).await;
                assert_eq!(status, 200, "{answer}");
                let id = body["message_id"].as_str().unwrap().to_owned();
                (chat_id, id, answer["seq"].as_u64().unwrap())
            }));
        }
    }
    let mut stored: Vec<(String, String, u64)> = Vec::new();
    for send in sends {
        stored.push(send.await.unwrap());
    }
    for (chat, expected) in [(&x, 2 * EACH), (&y, 2 * EACH), (&z, EACH)] {
        let seqs: BTreeSet<u64> = stored
            .iter()
            .filter(|(c, _, _)| *c == chat.id)
            .map(|(_, _, seq)| *seq)
            .collect();
        assert_eq!(
            seqs,
            (1..=expected as u64).collect::<BTreeSet<u64>>(),
            "every send numbered once, without gaps"
        );
        // Both nodes read the same history: the ids at the seqs their sends
        // were answered with.
        let reader = if chat.id == y.id { &bob } else { &ann };
        for node in [&a, &b] {
            let (status, page) = history(
                node,
                reader,
                json!({"conversation_id": chat.id, "after_seq": 0, "limit": 200}),
            )
            .await;
            assert_eq!(status, 200, "{page}");
            let read: Vec<(u64, String)> = page["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    (
                        m["seq"].as_u64().unwrap(),
                        m["id"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            let mut answered: Vec<(u64, String)> = stored
                .iter()
                .filter(|(c, _, _)| *c == chat.id)
                .map(|(_, id, seq)| (*seq, id.clone()))
                .collect();
            answered.sort();
            assert_eq!(read, answered);
        }
    }
}

#[tokio::test]
async fn a_change_through_one_node_refuses_an_old_epoch_send_through_the_other() {
    let (_shared, a, b) = two_nodes().await;
    let password = "correct horse battery staple";
    let ann = a.sign_up("ann32", password).await;
    let bob = a.sign_up("bob32", password).await;
    let cyd = a.sign_up("cyd32", password).await;
    let x = chat::create(&a, &ann, &[&ann, &bob], None).await;
    let (status, _) = send(&b, &bob, &seal(&x.id, &x.ck, &bob, "before")).await;
    assert_eq!(status, 200);
    // ann adds cyd through node a: epoch 1.
    chat::change(&a, &ann, &x.id, &[&ann, &bob, &cyd]).await;
    // bob, not yet told, sends under epoch 0 through node b.
    let (status, answer) = send(&b, &bob, &seal(&x.id, &x.ck, &bob, "stale")).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"], "stale_epoch");
    assert!(
        answer["message"].as_str().unwrap().contains("epoch 1"),
        "{answer}"
    );
}
