//! Newtype ids. On the wire an id is a lowercase hyphenated UUID, and only
//! that: other spellings the `uuid` crate would accept (uppercase, braces,
//! `urn:`, no hyphens) are refused, so one id has one text form everywhere,
//! including inside signed byte strings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// Why a string is not an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("expected a lowercase hyphenated UUID")]
pub struct IdError;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A new time-ordered (v7) id.
            pub fn new() -> Self {
                $name(Uuid::now_v7())
            }

            /// The 16 bytes of the id in RFC 9562 (network) order.
            pub fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(text: &str) -> Result<Self, IdError> {
                let id = Uuid::try_parse(text).map_err(|_| IdError)?;
                // Only the canonical spelling: 36 characters, lowercase.
                if id.hyphenated().to_string() != text {
                    return Err(IdError);
                }
                Ok($name(id))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        /// In the store, a TEXT column holding the canonical spelling.
        #[cfg(feature = "ssr")]
        impl<DB: sqlx::Database> sqlx::Type<DB> for $name
        where
            String: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as sqlx::Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as sqlx::Type<DB>>::compatible(ty)
            }
        }

        #[cfg(feature = "ssr")]
        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $name
        where
            String: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut DB::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <String as sqlx::Encode<'q, DB>>::encode(self.to_string(), buf)
            }
        }

        #[cfg(feature = "ssr")]
        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(value: DB::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                Ok(<&'r str as sqlx::Decode<'r, DB>>::decode(value)?.parse()?)
            }
        }
    };
}

id_type!(
    /// A user's id.
    UserId
);
id_type!(
    /// A conversation's id, chosen by the creating browser.
    ConversationId
);
id_type!(
    /// A message's id, chosen by the sending browser (so a retry is recognisable).
    MessageId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_text_round_trips() {
        let text = "0192f0c4-8a1e-7c3d-9b2a-4f5e6d7c8b9a";
        let id: UserId = text.parse().unwrap();
        assert_eq!(id.to_string(), text);
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{text}\""));
        assert_eq!(
            serde_json::from_str::<UserId>(&format!("\"{text}\"")).unwrap(),
            id
        );
    }

    #[test]
    fn other_spellings_are_refused() {
        for bad in [
            "0192F0C4-8A1E-7C3D-9B2A-4F5E6D7C8B9A",
            "0192f0c48a1e7c3d9b2a4f5e6d7c8b9a",
            "{0192f0c4-8a1e-7c3d-9b2a-4f5e6d7c8b9a}",
            "urn:uuid:0192f0c4-8a1e-7c3d-9b2a-4f5e6d7c8b9a",
            "",
        ] {
            assert_eq!(bad.parse::<MessageId>(), Err(IdError), "{bad}");
        }
    }

    #[test]
    fn new_ids_are_v7_and_ordered() {
        let (a, b) = (MessageId::new(), MessageId::new());
        assert!(a < b);
        assert_eq!(a.0.get_version_num(), 7);
    }
}
