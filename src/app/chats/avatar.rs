//! An initials avatar whose colour comes from the conversation's or user's
//! id, so the same one always looks the same.

use leptos::prelude::*;

/// The first letters of the first two words (or the first two letters).
fn initials(name: &str) -> String {
    let words: Vec<&str> = name
        .split(|c: char| c.is_whitespace() || c == ',' || c == '.' || c == '_' || c == '-')
        .filter(|w| !w.is_empty())
        .collect();
    let letters: String = match words.as_slice() {
        [] => "?".into(),
        [one] => one.chars().take(2).collect(),
        [first, second, ..] => first
            .chars()
            .take(1)
            .chain(second.chars().take(1))
            .collect(),
    };
    letters.to_uppercase()
}

/// A hue from 0 to 359 from any text (FNV-1a).
fn hue(seed: &str) -> u32 {
    let hash = seed.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    hash % 360
}

#[component]
pub fn Avatar(name: String, seed: String, #[prop(optional)] small: bool) -> impl IntoView {
    let style = format!("--avatar-hue: {}", hue(&seed));
    view! {
        <span class="avatar" class:small=small style=style aria-hidden="true">
            {initials(&name)}
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_and_hues_are_stable() {
        assert_eq!(initials("hi89"), "HI");
        assert_eq!(initials("Weekend plans"), "WP");
        assert_eq!(initials("lo89, mid89"), "LM");
        assert_eq!(initials(""), "?");
        assert_eq!(hue("abc"), hue("abc"));
        assert!(hue("abc") < 360);
    }
}
