//! Several nodes on one database and one Redis (#18): a push reaches every
//! member's sockets whichever node they are on and whichever node stored
//! the message; a conversation created through one node joins the
//! members' sockets on the others; a logout through one node closes the
//! user's sockets on all; with Redis gone, a send still answers at once,
//! this node's members still get the push and the others catch up from
//! history; with Redis back, pushes cross nodes again.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::chat::{self, history, seal, send};
use crate::live::Live;
use crate::nodes::nodes;
use crate::redis::{self, OwnRedis};
use crate::util::TestServer;

const PASSWORD: &str = "correct horse battery staple";

/// `count` nodes fanning out through the Redis at `url` under a prefix of
/// their own (returned), once every one of them is subscribed.
async fn cluster(count: usize, url: &str) -> (crate::pg::Data, Vec<TestServer>, String) {
    let prefix = redis::prefix();
    let (shared, nodes) = nodes(count, |s| {
        s.redis_url = Some(url.to_owned());
        s.redis_prefix = prefix.clone();
    })
    .await;
    redis::await_nodes(url.trim_start_matches("redis://"), &prefix, count).await;
    (shared, nodes, prefix)
}

/// Waits (up to 15 s) until `node` says Redis takes its pushes again.
async fn redis_answers(node: &TestServer) {
    for _ in 0..300 {
        let health: serde_json::Value = node.get("/healthz").await.json().await.unwrap();
        if health["redis"] == "ok" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("Redis did not come back for a node within 15 s");
}

#[tokio::test]
async fn three_nodes_push_to_each_others_sockets_and_a_logout_closes_them_all() {
    let url = redis::shared();
    let (_shared, nodes, _) = cluster(3, &url).await;
    let (one, two, three) = (&nodes[0], &nodes[1], &nodes[2]);
    let ann = one.sign_up("ann34", PASSWORD).await;
    let bob = two.sign_up("bob34", PASSWORD).await;
    let cyd = three.sign_up("cyd34", PASSWORD).await;
    let mut ann_one = Live::connect(one, &ann.token).await;
    let mut ann_two = Live::connect(two, &ann.token).await;
    let mut bob_three = Live::connect(three, &bob.token).await;
    let mut cyd_one = Live::connect(one, &cyd.token).await;

    // A name without an account gets the same made-up salt from every node,
    // as a real one gets its real salt: asking two nodes tells nothing.
    let mut answers = Vec::new();
    for node in [one, two, three] {
        let asked = node
            .post("prelogin", json!({"username": "nobody34"}), None)
            .await;
        assert_eq!(asked.status(), 200);
        answers.push(asked.json::<serde_json::Value>().await.unwrap());
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[1], answers[2]);

    // Created through node 2: ann's sockets on nodes 1 and 2 are told, and
    // join its room.
    let x = chat::create(two, &bob, &[&bob, &ann], None).await;
    for socket in [&mut ann_one, &mut ann_two, &mut bob_three] {
        assert_eq!(socket.expect("conversation-added").await["id"], x.id);
    }

    // Sent through node 3: every member's socket hears it, on every node.
    let body = seal(&x.id, &x.ck, &bob, "across the cluster");
    let (status, sent) = send(three, &bob, &body).await;
    assert_eq!(status, 200, "{sent}");
    for socket in [&mut ann_one, &mut ann_two, &mut bob_three] {
        let pushed = socket.expect("new-message").await;
        assert_eq!(pushed["id"], body["message_id"]);
        assert_eq!(pushed["seq"], 1);
    }
    // Not a member: nothing, on any node.
    cyd_one.expect_silence(Duration::from_millis(300)).await;

    // ann logs out through node 1: her sockets on node 2 close too, and
    // her token is refused there at once, though node 2 checked her
    // session a moment before (and keeps a checked session for 5 s).
    let (status, _) = history(
        two,
        &ann,
        json!({"conversation_id": x.id, "after_seq": 0, "limit": 10}),
    )
    .await;
    assert_eq!(status, 200);
    let out = one.post("logout", json!({}), Some(&ann.token)).await;
    assert_eq!(out.status(), 200);
    assert!(ann_one.closed(Duration::from_secs(3)).await, "node 1");
    assert!(ann_two.closed(Duration::from_secs(3)).await, "node 2");
    let (status, _) = history(
        two,
        &ann,
        json!({"conversation_id": x.id, "after_seq": 0, "limit": 10}),
    )
    .await;
    assert_eq!(status, 401, "the ended token, on another node");
    // bob's socket on node 3 stays.
    bob_three.expect_silence(Duration::from_millis(200)).await;
}

#[tokio::test]
async fn with_redis_down_a_send_answers_this_nodes_members_hear_it_and_the_others_catch_up() {
    let mut own = OwnRedis::start();
    let (_shared, nodes, prefix) = cluster(2, &own.url()).await;
    let (one, two) = (&nodes[0], &nodes[1]);
    let ann = one.sign_up("ann35", PASSWORD).await;
    let bob = one.sign_up("bob35", PASSWORD).await;
    let x = chat::create(one, &ann, &[&ann, &bob], None).await;
    let mut bob_one = Live::connect(one, &bob.token).await;
    let mut bob_two = Live::connect(two, &bob.token).await;

    own.stop();
    let body = seal(&x.id, &x.ck, &ann, "while Redis is down");
    let began = Instant::now();
    let (status, sent) = send(one, &ann, &body).await;
    let took = began.elapsed();
    assert_eq!(status, 200, "{sent}");
    assert!(took < Duration::from_secs(1), "answered in {took:?}");
    // Same node: pushed. The other node: not, but it is in the history
    // there.
    assert_eq!(
        bob_one.expect("new-message").await["id"],
        body["message_id"]
    );
    bob_two.expect_silence(Duration::from_millis(700)).await;
    let (status, page) = history(
        two,
        &bob,
        json!({"conversation_id": x.id, "after_seq": 0, "limit": 10}),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["messages"][0]["id"], body["message_id"]);
    let health: serde_json::Value = one.get("/healthz").await.json().await.unwrap();
    assert_eq!(health, json!({"status": "ok", "db": "ok", "redis": "down"}));

    // Redis back (empty, as after a restart): both nodes reconnect and
    // subscribe again, and pushes cross nodes; the next one's seq shows
    // bob's socket on node 2 what it missed.
    own.resume();
    redis::await_nodes(&own.host, &prefix, 2).await;
    for node in [one, two] {
        redis_answers(node).await;
    }
    let again = seal(&x.id, &x.ck, &ann, "Redis is back");
    let (status, sent) = send(one, &ann, &again).await;
    assert_eq!(status, 200, "{sent}");
    let pushed = bob_two.expect("new-message").await;
    assert_eq!(pushed["id"], again["message_id"]);
    assert_eq!(pushed["seq"], 2);
    assert_eq!(bob_one.expect("new-message").await["seq"], 2);
    let health: serde_json::Value = two.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["redis"], "ok");
}

