//! A client too slow to read its socket misses pushes once its buffer is
//! full. The server does not pretend otherwise: it logs each miss at warn,
//! with ids and counts only (the blindness test checks that no message data
//! is ever logged). And the client still ends up with every
//! message, in order, once: the next push's `seq` shows the gap, and it
//! fetches the gap from history.

use std::time::Duration;

use crate::chat::{self, seal, send};
use crate::reader::Reader;
use crate::util::{TestServer, capture_logs};

// Current-thread: the server logs on this thread, where the capture is.
#[tokio::test(flavor = "current_thread")]
async fn a_stalled_client_misses_pushes_visibly_and_still_gets_everything() {
    let (log, _guard) = capture_logs();

    let server = TestServer::start_for_accounts().await;
    let password = "correct horse battery staple";
    let hi = server.sign_up("hi89", password).await;
    let lo = server.sign_up("lo89", password).await;
    let chat = chat::create(&server, &hi, &[&hi, &lo], None).await;
    let mut reader = Reader::new(lo.clone(), &chat.id);
    reader.connect(&server).await;

    // More than a socket buffer holds (128 packets by default).
    reader.live().unwrap().stall();
    const BURST: u64 = 400;
    chat::send_numbered(&server, &hi, &chat.id, &chat.ck, 1..=BURST).await;
    reader.live().unwrap().resume();
    reader.pump(&server, Duration::from_secs(5)).await;
    let received = reader.held().len() as u64;
    assert!(
        received < BURST,
        "the stalled socket missed pushes ({received} held)"
    );

    let logged = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    assert!(
        logged.contains("a push did not reach every socket"),
        "each miss is logged: {logged}"
    );

    // The next push shows the gap; the reader fetches it.
    send(
        &server,
        &hi,
        &seal(&chat.id, &chat.ck, &hi, "after the burst"),
    )
    .await;
    reader.pump(&server, Duration::from_secs(5)).await;
    assert_eq!(reader.seqs(), (1..=BURST + 1).collect::<Vec<_>>());
    assert_eq!(reader.repeats, 0);
}
