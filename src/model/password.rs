//! The password rule the browser enforces before it derives any key. The
//! server never sees a password, so this check can only live in the client.

/// Fewest characters (Unicode scalar values) in a password.
pub const MIN_CHARS: usize = 10;

/// Passwords long enough to pass [`MIN_CHARS`] that guessers try first,
/// one a line, lowercase (shipped with the app; checked in the browser).
const COMMON: &str = include_str!("common_passwords.txt");

/// Whether `password` is on the list, ignoring case and spaces at its ends.
pub fn is_common(password: &str) -> bool {
    let candidate = password.trim().to_lowercase();
    COMMON.lines().any(|line| line == candidate)
}

/// The sentence shown next to the password field, if the password is refused.
pub fn problem(password: &str) -> Option<&'static str> {
    if password.is_empty() {
        Some("Enter your password.")
    } else if password.chars().count() < MIN_CHARS {
        Some("Use at least 10 characters.")
    } else if is_common(password) {
        Some("This password is too common. Choose something less guessable.")
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
        assert_eq!(problem("zebra-lamp"), None);
        assert_eq!(
            problem("ééééééééé").map(|_| ()),
            Some(()),
            "9 chars, 18 bytes"
        );
    }

    #[test]
    fn common_passwords_are_refused_whatever_the_case() {
        assert!(is_common("Password123"));
        assert!(is_common("QWERTYUIOP"));
        assert!(problem("1234567890").unwrap().contains("too common"));
        assert_eq!(problem("purple giraffe on a bicycle"), None);
    }

    #[test]
    fn the_list_is_lowercase_and_only_passwords_that_pass_the_length_rule() {
        for line in COMMON.lines() {
            assert_eq!(line, line.to_lowercase(), "{line}");
            assert!(
                line.chars().count() >= MIN_CHARS,
                "{line} is refused by length already"
            );
        }
    }
}
