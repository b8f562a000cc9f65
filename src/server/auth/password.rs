//! The stored proof of a password: Argon2id over the browser's `auth_key`
//! (m = 19456 KiB, t = 2, p = 1, as DESIGN.md fixes it). A login for an
//! unknown name still runs one verification against a dummy hash, so both
//! failures take the same time.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string to store for an `auth_key`.
pub fn hash(auth_key: &[u8]) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system's random source works");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
    argon2()
        .hash_password(auth_key, &salt)
        .expect("hashing with valid parameters succeeds")
        .to_string()
}

/// Whether `auth_key` matches a stored PHC string (constant time inside).
pub fn verify(auth_key: &[u8], stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => argon2().verify_password(auth_key, &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Spends the same work as [`verify`] for a name that has no account.
pub fn verify_nobody(auth_key: &[u8]) {
    static DUMMY: LazyLock<String> = LazyLock::new(|| hash(b"no account has this key"));
    let _ = verify(auth_key, &DUMMY);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_only_the_same_key() {
        let stored = hash(&[7; 32]);
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(verify(&[7; 32], &stored));
        assert!(!verify(&[8; 32], &stored));
        assert!(!verify(&[7; 32], "not a hash"));
        assert_ne!(hash(&[7; 32]), stored, "salted");
    }
}
