//! Gives server-function errors their real HTTP status.
//!
//! A server function that fails answers 500 with its error's JSON body;
//! this layer reads that body (an [`ApiError`]) and sets the status its code
//! calls for (400, 401, 409, 429 with `Retry-After`, …). One place, so no
//! endpoint can forget, and a body that never reached its function (bad
//! JSON) gets its 400 as well.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;

use crate::model::error::ApiError;

/// Error bodies are small; anything larger is not ours to rewrite.
const MAX_ERROR_BODY: usize = 16 * 1024;

pub async fn fix_status(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    // Server functions mark their error answers with this header; leave
    // everything else (pages, files) alone.
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(error) = serde_json::from_slice::<ApiError>(&bytes) {
        parts.status = StatusCode::from_u16(error.error.status()).unwrap_or(parts.status);
        parts
            .headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(secs) = error.retry_after {
            parts.headers.insert(RETRY_AFTER, HeaderValue::from(secs));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}
