//! Usernames: 3 to 32 of `[a-z0-9_.-]`, stored and compared in their
//! canonical (ASCII lowercase) form, so `Alice` and `alice` are one name.

/// Fewest characters in a username.
pub const MIN_LEN: usize = 3;
/// Most characters in a username.
pub const MAX_LEN: usize = 32;

/// Why a username was refused, with the sentence shown next to the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("Use 3 to 32 characters.")]
    Length,
    #[error("Use only letters a–z, digits, and _ . -")]
    Characters,
}

/// The canonical form of `input`, or why it cannot be a username.
pub fn canonical(input: &str) -> Result<String, UsernameError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if !input.chars().all(allowed) {
        return Err(UsernameError::Characters);
    }
    if !(MIN_LEN..=MAX_LEN).contains(&input.len()) {
        return Err(UsernameError::Length);
    }
    Ok(input.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_is_lowercase() {
        assert_eq!(canonical("Hi89").unwrap(), "hi89");
        assert_eq!(canonical("a.b-c_d").unwrap(), "a.b-c_d");
    }

    #[test]
    fn length_bounds_are_inclusive() {
        assert_eq!(canonical("ab"), Err(UsernameError::Length));
        assert!(canonical("abc").is_ok());
        assert!(canonical(&"a".repeat(32)).is_ok());
        assert_eq!(canonical(&"a".repeat(33)), Err(UsernameError::Length));
        assert_eq!(canonical(""), Err(UsernameError::Length));
    }

    #[test]
    fn other_characters_are_refused() {
        for bad in ["with space", "émile", "a/b", "ab@c", "ＡＢＣ", "abc\u{0}"] {
            assert_eq!(canonical(bad), Err(UsernameError::Characters), "{bad:?}");
        }
    }
}
