//! The native twin of the browser's WebCrypto code (RustCrypto: aes-gcm,
//! p256, hkdf, pbkdf2, sha2, hmac), for the server's tests and our tools.
//! Same steps, same bytes; it must never be compiled into the browser build.
//!
//! Key material lives in types with a redacted `Debug`, no `Serialize`, and
//! zeroized on drop.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use p256::{PublicKey, SecretKey};
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use super::CryptoError;
use super::suite::{self, KeyKind};
use crate::model::suite::{
    KEY_LEN, NONCE_LEN, PUBLIC_KEY_LEN, SIGNATURE_LEN, is_uncompressed_point,
};

/// A 32-byte symmetric key: `mk`, `auth_key`, `kek`, a wrapping key or a
/// content key.
#[derive(Clone)]
pub struct Key32(Zeroizing<[u8; KEY_LEN]>);

impl Key32 {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let array: [u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|_| CryptoError::Invalid { what: "key length" })?;
        Ok(Key32(Zeroizing::new(array)))
    }

    /// The raw bytes, for the one place that must send or store them
    /// (`auth_key` to the server, a test comparing vectors).
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for Key32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key32(<redacted>)")
    }
}

/// A P-256 private key (either kind).
#[derive(Clone)]
pub struct PrivateKey(SecretKey);

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey(<redacted>)")
    }
}

impl PrivateKey {
    /// Parses PKCS#8 DER (as WebCrypto exports it); an embedded public key
    /// must match the private scalar.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, CryptoError> {
        SecretKey::from_pkcs8_der(der)
            .map(PrivateKey)
            .map_err(|_| CryptoError::Invalid {
                what: "PKCS#8 private key",
            })
    }

    /// From the 32-byte scalar (test vectors, ephemeral keys).
    pub fn from_scalar(bytes: &[u8]) -> Result<Self, CryptoError> {
        SecretKey::from_slice(bytes)
            .map(PrivateKey)
            .map_err(|_| CryptoError::Invalid {
                what: "private scalar",
            })
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        PrivateKey(SecretKey::random(
            &mut p256::elliptic_curve::rand_core::OsRng,
        ))
    }

    /// PKCS#8 DER with the public key embedded, for wrapping.
    pub fn to_pkcs8(&self) -> Zeroizing<Vec<u8>> {
        let document = self
            .0
            .to_pkcs8_der()
            .expect("a valid P-256 key always encodes");
        Zeroizing::new(document.as_bytes().to_vec())
    }

    /// The raw 65-byte uncompressed public key.
    pub fn public(&self) -> [u8; PUBLIC_KEY_LEN] {
        let point = self.0.public_key().to_encoded_point(false);
        point
            .as_bytes()
            .try_into()
            .expect("an uncompressed P-256 point is 65 bytes")
    }
}

/// Parses a raw public key, refusing anything but the 65-byte uncompressed form.
fn public_key(bytes: &[u8]) -> Result<PublicKey, CryptoError> {
    if !is_uncompressed_point(bytes) {
        return Err(CryptoError::Invalid { what: "public key" });
    }
    PublicKey::from_sec1_bytes(bytes).map_err(|_| CryptoError::Invalid { what: "public key" })
}

fn hkdf(ikm: &[u8], salt: Option<&[u8]>, info: &str) -> Key32 {
    let mut okm = Zeroizing::new([0u8; KEY_LEN]);
    Hkdf::<Sha256>::new(salt, ikm)
        .expand(info.as_bytes(), okm.as_mut())
        .expect("32 bytes is a valid HKDF-SHA256 length");
    Key32(okm)
}

fn nonce(bytes: &[u8]) -> Result<Nonce<aes_gcm::aead::consts::U12>, CryptoError> {
    let array: [u8; NONCE_LEN] = bytes.try_into().map_err(|_| CryptoError::Invalid {
        what: "nonce length",
    })?;
    Ok(Nonce::from(array))
}

/// AES-256-GCM encryption; the output ends with the 16-byte tag.
pub fn aead_seal(
    key: &Key32,
    nonce_bytes: &[u8],
    plaintext: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let cipher = Aes256Gcm::new_from_slice(key.expose()).expect("32-byte key");
    cipher
        .encrypt(
            &nonce(nonce_bytes)?,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| CryptoError::Invalid {
            what: "plaintext length",
        })
}

