//! Groups that change (DESIGN.md, "Groups that change (wire)"): people
//! added, removed by the creator, or leaving; each change a new epoch with
//! a key only the right people hold; sends held while a departure waits
//! for the next epoch; history and pushes limited to the epochs a member
//! holds a key in.

use std::time::Duration;

use hush::crypto::native_client::{self, EpochKey};
use serde_json::{Value, json};

use crate::chat::{self, Chat};
use crate::live::Live;
use crate::util::{Account, Client, TestServer};

/// Signs up `names` on `server`.
async fn people(server: &Client, names: &[&str]) -> Vec<Account> {
    let mut accounts = Vec::new();
    for name in names {
        accounts.push(server.sign_up(name, "correct horse battery").await);
    }
    accounts
}

/// The error code of an error answer.
fn code(answer: &Value) -> &str {
    answer["error"].as_str().unwrap_or("")
}

/// Sends "text" under `key` as `sender`, and says how it was answered.
async fn say(
    server: &Client,
    chat: &Chat,
    key: &native_client::EpochKey,
    sender: &Account,
    text: &str,
) -> (u16, Value) {
    chat::send(server, sender, &chat::seal(&chat.id, key, sender, text)).await
}

/// Asserts that `who`'s client refuses `conversation` (wire form) by the
/// removal rule.
fn refuses_as_removal(conversation: &Value, who: &Account) {
    let refused = native_client::accept(conversation, &who.id, &who.dh)
        .err()
        .expect("the client refuses the chain");
    assert!(
        refused
            .0
            .contains("removed by someone other than the creator"),
        "{refused}"
    );
}

/// The members a conversation's access list names, in id order.
fn members_by_id(conversation: &Value) -> Vec<Value> {
    let mut members = conversation["members"].as_array().unwrap().clone();
    members.sort_by_key(|m| m["id"].as_str().unwrap().to_owned());
    members
}

