//! Accepts connections and serves each with hyper (HTTP/1.1 and its
//! upgrade to WebSocket) under a header timeout, which `axum::serve` cannot
//! set: a client that sends its request headers slowly, or a kept-alive
//! connection that sends no next request, is closed after
//! `header_timeout_secs` instead of holding a connection for ever. A
//! connection upgraded to a WebSocket has left hyper; Engine.IO's pings
//! watch it from then on.
//!
//! Each request carries its connection's address (`ConnectInfo`), as
//! `into_make_service_with_connect_info` gave it. Stopping stops
//! accepting, lets every connection finish its request in flight, then
//! returns.

use std::future::Future;
use std::io;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

/// Serves `app` on `listener` until `stop` completes, then waits for the
/// connections' requests in flight.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    stop: impl Future<Output = ()>,
) {
    // `stopping` tells every connection to finish; each holds a
    // `working`, so `all_finished.closed()` resolves once the last is done.
    let (stopping, stop_signal) = watch::channel(());
    let (all_finished, working) = watch::channel(());
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    pause_after(&e).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        // Pushes are small WebSocket frames: without TCP_NODELAY, Nagle's
        // algorithm holds one back until the client's delayed ACK (up to
        // 40 ms) whenever another is still unacknowledged.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let service = app
            .clone()
            .map_request(move |request: hyper::Request<Incoming>| {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(addr));
                request
            });
        let mut stop_signal = stop_signal.clone();
        let holds = working.clone();
        tokio::spawn(async move {
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let connection = builder
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                .with_upgrades();
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::trace!(error = %e, "a connection ended with an error");
                    }
                }
                _ = stop_signal.changed() => {
                    connection.as_mut().graceful_shutdown();
                    if let Err(e) = connection.await {
                        tracing::trace!(error = %e, "a connection ended with an error");
                    }
                }
            }
            drop(holds);
        });
    }
    drop(listener);
    drop(stop_signal);
    drop(working);
    let _ = stopping.send(());
    all_finished.closed().await;
}

/// After a failed accept: a connection that went before it was accepted is
/// nothing; anything else (out of file descriptors, say) is logged and
/// accepting pauses a second, so the loop does not spin.
async fn pause_after(e: &io::Error) {
    use io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "could not accept a connection; pausing a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::Arc;

    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    async fn server(header_timeout: Duration) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route(
            "/",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve(listener, app, header_timeout, async {
            let _ = stopped.await;
        }));
        (addr, stop)
    }

    /// Reads until the server closes the connection; how long that took.
    async fn closed_after(stream: &mut TcpStream) -> Duration {
        let started = tokio::time::Instant::now();
        let mut sink = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut sink)).await;
        started.elapsed()
    }

    #[tokio::test]
    async fn a_request_is_answered_with_its_connection_address() {
        let (addr, _stop) = server(Duration::from_secs(5)).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("127.0.0.1"), "{answer}");
    }

    #[tokio::test]
    async fn regression_slow_headers_are_cut_off() {
        let (addr, _stop) = server(Duration::from_secs(1)).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n")
            .await
            .unwrap();
        // The rest of the headers never comes.
        let waited = closed_after(&mut stream).await;
        assert!(
            waited < Duration::from_secs(3),
            "closed after {waited:?}, not at the 1 s header timeout"
        );
    }

    #[tokio::test]
    async fn regression_an_idle_kept_alive_connection_is_closed() {
        let (addr, _stop) = server(Duration::from_secs(1)).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut first = [0u8; 12];
        stream.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"HTTP/1.1 200");
        // Kept alive, and then nothing.
        let waited = closed_after(&mut stream).await;
        assert!(waited < Duration::from_secs(3), "closed after {waited:?}");
    }

    #[tokio::test]
    async fn stopping_waits_for_the_request_in_flight() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let started = Arc::new(tokio::sync::Notify::new());
        let app = Router::new().route(
            "/",
            get({
                let started = started.clone();
                move || async move {
                    started.notify_one();
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    "finished"
                }
            }),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(serve(listener, app, Duration::from_secs(5), async {
            let _ = stopped.await;
        }));
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        started.notified().await;
        stop.send(()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(answer.ends_with("finished"), "{answer}");
        tokio::time::timeout(Duration::from_secs(5), serving)
            .await
            .expect("serve returns once the request is done")
            .unwrap();
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "no longer accepting"
        );
    }
}
