//! A property over random histories: whatever sequence of sends, repeated
//! sends, disconnects, reconnects and server restarts happens, every
//! member's final view (a [`Reader`], running the browser's delivery core)
//! equals the stored log: no gap, no duplicate, `seq` order, and every send
//! the server acknowledged is in it exactly once.

use std::collections::HashMap;
use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::chat::{self, history, seal, send};
use crate::reader::Reader;
use crate::util::{Account, TEST_ITERATIONS, TestServer};

#[derive(Debug, Clone)]
enum Op {
    /// Member `who` sends a new message.
    Send { who: usize },
    /// Member `who` sends their last message again (a retry).
    Repeat { who: usize },
    /// Member `who`'s reader goes offline.
    Disconnect { who: usize },
    /// Member `who`'s reader comes back and catches up.
    Reconnect { who: usize },
    /// The server stops and starts again on the same data.
    Restart,
}

const MEMBERS: usize = 3;

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..MEMBERS).prop_map(|who| Op::Send { who }),
        2 => (0..MEMBERS).prop_map(|who| Op::Repeat { who }),
        2 => (0..MEMBERS).prop_map(|who| Op::Disconnect { who }),
        2 => (0..MEMBERS).prop_map(|who| Op::Reconnect { who }),
        1 => Just(Op::Restart),
    ]
}

async fn stored_log(server: &TestServer, reader: &Account, chat: &str) -> Vec<Value> {
    let (status, page) = history(
        server,
        reader,
        json!({"conversation_id": chat, "after_seq": 0, "limit": 200}),
    )
    .await;
    assert_eq!(status, 200);
    page["messages"].as_array().unwrap().clone()
}

async fn run(ops: Vec<Op>) {
    let adjust = |s: &mut hush::server::settings::Settings| s.kdf_min_iterations = TEST_ITERATIONS;
    let mut server = TestServer::start_with(adjust).await;
    let password = "correct horse battery staple";
    let mut members = Vec::new();
    for name in ["ann", "ben", "cyd"] {
        members.push(server.sign_up(name, password).await);
    }
    let everyone: Vec<&Account> = members.iter().collect();
    let chat = chat::create(&server, &members[0], &everyone, None).await;
    let mut readers: Vec<Reader> = members
        .iter()
        .map(|m| Reader::new(m.clone(), &chat.id))
        .collect();
    for reader in &mut readers {
        reader.connect(&server).await;
    }
    let mut online = [true; MEMBERS];
    let mut last_body: HashMap<usize, Value> = HashMap::new();
    let mut acked: HashMap<String, u64> = HashMap::new();

    for op in ops {
        match op {
            Op::Send { who } | Op::Repeat { who } => {
                let body = match (&op, last_body.get(&who)) {
                    (Op::Repeat { .. }, Some(body)) => body.clone(),
                    _ => seal(&chat.id, &chat.ck, &members[who], "hello"),
                };
                let (status, answer) = send(&server, &members[who], &body).await;
                assert_eq!(status, 200, "{answer}");
                let id = body["message_id"].as_str().unwrap().to_owned();
                let seq = answer["seq"].as_u64().unwrap();
                if let Some(earlier) = acked.insert(id, seq) {
                    assert_eq!(earlier, seq, "a repeat answers the original seq");
                }
                last_body.insert(who, body);
            }
            Op::Disconnect { who } => {
                readers[who].disconnect();
                online[who] = false;
            }
            Op::Reconnect { who } => {
                readers[who].connect(&server).await;
                online[who] = true;
            }
            Op::Restart => {
                for reader in &mut readers {
                    reader.disconnect();
                }
                let TestServer { running, data, .. } = server;
                running.stop().await.expect("a clean stop");
                server = TestServer::start_in(data, adjust).await;
                for (who, reader) in readers.iter_mut().enumerate() {
                    if online[who] {
                        reader.connect(&server).await;
                    }
                }
            }
        }
        for (who, reader) in readers.iter_mut().enumerate() {
            if online[who] {
                reader.pump(&server, Duration::from_millis(50)).await;
            }
        }
    }

    let log = stored_log(&server, &members[0], &chat.id).await;
    let seqs: Vec<u64> = log.iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=log.len() as u64).collect::<Vec<_>>(),
        "gap-free, in order"
    );
    assert_eq!(
        log.len(),
        acked.len(),
        "every acknowledged send once, nothing else"
    );
    for m in &log {
        assert_eq!(
            acked.get(m["id"].as_str().unwrap()),
            m["seq"].as_u64().as_ref()
        );
    }
    for (who, reader) in readers.iter_mut().enumerate() {
        if online[who] {
            // Online all along since its last connect: pushes and gap fills
            // alone must have brought everything.
            reader.pump(&server, Duration::from_millis(300)).await;
        } else {
            reader.connect(&server).await;
        }
        assert_eq!(reader.repeats, 0, "no message pushed twice");
        assert_eq!(
            reader.held(),
            log,
            "{}'s view is the log",
            reader.account.username
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_members_view_equals_the_stored_log(ops in proptest::collection::vec(op(), 1..40)) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(ops));
    }
}