/// The ids of the members a conversation's access list names.
fn member_ids(conversation: &Value) -> Vec<String> {
    let mut ids: Vec<String> = conversation["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_removed_member_hears_nothing_more_is_refused_everywhere_and_cannot_open_the_new_key() {
    let server = TestServer::start_for_accounts().await;
    let c = &server.client;
    let [ana, ben, cyd] =
        <[Account; 3]>::try_from(people(c, &["ana", "ben", "cyd"]).await).unwrap();
    let chat = chat::create(c, &ana, &[&ana, &ben, &cyd], Some("trip")).await;
    let mut ben_live = Live::connect(c, &ben.token).await;
    let mut cyd_live = Live::connect(c, &cyd.token).await;

    let (changed, key) = chat::change(c, &ana, &chat.id, &[&ana, &cyd]).await;
    assert_eq!(changed["epochs"].as_array().unwrap().len(), 2);
    let mut expected = vec![ana.id.clone(), cyd.id.clone()];
    expected.sort();
    assert_eq!(member_ids(&changed), expected);
    let removed = ben_live.expect("conversation-removed").await;
    assert_eq!(removed, json!({ "conversation_id": chat.id }));
    // Where it stands, not the whole conversation, and the new epoch as
    // cyd's change: nobody added, ben removed, the root of the key tree,
    // cyd's own key and its path (one node: two members).
    let told = cyd_live.expect("conversation-changed").await;
    let unb64 = |v: &Value| hush::model::encoding::unb64(v.as_str().unwrap()).unwrap();
    let (status, since) = chat::changes(c, &cyd, &chat.id, 1).await;
    assert_eq!(status, 200, "{since}");
    assert_eq!(
        told,
        json!({"id": chat.id, "last_seq": 0, "epoch": 1, "changes": since}),
        "the push carries what cyd would read"
    );
    let epochs = since["epochs"].as_array().unwrap();
    assert_eq!(epochs.len(), 1);
    assert_eq!(epochs[0]["epoch"], 1);
    assert_eq!(epochs[0]["added"], json!([]));
    assert_eq!(epochs[0]["removed"], json!([ben.id]));
    assert_eq!(unb64(&epochs[0]["key_root"]).len(), 32);
    assert_eq!(unb64(&epochs[0]["path"]).len(), 32);
    assert_eq!(unb64(&epochs[0]["key"]).len(), 125);
    // Put together after epoch 0, it checks out, with cyd's key.
    let put_together = chat::caught_up(&chat.wire, &since, &cyd).unwrap();
    assert_eq!(members_by_id(&put_together), members_by_id(&changed));
    assert_eq!(chat::accept(&put_together, &cyd).head, key.head);
    let (status, none) = chat::changes(c, &cyd, &chat.id, 2).await;
    assert_eq!((status, none["epochs"].clone()), (200, json!([])));
    let (status, answer) = chat::changes(c, &cyd, &chat.id, 0).await;
    assert_eq!((status, code(&answer)), (400, "invalid_request"));

    // What is said next reaches cyd, never ben.
    let (status, answer) = say(c, &chat, &key, &ana, "ben is out").await;
    assert_eq!(status, 200, "{answer}");
    let pushed = cyd_live.expect("new-message").await;
    let cyd_key = chat::accept(&changed, &cyd);
    assert_eq!(cyd_key.epoch, 1);
    assert_eq!(chat::open(&pushed, &cyd_key, &ana.sig_public), "ben is out");
    ben_live.expect_silence(Duration::from_millis(500)).await;

    // Everything about it is refused to ben from now on.
    let (status, answer) = chat::history(
        c,
        &ben,
        json!({"conversation_id": chat.id, "after_seq": 0, "limit": 50}),
    )
    .await;
    assert_eq!((status, code(&answer)), (403, "not_a_member"));
    let ben_key = chat::accept(&chat.wire, &ben);
    let (status, answer) = say(c, &chat, &ben_key, &ben, "still here?").await;
    assert_eq!((status, code(&answer)), (403, "not_a_member"));
    let ack = ben_live.ask("join-conversation", json!(chat.id)).await;
    assert_eq!(ack, json!({"error": "not_a_member"}));
    let (status, answer) = chat::get(c, &ben, &chat.id).await;
    assert_eq!((status, code(&answer)), (403, "not_a_member"));

    // Given the new epoch and its message anyway, ben holds no key to it:
    // the keys ben can open stop at epoch 0, and epoch 0's key does not
    // open what was sealed under epoch 1.
    let keys = native_client::accept_all(&changed, &ben.id, &ben.dh).unwrap();
    assert_eq!(keys.iter().map(|k| k.epoch).collect::<Vec<_>>(), [0]);
    assert!(native_client::open(&pushed, &keys[0], &ana.sig_public).is_err());
    let mut relabelled = pushed.clone();
    relabelled["epoch"] = json!(0);
    assert!(native_client::open(&relabelled, &keys[0], &ana.sig_public).is_err());
}

#[tokio::test]
async fn two_changes_at_once_store_one_and_the_other_reloads_and_tries_again() {
    let server = TestServer::start_for_accounts().await;
    let c = &server.client;
    let [ana, ben, cyd, dan] =
        <[Account; 4]>::try_from(people(c, &["ana", "ben", "cyd", "dan"]).await).unwrap();
    let chat = chat::create(c, &ana, &[&ana, &ben], None).await;
    let (_, now) = chat::get(c, &ana, &chat.id).await;
    let (adds_cyd, _) = chat::change_body(&now, &ana, &[&ana, &ben, &cyd]);
    let (adds_dan, _) = chat::change_body(&now, &ben, &[&ana, &ben, &dan]);
    let (first, second) = tokio::join!(
        chat::post_change(c, &ana, &adds_cyd),
        chat::post_change(c, &ben, &adds_dan)
    );
    let mut statuses = [first.0, second.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", first.1, second.1);
    let lost = if first.0 == 409 { &first.1 } else { &second.1 };
    assert_eq!(code(lost), "epoch_conflict");

    // The one that lost reads the conversation again and builds on it.
    let (loser, wanted) = if first.0 == 409 {
        (&ana, &cyd)
    } else {
        (&ben, &dan)
    };
    let (_, now) = chat::get(c, loser, &chat.id).await;
    let (again, _) = chat::change_body(&now, loser, &[&ana, &ben, &cyd, &dan]);
    let (status, changed) = chat::post_change(c, loser, &again).await;
    assert_eq!(status, 200, "{changed}");
    let changed = chat::caught_up(&now, &changed, loser).unwrap();
    assert_eq!(changed["epochs"].as_array().unwrap().len(), 3);
    assert!(member_ids(&changed).contains(&wanted.id));
    // The old body is stale now.
    let (status, answer) = chat::post_change(c, &ana, &adds_cyd).await;
    assert_eq!((status, code(&answer)), (409, "epoch_conflict"));
}

#[tokio::test]
async fn a_leave_holds_sends_until_the_next_epoch_carries_it() {
    let server = TestServer::start_for_accounts().await;
    let c = &server.client;
    let [ana, ben, cyd] =
        <[Account; 3]>::try_from(people(c, &["ana", "ben", "cyd"]).await).unwrap();
    let chat = chat::create(c, &ana, &[&ana, &ben, &cyd], None).await;
    let key_0 = chat::accept(&chat.wire, &ana);
    let mut cyd_live = Live::connect(c, &cyd.token).await;
    let mut ben_live = Live::connect(c, &ben.token).await;

    let (_, now) = chat::get(c, &cyd, &chat.id).await;
    let (status, answer) = chat::leave(c, &cyd, &now).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, json!({}));
    assert_eq!(
        cyd_live.expect("conversation-removed").await,
        json!({ "conversation_id": chat.id })
    );
    let told = ben_live.expect("conversation-changed").await;
    assert_eq!(
        told,
        json!({"id": chat.id, "last_seq": 0, "epoch": 0, "pending": 1})
    );
    // Twice: she is no longer a member.
    let (status, answer) = chat::leave(c, &cyd, &now).await;
    assert_eq!((status, code(&answer)), (403, "not_a_member"));

    // Sends wait for the next epoch.
    let (status, answer) = say(c, &chat, &key_0, &ana, "cyd?").await;
    assert_eq!((status, code(&answer)), (409, "rekey_required"));
    // A change that does not carry the departure is refused; one that
    // keeps her too.
    let (_, now) = chat::get(c, &ben, &chat.id).await;
    assert_eq!(now["pending"].as_array().unwrap().len(), 1);
    let (mut without, _) = chat::change_body(&now, &ben, &[&ana, &ben]);
    without["departures"] = json!([]);
    let (status, answer) = chat::post_change(c, &ben, &without).await;
    assert_eq!((status, code(&answer)), (409, "rekey_required"));
    let (keeps, _) = chat::change_body(&now, &ben, &[&ana, &ben, &cyd]);
    let (status, answer) = chat::post_change(c, &ben, &keeps).await;
    assert_eq!((status, code(&answer)), (403, "not_allowed"));

    // ben's app posts the next epoch without her, carrying her departure.
    let (rotation, _) = chat::change_body(&now, &ben, &[&ana, &ben]);
    let (status, rotated) = chat::post_change(c, &ben, &rotation).await;
    assert_eq!(status, 200, "{rotated}");
    assert!(rotated["pending"].as_array().unwrap().is_empty());
    assert_eq!(
        rotated["epochs"][0]["departures"][0]["member_id"],
        cyd.id.as_str()
    );
    // ana checks the departure's signature with the rest, and sends again
    // under the new key; the old epoch is stale now.
    let (_, rotated) = chat::get(c, &ana, &chat.id).await;
    let key_1 = chat::accept(&rotated, &ana);
    assert_eq!(key_1.epoch, 1);
    let (status, answer) = say(c, &chat, &key_0, &ana, "old key").await;
    assert_eq!((status, code(&answer)), (400, "stale_epoch"));
    let (status, answer) = say(c, &chat, &key_1, &ana, "new key").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["seq"], 1);

    // A server that strips the departure, to pass her leave off as a
    // removal by ben, is refused by every client.
    let mut forged = rotated.clone();
    forged["epochs"][1]["departures"] = json!([]);
    refuses_as_removal(&forged, &ana);
}

