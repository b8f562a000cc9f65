//! Sending, for the engine: what is written shows at once as pending; a
//! sealer seals each message once, in writing order, and parks it in the
//! outbox (IndexedDB); a sender sends parked messages in order, retrying
//! with the same id while a failure may pass (offline, server down, store
//! unavailable), and unparks a message only once the server has answered.
//! A reload restores the parked messages, still pending, and goes on.

use std::rc::Rc;

use futures::FutureExt;
use futures::channel::oneshot;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{Engine, now};
use crate::api::messages;
use crate::app::chats::state::{Body, Delivery, Line};
use crate::client::outbox::{self, Parcel};
use crate::client::socket::sleep;
use crate::model::conversation::Message;
use crate::model::error::{ApiError, ErrorCode};
use crate::model::ids::{ConversationId, MessageId};

/// The longest wait between two tries of one message.
const MAX_RETRY_MS: u32 = 15_000;

/// A message written here, not yet sealed.
pub(super) struct Draft {
    text: String,
    line: Line,
    conversation: ConversationId,
}

/// A sealed, parked message and how it is shown.
pub(super) struct Parked {
    line: Line,
    conversation: ConversationId,
    parcel: Parcel,
}

/// Whether an error may go away by itself (retry) or is final.
fn transient(e: &ApiError) -> bool {
    matches!(
        e.error,
        ErrorCode::Unreachable
            | ErrorCode::StoreUnavailable
            | ErrorCode::RateLimited
            | ErrorCode::Internal
    )
}

/// Why the server refused a message for good, in words for its sender.
fn refusal(e: &ApiError) -> String {
    match e.error {
        ErrorCode::MessageTooLarge => "this message is too long to send.".to_owned(),
        ErrorCode::NotAMember => "you are not in this conversation.".to_owned(),
        _ => e.message.clone(),
    }
}

impl Engine {
    /// Shows `text` as pending at once and queues it to be sealed and sent.
    pub(super) fn enqueue(self: &Rc<Self>, conversation: ConversationId, text: String) {
        if self.ring(conversation).is_none() {
            return;
        }
        let line = Line {
            id: MessageId::new(),
            seq: None,
            sender_id: self.my_id,
            sender: self.me.username.clone(),
            mine: true,
            body: Body::Text(text.clone()),
            at: now(),
            delivery: Delivery::Pending,
        };
        self.chats.touch(conversation, &line.at);
        self.chats.timeline(conversation).update(|t| {
            t.upsert(line.clone());
        });
        self.drafts.borrow_mut().push_back(Draft {
            text,
            line,
            conversation,
        });
        if !self.sealing.replace(true) {
            let engine = self.clone();
            spawn_local(async move { engine.seal_drafts().await });
        }
    }

    /// Seals every draft in order and parks it.
    async fn seal_drafts(self: Rc<Self>) {
        loop {
            let next = self.drafts.borrow_mut().pop_front();
            let Some(Draft {
                text,
                mut line,
                conversation,
            }) = next
            else {
                break;
            };
            let Some(ring) = self.ring(conversation) else {
                continue;
            };
            let outgoing = match ring.seal(&self.me, line.id, &text, &line.at).await {
                Ok(outgoing) => outgoing,
                Err(e) => {
                    line.delivery = Delivery::Failed(format!("Could not encrypt: {e}"));
                    self.chats.timeline(conversation).update(|t| {
                        t.upsert(line);
                    });
                    continue;
                }
            };
            let parcel = Parcel {
                key: outbox::next_key(),
                user_id: self.me.user_id.clone(),
                outgoing,
            };
            if outbox::park(&parcel).await.is_err() {
                // Still sent while this page lives; only a reload would lose it.
                leptos::logging::warn!("a message could not be kept in the outbox");
            }
            self.queue(Parked {
                line,
                conversation,
                parcel,
            });
        }
        self.sealing.set(false);
    }

