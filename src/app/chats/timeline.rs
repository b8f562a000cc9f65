//! The timeline of one conversation: messages in `seq` order, mine on the
//! right and others' on the left, day separators, runs of one sender
//! grouped, delivery state on mine (sending, sent ✓, read ✓✓ once every
//! other member has read it) and in groups who has seen the last message.
//! It follows new messages while the
//! reader is at the bottom and otherwise offers a "new messages" pill;
//! scrolling up loads older messages without jumping. Every message is
//! rendered as text, never as HTML; the list is keyed, so a new message
//! adds one row instead of redrawing the others. Lines about who came and
//! went ("ana added carl") sit between the last message of one epoch and
//! the first of the next, built from the signed chain.

use leptos::prelude::*;

use super::live::{self, LocalTime};
use crate::delivery::reactions::{self, Reacted};
use crate::model::ids::{ConversationId, UserId};
use crate::model::plain::PALETTE;
use crate::screen::{Body, ChangeNote, Chats, Delivery, Line};

/// Messages of one sender closer than this (minutes) form one run.
const RUN_MINUTES: i64 = 5;
/// Pixels from an edge that count as being at it.
const EDGE: i32 = 48;

/// A line with what its neighbours decide about its look.
#[derive(Clone, PartialEq)]
struct Row {
    line: Line,
    time: LocalTime,
    /// The day's label, on the first message of a day.
    day: Option<String>,
    /// Starts a run (a new sender, or a pause).
    first_of_run: bool,
    /// The reactions to it.
    reactions: Vec<Reacted>,
}

fn rows(lines: &[Line]) -> Vec<Row> {
    let mut reactions = reactions::fold(lines);
    let mut rows: Vec<Row> = Vec::with_capacity(lines.len());
    for line in lines.iter().filter(|l| l.shown()) {
        let time = live::local_time(&line.at);
        let previous = rows.last();
        let new_day = previous.is_none_or(|p| p.time.day != time.day);
        let first_of_run = new_day
            || previous.is_none_or(|p| {
                p.line.sender_id != line.sender_id || time.minutes - p.time.minutes > RUN_MINUTES
            });
        rows.push(Row {
            day: new_day.then(|| time.day_label.clone()),
            reactions: reactions.remove(&line.id).unwrap_or_default(),
            line: line.clone(),
            time,
            first_of_run,
        });
    }
    rows
}

/// One row of the timeline: a message, or a line about who came and went.
#[derive(Clone, PartialEq)]
enum Item {
    Message(Box<Row>),
    Note { key: usize, text: String },
}

/// What keys a row: a message's look, or a note's place.
#[derive(Clone, PartialEq, Eq, Hash)]
enum ItemKey {
    Message(
        (crate::model::ids::MessageId, Option<u64>, u8),
        Option<String>,
        bool,
        Vec<(String, usize, bool)>,
    ),
    Note(usize, String),
}

impl Item {
    fn key(&self) -> ItemKey {
        match self {
            Item::Message(row) => {
                let reactions = row.reactions.iter();
                let reactions = reactions.map(|r| (r.emoji.clone(), r.by.len(), r.mine));
                ItemKey::Message(
                    row.line.render_key(),
                    row.day.clone(),
                    row.first_of_run,
                    reactions.collect(),
                )
            }
            Item::Note { key, text } => ItemKey::Note(*key, text.clone()),
        }
    }
}

/// The rows with the notes of `changes` (in epoch order) placed before the
/// first message of their epoch. Notes before the first message held are
/// shown only once the oldest is (`complete`); those of epochs before
/// `first_epoch` (from before this user was added) are not shown, and a
/// user added later is told that earlier messages are not shared.
fn items(rows: Vec<Row>, changes: &[ChangeNote], first_epoch: u32, complete: bool) -> Vec<Item> {
    let mut notes = changes
        .iter()
        .filter(|n| n.epoch >= first_epoch)
        .enumerate()
        .peekable();
    let mut items = Vec::with_capacity(rows.len() + changes.len() + 1);
    if complete && first_epoch > 0 {
        items.push(Item::Note {
            key: usize::MAX,
            text: "Earlier messages are not shared with people added later.".into(),
        });
    }
    let mut previous: Option<u32> = None;
    for mut row in rows {
        while let Some((key, note)) = notes.next_if(|(_, n)| n.epoch <= row.line.epoch) {
            if previous.map_or(complete, |p| note.epoch > p) {
                items.push(Item::Note {
                    key,
                    text: note.text.clone(),
                });
                // A message after a note starts a run: its sender is named
                // again.
                row.first_of_run = true;
            }
        }
        previous = Some(row.line.epoch);
        items.push(Item::Message(Box::new(row)));
    }
    for (key, note) in notes {
        if previous.map_or(complete, |p| note.epoch > p) {
            items.push(Item::Note {
                key,
                text: note.text.clone(),
            });
        }
    }
    items
}

