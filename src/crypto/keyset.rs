//! The one verifier of a conversation's key-set chain (suite steps 6 and 7),
//! for the browser and the native twin alike: every rule that accepts or
//! refuses the chain, apart from the two things only a crypto backend can
//! do, which the caller does with what this returns: check each epoch's
//! signature over its statement under the key named here, and, where it
//! holds a wrapped key, unwrap it and compare the commit
//! ([`Checked::confirm`]).
//!
//! Nothing the server adds is trusted: the names and keys a client uses come
//! from each epoch's signed `members`, never from the conversation's
//! top-level member list (the server's access list).

use std::collections::{BTreeSet, HashMap};

use sha2::{Digest, Sha256};

use super::key_tree::{self, KeyTree};
use super::suite::{self, GENESIS_PREV, MemberKeys};
use crate::model::account::PublicUser;
use crate::model::conversation::{Conversation, Epoch, WrappedKey};
use crate::model::ids::UserId;
use crate::model::suite::{
    DIGEST_LEN, KEY_LEN, SIGNATURE_LEN, WRAPPED_KEY_LEN, is_uncompressed_point,
};
use crate::model::username;

/// Why a key-set chain is refused. Each rule has its own reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("it has no key set")]
    NoEpochs,
    #[error("its epochs do not run 0, 1, 2, … (found {found} where {expected} belongs)")]
    EpochOrder { expected: u32, found: u32 },
    #[error("epoch {epoch}: its {what} has the wrong length")]
    Length { epoch: u32, what: &'static str },
    #[error("epoch {epoch}: a member's name is not in canonical form")]
    Name { epoch: u32 },
    #[error("epoch {epoch}: a member's public key is not an uncompressed P-256 point")]
    PublicKey { epoch: u32 },
    #[error("epoch {epoch}: a member is named twice")]
    Duplicate { epoch: u32 },
    #[error("epoch {epoch}: its keys do not name exactly its members")]
    Keys { epoch: u32 },
    #[error("epoch 0 is not signed by the conversation's creator")]
    Creator,
    #[error("epoch {epoch}: its signer is not a member who may sign it")]
    Signer { epoch: u32 },
    #[error("epoch {epoch}: a member was removed by someone other than the creator")]
    Removal { epoch: u32 },
    #[error(
        "epoch {epoch}: it carries a departure of someone who was not a member before it, or still is"
    )]
    Departure { epoch: u32 },
    #[error("epoch {epoch}: a departure it carries is not signed by the member who left")]
    DepartureSignature { epoch: u32 },
    #[error("epoch {epoch}: a member's name or keys differ from an earlier epoch")]
    Changed { epoch: u32 },
    #[error("epoch {epoch}: its signature does not verify")]
    Signature { epoch: u32 },
    #[error("epoch {epoch}: its key does not match its commitment")]
    Commit { epoch: u32 },
}

impl Refusal {
    /// A stable name for the rule, as the test vectors write it.
    pub fn code(&self) -> String {
        match self {
            Refusal::NoEpochs => "no_epochs".into(),
            Refusal::EpochOrder { .. } => "epoch_order".into(),
            Refusal::Length { what, .. } => format!("length:{what}"),
            Refusal::Name { .. } => "name".into(),
            Refusal::PublicKey { .. } => "public_key".into(),
            Refusal::Duplicate { .. } => "duplicate".into(),
            Refusal::Keys { .. } => "keys".into(),
            Refusal::Creator => "creator".into(),
            Refusal::Signer { .. } => "signer".into(),
            Refusal::Removal { .. } => "removal".into(),
            Refusal::Departure { .. } => "departure".into(),
            Refusal::DepartureSignature { .. } => "departure_signature".into(),
            Refusal::Changed { .. } => "changed".into(),
            Refusal::Signature { .. } => "signature".into(),
            Refusal::Commit { .. } => "commit".into(),
        }
    }
}

/// One epoch whose statement checks out, short of its signature.
#[derive(Debug, Clone)]
pub struct Checked {
    pub epoch: u32,
    /// `statement_n`: what [`Checked::signature`] must verify over.
    pub statement: Vec<u8>,
    /// `head_n = SHA-256(statement_n)`: messages of this epoch name it.
    pub head: [u8; 32],
    pub signer_id: UserId,
    /// The signer's `sig_public`, from the epoch that admits the signer.
    pub signer_key: Vec<u8>,
    pub signature: Vec<u8>,
    pub commit: Vec<u8>,
    /// The signed member set: the names and keys clients use.
    pub members: Vec<PublicUser>,
    pub keys: Vec<WrappedKey>,
    /// The departures this epoch carries, each to be verified.
    pub departures: Vec<CheckedDeparture>,
}

/// A departure an epoch carries, short of its signature.
#[derive(Debug, Clone)]
pub struct CheckedDeparture {
    pub member_id: UserId,
    /// What the member signed (suite step 7).
    pub statement: Vec<u8>,
    /// Their `sig_public` in the epoch they left.
    pub key: Vec<u8>,
    pub signature: Vec<u8>,
}