#[tokio::test]
async fn an_added_member_reads_from_their_first_epoch_and_the_list_says_where_it_stands() {
    let server = TestServer::start_for_accounts().await;
    let c = &server.client;
    let [ana, ben, cyd] =
        <[Account; 3]>::try_from(people(c, &["ana", "ben", "cyd"]).await).unwrap();
    let chat = chat::create(c, &ana, &[&ana, &ben], None).await;
    chat::send_numbered(c, &ana, &chat.id, &chat.ck, 1..=3).await;
    let mut cyd_live = Live::connect(c, &cyd.token).await;
    let mut ben_live = Live::connect(c, &ben.token).await;

    // ben (not the creator) may add.
    let (changed, key) = chat::change(c, &ben, &chat.id, &[&ana, &ben, &cyd]).await;
    let added = cyd_live.expect("conversation-added").await;
    assert_eq!(added, changed);
    // cyd checks the whole chain from epoch 0, and holds epoch 1's key only.
    let keys = native_client::accept_all(&added, &cyd.id, &cyd.dh).unwrap();
    assert_eq!(keys.iter().map(|k| k.epoch).collect::<Vec<_>>(), [1]);
    // ben, already in, is told with the new epoch as his change (his key
    // and path), what he would read.
    let (status, bens) = chat::changes(c, &ben, &chat.id, 1).await;
    assert_eq!(status, 200, "{bens}");
    assert!(bens["epochs"][0]["key"].is_string());
    assert_eq!(
        ben_live.expect("conversation-changed").await,
        json!({"id": chat.id, "last_seq": 3, "epoch": 1, "changes": bens})
    );

    chat::send_numbered(c, &ana, &chat.id, &key, 4..=5).await;
    for _ in 4..=5 {
        cyd_live.expect("new-message").await;
    }
    let (status, page) = chat::history(
        c,
        &cyd,
        json!({"conversation_id": chat.id, "after_seq": 0, "limit": 50}),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let messages = page["messages"].as_array().unwrap();
    let seqs: Vec<u64> = messages
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [4, 5], "epoch 0 is not shared with cyd");
    assert_eq!(chat::open(&messages[0], &keys[0], &ana.sig_public), "m4");
    // The newest page, read backwards, stops there too.
    let (_, page) = chat::history(c, &cyd, json!({"conversation_id": chat.id, "limit": 50})).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 2);
    // ben, there from the start, reads all five.
    let (_, page) = chat::history(c, &ben, json!({"conversation_id": chat.id, "limit": 50})).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 5);

    // A list that names it as known says its epoch, so an app holding an
    // older copy reads it again.
    let response = c
        .post(
            "conversations/list",
            json!({ "known": [chat.id] }),
            Some(&ben.token),
        )
        .await;
    let list: Value = response.json().await.unwrap();
    assert_eq!(
        list["heads"],
        json!([{ "id": chat.id, "last_seq": 5, "epoch": 1 }])
    );
}