/// AES-256-GCM decryption; any mismatch is [`CryptoError::Decrypt`].
pub fn aead_open(
    key: &Key32,
    nonce_bytes: &[u8],
    ciphertext: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let cipher = Aes256Gcm::new_from_slice(key.expose()).expect("32-byte key");
    cipher
        .decrypt(
            &nonce(nonce_bytes)?,
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Decrypt)
}

/// `nonce || AES-256-GCM(key, nonce, plaintext, aad)`: how identity keys
/// and the contact book are sealed.
fn seal_prefixed(
    key: &Key32,
    nonce: &[u8],
    plaintext: &[u8],
    aad: &str,
) -> Result<Vec<u8>, CryptoError> {
    let sealed = aead_seal(key, nonce, plaintext, aad.as_bytes())?;
    Ok([nonce, &sealed].concat())
}

/// The other way of [`seal_prefixed`].
fn open_prefixed(key: &Key32, sealed: &[u8], aad: &str) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if sealed.len() <= NONCE_LEN {
        return Err(CryptoError::Decrypt);
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    aead_open(key, nonce, ciphertext, aad.as_bytes())
}

// ---- Step 1: password → keys ---------------------------------------------

/// `mk = PBKDF2-HMAC-SHA256(NFKC(password), SHA-256(salt_input), iterations, 32)`.
pub fn master_key(username: &str, password: &str, kdf_salt: &[u8], iterations: u32) -> Key32 {
    let salt = Sha256::digest(suite::salt_input(username, kdf_salt));
    let password = Zeroizing::new(password.nfkc().collect::<String>());
    let mut mk = Zeroizing::new([0u8; KEY_LEN]);
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &salt, iterations, mk.as_mut());
    Key32(mk)
}

/// `auth_key = HKDF-SHA256(mk, salt = empty, "hush-v1|auth")`: the only key
/// that leaves the client.
pub fn auth_key(mk: &Key32) -> Key32 {
    hkdf(mk.expose(), None, suite::AUTH_INFO)
}

/// `kek = HKDF-SHA256(mk, salt = empty, "hush-v1|kek")`.
pub fn kek(mk: &Key32) -> Key32 {
    hkdf(mk.expose(), None, suite::KEK_INFO)
}

// ---- Step 2: identity ----------------------------------------------------

/// `nonce || AES-256-GCM(kek, nonce, pkcs8, "hush-v1|identity|{username}|{kind}")`.
pub fn wrap_identity(
    kek: &Key32,
    username: &str,
    kind: KeyKind,
    pkcs8: &[u8],
    nonce: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    seal_prefixed(kek, nonce, pkcs8, &suite::identity_aad(username, kind))
}

/// Unwraps an identity private key and checks it matches `public`.
pub fn unwrap_identity(
    kek: &Key32,
    username: &str,
    kind: KeyKind,
    wrapped: &[u8],
    public: &[u8],
) -> Result<PrivateKey, CryptoError> {
    let pkcs8 = open_prefixed(kek, wrapped, &suite::identity_aad(username, kind))?;
    let key = PrivateKey::from_pkcs8(&pkcs8)?;
    if key.public().as_slice() != public {
        return Err(CryptoError::Invalid {
            what: "identity key (does not match its public key)",
        });
    }
    Ok(key)
}

// ---- Step 3: conversation keys --------------------------------------------

/// The wrapping key for one member: HKDF over the ECDH secret.
fn wrapping_key(z: &[u8], ephemeral_public: &[u8], member_dh_public: &[u8], info: &str) -> Key32 {
    hkdf(
        z,
        Some(&suite::wrap_salt(ephemeral_public, member_dh_public)),
        info,
    )
}

fn ecdh(private: &PrivateKey, public: &PublicKey) -> Zeroizing<[u8; KEY_LEN]> {
    let shared = p256::ecdh::diffie_hellman(private.0.to_nonzero_scalar(), public.as_affine());
    let mut z = Zeroizing::new([0u8; KEY_LEN]);
    z.copy_from_slice(shared.raw_secret_bytes());
    z
}

