//! A byte field, one type from the wire to the store: strict base64url
//! (`encoding`) in JSON, a BLOB in the database. A field that is not
//! canonical base64url fails to decode with [`NOT_BASE64URL`], which the
//! API answers as 400 `invalid_encoding` naming the field.

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::encoding::{b64, unb64};

/// What a byte field that does not decode is told; the API's codec knows
/// a decode error by it.
pub const NOT_BASE64URL: &str = "expected base64url without padding";

/// Bytes that cross the wire as base64url.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Blob(pub Vec<u8>);

impl Deref for Blob {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Blob {
    fn from(bytes: Vec<u8>) -> Self {
        Blob(bytes)
    }
}

impl From<&[u8]> for Blob {
    fn from(bytes: &[u8]) -> Self {
        Blob(bytes.to_vec())
    }
}

impl<const N: usize> From<[u8; N]> for Blob {
    fn from(bytes: [u8; N]) -> Self {
        Blob(bytes.to_vec())
    }
}

/// Sizes only: a byte field may be a key or a ciphertext, and debug output
/// reaches logs.
impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blob({} bytes)", self.0.len())
    }
}

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&b64(&self.0))
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        unb64(&text)
            .map(Blob)
            .ok_or_else(|| serde::de::Error::custom(NOT_BASE64URL))
    }
}

/// The store's side: a BLOB column, in whichever database has `Vec<u8>`.
#[cfg(feature = "ssr")]
mod column {
    use sqlx::encode::IsNull;
    use sqlx::error::BoxDynError;
    use sqlx::{Database, Decode, Encode, Type};

    use super::Blob;

    impl<DB: Database> Type<DB> for Blob
    where
        Vec<u8>: Type<DB>,
    {
        fn type_info() -> DB::TypeInfo {
            <Vec<u8> as Type<DB>>::type_info()
        }

        fn compatible(ty: &DB::TypeInfo) -> bool {
            <Vec<u8> as Type<DB>>::compatible(ty)
        }
    }

    impl<'q, DB: Database> Encode<'q, DB> for Blob
    where
        Vec<u8>: Encode<'q, DB>,
    {
        fn encode(self, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
            self.0.encode(buf)
        }

        fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
            self.0.encode_by_ref(buf)
        }
    }

    impl<'r, DB: Database> Decode<'r, DB> for Blob
    where
        Vec<u8>: Decode<'r, DB>,
    {
        fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
            Vec::<u8>::decode(value).map(Blob)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_strict_base64url() {
        let blob = Blob(vec![0xfb, 0xff]);
        assert_eq!(serde_json::to_string(&blob).unwrap(), r#""-_8""#);
        assert_eq!(serde_json::from_str::<Blob>(r#""-_8""#).unwrap(), blob);
        for bad in [r#""-_8=""#, r#""+/8""#, r#""-_9""#, r#""a""#, "7", "null"] {
            assert!(serde_json::from_str::<Blob>(bad).is_err(), "{bad}");
        }
        let error = serde_json::from_str::<Blob>(r#""+/8""#).unwrap_err();
        assert!(error.to_string().starts_with(NOT_BASE64URL), "{error}");
    }

    #[test]
    fn debug_shows_the_size_only() {
        assert_eq!(format!("{:?}", Blob(vec![7; 12])), "Blob(12 bytes)");
    }
}