/// One signature a client must verify before it accepts an epoch, and the
/// refusal if it does not verify.
pub struct Proof<'a> {
    pub key: &'a [u8],
    pub message: &'a [u8],
    pub signature: &'a [u8],
    pub refusal: Refusal,
}

impl Checked {
    /// Every signature this epoch needs verified: its own over its
    /// statement, then each departure it carries.
    pub fn proofs(&self) -> Vec<Proof<'_>> {
        let mut proofs = vec![Proof {
            key: &self.signer_key,
            message: &self.statement,
            signature: &self.signature,
            refusal: Refusal::Signature { epoch: self.epoch },
        }];
        proofs.extend(self.departures.iter().map(|d| Proof {
            key: &d.key,
            message: &d.statement,
            signature: &d.signature,
            refusal: Refusal::DepartureSignature { epoch: self.epoch },
        }));
        proofs
    }

    /// The wrapped key this epoch holds for `member`, if any.
    pub fn key_for(&self, member: UserId) -> Option<&[u8]> {
        self.keys
            .iter()
            .find(|k| k.member_id == member)
            .map(|k| &k.wrapped_key[..])
    }

    /// The member with this id in the signed set.
    pub fn member(&self, id: UserId) -> Option<&PublicUser> {
        self.members.iter().find(|m| m.id == id)
    }

    /// The last rule, once the caller has unwrapped its content key: 32
    /// bytes whose commitment (recomputed by the caller) is the signed one.
    pub fn confirm(&self, ck_len: usize, recomputed_commit: &[u8]) -> Result<(), Refusal> {
        if ck_len == KEY_LEN && recomputed_commit == self.commit.as_slice() {
            Ok(())
        } else {
            Err(Refusal::Commit { epoch: self.epoch })
        }
    }
}

/// What one epoch changed in who is in a conversation, read from a checked
/// chain (never from anything the server says on its own): whom its signer
/// added, whom the creator removed, who left (their departure verified with
/// the rest of the chain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub epoch: u32,
    pub signer: UserId,
    pub added: Vec<UserId>,
    pub removed: Vec<UserId>,
    pub left: Vec<UserId>,
}

/// The changes of membership along a chain whose every proof verified,
/// epoch by epoch from 1; an epoch that changes nobody (a new key alone)
/// is left out.
pub fn membership(chain: &[Checked]) -> Vec<Membership> {
    chain
        .windows(2)
        .filter_map(|pair| {
            let (before, epoch) = (&pair[0], &pair[1]);
            let left: Vec<UserId> = epoch.departures.iter().map(|d| d.member_id).collect();
            let added: Vec<UserId> = epoch
                .members
                .iter()
                .filter(|m| before.member(m.id).is_none())
                .map(|m| m.id)
                .collect();
            let removed: Vec<UserId> = before
                .members
                .iter()
                .filter(|m| epoch.member(m.id).is_none() && !left.contains(&m.id))
                .map(|m| m.id)
                .collect();
            let changed = !(added.is_empty() && removed.is_empty() && left.is_empty());
            changed.then_some(Membership {
                epoch: epoch.epoch,
                signer: epoch.signer_id,
                added,
                removed,
                left,
            })
        })
        .collect()
}

/// SHA-256, as the statement and its head need it.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// `statement_n` of `epoch` after `prev` (suite step 6): what its signer
/// signs, made the same way by whoever signs and whoever checks. `None` if
/// the keys it holds do not give the root of the key tree
/// ([`key_root`]).
pub fn statement(conversation_id: &str, epoch: &Epoch, prev: &[u8]) -> Option<Vec<u8>> {
    let root = key_root(epoch)?;
    let lines: Vec<MemberKeys> = epoch
        .members
        .iter()
        .map(|m| MemberKeys {
            member_id: m.id.to_string(),
            username: m.username.clone(),
            dh_public: m.dh_public.to_vec(),
            sig_public: m.sig_public.to_vec(),
        })
        .collect();
    let left: Vec<String> = epoch
        .departures
        .iter()
        .map(|d| d.member_id.to_string())
        .collect();
    let left: Vec<&str> = left.iter().map(String::as_str).collect();
    Some(suite::statement(
        conversation_id,
        epoch.epoch,
        &epoch.signer_id.to_string(),
        &epoch.commit,
        prev,
        &root,
        &lines,
        &left,
    ))
}

/// The root of the tree over `epoch`'s wrapped keys (`crypto::key_tree`):
/// built from `keys` when they hold every member's (a whole epoch); in an
/// epoch put back together from its change, `key_root` as given, once
/// every key held proves by its path that it is the one the tree holds for
/// its member. `None` otherwise.
pub fn key_root(epoch: &Epoch) -> Option<key_tree::Hash> {
    let mut ids: Vec<UserId> = epoch.members.iter().map(|m| m.id).collect();
    ids.sort_unstable();
    if epoch.key_root.is_empty() {
        // Each member's key, in the tree's order (a key for someone who
        // is not a member is not in it; the rules refuse it on their own).
        let keys: HashMap<UserId, &[u8]> = epoch
            .keys
            .iter()
            .map(|k| (k.member_id, &k.wrapped_key[..]))
            .collect();
        let leaves = ids
            .iter()
            .map(|id| Some(key_tree::leaf(&id.to_string(), keys.get(id)?)))
            .collect::<Option<Vec<_>>>()?;
        return KeyTree::new(leaves).map(|tree| tree.root());
    }
    let root: key_tree::Hash = epoch.key_root[..].try_into().ok()?;
    let proven = epoch.keys.iter().all(|k| {
        ids.binary_search(&k.member_id).is_ok_and(|at| {
            let leaf = key_tree::leaf(&k.member_id.to_string(), &k.wrapped_key);
            key_tree::proves(&root, leaf, at, ids.len(), &k.path)
        })
    });
    proven.then_some(root)
}

