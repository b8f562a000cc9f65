//! What the chat screens show, as reactive state shared by the page's
//! components (`app::chats`) and the browser engine (`client::engine`),
//! which fills it; components only read it and ask the engine to act. The
//! connection, the conversation list, and one timeline per conversation.
//! Plain data, no keys: a message here is already opened (or marked as not
//! verifiable).

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;

pub use crate::delivery::line::{Body, Delivery, Line};
pub use crate::delivery::reads::{Reads, Unread};
use crate::model::ids::{ConversationId, UserId};
pub use crate::model::live::Sharing;

/// Which pane an address's path shows: `Some` for a conversation
/// (`/chats/{id}`, the inner `None` when `{id}` names none), `None` for the
/// list alone (`/chats`) or a page outside the chats.
pub fn pane_in_address(path: &str) -> Option<Option<ConversationId>> {
    let rest = path.strip_prefix("/chats")?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let rest = rest.trim_matches('/');
    (!rest.is_empty()).then(|| rest.parse().ok())
}

/// One conversation's messages as the page shows them.
pub type Timeline = crate::delivery::timeline::Timeline<Line>;

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

/// A conversation as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub id: ConversationId,
    /// The title, else the other members' names.
    pub name: String,
    /// The members' names, from the signed key set.
    pub members: Vec<String>,
    pub member_ids: Vec<UserId>,
    /// The members this user marked verified (a key change clears it).
    pub verified: Vec<UserId>,
    pub group: bool,
    /// Set when this browser refused the conversation's keys.
    pub problem: Option<String>,
    /// Set while a member's key change waits for the user: nothing is
    /// sent here until it is accepted.
    pub warning: Option<KeyWarning>,
    /// RFC 3339 of the last activity, for ordering.
    pub active_at: String,
    /// Who created it (the only one who removes people).
    pub created_by: UserId,
    /// Who came and went, from the signed chain, epoch by epoch.
    pub changes: Vec<ChangeNote>,
    /// The first epoch this user holds a key in: earlier messages are not
    /// shared with people added later.
    pub first_epoch: u32,
    /// Set once this user is no longer in it ("You left", "You were
    /// removed"): what was shown stays, read-only.
    pub gone: Option<String>,
}

/// One line of the timeline about who came or went, placed before the
/// first message of its epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeNote {
    pub epoch: u32,
    pub text: String,
}

/// A key change the user has not accepted yet (`crypto::pins::Change`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyWarning {
    /// The id the person is pinned under: accepting names it.
    pub pinned: UserId,
    /// The person's name as pinned.
    pub name: String,
    /// The change in plain words.
    pub text: String,
}

/// A contact's "Verify" view: the safety number of the user and them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub id: UserId,
    pub name: String,
    /// 60 digits in 12 groups of 5.
    pub groups: Vec<String>,
    /// The number's QR code, as SVG markup drawn in this browser.
    pub qr_svg: String,
    pub verified: bool,
}

/// Why a name could not be added to a new conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    /// Unknown, unreachable, or refused, in words.
    Other(String),
    /// The person's keys or name changed since they were pinned.
    Changed(KeyWarning),
}

/// The chat page's state, provided as context.
#[derive(Clone, Copy)]
pub struct Chats {
    pub me: RwSignal<Option<Me>>,
    pub link: RwSignal<LinkState>,
    pub list: RwSignal<Vec<Summary>>,
    /// Whether the first list has loaded.
    pub loaded: RwSignal<bool>,
    /// Who else is typing, by conversation.
    pub typing: RwSignal<HashMap<ConversationId, Vec<Typist>>>,
    /// Read positions, by conversation.
    pub reads: RwSignal<HashMap<ConversationId, Reads>>,
    /// Who of the people this user shares a conversation with is online.
    pub online: RwSignal<HashSet<UserId>>,
    /// What this user shares (read receipts, online status), once known.
    pub sharing: RwSignal<Option<Sharing>>,
    /// This browser's notification settings.
    pub notices: RwSignal<Notices>,
    /// The conversation on screen, if any (set by its pane).
    pub open: RwSignal<Option<ConversationId>>,
    /// Whether the page is visible (not a hidden tab).
    pub visible: RwSignal<bool>,
    /// A conversation to go to (a notification was clicked).
    pub go_to: RwSignal<Option<ConversationId>>,
    timelines: StoredValue<HashMap<ConversationId, RwSignal<Timeline>>>,
    /// The page's owner: timelines are made under it, whoever reads one
    /// first (a list item that is later taken away would otherwise take
    /// the timeline with it, and the next read would panic).
    owner: StoredValue<Option<Owner>>,
}

