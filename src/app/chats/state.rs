//! What the chat screens show, as reactive state shared by the page's
//! components: the connection, the conversation list, and one timeline per
//! conversation. The browser engine (`client::engine`) fills it; components
//! only read it and ask the engine to act. Plain data, no keys: a message
//! here is already opened (or marked as not verifiable).

use std::collections::HashMap;

use leptos::prelude::*;

use crate::model::ids::{ConversationId, MessageId, UserId};

/// The connection to the server, as the sidebar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    Connecting,
    /// Connected; fetching what was missed meanwhile.
    CatchingUp,
    Connected,
    /// Waiting to try again, in about this many seconds.
    Reconnecting {
        retry_in_secs: u32,
    },
    /// The browser says there is no network; it tries again once there is.
    Offline,
    /// The session ended (logged out elsewhere, expired).
    SignedOut,
}

/// What a message says, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Text(String),
    /// The tag or the signature failed: never shown as genuine.
    Unverified,
}

/// Where one of my messages stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Sealed, not yet acknowledged by the server.
    Pending,
    /// Stored by the server at its `seq`.
    Sent,
    /// Refused for good, with the reason.
    Failed(String),
}

/// One message in a timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub id: MessageId,
    /// `None` while pending.
    pub seq: Option<u64>,
    pub sender_id: UserId,
    /// From the signed member set, never from the server's `sender` field.
    pub sender: String,
    pub mine: bool,
    pub body: Body,
    /// RFC 3339: the server's time once stored, the client's while pending.
    pub at: String,
    pub delivery: Delivery,
}

impl Line {
    /// A key for keyed lists that changes when the line's look does.
    pub fn render_key(&self) -> (MessageId, Option<u64>, u8) {
        let state = match self.delivery {
            Delivery::Pending => 0,
            Delivery::Sent => 1,
            Delivery::Failed(_) => 2,
        };
        (self.id, self.seq, state)
    }
}

/// One conversation's messages: stored ones in `seq` order, then pending
/// ones in the order they were written; each message once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    lines: Vec<Line>,
    /// Whether the oldest message is held (nothing older to load).
    pub complete: bool,
}

impl Timeline {
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// Adds or updates a line, keeping `seq` order; a stored copy of a
    /// pending line replaces it. Returns whether anything changed.
    pub fn upsert(&mut self, line: Line) -> bool {
        if let Some(at) = self.lines.iter().position(|l| l.id == line.id) {
            let held = &self.lines[at];
            // A stored line is final; a pending one gives way to its stored
            // copy or to a change of its delivery state (failed).
            let newer =
                held.seq.is_none() && (line.seq.is_some() || line.delivery != held.delivery);
            if !newer {
                return false;
            }
            self.lines.remove(at);
        }
        match line.seq {
            None => self.lines.push(line),
            Some(seq) => {
                let at = self
                    .lines
                    .iter()
                    .position(|l| l.seq.is_none_or(|s| s > seq))
                    .unwrap_or(self.lines.len());
                self.lines.insert(at, line);
            }
        }
        true
    }

    /// Removes a line (a failed message the user discards).
    pub fn remove(&mut self, id: MessageId) {
        self.lines.retain(|l| l.id != id);
    }

    /// The highest `seq` held (0 if none).
    pub fn last_seq(&self) -> u64 {
        self.lines.iter().filter_map(|l| l.seq).max().unwrap_or(0)
    }

    /// The lowest `seq` held.
    pub fn first_seq(&self) -> Option<u64> {
        self.lines.iter().filter_map(|l| l.seq).min()
    }

    /// The newest line, for the conversation list's preview.
    pub fn newest(&self) -> Option<&Line> {
        self.lines.last()
    }
}

/// A conversation as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub id: ConversationId,
    /// The title, else the other members' names.
    pub name: String,
    pub members: Vec<String>,
    pub group: bool,
    /// Set when this browser refused the conversation's keys.
    pub problem: Option<String>,
    /// RFC 3339 of the last activity, for ordering.
    pub active_at: String,
}

/// The chat page's state, provided as context.
#[derive(Clone, Copy)]
pub struct Chats {
    pub me: RwSignal<Option<Me>>,
    pub link: RwSignal<LinkState>,
    pub list: RwSignal<Vec<Summary>>,
    /// Whether the first list has loaded.
    pub loaded: RwSignal<bool>,
    timelines: StoredValue<HashMap<ConversationId, RwSignal<Timeline>>>,
}