/// Checks every rule of the chain that needs no key, in order from epoch
/// 0, and builds each epoch's statement and head. The caller then verifies
/// each of [`Checked::proofs`] (the epoch's signature and its departures'),
/// and refuses the whole chain with the proof's refusal if one fails.
pub fn check_chain(conversation: &Conversation) -> Result<Vec<Checked>, Refusal> {
    if conversation.epochs.is_empty() {
        return Err(Refusal::NoEpochs);
    }
    let mut epochs: Vec<&Epoch> = conversation.epochs.iter().collect();
    epochs.sort_by_key(|e| e.epoch);
    let conversation_id = conversation.id.to_string();
    let mut chain: Vec<Checked> = Vec::with_capacity(epochs.len());
    let mut seen: HashMap<UserId, &PublicUser> = HashMap::new();
    let mut names: HashMap<&str, UserId> = HashMap::new();
    for (expected, epoch) in (0u32..).zip(epochs) {
        if epoch.epoch != expected {
            return Err(Refusal::EpochOrder {
                expected,
                found: epoch.epoch,
            });
        }
        let checked = check_epoch(
            &conversation_id,
            conversation.created_by,
            chain.last(),
            epoch,
        )?;
        // Hush has no key reset: a member is the same name and keys in
        // every epoch, and a name belongs to one id.
        for member in &epoch.members {
            let by_id = *seen.entry(member.id).or_insert(member);
            let by_name = *names.entry(&member.username).or_insert(member.id);
            if by_id != member || by_name != member.id {
                return Err(Refusal::Changed { epoch: expected });
            }
        }
        chain.push(checked);
    }
    Ok(chain)
}

/// The rules of one epoch, given the one before it (none for epoch 0).
fn check_epoch(
    conversation_id: &str,
    created_by: UserId,
    before: Option<&Checked>,
    epoch: &Epoch,
) -> Result<Checked, Refusal> {
    let n = epoch.epoch;
    let length = |what| Refusal::Length { epoch: n, what };
    if epoch.commit.len() != DIGEST_LEN {
        return Err(length("commit"));
    }
    if epoch.keys_signature.len() != SIGNATURE_LEN {
        return Err(length("signature"));
    }
    let mut ids = BTreeSet::new();
    for member in &epoch.members {
        if !username::canonical(&member.username).is_ok_and(|c| c == member.username) {
            return Err(Refusal::Name { epoch: n });
        }
        if !is_uncompressed_point(&member.dh_public) || !is_uncompressed_point(&member.sig_public) {
            return Err(Refusal::PublicKey { epoch: n });
        }
        if !ids.insert(member.id) {
            return Err(Refusal::Duplicate { epoch: n });
        }
    }
    let mut keyed = BTreeSet::new();
    for key in &epoch.keys {
        if key.wrapped_key.len() != WRAPPED_KEY_LEN {
            return Err(length("wrapped key"));
        }
        if !keyed.insert(key.member_id) {
            return Err(Refusal::Keys { epoch: n });
        }
    }
    // Keys for exactly the members; or, in an epoch put back together from
    // its change, the root of their tree and keys for some of them.
    let named = if epoch.key_root.is_empty() {
        keyed == ids
    } else {
        keyed.is_subset(&ids) && epoch.key_root.len() == key_tree::HASH_LEN
    };
    if ids.is_empty() || !named {
        return Err(Refusal::Keys { epoch: n });
    }
    let mut left = BTreeSet::new();
    for departure in &epoch.departures {
        if departure.signature.len() != SIGNATURE_LEN {
            return Err(length("departure signature"));
        }
        let gone = before.is_some_and(|b| b.member(departure.member_id).is_some());
        if !left.insert(departure.member_id) || ids.contains(&departure.member_id) || !gone {
            return Err(Refusal::Departure { epoch: n });
        }
    }
    // Who may sign: the creator at epoch 0 (a member of it); later, a
    // member of the epoch before, under the key that epoch gives them.
    let (signer_key, prev, departures) = match before {
        None => {
            if epoch.signer_id != created_by {
                return Err(Refusal::Creator);
            }
            let signer = epoch
                .members
                .iter()
                .find(|m| m.id == epoch.signer_id)
                .ok_or(Refusal::Creator)?;
            (signer.sig_public.to_vec(), GENESIS_PREV, Vec::new())
        }
        Some(before) => {
            let signer = before
                .member(epoch.signer_id)
                .ok_or(Refusal::Signer { epoch: n })?;
            // The removal rule: a member of the epoch before who is missing
            // here left (this epoch carries their departure) or was removed
            // by the creator.
            let removes = before
                .members
                .iter()
                .any(|m| !ids.contains(&m.id) && !left.contains(&m.id));
            if removes && epoch.signer_id != created_by {
                return Err(Refusal::Removal { epoch: n });
            }
            let departures = epoch
                .departures
                .iter()
                .map(|d| CheckedDeparture {
                    member_id: d.member_id,
                    statement: suite::departure(
                        conversation_id,
                        before.epoch,
                        &before.head,
                        &d.member_id.to_string(),
                    ),
                    key: before
                        .member(d.member_id)
                        .map(|m| m.sig_public.to_vec())
                        .unwrap_or_default(),
                    signature: d.signature.to_vec(),
                })
                .collect();
            (signer.sig_public.to_vec(), before.head, departures)
        }
    };
    let statement = statement(conversation_id, epoch, &prev).ok_or(Refusal::Keys { epoch: n })?;
    Ok(Checked {
        epoch: n,
        signer_id: epoch.signer_id,
        head: sha256(&statement),
        statement,
        signer_key,
        signature: epoch.keys_signature.to_vec(),
        commit: epoch.commit.to_vec(),
        members: epoch.members.clone(),
        keys: epoch.keys.clone(),
        departures,
    })
}

