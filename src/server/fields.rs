//! Checking request fields: strict base64url of the right length, P-256
//! points, ids. Each refusal names the field, so a client learns exactly
//! what to fix (400 `invalid_encoding` or `invalid_request`).

use crate::crypto::native;
use crate::model::encoding::unb64;
use crate::model::error::ApiError;
use crate::model::suite::PUBLIC_KEY_LEN;

/// Decodes a base64url field of exactly `len` bytes (any length if `None`,
/// from 1 up to `max`).
pub fn bytes(name: &str, text: &str, len: Option<usize>, max: usize) -> Result<Vec<u8>, ApiError> {
    let expected = match len {
        Some(n) => format!("{n} bytes of base64url without padding"),
        None => format!("at most {max} bytes of base64url without padding"),
    };
    let bytes = unb64(text).ok_or_else(|| ApiError::encoding(name, &expected))?;
    let fits = match len {
        Some(n) => bytes.len() == n,
        None => !bytes.is_empty() && bytes.len() <= max,
    };
    if fits {
        Ok(bytes)
    } else {
        Err(ApiError::encoding(name, &expected))
    }
}

/// Decodes a raw P-256 public key: 65 bytes, uncompressed, on the curve.
pub fn public_key(name: &str, text: &str) -> Result<Vec<u8>, ApiError> {
    let bytes = bytes(name, text, Some(PUBLIC_KEY_LEN), PUBLIC_KEY_LEN)?;
    native::check_public_key(&bytes).map_err(|_| {
        ApiError::encoding(name, "an uncompressed P-256 point (65 bytes, 0x04 first)")
    })?;
    Ok(bytes)
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

    #[test]
    fn lengths_are_exact() {
        assert_eq!(bytes("n", "AAAA", Some(3), 3).unwrap(), vec![0, 0, 0]);
        let e = bytes("n", "AAAA", Some(4), 4).unwrap_err();
        assert!(e.message.starts_with("n:"), "{}", e.message);
        assert!(bytes("n", "", None, 4).is_err());
        assert!(bytes("n", "AAAA=", None, 4).is_err());
    }
}
