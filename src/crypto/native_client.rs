//! What a browser does with `hush-v1`, done with the native twin: the
//! sign-up body, a conversation's signed key set, accepting a key set,
//! sealing and opening messages. The integration tests and the load
//! generator (`bench/`) speak the wire contract through it, so both build
//! exactly the bytes the browser builds.

use serde_json::{Value, json};

use super::keyset;
use super::native::{self, Key32, PrivateKey};
use super::suite::{self, GENESIS_PREV, KeyKind};
use crate::model::account::PublicUser;
use crate::model::blob::Blob;
use crate::model::conversation::{Conversation, Departure, Epoch, WrappedKey};
use crate::model::encoding::{b64, unb64};
use crate::model::ids::{ConversationId, UserId};
use crate::model::plain::{Content, Plain};
use crate::model::suite::{KDF_SALT_LEN, KEY_LEN, NONCE_LEN};

/// Fresh random bytes from the operating system.
pub fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    bytes
}

/// What the browser derives from a password.
pub struct PasswordKeys {
    pub auth_key: Key32,
    pub kek: Key32,
}

impl PasswordKeys {
    pub fn derive(username: &str, password: &str, kdf_salt: &[u8], iterations: u32) -> Self {
        let mk = native::master_key(username, password, kdf_salt, iterations);
        PasswordKeys {
            auth_key: native::auth_key(&mk),
            kek: native::kek(&mk),
        }
    }
}

/// A user's two identity key pairs, as only their own client holds them.
pub struct Identity {
    pub dh: PrivateKey,
    pub sig: PrivateKey,
}

/// Builds the `/api/signup` body for `canonical` (a username already in
/// canonical form, as every derivation uses it), with a fresh identity.
/// `typed` is the name as the user typed it.
pub fn sign_up_body(
    typed: &str,
    canonical: &str,
    password: &str,
    iterations: u32,
) -> (Value, Identity) {
    let kdf_salt = random::<KDF_SALT_LEN>();
    let keys = PasswordKeys::derive(canonical, password, &kdf_salt, iterations);
    let identity = Identity {
        dh: PrivateKey::generate(),
        sig: PrivateKey::generate(),
    };
    let wrap = |kind, key: &PrivateKey| {
        let wrapped = native::wrap_identity(
            &keys.kek,
            canonical,
            kind,
            &key.to_pkcs8(),
            &random::<NONCE_LEN>(),
        )
        .expect("a fresh 12-byte nonce and a 32-byte key always seal");
        b64(&wrapped)
    };
    let body = json!({
        "username": typed,
        "auth_key": b64(keys.auth_key.expose()),
        "kdf_salt": b64(&kdf_salt),
        "kdf_iterations": iterations,
        "identity": {
            "dh_public": b64(&identity.dh.public()),
            "sig_public": b64(&identity.sig.public()),
            "dh_private_wrapped": wrap(KeyKind::Dh, &identity.dh),
            "sig_private_wrapped": wrap(KeyKind::Sig, &identity.sig),
        },
    });
    (body, identity)
}

/// An epoch's content key and head: what sealing and opening its messages
/// needs.
pub struct EpochKey {
    pub epoch: u32,
    pub ck: Key32,
    pub head: [u8; 32],
}

/// Epoch `n` of conversation `id` for `members`, after the epoch whose head
/// is `prev`, carrying `departures`: a fresh content key, one wrap per
/// member and the signer's signature over the statement.
fn signed_epoch(
    id: &str,
    n: u32,
    signer_id: UserId,
    signer_sig: &PrivateKey,
    members: &[PublicUser],
    prev: &[u8],
    departures: Vec<Departure>,
) -> Result<(Epoch, EpochKey), crate::crypto::CryptoError> {
    let ck = Key32::from_bytes(&random::<KEY_LEN>())?;
    let mut keys = Vec::with_capacity(members.len());
    for m in members {
        let wrapped = native::wrap_content_key(
            &ck,
            id,
            n,
            &m.id.to_string(),
            &m.dh_public,
            &PrivateKey::generate(),
            &random::<NONCE_LEN>(),
        )?;
        keys.push(WrappedKey {
            member_id: m.id,
            wrapped_key: wrapped.into(),
            path: Blob::default(),
        });
    }
    let mut epoch = Epoch {
        epoch: n,
        signer_id,
        commit: native::commit(&ck, id, n).into(),
        members: members.to_vec(),
        keys,
        keys_signature: Blob::default(),
        departures,
        key_root: Blob::default(),
    };
    let statement = keyset::statement(id, &epoch, prev).expect("every member has a wrapped key");
    epoch.keys_signature = native::sign(signer_sig, &statement).into();
    let head = keyset::sha256(&statement);
    Ok((epoch, EpochKey { epoch: n, ck, head }))
}