#[cfg(all(test, feature = "twin"))]
mod tests {
    use super::*;
    use crate::crypto::key_tree::KeyedChange;
    use crate::crypto::native::{self, Key32, PrivateKey};
    use crate::model::blob::Blob;
    use crate::model::changes::{Changes, EpochChange, Misfit};
    use crate::model::conversation::Departure;
    use crate::model::ids::ConversationId;

    struct Person {
        id: UserId,
        name: &'static str,
        dh: PrivateKey,
        sig: PrivateKey,
    }

    fn person(name: &'static str) -> Person {
        Person {
            id: UserId::new(),
            name,
            dh: PrivateKey::generate(),
            sig: PrivateKey::generate(),
        }
    }

    fn public(p: &Person) -> PublicUser {
        PublicUser {
            id: p.id,
            username: p.name.into(),
            dh_public: p.dh.public().into(),
            sig_public: p.sig.public().into(),
        }
    }

    /// A genuine conversation of `people`, created and signed by the first.
    fn genuine(people: &[&Person]) -> Conversation {
        let id = ConversationId::new();
        let ck = Key32::from_bytes(&[9; 32]).unwrap();
        let keys: Vec<WrappedKey> = people
            .iter()
            .map(|p| WrappedKey {
                member_id: p.id,
                wrapped_key: native::wrap_content_key(
                    &ck,
                    &id.to_string(),
                    0,
                    &p.id.to_string(),
                    &p.dh.public(),
                    &PrivateKey::generate(),
                    &[1; 12],
                )
                .unwrap()
                .into(),
                path: Blob::default(),
            })
            .collect();
        let mut epoch = Epoch {
            epoch: 0,
            signer_id: people[0].id,
            commit: native::commit(&ck, &id.to_string(), 0).into(),
            members: people.iter().map(|p| public(p)).collect(),
            keys,
            keys_signature: Default::default(),
            departures: vec![],
            key_root: Blob::default(),
        };
        sign(&id, &mut epoch, &people[0].sig);
        Conversation {
            id,
            title: None,
            created_by: people[0].id,
            created_at: "2026-11-30T08:00:00.000Z".into(),
            last_seq: 0,
            members: people.iter().map(|p| public(p)).collect(),
            epochs: vec![epoch],
            pending: vec![],
        }
    }

    /// Signs `epoch` as epoch 0 of `id` with `key`.
    fn sign(id: &ConversationId, epoch: &mut Epoch, key: &PrivateKey) {
        let statement = statement(&id.to_string(), epoch, &GENESIS_PREV).unwrap();
        epoch.keys_signature = native::sign(key, &statement).into();
    }

    /// The verifier's answer with every signature checked, as a client does.
    fn verdict(conversation: &Conversation) -> Result<(), Refusal> {
        for checked in check_chain(conversation)? {
            for proof in checked.proofs() {
                native::verify(proof.key, proof.message, proof.signature)
                    .map_err(|_| proof.refusal)?;
            }
        }
        Ok(())
    }

    fn tampered(chat: &Conversation, change: impl FnOnce(&mut Epoch)) -> Conversation {
        let mut chat = chat.clone();
        change(&mut chat.epochs[0]);
        chat
    }

    #[test]
    fn a_genuine_chain_passes_with_its_heads_and_signed_names() {
        let (ann, bob) = (person("ann"), person("bob.2"));
        let chat = genuine(&[&ann, &bob]);
        assert_eq!(verdict(&chat), Ok(()));
        let chain = check_chain(&chat).unwrap();
        assert_eq!(chain[0].head, sha256(&chain[0].statement));
        assert_eq!(chain[0].member(bob.id).unwrap().username, "bob.2");
        let text = String::from_utf8(chain[0].statement.clone()).unwrap();
        assert!(text.starts_with(&format!("hush-v1|keys2|{}|0|{}|commit:", chat.id, ann.id)));
        assert!(text.contains("|prev:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA|"));
    }

