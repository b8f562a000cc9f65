//! The epoch changes that `conversation-changed` pushes and
//! `/api/conversations/changes` answers, each kept a while with the epoch's
//! key tree: put together from the change as it is stored, or else read
//! from the store once. After a change in a large group
//! every member needs the same change at the same moment; an epoch never
//! changes once stored, so one read serves them all (the first asker reads,
//! the others wait for it), whichever node they ask. Each member's copy
//! then adds only its own wrapped key and its path, read off the kept tree.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::store::{ChangeRecord, Changed, Store, StoreError};
use crate::crypto::key_tree::KeyedChange;
use crate::model::account::PublicUser;
use crate::model::changes::EpochChange;
use crate::model::ids::{ConversationId, UserId};

/// How many epoch changes are kept: about 200 KB each for a change in a
/// group of 1,000 (its keys and its tree), and only recent ones are asked
/// for by many.
const KEPT: usize = 64;

type Key = (ConversationId, u32);
type Slot = Arc<OnceCell<Arc<KeyedChange>>>;

/// Recent epoch changes, shared by every request.
#[derive(Default)]
pub struct EpochChanges {
    kept: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    slots: HashMap<Key, Slot>,
    /// Keys, oldest first: the first is dropped when one more is kept.
    order: VecDeque<Key>,
}

impl EpochChanges {
    /// Epoch `epoch` (≥ 1) of conversation `id` as the change from the one
    /// before it, read from `store` unless kept; `None` if there is no such
    /// epoch (nothing is kept then).
    pub async fn get(
        &self,
        store: &dyn Store,
        id: ConversationId,
        epoch: u32,
    ) -> Result<Option<Arc<KeyedChange>>, StoreError> {
        let slot = self.slot((id, epoch));
        let read = slot
            .get_or_try_init(|| async {
                let pair = store
                    .epochs(id, epoch.saturating_sub(1), epoch)
                    .await
                    .map_err(Some)?;
                match &pair[..] {
                    [before, now] if epoch > 0 && now.epoch == epoch => {
                        KeyedChange::between(before, now).map(Arc::new).ok_or(None)
                    }
                    _ => Err(None),
                }
            })
            .await;
        match read {
            Ok(change) => Ok(Some(change.clone())),
            Err(failed) => {
                self.drop_slot((id, epoch));
                failed.map_or(Ok(None), Err)
            }
        }
    }

    /// Keeps the change `record` just stored (which `changed` the access
    /// list), for everyone about to ask for it (the signer's answer, the
    /// members' pushes): put together from what was posted, not read back.
    /// `newcomers` are those added, as others see them; should they miss
    /// one, nothing is kept and the first asker reads it.
    pub fn keep(
        &self,
        record: &ChangeRecord,
        changed: &Changed,
        mut newcomers: HashMap<UserId, PublicUser>,
    ) {
        let epoch = record.epoch();
        let added: Option<Vec<PublicUser>> =
            changed.added.iter().map(|m| newcomers.remove(m)).collect();
        let Some(added) = added else { return };
        // Out: those the creator removed, and those who left.
        let removed = changed.removed.iter().copied();
        let removed = removed.chain(epoch.departures.iter().map(|d| d.member_id));
        let change = EpochChange::new(&epoch, added, removed.collect());
        if let Some(kept) = KeyedChange::new(change, &epoch.keys) {
            let slot = self.slot((record.change.conversation_id, epoch.epoch));
            // Already there if someone asked first: the same change.
            let _ = slot.set(Arc::new(kept));
        }
    }

    fn slot(&self, key: Key) -> Slot {
        let mut kept = self.kept.lock().expect("epoch changes");
        if let Some(slot) = kept.slots.get(&key) {
            return slot.clone();
        }
        if kept.order.len() >= KEPT
            && let Some(oldest) = kept.order.pop_front()
        {
            kept.slots.remove(&oldest);
        }
        let slot = Slot::default();
        kept.slots.insert(key, slot.clone());
        kept.order.push_back(key);
        slot
    }

