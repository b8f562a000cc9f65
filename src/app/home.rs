//! The signed-in page. Until conversations arrive it shows who is signed in
//! on this device, the identity's safety number (the same in every browser
//! the user logs in from), and logging out.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use super::brand::Brand;
use super::flows::{self, Signed};

#[component]
pub fn Home() -> impl IntoView {
    let signed = RwSignal::new(None::<Signed>);
    let leaving = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let navigate = use_navigate();

    Effect::new({
        let navigate = navigate.clone();
        move |_| {
            let navigate = navigate.clone();
            flows::current(move |found| match found {
                Some(identity) => signed.set(Some(identity)),
                None => navigate("/", Default::default()),
            });
        }
    });

    let log_out = move |_| {
        leaving.set(true);
        let navigate = navigate.clone();
        flows::log_out(move |outcome| match outcome {
            Ok(()) => navigate("/", Default::default()),
            Err(why) => {
                leaving.set(false);
                problem.set(Some(why));
            }
        });
    };

    view! {
        <Title text="Chats" />
        <main class="auth">
            <section class="card" aria-labelledby="home-title" aria-busy=move || signed.with(Option::is_none).to_string()>
                <Brand />
                {move || match signed.get() {
                    None => view! { <p class="lede">"Opening your keys…"</p> }.into_any(),
                    Some(identity) => view! {
                        <h1 id="home-title" class="card-title">"Signed in as " <span class="who">{identity.username}</span></h1>
                        <p class="lede">"Your keys are ready on this device. Conversations are coming to Hush next."</p>
                        <div class="fingerprint">
                            <span class="fingerprint-label">"Safety number"</span>
                            <code data-testid="safety-number">{identity.fingerprint}</code>
                            <span class="field-hint">"The same on every device you sign in to. Your contacts will be able to compare it."</span>
                        </div>
                        <button type="button" class="primary" disabled=move || leaving.get() on:click=log_out.clone()>
                            {move || if leaving.get() { "Logging out…" } else { "Log out" }}
                        </button>
                        <p class="form-status" role="status">{move || problem.get()}</p>
                    }.into_any(),
                }}
            </section>
        </main>
    }
}
