//! Crypto suite `hush-v1` (DESIGN.md, "Crypto suite"): how passwords become
//! keys, how identity keys and conversation keys are wrapped and signed, and
//! how messages are sealed.
//!
//! Two implementations share one shape: the browser's, on WebCrypto
//! (feature `hydrate`), and a native twin on RustCrypto (feature `twin`) for
//! the integration tests, the benchmark and our tools. Every label and every
//! byte string they feed to a primitive is built once, in [`suite`], and
//! every size in `model::suite`, so they cannot disagree; the committed
//! vectors in `tests/vectors/hush-v1.json`, made by an independent Python
//! implementation, check both.
//!
//! The server (feature `ssr`) uses only [`key_tree`] here, to hash the
//! wrapped keys it relays into each member's path: it never holds a key,
//! and its build does not link the twin or the crates that could open a
//! message or unwrap a key (`scripts/check-blind` proves it).

pub mod suite;

#[cfg(any(feature = "hydrate", feature = "ssr", feature = "twin"))]
pub mod key_tree;

#[cfg(any(feature = "hydrate", feature = "twin"))]
pub mod keyset;
#[cfg(any(feature = "hydrate", feature = "twin"))]
pub mod pins;
#[cfg(any(feature = "hydrate", feature = "twin"))]
pub mod safety;

#[cfg(feature = "twin")]
pub mod native;
#[cfg(feature = "twin")]
pub mod native_client;

#[cfg(feature = "hydrate")]
pub mod web;

/// Why a crypto operation failed. Deliberately coarse: a caller learns that
/// a tag, a signature or a key was wrong, never which bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// AES-GCM refused: wrong key, wrong associated data, or altered bytes.
    #[error("decryption failed: wrong key, wrong associated data or altered ciphertext")]
    Decrypt,
    /// The signature does not verify under the given key and message.
    #[error("the signature does not verify")]
    BadSignature,
    /// A key or value has the wrong length or form.
    #[error("invalid {what}")]
    Invalid { what: &'static str },
}
