//! `typing` (DESIGN.md, "Live conversation (wire)"): relayed to the
//! conversation's room but the socket that sent it, members only, at most
//! one every two seconds per socket, never stored.

use std::time::Duration;

use serde_json::json;

use crate::chat;
use crate::live::Live;
use crate::util::TestServer;

#[tokio::test]
async fn typing_reaches_the_other_members_only_at_most_every_two_seconds_and_is_never_stored() {
    let server = TestServer::start_for_accounts().await;
    let c = &server.client;
    let ana = c.sign_up("ana", "correct horse battery").await;
    let ben = c.sign_up("ben", "correct horse battery").await;
    let cyd = c.sign_up("cyd", "correct horse battery").await;
    let chat = chat::create(c, &ana, &[&ana, &ben], None).await;
    let ana_tab = Live::connect(c, &ana.token).await;
    let mut ana_other_tab = Live::connect(c, &ana.token).await;
    let mut ben_live = Live::connect(c, &ben.token).await;
    let mut cyd_live = Live::connect(c, &cyd.token).await;
    let typing = json!({ "conversation_id": chat.id });

    ana_tab.emit("typing", typing.clone()).await;
    let heard = json!({ "conversation_id": chat.id, "user_id": ana.id });
    assert_eq!(ben_live.expect("typing").await, heard);
    // Her other tab hears it too (it is the room but the sending socket);
    // the app shows nobody their own typing.
    assert_eq!(ana_other_tab.expect("typing").await, heard);
    cyd_live.expect_silence(Duration::from_millis(300)).await;

    // Again at once: dropped, as is a stranger's, and one that names no
    // conversation.
    ana_tab.emit("typing", typing.clone()).await;
    cyd_live.emit("typing", typing.clone()).await;
    ben_live
        .emit("typing", json!({ "conversation": chat.id }))
        .await;
    ben_live.expect_silence(Duration::from_millis(500)).await;
    ana_other_tab
        .expect_silence(Duration::from_millis(100))
        .await;

    // Never stored: nothing in the conversation's history.
    let (status, page) = chat::history(
        c,
        &ben,
        json!({ "conversation_id": chat.id, "after_seq": 0, "limit": 50 }),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["messages"], json!([]));

    // Two seconds on, it goes through again.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    ana_tab.emit("typing", typing).await;
    assert_eq!(ben_live.expect("typing").await, heard);
}

#[tokio::test]
async fn typing_within_a_second_of_a_relay_goes_out_once_for_all_typists_at_its_end() {
    let server = TestServer::start_for_accounts().await;
    let c = &server.client;
    let ana = c.sign_up("ana33", "correct horse battery").await;
    let ben = c.sign_up("ben33", "correct horse battery").await;
    let cyd = c.sign_up("cyd33", "correct horse battery").await;
    let dan = c.sign_up("dan33", "correct horse battery").await;
    let eve = c.sign_up("eve33", "correct horse battery").await;
    let chat = chat::create(c, &ana, &[&ana, &ben, &cyd, &dan], None).await;
    let ana_live = Live::connect(c, &ana.token).await;
    let mut ben_live = Live::connect(c, &ben.token).await;
    let cyd_live = Live::connect(c, &cyd.token).await;
    let mut dan_live = Live::connect(c, &dan.token).await;
    let eve_live = Live::connect(c, &eve.token).await;
    let typing = json!({ "conversation_id": chat.id });

    // The room has heard nothing for a while: ana's goes out at once.
    ana_live.emit("typing", typing.clone()).await;
    let alone = json!({ "conversation_id": chat.id, "user_id": ana.id });
    assert_eq!(dan_live.expect("typing").await, alone);
    assert_eq!(ben_live.expect("typing").await, alone);
    // Within the second: ben and cyd (and eve, who is not a member) wait
    // for its end, and go out together, once, to the whole room.
    ben_live.emit("typing", typing.clone()).await;
    cyd_live.emit("typing", typing.clone()).await;
    eve_live.emit("typing", typing.clone()).await;
    dan_live.expect_silence(Duration::from_millis(600)).await;
    let together = json!({
        "conversation_id": chat.id,
        "user_id": ben.id,
        "user_ids": [ben.id, cyd.id],
    });
    assert_eq!(dan_live.expect("typing").await, together);
    // ben's socket hears itself named too; the app shows nobody their own.
    assert_eq!(ben_live.expect("typing").await, together);
    dan_live.expect_silence(Duration::from_millis(1200)).await;
}