/// The `/api/conversations/create` body for `members` (the creator among
/// them), with a fresh content key, one wrap per member and the creator's
/// signature over the epoch-0 statement. Returns the body and the key.
pub fn create_body(
    creator_id: &str,
    creator_sig: &PrivateKey,
    members: &[PublicUser],
    title: Option<&str>,
) -> Result<(Value, EpochKey), crate::crypto::CryptoError> {
    let id = ConversationId::new().to_string();
    let signer: UserId = creator_id
        .parse()
        .map_err(|_| crate::crypto::CryptoError::Invalid { what: "creator id" })?;
    let (epoch, key) = signed_epoch(&id, 0, signer, creator_sig, members, &GENESIS_PREV, vec![])?;
    let body = json!({
        "conversation_id": id,
        "title": title,
        "member_ids": members.iter().map(|m| m.id).collect::<Vec<_>>(),
        "epoch": 0,
        "commit": epoch.commit,
        "keys": epoch.keys,
        "keys_signature": epoch.keys_signature,
    });
    Ok((body, key))
}

/// The `/api/conversations/change` body that takes `conversation` (wire
/// form, as list or get gives it) to its next epoch with `members`, signed
/// by `me`, carrying its pending departures. The chain is checked first,
/// as an app does before it builds on it.
pub fn change_body(
    conversation: &Value,
    my_id: &str,
    my_sig: &PrivateKey,
    members: &[PublicUser],
) -> Result<(Value, EpochKey), Rejected> {
    let conversation = parse(conversation)?;
    let chain = checked(&conversation)?;
    let last = chain.last().expect("a checked chain is never empty");
    let me: UserId = my_id.parse().map_err(|_| rejected("my id"))?;
    let id = conversation.id.to_string();
    let (epoch, key) = signed_epoch(
        &id,
        last.epoch + 1,
        me,
        my_sig,
        members,
        &last.head,
        conversation.pending.clone(),
    )
    .map_err(|e| rejected(e.to_string()))?;
    let body = json!({
        "conversation_id": id,
        "epoch": epoch.epoch,
        "member_ids": members.iter().map(|m| m.id).collect::<Vec<_>>(),
        "commit": epoch.commit,
        "keys": epoch.keys,
        "keys_signature": epoch.keys_signature,
        "departures": epoch.departures,
    });
    Ok((body, key))
}

/// The `/api/conversations/leave` body: `me`'s signed departure from the
/// current epoch of `conversation` (wire form), checked first.
pub fn leave_body(
    conversation: &Value,
    my_id: &str,
    my_sig: &PrivateKey,
) -> Result<Value, Rejected> {
    let conversation = parse(conversation)?;
    let chain = checked(&conversation)?;
    let last = chain.last().expect("a checked chain is never empty");
    let signed = suite::departure(&conversation.id.to_string(), last.epoch, &last.head, my_id);
    Ok(json!({
        "conversation_id": conversation.id,
        "epoch": last.epoch,
        "signature": b64(&native::sign(my_sig, &signed)),
    }))
}

/// Why a conversation or a message was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Rejected(pub String);

fn rejected(why: impl Into<String>) -> Rejected {
    Rejected(why.into())
}

fn text<'a>(value: &'a Value, field: &str) -> Result<&'a str, Rejected> {
    value[field]
        .as_str()
        .ok_or_else(|| rejected(format!("`{field}` is not a string")))
}

fn bytes(value: &Value, field: &str) -> Result<Vec<u8>, Rejected> {
    unb64(text(value, field)?).ok_or_else(|| rejected(format!("`{field}` is not base64")))
}

fn parse(conversation: &Value) -> Result<Conversation, Rejected> {
    serde_json::from_value(conversation.clone())
        .map_err(|e| rejected(format!("not a conversation: {e}")))
}

/// The chain's every rule and every signature, by the browser's verifier
/// (`crypto::keyset`).
fn checked(conversation: &Conversation) -> Result<Vec<keyset::Checked>, Rejected> {
    let chain = keyset::check_chain(conversation).map_err(|e| rejected(e.to_string()))?;
    for epoch in &chain {
        for proof in epoch.proofs() {
            native::verify(proof.key, proof.message, proof.signature)
                .map_err(|_| rejected(proof.refusal.to_string()))?;
        }
    }
    Ok(chain)
}