/// The signed-in user, as the page shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Me {
    pub id: UserId,
    pub username: String,
    pub fingerprint: String,
}

impl Chats {
    pub fn new() -> Self {
        Chats {
            me: RwSignal::new(None),
            link: RwSignal::new(LinkState::Connecting),
            list: RwSignal::new(Vec::new()),
            loaded: RwSignal::new(false),
            timelines: StoredValue::new(HashMap::new()),
        }
    }

    /// The timeline of a conversation (an empty one at first).
    pub fn timeline(&self, id: ConversationId) -> RwSignal<Timeline> {
        if let Some(found) = self.timelines.with_value(|all| all.get(&id).copied()) {
            return found;
        }
        let fresh = RwSignal::new(Timeline::default());
        self.timelines.update_value(|all| {
            all.insert(id, fresh);
        });
        fresh
    }

    /// The summary of a conversation.
    pub fn summary(&self, id: ConversationId) -> Option<Summary> {
        self.list
            .with(|list| list.iter().find(|s| s.id == id).cloned())
    }

    /// Adds or replaces a summary, keeping the newest activity first.
    pub fn put_summary(&self, summary: Summary) {
        self.list.update(|list| {
            list.retain(|s| s.id != summary.id);
            list.push(summary);
            list.sort_by(|a, b| b.active_at.cmp(&a.active_at));
        });
    }

    /// Moves a conversation up after activity at `at`.
    pub fn touch(&self, id: ConversationId, at: &str) {
        self.list.update(|list| {
            if let Some(s) = list.iter_mut().find(|s| s.id == id)
                && s.active_at.as_str() < at
            {
                s.active_at = at.to_owned();
            }
            list.sort_by(|a, b| b.active_at.cmp(&a.active_at));
        });
    }
}

impl Default for Chats {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(seq: Option<u64>, id: MessageId) -> Line {
        Line {
            id,
            seq,
            sender_id: UserId::new(),
            sender: "hi89".into(),
            mine: false,
            body: Body::Text("x".into()),
            at: "2026-11-26T01:00:00.000Z".into(),
            delivery: if seq.is_some() {
                Delivery::Sent
            } else {
                Delivery::Pending
            },
        }
    }

    fn seqs(t: &Timeline) -> Vec<Option<u64>> {
        t.lines().iter().map(|l| l.seq).collect()
    }

    #[test]
    fn lines_stay_in_seq_order_once_each_whatever_order_they_arrive_in() {
        let mut t = Timeline::default();
        let ids: Vec<MessageId> = (0..5).map(|_| MessageId::new()).collect();
        for (seq, id) in [(3, 2), (1, 0), (5, 4), (2, 1), (3, 2), (4, 3), (1, 0)] {
            t.upsert(line(Some(seq), ids[id]));
        }
        assert_eq!(seqs(&t), [1, 2, 3, 4, 5].map(Some));
        assert_eq!(t.last_seq(), 5);
        assert_eq!(t.first_seq(), Some(1));
    }

    #[test]
    fn a_stored_copy_replaces_the_pending_line_and_pending_stay_last() {
        let mut t = Timeline::default();
        let (a, b, c) = (MessageId::new(), MessageId::new(), MessageId::new());
        assert!(t.upsert(line(Some(1), a)));
        assert!(t.upsert(line(None, b)));
        assert!(t.upsert(line(Some(2), c)));
        assert_eq!(seqs(&t), [Some(1), Some(2), None]);
        assert!(t.upsert(line(Some(3), b)));
        assert_eq!(seqs(&t), [Some(1), Some(2), Some(3)]);
        assert!(
            !t.upsert(line(None, b)),
            "a stale pending copy changes nothing"
        );
        assert_eq!(t.lines().len(), 3);
    }

    #[test]
    fn a_pending_line_can_fail() {
        let mut t = Timeline::default();
        let a = MessageId::new();
        t.upsert(line(None, a));
        let mut failed = line(None, a);
        failed.delivery = Delivery::Failed("too large".into());
        assert!(t.upsert(failed));
        assert_eq!(t.lines()[0].delivery, Delivery::Failed("too large".into()));
    }
}
