//! Presence (DESIGN.md, "Live conversation (wire)"): a user is online
//! while any of their sockets is connected, and for a few seconds' grace
//! after the last one closes; `presence` goes only to people who share a
//! conversation with them, only while both share presence, and a socket
//! that connects hears who of them is online already.

use std::time::Duration;

use serde_json::json;

use crate::chat;
use crate::live::Live;
use crate::util::{TestServer, share};

/// Longer than the server's grace (`PRESENCE_GRACE`, 5 s).
const PAST_GRACE: Duration = Duration::from_secs(7);

#[tokio::test]
async fn presence_reaches_fellow_members_with_a_grace_and_only_while_both_share_it() {
    let server = TestServer::start_for_accounts().await;
    let c = &server.client;
    let ana = c.sign_up("ana", "correct horse battery").await;
    let ben = c.sign_up("ben", "correct horse battery").await;
    let cyd = c.sign_up("cyd", "correct horse battery").await;
    chat::create(c, &ana, &[&ana, &ben], None).await;
    let silence = Duration::from_millis(400);
    let online = |who: &str, now: bool| json!({ "user_id": who, "online": now });

    let mut ben_live = Live::connect(c, &ben.token).await;
    ben_live.hear_presence();
    let mut cyd_live = Live::connect(c, &cyd.token).await;
    cyd_live.hear_presence();
    ben_live.expect_silence(silence).await;

    // Ana comes online: ben hears it, a stranger does not; her socket hears
    // that ben is online already.
    let mut ana_tab = Live::connect(c, &ana.token).await;
    ana_tab.hear_presence();
    assert_eq!(ben_live.expect("presence").await, online(&ana.id, true));
    assert_eq!(ana_tab.expect("presence").await, online(&ben.id, true));
    cyd_live.expect_silence(silence).await;

    // A second tab, and closing it, change nothing for ben.
    let ana_other_tab = Live::connect(c, &ana.token).await;
    ben_live.expect_silence(silence).await;
    ana_other_tab.close().await;
    ben_live.expect_silence(silence).await;

    // Her last tab closes and comes back within the grace: no flicker.
    ana_tab.close().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let ana_tab = Live::connect(c, &ana.token).await;
    ben_live.expect_silence(PAST_GRACE).await;

    // Gone for longer than the grace: offline.
    ana_tab.close().await;
    ben_live.expect_silence(Duration::from_secs(3)).await;
    assert_eq!(ben_live.expect("presence").await, online(&ana.id, false));

    // Ben stops sharing presence: ana, back, hears neither that he is
    // online now nor anything of him later, and he hears nothing of her.
    let mut ana_tab = Live::connect(c, &ana.token).await;
    ana_tab.hear_presence();
    assert_eq!(ana_tab.expect("presence").await, online(&ben.id, true));
    assert_eq!(ben_live.expect("presence").await, online(&ana.id, true));
    share(c, &ben, true, false).await;
    // To her it is as if he went offline.
    assert_eq!(ana_tab.expect("presence").await, online(&ben.id, false));
    assert_eq!(ben_live.expect("settings").await["presence"], false);
    let mut ana_again = Live::connect(c, &ana.token).await;
    ana_again.hear_presence();
    ana_again.expect_silence(silence).await;
    ana_tab.close().await;
    ana_again.close().await;
    ben_live.expect_silence(PAST_GRACE).await;

    // Sharing again: she hears he is online; he hears who is.
    let mut ana_tab = Live::connect(c, &ana.token).await;
    ana_tab.hear_presence();
    ana_tab.expect_silence(silence).await;
    share(c, &ben, true, true).await;
    assert_eq!(ana_tab.expect("presence").await, online(&ben.id, true));
    assert_eq!(ben_live.expect("settings").await["presence"], true);
    assert_eq!(ben_live.expect("presence").await, online(&ana.id, true));
    cyd_live.expect_silence(silence).await;

    // A conversation between two people online: each hears of the other
    // at once, nobody else does.
    chat::create(c, &ana, &[&ana, &cyd], None).await;
    assert_eq!(cyd_live.next_presence().await, online(&ana.id, true));
    assert_eq!(ana_tab.next_presence().await, online(&cyd.id, true));
    ben_live.expect_silence(silence).await;
}
