//! The labels and exact byte strings of `hush-v1`, built once for both
//! implementations. Nothing here touches a key: these functions only say
//! *what* is hashed, derived, authenticated or signed. The suite's sizes and
//! limits, which the server checks too, are in `model::suite`.

use crate::model::encoding::b64;

/// HKDF `info` for the key that proves the password to the server.
pub const AUTH_INFO: &str = "hush-v1|auth";
/// HKDF `info` for the key that wraps the identity private keys.
pub const KEK_INFO: &str = "hush-v1|kek";
/// HKDF `info` for `cbk`, the key of the contact book kept on the server
/// (step 8).
pub const CONTACTS_INFO: &str = "hush-v1|contacts";

/// Step 8: the associated data of the contact book's `version` (from 1).
pub fn contacts_aad(user_id: &str, version: u64) -> String {
    format!("hush-v1|contacts|{user_id}|{version}")
}

/// The two identity key pairs of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// ECDH P-256: receives conversation keys.
    Dh,
    /// ECDSA P-256: signs key sets and messages.
    Sig,
}

impl KeyKind {
    pub fn label(self) -> &'static str {
        match self {
            KeyKind::Dh => "dh",
            KeyKind::Sig => "sig",
        }
    }
}

/// Step 1: what SHA-256 turns into the PBKDF2 salt.
pub fn salt_input(username: &str, kdf_salt: &[u8]) -> Vec<u8> {
    let mut input = format!("hush-v1|salt|{username}|").into_bytes();
    input.extend_from_slice(kdf_salt);
    input
}

/// Step 2: the associated data of a wrapped identity private key.
pub fn identity_aad(username: &str, kind: KeyKind) -> String {
    format!("hush-v1|identity|{username}|{}", kind.label())
}

/// Step 3: the HKDF `info`, and the AES-GCM associated data, of one member's
/// wrapped content key.
pub fn wrap_info(conversation_id: &str, epoch: u32, member_id: &str) -> String {
    format!("hush-v1|wrap|{conversation_id}|{epoch}|{member_id}")
}

/// Step 3: the HKDF salt of a wrapped content key: `E.public || member.dh_public`.
pub fn wrap_salt(ephemeral_public: &[u8], member_dh_public: &[u8]) -> Vec<u8> {
    [ephemeral_public, member_dh_public].concat()
}

/// Step 3: the message HMAC'd under the content key to commit to it.
pub fn commit_label(conversation_id: &str, epoch: u32) -> String {
    format!("hush-v1|commit|{conversation_id}|{epoch}")
}

/// Step 6: `prev` of epoch 0, which has no epoch before it.
pub const GENESIS_PREV: [u8; 32] = [0; 32];

/// One member's line in a key-set statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberKeys {
    pub member_id: String,
    /// Canonical: the name every client shows for the member.
    pub username: String,
    pub dh_public: Vec<u8>,
    pub sig_public: Vec<u8>,
}

/// Step 6: `statement_n`, the exact bytes the signer's `sig` key signs for
/// epoch `n` and whose SHA-256 is the epoch's head. `key_root` is the root
/// of the tree over the members' wrapped keys (`crypto::key_tree`). Members
/// go in ascending byte order of their ids and departures after them,
/// whatever order they come in.
#[allow(clippy::too_many_arguments)]
pub fn statement(
    conversation_id: &str,
    epoch: u32,
    signer_id: &str,
    commit: &[u8],
    prev: &[u8],
    key_root: &[u8],
    members: &[MemberKeys],
    departures: &[&str],
) -> Vec<u8> {
    let mut sorted: Vec<&MemberKeys> = members.iter().collect();
    sorted.sort_by(|a, b| a.member_id.as_bytes().cmp(b.member_id.as_bytes()));
    let mut text = format!(
        "hush-v1|keys2|{conversation_id}|{epoch}|{signer_id}|commit:{}|prev:{}|keys:{}|",
        b64(commit),
        b64(prev),
        b64(key_root)
    );
    for m in sorted {
        text.push_str(&format!(
            "{}:{}:{}:{};",
            m.member_id,
            m.username,
            b64(&m.dh_public),
            b64(&m.sig_public)
        ));
    }
    let mut left: Vec<&str> = departures.to_vec();
    left.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    for member in left {
        text.push_str(&format!("left:{member};"));
    }
    text.into_bytes()
}

/// Step 7: what a member who leaves epoch `epoch` (whose head is `head`)
/// signs: their departure, which the next epoch carries.
pub fn departure(conversation_id: &str, epoch: u32, head: &[u8], member_id: &str) -> Vec<u8> {
    format!(
        "hush-v1|leave|{conversation_id}|{epoch}|{}|{member_id}",
        b64(head)
    )
    .into_bytes()
}

/// Step 6: the associated data of a message, naming its epoch's head.
pub fn message_aad(
    conversation_id: &str,
    epoch: u32,
    head: &[u8],
    message_id: &str,
    sender_id: &str,
) -> String {
    format!(
        "hush-v1|msg|{conversation_id}|{epoch}|{}|{message_id}|{sender_id}",
        b64(head)
    )
}

/// Step 4: the bytes a sender signs: `aad || nonce || ciphertext`.
pub fn message_signed_bytes(aad: &str, nonce: &[u8], ciphertext: &[u8]) -> Vec<u8> {
    [aad.as_bytes(), nonce, ciphertext].concat()
}
