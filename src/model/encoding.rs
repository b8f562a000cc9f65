//! The wire's byte encoding: base64url without padding, strictly canonical
//! (no `=`, no stray characters, no non-zero trailing bits), as the contract
//! requires of every byte field.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Encodes bytes for the wire.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes a wire field; `None` unless it is canonical base64url.
pub fn unb64(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_without_padding() {
        assert_eq!(b64(&[0xfb, 0xff]), "-_8");
        assert_eq!(unb64("-_8").unwrap(), [0xfb, 0xff]);
    }

    #[test]
    fn non_canonical_forms_are_refused() {
        for bad in ["-_8=", "+/8", "-_8 ", "-_9", "a"] {
            assert_eq!(unb64(bad), None, "{bad:?}");
        }
    }
}
