//! The "Verify" dialog (suite step 9): the safety number of the user and
//! one of the conversation's other members, in 12 groups of 5 digits and as
//! a QR code, the same on both sides; comparing them and marking the
//! contact verified is the user's act, and a key change clears the mark.

use leptos::prelude::*;

use super::dialog::Dialog;
use super::live;
use crate::model::ids::UserId;

#[component]
pub fn VerifyDialog(
    /// The other members, as the signed key set names them.
    people: Vec<(UserId, String)>,
    close: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let chosen = RwSignal::new(people.first().map(|(id, _)| *id));
    // Bumped when the mark changes, so the view is read again.
    let marks = RwSignal::new(0u32);
    let shown = move || {
        marks.track();
        chosen.get().map(|id| (id, live::verification(id)))
    };
    let several = people.len() > 1;
    let close_button = close.clone();
    view! {
        <Dialog labelled_by="verify-title" class="verify" close=close>
            <h2 id="verify-title" class="dialog-title">"Verify safety numbers"</h2>
            <Show when=move || several>
                <div class="verify-people" role="group" aria-label="Whom to verify">
                    {people.iter().map(|(id, name)| {
                        let id = *id;
                        view! {
                            <button
                                type="button"
                                class="secondary"
                                aria-pressed=move || (chosen.get() == Some(id)).to_string()
                                on:click=move |_| chosen.set(Some(id))
                            >{name.clone()}</button>
                        }
                    }).collect_view()}
                </div>
            </Show>
            {move || shown().map(|(id, found)| match found {
                None => view! {
                    <p class="field-hint">"This person's keys are not pinned in this browser yet, or a change to them waits for your review."</p>
                }.into_any(),
                Some(v) => {
                    let name = v.name.clone();
                    let verified = v.verified;
                    view! {
                        <p class="verify-hint">
                            "Compare these numbers with " <strong>{name.clone()}</strong>
                            ", in person or on a call you trust, or scan one code with the other's phone. If they match, no one can read or forge what you say to each other."
                        </p>
                        <ol class="safety-number" aria-label=format!("Safety number with {name}")>
                            {v.groups.into_iter().map(|g| view! { <li>{g}</li> }).collect_view()}
                        </ol>
                        <div class="safety-qr" role="img" aria-label="The safety number as a QR code" inner_html=v.qr_svg></div>
                        <p class="verify-status" class:verified=verified>
                            {if verified { format!("✓ You marked {name} as verified.") } else { format!("{name} is not verified yet.") }}
                        </p>
                        <div class="dialog-actions">
                            {if verified {
                                view! {
                                    <button type="button" class="secondary" on:click=move |_| {
                                        live::set_verified(id, false);
                                        marks.update(|m| *m += 1);
                                    }>"Clear verified"</button>
                                }.into_any()
                            } else {
                                view! {
                                    <button type="button" class="primary" on:click=move |_| {
                                        live::set_verified(id, true);
                                        marks.update(|m| *m += 1);
                                    }>"Mark as verified"</button>
                                }.into_any()
                            }}
                        </div>
                    }.into_any()
                }
            })}
            <div class="dialog-actions">
                <button type="button" class="secondary" on:click=move |_| close_button()>"Close"</button>
            </div>
        </Dialog>
    }
}
