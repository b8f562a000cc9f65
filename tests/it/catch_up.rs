//! Nothing is lost while a member is away: a reader that was offline while
//! 100 messages were sent has all 100 after reconnecting, once each, in
//! `seq` order, and goes on receiving pushes.

use std::time::Duration;

use crate::chat::{self, open, seal, send};
use crate::reader::Reader;
use crate::util::TestServer;

#[tokio::test]
async fn a_reader_offline_during_100_sends_gets_all_100_once_in_order() {
    let server = TestServer::start_for_accounts().await;
    let password = "correct horse battery staple";
    let hi = server.sign_up("hi89", password).await;
    let lo = server.sign_up("lo89", password).await;
    let chat = chat::create(&server, &hi, &[&hi, &lo], None).await;
    let ck = chat::accept(&chat.wire, &lo);

    let mut reader = Reader::new(lo.clone(), &chat.id);
    reader.connect(&server).await;
    send(&server, &hi, &seal(&chat.id, &chat.ck, &hi, "m0")).await;
    reader.pump(&server, Duration::from_secs(2)).await;
    assert_eq!(reader.seqs(), [1]);

    reader.disconnect();
    chat::send_numbered(&server, &hi, &chat.id, &chat.ck, 1..=100).await;
    reader.connect(&server).await;
    assert_eq!(reader.seqs(), (1..=101).collect::<Vec<_>>());
    for message in reader.held() {
        let seq = message["seq"].as_u64().unwrap();
        assert_eq!(open(&message, &ck, &hi.sig_public), format!("m{}", seq - 1));
    }

    send(&server, &hi, &seal(&chat.id, &chat.ck, &hi, "after")).await;
    reader.pump(&server, Duration::from_secs(2)).await;
    assert_eq!(reader.last_seq(), 102);
    assert_eq!(reader.held().len(), 102);
    assert_eq!(reader.repeats, 0, "no message pushed twice");
}
