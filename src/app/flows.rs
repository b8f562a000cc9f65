//! The app's bridge to the browser-only session flows: one public name per
//! flow, with the real body in the browser build and an inert one on the
//! server (which renders pages but never submits a form or reads keys).

use super::auth_page::Mode;

/// What the signed-in page shows of the identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub username: String,
    pub fingerprint: String,
}

/// Signs up or logs in, then calls `done` with the outcome.
#[cfg(feature = "hydrate")]
pub fn authenticate(
    mode: Mode,
    username: String,
    password: String,
    done: impl FnOnce(Result<(), String>) + 'static,
) {
    use crate::client::session;
    leptos::task::spawn_local(async move {
        let outcome = match mode {
            Mode::SignIn => session::log_in(&username, &password).await,
            Mode::SignUp => session::sign_up(&username, &password).await,
        };
        done(outcome.map(|_| ()));
    });
}

/// Loads the identity this browser holds, if any.
#[cfg(feature = "hydrate")]
pub fn current(done: impl FnOnce(Option<Signed>) + 'static) {
    use crate::client::{keystore, session};
    leptos::task::spawn_local(async move {
        let signed = match keystore::load().await {
            Ok(Some(identity)) => session::fingerprint(&identity)
                .await
                .ok()
                .map(|fingerprint| Signed {
                    username: identity.username,
                    fingerprint,
                }),
            _ => None,
        };
        done(signed);
    });
}

/// Logs out here and on the server.
#[cfg(feature = "hydrate")]
pub fn log_out(done: impl FnOnce(Result<(), String>) + 'static) {
    leptos::task::spawn_local(async move { done(crate::client::session::log_out().await) });
}

#[cfg(not(feature = "hydrate"))]
pub fn authenticate(_: Mode, _: String, _: String, _: impl FnOnce(Result<(), String>) + 'static) {}

#[cfg(not(feature = "hydrate"))]
pub fn current(_: impl FnOnce(Option<Signed>) + 'static) {}

#[cfg(not(feature = "hydrate"))]
pub fn log_out(_: impl FnOnce(Result<(), String>) + 'static) {}