    #[test]
    fn each_tampered_field_is_refused_with_its_reason() {
        let (ann, bob, cyd) = (person("ann"), person("bob"), person("cyd"));
        let chat = genuine(&[&ann, &bob]);
        let signature = |epoch| Err(Refusal::Signature { epoch });
        let cases: Vec<(&str, Conversation, Result<(), Refusal>)> = vec![
            (
                "no epochs",
                Conversation {
                    epochs: vec![],
                    ..chat.clone()
                },
                Err(Refusal::NoEpochs),
            ),
            (
                "epoch 1 alone",
                tampered(&chat, |e| e.epoch = 1),
                Err(Refusal::EpochOrder {
                    expected: 0,
                    found: 1,
                }),
            ),
            (
                "short commit",
                tampered(&chat, |e| e.commit = [1; 31].into()),
                Err(Refusal::Length {
                    epoch: 0,
                    what: "commit",
                }),
            ),
            (
                "another commit",
                tampered(&chat, |e| e.commit = [1; 32].into()),
                signature(0),
            ),
            (
                "a name not canonical",
                tampered(&chat, |e| e.members[1].username = "Bob".into()),
                Err(Refusal::Name { epoch: 0 }),
            ),
            (
                "swapped names",
                tampered(&chat, |e| {
                    e.members[0].username = "bob".into();
                    e.members[1].username = "ann".into();
                }),
                signature(0),
            ),
            (
                "another user's keys",
                tampered(&chat, |e| e.members[1].dh_public = cyd.dh.public().into()),
                signature(0),
            ),
            (
                "a compressed point",
                tampered(&chat, |e| {
                    let mut point = bob.sig.public()[..33].to_vec();
                    point[0] = 2;
                    e.members[1].sig_public = point.into();
                }),
                Err(Refusal::PublicKey { epoch: 0 }),
            ),
            (
                "a member twice",
                tampered(&chat, |e| e.members[1] = e.members[0].clone()),
                Err(Refusal::Duplicate { epoch: 0 }),
            ),
            (
                "a member without a key",
                tampered(&chat, |e| e.members.push(public(&cyd))),
                Err(Refusal::Keys { epoch: 0 }),
            ),
            (
                "a key for no member",
                tampered(&chat, |e| {
                    let mut extra = e.keys[0].clone();
                    extra.member_id = cyd.id;
                    e.keys.push(extra);
                }),
                Err(Refusal::Keys { epoch: 0 }),
            ),
            (
                "a member missing",
                tampered(&chat, |e| {
                    e.members.pop();
                }),
                Err(Refusal::Keys { epoch: 0 }),
            ),
            (
                "another signer",
                tampered(&chat, |e| e.signer_id = bob.id),
                Err(Refusal::Creator),
            ),
            (
                "a short signature",
                tampered(&chat, |e| e.keys_signature = [1; 63].into()),
                Err(Refusal::Length {
                    epoch: 0,
                    what: "signature",
                }),
            ),
            (
                "a wrapped key altered",
                tampered(&chat, |e| {
                    let mut key = e.keys[1].wrapped_key.to_vec();
                    key[100] ^= 1;
                    e.keys[1].wrapped_key = key.into();
                }),
                signature(0),
            ),
        ];
        for (what, conversation, expected) in cases {
            assert_eq!(verdict(&conversation), expected, "{what}");
        }
        // Epoch 0 signed by a member who is not the creator: refused even
        // though the signature is genuine.
        let mut forged = tampered(&chat, |e| e.signer_id = bob.id);
        let id = forged.id;
        sign(&id, &mut forged.epochs[0], &bob.sig);
        assert_eq!(verdict(&forged), Err(Refusal::Creator));
    }

    #[test]
    fn the_top_level_member_list_is_never_trusted() {
        let (ann, bob, eve) = (person("ann"), person("bob"), person("eve"));
        let mut chat = genuine(&[&ann, &bob]);
        // The server's access list names eve with bob's id: nothing changes.
        chat.members[1] = PublicUser {
            id: bob.id,
            ..public(&eve)
        };
        assert_eq!(verdict(&chat), Ok(()));
        let chain = check_chain(&chat).unwrap();
        assert_eq!(chain[0].member(bob.id).unwrap().username, "bob");
    }

    #[test]
    fn the_commitment_must_match_a_32_byte_key() {
        let (ann, bob) = (person("ann"), person("bob"));
        let chat = genuine(&[&ann, &bob]);
        let checked = check_chain(&chat).unwrap().remove(0);
        let ck = Key32::from_bytes(&[9; 32]).unwrap();
        let commit = native::commit(&ck, &chat.id.to_string(), 0);
        assert_eq!(checked.confirm(32, &commit), Ok(()));
        assert_eq!(
            checked.confirm(16, &commit),
            Err(Refusal::Commit { epoch: 0 })
        );
        assert_eq!(
            checked.confirm(32, &[0; 32]),
            Err(Refusal::Commit { epoch: 0 })
        );
    }

