//! The contact book (suite step 8): a one-to-one map between user ids and
//! usernames, each pinned to the keys first seen for it, consulted wherever
//! keys or names arrive. A later sighting that disagrees with a pin is a
//! key change: it is held here, beside the pin, until the user accepts it
//! (which re-pins and clears `verified`); until then nothing is wrapped for
//! the new keys and nothing is sent to that person.
//!
//! The book also keeps the head of every epoch it admitted: an admitted
//! epoch is not checked again against later pins, and another head for it
//! is a split. The contacts follow the user to every browser: the server
//! keeps them sealed under `cbk` ([`Shared`]), versioned; this book merges
//! what it fetches (the union by id, a disagreement being a key change) and
//! keeps an [`Anchor`] so that the server cannot roll the copy back. Pure
//! data and rules, no I/O: the browser stores and syncs it
//! (`client::contacts`), and the native tests drive it.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::keyset::Checked;
use crate::model::account::PublicUser;
use crate::model::blob::Blob;
use crate::model::ids::{ConversationId, UserId};

/// A pinned user: the name and keys first seen for this id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub user: PublicUser,
    /// The user compared safety numbers with this person and said so.
    #[serde(default)]
    pub verified: bool,
}

/// A sighting that disagrees with a pin, held until the user accepts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The contact as pinned (by the sighting's id, else by its name).
    pub pinned: Contact,
    /// What was seen instead.
    pub seen: PublicUser,
}

impl Change {
    /// Whether this change concerns the user with id `id`, as pinned or as
    /// seen.
    pub fn concerns(&self, id: UserId) -> bool {
        self.pinned.user.id == id || self.seen.id == id
    }

    /// The change in plain words, naming the person as pinned.
    pub fn describe(&self) -> String {
        let name = &self.pinned.user.username;
        let (seen_id, seen_name) = (self.seen.id, &self.seen.username);
        if seen_id != self.pinned.user.id {
            format!(
                "The server now gives the name {name} to another account than the one you know."
            )
        } else if seen_name != name {
            format!("The server now calls {name} “{seen_name}”, a name you have not seen for them.")
        } else {
            format!("{name}'s keys have changed since you last saw them.")
        }
    }

    /// Whether what was seen is itself pinned now.
    fn seen_is_pinned(&self, contacts: &BTreeMap<UserId, Contact>) -> bool {
        contacts
            .get(&self.seen.id)
            .is_some_and(|c| c.user == self.seen)
    }
}

/// What one sighting of a user is, against the book and oneself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sight {
    /// Oneself, exactly as one is.
    Me,
    /// Claims one's own id or name with other keys or another name.
    NotMe,
    /// Not pinned yet, by id or by name.
    New,
    /// Exactly as pinned.
    Known,
    /// Disagrees with a pin.
    Changed(Change),
}

/// Where the server's copy stood when this browser last read or wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub version: u64,
    /// SHA-256 of that version's sealed bytes.
    pub hash: Blob,
}

/// The book as it is sealed for the server (suite step 8): the contacts,
/// and the hash of the sealed copy it replaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shared {
    /// `b64u(SHA-256(previous sealed copy))`, empty for version 1.
    pub prev: String,
    pub contacts: Vec<Contact>,
}

/// Why a copy of the book from the server is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rollback {
    #[error(
        "the server offered version {offered} of your contacts, older than version {held} seen here"
    )]
    Older { held: u64, offered: u64 },
    #[error(
        "the server offered another copy of version {version} of your contacts than the one seen here"
    )]
    Forked { version: u64 },
    #[error("version {version} of your contacts does not follow the one seen here")]
    Unlinked { version: u64 },
}

/// What merging the server's copy did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Merged {
    /// Disagreements with the pins, held as changes.
    pub changes: Vec<Change>,
    /// This book holds what the server's copy lacks: write it back.
    pub ahead: bool,
}

/// Why the book does not admit a conversation's key-set chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unpinned {
    /// An epoch this browser admitted before now comes with another head.
    #[error("epoch {epoch} is not the one you accepted before: this conversation has split")]
    Split { epoch: u32 },
    /// One's own member line does not carry one's own name and keys.
    #[error("epoch {epoch} does not carry your own name and keys")]
    NotMe { epoch: u32 },
    /// A member disagrees with a pin (held in the book until accepted).
    #[error("{}", .0.first().map(Change::describe).unwrap_or_default())]
    Changed(Vec<Change>),
}

