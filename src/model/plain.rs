//! A message's plaintext (suite step 4) and its kinds: what a sender seals
//! and a reader gets back after the tag and the signature check out.
//! `text` is what people write; `reaction` is an emoji on one of them (or
//! its removal); `leave` is a member's signed departure, sent in the epoch
//! it leaves before the member calls `leave`, so that every member learns
//! of it from the member itself, not only from the server, and sends
//! nothing more under that epoch.
//!
//! What is sealed is the JSON padded ([`pad`]): `0x80`, then zeros, to the
//! smallest multiple of 64 bytes that holds both, and never under 256, so
//! the server cannot tell kinds and short texts apart by their size.

use serde::{Deserialize, Serialize};

use super::blob::Blob;
use super::ids::MessageId;

/// The plaintext's version.
pub const PLAIN_V: u32 = 1;

/// Padded plaintexts are a multiple of this many bytes.
pub const PAD_BLOCK: usize = 64;

/// No padded plaintext is shorter.
pub const PAD_MIN: usize = 256;

/// `json`, then `0x80`, then zeros up to the smallest multiple of
/// [`PAD_BLOCK`] bytes that holds them, at least [`PAD_MIN`].
pub fn pad(json: &[u8]) -> Vec<u8> {
    let len = (json.len() + 1).div_ceil(PAD_BLOCK) * PAD_BLOCK;
    let mut padded = Vec::with_capacity(len.max(PAD_MIN));
    padded.extend_from_slice(json);
    padded.push(0x80);
    padded.resize(len.max(PAD_MIN), 0);
    padded
}

/// What [`pad`] padded: `None` unless the length is a multiple of
/// [`PAD_BLOCK`] and the last byte that is not zero is `0x80`.
pub fn unpad(padded: &[u8]) -> Option<&[u8]> {
    if !padded.len().is_multiple_of(PAD_BLOCK) {
        return None;
    }
    let end = padded.iter().rposition(|b| *b != 0)?;
    (padded[end] == 0x80).then(|| &padded[..end])
}

/// The plaintext of a message, e.g.
/// `{"v":1,"kind":"text","body":"…","sent_at":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plain {
    pub v: u32,
    #[serde(flatten)]
    pub content: Content,
    /// The sender's clock, RFC 3339.
    pub sent_at: String,
}

/// What a message says, by kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Content {
    /// What someone wrote.
    Text { body: String },
    /// The sender's departure from the message's epoch: its signature
    /// over suite step 7's departure statement, the same that the sender's
    /// `leave` carries.
    Leave { signature: Blob },
    /// The sender's reaction to the message `target` of the same
    /// conversation, or (`remove`) its taking back. Readers fold reactions
    /// into their target in `seq` order; a removal counts only from whoever
    /// reacted, which the message's signature proves.
    Reaction {
        target: MessageId,
        emoji: String,
        #[serde(default)]
        remove: bool,
    },
}

/// The reactions the app offers (and shows: another is not drawn).
pub const PALETTE: [&str; 6] = ["👍", "❤️", "😂", "😮", "😢", "🙏"];

impl Plain {
    /// `content`, written at `sent_at`, in this version.
    pub fn new(content: Content, sent_at: &str) -> Plain {
        Plain {
            v: PLAIN_V,
            content,
            sent_at: sent_at.to_owned(),
        }
    }

    /// A text written at `sent_at`.
    pub fn text(body: &str, sent_at: &str) -> Plain {
        let body = body.to_owned();
        Plain::new(Content::Text { body }, sent_at)
    }

    /// Reads a plaintext: `None` unless it is one of this version's kinds,
    /// whole.
    pub fn parse(json: &[u8]) -> Option<Plain> {
        serde_json::from_slice::<Plain>(json)
            .ok()
            .filter(|p| p.v == PLAIN_V)
    }

    /// The bytes to seal: the JSON, padded.
    pub fn to_sealed(&self) -> Vec<u8> {
        pad(&serde_json::to_vec(self).expect("a plaintext is JSON"))
    }