#[component]
pub fn Timeline(id: ConversationId, group: bool) -> impl IntoView {
    let chats = expect_context::<Chats>();
    let timeline = chats.timeline(id);
    let changes = Memo::new(move |_| {
        chats
            .summary(id)
            .map(|s| (s.changes, s.first_epoch))
            .unwrap_or_default()
    });
    let scroller = NodeRef::<leptos::html::Div>::new();
    let at_bottom = RwSignal::new(true);
    let unseen = RwSignal::new(false);
    let loading = RwSignal::new(false);

    let to_bottom = move || {
        request_animation_frame(move || {
            if let Some(el) = scroller.get_untracked() {
                el.set_scroll_top(el.scroll_height());
            }
        });
        unseen.set(false);
    };

    // Follow the newest message while at the bottom (or when it is mine);
    // older pages loading above change nothing here.
    // A failure of my newest message counts as news too: its reason shows
    // below it.
    let newest = Memo::new(move |_| {
        timeline.with(|t| {
            t.newest()
                .map(|l| (l.id, l.mine, matches!(l.delivery, Delivery::Failed(_))))
        })
    });
    Effect::new(move |_| {
        if let Some((_, mine, _)) = newest.get() {
            if at_bottom.get_untracked() || mine {
                to_bottom();
            } else {
                unseen.set(true);
            }
        }
    });

    let load_older = move || {
        if loading.get_untracked() || timeline.with_untracked(|t| t.complete) {
            return;
        }
        let Some(el) = scroller.get_untracked() else {
            return;
        };
        let (height, top) = (el.scroll_height(), el.scroll_top());
        loading.set(true);
        live::load_older(id, move || {
            loading.set(false);
            request_animation_frame(move || {
                if let Some(el) = scroller.get_untracked() {
                    el.set_scroll_top(el.scroll_height() - height + top);
                }
            });
        });
    };

    let on_scroll = move |_| {
        let Some(el) = scroller.get_untracked() else {
            return;
        };
        let bottom = el.scroll_height() - el.scroll_top() - el.client_height() < EDGE;
        at_bottom.set(bottom);
        if bottom {
            unseen.set(false);
        }
        if el.scroll_top() < EDGE {
            load_older();
        }
    };

    // In a group, who (but its sender and me) has read the last message.
    let seen_by = move || {
        let me = chats.me.with(|m| m.as_ref().map(|m| m.id));
        let (seq, sender) = timeline.with(|t| {
            t.lines()
                .iter()
                .rev()
                .find(|l| l.shown() && l.seq.is_some())
                .map(|l| (l.seq.unwrap_or_default(), l.sender_id))
        })?;
        let summary = chats.summary(id)?;
        let names: Vec<String> = chats
            .reads_in(id)
            .seen_by(seq, sender)
            .into_iter()
            .filter(|who| Some(*who) != me)
            .filter_map(|who| {
                let at = summary.member_ids.iter().position(|m| *m == who)?;
                summary.members.get(at).cloned()
            })
            .collect();
        (!names.is_empty()).then(|| format!("Seen by {}", names.join(", ")))
    };

    view! {
        <div class="timeline" node_ref=scroller on:scroll=on_scroll tabindex="0" aria-label="Messages">
            <Show when=move || timeline.with(|t| t.complete)>
                <p class="e2e-note">
                    <svg viewBox="0 0 16 16" aria-hidden="true"><path d="M5 7V5a3 3 0 0 1 6 0v2h.5c.8 0 1.5.7 1.5 1.5v4c0 .8-.7 1.5-1.5 1.5h-7C3.7 14 3 13.3 3 12.5v-4C3 7.7 3.7 7 4.5 7H5Zm1.5 0h3V5a1.5 1.5 0 0 0-3 0v2Z" fill="currentColor" /></svg>
                    "Messages here are end-to-end encrypted. Only the people in this conversation can read them."
                </p>
            </Show>
            <Show when=move || loading.get()>
                <p class="loading-older" role="status">"Loading earlier messages…"</p>
            </Show>
            <ol class="messages" aria-live="polite" aria-relevant="additions">
                <For
                    each=move || {
                        let (notes, first) = changes.get();
                        timeline.with(|t| items(rows(t.lines()), &notes, first, t.complete))
                    }
                    key=Item::key
                    children=move |item| match item {
                        Item::Message(row) => view! { <Message row=*row group=group conversation=id /> }.into_any(),
                        Item::Note { text, .. } => view! { <li class="change-note" role="note">{text}</li> }.into_any(),
                    }
                />
            </ol>
            <Show when=move || group && seen_by().is_some()>
                <p class="seen-by" data-testid="seen-by">{seen_by}</p>
            </Show>
            <Show when=move || unseen.get()>
                <button type="button" class="new-pill" on:click=move |_| to_bottom()>
                    "New messages ↓"
                </button>
            </Show>
        </div>
    }
}

