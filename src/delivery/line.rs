//! A message as the browser shows it: already opened (or marked as not
//! verifiable), with its sender's name from the signed member set and, for
//! one's own, where its delivery stands. Plain data, no keys.

use super::timeline::{Entry, Outcome, Rank};
use crate::model::ids::{MessageId, UserId};
use crate::model::plain::Content;

/// What a message says, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Text(String),
    /// The tag or the signature failed: never shown as genuine.
    Unverified,
    /// Genuine (its sender's, signed and sealed), but not a plaintext this
    /// app reads: shown as such, never dropped.
    Unreadable,
    /// The sender's signed departure (a `leave` message). Not drawn: the
    /// next epoch's change note says who left.
    Left,
    /// The sender's reaction to `target` (or its removal). Not drawn as a
    /// message: folded into its target ([`super::reactions`]).
    Reaction {
        target: MessageId,
        emoji: String,
        remove: bool,
    },
}

impl From<Content> for Body {
    fn from(content: Content) -> Body {
        match content {
            Content::Text { body } => Body::Text(body),
            Content::Leave { .. } => Body::Left,
            Content::Reaction {
                target,
                emoji,
                remove,
            } => Body::Reaction {
                target,
                emoji,
                remove,
            },
        }
    }
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
    /// The epoch it was sealed in: the timeline shows who came or went
    /// between two epochs' messages.
    pub epoch: u32,
}

impl Line {
    /// A key for keyed lists that changes when the line's look does.
    pub fn render_key(&self) -> (MessageId, Option<u64>, u8) {
        let state = match (&self.delivery, &self.body) {
            (Delivery::Pending, _) => 0,
            (Delivery::Sent, Body::Text(_)) => 1,
            (Delivery::Sent, Body::Unverified) => 2,
            (Delivery::Failed(_), _) => 3,
            (Delivery::Sent, Body::Left) => 4,
            (Delivery::Sent, Body::Unreadable) => 5,
            (Delivery::Sent, Body::Reaction { .. }) => 6,
        };
        (self.id, self.seq, state)
    }

    /// Whether the timeline draws it as a message (a departure is said by
    /// the change note instead, a reaction under its target).
    pub fn shown(&self) -> bool {
        !matches!(self.body, Body::Left | Body::Reaction { .. })
    }
}

impl Entry for Line {
    fn id(&self) -> MessageId {
        self.id
    }

    fn seq(&self) -> Option<u64> {
        self.seq
    }

    fn rank(&self) -> Rank {
        match (&self.delivery, &self.body) {
            (Delivery::Pending, _) => Rank::Pending,
            (Delivery::Failed(_), _) => Rank::Failed,
            (Delivery::Sent, Body::Unverified) => Rank::Unverified,
            (
                Delivery::Sent,
                Body::Text(_) | Body::Left | Body::Unreadable | Body::Reaction { .. },
            ) => Rank::Verified,
        }
    }

    fn settled(mut self, outcome: Outcome) -> Self {
        match outcome {
            Outcome::Stored { seq, at } => {
                self.seq = Some(seq);
                self.at = at;
                self.delivery = Delivery::Sent;
            }
            Outcome::Failed(why) => self.delivery = Delivery::Failed(why),
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending() -> Line {
        Line {
            id: MessageId::new(),
            seq: None,
            sender_id: UserId::new(),
            sender: "hi89".into(),
            mine: true,
            body: Body::Text("x".into()),
            at: "2026-11-30T01:00:00.000Z".into(),
            delivery: Delivery::Pending,
            epoch: 0,
        }
    }

    #[test]
    fn a_settled_line_ranks_by_what_the_server_said() {
        let line = pending();
        assert_eq!(line.rank(), Rank::Pending);
        let stored = line.clone().settled(Outcome::Stored {
            seq: 4,
            at: "2026-11-30T01:00:01.000Z".into(),
        });
        assert_eq!(
            (stored.seq, stored.at.as_str(), stored.rank()),
            (Some(4), "2026-11-30T01:00:01.000Z", Rank::Verified)
        );
        let failed = line.settled(Outcome::Failed("too long".into()));
        assert_eq!(failed.rank(), Rank::Failed);
        assert_eq!(failed.delivery, Delivery::Failed("too long".into()));
        let mut forged = stored.clone();
        forged.body = Body::Unverified;
        assert_eq!(forged.rank(), Rank::Unverified);
        assert_ne!(forged.render_key(), stored.render_key());
    }
}
