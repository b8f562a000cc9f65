//! A crash or a stop loses nothing that was acknowledged, and stores
//! nothing twice. Two writers with outboxes (each message sealed once,
//! retried with the same id until the server answers) send a burst to one
//! conversation; the `hush` process is killed with SIGKILL (or stopped with
//! SIGTERM, which must exit cleanly) in the middle and started again on the
//! same data. Afterwards every acknowledged message is stored at the
//! `seq` it was acknowledged with, every queued message is stored exactly
//! once, and the `seq`s have no gap. A SIGTERM lets the sends in flight
//! finish without a panic (their pushes find the socket layer closed).

use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::chat::{self, history, seal};
use crate::util::{Account, Client, ServeProcess, free_addr, healthy};

/// Stops `process` the way `stop` says.
fn stop(mut process: ServeProcess, stop: Stop) {
    match stop {
        Stop::Kill => {
            process.child.kill().unwrap();
            process.child.wait().unwrap();
        }
        Stop::Term => {
            let sent = Command::new("kill")
                .args(["-TERM", &process.child.id().to_string()])
                .status()
                .unwrap();
            assert!(sent.success());
            let status = process.child.wait().unwrap();
            assert!(status.success(), "a graceful exit: {status:?}");
        }
    }
}

/// Sends `outbox` in order, each until the server answers it; returns each
/// message's id and acknowledged `seq`.
async fn write(
    client: Arc<Client>,
    writer: Account,
    outbox: Vec<Value>,
    acked: Arc<AtomicUsize>,
) -> Vec<(String, u64)> {
    let mut answers = Vec::new();
    for body in outbox {
        loop {
            match client
                .try_post("messages/send", body.clone(), Some(&writer.token))
                .await
            {
                Ok(r) if r.status() == 200 => {
                    let sent: Value = r.json().await.unwrap();
                    let id = body["message_id"].as_str().unwrap().to_owned();
                    answers.push((id, sent["seq"].as_u64().unwrap()));
                    acked.fetch_add(1, Ordering::SeqCst);
                    break;
                }
                Ok(r) if r.status().is_server_error() => {}
                Ok(r) => panic!("a permanent refusal: {}", r.status()),
                // Refused or cut off: the server is down; try again.
                Err(_) => {}
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    answers
}

/// How the server goes down mid-burst.
#[derive(Debug, Clone, Copy)]
enum Stop {
    /// SIGKILL: no graceful anything.
    Kill,
    /// SIGTERM: stop accepting, finish in-flight requests, close sockets.
    Term,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_burst_loses_no_acknowledged_send_and_stores_each_once() {
    burst_across_a_restart(Stop::Kill).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_burst_finishes_in_flight_sends_and_loses_nothing() {
    burst_across_a_restart(Stop::Term).await;
}

async fn burst_across_a_restart(stop: Stop) {
    let data = crate::pg::Data::new();
    let addr = free_addr();
    let log = tempfile::NamedTempFile::new().unwrap();
    let server =
        ServeProcess::start_logging(&addr.to_string(), data.path(), &[], log.reopen().unwrap());
    let client = Arc::new(Client::new(addr));
    healthy(&client).await;

    let password = "correct horse battery staple";
    let hi = client.sign_up("hi89", password).await;
    let lo = client.sign_up("lo89", password).await;
    let chat = chat::create(&client, &hi, &[&hi, &lo], None).await;

    const EACH: usize = 60;
    let outbox = |who: &Account| -> Vec<Value> {
        (0..EACH)
            .map(|i| seal(&chat.id, &chat.ck, who, &format!("{} {i}", who.username)))
            .collect()
    };
    let (hi_box, lo_box) = (outbox(&hi), outbox(&lo));
    let all_ids: HashSet<String> = hi_box
        .iter()
        .chain(&lo_box)
        .map(|b| b["message_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(all_ids.len(), 2 * EACH);

    let acked = Arc::new(AtomicUsize::new(0));
    let writers = [
        tokio::spawn(write(client.clone(), hi.clone(), hi_box, acked.clone())),
        tokio::spawn(write(client.clone(), lo.clone(), lo_box, acked.clone())),
    ];

    // Kill in the middle of the burst, then start again on the same data.
    while acked.load(Ordering::SeqCst) < 20 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let at_kill = acked.load(Ordering::SeqCst);
    self::stop(server, stop);
    let said = std::fs::read_to_string(log.path()).unwrap();
    assert!(
        !said.contains("panicked"),
        "the stopped server panicked:\n{said}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _server = ServeProcess::start(&addr.to_string(), data.path());
    healthy(&client).await;

    let mut answers: HashMap<String, u64> = HashMap::new();
    for writer in writers {
        for (id, seq) in writer.await.unwrap() {
            assert!(answers.insert(id, seq).is_none(), "one answer per message");
        }
    }
    assert!(
        at_kill < 2 * EACH,
        "the kill came mid-burst ({at_kill} acked)"
    );
    assert_eq!(answers.len(), 2 * EACH);

    let mut stored: Vec<Value> = Vec::new();
    loop {
        let after = stored.last().map_or(0, |m| m["seq"].as_u64().unwrap());
        let (status, page) = history(
            &client,
            &lo,
            json!({"conversation_id": chat.id, "after_seq": after, "limit": 200}),
        )
        .await;
        assert_eq!(status, 200);
        let page = page["messages"].as_array().unwrap().clone();
        if page.is_empty() {
            break;
        }
        stored.extend(page);
    }
    let seqs: Vec<u64> = stored.iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=(2 * EACH) as u64).collect::<Vec<_>>(),
        "gap-free"
    );
    let ids: Vec<String> = stored
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        ids.len(),
        "each once"
    );
    assert_eq!(
        ids.into_iter().collect::<HashSet<_>>(),
        all_ids,
        "every queued message"
    );
    for m in &stored {
        let id = m["id"].as_str().unwrap();
        assert_eq!(
            Some(&m["seq"].as_u64().unwrap()),
            answers.get(id),
            "acknowledged at its seq"
        );
    }
}
