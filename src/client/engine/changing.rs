//! Groups that change, for the engine (DESIGN.md, "Groups that change" and
//! suite step 7): taking a conversation as it now stands (pushed, or read
//! again when a head or a refused send says it moved on) by checking its
//! whole chain again against what this browser accepted before; adding
//! people, removing them (the creator) and leaving, each a new epoch
//! signed here; posting the next epoch on its own when a member has left
//! (the first app to do it wins); and forgetting, when the user asks, a
//! conversation they are no longer in.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{Engine, now};
use crate::api::{conversations, messages};
use crate::client::keyring;
use crate::client::socket::sleep;
use crate::crypto::keyset::{self, Checked};
use crate::crypto::pins::Sight;
use crate::crypto::suite;
use crate::crypto::web::primitives as p;
use crate::delivery::Event;
use crate::model::account::PublicUser;
use crate::model::changes::{Changes, ConversationChanged, GetChanges};
use crate::model::conversation::{Change, Conversation, GetConversation, Head, Leave};
use crate::model::error::{ApiError, ErrorCode};
use crate::model::ids::{ConversationId, MessageId, UserId};
use crate::model::plain::{Content, Plain};

/// How many times a change is built again after losing to another.
const CHANGE_TRIES: u32 = 4;

/// What to say when the server says this user is not in a conversation.
const NOT_IN_IT: &str = "You are no longer in this conversation.";

impl Engine {
    /// A conversation moved on (a list says where it stands): unless this
    /// page holds it as it stands, it is read again.
    pub(super) async fn moved(self: &Rc<Self>, head: &Head) {
        if !self.holds(head) {
            self.reload(head.id).await;
        }
    }

    /// A conversation changed (`conversation-changed`): a new epoch pushed
    /// as this member's change is taken as it comes when it follows the
    /// epochs held here (its chain checked like any other); what is still
    /// missing then is read.
    pub(super) async fn pushed_change(self: &Rc<Self>, changed: ConversationChanged) {
        let held = self.keys.known.borrow().get(&changed.head.id).cloned();
        if let (Some(held), Some(changes)) = (held, changed.changes)
            && let Ok(now) = changes.onto(&held, self.my_id)
        {
            self.changed(now).await;
        }
        self.moved(&changed.head).await;
    }

    /// Whether this page holds the conversation's keys as `head` says it
    /// stands.
    fn holds(&self, head: &Head) -> bool {
        self.keys
            .known
            .borrow()
            .get(&head.id)
            .is_some_and(|c| c.head().same_keys(head))
    }

    /// The conversation as it stands on the server: whole if this page
    /// holds none of it, else the epochs held here followed by those after
    /// them, read as changes (the whole chain is checked again by
    /// [`Engine::changed`]).
    async fn current(&self, id: ConversationId) -> Result<Conversation, ApiError> {
        let held = self.keys.known.borrow().get(&id).cloned();
        let Some(held) = held else {
            return conversations::get(GetConversation {
                conversation_id: id,
            })
            .await;
        };
        let asked = GetChanges {
            conversation_id: id,
            since_epoch: held.head().epoch + 1,
        };
        let changes = conversations::changes(asked).await?;
        self.caught_up(&held, changes)
    }

    /// `held` followed by `changes`; a misfit (the server answered changes
    /// that do not follow what this page holds) is said as an error.
    fn caught_up(&self, held: &Conversation, changes: Changes) -> Result<Conversation, ApiError> {
        changes.onto(held, self.my_id).map_err(|misfit| {
            ApiError::new(
                ErrorCode::Internal,
                format!("the server's answer does not follow the keys held here: {misfit}"),
            )
        })
    }

    /// Reads a conversation again and takes it as it now stands.
    pub(super) async fn reload(self: &Rc<Self>, id: ConversationId) {
        match self.current(id).await {
            Ok(c) => self.changed(c).await,
            Err(e) if e.error == ErrorCode::NotAMember => self.gone(id, NOT_IN_IT),
            Err(_) => {}
        }
    }

    /// A conversation as it now stands: unless it is older than the copy
    /// held, its chain is checked again (every signature, the pins, and the
    /// epochs accepted before: a chain that drops or forks one is refused
    /// and shown as such), and then, if a member's departure waits for the
    /// next epoch and I am still in it, this page posts that epoch.
    pub(super) async fn changed(self: &Rc<Self>, c: Conversation) {
        let now = c.head();
        let held = self.keys.known.borrow().get(&c.id).map(Conversation::head);
        if held.is_some_and(|h| h.epoch > now.epoch || h.same_keys(&now)) {
            return;
        }
        self.keys.rings.borrow_mut().remove(&c.id);
        if self.adopt(&c).await.is_some() {
            self.feed(Event::Heads(vec![c.head()]));
            // A message held for these keys goes now.
            self.feed(Event::Rekeyed(c.id));
            self.remember().await;
            if !c.pending.is_empty() && c.member(self.my_id).is_some() {
                let (engine, id) = (self.clone(), c.id);
                spawn_local(async move { engine.rotate(id).await });
            }
        }
    }

