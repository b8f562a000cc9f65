//! Checking request fields: byte fields of the right length (their
//! base64url was checked as they decoded), P-256 points. Each refusal names
//! the field, so a client learns exactly what to fix (400
//! `invalid_encoding`).
//!
//! A public key is checked with `p256`'s point decoding alone: the server
//! links no code that could open a message or unwrap a key.

use p256::PublicKey;

use crate::model::error::ApiError;
use crate::model::suite::{PUBLIC_KEY_LEN, is_uncompressed_point};

/// Checks a byte field holds exactly `len` bytes.
pub fn exact(name: &str, bytes: &[u8], len: usize) -> Result<(), ApiError> {
    if bytes.len() == len {
        return Ok(());
    }
    Err(ApiError::encoding(
        name,
        &format!("{len} bytes of base64url without padding"),
    ))
}

/// Checks a byte field holds from 1 to `max` bytes.
pub fn at_most(name: &str, bytes: &[u8], max: usize) -> Result<(), ApiError> {
    if !bytes.is_empty() && bytes.len() <= max {
        return Ok(());
    }
    Err(ApiError::encoding(
        name,
        &format!("at most {max} bytes of base64url without padding"),
    ))
}

/// Checks a raw P-256 public key: 65 bytes, uncompressed, on the curve.
pub fn public_key(name: &str, bytes: &[u8]) -> Result<(), ApiError> {
    exact(name, bytes, PUBLIC_KEY_LEN)?;
    if is_p256_point(bytes) {
        Ok(())
    } else {
        Err(ApiError::encoding(
            name,
            "an uncompressed P-256 point (65 bytes, 0x04 first)",
        ))
    }
}

/// Whether `bytes` is a public key the suite accepts: 65 bytes, `0x04`
/// first (uncompressed), and a point on P-256.
fn is_p256_point(bytes: &[u8]) -> bool {
    is_uncompressed_point(bytes) && PublicKey::from_sec1_bytes(bytes).is_ok()
}

/// The current time as RFC 3339 UTC with millisecond precision
/// (`2026-11-26T01:02:03.456Z`): fixed width, so text order is time order.
pub fn now_rfc3339() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::encoding::unb64;

    #[test]
    fn now_is_rfc3339_utc_with_milliseconds() {
        let now = now_rfc3339();
        assert_eq!(now.len(), "2026-11-26T01:02:03.456Z".len(), "{now}");
        let shape: String = now
            .chars()
            .map(|c| if c.is_ascii_digit() { '0' } else { c })
            .collect();
        assert_eq!(shape, "0000-00-00T00:00:00.000Z");
        assert!(now.starts_with("20"), "{now}");
    }

    /// The generator of P-256, uncompressed: a point on the curve.
    const G: &str =
        "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU";

    fn point(text: &str) -> Vec<u8> {
        unb64(text).unwrap()
    }

    #[test]
    fn a_point_on_the_curve_passes() {
        assert_eq!(point(G).len(), PUBLIC_KEY_LEN);
        assert!(is_p256_point(&point(G)));
        assert_eq!(public_key("dh_public", &point(G)), Ok(()));
    }

    #[test]
    fn only_65_uncompressed_bytes_on_the_curve_pass() {
        let g = point(G);
        // The same point compressed (0x02 or 0x03 and x): a valid SEC1 form.
        let mut compressed = g[..33].to_vec();
        compressed[0] = 0x02 | (g[64] & 1);
        assert!(PublicKey::from_sec1_bytes(&compressed).is_ok());
        assert!(!is_p256_point(&compressed));
        // The right length, the wrong prefix.
        let mut hybrid = g.clone();
        hybrid[0] = 0x06 | (g[64] & 1);
        assert!(!is_p256_point(&hybrid));
        // Uncompressed, but off the curve.
        let mut off = g.clone();
        off[64] ^= 1;
        assert!(!is_p256_point(&off));
        // Too short, too long, empty, SEC1's point at infinity, and (0, 0).
        assert!(!is_p256_point(&g[..64]));
        assert!(!is_p256_point(&[g.as_slice(), &[0]].concat()));
        assert!(!is_p256_point(&[]));
        assert!(!is_p256_point(&[0]));
        let mut zeros = vec![0u8; PUBLIC_KEY_LEN];
        zeros[0] = 0x04;
        assert!(!is_p256_point(&zeros));
    }

    #[test]
    fn a_refused_key_names_its_field() {
        let mut off = point(G);
        off[64] ^= 1;
        let e = public_key("sig_public", &off).unwrap_err();
        assert!(e.message.starts_with("sig_public:"), "{}", e.message);
        assert!(public_key("dh_public", &off[..64]).is_err());
    }

    #[test]
    fn lengths_are_exact() {
        assert_eq!(exact("n", &[0, 0, 0], 3), Ok(()));
        let e = exact("n", &[0, 0, 0], 4).unwrap_err();
        assert!(e.message.starts_with("n:"), "{}", e.message);
        assert!(exact("n", &[0; 5], 4).is_err());
        assert!(at_most("n", &[], 4).is_err());
        assert_eq!(at_most("n", &[1; 4], 4), Ok(()));
        let e = at_most("n", &[1; 5], 4).unwrap_err();
        assert!(
            e.message.starts_with("n: expected at most 4 bytes"),
            "{}",
            e.message
        );
    }
}
