//! Sending, for the engine: what is written shows at once as pending; a
//! sealer seals each message once, in writing order, and parks it in the
//! outbox (IndexedDB) before the core queues it; the core decides when each
//! parcel goes and whether a failure is retried, and this half sends it and
//! reports the server's answer. A reload restores the parked messages,
//! still pending, and goes on.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use leptos::task::spawn_local;

use super::{Engine, now};
use crate::api::messages;
use crate::client::outbox::{self, next_key};
use crate::delivery::Event;
use crate::delivery::outbox::Parcel;
use crate::model::error::{ApiError, ErrorCode};
use crate::model::ids::{ConversationId, MessageId};
use crate::model::plain::{Content, Plain};
use crate::screen::{Body, Delivery, Line};

/// A message written here (a text or a reaction), not yet sealed.
struct Draft {
    content: Content,
    id: MessageId,
    at: String,
    conversation: ConversationId,
}

/// The messages waiting to be sealed, in writing order.
#[derive(Default)]
pub(super) struct Sealer {
    drafts: RefCell<VecDeque<Draft>>,
    /// The drafts are being sealed.
    sealing: Cell<bool>,
}

/// Whether the server refused a message for its epoch: it was not stored,
/// and is sealed again under the next one.
fn stale(e: &ApiError) -> bool {
    matches!(e.error, ErrorCode::StaleEpoch | ErrorCode::RekeyRequired)
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

/// Forgets a parcel the server has answered.
pub(super) fn unpark(key: String) {
    spawn_local(async move {
        let _ = outbox::unpark(&key).await;
    });
}

impl Engine {
    /// A pending line of mine, sealed (or to be sealed) in `epoch`.
    fn pending_line(&self, id: MessageId, body: Body, at: String, epoch: u32) -> Line {
        Line {
            id,
            seq: None,
            sender_id: self.my_id,
            sender: self.me.username.clone(),
            mine: true,
            body,
            at,
            delivery: Delivery::Pending,
            epoch,
        }
    }

    /// Shows `content` (a text or a reaction) as pending at once and
    /// queues it to be sealed and sent. Nothing is written to a
    /// conversation while a member's key change waits for the user (the
    /// page disables its composer too).
    pub(super) fn enqueue(self: &Rc<Self>, conversation: ConversationId, content: Content) {
        let Some(ring) = self.ring(conversation) else {
            return;
        };
        if self.book.borrow().change_among(ring.member_ids()).is_some() {
            return;
        }
        let (id, at) = (MessageId::new(), now());
        let body = Body::from(content.clone());
        let entry = self.pending_line(id, body, at.clone(), ring.current());
        self.feed(Event::Written {
            conversation,
            entry,
        });
        self.sealer.drafts.borrow_mut().push_back(Draft {
            content,
            id,
            at,
            conversation,
        });
        if !self.sealer.sealing.replace(true) {
            let engine = self.clone();
            spawn_local(async move { engine.seal_drafts().await });
        }
    }

    /// Seals every draft in order, parks it, and hands it to the core.
    async fn seal_drafts(self: Rc<Self>) {
        loop {
            let next = self.sealer.drafts.borrow_mut().pop_front();
            let Some(Draft {
                content,
                id,
                at,
                conversation,
            }) = next
            else {
                break;
            };
            let Some(ring) = self.ring(conversation) else {
                continue;
            };
            let plain = Plain::new(content, &at);
            let outgoing = match ring.seal(&self.me, id, &plain).await {
                Ok(outgoing) => outgoing,
                Err(e) => {
                    let reason = format!("Could not encrypt: {e}");
                    self.feed(Event::Unsealable {
                        conversation,
                        id,
                        reason,
                    });
                    continue;
                }
            };
            let parcel = Parcel {
                key: next_key(),
                user_id: self.me.user_id.clone(),
                outgoing,
            };
            if outbox::park(&parcel).await.is_err() {
                // Still sent while this page lives; only a reload would lose it.
                leptos::logging::warn!("a message could not be kept in the outbox");
            }
            self.feed(Event::Parked(parcel));
        }
        self.sealer.sealing.set(false);
    }

    /// Sends a parcel once and tells the core what the server said.
    pub(super) fn send_parcel(self: &Rc<Self>, parcel: Parcel) {
        let engine = self.clone();
        let id = parcel.outgoing.message_id;
        if self.departed_from(parcel.outgoing.conversation_id, parcel.outgoing.epoch) {
            // A member left this epoch: whoever else holds its key (the
            // one who left, or a server hiding the departure) reads nothing
            // more sent under it. Sealed again under the next one.
            self.feed(Event::Stale { id });
            return;
        }
        spawn_local(async move {
            let event = match messages::send(parcel.outgoing).await {
                Ok(sent) => Event::Sent {
                    id,
                    seq: sent.seq,
                    at: sent.created_at,
                },
                Err(e) if stale(&e) => Event::Stale { id },
                Err(e) => Event::Refused {
                    id,
                    transient: transient(&e),
                    reason: refusal(&e),
                },
            };
            engine.feed(event);
        });
    }

    /// Seals again, under the conversation's current epoch, a parcel the
    /// server refused for its epoch. If a member's departure holds sends,
    /// this page reads the conversation again first (and posts the next
    /// epoch itself if nobody has yet); if the next epoch is still not
    /// here, the core tries again later.
    pub(super) fn reseal(self: &Rc<Self>, parcel: Parcel) {
        let engine = self.clone();
        spawn_local(async move {
            let id = parcel.outgoing.conversation_id;
            let behind = |engine: &Rc<Engine>| {
                engine
                    .ring(id)
                    .is_none_or(|ring| ring.current() <= parcel.outgoing.epoch)
            };
            if behind(&engine) {
                engine.reload(id).await;
            }
            if behind(&engine) {
                // Nobody posted it yet (the other members' apps are away,
                // or this one's earlier try failed): this one does.
                engine.post_next_epoch(id).await;
            }
            let resealed = match engine.ring(id) {
                Some(ring) => ring.reseal(&engine.me, &parcel.outgoing).await,
                None => None,
            };
            let Some(outgoing) = resealed else {
                let reason = if engine.departed_from(id, parcel.outgoing.epoch) {
                    "someone left: waiting for the conversation's next key".to_owned()
                } else {
                    "the conversation's next key is not here yet".to_owned()
                };
                engine.feed(Event::Refused {
                    id: parcel.id(),
                    transient: true,
                    reason,
                });
                return;
            };
            let parcel = Parcel { outgoing, ..parcel };
            if outbox::park(&parcel).await.is_err() {
                leptos::logging::warn!("a message could not be kept in the outbox");
            }
            engine.feed(Event::Resealed(parcel));
        });
    }

    /// Shows the messages parked by an earlier page as pending and queues
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
            let (body, at) = match ring.open_own(&self.me, sealed).await {
                Ok(plain) => (Body::from(plain.content), plain.sent_at),
                Err(()) => (Body::Unverified, now()),
            };
            let conversation = sealed.conversation_id;
            let entry = self.pending_line(sealed.message_id, body, at, sealed.epoch);
            self.feed(Event::Written {
                conversation,
                entry,
            });
            self.feed(Event::Parked(parcel));
        }
    }
}