    /// Posts the next epoch after a departure: the members of the current
    /// epoch less those whose departures are pending, nothing else changed.
    /// Waits a moment first, so that the remaining members' apps do not all
    /// post at once; whoever is first wins and the others take its epoch.
    async fn rotate(self: &Rc<Self>, id: ConversationId) {
        sleep(200 + (js_sys::Math::random() * 1300.0) as u32).await;
        self.post_next_epoch(id).await;
    }

    /// Posts the epoch that drops whoever left, if one is still wanted.
    pub(super) async fn post_next_epoch(self: &Rc<Self>, id: ConversationId) {
        if let Err(why) = self.post_change(id, &[], None).await {
            leptos::logging::warn!("the conversation's next key could not be posted: {why}");
        }
    }

    /// The conversation as it stands on the server, taken here (its chain
    /// checked), and its newest epoch: what a change or a leave builds on.
    async fn standing(
        self: &Rc<Self>,
        id: ConversationId,
    ) -> Result<(Conversation, Checked), String> {
        let now = self.current(id).await.map_err(|e| e.message)?;
        self.changed(now.clone()).await;
        if self.ring(id).is_none() {
            return Err("this conversation's keys did not check out here".into());
        }
        let mut chain = keyset::check_chain(&now).map_err(|e| e.to_string())?;
        let last = chain.pop().ok_or("it has no key set")?;
        Ok((now, last))
    }

    /// Builds and posts the next epoch of a conversation as it stands on
    /// the server now: its current members plus `add`, less `remove` and
    /// anyone whose departure is pending (carried). Tries again if another
    /// change came first.
    async fn post_change(
        self: &Rc<Self>,
        id: ConversationId,
        add: &[PublicUser],
        remove: Option<UserId>,
    ) -> Result<(), String> {
        for _ in 0..CHANGE_TRIES {
            let (now, last) = self.standing(id).await?;
            let left: Vec<UserId> = now.pending.iter().map(|d| d.member_id).collect();
            if add.is_empty() && remove.is_none() && left.is_empty() {
                // A rotation nobody needs any more: someone else posted it.
                return Ok(());
            }
            // Someone coming back before the epoch that drops them: that
            // epoch goes first (no epoch keeps a member whose departure it
            // carries), and the next round adds them.
            let returning = add.iter().any(|u| left.contains(&u.id));
            let mut members: Vec<PublicUser> = last
                .members
                .iter()
                .filter(|m| !left.contains(&m.id) && (returning || Some(m.id) != remove))
                .cloned()
                .collect();
            for user in add.iter().filter(|_| !returning) {
                if !members.iter().any(|m| m.id == user.id) {
                    members.push(user.clone());
                }
            }
            let set = keyring::key_set(
                id,
                last.epoch + 1,
                &last.head,
                &self.me,
                &members,
                now.pending.clone(),
            )
            .await
            .map_err(|e| format!("your browser could not make the keys ({e})"))?;
            let change = Change {
                conversation_id: id,
                epoch: last.epoch + 1,
                member_ids: members.iter().map(|m| m.id).collect(),
                commit: set.commit,
                keys: set.keys,
                keys_signature: set.keys_signature,
                departures: now.pending.clone(),
            };
            match conversations::change(change).await {
                Ok(stored) => {
                    let now = self.caught_up(&now, stored).map_err(|e| e.message)?;
                    self.changed(now).await;
                    if !returning {
                        return Ok(());
                    }
                }
                // Another change came first: what it made is read again
                // above, and this one built on it if it still applies.
                Err(ApiError {
                    error: ErrorCode::EpochConflict | ErrorCode::RekeyRequired,
                    ..
                }) => continue,
                Err(e) => return Err(e.message),
            }
        }
        Err("the conversation kept changing; try again".into())
    }

    /// Adds `people` (checked against the pins: nothing is wrapped for keys
    /// that are not exactly as pinned) to a conversation.
    pub(super) async fn add_people(
        self: &Rc<Self>,
        id: ConversationId,
        people: Vec<PublicUser>,
    ) -> Result<(), String> {
        let me = self.me_public();
        for person in &people {
            if !matches!(self.book.borrow().compare(&me, person), Sight::Known) {
                return Err(format!(
                    "{}'s keys are not the ones you know. Review the change first.",
                    person.username
                ));
            }
        }
        self.post_change(id, &people, None).await
    }

