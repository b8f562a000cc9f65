//! The sign-in and sign-up screen: a centred card with the product name,
//! labelled fields with inline errors, and the promise that the password
//! never leaves the browser.
//!
//! Buttons stay disabled until the WASM app has hydrated, so a form can never
//! be submitted by the browser's default action (which would put the
//! password in a request to the server).

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use super::brand::Brand;
use super::flows;
use crate::model::{password, username};

/// Which of the two forms the card shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    SignIn,
    SignUp,
}

impl Mode {
    fn title(self) -> &'static str {
        match self {
            Mode::SignIn => "Sign in",
            Mode::SignUp => "Create your account",
        }
    }

    fn submit_label(self) -> &'static str {
        match self {
            Mode::SignIn => "Sign in",
            Mode::SignUp => "Create account",
        }
    }
}

#[component]
pub fn AuthPage(mode: Mode) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let secret = RwSignal::new(String::new());
    let name_error = RwSignal::new(None::<String>);
    let secret_error = RwSignal::new(None::<&'static str>);
    let status = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();
    let reveal = RwSignal::new(false);
    // Effects run only in the browser: `ready` turns true once hydrated.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));

    let username_ref = NodeRef::<leptos::html::Input>::new();
    let password_ref = NodeRef::<leptos::html::Input>::new();

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        status.set(None);
        let name_problem = username::canonical(&name.get_untracked())
            .err()
            .map(|e| e.to_string());
        // New passwords must follow the rules; an existing one only has to be there.
        let secret_problem = match mode {
            Mode::SignUp => password::problem(&secret.get_untracked()),
            Mode::SignIn => secret
                .with_untracked(String::is_empty)
                .then_some("Enter your password."),
        };
        name_error.set(name_problem.clone());
        secret_error.set(secret_problem);
        let first_invalid = if name_problem.is_some() {
            username_ref.get_untracked()
        } else if secret_problem.is_some() {
            password_ref.get_untracked()
        } else {
            None
        };
        match first_invalid {
            Some(input) => {
                let _ = input.focus();
            }
            None if busy.get_untracked() => {}
            None => {
                busy.set(true);
                let navigate = navigate.clone();
                flows::authenticate(
                    mode,
                    name.get_untracked(),
                    secret.get_untracked(),
                    move |outcome| {
                        busy.set(false);
                        match outcome {
                            Ok(()) => {
                                secret.set(String::new());
                                navigate("/chats", Default::default());
                            }
                            Err(why) => status.set(Some(why)),
                        }
                    },
                );
            }
        }
    };

    let (switch_text, switch_href, switch_label) = match mode {
        Mode::SignIn => ("New to Hush?", "/signup", "Create an account"),
        Mode::SignUp => ("Already have an account?", "/", "Sign in"),
    };
    let password_hint = match mode {
        Mode::SignIn => None,
        Mode::SignUp => Some("At least 10 characters. A few unrelated words work well."),
    };

    view! {
        <Title text=mode.title() />
        <main class="auth">
            <section class="card" aria-labelledby="auth-title">
                <Brand />
                <p class="lede">"Private conversations, encrypted in your browser."</p>
                <h1 id="auth-title" class="card-title">{mode.title()}</h1>
                <form class="form" novalidate on:submit=on_submit>
                    <div class="field">
                        <label for="username">"Username"</label>
                        <input
                            id="username"
                            name="username"
                            node_ref=username_ref
                            autocomplete="username"
                            autocapitalize="none"
                            spellcheck="false"
                            maxlength="32"
                            aria-invalid=move || name_error.with(Option::is_some).to_string()
                            aria-describedby="username-error"
                            bind:value=name
                            on:input=move |_| name_error.set(None)
                        />
                        <p id="username-error" class="field-error" aria-live="polite">
                            {move || name_error.get()}
                        </p>
                    </div>
                    <div class="field">
                        <label for="password">"Password"</label>
                        <div class="password-row">
                            <input
                                id="password"
                                name="password"
                                node_ref=password_ref
                                type=move || if reveal.get() { "text" } else { "password" }
                                autocomplete=match mode {
                                    Mode::SignIn => "current-password",
                                    Mode::SignUp => "new-password",
                                }
                                aria-invalid=move || secret_error.with(Option::is_some).to_string()
                                aria-describedby="password-error password-hint"
                                bind:value=secret
                                on:input=move |_| secret_error.set(None)
                            />
                            <button
                                type="button"
                                class="reveal"
                                aria-controls="password"
                                aria-pressed=move || reveal.get().to_string()
                                disabled=move || !ready.get()
                                on:click=move |_| reveal.update(|shown| *shown = !*shown)
                            >
                                {move || if reveal.get() { "Hide" } else { "Show" }}
                            </button>
                        </div>
                        <p id="password-error" class="field-error" aria-live="polite">
                            {move || secret_error.get()}
                        </p>
                        {password_hint.map(|hint| view! { <p id="password-hint" class="field-hint">{hint}</p> })}
                    </div>
                    <button type="submit" class="primary" disabled=move || !ready.get() || busy.get()>
                        {move || if busy.get() { "Securing your keys…" } else { mode.submit_label() }}
                    </button>
                    <p class="form-status" role="status">{move || status.get()}</p>
                </form>
                <p class="note">
                    <svg class="note-icon" viewBox="0 0 16 16" aria-hidden="true">
                        <path
                            fill="currentColor"
                            d="M4.5 7V5a3.5 3.5 0 0 1 7 0v2h.5A1.5 1.5 0 0 1 13.5 8.5v5A1.5 1.5 0 0 1 12 15H4a1.5 1.5 0 0 1-1.5-1.5v-5A1.5 1.5 0 0 1 4 7h.5Zm1.5 0h4V5a2 2 0 0 0-4 0v2Z"
                        />
                    </svg>
                    <span>
                        "Your password never leaves this browser. Hush cannot see it and cannot recover it: if you forget it, your messages stay locked."
                    </span>
                </p>
                <p class="switch">
                    {switch_text}" "<A href=switch_href>{switch_label}</A>
                </p>
            </section>
        </main>
    }
}