#[tokio::test]
async fn only_the_creator_removes_and_a_client_refuses_a_removal_by_anyone_else() {
    let server = TestServer::start_for_accounts().await;
    let c = &server.client;
    let [ana, ben, cyd] =
        <[Account; 3]>::try_from(people(c, &["ana", "ben", "cyd"]).await).unwrap();
    let chat = chat::create(c, &ana, &[&ana, &ben, &cyd], None).await;
    let (_, now) = chat::get(c, &ben, &chat.id).await;
    let (removal, _) = chat::change_body(&now, &ben, &[&ana, &ben]);
    let (status, answer) = chat::post_change(c, &ben, &removal).await;
    assert_eq!((status, code(&answer)), (403, "not_allowed"));

    // The test plays a server that stores it anyway: cyd's and ana's
    // clients refuse the chain.
    let mut forged = now.clone();
    let epoch = json!({
        "epoch": 1,
        "signer_id": ben.id,
        "commit": removal["commit"],
        "members": [chat::member(&ana), chat::member(&ben)],
        "keys": removal["keys"],
        "keys_signature": removal["keys_signature"],
        "departures": [],
    });
    forged["epochs"].as_array_mut().unwrap().push(epoch);
    for who in [&ana, &cyd] {
        refuses_as_removal(&forged, who);
    }
}

