//! Conversation keys in the browser (suite `hush-v1` steps 3 and 4): making
//! a new conversation's key set, accepting a conversation only after its key
//! set checks out, and sealing and opening messages with the held keys.
//!
//! A content key exists as bytes only between its generation (or unwrap)
//! and its import as a non-extractable `CryptoKey`. A message counts as
//! genuine only if its sender is in the signed member set and the signature
//! verifies under the key signed there; the name shown comes from that set.
//! Plaintext never leaves this module except as a [`Plain`] to display.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use web_sys::CryptoKey;

use super::keystore::LocalIdentity;
use crate::crypto::CryptoError;
use crate::crypto::suite::{self, MemberKeys};
use crate::crypto::web::{self, primitives as p};
use crate::model::account::PublicUser;
use crate::model::blob::Blob;
use crate::model::conversation::{Conversation, Message, Outgoing, WrappedKey};
use crate::model::ids::{ConversationId, MessageId, UserId};
use crate::model::suite::{KEY_LEN, NONCE_LEN};

/// A member as an epoch's signed key set names them.
#[derive(Debug, Clone)]
pub struct SignedMember {
    pub username: String,
    pub sig_public: Vec<u8>,
    /// `sig_public` imported for WebCrypto, once it has checked a message:
    /// a page of 50 messages then imports each sender's key once, not 50
    /// times.
    verify_key: RefCell<Option<CryptoKey>>,
}

impl SignedMember {
    /// Checks `signature` over `data` under this member's signing key.
    async fn verify(&self, signature: &[u8], data: &[u8]) -> Result<(), CryptoError> {
        let held = self.verify_key.borrow().clone();
        let key = match held {
            Some(key) => key,
            None => {
                let key = p::import_public(&self.sig_public, true).await?;
                *self.verify_key.borrow_mut() = Some(key.clone());
                key
            }
        };
        p::verify_with(&key, signature, data).await
    }
}

/// One epoch's held key and signed member set.
struct EpochKey {
    ck: CryptoKey,
    members: HashMap<UserId, SignedMember>,
}

/// Every key this browser holds for one conversation.
pub struct Keyring {
    pub id: ConversationId,
    epochs: HashMap<u32, EpochKey>,
    current: u32,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyring({}, <keys>)", self.id)
    }
}

/// The plaintext of a message (DESIGN.md step 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plain {
    pub v: u32,
    pub kind: String,
    pub body: String,
    pub sent_at: String,
}

/// Why a conversation's keys were not accepted (shown to the user).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("its key set is not signed by its creator")]
    Signer,
    #[error("its key set does not name exactly its members")]
    Members,
    #[error("it holds no key for you")]
    NoKey,
    #[error("its key could not be unwrapped or its signature does not verify")]
    Crypto,
}

fn crypto(_: CryptoError) -> Rejected {
    Rejected::Crypto
}

/// Checks every epoch of `conversation` and holds its keys.
pub async fn accept(conversation: &Conversation, me: &LocalIdentity) -> Result<Keyring, Rejected> {
    let my_id: UserId = me.user_id.parse().map_err(|_| Rejected::NoKey)?;
    let id_text = conversation.id.to_string();
    let members: HashMap<UserId, &PublicUser> =
        conversation.members.iter().map(|m| (m.id, m)).collect();
    let mut epochs = HashMap::new();
    for epoch in &conversation.epochs {
        if epoch.epoch == 0 && epoch.signer_id != conversation.created_by {
            return Err(Rejected::Signer);
        }
        let signer = members.get(&epoch.signer_id).ok_or(Rejected::Signer)?;
        let named: BTreeSet<UserId> = epoch.keys.iter().map(|k| k.member_id).collect();
        if named.len() != epoch.keys.len() || named != members.keys().copied().collect() {
            return Err(Rejected::Members);
        }
        let mine = epoch
            .keys
            .iter()
            .find(|k| k.member_id == my_id)
            .ok_or(Rejected::NoKey)?;
        let ck = web::unwrap_content_key(
            &mine.wrapped_key,
            &id_text,
            epoch.epoch,
            &me.user_id,
            &me.dh_private,
            &me.dh_public,
        )
        .await
        .map_err(crypto)?;
        let commit = web::commit(&ck, &id_text, epoch.epoch)
            .await
            .map_err(crypto)?;
        let mut lines = Vec::with_capacity(epoch.keys.len());
        let mut signed_members = HashMap::with_capacity(epoch.keys.len());
        for key in &epoch.keys {
            let member = members[&key.member_id];
            let line = MemberKeys {
                member_id: key.member_id.to_string(),
                dh_public: member.dh_public.to_vec(),
                sig_public: member.sig_public.to_vec(),
                wrapped_key_sha256: p::sha256(&key.wrapped_key).await.map_err(crypto)?,
            };
            signed_members.insert(
                key.member_id,
                SignedMember {
                    username: member.username.clone(),
                    sig_public: line.sig_public.clone(),
                    verify_key: RefCell::new(None),
                },
            );
            lines.push(line);
        }
        let signed = suite::keys_signed_message(
            &id_text,
            epoch.epoch,
            &epoch.signer_id.to_string(),
            &commit,
            &lines,
        );
        p::verify(&signer.sig_public, &epoch.keys_signature, &signed)
            .await
            .map_err(crypto)?;
        let held = p::import_aes_gcm(&ck).await.map_err(crypto)?;
        epochs.insert(
            epoch.epoch,
            EpochKey {
                ck: held,
                members: signed_members,
            },
        );
    }
    let current = epochs.keys().copied().max().ok_or(Rejected::NoKey)?;
    Ok(Keyring {
        id: conversation.id,
        epochs,
        current,
    })
}