#[component]
fn Message(row: Row, group: bool, conversation: ConversationId) -> impl IntoView {
    let Row {
        line,
        time,
        day,
        first_of_run,
        reactions,
    } = row;
    let show_name = group && !line.mine && first_of_run;
    let who = if line.mine {
        "You".to_owned()
    } else {
        line.sender.clone()
    };
    let id = line.id;
    let (text, flagged) = match &line.body {
        Body::Text(text) => (text.clone(), false),
        Body::Unverified => (
            "This message could not be verified, so it is not shown.".to_owned(),
            true,
        ),
        Body::Unreadable => (
            "This message could not be read: it may need a newer version of Hush.".to_owned(),
            true,
        ),
        // Never a row (`rows` leaves them out).
        Body::Left | Body::Reaction { .. } => (String::new(), false),
    };
    // Only a stored message can be reacted to: its id is for good.
    let reactable = line.seq.is_some() && !flagged;
    let palette_open = RwSignal::new(false);
    let react = move |emoji: &str, remove: bool| {
        palette_open.set(false);
        live::react(conversation, id, emoji.to_owned(), remove);
    };
    let mine_of = reactions
        .iter()
        .filter(|r| r.mine)
        .map(|r| r.emoji.clone())
        .collect::<Vec<_>>();
    let chips = (!reactions.is_empty()).then(|| {
        let chips = reactions
            .into_iter()
            .map(|r| {
                let names: Vec<String> = r.by.iter().map(|(_, name)| name.clone()).collect();
                let label = format!("{} by {}", r.emoji, names.join(", "));
                let (emoji, mine) = (r.emoji.clone(), r.mine);
                view! {
                    <button
                        type="button"
                        class="reaction"
                        class:mine=mine
                        aria-pressed=mine.to_string()
                        aria-label=label.clone()
                        title=label
                        on:click=move |_| react(&emoji, mine)
                    >
                        <span aria-hidden="true">{r.emoji.clone()}</span>
                        <span class="count" aria-hidden="true">{r.by.len()}</span>
                    </button>
                }
            })
            .collect_view();
        view! { <div class="reactions">{chips}</div> }
    });
    let state = line.mine.then(|| match &line.delivery {
        Delivery::Pending => {
            view! {
                <span class="state pending" title="Sending" aria-label="Sending">
                    <svg viewBox="0 0 16 16" aria-hidden="true">
                        <circle cx="8" cy="8" r="6.2" fill="none" stroke="currentColor" stroke-width="1.6" />
                        <path d="M8 4.6V8l2.3 1.5" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" />
                    </svg>
                </span>
            }
            .into_any()
        }
        Delivery::Sent => {
            // Read once every other member has read it (of those whose
            // reads this user sees).
            let chats = expect_context::<Chats>();
            let me = chats.me.get_untracked().map(|m| m.id);
            let others: Vec<UserId> = chats
                .summary(conversation)
                .map(|s| s.member_ids.into_iter().filter(|m| Some(*m) != me).collect())
                .unwrap_or_default();
            let seq = line.seq;
            let read = Memo::new(move |_| {
                seq.is_some_and(|s| {
                    chats
                        .reads
                        .with(|all| all.get(&conversation).is_some_and(|r| r.read_by_all(s, &others)))
                })
            });
            let read = move || read.get();
            view! {
                <span
                    class="state sent"
                    class:read=read
                    title=move || if read() { "Read" } else { "Sent" }
                    aria-label=move || if read() { "Read" } else { "Sent" }
                    data-testid="tick"
                >
                    {move || if read() { "✓✓" } else { "✓" }}
                </span>
            }
            .into_any()
        }
        Delivery::Failed(_) => {
            view! { <span class="state failed" title="Not sent" aria-label="Not sent">"!"</span> }
                .into_any()
        }
    });
    let failure = match &line.delivery {
        Delivery::Failed(why) if line.mine => Some(why.clone()),
        _ => None,
    };
    view! {
        <li
            class="msg"
            class:mine=line.mine
            class:theirs=!line.mine
            class:run-start=first_of_run
            data-seq=line.seq.map(|s| s.to_string())
            data-sender=line.sender.clone()
        >
            {day.map(|label| view! { <div class="day" role="separator"><span>{label}</span></div> })}
            <div class="bubble-row">
            <div class="bubble" class:unverified=flagged class:failed=failure.is_some()>
                {show_name.then(|| view! { <span class="sender" aria-hidden="true">{line.sender.clone()}</span> })}
                <span class="visually-hidden">{format!("{who}: ")}</span>
                <p class="text">
                    {flagged.then(|| view! { <span class="warning-mark" aria-hidden="true">"⚠ "</span> })}
                    {text}
                </p>
                <span class="meta">
                    <time datetime=line.at.clone()>{time.clock}</time>
                    {state}
                </span>
            </div>
            {reactable.then(|| {
                let mine_of = mine_of.clone();
                view! {
                    <div class="react">
                        <button
                            type="button"
                            class="react-open"
                            aria-label="React"
                            aria-expanded=move || palette_open.get().to_string()
                            on:click=move |_| palette_open.update(|open| *open = !*open)
                        >
                            <svg viewBox="0 0 16 16" aria-hidden="true">
                                <circle cx="7" cy="8" r="5.6" fill="none" stroke="currentColor" stroke-width="1.4" />
                                <circle cx="5.2" cy="6.8" r=".9" fill="currentColor" />
                                <circle cx="8.8" cy="6.8" r=".9" fill="currentColor" />
                                <path d="M4.8 9.6c1.2 1.3 3.2 1.3 4.4 0" fill="none" stroke="currentColor" stroke-width="1.3" stroke-linecap="round" />
                            </svg>
                        </button>
                        <Show when=move || palette_open.get()>
                            <div class="palette" role="group" aria-label="Reactions">
                                {PALETTE
                                    .iter()
                                    .map(|emoji| {
                                        let mine = mine_of.iter().any(|m| m == emoji);
                                        view! {
                                            <button
                                                type="button"
                                                class:mine=mine
                                                aria-label=format!("React with {emoji}")
                                                on:click=move |_| react(emoji, mine)
                                            >
                                                {*emoji}
                                            </button>
                                        }
                                    })
                                    .collect_view()}
                            </div>
                        </Show>
                    </div>
                }
            })}
            </div>
            {chips}
            {failure.map(|why| view! {
                <p class="failure" role="alert">
                    {format!("Not sent: {why}")}
                    <button type="button" class="link-button" on:click=move |_| live::discard(conversation, id)>"Delete"</button>
                </p>
            })}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::{MessageId, UserId};
    use crate::screen::{Body, Delivery};

    fn row(sender: UserId, epoch: u32, first_of_run: bool) -> Row {
        Row {
            line: Line {
                id: MessageId::new(),
                seq: Some(1),
                sender_id: sender,
                sender: "ana".into(),
                mine: false,
                body: Body::Text("hi".into()),
                at: "2026-11-30T20:00:00.000Z".into(),
                delivery: Delivery::Sent,
                epoch,
            },
            time: LocalTime {
                day: "d".into(),
                day_label: "Today".into(),
                clock: "20:00".into(),
                minutes: 0,
            },
            day: None,
            first_of_run,
            reactions: Vec::new(),
        }
    }

    #[test]
    fn a_message_after_a_change_note_starts_a_run() {
        let ana = UserId::new();
        let notes = [ChangeNote {
            epoch: 1,
            text: "ana added cyd".into(),
        }];
        let items = items(
            vec![row(ana, 0, true), row(ana, 0, false), row(ana, 1, false)],
            &notes,
            0,
            true,
        );
        let shape: Vec<(bool, bool)> = items
            .iter()
            .map(|i| match i {
                Item::Message(row) => (true, row.first_of_run),
                Item::Note { .. } => (false, false),
            })
            .collect();
        assert_eq!(
            shape,
            [(true, true), (true, false), (false, false), (true, true)]
        );
    }
}