/// The contact book and the admitted heads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Stored", into = "Stored")]
pub struct Book {
    contacts: BTreeMap<UserId, Contact>,
    /// Username to id, the other half of the one-to-one map.
    names: HashMap<String, UserId>,
    changes: Vec<Change>,
    heads: BTreeMap<(ConversationId, u32), [u8; 32]>,
    anchor: Option<Anchor>,
    /// The contacts changed here since the server's copy was last written
    /// or read.
    dirty: bool,
    /// A verified mark changed here since then.
    marks_changed: bool,
}

/// An admitted epoch, as the book is stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AdmittedHead {
    conversation_id: ConversationId,
    epoch: u32,
    head: Blob,
}

/// The book as it is stored (JSON).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Stored {
    #[serde(default)]
    contacts: Vec<Contact>,
    #[serde(default)]
    changes: Vec<Change>,
    #[serde(default)]
    heads: Vec<AdmittedHead>,
    #[serde(default)]
    anchor: Option<Anchor>,
    #[serde(default)]
    dirty: bool,
    #[serde(default)]
    marks_changed: bool,
}

impl From<Stored> for Book {
    fn from(stored: Stored) -> Book {
        let mut book = Book::default();
        for contact in stored.contacts {
            book.pin(contact);
        }
        book.changes = stored.changes;
        book.anchor = stored.anchor;
        book.dirty = stored.dirty;
        book.marks_changed = stored.marks_changed;
        book.heads = stored
            .heads
            .into_iter()
            .filter_map(|h| {
                let head: [u8; 32] = h.head[..].try_into().ok()?;
                Some(((h.conversation_id, h.epoch), head))
            })
            .collect();
        book
    }
}

impl From<Book> for Stored {
    fn from(book: Book) -> Stored {
        Stored {
            contacts: book.contacts.into_values().collect(),
            changes: book.changes,
            heads: book
                .heads
                .into_iter()
                .map(|((conversation_id, epoch), head)| AdmittedHead {
                    conversation_id,
                    epoch,
                    head: head.into(),
                })
                .collect(),
            anchor: book.anchor,
            dirty: book.dirty,
            marks_changed: book.marks_changed,
        }
    }
}

impl Book {
    /// The contact pinned under `id`.
    pub fn contact(&self, id: UserId) -> Option<&Contact> {
        self.contacts.get(&id)
    }

    /// How `user` compares with the pins and with `me`; changes nothing.
    pub fn compare(&self, me: &PublicUser, user: &PublicUser) -> Sight {
        if user.id == me.id || user.username == me.username {
            return if user == me { Sight::Me } else { Sight::NotMe };
        }
        let by_name = self.names.get(&user.username).copied();
        match (self.contacts.get(&user.id), by_name) {
            (Some(pinned), _) if pinned.user == *user => Sight::Known,
            (Some(pinned), _) => Sight::Changed(Change {
                pinned: pinned.clone(),
                seen: user.clone(),
            }),
            (None, Some(other)) => Sight::Changed(Change {
                pinned: self.contacts[&other].clone(),
                seen: user.clone(),
            }),
            (None, None) => Sight::New,
        }
    }

    /// A sighting outside any key set (a lookup): a new user is pinned, a
    /// disagreement is held as a change. Answers what it was.
    pub fn sight(&mut self, me: &PublicUser, user: &PublicUser) -> Sight {
        let sight = self.compare(me, user);
        match &sight {
            Sight::New => self.pin(Contact {
                user: user.clone(),
                verified: false,
            }),
            Sight::Changed(change) => self.hold(change.clone()),
            Sight::Me | Sight::NotMe | Sight::Known => {}
        }
        sight
    }

