//! Read positions and what a user shares of them (DESIGN.md, "Live
//! conversation (wire)"): `conversations/read` raises a member's position
//! and never lowers it; the reader's other tabs hear it at once, the room
//! only from readers who share receipts, and never users who do not
//! (reciprocity); list carries the positions by the same rule.

use std::time::Duration;

use serde_json::{Value, json};

use crate::chat;
use crate::live::Live;
use crate::util::{Account, Client, TestServer, share};

async fn read(c: &Client, reader: &Account, chat: &str, seq: u64) -> (u16, Value) {
    let response = c
        .post(
            "conversations/read",
            json!({ "conversation_id": chat, "seq": seq }),
            Some(&reader.token),
        )
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// The reads a list gives `user`, as `(reader name, seq)` in name order.
async fn listed_reads(c: &Client, user: &Account, names: &[&Account]) -> Vec<(String, u64)> {
    let response = c
        .post("conversations/list", json!({}), Some(&user.token))
        .await;
    assert_eq!(response.status(), 200);
    let list: Value = response.json().await.unwrap();
    let mut reads: Vec<(String, u64)> = list["reads"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let who = names
                .iter()
                .find(|a| a.id == r["user_id"].as_str().unwrap())
                .expect("a member")
                .username
                .clone();
            (who, r["seq"].as_u64().unwrap())
        })
        .collect();
    reads.sort();
    reads
}

#[tokio::test]
async fn a_read_position_only_rises_and_reaches_the_room_only_between_people_who_share() {
    let server = TestServer::start_for_accounts().await;
    let c = &server.client;
    let ana = c.sign_up("ana", "correct horse battery").await;
    let ben = c.sign_up("ben", "correct horse battery").await;
    let cyd = c.sign_up("cyd", "correct horse battery").await;
    let chat = chat::create(c, &ana, &[&ana, &ben], None).await;
    chat::send_numbered(c, &ben, &chat.id, &chat.ck, 1..=3).await;
    let mut ana_other_tab = Live::connect(c, &ana.token).await;
    let mut ben_live = Live::connect(c, &ben.token).await;
    let mut cyd_live = Live::connect(c, &cyd.token).await;
    let silence = Duration::from_millis(300);

    // Raised: stored, her other tab and ben hear it, a stranger does not.
    assert_eq!(read(c, &ana, &chat.id, 2).await, (200, json!({ "seq": 2 })));
    let heard = json!({ "conversation_id": chat.id, "user_id": ana.id, "seq": 2 });
    assert_eq!(ana_other_tab.expect("read").await, heard);
    assert_eq!(ben_live.expect("read").await, heard);
    cyd_live.expect_silence(silence).await;

    // Lower: nothing moves, nobody hears; past the end: the last seq.
    assert_eq!(read(c, &ana, &chat.id, 1).await, (200, json!({ "seq": 2 })));
    ben_live.expect_silence(silence).await;
    assert_eq!(
        read(c, &ana, &chat.id, u64::MAX).await,
        (200, json!({ "seq": 3 }))
    );
    assert_eq!(ben_live.expect("read").await["seq"], 3);
    assert_eq!(ana_other_tab.expect("read").await["seq"], 3);

    // Members only; a malformed body names its field.
    let (status, refused) = read(c, &cyd, &chat.id, 1).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (403, Some("not_a_member"))
    );
    let response = c
        .post(
            "conversations/read",
            json!({ "conversation_id": chat.id, "seq": -1 }),
            Some(&ana.token),
        )
        .await;
    assert_eq!(response.status(), 400);
    let refused: Value = response.json().await.unwrap();
    assert!(
        refused["message"].as_str().unwrap().contains("seq: "),
        "{refused}"
    );

    // List: ben sees ana's position; ana her own.
    let both = [&ana, &ben];
    assert_eq!(listed_reads(c, &ben, &both).await, vec![("ana".into(), 3)]);
    assert_eq!(listed_reads(c, &ana, &both).await, vec![("ana".into(), 3)]);

    // Ben stops sharing: his tabs are told; he no longer hears ana's reads
    // nor lists them, and nobody hears his, but his own tabs do.
    let mut ben_other_tab = Live::connect(c, &ben.token).await;
    share(c, &ben, false, true).await;
    let off = json!({ "receipts": false, "presence": true });
    assert_eq!(ben_live.expect("settings").await, off);
    assert_eq!(ben_other_tab.expect("settings").await, off);
    let got = c.post("settings/get", json!({}), Some(&ben.token)).await;
    assert_eq!(got.json::<Value>().await.unwrap(), off);
    chat::send_numbered(c, &ben, &chat.id, &chat.ck, 4..=5).await;
    for tab in [&mut ana_other_tab, &mut ben_live, &mut ben_other_tab] {
        assert_eq!(tab.expect("new-message").await["seq"], 4);
        assert_eq!(tab.expect("new-message").await["seq"], 5);
    }
    assert_eq!(read(c, &ana, &chat.id, 4).await.0, 200);
    assert_eq!(ana_other_tab.expect("read").await["seq"], 4);
    assert_eq!(read(c, &ben, &chat.id, 5).await.0, 200);
    let own = json!({ "conversation_id": chat.id, "user_id": ben.id, "seq": 5 });
    assert_eq!(ben_other_tab.expect("read").await, own);
    ben_live.expect("read").await;
    ben_live.expect_silence(silence).await;
    ana_other_tab.expect_silence(silence).await;
    assert_eq!(listed_reads(c, &ben, &both).await, vec![("ben".into(), 5)]);
    assert_eq!(listed_reads(c, &ana, &both).await, vec![("ana".into(), 4)]);

    // Sharing again: both positions are listed to both.
    share(c, &ben, true, true).await;
    let all = vec![("ana".into(), 4), ("ben".into(), 5)];
    assert_eq!(listed_reads(c, &ben, &both).await, all);
    assert_eq!(listed_reads(c, &ana, &both).await, all);
    assert_eq!(read(c, &ana, &chat.id, 5).await.0, 200);
    assert_eq!(ben_live.expect("settings").await["receipts"], true);
    assert_eq!(ben_live.expect("read").await["seq"], 5);
}

#[tokio::test]
async fn in_a_group_over_the_live_limit_reads_and_presence_stay_off_the_room() {
    let server = TestServer::start_for_accounts().await;
    let c = &server.client;
    let size = hush::server::live::LIVE_GROUP_MAX as usize + 1;
    let mut people = Vec::with_capacity(size);
    for i in 0..size {
        people.push(
            c.sign_up(&format!("pp{i:03}"), "correct horse battery")
                .await,
        );
    }
    let (ana, ben) = (&people[0], &people[1]);
    let everyone: Vec<&Account> = people.iter().collect();
    let chat = chat::create(c, ana, &everyone, None).await;
    let mut ben_live = Live::connect(c, &ben.token).await;
    ben_live.hear_presence();
    let mut ana_tab = Live::connect(c, &ana.token).await;
    chat::send_numbered(c, ben, &chat.id, &chat.ck, 1..=1).await;
    assert_eq!(ben_live.expect("new-message").await["seq"], 1);
    assert_eq!(ana_tab.expect("new-message").await["seq"], 1);

    // Ana reads: her tab hears it, ben does not (nor did he hear her come
    // online); his next list has it.
    assert_eq!(read(c, ana, &chat.id, 1).await, (200, json!({ "seq": 1 })));
    assert_eq!(ana_tab.expect("read").await["seq"], 1);
    ben_live.expect_silence(Duration::from_millis(500)).await;
    assert_eq!(
        listed_reads(c, ben, &everyone).await,
        vec![("pp000".into(), 1)]
    );
}