    /// Removes a member (only the creator may; the server and every client
    /// refuse it from anyone else).
    pub(super) async fn remove_member(
        self: &Rc<Self>,
        id: ConversationId,
        member: UserId,
    ) -> Result<(), String> {
        self.post_change(id, &[], Some(member)).await
    }

    /// Leaves a conversation: my signed departure from its current epoch.
    /// I am out at once; the others' apps post the next epoch without me.
    pub(super) async fn leave(self: &Rc<Self>, id: ConversationId) -> Result<(), String> {
        for _ in 0..CHANGE_TRIES {
            let (_, last) = self.standing(id).await?;
            let signed =
                suite::departure(&id.to_string(), last.epoch, &last.head, &self.me.user_id);
            let signature = p::sign(&self.me.sig_private, &signed)
                .await
                .map_err(|e| format!("your browser could not sign ({e})"))?;
            // First the departure in the epoch it leaves, for every member
            // to see from me, whatever the server says after.
            let ring = self.ring(id).filter(|r| r.current() == last.epoch);
            let Some(ring) = ring else { continue };
            let departure = Content::Leave {
                signature: signature.clone().into(),
            };
            let plain = Plain::new(departure, &now());
            let sealed = ring
                .seal(&self.me, MessageId::new(), &plain)
                .await
                .map_err(|e| format!("your browser could not encrypt ({e})"))?;
            match messages::send(sealed).await {
                Ok(_) => {}
                // Another change came first: sign again on the new epoch.
                Err(ApiError {
                    error: ErrorCode::StaleEpoch,
                    ..
                }) => continue,
                // Someone else's departure holds every send until the
                // epoch that carries it; mine is then carried by the one
                // after, as the server's pending departures say.
                Err(ApiError {
                    error: ErrorCode::RekeyRequired,
                    ..
                }) => {}
                Err(e) => return Err(e.message),
            }
            let leave = Leave {
                conversation_id: id,
                epoch: last.epoch,
                signature: signature.into(),
            };
            match conversations::leave(leave).await {
                Ok(_) => {
                    // Said even if the server's `conversation-removed`
                    // came first.
                    self.mark_gone(id, "You left this conversation.", true);
                    return Ok(());
                }
                Err(ApiError {
                    error: ErrorCode::EpochConflict,
                    ..
                }) => continue,
                Err(e) => return Err(e.message),
            }
        }
        Err("the conversation kept changing; try again".into())
    }

    /// A member's signed departure from `epoch` was seen (its `leave`
    /// message): sends under it stop here (what is written waits for the
    /// next epoch), and the conversation is read again, so that this page
    /// posts the next epoch if the server has it pending and nobody has yet.
    pub(super) fn departure_seen(self: &Rc<Self>, id: ConversationId, epoch: u32) {
        let mut departed = self.keys.departed.borrow_mut();
        let seen = departed.entry(id).or_insert(epoch);
        *seen = (*seen).max(epoch);
        drop(departed);
        // From an epoch before the one held (an older page): nothing to do.
        if self.ring(id).is_some_and(|ring| ring.current() <= epoch) {
            let engine = self.clone();
            spawn_local(async move { engine.reload(id).await });
        }
    }

    /// Whether a member's departure from `epoch` (or a later one) was seen
    /// here: nothing is sent under it.
    pub(super) fn departed_from(&self, id: ConversationId, epoch: u32) -> bool {
        self.keys
            .departed
            .borrow()
            .get(&id)
            .is_some_and(|seen| epoch <= *seen)
    }

    /// This user is no longer in a conversation: what was shown stays,
    /// read-only, with `why`, until the user deletes it here. The first
    /// reason given stands.
    pub(super) fn gone(&self, id: ConversationId, why: &str) {
        self.mark_gone(id, why, false);
    }

    fn mark_gone(&self, id: ConversationId, why: &str, overwrite: bool) {
        self.keys.rings.borrow_mut().remove(&id);
        self.chats.list.update(|list| {
            if let Some(summary) = list.iter_mut().find(|s| s.id == id)
                && (overwrite || summary.gone.is_none())
            {
                summary.gone = Some(why.to_owned());
            }
        });
    }

    /// Deletes here a conversation this user is no longer in.
    pub(super) async fn forget(self: &Rc<Self>, id: ConversationId) {
        self.keys.known.borrow_mut().remove(&id);
        self.keys.rings.borrow_mut().remove(&id);
        self.chats.list.update(|list| list.retain(|s| s.id != id));
        self.feed(Event::Closed(id));
        self.remember().await;
    }
}