/// What a member's client does before it trusts a conversation (wire
/// form), by the same verifier as the browser's (`crypto::keyset`): the
/// chain's every rule, every signature, and each of its keys' commitment.
/// Returns the keys of every epoch it holds a key in, oldest first.
pub fn accept_all(
    conversation: &Value,
    my_id: &str,
    my_dh: &PrivateKey,
) -> Result<Vec<EpochKey>, Rejected> {
    let conversation = parse(conversation)?;
    let me: UserId = my_id.parse().map_err(|_| rejected("my id"))?;
    let chain = checked(&conversation)?;
    let id = conversation.id.to_string();
    let mut keys = Vec::new();
    for epoch in &chain {
        let Some(wrapped) = epoch.key_for(me) else {
            continue;
        };
        let ck = native::unwrap_content_key(wrapped, &id, epoch.epoch, my_id, my_dh)
            .map_err(|e| rejected(format!("my key of epoch {}: {e}", epoch.epoch)))?;
        epoch
            .confirm(KEY_LEN, &native::commit(&ck, &id, epoch.epoch))
            .map_err(|e| rejected(e.to_string()))?;
        keys.push(EpochKey {
            epoch: epoch.epoch,
            ck,
            head: epoch.head,
        });
    }
    if keys.is_empty() {
        return Err(rejected("it holds no key for me"));
    }
    Ok(keys)
}

/// [`accept_all`], keeping the key of the newest epoch it holds one in.
pub fn accept(conversation: &Value, my_id: &str, my_dh: &PrivateKey) -> Result<EpochKey, Rejected> {
    let mut keys = accept_all(conversation, my_id, my_dh)?;
    Ok(keys.pop().expect("accept_all never answers none"))
}

/// A `/api/messages/send` body: `text` as a `hush-v1` text message sealed
/// under `key` (in its epoch) and signed by the sender.
pub fn seal(
    conversation_id: &str,
    key: &EpochKey,
    sender_id: &str,
    sender_sig: &PrivateKey,
    message_id: &str,
    text: &str,
    sent_at: &str,
) -> Value {
    let plaintext = Plain::text(text, sent_at).to_sealed();
    let nonce = random::<NONCE_LEN>();
    let aad = suite::message_aad(conversation_id, key.epoch, &key.head, message_id, sender_id);
    let ciphertext = native::seal_message(&key.ck, &aad, &nonce, &plaintext)
        .expect("a 32-byte key and a 12-byte nonce always seal");
    let signature = native::sign(
        sender_sig,
        &suite::message_signed_bytes(&aad, &nonce, &ciphertext),
    );
    json!({
        "conversation_id": conversation_id,
        "message_id": message_id,
        "epoch": key.epoch,
        "nonce": b64(&nonce),
        "ciphertext": b64(&ciphertext),
        "signature": b64(&signature),
    })
}

/// What a member's client does with a stored or pushed message (wire
/// form): verify the signature under the sender's key from the signed
/// member set, then decrypt. Returns the text.
pub fn open(message: &Value, key: &EpochKey, sender_sig_public: &[u8]) -> Result<String, Rejected> {
    let (chat, id, sender) = (
        text(message, "conversation_id")?,
        text(message, "id")?,
        text(message, "sender_id")?,
    );
    let epoch = message["epoch"]
        .as_u64()
        .and_then(|e| u32::try_from(e).ok())
        .ok_or_else(|| rejected("`epoch` is not a number"))?;
    if epoch != key.epoch {
        return Err(rejected(format!(
            "epoch {epoch}, not the key's {}",
            key.epoch
        )));
    }
    let (nonce, ciphertext) = (bytes(message, "nonce")?, bytes(message, "ciphertext")?);
    let aad = suite::message_aad(chat, epoch, &key.head, id, sender);
    native::verify(
        sender_sig_public,
        &suite::message_signed_bytes(&aad, &nonce, &ciphertext),
        &bytes(message, "signature")?,
    )
    .map_err(|e| rejected(format!("signature: {e}")))?;
    let plaintext = native::open_message(&key.ck, &aad, &nonce, &ciphertext)
        .map_err(|e| rejected(format!("ciphertext: {e}")))?;
    match Plain::from_sealed(&plaintext).map(|p| p.content) {
        Some(Content::Text { body }) => Ok(body),
        _ => Err(rejected("not a v1 text message")),
    }
}
