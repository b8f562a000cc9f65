//! Safety numbers (suite step 9): Signal's numeric fingerprint, version 0,
//! over Hush's keys. Each party's 30 digits come from 5,200 rounds of
//! SHA-512 over its keys and its id; the safety number of two people is
//! both strings, the lower first, so it reads the same on both sides; its
//! QR code carries the two hashes it came from. Pure: the browser's
//! "Verify" view shows it and the native tests prove it against libsignal's
//! published vector.

use sha2::{Digest, Sha512};

use crate::model::account::PublicUser;

/// Rounds of SHA-512 per party.
pub const ROUNDS: usize = 5_200;

/// What a QR code of a safety number holds: a version byte and 32 bytes
/// of each party's hash, the lower party's first.
pub const QR_LEN: usize = 65;

/// One party's final hash: `h = SHA-512(0x00 0x00 || key || id || key)`,
/// then `h = SHA-512(h || key)` for the remaining rounds.
pub fn party_hash(key: &[u8], id: &[u8]) -> [u8; 64] {
    let mut hash: [u8; 64] = Sha512::new()
        .chain_update([0u8, 0u8])
        .chain_update(key)
        .chain_update(id)
        .chain_update(key)
        .finalize()
        .into();
    for _ in 1..ROUNDS {
        hash = Sha512::new()
            .chain_update(hash)
            .chain_update(key)
            .finalize()
            .into();
    }
    hash
}

/// A party's 30 digits: the first 30 bytes of its hash as six 5-byte
/// big-endian numbers, each mod 100000, five digits each.
pub fn party_digits(hash: &[u8; 64]) -> String {
    hash[..30]
        .chunks(5)
        .map(|chunk| {
            let n = chunk.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b));
            format!("{:05}", n % 100_000)
        })
        .collect()
}

/// A user's fingerprint input: `key = sig_public || dh_public` and the 16
/// bytes of the id in network order.
fn hash_of(user: &PublicUser) -> [u8; 64] {
    let key = [&user.sig_public[..], &user.dh_public[..]].concat();
    party_hash(&key, user.id.as_bytes())
}

/// The safety number of two people, the same whichever side computes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyNumber {
    /// 60 digits, the lower party's 30 first.
    pub digits: String,
    /// What its QR code holds.
    pub qr: [u8; QR_LEN],
}

impl SafetyNumber {
    /// Computes it for `a` and `b`, in either order.
    pub fn of(a: &PublicUser, b: &PublicUser) -> SafetyNumber {
        SafetyNumber::from_hashes(hash_of(a), hash_of(b))
    }

    /// From the two parties' hashes, in either order.
    pub fn from_hashes(a: [u8; 64], b: [u8; 64]) -> SafetyNumber {
        let mut parties = [(party_digits(&a), a), (party_digits(&b), b)];
        parties.sort_by(|x, y| x.0.cmp(&y.0));
        let [(low, low_hash), (high, high_hash)] = parties;
        let mut qr = [0u8; QR_LEN];
        qr[1..33].copy_from_slice(&low_hash[..32]);
        qr[33..].copy_from_slice(&high_hash[..32]);
        SafetyNumber {
            digits: low + &high,
            qr,
        }
    }

    /// The digits in 12 groups of 5, as people read them aloud.
    pub fn groups(&self) -> Vec<&str> {
        (0..self.digits.len())
            .step_by(5)
            .map(|at| &self.digits[at..at + 5])
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::UserId;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// libsignal's published vector (its `fingerprint` tests): its
    /// identity keys and phone numbers, fed through our construction.
    #[test]
    fn libsignal_s_published_vector() {
        let alice = hex("0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868");
        let bob = hex("05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b");
        let alice_hash = party_hash(&alice, b"+14152222222");
        let bob_hash = party_hash(&bob, b"+14153333333");
        let expected = "300354477692869396892869876765458257569162576843440918079131";
        assert_eq!(
            SafetyNumber::from_hashes(alice_hash, bob_hash).digits,
            expected
        );
        assert_eq!(
            SafetyNumber::from_hashes(bob_hash, alice_hash).digits,
            expected
        );
    }

    fn user(key: u8) -> PublicUser {
        PublicUser {
            id: UserId::new(),
            username: format!("user{key}"),
            dh_public: [key; 65].into(),
            sig_public: [key ^ 0x55; 65].into(),
        }
    }

    #[test]
    fn both_sides_see_the_same_number_and_code() {
        let (a, b) = (user(1), user(2));
        let number = SafetyNumber::of(&a, &b);
        assert_eq!(number, SafetyNumber::of(&b, &a));
        assert_eq!(number.digits.len(), 60);
        assert!(number.digits.bytes().all(|d| d.is_ascii_digit()));
        assert_eq!(number.groups().len(), 12);
        assert_eq!(number.qr[0], 0);
        let (low, high) = number.digits.split_at(30);
        assert!(low <= high);
        let low_hash = [hash_of(&a), hash_of(&b)]
            .into_iter()
            .find(|h| party_digits(h) == low)
            .unwrap();
        assert_eq!(number.qr[1..33], low_hash[..32]);
    }

    #[test]
    fn any_change_of_key_or_id_changes_the_number() {
        let (a, b) = (user(1), user(2));
        let number = SafetyNumber::of(&a, &b);
        let rekeyed = PublicUser {
            dh_public: [9; 65].into(),
            ..b.clone()
        };
        let other_id = PublicUser {
            id: UserId::new(),
            ..b.clone()
        };
        for changed in [rekeyed, other_id] {
            assert_ne!(SafetyNumber::of(&a, &changed), number);
        }
        // The name is not part of it: names are pinned, not fingerprinted.
        let renamed = PublicUser {
            username: "other".into(),
            ..b.clone()
        };
        assert_eq!(SafetyNumber::of(&a, &renamed), number);
    }
}