    /// Admits a conversation's checked chain (its signatures already
    /// verified): every epoch not admitted before must agree with the pins
    /// and carry one's own line as it is. Only then are its new members
    /// pinned and its heads kept; a disagreement is held as a change and
    /// nothing is admitted.
    pub fn admit(
        &mut self,
        me: &PublicUser,
        conversation: ConversationId,
        chain: &[Checked],
    ) -> Result<(), Unpinned> {
        let mut fresh = Vec::new();
        for checked in chain {
            match self.heads.get(&(conversation, checked.epoch)) {
                Some(head) if *head == checked.head => continue,
                Some(_) => {
                    return Err(Unpinned::Split {
                        epoch: checked.epoch,
                    });
                }
                None => fresh.push(checked),
            }
        }
        let mut changes = Vec::new();
        for checked in &fresh {
            for member in &checked.members {
                match self.compare(me, member) {
                    Sight::NotMe => {
                        return Err(Unpinned::NotMe {
                            epoch: checked.epoch,
                        });
                    }
                    Sight::Changed(change) if !changes.contains(&change) => changes.push(change),
                    _ => {}
                }
            }
        }
        if !changes.is_empty() {
            for change in &changes {
                self.hold(change.clone());
            }
            return Err(Unpinned::Changed(changes));
        }
        for checked in fresh {
            for member in &checked.members {
                if self.compare(me, member) == Sight::New {
                    self.pin(Contact {
                        user: member.clone(),
                        verified: false,
                    });
                }
            }
            self.heads
                .insert((conversation, checked.epoch), checked.head);
        }
        Ok(())
    }

