//! The sign-in page's bridge to the browser-only session flows: one public name per
//! flow, with the real body in the browser build and an inert one on the
//! server (which renders pages but never submits a form or reads keys).

use super::auth_page::Mode;

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

#[cfg(not(feature = "hydrate"))]
pub fn authenticate(_: Mode, _: String, _: String, _: impl FnOnce(Result<(), String>) + 'static) {}