/// What a new conversation's creator sends: a fresh content key wrapped for
/// every member (the creator included), and the creator's signature.
pub struct NewKeySet {
    pub keys: Vec<WrappedKey>,
    pub keys_signature: Blob,
}

/// Step 3 for a new conversation at epoch 0.
pub async fn new_key_set(
    id: ConversationId,
    me: &LocalIdentity,
    members: &[PublicUser],
) -> Result<NewKeySet, CryptoError> {
    let id_text = id.to_string();
    let mut ck = p::random::<KEY_LEN>()?.to_vec();
    let mut wraps = Vec::with_capacity(members.len());
    for member in members {
        let (ephemeral_pkcs8, ephemeral_public) = p::generate_pair(false).await?;
        let ephemeral = p::import_pkcs8(&ephemeral_pkcs8, false, false).await?;
        let wrapped = web::wrap_content_key(
            &ck,
            &id_text,
            0,
            &member.id.to_string(),
            &member.dh_public,
            &ephemeral,
            &ephemeral_public,
            &p::random::<NONCE_LEN>()?,
        )
        .await?;
        wraps.push((member, wrapped));
    }
    let commit = web::commit(&ck, &id_text, 0).await;
    ck.fill(0);
    let commit = commit?;
    let mut lines = Vec::with_capacity(wraps.len());
    for (member, wrapped) in &wraps {
        lines.push(MemberKeys {
            member_id: member.id.to_string(),
            dh_public: member.dh_public.to_vec(),
            sig_public: member.sig_public.to_vec(),
            wrapped_key_sha256: p::sha256(wrapped).await?,
        });
    }
    let signed = suite::keys_signed_message(&id_text, 0, &me.user_id, &commit, &lines);
    let signature = p::sign(&me.sig_private, &signed).await?;
    Ok(NewKeySet {
        keys: wraps
            .into_iter()
            .map(|(member, wrapped)| WrappedKey {
                member_id: member.id,
                wrapped_key: wrapped.into(),
            })
            .collect(),
        keys_signature: signature.into(),
    })
}

impl Keyring {
    /// Seals and signs `text` as a new message from `me` in the current
    /// epoch; `sent_at` is the client's clock.
    pub async fn seal(
        &self,
        me: &LocalIdentity,
        message_id: MessageId,
        text: &str,
        sent_at: &str,
    ) -> Result<Outgoing, CryptoError> {
        let epoch = &self.epochs[&self.current];
        let plain = Plain {
            v: 1,
            kind: "text".into(),
            body: text.to_owned(),
            sent_at: sent_at.to_owned(),
        };
        let plaintext =
            serde_json::to_vec(&plain).map_err(|_| CryptoError::Invalid { what: "message" })?;
        let aad = suite::message_aad(
            &self.id.to_string(),
            self.current,
            &message_id.to_string(),
            &me.user_id,
        );
        let nonce = p::random::<NONCE_LEN>()?;
        let ciphertext = web::seal_message(&epoch.ck, &aad, &nonce, &plaintext).await?;
        let signature = p::sign(
            &me.sig_private,
            &suite::message_signed_bytes(&aad, &nonce, &ciphertext),
        )
        .await?;
        Ok(Outgoing {
            conversation_id: self.id,
            message_id,
            epoch: self.current,
            nonce: nonce.into(),
            ciphertext: ciphertext.into(),
            signature: signature.into(),
        })
    }

    /// The sender's name from the signed set, and the plaintext, if the
    /// message is genuine; `Err` with the best name known if it is not.
    pub async fn open(&self, message: &Message) -> Result<(String, Plain), Option<String>> {
        let Some(epoch) = self.epochs.get(&message.epoch) else {
            return Err(None);
        };
        let Some(sender) = epoch.members.get(&message.sender_id) else {
            return Err(None);
        };
        let name = || Some(sender.username.clone());
        let (nonce, ciphertext) = (&message.nonce, &message.ciphertext);
        let aad = suite::message_aad(
            &self.id.to_string(),
            message.epoch,
            &message.id.to_string(),
            &message.sender_id.to_string(),
        );
        if message.conversation_id != self.id
            || sender
                .verify(
                    &message.signature,
                    &suite::message_signed_bytes(&aad, nonce, ciphertext),
                )
                .await
                .is_err()
        {
            return Err(name());
        }
        let plaintext = web::open_message(&epoch.ck, &aad, nonce, ciphertext)
            .await
            .map_err(|_| name())?;
        let plain: Plain = serde_json::from_slice(&plaintext).map_err(|_| name())?;
        if plain.v != 1 || plain.kind != "text" {
            return Err(name());
        }
        Ok((sender.username.clone(), plain))
    }
}
