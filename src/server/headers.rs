//! The security headers every response carries (#17 item 5): no MIME
//! sniffing, no referrer, no powerful browser features, a browsing context
//! of its own, and no framing; and on every page the app renders, a content
//! security policy whose scripts must carry that response's nonce (which
//! leptos_axum makes per response and puts on the hydration scripts). Over
//! HTTPS (`public_url`), Strict-Transport-Security too.

use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::STRICT_TRANSPORT_SECURITY;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, HeaderName, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::response::Response;
use leptos::nonce::use_nonce;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use super::state::AppState;

/// Each header and its value, set on every response that lacks it.
const HEADERS: [(HeaderName, &str); 5] = [
    (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (REFERRER_POLICY, "no-referrer"),
    (X_FRAME_OPTIONS, "DENY"),
    (
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), hid=()",
    ),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
];

/// Browsers keep to HTTPS for two years once they have seen it.
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Adds [`HEADERS`] to a response, and HSTS when served over HTTPS.
pub async fn secure(State(state): State<AppState>, mut response: Response) -> Response {
    let headers = response.headers_mut();
    if state.settings.https() {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    for (name, value) in HEADERS {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

/// The policy of a page whose scripts carry `nonce`: its own origin for
/// everything else, WebAssembly allowed to compile, scripts only those the
/// nonced ones load (`'strict-dynamic'`), no plugins, no `<base>`, no
/// framing, forms posting nowhere but here.
pub fn policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'; form-action 'self'"
    )
}

/// Sets the page's content security policy, with the nonce leptos_axum
/// made for this response. Called in the context of every page render;
/// elsewhere (a server function, no nonce) it does nothing.
pub fn content_security_policy() {
    let (Some(nonce), Some(response)) = (use_nonce(), use_context::<ResponseOptions>()) else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&policy(&nonce.to_string())) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}
