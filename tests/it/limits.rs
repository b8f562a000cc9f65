//! Nothing a client sends, before or after its CONNECT is authenticated,
//! makes the server hold more than a small frame (#17 item 2): an Engine.IO
//! payload (a polling POST) or a WebSocket message over the limit closes
//! that connection before it is read, and the server process's peak memory
//! stays flat under a burst of them. A packet under the limit is read and
//! answered as usual. These run their own `hush serve` process, so its
//! memory is its own.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hush::server::realtime::MAX_CLIENT_FRAME;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, client_async};

use crate::live::{POLLING, open};
use crate::util::{Client, ServeProcess, free_addr, healthy};

/// A Socket.IO CONNECT whose `auth` token makes the packet `len` bytes.
fn connect_packet(len: usize) -> String {
    let head = r#"40{"token":""#;
    let tail = r#""}"#;
    format!("{head}{}{tail}", "x".repeat(len - head.len() - tail.len()))
}

/// A server process of its own: the process, a client, its address, and
/// its data directory (kept until the test ends).
async fn server() -> (ServeProcess, Client, SocketAddr, crate::pg::Data) {
    let data = crate::pg::Data::new();
    let addr = free_addr();
    let process = ServeProcess::start(&addr.to_string(), data.path());
    let client = Client::new(addr);
    healthy(&client).await;
    (process, client, addr, data)
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket Engine.IO session, its open packet read.
async fn websocket(addr: SocketAddr) -> Ws {
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut ws, _) = client_async(url, MaybeTlsStream::Plain(stream))
        .await
        .unwrap();
    match ws.next().await {
        Some(Ok(Message::Text(open))) => assert!(open.starts_with('0'), "{open}"),
        other => panic!("expected the Engine.IO open packet, got {other:?}"),
    }
    ws
}

/// The text frames the server sends until it closes the connection, or
/// `None` if it is still open after `within`.
async fn until_closed(ws: &mut Ws, within: Duration) -> Option<Vec<String>> {
    let mut texts = Vec::new();
    let read = async {
        while let Some(frame) = ws.next().await {
            match frame {
                Ok(Message::Text(text)) => texts.push(text.to_string()),
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(within, read).await.ok()?;
    Some(texts)
}

#[tokio::test]
async fn regression_an_oversized_websocket_message_closes_the_connection_unread() {
    let (_process, _client, addr, _data) = server().await;

    // Under the limit: read, and answered (the token is not a session).
    let mut ws = websocket(addr).await;
    ws.send(Message::text(connect_packet(MAX_CLIENT_FRAME - 64)))
        .await
        .unwrap();
    // Engine.IO pings may come first; the answer is the next other packet.
    let answer = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) if text.as_str() == "2" => continue,
                other => return other,
            }
        }
    })
    .await
    .expect("an answer");
    match answer {
        Some(Ok(Message::Text(text))) => assert!(text.starts_with("44"), "{text}"),
        other => panic!("expected a connect_error, got {other:?}"),
    }

    // Over it: closed, with no answer.
    let mut ws = websocket(addr).await;
    let _ = ws
        .send(Message::text(connect_packet(MAX_CLIENT_FRAME + 64)))
        .await;
    let texts = until_closed(&mut ws, Duration::from_secs(5))
        .await
        .expect("the server closed the connection");
    assert!(
        texts
            .iter()
            .all(|t| !t.starts_with("44") && !t.starts_with("40")),
        "nothing of it was read: {texts:?}"
    );
}

#[tokio::test]
async fn regression_an_oversized_polling_post_is_413_and_ends_the_session() {
    let (_process, client, _addr, _data) = server().await;
    let post = |sid: String, body: String| {
        let url = client.url(&format!("{POLLING}&sid={sid}"));
        let http = client.http.clone();
        async move { http.post(url).body(body).send().await.unwrap() }
    };

    let (sid, _) = open(&client).await;
    let small = post(sid.clone(), connect_packet(MAX_CLIENT_FRAME - 64)).await;
    assert_eq!(small.status(), 200, "under the limit it is read");

    let (sid, _) = open(&client).await;
    let big = post(sid.clone(), connect_packet(MAX_CLIENT_FRAME + 64)).await;
    assert_eq!(big.status(), 413);
    let url = client.url(&format!("{POLLING}&sid={sid}"));
    let after = client.http.get(url).send().await.unwrap();
    assert_eq!(after.status(), 400, "the session is gone");
}

#[tokio::test]
async fn regression_a_burst_of_huge_frames_leaves_server_memory_flat() {
    let (process, _client, addr, _data) = server().await;
    // Connections open first, so only the frames count.
    let mut sockets = Vec::new();
    for _ in 0..10 {
        sockets.push(websocket(addr).await);
    }
    let before = process.status_kib("VmHWM");
    let huge = connect_packet(4 * 1024 * 1024);
    let sends = sockets.iter_mut().map(|ws| {
        let frame = Message::text(huge.clone());
        async move {
            let _ = ws.send(frame).await;
            until_closed(ws, Duration::from_secs(10)).await.is_some()
        }
    });
    let closed = futures_util::future::join_all(sends).await;
    assert!(
        closed.iter().all(|c| *c),
        "every connection closed: {closed:?}"
    );
    let grown_mib = process.status_kib("VmHWM").saturating_sub(before) / 1024;
    // Ten 4 MiB frames read whole would raise the peak by 40 MiB or more.
    assert!(
        grown_mib < 12,
        "the server's peak memory grew by {grown_mib} MiB"
    );
}