    /// The first change held that concerns one of `members`.
    pub fn change_among<'a>(
        &'a self,
        mut members: impl Iterator<Item = &'a UserId>,
    ) -> Option<&'a Change> {
        members.find_map(|id| self.changes.iter().find(|c| c.concerns(*id)))
    }

    /// The user accepts the latest change held for the contact pinned
    /// under `pinned`: what was seen replaces every pin it disagreed with,
    /// unverified. Changes that no longer disagree with the book go.
    /// Answers whether there was one.
    pub fn accept(&mut self, pinned: UserId) -> bool {
        let Some(at) = self
            .changes
            .iter()
            .rposition(|c| c.pinned.user.id == pinned)
        else {
            return false;
        };
        let seen = self.changes.remove(at).seen;
        self.unpin(seen.id);
        if let Some(other) = self.names.get(&seen.username).copied() {
            self.unpin(other);
        }
        self.pin(Contact {
            user: seen,
            verified: false,
        });
        let contacts = &self.contacts;
        self.changes.retain(|c| {
            contacts.get(&c.pinned.user.id) == Some(&c.pinned) && !c.seen_is_pinned(contacts)
        });
        true
    }

    /// Marks a pinned contact verified (or not); answers whether it is
    /// pinned.
    pub fn set_verified(&mut self, id: UserId, verified: bool) -> bool {
        match self.contacts.get_mut(&id) {
            Some(contact) => {
                let changed = contact.verified != verified;
                self.dirty |= changed;
                self.marks_changed |= changed;
                contact.verified = verified;
                true
            }
            None => false,
        }
    }

    /// Whether nothing is pinned.
    pub fn is_empty(&self) -> bool {
        self.contacts.is_empty()
    }

    /// Where the server's copy stood when last read or written here.
    pub fn anchor(&self) -> Option<&Anchor> {
        self.anchor.as_ref()
    }

    /// Whether the contacts changed here since the server's copy was last
    /// read or written.
    pub fn dirty(&self) -> bool {
        self.dirty
    }

    /// Checks a copy the server offers, by its version and the SHA-256 of
    /// its sealed bytes, against the anchor: never older, never another
    /// copy of the same version.
    pub fn check_offer(&self, version: u64, hash: &[u8]) -> Result<(), Rollback> {
        match &self.anchor {
            Some(held) if version < held.version => Err(Rollback::Older {
                held: held.version,
                offered: version,
            }),
            Some(held) if version == held.version && held.hash[..] != *hash => {
                Err(Rollback::Forked { version })
            }
            _ => Ok(()),
        }
    }

    /// Checks an opened copy's `prev` where it can: the version right
    /// after the anchor must name the anchor's hash.
    pub fn check_prev(&self, version: u64, shared: &Shared) -> Result<(), Rollback> {
        match &self.anchor {
            Some(held)
                if version == held.version + 1
                    && shared.prev != crate::model::encoding::b64(&held.hash) =>
            {
                Err(Rollback::Unlinked { version })
            }
            _ => Ok(()),
        }
    }

    /// Merges the server's copy (already checked and opened): a contact
    /// not pinned here is pinned, one that disagrees is held as a change.
    /// The verified marks follow the server's copy (another browser wrote
    /// it last) unless one was changed here since; then this book's stand,
    /// and it is written back.
    /// While a disagreement is held, nothing is written back: the user's
    /// decision on it comes first.
    pub fn merge(&mut self, me: &PublicUser, remote: &[Contact]) -> Merged {
        let mut merged = Merged::default();
        // Pins taken from the server's copy are in step with it already.
        let dirty = self.dirty;
        for theirs in remote {
            match self.compare(me, &theirs.user) {
                Sight::New => self.pin(theirs.clone()),
                Sight::Known if !self.marks_changed => {
                    if let Some(ours) = self.contacts.get_mut(&theirs.user.id) {
                        ours.verified = theirs.verified;
                    }
                }
                Sight::Changed(change) => {
                    self.hold(change.clone());
                    merged.changes.push(change);
                }
                Sight::Known | Sight::Me | Sight::NotMe => {}
            }
        }
        self.dirty = dirty;
        let mut theirs: Vec<&Contact> = remote.iter().collect();
        theirs.sort_by_key(|c| c.user.id);
        merged.ahead = merged.changes.is_empty() && self.contacts.values().ne(theirs);
        merged
    }

    /// The contacts as they are sealed for the server.
    pub fn shared(&self, prev: String) -> Shared {
        Shared {
            prev,
            contacts: self.contacts.values().cloned().collect(),
        }
    }

    /// The server's copy now stands at `anchor`, and holds what this book
    /// holds if `in_step`.
    pub fn anchored(&mut self, anchor: Anchor, in_step: bool) {
        self.anchor = Some(anchor);
        if in_step {
            self.dirty = false;
            self.marks_changed = false;
        }
    }

    fn pin(&mut self, contact: Contact) {
        self.dirty = true;
        self.names
            .insert(contact.user.username.clone(), contact.user.id);
        self.contacts.insert(contact.user.id, contact);
    }

    fn unpin(&mut self, id: UserId) {
        if let Some(gone) = self.contacts.remove(&id) {
            self.dirty = true;
            self.names.remove(&gone.user.username);
        }
    }

    fn hold(&mut self, change: Change) {
        if !self.changes.contains(&change) {
            self.changes.push(change);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, key: u8) -> PublicUser {
        PublicUser {
            id: UserId::new(),
            username: name.into(),
            dh_public: [key; 65].into(),
            sig_public: [key.wrapping_add(1); 65].into(),
        }
    }

    fn with_keys(user: &PublicUser, key: u8) -> PublicUser {
        PublicUser {
            dh_public: [key; 65].into(),
            ..user.clone()
        }
    }

    /// A checked epoch of `members` (the chain's rules are keyset's; the
    /// book sees only members and heads).
    fn epoch(n: u32, head: u8, members: &[&PublicUser]) -> Checked {
        Checked {
            epoch: n,
            statement: vec![],
            head: [head; 32],
            signer_id: members[0].id,
            signer_key: vec![],
            signature: vec![],
            commit: vec![],
            members: members.iter().map(|m| (*m).clone()).collect(),
            keys: vec![],
            departures: vec![],
        }
    }

    #[test]
    fn the_first_sight_pins_and_a_second_agrees() {
        let (me, ben) = (user("me", 1), user("ben", 3));
        let mut book = Book::default();
        assert_eq!(book.sight(&me, &ben), Sight::New);
        assert_eq!(book.sight(&me, &ben), Sight::Known);
        assert_eq!(book.contact(ben.id).unwrap().user, ben);
        assert_eq!(book.sight(&me, &me), Sight::Me);
        assert!(
            book.contact(me.id).is_none(),
            "one is not one's own contact"
        );
    }

    #[test]
    fn other_keys_another_name_or_another_id_are_each_a_change() {
        let (me, ben) = (user("me", 1), user("ben", 3));
        let mut book = Book::default();
        book.sight(&me, &ben);
        let renamed = PublicUser {
            username: "benny".into(),
            ..ben.clone()
        };
        let impostor = PublicUser {
            id: UserId::new(),
            ..ben.clone()
        };
        for seen in [with_keys(&ben, 9), renamed, impostor] {
            let Sight::Changed(change) = book.sight(&me, &seen) else {
                panic!("{seen:?} is not a change");
            };
            assert_eq!(change.pinned.user, ben, "the change names the pin");
            assert_eq!(change.seen, seen);
            assert_eq!(book.contact(ben.id).unwrap().user, ben, "the pin stays");
        }
        assert_eq!(book.changes.len(), 3);
        assert!(book.change_among([ben.id].iter()).is_some());
    }

    #[test]
    fn claiming_my_own_id_or_name_is_refused_not_held() {
        let me = user("me", 1);
        let mut book = Book::default();
        for fake in [
            with_keys(&me, 7),
            user("me", 1),
            PublicUser {
                username: "someone".into(),
                ..me.clone()
            },
        ] {
            assert_eq!(book.sight(&me, &fake), Sight::NotMe);
        }
        assert!(book.changes.is_empty());
        let chat = ConversationId::new();
        assert_eq!(
            book.admit(&me, chat, &[epoch(0, 1, &[&with_keys(&me, 7)])]),
            Err(Unpinned::NotMe { epoch: 0 })
        );
    }

    #[test]
    fn a_chain_pins_its_members_only_once_admitted_whole() {
        let (me, ben, cyd) = (user("me", 1), user("ben", 3), user("cyd", 5));
        let mut book = Book::default();
        book.sight(&me, &ben);
        let chat = ConversationId::new();
        // A new member beside a changed one: nothing is admitted or pinned.
        let forged = [epoch(0, 1, &[&me, &with_keys(&ben, 9), &cyd])];
        let Err(Unpinned::Changed(changes)) = book.admit(&me, chat, &forged) else {
            panic!("a changed member must stop the chain");
        };
        assert_eq!(changes.len(), 1);
        assert!(
            book.contact(cyd.id).is_none(),
            "nothing pinned from a refused chain"
        );
        // The genuine chain: admitted, cyd pinned, the head kept.
        let genuine = [epoch(0, 2, &[&me, &ben, &cyd])];
        assert_eq!(book.admit(&me, ConversationId::new(), &genuine), Ok(()));
        assert_eq!(book.contact(cyd.id).unwrap().user, cyd);
    }

    #[test]
    fn an_admitted_epoch_is_not_checked_again_and_its_head_cannot_change() {
        let (me, ben) = (user("me", 1), user("ben", 3));
        let mut book = Book::default();
        let chat = ConversationId::new();
        let first = [epoch(0, 1, &[&me, &ben])];
        assert_eq!(book.admit(&me, chat, &first), Ok(()));
        // Ben's keys change elsewhere and the user accepts it.
        let moved = with_keys(&ben, 9);
        assert!(matches!(book.sight(&me, &moved), Sight::Changed(_)));
        assert!(book.accept(ben.id));
        assert_eq!(book.contact(ben.id).unwrap().user, moved);
        // The old conversation's admitted epoch still stands.
        assert_eq!(book.admit(&me, chat, &first), Ok(()));
        // Another statement for the same epoch is a split.
        let other = [epoch(0, 7, &[&me, &moved])];
        assert_eq!(
            book.admit(&me, chat, &other),
            Err(Unpinned::Split { epoch: 0 })
        );
    }

    #[test]
    fn accepting_re_pins_clears_verified_and_the_warning() {
        let (me, ben) = (user("me", 1), user("ben", 3));
        let mut book = Book::default();
        book.sight(&me, &ben);
        assert!(book.set_verified(ben.id, true));
        let impostor = PublicUser {
            id: UserId::new(),
            ..with_keys(&ben, 9)
        };
        assert!(matches!(book.sight(&me, &impostor), Sight::Changed(_)));
        assert!(book.change_among([impostor.id].iter()).is_some());
        assert!(
            !book.accept(impostor.id),
            "changes are accepted by the pinned id"
        );
        assert!(book.accept(ben.id));
        assert!(book.contact(ben.id).is_none(), "the old id lost the name");
        let pinned = book.contact(impostor.id).unwrap();
        assert_eq!(pinned.user, impostor);
        assert!(!pinned.verified, "acceptance clears verified");
        assert_eq!(book.change_among([ben.id, impostor.id].iter()), None);
        assert_eq!(book.sight(&me, &impostor), Sight::Known);
        assert!(
            matches!(book.sight(&me, &ben), Sight::Changed(_)),
            "the old keys are now the change"
        );
    }

    #[test]
    fn the_stored_book_reads_back_whole() {
        let (me, ben) = (user("me", 1), user("ben", 3));
        let mut book = Book::default();
        book.admit(&me, ConversationId::new(), &[epoch(0, 4, &[&me, &ben])])
            .unwrap();
        book.sight(&me, &with_keys(&ben, 8));
        book.set_verified(ben.id, true);
        let json = serde_json::to_string(&book).unwrap();
        let back: Book = serde_json::from_str(&json).unwrap();
        assert_eq!(back, book);
        assert_eq!(serde_json::from_str::<Book>("{}").unwrap(), Book::default());
    }

    fn anchor(version: u64, byte: u8) -> Anchor {
        Anchor {
            version,
            hash: [byte; 32].into(),
        }
    }

    #[test]
    fn the_server_cannot_roll_the_book_back_or_fork_it() {
        let mut book = Book::default();
        assert_eq!(book.check_offer(1, &[1; 32]), Ok(()), "nothing held yet");
        book.anchored(anchor(3, 7), true);
        assert_eq!(
            book.check_offer(2, &[1; 32]),
            Err(Rollback::Older {
                held: 3,
                offered: 2
            })
        );
        assert_eq!(
            book.check_offer(3, &[1; 32]),
            Err(Rollback::Forked { version: 3 })
        );
        assert_eq!(book.check_offer(3, &[7; 32]), Ok(()));
        assert_eq!(book.check_offer(4, &[1; 32]), Ok(()));
        let linked = Shared {
            prev: crate::model::encoding::b64(&[7; 32]),
            contacts: vec![],
        };
        let unlinked = Shared {
            prev: crate::model::encoding::b64(&[8; 32]),
            ..linked.clone()
        };
        assert_eq!(book.check_prev(4, &linked), Ok(()));
        assert_eq!(
            book.check_prev(4, &unlinked),
            Err(Rollback::Unlinked { version: 4 })
        );
        // A jump past the next version cannot be linked here; it is taken.
        assert_eq!(book.check_prev(6, &unlinked), Ok(()));
    }

    #[test]
    fn merging_is_the_union_by_id_and_a_disagreement_is_a_key_change() {
        let (me, ben, cyd, dan) = (
            user("me", 1),
            user("ben", 3),
            user("cyd", 5),
            user("dan", 7),
        );
        let mut here = Book::default();
        here.sight(&me, &ben);
        here.sight(&me, &cyd);
        here.anchored(anchor(1, 1), true);
        // dan first: pinning him must not count as a change made here.
        let remote = vec![
            Contact {
                user: dan.clone(),
                verified: false,
            },
            Contact {
                user: ben.clone(),
                verified: true,
            },
        ];
        let merged = here.merge(&me, &remote);
        assert!(merged.changes.is_empty());
        assert!(merged.ahead, "cyd is not in the server's copy");
        assert_eq!(
            here.contact(dan.id).unwrap().user,
            dan,
            "dan pinned from it"
        );
        assert!(here.contact(ben.id).unwrap().verified, "the mark followed");
        assert!(
            !here.dirty(),
            "what came from the server is in step with it"
        );
        // Written back: the shared copy is the union.
        let shared = here.shared(String::new());
        assert_eq!(shared.contacts.len(), 3);
        let mut there = Book::default();
        assert!(!there.merge(&me, &shared.contacts).ahead);

        // Another copy where cyd has other keys: held as a change, and not
        // written back until the user decides.
        let forged = vec![Contact {
            user: with_keys(&cyd, 9),
            verified: false,
        }];
        let merged = here.merge(&me, &forged);
        assert_eq!(merged.changes.len(), 1);
        assert!(!merged.ahead);
        assert_eq!(here.contact(cyd.id).unwrap().user, cyd, "the pin stays");
        assert!(here.change_among([cyd.id].iter()).is_some());
    }

    #[test]
    fn a_fresh_browser_takes_the_marks_even_after_pinning_from_chains() {
        let (me, ben) = (user("me", 1), user("ben", 3));
        let mut fresh = Book::default();
        fresh.sight(&me, &ben);
        assert!(fresh.dirty(), "a pin from a chain is to be written");
        let remote = vec![Contact {
            user: ben.clone(),
            verified: true,
        }];
        let merged = fresh.merge(&me, &remote);
        assert!(fresh.contact(ben.id).unwrap().verified);
        assert!(!merged.ahead);
    }

    #[test]
    fn a_mark_made_here_stands_until_written() {
        let (me, ben) = (user("me", 1), user("ben", 3));
        let mut here = Book::default();
        here.sight(&me, &ben);
        here.anchored(anchor(1, 1), true);
        assert!(!here.dirty());
        here.set_verified(ben.id, true);
        assert!(here.dirty());
        let remote = vec![Contact {
            user: ben.clone(),
            verified: false,
        }];
        let merged = here.merge(&me, &remote);
        assert!(here.contact(ben.id).unwrap().verified);
        assert!(merged.ahead);
    }
}
