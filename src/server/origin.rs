//! The cross-origin guard for the API and the sockets.
//!
//! The browser app authenticates with a SameSite=Strict cookie, and a
//! WebSocket handshake is not covered by CORS, so another site could
//! otherwise open a socket in a signed-in user's name. A request to `/api/…`
//! or to `/socket.io` (or below it: all that the Socket.IO layer answers)
//! that carries an `Origin` header must come from the server's own origin
//! (its `Host`) or from one of the `allowed_origins` settings; otherwise it
//! gets 403 `forbidden_origin` and reaches no handler.
//! Requests without `Origin` (native clients, curl) are not browsers and pass.

use axum::extract::{Request, State};
use axum::http::header::{HOST, ORIGIN};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::state::AppState;
use crate::model::error::{ApiError, ErrorCode};

/// Whether the guard protects `path`: the API, and every path the
/// Socket.IO layer answers (with or without the slash after `/socket.io`).
/// Pages and static files are fine to embed.
fn guarded(path: &str) -> bool {
    path.starts_with("/api/") || crate::protocol::is_socket_path(path)
}

pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if guarded(path) {
        let headers = request.headers();
        if let Some(origin) = headers.get(ORIGIN) {
            let host = headers.get(HOST).and_then(|h| h.to_str().ok());
            let allowed = origin.to_str().is_ok_and(|o| {
                permits(
                    o,
                    host,
                    state.settings.public_url.as_deref(),
                    &state.settings.allowed_origins,
                )
            });
            if !allowed {
                tracing::debug!(path, "refused a cross-origin request");
                return ApiError::new(
                    ErrorCode::ForbiddenOrigin,
                    "Requests from this origin are not allowed. Add it to allowed_origins to permit it.",
                )
                .into_response();
            }
        }
    }
    next.run(request).await
}

/// Whether a browser at `origin` may call a server reached as `host`: its
/// own origin is `public` when that is set (scheme, host and port), else
/// whatever scheme with the request's `Host`.
fn permits(origin: &str, host: Option<&str>, public: Option<&str>, allowed: &[String]) -> bool {
    let origin = origin.to_ascii_lowercase();
    let own = match public {
        Some(public) => origin == public,
        None => origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .zip(host)
            .is_some_and(|(origin_host, host)| origin_host.eq_ignore_ascii_case(host)),
    };
    own || allowed.contains(&origin)
}

#[cfg(test)]
mod tests {
    use super::{guarded, permits};

    #[test]
    fn regression_the_socket_path_without_its_slash_is_guarded() {
        for path in ["/socket.io", "/socket.io/", "/socket.io/x", "/api/login"] {
            assert!(guarded(path), "{path}");
        }
        for path in ["/", "/chats/1", "/pkg/hush.wasm", "/socket.iox", "/apix"] {
            assert!(!guarded(path), "{path}");
        }
    }

    #[test]
    fn with_a_public_url_the_scheme_must_match_too() {
        let public = Some("https://chat.example");
        assert!(permits(
            "https://chat.example",
            Some("chat.example"),
            public,
            &[]
        ));
        assert!(
            !permits("http://chat.example", Some("chat.example"), public, &[]),
            "a page over plain HTTP is another origin"
        );
        assert!(!permits(
            "https://evil.example",
            Some("evil.example"),
            public,
            &[]
        ));
    }

    #[test]
    fn own_origin_passes_whatever_the_case() {
        assert!(permits(
            "http://127.0.0.1:3000",
            Some("127.0.0.1:3000"),
            None,
            &[]
        ));
        assert!(permits(
            "https://Chat.Example",
            Some("chat.example"),
            None,
            &[]
        ));
    }

    #[test]
    fn another_site_is_refused_unless_allowed() {
        let allowed = vec!["https://app.example".to_owned()];
        assert!(!permits(
            "https://evil.example",
            Some("chat.example"),
            None,
            &allowed
        ));
        assert!(permits(
            "https://app.example",
            Some("chat.example"),
            None,
            &allowed
        ));
        assert!(!permits(
            "http://chat.example:81",
            Some("chat.example"),
            None,
            &allowed
        ));
        assert!(!permits("null", Some("chat.example"), None, &allowed));
        assert!(!permits("http://chat.example", None, None, &[]));
    }
}
