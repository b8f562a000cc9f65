//! A message's plaintext (suite step 4) and its kinds: what a sender seals
//! and a reader gets back after the tag and the signature check out.
//! `text` is what people write; `leave` is a member's signed departure,
//! sent in the epoch it leaves before the member calls `leave`, so that
//! every member learns of it from the member itself, not only from the
//! server, and sends nothing more under that epoch.

use serde::{Deserialize, Serialize};

use super::blob::Blob;

/// The plaintext's version.
pub const PLAIN_V: u32 = 1;

/// The plaintext of a message:
/// `{"v":1,"kind":"text","body":"…","sent_at":"…"}` or
/// `{"v":1,"kind":"leave","signature":"…","sent_at":"…"}`.
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
}

impl Plain {
    /// A text written now (`sent_at`).
    pub fn text(body: &str, sent_at: &str) -> Plain {
        Plain {
            v: PLAIN_V,
            content: Content::Text {
                body: body.to_owned(),
            },
            sent_at: sent_at.to_owned(),
        }
    }

    /// A departure, sent now (`sent_at`).
    pub fn leave(signature: Blob, sent_at: &str) -> Plain {
        Plain {
            v: PLAIN_V,
            content: Content::Leave { signature },
            sent_at: sent_at.to_owned(),
        }
    }

    /// Reads a plaintext: `None` unless it is one of this version's kinds,
    /// whole.
    pub fn parse(bytes: &[u8]) -> Option<Plain> {
        serde_json::from_slice::<Plain>(bytes)
            .ok()
            .filter(|p| p.v == PLAIN_V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_the_json_the_suite_names() {
        let text = Plain::text("hi \"you\"", "2026-12-01T10:00:00.000Z");
        assert_eq!(
            serde_json::to_string(&text).unwrap(),
            r#"{"v":1,"kind":"text","body":"hi \"you\"","sent_at":"2026-12-01T10:00:00.000Z"}"#
        );
        let leave = Plain::leave(vec![0xfb; 3].into(), "2026-12-01T10:00:00.000Z");
        assert_eq!(
            serde_json::to_string(&leave).unwrap(),
            r#"{"v":1,"kind":"leave","signature":"-_v7","sent_at":"2026-12-01T10:00:00.000Z"}"#
        );
        for plain in [text, leave] {
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
