//! Typing, for the engine (DESIGN.md, "Live conversation (wire)"): telling
//! the room this user is typing (at most once every two seconds per
//! conversation, only while connected: a `typing` missed is not worth a
//! retry), and showing who else is, named from the conversation's signed
//! member set, for six seconds after their last `typing` or until their
//! message arrives.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{Engine, clock};
use crate::client::socket::sleep;
use crate::model::ids::{ConversationId, UserId};
use crate::protocol::{TYPING, TYPING_EVERY, TYPING_SHOWN, Typing, TypingIn};
use crate::screen::Typist;

impl Engine {
    /// This user typed in a conversation: the room hears it, unless it
    /// heard it from this page less than [`TYPING_EVERY`] ago.
    pub(super) fn typed(&self, conversation: ConversationId) {
        let now = clock();
        let every = TYPING_EVERY.as_millis() as u64;
        let mut last = self.typed.borrow_mut();
        if last
            .get(&conversation)
            .is_some_and(|at| now.saturating_sub(*at) < every)
        {
            return;
        }
        let said = TypingIn {
            conversation_id: conversation,
        };
        let Ok(data) = serde_json::value::to_raw_value(&said) else {
            return;
        };
        let sent = self
            .realtime
            .borrow()
            .as_ref()
            .is_some_and(|r| r.emit(TYPING, &data).is_ok());
        if sent {
            last.insert(conversation, now);
        }
    }

    /// Others are typing: each shown under their signed name for
    /// [`TYPING_SHOWN`], then gone unless they typed again (a relay may name
    /// several; this user among them is skipped).
    pub(super) fn heard_typing(self: &Rc<Self>, typing: Typing) {
        let conversation = typing.conversation_id;
        let Some(ring) = self.ring(conversation) else {
            return;
        };
        let shown = TYPING_SHOWN.as_millis() as u64;
        let until = clock() + shown;
        let typists: Vec<Typist> = typing
            .typists()
            .iter()
            .filter(|id| **id != self.my_id)
            .filter_map(|id| {
                Some(Typist {
                    id: *id,
                    name: ring.member_name(*id)?,
                    until,
                })
            })
            .collect();
        if typists.is_empty() {
            return;
        }
        self.chats.typing.update(|all| {
            let here = all.entry(conversation).or_default();
            here.retain(|t| !typists.iter().any(|new| new.id == t.id));
            here.extend(typists);
        });
        let chats = self.chats;
        spawn_local(async move {
            sleep(shown as u32 + 50).await;
            let now = clock();
            chats.drop_typists(conversation, |t| t.until <= now);
        });
    }

    /// `sender`'s message arrived: they are no longer typing it.
    pub(super) fn done_typing(&self, conversation: ConversationId, sender: UserId) {
        self.chats.drop_typists(conversation, |t| t.id == sender);
    }
}