    /// Reads the bytes a seal opened to: unpadded, then parsed.
    pub fn from_sealed(padded: &[u8]) -> Option<Plain> {
        Plain::parse(unpad(padded)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn padding_is_undone_whole_and_is_the_smallest_fit(json in proptest::collection::vec(any::<u8>(), 0..700)) {
            let padded = pad(&json);
            prop_assert_eq!(unpad(&padded), Some(json.as_slice()));
            prop_assert_eq!(padded.len() % PAD_BLOCK, 0);
            prop_assert!(padded.len() >= PAD_MIN);
            prop_assert!(padded.len() == PAD_MIN || padded.len() - PAD_BLOCK < json.len() + 1);
        }
    }

    #[test]
    fn padding_that_is_not_so_is_refused() {
        let mut good = pad(b"{}");
        assert_eq!(unpad(&good), Some(&b"{}"[..]));
        assert_eq!(unpad(&good[..good.len() - 1]), None, "not a multiple of 64");
        assert_eq!(unpad(&[0; 256]), None, "no 0x80");
        assert_eq!(unpad(&[]), None, "nothing");
        good[200] = 1;
        assert_eq!(unpad(&good), None, "not zeros after the 0x80");
        let text = Plain::text("hi", "2026-12-01T10:00:00.000Z");
        assert_eq!(Plain::from_sealed(&text.to_sealed()), Some(text.clone()));
        let bare = serde_json::to_vec(&text).unwrap();
        assert_eq!(Plain::from_sealed(&bare), None, "unpadded");
    }

    #[test]
    fn each_kind_is_the_json_the_suite_names() {
        let text = Plain::text("hi \"you\"", "2026-12-01T10:00:00.000Z");
        assert_eq!(
            serde_json::to_string(&text).unwrap(),
            r#"{"v":1,"kind":"text","body":"hi \"you\"","sent_at":"2026-12-01T10:00:00.000Z"}"#
        );
        let signature = vec![0xfb; 3].into();
        let leave = Plain::new(Content::Leave { signature }, "2026-12-01T10:00:00.000Z");
        assert_eq!(
            serde_json::to_string(&leave).unwrap(),
            r#"{"v":1,"kind":"leave","signature":"-_v7","sent_at":"2026-12-01T10:00:00.000Z"}"#
        );
        let target: MessageId = "0192f0c6-02a1-7b3c-8d4e-5f60718293a4".parse().unwrap();
        let emoji = "👍".to_owned();
        let content = Content::Reaction {
            target,
            emoji,
            remove: false,
        };
        let reaction = Plain::new(content, "2026-12-01T10:00:00.000Z");
        assert_eq!(
            serde_json::to_string(&reaction).unwrap(),
            r#"{"v":1,"kind":"reaction","target":"0192f0c6-02a1-7b3c-8d4e-5f60718293a4","emoji":"👍","remove":false,"sent_at":"2026-12-01T10:00:00.000Z"}"#
        );
        for plain in [text, leave, reaction] {
            let bytes = serde_json::to_vec(&plain).unwrap();
            assert_eq!(Plain::parse(&bytes), Some(plain));
        }
    }

    #[test]
    fn other_versions_kinds_and_shapes_are_not_read() {
        for bad in [
            r#"{"v":2,"kind":"text","body":"hi","sent_at":"x"}"#,
            r#"{"v":1,"kind":"poll","body":"hi","sent_at":"x"}"#,
            r#"{"v":1,"kind":"leave","body":"hi","sent_at":"x"}"#,
            r#"{"v":1,"kind":"text","sent_at":"x"}"#,
            r#"{"v":1,"body":"hi","sent_at":"x"}"#,
            r#"{"v":1,"kind":"text","body":"hi"}"#,
            "not json",
        ] {
            assert_eq!(Plain::parse(bad.as_bytes()), None, "{bad}");
        }
    }
}