#[tokio::test]
async fn a_bad_change_or_leave_is_refused_naming_what_is_wrong() {
    let server = TestServer::start_for_accounts().await;
    let c = &server.client;
    let [ana, ben, eve] =
        <[Account; 3]>::try_from(people(c, &["ana", "ben", "eve"]).await).unwrap();
    let chat = chat::create(c, &ana, &[&ana, &ben], None).await;
    let (_, now) = chat::get(c, &ana, &chat.id).await;
    let (good, _) = chat::change_body(&now, &ana, &[&ana, &ben]);
    let altered = |change: &dyn Fn(&mut Value)| {
        let mut body = good.clone();
        change(&mut body);
        body
    };
    let cases: Vec<(&str, &Account, Value, u16, &str, &str)> = vec![
        (
            "a member twice",
            &ana,
            altered(&|b| b["member_ids"] = json!([ana.id, ben.id, ben.id])),
            400,
            "invalid_request",
            "member_ids:",
        ),
        (
            "without the signer",
            &ana,
            altered(&|b| b["member_ids"] = json!([ben.id])),
            400,
            "invalid_request",
            "member_ids:",
        ),
        (
            "a key missing",
            &ana,
            altered(&|b| {
                b["keys"].as_array_mut().unwrap().pop();
            }),
            400,
            "invalid_request",
            "keys",
        ),
        (
            "a short commit",
            &ana,
            altered(&|b| b["commit"] = json!("AAAA")),
            400,
            "invalid_encoding",
            "commit",
        ),
        (
            "a departure's short signature",
            &ana,
            altered(&|b| b["departures"] = json!([{"member_id": eve.id, "signature": "AAAA"}])),
            400,
            "invalid_encoding",
            "departures[0].signature",
        ),
        (
            "an epoch skipped",
            &ana,
            altered(&|b| b["epoch"] = json!(2)),
            409,
            "epoch_conflict",
            "epoch:",
        ),
    ];
    for (what, who, body, status, error, names) in cases {
        let (got, answer) = chat::post_change(c, who, &body).await;
        assert_eq!((got, code(&answer)), (status, error), "{what}: {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(names),
            "{what}: {answer}"
        );
    }
    // An unknown member to add.
    let mut ghost = c.sign_up("ghost", "correct horse battery").await;
    ghost.id = "0190f5d2-7c4e-7a1b-8c3d-4e5f6a7b8c9d".into();
    let (body, _) = chat::change_body(&now, &ana, &[&ana, &ben, &ghost]);
    let (status, answer) = chat::post_change(c, &ana, &body).await;
    assert_eq!((status, code(&answer)), (404, "not_found"), "{answer}");
    // eve, not a member, can neither change it nor leave it.
    let (eve_body, _) = chat::change_body(&now, &eve, &[&ana, &ben, &eve]);
    let (status, answer) = chat::post_change(c, &eve, &eve_body).await;
    assert_eq!((status, code(&answer)), (403, "not_a_member"), "{answer}");
    let (status, answer) = chat::leave(c, &eve, &now).await;
    assert_eq!((status, code(&answer)), (403, "not_a_member"), "{answer}");
    // A leave from an epoch that is not the current one.
    chat::change(c, &ana, &chat.id, &[&ana, &ben]).await;
    let (status, answer) = chat::leave(c, &ben, &now).await;
    assert_eq!((status, code(&answer)), (409, "epoch_conflict"), "{answer}");
    // Nothing was lost: the conversation is at epoch 1 with both.
    let (_, after) = chat::get(c, &ben, &chat.id).await;
    assert_eq!(after["epochs"].as_array().unwrap().len(), 2);
    assert_eq!(member_ids(&after).len(), 2);
}

/// One step of a random history of a group.
#[derive(Debug, Clone)]
enum Op {
    /// Member `who` sends a message (if someone left, their app first
    /// posts the next epoch, as the browser does after `rekey_required`).
    Send { who: usize },
    /// `by` adds `who`.
    Add { who: usize, by: usize },
    /// The creator removes `who`.
    Remove { who: usize },
    /// `who` leaves.
    Leave { who: usize },
    /// `who` catches up from history and opens everything it gets.
    Reconnect { who: usize },
}

/// Five people; the first creates the group with the next two.
const PEOPLE: usize = 5;

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        5 => (0..PEOPLE).prop_map(|who| Op::Send { who }),
        2 => (1..PEOPLE, 0..PEOPLE).prop_map(|(who, by)| Op::Add { who, by }),
        1 => (1..PEOPLE).prop_map(|who| Op::Remove { who }),
        1 => (1..PEOPLE).prop_map(|who| Op::Leave { who }),
        2 => (0..PEOPLE).prop_map(|who| Op::Reconnect { who }),
    ]
}