    fn drop_slot(&self, key: Key) {
        let mut kept = self.kept.lock().expect("epoch changes");
        if kept.slots.remove(&key).is_some() {
            kept.order.retain(|k| *k != key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::key_tree;
    use crate::model::blob::Blob;
    use crate::model::conversation::{Change, Departure, NewConversation, WrappedKey};
    use crate::server::store::SqliteStore;
    use crate::server::store::{ChangeRecord, Creation, UserRecord, test_user};

    fn keys(members: &[&UserRecord], byte: u8) -> Vec<WrappedKey> {
        members
            .iter()
            .enumerate()
            .map(|(i, m)| WrappedKey {
                member_id: m.id,
                wrapped_key: vec![byte + i as u8; 125].into(),
                path: Default::default(),
            })
            .collect()
    }

    /// A store holding `users` and, created by the first of `members`, a
    /// conversation of `members` at epoch 0.
    async fn with_conversation(
        dir: &std::path::Path,
        users: &[&UserRecord],
        members: &[&UserRecord],
    ) -> (SqliteStore, ConversationId) {
        let store = SqliteStore::open_file(dir).await.unwrap();
        for u in users {
            store.create_user(u).await.unwrap();
        }
        let id = ConversationId::new();
        let creation = Creation {
            new: NewConversation {
                conversation_id: id,
                title: None,
                member_ids: members.iter().map(|m| m.id).collect(),
                epoch: 0,
                commit: [6; 32].into(),
                keys: keys(members, 10),
                keys_signature: [3; 64].into(),
            },
            created_by: members[0].id,
            created_at: "2026-11-30T19:00:00.000Z".into(),
        };
        store.create_conversation(&creation).await.unwrap();
        (store, id)
    }

    /// Epoch 1 of `id`, signed by the first of `members`, with `keys`.
    fn epoch_1(
        id: ConversationId,
        members: &[&UserRecord],
        keys: Vec<WrappedKey>,
        departures: Vec<Departure>,
    ) -> ChangeRecord {
        ChangeRecord {
            change: Change {
                conversation_id: id,
                epoch: 1,
                member_ids: members.iter().map(|m| m.id).collect(),
                commit: [7; 32].into(),
                keys,
                keys_signature: [4; 64].into(),
                departures,
            },
            signer: members[0].id,
        }
    }

    #[tokio::test]
    async fn everyone_asking_at_once_shares_one_read_and_nothing_missing_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (ann, bob, cyd) = (test_user("ann"), test_user("bob"), test_user("cyd"));
        let (store, id) = with_conversation(dir.path(), &[&ann, &bob, &cyd], &[&ann, &bob]).await;
        let next = keys(&[&ann, &cyd], 20);
        let change = epoch_1(id, &[&ann, &cyd], next.clone(), Vec::new());
        store.change_conversation(&change).await.unwrap().unwrap();

        let kept = EpochChanges::default();
        let asks = (0..20).map(|_| kept.get(&store, id, 1));
        let answers: Vec<Arc<KeyedChange>> = futures_util::future::join_all(asks)
            .await
            .into_iter()
            .map(|a| a.unwrap().unwrap())
            .collect();
        assert!(answers.iter().all(|a| Arc::ptr_eq(a, &answers[0])));
        let (tree, order) = key_tree::KeyTree::of_keys(&next).unwrap();
        let root = tree.root();
        // As cyd reads it: her key, and her path up the tree of both keys.
        let change = answers[0].for_reader(cyd.id);
        assert_eq!(
            change.added.iter().map(|u| u.id).collect::<Vec<_>>(),
            [cyd.id]
        );
        assert_eq!(change.removed, [bob.id]);
        assert_eq!(change.key_root.to_vec(), root.to_vec());
        let cyds = next.iter().find(|k| k.member_id == cyd.id).unwrap();
        assert_eq!(change.key.as_ref(), Some(&cyds.wrapped_key));
        let at = order.iter().position(|m| *m == cyd.id).unwrap();
        let leaf = key_tree::leaf(&cyd.id.to_string(), &cyds.wrapped_key);
        assert!(key_tree::proves(&root, leaf, at, 2, &change.path));
        // As bob reads it (removed): no key, no path.
        let bobs = answers[0].for_reader(bob.id);
        assert_eq!((bobs.key, bobs.path.len()), (None, 0));

        // No epoch 2 yet, and epoch 0 has no change: nothing is kept.
        assert!(kept.get(&store, id, 2).await.unwrap().is_none());
        assert!(kept.get(&store, id, 0).await.unwrap().is_none());
        assert_eq!(kept.kept.lock().unwrap().slots.len(), 1);
        assert_eq!(kept.kept.lock().unwrap().order.len(), 1);
    }

    #[tokio::test]
    async fn a_change_kept_as_stored_is_the_change_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let [ann, bob, cyd, dan] = ["ann", "bob", "cyd", "dan"].map(test_user);
        let everyone = [&ann, &bob, &cyd, &dan];
        let (store, id) = with_conversation(dir.path(), &everyone, &[&ann, &bob, &cyd]).await;
        // cyd leaves; ann, the creator, adds dan and removes bob.
        let left: Blob = [9; 64].into();
        let leave = store.leave_conversation(id, cyd.id, 0, &left).await;
        leave.unwrap().unwrap();
        let departure = Departure {
            member_id: cyd.id,
            signature: left,
        };
        let record = epoch_1(id, &[&ann, &dan], keys(&[&dan, &ann], 20), vec![departure]);
        let changed = store.change_conversation(&record).await.unwrap().unwrap();
        assert_eq!(
            (&changed.added, &changed.removed),
            (&vec![dan.id], &vec![bob.id])
        );

        let kept = EpochChanges::default();
        kept.keep(&record, &changed, HashMap::from([(dan.id, dan.public())]));
        let read = EpochChanges::default();
        let kept = kept.get(&store, id, 1).await.unwrap().unwrap();
        let read = read.get(&store, id, 1).await.unwrap().unwrap();
        for reader in [&ann, &bob, &cyd, &dan] {
            assert_eq!(kept.for_reader(reader.id), read.for_reader(reader.id));
        }
        let dans = kept.for_reader(dan.id);
        assert_eq!(dans.removed.len(), 2);
        assert_eq!(dans.departures.len(), 1);
        assert!(dans.key.is_some());

        // Without the newcomer as others see them, nothing is kept: the
        // first asker reads it.
        let unsure = EpochChanges::default();
        unsure.keep(&record, &changed, HashMap::new());
        assert!(unsure.kept.lock().unwrap().slots.is_empty());
    }

    #[test]
    fn only_the_newest_are_kept() {
        let kept = EpochChanges::default();
        let id = ConversationId::new();
        for epoch in 1..=(KEPT as u32 + 5) {
            kept.slot((id, epoch));
        }
        let held = kept.kept.lock().unwrap();
        assert_eq!(held.slots.len(), KEPT);
        assert!(!held.slots.contains_key(&(id, 5)));
        assert!(held.slots.contains_key(&(id, 6)));
    }
}
