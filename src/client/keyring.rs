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
use std::collections::HashMap;

use web_sys::CryptoKey;

use super::keystore::LocalIdentity;
use crate::crypto::CryptoError;
use crate::crypto::keyset::{self, Checked, Refusal};
use crate::crypto::pins::Unpinned;
use crate::crypto::suite::{self, GENESIS_PREV};
use crate::crypto::web::{self, primitives as p};
use crate::model::account::PublicUser;
use crate::model::blob::Blob;
use crate::model::conversation::{Conversation, Departure, Epoch, Message, Outgoing, WrappedKey};
use crate::model::ids::{ConversationId, MessageId, UserId};
use crate::model::plain::{Content, Plain};
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

/// One epoch's held key, head and signed member set.
struct EpochKey {
    ck: CryptoKey,
    /// `head_n`: the epoch's messages name it in their associated data.
    head: [u8; 32],
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

/// Why a conversation's keys were not accepted (shown to the user).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    /// A rule of the key-set chain (`crypto::keyset`), with its reason.
    #[error("{0}")]
    Chain(#[from] Refusal),
    /// The contact book does not admit it (`crypto::pins`).
    #[error("{0}")]
    Pins(#[from] Unpinned),
    #[error("it holds no key for you")]
    NoKey,
    #[error("your key could not be unwrapped")]
    Crypto,
}

fn crypto(_: CryptoError) -> Rejected {
    Rejected::Crypto
}

/// Checks the whole key-set chain of `conversation` with the one verifier
/// (`crypto::keyset`) and every signature, has `admit` check it against the
/// pins (`crypto::pins`), then checks every key this browser holds, and
/// holds those keys. Names and keys come from the signed sets only.
pub async fn accept(
    conversation: &Conversation,
    me: &LocalIdentity,
    admit: impl FnOnce(&[Checked]) -> Result<(), Unpinned>,
) -> Result<Keyring, Rejected> {
    let my_id: UserId = me.user_id.parse().map_err(|_| Rejected::NoKey)?;
    let id_text = conversation.id.to_string();
    let chain = keyset::check_chain(conversation)?;
    for checked in &chain {
        for proof in checked.proofs() {
            p::verify(proof.key, proof.signature, proof.message)
                .await
                .map_err(|_| proof.refusal)?;
        }
    }
    admit(&chain)?;
    let mut epochs = HashMap::new();
    for checked in &chain {
        let Some(wrapped) = checked.key_for(my_id) else {
            continue;
        };
        let ck = web::unwrap_content_key(
            wrapped,
            &id_text,
            checked.epoch,
            &me.user_id,
            &me.dh_private,
            &me.dh_public,
        )
        .await
        .map_err(crypto)?;
        let commit = web::commit(&ck, &id_text, checked.epoch)
            .await
            .map_err(crypto)?;
        checked.confirm(ck.len(), &commit)?;
        let held = p::import_aes_gcm(&ck).await.map_err(crypto)?;
        let members = checked
            .members
            .iter()
            .map(|m| {
                let signed = SignedMember {
                    username: m.username.clone(),
                    sig_public: m.sig_public.to_vec(),
                    verify_key: RefCell::new(None),
                };
                (m.id, signed)
            })
            .collect();
        epochs.insert(
            checked.epoch,
            EpochKey {
                ck: held,
                head: checked.head,
                members,
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
/// every member (the creator included), its commitment, and the creator's
/// signature over the statement.
pub struct NewKeySet {
    pub commit: Blob,
    pub keys: Vec<WrappedKey>,
    pub keys_signature: Blob,
}

/// Step 3 for a new conversation at epoch 0.
pub async fn new_key_set(
    id: ConversationId,
    me: &LocalIdentity,
    members: &[PublicUser],
) -> Result<NewKeySet, CryptoError> {
    key_set(id, 0, &GENESIS_PREV, me, members, Vec::new()).await
}

/// Steps 3, 6 and 7 for epoch `n` after the epoch whose head is `prev`: a
/// fresh content key wrapped for every member, its commitment, and my
/// signature over the statement, which names the `departures` it carries.
pub async fn key_set(
    id: ConversationId,
    n: u32,
    prev: &[u8],
    me: &LocalIdentity,
    members: &[PublicUser],
    departures: Vec<Departure>,
) -> Result<NewKeySet, CryptoError> {
    let id_text = id.to_string();
    let mut ck = p::random::<KEY_LEN>()?.to_vec();
    let mut keys = Vec::with_capacity(members.len());
    for member in members {
        let (ephemeral_pkcs8, ephemeral_public) = p::generate_pair(false).await?;
        let ephemeral = p::import_pkcs8(&ephemeral_pkcs8, false, false).await?;
        let wrapped = web::wrap_content_key(
            &ck,
            &id_text,
            n,
            &member.id.to_string(),
            &member.dh_public,
            &ephemeral,
            &ephemeral_public,
            &p::random::<NONCE_LEN>()?,
        )
        .await?;
        keys.push(WrappedKey {
            member_id: member.id,
            wrapped_key: wrapped.into(),
            path: Blob::default(),
        });
    }
    let commit = web::commit(&ck, &id_text, n).await;
    ck.fill(0);
    let mut epoch = Epoch {
        epoch: n,
        signer_id: me
            .user_id
            .parse()
            .map_err(|_| CryptoError::Invalid { what: "own id" })?,
        commit: commit?.into(),
        members: members.to_vec(),
        keys,
        keys_signature: Blob::default(),
        departures,
        key_root: Blob::default(),
    };
    let statement = keyset::statement(&id_text, &epoch, prev)
        .ok_or(CryptoError::Invalid { what: "key set" })?;
    epoch.keys_signature = p::sign(&me.sig_private, &statement).await?.into();
    Ok(NewKeySet {
        commit: epoch.commit,
        keys: epoch.keys,
        keys_signature: epoch.keys_signature,
    })
}

impl Keyring {
    /// The newest epoch this browser holds a key in: sends use it.
    pub fn current(&self) -> u32 {
        self.current
    }

    /// The oldest epoch this browser holds a key in: a member added later
    /// reads from there on.
    pub fn first(&self) -> u32 {
        self.epochs.keys().copied().min().unwrap_or(self.current)
    }

    /// Seals again, in the current epoch and with the same id, one of my
    /// messages sealed under an earlier epoch and refused for it (it was
    /// never stored). `None` if it cannot be opened here or is already in
    /// the current epoch.
    pub async fn reseal(&self, me: &LocalIdentity, sealed: &Outgoing) -> Option<Outgoing> {
        if sealed.epoch >= self.current {
            return None;
        }
        let plain = self.open_own(me, sealed).await.ok()?;
        // A departure belongs to the epoch it leaves.
        if matches!(plain.content, Content::Leave { .. }) {
            return None;
        }
        self.seal(me, sealed.message_id, &plain).await.ok()
    }

    /// Opens one of my own sealed messages not yet stored (a parcel of the
    /// outbox), checked as [`Keyring::open`] checks any message.
    pub async fn open_own(&self, me: &LocalIdentity, sealed: &Outgoing) -> Result<Plain, ()> {
        let mine = Message {
            id: sealed.message_id,
            conversation_id: sealed.conversation_id,
            seq: 0,
            sender_id: me.user_id.parse().map_err(|_| ())?,
            sender: me.username.clone(),
            epoch: sealed.epoch,
            nonce: sealed.nonce.clone(),
            ciphertext: sealed.ciphertext.clone(),
            signature: sealed.signature.clone(),
            created_at: String::new(),
        };
        match self.open(&mine).await {
            Ok((_, Some(plain))) => Ok(plain),
            _ => Err(()),
        }
    }

    /// The ids of the current epoch's members.
    pub fn member_ids(&self) -> impl Iterator<Item = &UserId> {
        self.epochs[&self.current].members.keys()
    }

    /// The name of a member of the current epoch, as its signed set gives it.
    pub fn member_name(&self, id: UserId) -> Option<String> {
        self.epochs[&self.current]
            .members
            .get(&id)
            .map(|m| m.username.clone())
    }

    /// The members of the current epoch, as its signed set names them.
    pub fn members(&self) -> Vec<(UserId, String)> {
        let mut members: Vec<(UserId, String)> = self.epochs[&self.current]
            .members
            .iter()
            .map(|(id, m)| (*id, m.username.clone()))
            .collect();
        members.sort();
        members
    }

    /// Seals and signs `plain` as a new message from `me` in the current
    /// epoch.
    pub async fn seal(
        &self,
        me: &LocalIdentity,
        message_id: MessageId,
        plain: &Plain,
    ) -> Result<Outgoing, CryptoError> {
        let epoch = &self.epochs[&self.current];
        let plaintext = plain.to_sealed();
        let aad = suite::message_aad(
            &self.id.to_string(),
            self.current,
            &epoch.head,
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
    /// A genuine message whose plaintext is not one this app reads (not
    /// padded, another version or kind) comes with `None`: it could not be
    /// read, but it is the sender's.
    pub async fn open(&self, message: &Message) -> Result<(String, Option<Plain>), Option<String>> {
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
            &epoch.head,
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
        let Some(plain) = Plain::from_sealed(&plaintext) else {
            return Ok((sender.username.clone(), None));
        };
        if let Content::Leave { signature } = &plain.content {
            // Genuine only if it is the sender's own departure from the
            // message's epoch (suite step 7), as the next epoch will carry.
            let departure = suite::departure(
                &self.id.to_string(),
                message.epoch,
                &epoch.head,
                &message.sender_id.to_string(),
            );
            if sender.verify(signature, &departure).await.is_err() {
                return Err(name());
            }
        }
        Ok((sender.username.clone(), Some(plain)))
    }
}