/// What a member's client holds of a conversation: the seqs it has heard
/// or read, each with its message id.
#[derive(Default)]
struct View(std::collections::BTreeMap<u64, String>);

impl View {
    fn hold(&mut self, message: &serde_json::Value) {
        let seq = message["seq"].as_u64().unwrap();
        let id = message["id"].as_str().unwrap().to_owned();
        if let Some(held) = self.0.insert(seq, id.clone()) {
            assert_eq!(held, id, "seq {seq} named two messages");
        }
    }

    /// The last seq before the first gap: where a reconnecting client
    /// reads on from.
    fn contiguous(&self) -> u64 {
        (1..)
            .take_while(|seq| self.0.contains_key(seq))
            .last()
            .unwrap_or(0)
    }

    /// Every push the socket has received until `within` passes quietly.
    async fn hear(&mut self, live: &mut Live, within: Duration) {
        while let Some((name, message)) = live.next_event(within).await {
            if name == "new-message" {
                self.hold(&message);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_conversation_loses_no_message_for_its_members() {
    let url = redis::shared();
    let prefix = redis::prefix();
    let shared = crate::pg::Data::new();
    let database = crate::nodes::shared_database(&shared);
    let secret = hush::model::encoding::b64(&crate::util::random::<32>());
    let (mut processes, mut clients, mut data_dirs) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        let data = crate::pg::Data::new();
        let addr = crate::util::free_addr();
        let process = crate::util::ServeProcess::start_with(
            &addr.to_string(),
            data.path(),
            &[
                ("HUSH_DATABASE_URL", &database),
                ("HUSH_TOKEN_SECRET", &secret),
                ("HUSH_REDIS_URL", &url),
                ("HUSH_REDIS_PREFIX", &prefix),
            ],
        );
        let client = crate::util::Client::new(addr);
        crate::util::healthy(&client).await;
        processes.push(process);
        clients.push(client);
        data_dirs.push(data);
    }
    redis::await_nodes(url.trim_start_matches("redis://"), &prefix, 3).await;
    let (one, two, three) = (&clients[0], &clients[1], &clients[2]);
    let ann = one.sign_up("ann36", PASSWORD).await;
    let bob = two.sign_up("bob36", PASSWORD).await;
    let cyd = three.sign_up("cyd36", PASSWORD).await;
    let x = chat::create(one, &ann, &[&ann, &bob, &cyd], None).await;
    let mut bob_two = Live::connect(two, &bob.token).await;
    let mut cyd_three = Live::connect(three, &cyd.token).await;
    let (mut bob_view, mut cyd_view) = (View::default(), View::default());

    let send_through = async |node: &crate::util::Client, i: usize| {
        let body = seal(&x.id, &x.ck, &ann, &format!("{i}"));
        let (status, sent) = send(node, &ann, &body).await;
        assert_eq!(status, 200, "{sent}");
    };
    // Sends through nodes 1 and 3; bob listens on node 2, which dies
    // without warning after the twentieth.
    for i in 0..20 {
        send_through(if i % 2 == 0 { one } else { three }, i).await;
    }
    processes[1].child.kill().unwrap();
    processes[1].child.wait().unwrap();
    for i in 20..30 {
        send_through(if i % 2 == 0 { one } else { three }, i).await;
    }
    // What bob's socket got before it went, then bob's client reconnects,
    // to node 3, and reads on from where its pushes stopped.
    bob_view
        .hear(&mut bob_two, Duration::from_millis(200))
        .await;
    let mut bob_three = Live::connect(three, &bob.token).await;
    let (status, page) = history(
        three,
        &bob,
        json!({"conversation_id": x.id, "after_seq": bob_view.contiguous(), "limit": 100}),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    for message in page["messages"].as_array().unwrap() {
        bob_view.hold(message);
    }
    for i in 30..40 {
        send_through(if i % 2 == 0 { one } else { three }, i).await;
    }
    bob_view
        .hear(&mut bob_three, Duration::from_millis(500))
        .await;
    cyd_view
        .hear(&mut cyd_three, Duration::from_millis(500))
        .await;

    // The stored log, read through node 1.
    let (status, page) = history(
        one,
        &ann,
        json!({"conversation_id": x.id, "after_seq": 0, "limit": 100}),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let mut stored = View::default();
    for message in page["messages"].as_array().unwrap() {
        stored.hold(message);
    }
    assert_eq!(stored.0.len(), 40);
    assert_eq!(stored.contiguous(), 40);
    // bob's client holds what its pushes brought and what it read on: all of
    // it, and no seq naming two messages.
    assert_eq!(bob_view.0, stored.0, "bob, whose node died");
    // cyd's node lived: every message reached her as a push, wherever it
    // was sent.
    assert_eq!(cyd_view.0, stored.0, "cyd, by pushes alone");
}

#[tokio::test]
async fn presence_is_cluster_wide() {
    let url = redis::shared();
    let (_shared, nodes, _) = cluster(2, &url).await;
    let (one, two) = (&nodes[0], &nodes[1]);
    let ann = one.sign_up("ann38", PASSWORD).await;
    let bob = two.sign_up("bob38", PASSWORD).await;
    chat::create(one, &ann, &[&ann, &bob], None).await;
    let online = |who: &str, now: bool| json!({ "user_id": who, "online": now });

    // bob is on node 2; ann comes online on node 1: each hears of the
    // other, across nodes.
    let mut bob_two = Live::connect(two, &bob.token).await;
    bob_two.hear_presence();
    let mut ann_one = Live::connect(one, &ann.token).await;
    ann_one.hear_presence();
    assert_eq!(bob_two.expect("presence").await, online(&ann.id, true));
    assert_eq!(ann_one.expect("presence").await, online(&bob.id, true));

    // ann opens a tab on node 2 as well, and closes the one on node 1:
    // past the grace she is still online (node 1 asked node 2), so bob
    // hears nothing that says otherwise.
    let ann_two = Live::connect(two, &ann.token).await;
    ann_one.close().await;
    let past_grace = hush::protocol::PRESENCE_GRACE + Duration::from_secs(2);
    let deadline = Instant::now() + past_grace;
    while let Some((name, said)) = bob_two
        .next_event(deadline.saturating_duration_since(Instant::now()))
        .await
    {
        assert!(
            !(name == "presence" && said == online(&ann.id, false)),
            "ann went offline while connected through node 2"
        );
    }

    // Her last tab closes: offline, once the grace is over.
    ann_two.close().await;
    let said = loop {
        match bob_two.next_event(past_grace).await {
            Some((name, said)) if name == "presence" && said["online"] == false => break said,
            Some(_) => continue,
            None => panic!("bob never heard that ann went offline"),
        }
    };
    assert_eq!(said, online(&ann.id, false));
}

#[tokio::test]
async fn wrong_logins_spread_over_nodes_are_throttled_as_on_one() {
    let url = redis::shared();
    let (_shared, nodes, _) = cluster(2, &url).await;
    let wrong = |name: &str| {
        json!({
            "username": name,
            "auth_key": hush::model::encoding::b64(&[9; 32]),
        })
    };
    nodes[0].sign_up("ann39", PASSWORD).await;
    nodes[1].sign_up("bob39", PASSWORD).await;

    // Ten wrong passwords for ann39 from one address, alternating between
    // the nodes (five each, half of what one node allows): the eleventh is
    // refused on both.
    for attempt in 0..10 {
        let node = &nodes[attempt % 2];
        let status = node.post("login", wrong("ann39"), None).await.status();
        assert_eq!(status, 401, "attempt {attempt}");
    }
    for node in &nodes {
        crate::util::assert_rate_limited(node.post("login", wrong("ann39"), None).await).await;
    }

    // A login that checks out clears its account and address everywhere:
    // three wrong through node 1, the right one through node 2, then ten
    // wrong again are each answered, not refused.
    for _ in 0..3 {
        let status = nodes[0].post("login", wrong("bob39"), None).await.status();
        assert_eq!(status, 401);
    }
    let (status, answer, _) = crate::accounts::log_in(&nodes[1], "bob39", PASSWORD).await;
    assert_eq!(status, 200, "{answer}");
    for attempt in 0..10 {
        let status = nodes[attempt % 2]
            .post("login", wrong("bob39"), None)
            .await
            .status();
        assert_eq!(status, 401, "attempt {attempt} after the good one");
    }
}

#[tokio::test]
async fn what_other_nodes_missed_while_redis_was_down_is_put_right_when_it_is_back() {
    let mut own = OwnRedis::start();
    let (_shared, nodes, prefix) = cluster(2, &own.url()).await;
    let (one, two) = (&nodes[0], &nodes[1]);
    let ann = one.sign_up("ann40", PASSWORD).await;
    let bob = one.sign_up("bob40", PASSWORD).await;
    let cyd = one.sign_up("cyd40", PASSWORD).await;
    let x = chat::create(one, &ann, &[&ann, &bob], None).await;
    let mut bob_two = Live::connect(two, &bob.token).await;
    let mut cyd_two = Live::connect(two, &cyd.token).await;

    // With Redis down, through node 1: ann adds cyd (her socket on node 2
    // should join the room), and bob logs out (his socket on node 2 should
    // close). Node 2 hears neither.
    own.stop();
    let (_, key) = chat::change(one, &ann, &x.id, &[&ann, &bob, &cyd]).await;
    let out = one.post("logout", json!({}), Some(&bob.token)).await;
    assert_eq!(out.status(), 200);
    assert!(!bob_two.closed(Duration::from_millis(500)).await);

    // Redis back: node 2 brings its sockets in step with the database.
    own.resume();
    redis::await_nodes(&own.host, &prefix, 2).await;
    for node in [one, two] {
        redis_answers(node).await;
    }
    assert!(
        bob_two.closed(Duration::from_secs(5)).await,
        "bob's socket on node 2 outlived his logout"
    );
    // cyd's socket on node 2 is in the conversation's room now (the same
    // pass that closed bob's moved it): a message sent through node 1
    // reaches it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let body = chat::seal(&x.id, &key, &ann, "you are in now");
    let (status, sent) = send(one, &ann, &body).await;
    assert_eq!(status, 200, "{sent}");
    loop {
        match cyd_two
            .next_event(deadline.saturating_duration_since(Instant::now()))
            .await
        {
            Some((name, pushed)) if name == "new-message" => {
                assert_eq!(pushed["id"], body["message_id"]);
                break;
            }
            Some(_) => continue,
            None => panic!("cyd's socket on node 2 never joined the room"),
        }
    }
}
