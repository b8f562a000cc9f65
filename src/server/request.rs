//! What a server function needs from the request it serves: the app state,
//! the caller's address, the caller's token (Bearer header or session
//! cookie), and setting or clearing the session cookie.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use leptos::prelude::{expect_context, use_context};
use leptos_axum::ResponseOptions;

use super::accounts;
use super::state::AppState;
use super::store::UserRecord;
use crate::model::error::ApiError;

pub fn state() -> AppState {
    expect_context::<AppState>()
}

/// The client's IP address: the connection's, or, when that is one of the
/// `trusted_proxies`, the one they forwarded (`server::address`).
pub async fn client_address() -> Result<IpAddr, ApiError> {
    let ConnectInfo(addr) = leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .map_err(|_| ApiError::internal())?;
    let trusted = &state().settings.trusted_proxies;
    if trusted.is_empty() {
        return Ok(addr.ip());
    }
    let headers = leptos_axum::extract::<HeaderMap>()
        .await
        .map_err(|_| ApiError::internal())?;
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    Ok(super::address::client_ip(addr.ip(), forwarded, trusted))
}

/// The token in `Authorization: Bearer …`, else in the session cookie
/// (named `cookie`: `Settings::session_cookie`).
pub fn token_in(headers: &HeaderMap, cookie: &str) -> Option<String> {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    if let Some(token) = bearer {
        return Some(token.to_owned());
    }
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == cookie)
        .map(|(_, value)| value.to_owned())
        .filter(|t| !t.is_empty())
}

/// The signed-in user making this request, or 401.
pub async fn current_user() -> Result<UserRecord, ApiError> {
    let headers: HeaderMap = leptos_axum::extract()
        .await
        .map_err(|_| ApiError::internal())?;
    let state = state();
    let token =
        token_in(&headers, state.settings.session_cookie()).ok_or_else(ApiError::unauthorized)?;
    accounts::authenticate(state.store.as_ref(), &state.secrets, &state.recent, &token).await
}

/// Sets the browser's session cookie (HttpOnly, SameSite=Strict).
pub fn set_session_cookie(token: &str, max_age_secs: u64) {
    set_cookie(&session_cookie(token, max_age_secs));
}

/// Removes the browser's session cookie.
pub fn clear_session_cookie() {
    set_cookie(&session_cookie("", 0));
}

/// The `Set-Cookie` value for the session: `Secure` over HTTPS.
fn session_cookie(token: &str, max_age_secs: u64) -> String {
    let settings = state().settings;
    let name = settings.session_cookie();
    let secure = if settings.https() { "; Secure" } else { "" };
    format!("{name}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}")
}

fn set_cookie(value: &str) {
    if let (Some(response), Ok(value)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(value),
    ) {
        response.append_header(SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_wins_then_cookie() {
        let mut headers = HeaderMap::new();
        let name = "hush_session";
        assert_eq!(token_in(&headers, name), None);
        headers.insert(
            COOKIE,
            HeaderValue::from_static("theme=dark; hush_session=abc.def.ghi"),
        );
        assert_eq!(token_in(&headers, name).as_deref(), Some("abc.def.ghi"));
        assert_eq!(
            token_in(&headers, "__Host-hush_session"),
            None,
            "over HTTPS only the prefixed cookie counts"
        );
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer xyz"));
        assert_eq!(token_in(&headers, name).as_deref(), Some("xyz"));
    }
}