/// What the test expects of the group.
struct Model {
    member: [bool; PEOPLE],
    /// The epochs each person holds a key in.
    held: Vec<std::collections::BTreeSet<u32>>,
    current: u32,
    /// Who left since the current epoch began (their departures pending).
    left: Vec<usize>,
    /// Every stored message: its seq, epoch and text.
    sent: Vec<(u64, u32, String)>,
}

impl Model {
    fn members<'a>(&self, people: &'a [Account]) -> Vec<&'a Account> {
        (0..PEOPLE)
            .filter(|&i| self.member[i])
            .map(|i| &people[i])
            .collect()
    }

    /// A new epoch of the present members.
    fn next_epoch(&mut self) {
        self.current += 1;
        self.left.clear();
        for i in 0..PEOPLE {
            if self.member[i] {
                self.held[i].insert(self.current);
            }
        }
    }
}

/// Every message `who` may read, from history (all pages), each opened
/// with the keys its client accepts from the chain as it now stands. Where
/// `who` held an earlier `copy`, the changes since it, put together after
/// it as the app does, must check out to the very same keys; the chain
/// read now becomes the copy.
async fn read_all(
    c: &Client,
    chat: &Chat,
    who: &Account,
    copy: &mut Option<Value>,
) -> (u16, Vec<(u64, u32, String)>) {
    let (status, now) = chat::get(c, who, &chat.id).await;
    if status != 200 {
        return (status, Vec::new());
    }
    let keys = native_client::accept_all(&now, &who.id, &who.dh).expect("the chain checks out");
    if let Some(held) = copy.replace(now.clone()) {
        let since = held["epochs"].as_array().unwrap().len() as u32;
        let (status, changes) = chat::changes(c, who, &chat.id, since).await;
        assert_eq!(status, 200, "{changes}");
        let together = chat::caught_up(&held, &changes, who).expect("the changes follow");
        let again = native_client::accept_all(&together, &who.id, &who.dh)
            .expect("the chain put together checks out");
        let named = |keys: &[EpochKey]| -> Vec<(u32, [u8; 32])> {
            keys.iter().map(|k| (k.epoch, k.head)).collect()
        };
        assert_eq!(named(&again), named(&keys), "{} caught up", who.username);
        assert_eq!(members_by_id(&together), members_by_id(&now));
    }
    let senders: Vec<Value> = now["epochs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["members"].as_array().unwrap().clone())
        .collect();
    let mut read = Vec::new();
    let mut after = 0;
    loop {
        let (status, page) = chat::history(
            c,
            who,
            json!({"conversation_id": chat.id, "after_seq": after, "limit": 200}),
        )
        .await;
        assert_eq!(status, 200, "{page}");
        let messages = page["messages"].as_array().unwrap().clone();
        if messages.is_empty() {
            break;
        }
        for m in &messages {
            let epoch = m["epoch"].as_u64().unwrap() as u32;
            let key = keys.iter().find(|k| k.epoch == epoch).unwrap_or_else(|| {
                panic!(
                    "{} got epoch {epoch}, which it holds no key in",
                    who.username
                )
            });
            let sender = senders
                .iter()
                .find(|s| s["id"] == m["sender_id"])
                .expect("the sender is in the signed chain");
            let public =
                hush::model::encoding::unb64(sender["sig_public"].as_str().unwrap()).unwrap();
            let text = chat::open(m, key, &public);
            after = m["seq"].as_u64().unwrap();
            read.push((after, epoch, text));
        }
    }
    (200, read)
}

async fn history_of_a_group(ops: Vec<Op>) {
    let server = TestServer::start_for_accounts().await;
    let c = &server.client;
    let people = people(c, &["ann", "ben", "cyd", "dan", "eve"]).await;
    let chat = chat::create(c, &people[0], &[&people[0], &people[1], &people[2]], None).await;
    let mut model = Model {
        member: [true, true, true, false, false],
        held: (0..PEOPLE)
            .map(|i| {
                if i < 3 {
                    [0].into()
                } else {
                    Default::default()
                }
            })
            .collect(),
        current: 0,
        left: Vec::new(),
        sent: Vec::new(),
    };
    // The chain each person's app last read.
    let mut copies: Vec<Option<Value>> = (0..PEOPLE)
        .map(|i| (i < 3).then(|| chat.wire.clone()))
        .collect();
    for (step, op) in ops.into_iter().enumerate() {
        match op {
            Op::Send { who } => {
                let sender = &people[who];
                if !model.member[who] {
                    let key = chat::accept(&chat.wire, &people[0]);
                    let (status, answer) = say(c, &chat, &key, sender, "outside").await;
                    assert_eq!((status, code(&answer)), (403, "not_a_member"));
                    continue;
                }
                let (_, now) = chat::get(c, sender, &chat.id).await;
                let mut key = chat::accept(&now, sender);
                let text = format!("m{step}");
                let (mut status, mut answer) = say(c, &chat, &key, sender, &text).await;
                if !model.left.is_empty() {
                    // As the app: refused, it posts the next epoch without
                    // whoever left, and seals the message again.
                    assert_eq!((status, code(&answer)), (409, "rekey_required"));
                    let members = model.members(&people);
                    (_, key) = chat::change(c, sender, &chat.id, &members).await;
                    model.next_epoch();
                    (status, answer) = say(c, &chat, &key, sender, &text).await;
                }
                assert_eq!(status, 200, "{answer}");
                assert_eq!(key.epoch, model.current);
                let seq = answer["seq"].as_u64().unwrap();
                assert_eq!(seq, model.sent.len() as u64 + 1, "seq stays gap-free");
                model.sent.push((seq, model.current, text));
            }
            Op::Add { who, by } => {
                if model.member[who] || !model.member[by] {
                    continue;
                }
                if model.left.contains(&who) {
                    // Back before the epoch that drops them: that epoch
                    // comes first (no epoch may keep someone whose
                    // departure it carries), as the app does it.
                    let members = model.members(&people);
                    chat::change(c, &people[by], &chat.id, &members).await;
                    model.next_epoch();
                }
                model.member[who] = true;
                let members = model.members(&people);
                chat::change(c, &people[by], &chat.id, &members).await;
                model.next_epoch();
            }
            Op::Remove { who } => {
                if !model.member[who] {
                    continue;
                }
                model.member[who] = false;
                let members = model.members(&people);
                chat::change(c, &people[0], &chat.id, &members).await;
                model.next_epoch();
            }
            Op::Leave { who } => {
                if !model.member[who] {
                    continue;
                }
                let (_, now) = chat::get(c, &people[who], &chat.id).await;
                let (status, answer) = chat::leave(c, &people[who], &now).await;
                assert_eq!(status, 200, "{answer}");
                model.member[who] = false;
                model.left.push(who);
            }
            Op::Reconnect { who } => {
                let (status, read) = read_all(c, &chat, &people[who], &mut copies[who]).await;
                check_view(&model, who, status, &read);
            }
        }
    }
    for (who, person) in people.iter().enumerate() {
        let (status, read) = read_all(c, &chat, person, &mut copies[who]).await;
        check_view(&model, who, status, &read);
    }
    // Whoever is out holds no key to any epoch made after they went, and
    // nobody holds one to an epoch from before they came.
    let (_, last) = chat::get(c, &people[0], &chat.id).await;
    for (person, expected) in people.iter().zip(&model.held) {
        let held: std::collections::BTreeSet<u32> =
            native_client::accept_all(&last, &person.id, &person.dh)
                .map(|keys| keys.iter().map(|k| k.epoch).collect())
                .unwrap_or_default();
        assert_eq!(&held, expected, "the epochs {} holds", person.username);
    }
}

/// A member reads exactly the messages of the epochs it holds a key in;
/// anyone else is refused.
fn check_view(model: &Model, who: usize, status: u16, read: &[(u64, u32, String)]) {
    if !model.member[who] {
        assert_eq!(status, 403, "person {who} is out");
        return;
    }
    let expected: Vec<(u64, u32, String)> = model
        .sent
        .iter()
        .filter(|(_, epoch, _)| model.held[who].contains(epoch))
        .cloned()
        .collect();
    assert_eq!(read, expected, "person {who} reads the epochs it holds");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 10,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]

    #[test]
    fn every_member_reads_every_message_of_the_epochs_it_holds_and_no_other(
        ops in proptest::collection::vec(op(), 1..30)
    ) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(history_of_a_group(ops));
    }
}
