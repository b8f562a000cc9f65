//! The browser's implementation of `hush-v1`, on WebCrypto (`SubtleCrypto`).
//! Same steps and bytes as the native twin, proven by the same vectors
//! (see `self_test`, in debug builds). Private keys stay `CryptoKey`s, non-extractable
//! wherever the suite allows.

pub mod primitives;
// The self test is for the browser tests, which run the debug build; a
// release build (what users load) does not carry it.
#[cfg(debug_assertions)]
pub mod self_test;

use js_sys::JsString;
use web_sys::CryptoKey;

use self::primitives as p;
use super::CryptoError;
use super::suite::{self, KeyKind};
use crate::model::suite::{KEY_LEN, NONCE_LEN, PUBLIC_KEY_LEN};

/// What the password gives: the key to send, and the key-encryption key.
pub struct PasswordKeys {
    /// Sent to the server (it stores Argon2id of it).
    pub auth_key: Vec<u8>,
    /// Wraps the identity private keys.
    pub kek: Vec<u8>,
    /// Seals the contact book kept on the server (step 8), held as a
    /// non-extractable key.
    pub cbk: CryptoKey,
}

impl std::fmt::Debug for PasswordKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordKeys(<redacted>)")
    }
}

/// Step 1: `mk` by PBKDF2 over the NFKC password, then `auth_key` and `kek`.
pub async fn master_key(
    username: &str,
    password: &str,
    kdf_salt: &[u8],
    iterations: u32,
) -> Result<Vec<u8>, CryptoError> {
    let salt = p::sha256(&suite::salt_input(username, kdf_salt)).await?;
    let normalized: String = JsString::from(password).normalize("NFKC").into();
    p::pbkdf2_sha256(normalized.as_bytes(), &salt, iterations).await
}

/// Step 1, after `mk`, and step 8's `cbk`.
pub async fn password_keys(mk: &[u8]) -> Result<PasswordKeys, CryptoError> {
    let mut cbk = p::hkdf_sha256(mk, &[], suite::CONTACTS_INFO).await?;
    let held = p::import_aes_gcm(&cbk).await;
    cbk.fill(0);
    Ok(PasswordKeys {
        auth_key: p::hkdf_sha256(mk, &[], suite::AUTH_INFO).await?,
        kek: p::hkdf_sha256(mk, &[], suite::KEK_INFO).await?,
        cbk: held?,
    })
}

/// Step 8: `nonce || AES-256-GCM(cbk, nonce, book, contacts aad)`.
pub async fn seal_book(
    cbk: &CryptoKey,
    user_id: &str,
    version: u64,
    nonce: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let aad = suite::contacts_aad(user_id, version);
    let sealed = p::aes_gcm_encrypt_with(cbk, nonce, plaintext, aad.as_bytes()).await?;
    Ok([nonce, &sealed].concat())
}

/// Step 8, the other way.
pub async fn open_book(
    cbk: &CryptoKey,
    user_id: &str,
    version: u64,
    sealed: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() <= NONCE_LEN {
        return Err(CryptoError::Decrypt);
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let aad = suite::contacts_aad(user_id, version);
    p::aes_gcm_decrypt_with(cbk, nonce, ciphertext, aad.as_bytes()).await
}

/// Step 2: `nonce || AES-256-GCM(kek, nonce, pkcs8, identity aad)`.
pub async fn wrap_identity(
    kek: &[u8],
    username: &str,
    kind: KeyKind,
    pkcs8: &[u8],
    nonce: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let aad = suite::identity_aad(username, kind);
    let sealed = p::aes_gcm_encrypt(kek, nonce, pkcs8, aad.as_bytes()).await?;
    Ok([nonce, &sealed].concat())
}

/// Step 2, the other way: the PKCS#8 bytes of a wrapped identity key.
pub async fn unwrap_identity(
    kek: &[u8],
    username: &str,
    kind: KeyKind,
    wrapped: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if wrapped.len() <= NONCE_LEN {
        return Err(CryptoError::Decrypt);
    }
    let (nonce, sealed) = wrapped.split_at(NONCE_LEN);
    let aad = suite::identity_aad(username, kind);
    p::aes_gcm_decrypt(kek, nonce, sealed, aad.as_bytes()).await
}

/// Step 3: one member's wrapped content key, with the ephemeral pair
/// (`ephemeral` private, `ephemeral_public` raw).
#[allow(clippy::too_many_arguments)]
pub async fn wrap_content_key(
    ck: &[u8],
    conversation_id: &str,
    epoch: u32,
    member_id: &str,
    member_dh_public: &[u8],
    ephemeral: &CryptoKey,
    ephemeral_public: &[u8],
    nonce: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let info = suite::wrap_info(conversation_id, epoch, member_id);
    let z = p::ecdh(ephemeral, member_dh_public).await?;
    let wk = p::hkdf_sha256(
        &z,
        &suite::wrap_salt(ephemeral_public, member_dh_public),
        &info,
    )
    .await?;
    let sealed = p::aes_gcm_encrypt(&wk, nonce, ck, info.as_bytes()).await?;
    Ok([ephemeral_public, nonce, &sealed].concat())
}

/// Step 3, the other way, with the member's `dh` key and raw public key.
pub async fn unwrap_content_key(
    wrapped: &[u8],
    conversation_id: &str,
    epoch: u32,
    member_id: &str,
    member_dh: &CryptoKey,
    member_dh_public: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if wrapped.len() <= PUBLIC_KEY_LEN + NONCE_LEN {
        return Err(CryptoError::Decrypt);
    }
    let (ephemeral_public, rest) = wrapped.split_at(PUBLIC_KEY_LEN);
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    let info = suite::wrap_info(conversation_id, epoch, member_id);
    let z = p::ecdh(member_dh, ephemeral_public).await?;
    let wk = p::hkdf_sha256(
        &z,
        &suite::wrap_salt(ephemeral_public, member_dh_public),
        &info,
    )
    .await?;
    let ck = p::aes_gcm_decrypt(&wk, nonce, sealed, info.as_bytes()).await?;
    if ck.len() != KEY_LEN {
        return Err(CryptoError::Invalid {
            what: "content key length",
        });
    }
    Ok(ck)
}

/// Step 3: the commitment to a content key.
pub async fn commit(ck: &[u8], conversation_id: &str, epoch: u32) -> Result<Vec<u8>, CryptoError> {
    p::hmac_sha256(ck, suite::commit_label(conversation_id, epoch).as_bytes()).await
}

/// Step 4: a message's ciphertext, under the epoch's held content key.
pub async fn seal_message(
    ck: &CryptoKey,
    aad: &str,
    nonce: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    p::aes_gcm_encrypt_with(ck, nonce, plaintext, aad.as_bytes()).await
}

/// Step 4, the other way.
pub async fn open_message(
    ck: &CryptoKey,
    aad: &str,
    nonce: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    p::aes_gcm_decrypt_with(ck, nonce, ciphertext, aad.as_bytes()).await
}
