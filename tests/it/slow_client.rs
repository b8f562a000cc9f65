//! A client too slow to read its socket misses pushes once its buffer is
//! full. The server does not pretend otherwise: it logs each miss at warn,
//! with ids and counts only. And the client still ends up with every
//! message, in order, once: the next push's `seq` shows the gap, and it
//! fetches the gap from history.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::chat::{self, seal, send};
use crate::reader::Reader;
use crate::util::TestServer;

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// Current-thread: the server logs on this thread, where the capture is.
#[tokio::test(flavor = "current_thread")]
async fn a_stalled_client_misses_pushes_visibly_and_still_gets_everything() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let writer = Capture(log.clone());
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

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
    for i in 1..=BURST {
        let (status, _) = send(
            &server,
            &hi,
            &seal(&chat.id, &chat.ck, &hi, &format!("m{i}")),
        )
        .await;
        assert_eq!(status, 200);
    }
    reader.live().unwrap().resume();
    reader.pump(&server, Duration::from_secs(5)).await;
    let received = reader.held.len() as u64;
    assert!(
        received < BURST,
        "the stalled socket missed pushes ({received} held)"
    );

    let logged = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    assert!(
        logged.contains("a push did not reach every socket"),
        "each miss is logged: {logged}"
    );
    assert!(!logged.contains("m1"), "no message data in the log");

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
