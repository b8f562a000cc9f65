//! What a request may bring before any handler runs: a body no bigger than
//! its endpoint could ever need, arriving within `body_timeout_secs`, and
//! Socket.IO handshakes at most `handshakes_per_address` per client address
//! in any ten seconds.
//!
//! Bodies: leptos reads a server function's whole body with no limit, so
//! one request could make the server hold any amount. Here every body but
//! the Socket.IO layer's (which bounds its own, `realtime::MAX_CLIENT_FRAME`)
//! is read first, up to its endpoint's limit and against the clock: over
//! the limit is 413 (`message_too_large` for a send, so an oversized send
//! is 413 whichever check sees it first, `book_too_large` for a contact
//! book, `request_too_large` otherwise), too slow is 408
//! `request_timeout`. The limits follow the settings and constants they
//! must hold (a send's from `max_message_bytes`).
//!
//! Handshakes: an Engine.IO session exists before its Socket.IO CONNECT
//! is authenticated, for at most `realtime::CONNECT_TIMEOUT`. Counting an
//! address's handshakes over that same window bounds the sessions it can
//! hold unauthenticated at once; one more is 429 `rate_limited`.

use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Instant;

use axum::body::{Body, HttpBody};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_LENGTH, RETRY_AFTER};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::address;
use super::realtime::CONNECT_TIMEOUT;
use super::state::AppState;
use super::throttle::Limit;
use crate::model::contacts::MAX_BOOK_BYTES;
use crate::model::conversation::{MAX_KNOWN, MAX_MEMBERS};
use crate::model::error::{ApiError, ErrorCode};
use crate::model::suite::{SIGNATURE_LEN, WRAPPED_KEY_LEN};
use crate::protocol;

/// Room in a body for everything beside its one big field.
const ENVELOPE: usize = 4096;
/// The body limit of every endpoint without a big field (sign-up, login,
/// lookup, list, history…), and of pages.
pub const SMALL_BODY: usize = 16 * 1024;

/// Characters of base64 (without padding) for `bytes` bytes.
fn base64_len(bytes: usize) -> usize {
    bytes.div_ceil(3) * 4
}

/// The most a body to `path` may hold, and the code for one that holds more.
pub fn body_limit(path: &str, max_message_bytes: u32) -> (usize, ErrorCode) {
    match path {
        "/api/messages/send" => (
            base64_len(max_message_bytes as usize) + ENVELOPE,
            ErrorCode::MessageTooLarge,
        ),
        "/api/contacts/put" => (
            base64_len(MAX_BOOK_BYTES) + ENVELOPE,
            ErrorCode::BookTooLarge,
        ),
        // Each member's id twice (in `member_ids` and in its key) and its
        // wrapped key, with the JSON around them.
        "/api/conversations/create" => (
            MAX_MEMBERS * (2 * 40 + base64_len(WRAPPED_KEY_LEN) + 40) + ENVELOPE,
            ErrorCode::RequestTooLarge,
        ),
        // As a create, and a departure (an id and a signature) per member
        // at most.
        "/api/conversations/change" => (
            MAX_MEMBERS
                * (2 * 40 + base64_len(WRAPPED_KEY_LEN) + 40 + 40 + base64_len(SIGNATURE_LEN) + 40)
                + ENVELOPE,
            ErrorCode::RequestTooLarge,
        ),
        // Up to MAX_KNOWN ids held, each quoted with a comma.
        "/api/conversations/list" => (MAX_KNOWN * 39 + ENVELOPE, ErrorCode::RequestTooLarge),
        _ => (SMALL_BODY, ErrorCode::RequestTooLarge),
    }
}

fn too_large(code: ErrorCode, limit: usize) -> Response {
    ApiError::new(
        code,
        format!("The request body is over the {limit} bytes this endpoint accepts."),
    )
    .into_response()
}

/// Why a body could not be read whole.
enum Unread {
    TooLarge,
    Broken,
}

/// Reads `body` whole, refusing it past `limit` bytes.
async fn read(mut body: Body, limit: usize) -> Result<Vec<u8>, Unread> {
    let mut bytes = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|_| Unread::Broken)?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > limit {
                return Err(Unread::TooLarge);
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}

/// Reads every body but the Socket.IO layer's up to its limit and within
/// the body timeout, then passes the request on with the body in memory.
pub async fn bounded_body(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if protocol::is_socket_path(path) {
        return next.run(request).await;
    }
    let (limit, code) = body_limit(path, state.settings.max_message_bytes);
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large(code, limit);
    }
    let (parts, body) = request.into_parts();
    let bytes = match tokio::time::timeout(state.settings.body_timeout, read(body, limit)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(Unread::TooLarge)) => return too_large(code, limit),
        Ok(Err(Unread::Broken)) => {
            return ApiError::invalid("body", "the request body ended before it was complete")
                .into_response();
        }
        Err(_) => {
            let secs = state.settings.body_timeout.as_secs();
            return ApiError::new(
                ErrorCode::RequestTimeout,
                format!("The request body did not arrive within {secs} s."),
            )
            .into_response();
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Whether a request to the Socket.IO path opens a new Engine.IO session
/// (it names no `sid` yet).
fn opens_session(request: &Request) -> bool {
    protocol::is_socket_path(request.uri().path())
        && !request
            .uri()
            .query()
            .unwrap_or("")
            .split('&')
            .any(|pair| pair.starts_with("sid="))
}

/// Counts each Engine.IO handshake under its client address; past
/// `handshakes_per_address` in the window, 429.
pub async fn handshakes(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !opens_session(&request) {
        return next.run(request).await;
    }
    let Some(ConnectInfo(peer)) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .copied()
    else {
        return next.run(request).await;
    };
    let forwarded = request
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    let client = address::client_ip(peer.ip(), forwarded, &state.settings.trusted_proxies);
    let key = [(
        format!("handshake-ip|{}", address::group(client)),
        Limit {
            max: state.settings.handshakes_per_address,
            window: CONNECT_TIMEOUT,
        },
    )];
    if let Err(wait) = state.throttle.take_all(&key, Instant::now()) {
        let secs = wait.as_secs().max(1);
        tracing::debug!("refused a socket handshake: too many from one address");
        let mut response = ApiError::new(
            ErrorCode::RateLimited,
            format!("Too many connections from your address; try again in {secs} s."),
        )
        .into_response();
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
        return response;
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_send_body_holds_the_largest_ciphertext_and_its_envelope() {
        let (limit, code) = body_limit("/api/messages/send", 65_536);
        assert_eq!(code, ErrorCode::MessageTooLarge);
        assert!(limit >= base64_len(65_536) + 200, "{limit}");
        let (small, code) = body_limit("/api/login", 65_536);
        assert_eq!((small, code), (SMALL_BODY, ErrorCode::RequestTooLarge));
        let (book, code) = body_limit("/api/contacts/put", 65_536);
        assert_eq!(code, ErrorCode::BookTooLarge);
        assert!(book > base64_len(MAX_BOOK_BYTES));
    }

    #[test]
    fn only_a_request_without_sid_opens_a_session() {
        let at = |uri: &str| Request::builder().uri(uri).body(Body::empty()).unwrap();
        assert!(opens_session(&at("/socket.io/?EIO=4&transport=polling")));
        assert!(opens_session(&at("/socket.io?EIO=4&transport=websocket")));
        assert!(!opens_session(&at(
            "/socket.io/?EIO=4&transport=polling&sid=abc"
        )));
        assert!(!opens_session(&at(
            "/socket.io/?sid=abc&EIO=4&transport=websocket"
        )));
        assert!(!opens_session(&at("/api/login")));
    }
}
