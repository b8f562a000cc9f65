//! The sizes and limits of suite `hush-v1` (DESIGN.md, "Crypto suite") that
//! the wire contract states: how many bytes each field holds, the PBKDF2
//! iteration range, the form of a public key. Plain numbers, no crypto: the
//! server checks request fields against them, and the browser's WebCrypto
//! code and the native twin build their bytes with the same ones. The
//! suite's labels and signed byte strings live in `crypto::suite`.

use std::ops::RangeInclusive;

/// Bytes of a P-256 public key in uncompressed form (`0x04 || x || y`).
pub const PUBLIC_KEY_LEN: usize = 65;
/// Bytes of an AES-GCM nonce.
pub const NONCE_LEN: usize = 12;
/// Bytes of an AES-GCM tag: the smallest ciphertext there is.
pub const TAG_LEN: usize = 16;
/// Bytes of every symmetric key in the suite.
pub const KEY_LEN: usize = 32;
/// Bytes of a `kdf_salt`.
pub const KDF_SALT_LEN: usize = 16;
/// Bytes of an ECDSA P-256 signature (`r || s`, never DER).
pub const SIGNATURE_LEN: usize = 64;
/// Bytes of an epoch's commitment to its content key, and of its head.
pub const DIGEST_LEN: usize = 32;
/// Bytes of a wrapped content key: the ephemeral public key, the nonce, and
/// the sealed content key with its tag (`E.public || nonce || AES-GCM(ck)`).
pub const WRAPPED_KEY_LEN: usize = PUBLIC_KEY_LEN + NONCE_LEN + KEY_LEN + TAG_LEN;
/// PBKDF2 iterations the browser accepts from a prelogin answer.
pub const KDF_ITERATIONS: RangeInclusive<u32> = 600_000..=10_000_000;

/// Whether a prelogin answer's key settings are safe to derive from (suite
/// step 1): a `kdf_salt` of exactly [`KDF_SALT_LEN`] bytes and iterations
/// within [`KDF_ITERATIONS`]. A client refuses any other answer before it
/// derives or sends anything, so a hostile server cannot make a password
/// cheap to guess.
pub fn kdf_params_ok(salt_len: usize, iterations: u32) -> bool {
    salt_len == KDF_SALT_LEN && KDF_ITERATIONS.contains(&iterations)
}

/// A raw public key as the suite requires it: 65 bytes, uncompressed. Only
/// the form: whether the point is on the curve is for P-256 code to say.
pub fn is_uncompressed_point(bytes: &[u8]) -> bool {
    bytes.len() == PUBLIC_KEY_LEN && bytes[0] == 0x04
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_key_is_125_bytes() {
        assert_eq!(WRAPPED_KEY_LEN, 125);
    }

    #[test]
    fn only_a_16_byte_salt_and_iterations_in_range_are_safe() {
        assert!(kdf_params_ok(16, 600_000));
        assert!(kdf_params_ok(16, 10_000_000));
        for iterations in [0, 1, 599_999, 10_000_001, u32::MAX] {
            assert!(!kdf_params_ok(16, iterations), "{iterations} iterations");
        }
        for salt_len in [0, 15, 17, 32] {
            assert!(!kdf_params_ok(salt_len, 600_000), "a {salt_len}-byte salt");
        }
    }

    #[test]
    fn only_the_uncompressed_form_passes() {
        let mut point = [0u8; PUBLIC_KEY_LEN];
        point[0] = 0x04;
        assert!(is_uncompressed_point(&point));
        point[0] = 0x02;
        assert!(!is_uncompressed_point(&point));
        assert!(!is_uncompressed_point(&[0x04; 33]));
        assert!(!is_uncompressed_point(&[]));
    }
}
