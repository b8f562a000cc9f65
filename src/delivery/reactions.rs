//! Reactions folded into the messages they target: a reaction is a message
//! of its own (`seq`, sender, signature), and a page shows, under each
//! message, each emoji with who reacted with it. Folded in timeline order
//! (stored ones in `seq` order, then mine still pending), so every member
//! who holds the same messages sees the same reactions; a removal takes
//! back only its own sender's reaction (the signature says who sent it),
//! and a refused one counts for nothing.

use std::collections::HashMap;

use super::line::{Body, Delivery, Line};
use crate::model::ids::{MessageId, UserId};
use crate::model::plain::PALETTE;

/// One emoji under a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reacted {
    pub emoji: String,
    /// Who reacted with it, by signed name, in the order they did.
    pub by: Vec<(UserId, String)>,
    /// Whether this user is among them.
    pub mine: bool,
}

/// The reactions in `lines` by the message they target, each message's in
/// the palette's order. Emoji outside [`PALETTE`] are not drawn.
pub fn fold(lines: &[Line]) -> HashMap<MessageId, Vec<Reacted>> {
    let mut held: HashMap<MessageId, Vec<Reacted>> = HashMap::new();
    for line in lines {
        let Body::Reaction {
            target,
            emoji,
            remove,
        } = &line.body
        else {
            continue;
        };
        if matches!(line.delivery, Delivery::Failed(_)) || !PALETTE.contains(&emoji.as_str()) {
            continue;
        }
        let on = held.entry(*target).or_default();
        let at = match on.iter().position(|r| r.emoji == *emoji) {
            Some(at) => at,
            None => {
                on.push(Reacted {
                    emoji: emoji.clone(),
                    by: Vec::new(),
                    mine: false,
                });
                on.len() - 1
            }
        };
        let reacted = &mut on[at];
        let already = reacted.by.iter().position(|(id, _)| *id == line.sender_id);
        match (remove, already) {
            (false, None) => reacted.by.push((line.sender_id, line.sender.clone())),
            (true, Some(i)) => {
                reacted.by.remove(i);
            }
            _ => {}
        }
        if line.mine {
            reacted.mine = !remove;
        }
    }
    for on in held.values_mut() {
        on.retain(|r| !r.by.is_empty());
        on.sort_by_key(|r| PALETTE.iter().position(|p| *p == r.emoji));
    }
    held.retain(|_, on| !on.is_empty());
    held
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(seq: u64, who: (UserId, &str), mine: bool, body: Body) -> Line {
        Line {
            id: MessageId::new(),
            seq: Some(seq),
            sender_id: who.0,
            sender: who.1.into(),
            mine,
            body,
            at: "2026-12-01T10:00:00.000Z".into(),
            delivery: Delivery::Sent,
            epoch: 0,
        }
    }

    fn react(target: MessageId, emoji: &str, remove: bool) -> Body {
        Body::Reaction {
            target,
            emoji: emoji.into(),
            remove,
        }
    }

    #[test]
    fn reactions_fold_in_order_and_a_removal_is_its_senders_alone() {
        let (ana, ben) = ((UserId::new(), "ana"), (UserId::new(), "ben"));
        let hi = line(1, ana, true, Body::Text("hi".into()));
        let lines = vec![
            hi.clone(),
            line(2, ben, false, react(hi.id, "😂", false)),
            line(3, ben, false, react(hi.id, "👍", false)),
            line(4, ana, true, react(hi.id, "👍", false)),
            // ben takes back ana's 👍: only his own goes.
            line(5, ben, false, react(hi.id, "👍", true)),
            // ben again: counted once.
            line(6, ben, false, react(hi.id, "😂", false)),
            line(7, ana, true, react(hi.id, "🦀", false)),
        ];
        let folded = fold(&lines);
        assert_eq!(folded.len(), 1);
        let on = &folded[&hi.id];
        assert_eq!(on.len(), 2);
        assert_eq!(
            (on[0].emoji.as_str(), on[0].by.clone(), on[0].mine),
            ("👍", vec![(ana.0, "ana".to_owned())], true)
        );
        assert_eq!(
            (on[1].emoji.as_str(), on[1].by.clone(), on[1].mine),
            ("😂", vec![(ben.0, "ben".to_owned())], false)
        );

        // ana takes hers back: 👍 is gone; a refused reaction counts for nothing.
        let mut more = lines.clone();
        more.push(line(8, ana, true, react(hi.id, "👍", true)));
        let mut refused = line(9, ana, true, react(hi.id, "❤️", false));
        refused.delivery = Delivery::Failed("no".into());
        more.push(refused);
        let on = &fold(&more)[&hi.id];
        assert_eq!(on.len(), 1);
        assert_eq!(on[0].emoji, "😂");
        assert!(!on[0].mine);
    }

    #[test]
    fn nothing_left_is_nothing_drawn() {
        let ana = (UserId::new(), "ana");
        let target = MessageId::new();
        let lines = vec![
            line(1, ana, true, react(target, "🙏", false)),
            line(2, ana, true, react(target, "🙏", true)),
        ];
        assert!(fold(&lines).is_empty());
    }
}
