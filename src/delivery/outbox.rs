//! The outbox's order and retries, as the core decides them: messages
//! sealed here wait in writing order; one is sent at a time, the same
//! parcel again after a failure that may pass (with backoff, or at once
//! when the link comes back), until the server answers; a refusal for good
//! keeps the parcel until the user discards the message. A parcel refused
//! because the conversation's epoch moved on was never stored: the shell
//! seals it again (same id, next epoch) and it takes its own place in the
//! queue. Where the parcels are kept (IndexedDB in the browser) is the
//! shell's business.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::backoff::Backoff;
use crate::model::conversation::Outgoing;
use crate::model::ids::{ConversationId, MessageId};

/// One sealed message waiting for the server's answer, exactly as it is
/// kept: a reload sends the same bytes again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parcel {
    /// Its place in the kept outbox (sorts in writing order).
    pub key: String,
    /// Whose message it is: only that user's session sends it.
    pub user_id: String,
    pub outgoing: Outgoing,
}

impl Parcel {
    pub fn id(&self) -> MessageId {
        self.outgoing.message_id
    }
}

/// Where the head of the queue stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Head {
    /// Nothing queued, or nothing sent yet.
    Idle,
    /// Sent; the answer is awaited.
    InFlight,
    /// Failed in a way that may pass; sent again at this time.
    Waiting { until: u64 },
    /// Refused for its epoch: the shell is sealing it again.
    Resealing,
}

/// What the outbox asks of the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    Send(Parcel),
    Wake { at: u64 },
}

/// The queue of parcels and its head's state.
#[derive(Debug)]
pub(super) struct Outbox<E> {
    queue: VecDeque<(Parcel, E)>,
    head: Head,
    /// Failed tries of the head so far.
    attempt: u32,
    /// Parcel keys of messages refused for good, until discarded.
    failed: HashMap<MessageId, String>,
}

impl<E> Default for Outbox<E> {
    fn default() -> Self {
        Outbox {
            queue: VecDeque::new(),
            head: Head::Idle,
            attempt: 0,
            failed: HashMap::new(),
        }
    }
}

impl<E: Clone> Outbox<E> {
    /// Queues a parcel with how its message is shown; sends it if nothing
    /// is ahead of it.
    pub(super) fn push(&mut self, parcel: Parcel, entry: E) -> Option<Step> {
        self.queue.push_back((parcel, entry));
        self.next()
    }

    /// Sends the head if nothing is in flight or waiting.
    fn next(&mut self) -> Option<Step> {
        if self.head != Head::Idle {
            return None;
        }
        let (parcel, _) = self.queue.front()?;
        self.head = Head::InFlight;
        Some(Step::Send(parcel.clone()))
    }

    /// The head, if the answer is about it.
    fn take_head(&mut self, id: MessageId) -> Option<(Parcel, E)> {
        let answerable = matches!(self.head, Head::InFlight | Head::Resealing);
        if !answerable || self.queue.front()?.0.id() != id {
            return None;
        }
        self.head = Head::Idle;
        self.attempt = 0;
        self.queue.pop_front()
    }

    /// The server stored the head: it leaves the queue and the next goes.
    pub(super) fn answered(&mut self, id: MessageId) -> Option<((Parcel, E), Option<Step>)> {
        let done = self.take_head(id)?;
        Some((done, self.next()))
    }

    /// The server refused the head for good: it leaves the queue (its
    /// parcel is kept until discarded) and the next goes.
    pub(super) fn refused(&mut self, id: MessageId) -> Option<((Parcel, E), Option<Step>)> {
        let done = self.take_head(id)?;
        self.failed.insert(id, done.0.key.clone());
        Some((done, self.next()))
    }

    /// The head failed in a way that may pass: it is tried again after a
    /// jittered delay.
    pub(super) fn retry_later(&mut self, id: MessageId, now: u64, random: f64) -> Option<Step> {
        let answerable = matches!(self.head, Head::InFlight | Head::Resealing);
        if !answerable || self.queue.front()?.0.id() != id {
            return None;
        }
        self.attempt = self.attempt.saturating_add(1);
        let until = now + u64::from(Backoff::RETRY.delay_ms(self.attempt, random));
        self.head = Head::Waiting { until };
        Some(Step::Wake { at: until })
    }

    /// The head was refused for its epoch: it waits, in its place, for the
    /// shell to seal it again. Answers the parcel to seal again.
    pub(super) fn stale(&mut self, id: MessageId) -> Option<Parcel> {
        if self.head != Head::InFlight || self.queue.front()?.0.id() != id {
            return None;
        }
        self.head = Head::Resealing;
        Some(self.queue.front()?.0.clone())
    }

    /// The head sealed again (the same message): it replaces the old
    /// parcel and goes now. Anything else changes nothing.
    pub(super) fn resealed(&mut self, parcel: Parcel) -> Option<Step> {
        let (head, _) = self.queue.front_mut()?;
        if self.head != Head::Resealing || head.id() != parcel.id() {
            return None;
        }
        *head = parcel;
        self.head = Head::Idle;
        self.next()
    }

    /// Sends the waiting head now if its time has come, or at once if
    /// `nudged` (the link is back).
    pub(super) fn tick(&mut self, now: u64, nudged: bool) -> Option<Step> {
        match self.head {
            Head::Waiting { until } if nudged || until <= now => {
                self.head = Head::Idle;
                self.next()
            }
            _ => None,
        }
    }

    /// Whether the head of the queue is a message of `conversation`.
    pub(super) fn head_in(&self, conversation: ConversationId) -> bool {
        self.queue
            .front()
            .is_some_and(|(parcel, _)| parcel.outgoing.conversation_id == conversation)
    }

    /// Forgets a failed message; the key of its kept parcel.
    pub(super) fn discard(&mut self, id: MessageId) -> Option<String> {
        self.failed.remove(&id)
    }

    /// Messages waiting, the head included.
    pub(super) fn len(&self) -> usize {
        self.queue.len()
    }
}
