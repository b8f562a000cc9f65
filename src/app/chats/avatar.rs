//! An initials avatar whose colour comes from the conversation's or user's
//! id, so the same one always looks the same, with a dot while its person
//! is online. The colour is one of
//! [`HUES`] classes (the stylesheet sets each one's hue): a class, not an
//! inline style, which the content security policy does not allow.

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

/// How many hues avatars come in (`.hue-0` to `.hue-23`, 15° apart).
pub const HUES: u32 = 24;

/// One of [`HUES`] from any text (FNV-1a).
fn hue(seed: &str) -> u32 {
    let hash = seed.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    hash % HUES
}

/// The avatar; with `online`, a green dot while it is true (a 1:1's other
/// person).
#[component]
pub fn Avatar(
    name: String,
    seed: String,
    #[prop(optional)] small: bool,
    #[prop(optional, into)] online: Option<Signal<bool>>,
) -> impl IntoView {
    let class = format!("avatar hue-{}", hue(&seed));
    let online = move || online.is_some_and(|o| o.get());
    view! {
        <span class=class class:small=small aria-hidden="true">
            {initials(&name)}
            <Show when=online>
                <span class="online-dot" data-testid="online-dot"></span>
            </Show>
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
        assert!(hue("abc") < HUES);
    }
}
