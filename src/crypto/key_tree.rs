//! The key tree (suite step 6): the Merkle tree of RFC 9162 over an
//! epoch's wrapped keys, whose root the key-set statement signs. A member
//! proves that its own wrapped key is the one the signer signed with a path
//! of about log2(n) hashes, so a change in a group of 1,000 reaches each
//! member as its own key and ten hashes, not as every member's key.
//!
//! Leaves are the members in the statement's order (ascending byte order of
//! their ids): `leaf = SHA-256(0x00 || member_id || ":" || wrapped_key)`,
//! `node = SHA-256(0x01 || left || right)`; a level's last node without a
//! partner moves up as it is, which is RFC 9162's tree (split at the
//! largest power of two below the size) built from the bottom.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::model::blob::Blob;
use crate::model::changes::{EpochChange, change_between};
use crate::model::conversation::{Epoch, WrappedKey};
use crate::model::ids::UserId;

/// A node's length: SHA-256.
pub const HASH_LEN: usize = 32;

/// One node of the tree.
pub type Hash = [u8; HASH_LEN];

/// The leaf of a member's wrapped key.
pub fn leaf(member_id: &str, wrapped_key: &[u8]) -> Hash {
    Sha256::new()
        .chain_update([0x00])
        .chain_update(member_id.as_bytes())
        .chain_update(b":")
        .chain_update(wrapped_key)
        .finalize()
        .into()
}

/// The node over two others.
fn node(left: &Hash, right: &Hash) -> Hash {
    Sha256::new()
        .chain_update([0x01])
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

/// A whole tree, every level kept, so that each member's path is read off
/// it without hashing again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTree {
    /// Leaves first, the root last (one node).
    levels: Vec<Vec<Hash>>,
}

impl KeyTree {
    /// The tree over `leaves`, in order; `None` if there are none.
    pub fn new(leaves: Vec<Hash>) -> Option<KeyTree> {
        if leaves.is_empty() {
            return None;
        }
        let mut levels = vec![leaves];
        while let Some(below) = levels.last().filter(|l| l.len() > 1) {
            let above = below
                .chunks(2)
                .map(|pair| match pair {
                    [left, right] => node(left, right),
                    [alone] => *alone,
                    _ => unreachable!("chunks of two"),
                })
                .collect();
            levels.push(above);
        }
        Some(KeyTree { levels })
    }

    /// The tree over an epoch's wrapped keys, one per member, and the
    /// members in the tree's order; `None` if there are none.
    pub fn of_keys(keys: &[WrappedKey]) -> Option<(KeyTree, Vec<UserId>)> {
        let mut sorted: Vec<&WrappedKey> = keys.iter().collect();
        sorted.sort_by_key(|k| k.member_id);
        let leaves = sorted
            .iter()
            .map(|k| leaf(&k.member_id.to_string(), &k.wrapped_key))
            .collect();
        let order = sorted.iter().map(|k| k.member_id).collect();
        KeyTree::new(leaves).map(|tree| (tree, order))
    }

    /// How many leaves.
    pub fn size(&self) -> usize {
        self.levels[0].len()
    }

    /// The root, which the statement signs.
    pub fn root(&self) -> Hash {
        self.levels.last().expect("at least the leaves")[0]
    }

    /// The path of the `index`-th leaf, bottom up, its nodes concatenated;
    /// `None` past the last leaf.
    pub fn path(&self, index: usize) -> Option<Vec<u8>> {
        if index >= self.size() {
            return None;
        }
        let mut path = Vec::with_capacity(HASH_LEN * self.levels.len());
        let mut at = index;
        for level in &self.levels[..self.levels.len() - 1] {
            let partner = at ^ 1;
            if let Some(sibling) = level.get(partner) {
                path.extend_from_slice(sibling);
            }
            at /= 2;
        }
        Some(path)
    }
}

/// Whether `path` (its nodes concatenated, bottom up) proves that `leaf` is
/// the `index`-th of `size` leaves of the tree whose root is `root`: the
/// path must be exactly as long as that position needs.
pub fn proves(root: &[u8], leaf: Hash, index: usize, size: usize, path: &[u8]) -> bool {
    if index >= size || !path.len().is_multiple_of(HASH_LEN) {
        return false;
    }
    let mut nodes = path.chunks_exact(HASH_LEN);
    let (mut at, mut width, mut hash) = (index, size, leaf);
    while width > 1 {
        let partner = at ^ 1;
        if partner < width {
            let Some(sibling) = nodes.next() else {
                return false;
            };
            let sibling: &Hash = sibling.try_into().expect("chunks of HASH_LEN");
            hash = if at % 2 == 1 {
                node(sibling, &hash)
            } else {
                node(&hash, sibling)
            };
        }
        at /= 2;
        width = width.div_ceil(2);
    }
    nodes.next().is_none() && hash[..] == *root
}