    /// `chat` with an epoch 1 of `members` (the wrapped keys of epoch 0
    /// reused: the chain's rules never unwrap), signed by `signer`.
    fn with_epoch_1(
        chat: &Conversation,
        members: Vec<PublicUser>,
        signer: &Person,
    ) -> Conversation {
        let head_0 = check_chain(chat).unwrap()[0].head;
        let mut next = Epoch {
            epoch: 1,
            signer_id: signer.id,
            members,
            ..chat.epochs[0].clone()
        };
        let statement = statement(&chat.id.to_string(), &next, &head_0).unwrap();
        next.keys_signature = native::sign(&signer.sig, &statement).into();
        let mut chat = chat.clone();
        chat.epochs.push(next);
        chat
    }

    #[test]
    fn a_member_is_the_same_name_and_keys_in_every_epoch() {
        let (ann, bob, cyd) = (person("ann"), person("bob"), person("cyd"));
        let chat = genuine(&[&ann, &bob]);
        let same = with_epoch_1(&chat, chat.epochs[0].members.clone(), &bob);
        assert_eq!(verdict(&same), Ok(()));
        let new_keys = PublicUser {
            sig_public: cyd.sig.public().into(),
            ..public(&bob)
        };
        let renamed = PublicUser {
            username: "bobby".into(),
            ..public(&bob)
        };
        for changed in [new_keys, renamed] {
            let rekeyed = with_epoch_1(&chat, vec![public(&ann), changed], &ann);
            assert_eq!(verdict(&rekeyed), Err(Refusal::Changed { epoch: 1 }));
        }
    }

    /// `chat` with a next epoch of `people`, a fresh key wrapped to each,
    /// carrying `departures`, signed by `signer`.
    fn extend(
        chat: &Conversation,
        people: &[&Person],
        signer: &Person,
        departures: Vec<Departure>,
    ) -> Conversation {
        let before = check_chain(chat).unwrap().pop().unwrap();
        let n = before.epoch + 1;
        let ck = Key32::from_bytes(&[n as u8 + 10; 32]).unwrap();
        let id = chat.id.to_string();
        let mut next = Epoch {
            epoch: n,
            signer_id: signer.id,
            commit: native::commit(&ck, &id, n).into(),
            members: people.iter().map(|p| public(p)).collect(),
            keys: people
                .iter()
                .map(|p| WrappedKey {
                    member_id: p.id,
                    wrapped_key: native::wrap_content_key(
                        &ck,
                        &id,
                        n,
                        &p.id.to_string(),
                        &p.dh.public(),
                        &PrivateKey::generate(),
                        &[2; 12],
                    )
                    .unwrap()
                    .into(),
                    path: Blob::default(),
                })
                .collect(),
            keys_signature: Default::default(),
            departures,
            key_root: Blob::default(),
        };
        let statement = statement(&id, &next, &before.head).unwrap();
        next.keys_signature = native::sign(&signer.sig, &statement).into();
        let mut chat = chat.clone();
        chat.epochs.push(next);
        chat
    }

    /// `who`'s signed departure from the newest epoch of `chat`.
    fn departure(chat: &Conversation, who: &Person) -> Departure {
        let last = check_chain(chat).unwrap().pop().unwrap();
        let signed = suite::departure(
            &chat.id.to_string(),
            last.epoch,
            &last.head,
            &who.id.to_string(),
        );
        Departure {
            member_id: who.id,
            signature: native::sign(&who.sig, &signed).into(),
        }
    }

