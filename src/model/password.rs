//! The password rule the browser enforces before it derives any key. The
//! server never sees a password, so this check can only live in the client.

/// Fewest characters (Unicode scalar values) in a password.
pub const MIN_CHARS: usize = 10;

/// The sentence shown next to the password field, if the password is refused.
pub fn problem(password: &str) -> Option<&'static str> {
    if password.is_empty() {
        Some("Enter your password.")
    } else if password.chars().count() < MIN_CHARS {
        Some("Use at least 10 characters.")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_characters_is_enough_counting_characters_not_bytes() {
        assert!(problem("").is_some());
        assert!(problem("123456789").is_some());
        assert_eq!(problem("1234567890"), None);
        assert_eq!(
            problem("ééééééééé").map(|_| ()),
            Some(()),
            "9 chars, 18 bytes"
        );
    }
}