/// Desktop notifications, as this browser keeps them for this user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Notices {
    /// Raise one when a message comes while the tab is hidden.
    pub enabled: bool,
    /// Show the message's text in it (otherwise only who wrote).
    pub previews: bool,
}

/// Someone typing in a conversation, as a `typing` event said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typist {
    pub id: UserId,
    /// From the conversation's signed member set.
    pub name: String,
    /// Until when to show it (the browser's clock, ms).
    pub until: u64,
}

/// What to show for `typists` at `now`: "ana is typing…", "ana and ben
/// are typing…", "3 people are typing…"; nothing once all have expired.
pub fn typing_text(typists: &[Typist], now: u64) -> Option<String> {
    let names: Vec<&str> = typists
        .iter()
        .filter(|t| t.until > now)
        .map(|t| t.name.as_str())
        .collect();
    match names[..] {
        [] => None,
        [one] => Some(format!("{one} is typing…")),
        [one, two] => Some(format!("{one} and {two} are typing…")),
        _ => Some(format!("{} people are typing…", names.len())),
    }
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
            typing: RwSignal::new(HashMap::new()),
            reads: RwSignal::new(HashMap::new()),
            online: RwSignal::new(HashSet::new()),
            sharing: RwSignal::new(None),
            notices: RwSignal::new(Notices::default()),
            open: RwSignal::new(None),
            visible: RwSignal::new(true),
            go_to: RwSignal::new(None),
            timelines: StoredValue::new(HashMap::new()),
            owner: StoredValue::new(Owner::current()),
        }
    }

    /// A conversation's unread count (tracked).
    pub fn unread(&self, id: ConversationId) -> Unread {
        let timeline = self.timeline(id);
        self.reads.with(|all| {
            let reads = all.get(&id).cloned().unwrap_or_default();
            timeline.with(|t| reads.unread(t.lines(), t.complete))
        })
    }

    /// Conversations with unread messages, and their messages in all
    /// (tracked): what the page title says.
    pub fn total_unread(&self) -> usize {
        let ids: Vec<ConversationId> = self.list.with(|l| l.iter().map(|s| s.id).collect());
        ids.into_iter().map(|id| self.unread(id).count).sum()
    }

    /// The read positions of a conversation (tracked).
    pub fn reads_in(&self, id: ConversationId) -> Reads {
        self.reads
            .with(|all| all.get(&id).cloned().unwrap_or_default())
    }

    /// The timeline of a conversation (an empty one at first).
    pub fn timeline(&self, id: ConversationId) -> RwSignal<Timeline> {
        if let Some(found) = self.timelines.with_value(|all| all.get(&id).copied()) {
            return found;
        }
        let fresh = match self.owner.get_value() {
            Some(page) => page.with(|| RwSignal::new(Timeline::default())),
            None => RwSignal::new(Timeline::default()),
        };
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

    /// What to show for who is typing in a conversation (the engine takes
    /// each typist out once their time is up).
    pub fn typing_in(&self, id: ConversationId) -> Option<String> {
        self.typing
            .with(|all| all.get(&id).and_then(|t| typing_text(t, 0)))
    }

    /// Takes out of a conversation's typists those `gone` says have stopped
    /// (the signal changes only if there are any).
    pub fn drop_typists(&self, id: ConversationId, gone: impl Fn(&Typist) -> bool) {
        let any = self
            .typing
            .with_untracked(|all| all.get(&id).is_some_and(|t| t.iter().any(&gone)));
        if any {
            self.typing.update(|all| {
                if let Some(here) = all.get_mut(&id) {
                    here.retain(|t| !gone(t));
                }
                all.retain(|_, here| !here.is_empty());
            });
        }
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
mod timeline_tests {
    use super::*;

    #[test]
    fn a_timeline_first_read_by_a_part_of_the_page_that_goes_away_stays() {
        let page = Owner::new();
        page.with(|| {
            let chats = Chats::new();
            let id = ConversationId::new();
            // A list item reads the timeline first (its unread count), and
            // is then taken away (the list re-renders).
            let item = page.child();
            item.with(|| chats.timeline(id).update(|t| t.complete = true));
            item.cleanup();
            drop(item);
            // The conversation's pane, or the engine, reads it next.
            assert!(chats.timeline(id).with_untracked(|t| t.complete));
        });
    }
}

#[cfg(test)]
mod typing_tests {
    use super::*;

    fn typist(name: &str, until: u64) -> Typist {
        Typist {
            id: UserId::new(),
            name: name.into(),
            until,
        }
    }

    #[test]
    fn one_two_or_many_are_typing_until_their_time_is_up() {
        let ana = typist("ana", 6_000);
        let ben = typist("ben", 9_000);
        let cyd = typist("cyd", 9_000);
        assert_eq!(typing_text(&[], 0), None);
        assert_eq!(
            typing_text(std::slice::from_ref(&ana), 1_000).unwrap(),
            "ana is typing…"
        );
        assert_eq!(
            typing_text(&[ana.clone(), ben.clone()], 1_000).unwrap(),
            "ana and ben are typing…"
        );
        assert_eq!(
            typing_text(&[ana.clone(), ben.clone(), cyd.clone()], 1_000).unwrap(),
            "3 people are typing…"
        );
        assert_eq!(
            typing_text(&[ana.clone(), ben.clone(), cyd], 6_000).unwrap(),
            "ben and cyd are typing…"
        );
        assert_eq!(typing_text(&[ana, ben], 9_000), None);
    }

    #[test]
    fn typists_who_stopped_are_taken_out_and_an_empty_conversation_with_them() {
        // Signals live in an owner's arena.
        Owner::new().with(|| {
            let chats = Chats::new();
            let (here, there) = (ConversationId::new(), ConversationId::new());
            let (ana, ben) = (typist("ana", 6_000), typist("ben", 9_000));
            chats.typing.update(|all| {
                all.insert(here, vec![ana.clone(), ben.clone()]);
                all.insert(there, vec![ana.clone()]);
            });
            chats.drop_typists(here, |t| t.until <= 7_000);
            assert_eq!(chats.typing_in(here).unwrap(), "ben is typing…");
            assert_eq!(chats.typing_in(there).unwrap(), "ana is typing…");
            chats.drop_typists(there, |t| t.id == ana.id);
            assert!(!chats.typing.get_untracked().contains_key(&there));
            chats.drop_typists(here, |t| t.id == ana.id);
            assert_eq!(chats.typing_in(here).unwrap(), "ben is typing…");
        });
    }
}

#[cfg(test)]
mod address_tests {
    use super::*;

    #[test]
    fn the_address_names_the_pane() {
        let id = ConversationId::new();
        assert_eq!(pane_in_address("/chats"), None);
        assert_eq!(pane_in_address("/chats/"), None);
        assert_eq!(pane_in_address(&format!("/chats/{id}")), Some(Some(id)));
        assert_eq!(pane_in_address(&format!("/chats/{id}/")), Some(Some(id)));
        assert_eq!(pane_in_address("/chats/not-an-id"), Some(None));
        assert_eq!(pane_in_address("/chatsroom"), None);
        assert_eq!(pane_in_address("/"), None);
        assert_eq!(pane_in_address("/signup"), None);
    }
}