/// `E.public || nonce || AES-256-GCM(wk, nonce, ck, info)` for one member.
pub fn wrap_content_key(
    ck: &Key32,
    conversation_id: &str,
    epoch: u32,
    member_id: &str,
    member_dh_public: &[u8],
    ephemeral: &PrivateKey,
    nonce: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let member = public_key(member_dh_public)?;
    let ephemeral_public = ephemeral.public();
    let info = suite::wrap_info(conversation_id, epoch, member_id);
    let z = ecdh(ephemeral, &member);
    let wk = wrapping_key(z.as_ref(), &ephemeral_public, member_dh_public, &info);
    let sealed = aead_seal(&wk, nonce, ck.expose(), info.as_bytes())?;
    Ok([&ephemeral_public[..], nonce, &sealed].concat())
}

/// Unwraps the content key a member received, with the member's `dh` key.
pub fn unwrap_content_key(
    wrapped: &[u8],
    conversation_id: &str,
    epoch: u32,
    member_id: &str,
    member_dh: &PrivateKey,
) -> Result<Key32, CryptoError> {
    const HEAD: usize = PUBLIC_KEY_LEN + NONCE_LEN;
    if wrapped.len() <= HEAD {
        return Err(CryptoError::Decrypt);
    }
    let (ephemeral_public, rest) = wrapped.split_at(PUBLIC_KEY_LEN);
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    let ephemeral = public_key(ephemeral_public)?;
    let info = suite::wrap_info(conversation_id, epoch, member_id);
    let z = ecdh(member_dh, &ephemeral);
    let wk = wrapping_key(z.as_ref(), ephemeral_public, &member_dh.public(), &info);
    let ck = aead_open(&wk, nonce, sealed, info.as_bytes())?;
    Key32::from_bytes(&ck)
}

/// `HMAC-SHA256(key = ck, "hush-v1|commit|{conversation_id}|{epoch}")`.
pub fn commit(ck: &Key32, conversation_id: &str, epoch: u32) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(ck.expose()).expect("any key length");
    mac.update(suite::commit_label(conversation_id, epoch).as_bytes());
    mac.finalize().into_bytes().into()
}

// ---- Signatures (steps 3 and 4) -------------------------------------------

/// ECDSA P-256 / SHA-256, `r || s`.
pub fn sign(key: &PrivateKey, message: &[u8]) -> [u8; SIGNATURE_LEN] {
    let signature: Signature = SigningKey::from(&key.0).sign(message);
    signature.to_bytes().into()
}

/// Verifies an `r || s` signature (high-S accepted, as WebCrypto does).
pub fn verify(public: &[u8], message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
    let key = VerifyingKey::from(public_key(public)?);
    let signature = Signature::from_slice(signature).map_err(|_| CryptoError::BadSignature)?;
    key.verify(message, &signature)
        .map_err(|_| CryptoError::BadSignature)
}

// ---- Step 4: messages ----------------------------------------------------

/// A sealed message's ciphertext under the epoch's content key; `aad` is
/// `suite::message_aad`.
pub fn seal_message(
    ck: &Key32,
    aad: &str,
    nonce: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    aead_seal(ck, nonce, plaintext, aad.as_bytes())
}

/// Decrypts a message's ciphertext.
pub fn open_message(
    ck: &Key32,
    aad: &str,
    nonce: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    aead_open(ck, nonce, ciphertext, aad.as_bytes())
}

// ---- Step 8: the contact book ---------------------------------------------

/// `cbk = HKDF-SHA256(mk, salt = empty, "hush-v1|contacts")`.
pub fn contacts_key(mk: &Key32) -> Key32 {
    hkdf(mk.expose(), None, suite::CONTACTS_INFO)
}

/// `nonce || AES-256-GCM(cbk, nonce, book, "hush-v1|contacts|{user_id}|{version}")`.
pub fn seal_book(
    cbk: &Key32,
    user_id: &str,
    version: u64,
    nonce: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    seal_prefixed(
        cbk,
        nonce,
        plaintext,
        &suite::contacts_aad(user_id, version),
    )
}

/// The other way of [`seal_book`].
pub fn open_book(
    cbk: &Key32,
    user_id: &str,
    version: u64,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    open_prefixed(cbk, sealed, &suite::contacts_aad(user_id, version))
}