/// An epoch (whole) as the change from the one before it, with its key
/// tree: what the server keeps after a change and gives each member, with
/// that member's own wrapped key and path.
#[derive(Debug)]
pub struct KeyedChange {
    change: EpochChange,
    tree: KeyTree,
    /// Each member's place in the tree and wrapped key.
    keys: HashMap<UserId, (usize, Blob)>,
}

impl KeyedChange {
    /// The change from `before` to `now`, both whole; `None` if `now` has
    /// no keys.
    pub fn between(before: &Epoch, now: &Epoch) -> Option<KeyedChange> {
        KeyedChange::new(change_between(before, now), &now.keys)
    }

    /// `change` (the same for every reader) with the tree over `keys`, the
    /// new epoch's wrapped keys, whose root it then carries; `None` if
    /// there are no keys.
    pub fn new(mut change: EpochChange, keys: &[WrappedKey]) -> Option<KeyedChange> {
        let (tree, order) = KeyTree::of_keys(keys)?;
        change.key_root = tree.root().into();
        let at: HashMap<UserId, usize> = order.into_iter().zip(0..).collect();
        let keys = keys
            .iter()
            .map(|k| (k.member_id, (at[&k.member_id], k.wrapped_key.clone())))
            .collect();
        Some(KeyedChange { change, tree, keys })
    }

    /// The change as `reader` reads it: with its own wrapped key and path
    /// when it is in the epoch.
    pub fn for_reader(&self, reader: UserId) -> EpochChange {
        let mut change = self.change.clone();
        if let Some((at, key)) = self.keys.get(&reader) {
            change.key = Some(key.clone());
            change.path = self.tree.path(*at).unwrap_or_default().into();
        }
        change
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 9162's definition, recursively: the tree of `d` splits at the
    /// largest power of two below its size.
    fn rfc_root(d: &[Hash]) -> Hash {
        match d.len() {
            0 => unreachable!("never empty here"),
            1 => d[0],
            n => {
                let k = split(n);
                node(&rfc_root(&d[..k]), &rfc_root(&d[k..]))
            }
        }
    }

    /// RFC 9162's PATH(m, D[n]), bottom up.
    fn rfc_path(m: usize, d: &[Hash]) -> Vec<u8> {
        if d.len() <= 1 {
            return Vec::new();
        }
        let k = split(d.len());
        if m < k {
            [rfc_path(m, &d[..k]), rfc_root(&d[k..]).to_vec()].concat()
        } else {
            [rfc_path(m - k, &d[k..]), rfc_root(&d[..k]).to_vec()].concat()
        }
    }

    fn split(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf(&format!("m{i}"), &[i as u8; 125]))
            .collect()
    }

    proptest! {
        /// Built from the bottom, the tree is RFC 9162's; every leaf's
        /// path proves it, and proves nothing else.
        #[test]
        fn the_tree_is_rfc_9162s_and_every_path_proves_its_leaf_only(n in 1usize..80, flip in any::<usize>()) {
            let d = leaves(n);
            let tree = KeyTree::new(d.clone()).unwrap();
            prop_assert_eq!(tree.root(), rfc_root(&d));
            for (m, l) in d.iter().enumerate() {
                let path = tree.path(m).unwrap();
                prop_assert_eq!(&path, &rfc_path(m, &d));
                prop_assert!(proves(&tree.root(), *l, m, n, &path));
                // Another position, another size, another leaf: no.
                if n > 1 {
                    prop_assert!(!proves(&tree.root(), *l, (m + 1) % n, n, &path));
                    prop_assert!(!proves(&tree.root(), d[(m + 1) % n], m, n, &path));
                }
                if !path.is_empty() {
                    let mut bent = path.clone();
                    let at = flip % bent.len();
                    bent[at] ^= 1;
                    prop_assert!(!proves(&tree.root(), *l, m, n, &bent));
                    prop_assert!(!proves(&tree.root(), *l, m, n, &path[..path.len() - HASH_LEN]));
                }
                let longer = [path.clone(), vec![0; HASH_LEN]].concat();
                prop_assert!(!proves(&tree.root(), *l, m, n, &longer));
            }
            prop_assert!(tree.path(n).is_none());
        }
    }

    #[test]
    fn one_member_is_its_own_root_and_none_is_no_tree() {
        let only = leaf("m0", b"key");
        let tree = KeyTree::new(vec![only]).unwrap();
        assert_eq!(tree.root(), only);
        assert_eq!(tree.path(0), Some(Vec::new()));
        assert!(proves(&only, only, 0, 1, &[]));
        assert!(!proves(&only, only, 1, 1, &[]));
        assert!(!proves(&only[..31], only, 0, 1, &[]));
        assert!(KeyTree::new(Vec::new()).is_none());
    }

    #[test]
    fn leaves_bind_the_member_and_the_key() {
        assert_ne!(leaf("a", b"bc"), leaf("ab", b"c"));
        assert_ne!(leaf("a", b"k"), leaf("a", b"l"));
        // A leaf is never a node: the first byte keeps them apart.
        let (l, r) = (leaf("a", b"1"), leaf("b", b"2"));
        assert_ne!(node(&l, &r), leaf("", &[l, r].concat()));
    }
}