    #[test]
    fn people_come_and_go_by_the_removal_rule() {
        let (ann, bob, cyd, dan) = (person("ann"), person("bob"), person("cyd"), person("dan"));
        let chat = genuine(&[&ann, &bob]);
        // Any member adds; the new epoch's signer is a member of the one
        // before, and its prev is that epoch's head.
        let added = extend(&chat, &[&ann, &bob, &cyd], &bob, vec![]);
        assert_eq!(verdict(&added), Ok(()));
        let chain = check_chain(&added).unwrap();
        let prev = format!("|prev:{}|", crate::model::encoding::b64(&chain[0].head));
        let text = String::from_utf8(chain[1].statement.clone()).unwrap();
        assert!(text.contains(&prev), "{text}");
        // The creator removes; nobody else does.
        assert_eq!(
            verdict(&extend(&added, &[&ann, &cyd], &ann, vec![])),
            Ok(())
        );
        assert_eq!(
            verdict(&extend(&added, &[&ann, &bob], &cyd, vec![])),
            Err(Refusal::Removal { epoch: 2 })
        );
        // A member who left is dropped by anyone, with their departure.
        let gone = departure(&added, &cyd);
        let left = extend(&added, &[&ann, &bob], &bob, vec![gone.clone()]);
        assert_eq!(verdict(&left), Ok(()));
        assert_eq!(
            check_chain(&left).unwrap()[2].departures[0].member_id,
            cyd.id
        );
        // A signer who is not in the epoch before: refused.
        assert_eq!(
            verdict(&extend(&added, &[&ann, &bob, &cyd, &dan], &dan, vec![])),
            Err(Refusal::Signer { epoch: 2 })
        );
        // Someone who signed the departure other than the one who left.
        let forged = Departure {
            signature: departure(&added, &bob).signature,
            ..gone.clone()
        };
        assert_eq!(
            verdict(&extend(&added, &[&ann, &bob], &bob, vec![forged])),
            Err(Refusal::DepartureSignature { epoch: 2 })
        );
        // A departure signed for another epoch (the one before).
        let stale = departure(&chat, &bob);
        assert_eq!(
            verdict(&extend(&added, &[&ann, &cyd], &cyd, vec![stale])),
            Err(Refusal::DepartureSignature { epoch: 2 })
        );
        // A departure of someone still present, or never there, or twice.
        for departures in [
            vec![departure(&added, &ann)],
            vec![Departure {
                member_id: dan.id,
                ..gone.clone()
            }],
            vec![gone.clone(), gone.clone()],
        ] {
            assert_eq!(
                verdict(&extend(&added, &[&ann, &bob], &bob, departures)),
                Err(Refusal::Departure { epoch: 2 })
            );
        }
        // Who came and went, as every client reads it from the chain.
        let removed = extend(&left, &[&ann], &ann, vec![]);
        let changes = membership(&check_chain(&removed).unwrap());
        let change = |epoch, signer: &Person, added: Vec<UserId>, removed, left| Membership {
            epoch,
            signer: signer.id,
            added,
            removed,
            left,
        };
        assert_eq!(
            changes,
            [
                change(1, &bob, vec![cyd.id], vec![], vec![]),
                change(2, &bob, vec![], vec![], vec![cyd.id]),
                change(3, &ann, vec![], vec![bob.id], vec![]),
            ]
        );
        let rotated = extend(&removed, &[&ann], &ann, vec![]);
        assert_eq!(
            membership(&check_chain(&rotated).unwrap()).len(),
            3,
            "a new key alone"
        );
        // Epoch 0 carries none.
        let mut early = chat.clone();
        early.epochs[0].departures.push(gone);
        assert_eq!(verdict(&early), Err(Refusal::Departure { epoch: 0 }));
        // The departure is in the signed statement: dropping it from the
        // epoch breaks the signature (the server cannot turn a leave into
        // a removal).
        let mut stripped = left.clone();
        stripped.epochs[2].departures.clear();
        assert_eq!(verdict(&stripped), Err(Refusal::Removal { epoch: 2 }));
        let mut stripped_by_creator =
            extend(&added, &[&ann, &bob], &ann, vec![departure(&added, &cyd)]);
        stripped_by_creator.epochs[2].departures.clear();
        assert_eq!(
            verdict(&stripped_by_creator),
            Err(Refusal::Signature { epoch: 2 })
        );
    }

    /// `chat`'s epochs after the first `held` as `me` reads them from
    /// changes: what a server that holds them whole answers, put together
    /// after the held ones as the app does.
    fn through_changes(chat: &Conversation, held: usize, me: UserId) -> Conversation {
        let mut start = chat.clone();
        start.epochs.truncate(held);
        let epochs = chat
            .epochs
            .windows(2)
            .skip(held - 1)
            .map(|pair| {
                KeyedChange::between(&pair[0], &pair[1])
                    .unwrap()
                    .for_reader(me)
            })
            .collect();
        let changes = Changes {
            id: chat.id,
            title: chat.title.clone(),
            created_by: chat.created_by,
            created_at: chat.created_at.clone(),
            last_seq: chat.last_seq,
            epochs,
            pending: chat.pending.clone(),
        };
        changes.onto(&start, me).unwrap()
    }

    #[test]
    fn epochs_put_together_from_their_changes_check_out_as_the_whole_ones_do() {
        let (ann, bob, cyd, dan) = (person("ann"), person("bob"), person("cyd"), person("dan"));
        let chat = genuine(&[&ann, &bob, &cyd]);
        let added = extend(&chat, &[&ann, &bob, &cyd, &dan], &bob, vec![]);
        let left = extend(
            &added,
            &[&ann, &bob, &dan],
            &ann,
            vec![departure(&added, &cyd)],
        );
        let removed = extend(&left, &[&ann, &dan], &ann, vec![]);
        let whole = check_chain(&removed).unwrap();
        let together = through_changes(&removed, 1, dan.id);
        assert_eq!(verdict(&together), Ok(()));
        let rebuilt = check_chain(&together).unwrap();
        let heads = |chain: &[Checked]| chain.iter().map(|c| c.head).collect::<Vec<_>>();
        assert_eq!(heads(&rebuilt), heads(&whole));
        assert_eq!(membership(&rebuilt), membership(&whole));
        // Only dan's own key came, where dan is a member.
        assert_eq!(rebuilt[3].keys.len(), 1);
        assert_eq!(rebuilt[3].key_for(dan.id), whole[3].key_for(dan.id));
        let sorted = |c: &Checked| {
            let mut members = c.members.clone();
            members.sort_by_key(|m| m.id);
            members
        };
        assert_eq!(sorted(&rebuilt[3]), sorted(&whole[3]));
    }