    /// Puts a parked message in the send queue and makes sure it runs.
    fn queue(self: &Rc<Self>, parked: Parked) {
        self.outbox.borrow_mut().push_back(parked);
        if !self.sending.replace(true) {
            let engine = self.clone();
            spawn_local(async move { engine.send_parked().await });
        }
    }

    /// Ends the current wait between tries at once (the link is back).
    pub(super) fn nudge(&self) {
        if let Some(wake) = self.wake.borrow_mut().take() {
            let _ = wake.send(());
        }
    }

    /// Waits `ms`, or less if nudged.
    async fn pause(&self, ms: u32) {
        let (wake, woken) = oneshot::channel();
        *self.wake.borrow_mut() = Some(wake);
        futures::select! {
            _ = sleep(ms).fuse() => {}
            _ = woken.fuse() => {}
        }
    }

    /// Sends the queue in order, each message until the server answers.
    async fn send_parked(self: Rc<Self>) {
        loop {
            let next = self.outbox.borrow_mut().pop_front();
            let Some(Parked {
                mut line,
                conversation,
                parcel,
            }) = next
            else {
                break;
            };
            let sealed = &parcel.outgoing;
            let mut wait = 1000;
            loop {
                let answer = messages::send(
                    sealed.conversation_id,
                    sealed.message_id,
                    sealed.epoch,
                    sealed.nonce.clone(),
                    sealed.ciphertext.clone(),
                    sealed.signature.clone(),
                )
                .await;
                match answer {
                    Ok(sent) => {
                        line.seq = Some(sent.seq);
                        line.at = sent.created_at;
                        line.delivery = Delivery::Sent;
                        let _ = outbox::unpark(&parcel.key).await;
                        break;
                    }
                    Err(e) if transient(&e) => {
                        self.pause(wait).await;
                        wait = (wait * 2).min(MAX_RETRY_MS);
                    }
                    Err(e) => {
                        // Kept parked until the user deletes it.
                        line.delivery = Delivery::Failed(refusal(&e));
                        self.failed.borrow_mut().insert(line.id, parcel.key.clone());
                        break;
                    }
                }
            }
            self.chats.timeline(conversation).update(|t| {
                t.upsert(line);
            });
        }
        self.sending.set(false);
    }

    /// Shows the messages parked by an earlier page as pending and sends
    /// them. A parcel whose conversation is not known here stays parked.
    pub(super) async fn restore_outbox(self: &Rc<Self>) {
        let Ok(parcels) = outbox::parked(&self.me.user_id).await else {
            return;
        };
        for parcel in parcels {
            let sealed = &parcel.outgoing;
            let Some(ring) = self.ring(sealed.conversation_id) else {
                continue;
            };
            let as_stored = Message {
                id: sealed.message_id,
                conversation_id: sealed.conversation_id,
                seq: 0,
                sender_id: self.my_id,
                sender: self.me.username.clone(),
                epoch: sealed.epoch,
                nonce: sealed.nonce.clone(),
                ciphertext: sealed.ciphertext.clone(),
                signature: sealed.signature.clone(),
                created_at: String::new(),
            };
            let (body, at) = match ring.open(&as_stored).await {
                Ok((_, plain)) => (Body::Text(plain.body), plain.sent_at),
                Err(_) => (Body::Unverified, now()),
            };
            let line = Line {
                id: sealed.message_id,
                seq: None,
                sender_id: self.my_id,
                sender: self.me.username.clone(),
                mine: true,
                body,
                at,
                delivery: Delivery::Pending,
            };
            let conversation = sealed.conversation_id;
            self.chats.touch(conversation, &line.at);
            self.chats.timeline(conversation).update(|t| {
                t.upsert(line.clone());
            });
            self.queue(Parked {
                line,
                conversation,
                parcel,
            });
        }
    }

    /// Removes a message that failed for good, here and from the outbox.
    pub(super) fn discard(&self, conversation: ConversationId, id: MessageId) {
        self.chats.timeline(conversation).update(|t| t.remove(id));
        if let Some(key) = self.failed.borrow_mut().remove(&id) {
            spawn_local(async move {
                let _ = outbox::unpark(&key).await;
            });
        }
    }
}