    #[test]
    fn a_server_that_lies_in_a_change_is_caught() {
        let (ann, bob, cyd) = (person("ann"), person("bob"), person("cyd"));
        let chat = genuine(&[&ann, &bob, &cyd]);
        let next = extend(&chat, &[&ann, &bob, &cyd], &ann, vec![]);
        let together = through_changes(&next, 1, bob.id);
        assert_eq!(verdict(&together), Ok(()));
        // Another root: not what ann signed (bob's path no longer leads
        // there either).
        let mut root = together.clone();
        root.epochs[1].key_root.0[0] ^= 1;
        assert_eq!(verdict(&root), Err(Refusal::Keys { epoch: 1 }));
        // A key for bob that is not the one the tree holds for him.
        let mut key = together.clone();
        key.epochs[1].keys[0].wrapped_key = chat.epochs[0].keys[0].wrapped_key.clone();
        assert_eq!(verdict(&key), Err(Refusal::Keys { epoch: 1 }));
        // A path bent, short, or a node too long.
        let mut bent = together.clone();
        bent.epochs[1].keys[0].path.0[5] ^= 1;
        assert_eq!(verdict(&bent), Err(Refusal::Keys { epoch: 1 }));
        let mut short = together.clone();
        short.epochs[1].keys[0].path.0.truncate(32);
        assert_eq!(verdict(&short), Err(Refusal::Keys { epoch: 1 }));
        let mut long = together.clone();
        long.epochs[1].keys[0].path.0.extend([7; 32]);
        assert_eq!(verdict(&long), Err(Refusal::Keys { epoch: 1 }));
        // A root of the wrong length.
        let mut cut = together.clone();
        cut.epochs[1].key_root.0.pop();
        assert_eq!(verdict(&cut), Err(Refusal::Keys { epoch: 1 }));
        // Another root and a path that leads there for bob's key (a server
        // that made a tree of its own): the statement signs ann's root.
        let mut forged = together.clone();
        let mine = forged.epochs[1].keys[0].clone();
        let mut ids: Vec<UserId> = forged.epochs[1].members.iter().map(|m| m.id).collect();
        ids.sort();
        let leaves = ids
            .iter()
            .map(|id| match *id == mine.member_id {
                true => key_tree::leaf(&id.to_string(), &mine.wrapped_key),
                false => key_tree::leaf(&id.to_string(), &[7; 125]),
            })
            .collect();
        let tree = KeyTree::new(leaves).unwrap();
        let at = ids.iter().position(|id| *id == mine.member_id).unwrap();
        forged.epochs[1].key_root = tree.root().into();
        forged.epochs[1].keys[0].path = tree.path(at).unwrap().into();
        assert_eq!(verdict(&forged), Err(Refusal::Signature { epoch: 1 }));
        // Someone slipped in as added, or dropped as removed: the members
        // are signed, so the statement no longer verifies (bob's path is
        // for a tree of three, so it fails first).
        let eve = person("eve");
        let mut slipped = together.clone();
        slipped.epochs[1].members.push(public(&eve));
        assert!(matches!(
            verdict(&slipped),
            Err(Refusal::Signature { epoch: 1 } | Refusal::Keys { epoch: 1 })
        ));
    }

    #[test]
    fn changes_that_do_not_follow_the_epochs_held_do_not_fit() {
        let (ann, bob, cyd) = (person("ann"), person("bob"), person("cyd"));
        let chat = genuine(&[&ann, &bob]);
        let next = extend(&chat, &[&ann, &bob, &cyd], &ann, vec![]);
        let change = KeyedChange::between(&next.epochs[0], &next.epochs[1])
            .unwrap()
            .for_reader(bob.id);
        let changes = |change: EpochChange| Changes {
            id: chat.id,
            title: None,
            created_by: chat.created_by,
            created_at: chat.created_at.clone(),
            last_seq: 0,
            epochs: vec![change],
            pending: vec![],
        };
        assert!(changes(change.clone()).onto(&chat, bob.id).is_ok());
        let skipped = EpochChange {
            epoch: 2,
            ..change.clone()
        };
        assert_eq!(
            changes(skipped).onto(&chat, bob.id),
            Err(Misfit::Start {
                expected: 1,
                found: 2
            })
        );
        let stranger = EpochChange {
            removed: vec![cyd.id],
            ..change.clone()
        };
        assert_eq!(
            changes(stranger).onto(&chat, bob.id),
            Err(Misfit::Removed { epoch: 1 })
        );
        let twice = EpochChange {
            added: vec![public(&bob)],
            ..change.clone()
        };
        assert_eq!(
            changes(twice).onto(&chat, bob.id),
            Err(Misfit::Added { epoch: 1 })
        );
        let elsewhere = Changes {
            id: ConversationId::new(),
            ..changes(change)
        };
        assert_eq!(elsewhere.onto(&chat, bob.id), Err(Misfit::Conversation));
    }
}
