//! The API's JSON codec: plain `serde_json` on the wire, but a body that
//! does not decode is refused with the path of the field at fault
//! (`kdf_iterations: invalid type …`), so a client learns what to fix.
//! Only the server names the path (and the fuzz targets, feature `fuzz`,
//! which run the server's decoder): the browser decodes its own server's
//! answers, and tracking paths there would double every `Deserialize` in
//! the WASM bundle.
//!
//! [`Whole`] lets an endpoint take its request type whole: the body is that
//! type's own JSON, not an object with one field per argument.

use std::ops::Deref;

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// JSON with field-naming decode errors.
pub struct FieldJson;

/// `input = Api, output = Api` for every endpoint: JSON in a POST body.
pub type Api = Post<FieldJson>;

impl ContentType for FieldJson {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for FieldJson {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for FieldJson {
    type Error = serde_json::Error;

    fn encode(value: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(value).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for FieldJson {
    type Error = String;

    #[cfg(any(feature = "ssr", feature = "fuzz"))]
    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let mut json = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut json).map_err(|e| {
            let path = e.path().to_string();
            if path == "." {
                e.inner().to_string()
            } else {
                format!("{path}: {}", e.inner())
            }
        })?;
        // The body is one JSON document and nothing else (whitespace
        // aside), as `serde_json::from_slice` requires.
        json.end().map_err(|e| e.to_string())?;
        Ok(value)
    }

    #[cfg(not(any(feature = "ssr", feature = "fuzz")))]
    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        serde_json::from_slice(&bytes).map_err(|e| e.to_string())
    }
}

/// `#[server(custom = Whole, …)]` on a server function of one argument:
/// the request body is that argument's JSON (`{"conversation_id": …}`),
/// as the contract spells it, rather than `{"message": {…}}`, and field
/// errors keep their paths (serde's `flatten` would lose them).
///
/// The macro gives a one-argument function's struct `Deref` to the argument
/// and `From` it, which is all this needs.
pub struct Whole<T>(pub T);

impl<T> Serialize for Whole<T>
where
    T: Deref,
    T::Target: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (*self.0).serialize(s)
    }
}

impl<'de, T> Deserialize<'de> for Whole<T>
where
    T: Deref + From<<T as Deref>::Target>,
    T::Target: Deserialize<'de> + Sized,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::Target::deserialize(d).map(|argument| Whole(T::from(argument)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        inner: Inner,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    #[test]
    fn errors_name_the_field() {
        let bad = Bytes::from_static(br#"{"name":"x","inner":{"count":"many"}}"#);
        let error = <FieldJson as Decodes<Body>>::decode(bad).unwrap_err();
        assert!(error.starts_with("inner.count: invalid type"), "{error}");
        let missing = Bytes::from_static(br#"{"inner":{"count":1}}"#);
        let error = <FieldJson as Decodes<Body>>::decode(missing).unwrap_err();
        assert!(error.contains("missing field `name`"), "{error}");
    }

    /// Found by the `request_bodies` fuzz target: the server's decoder
    /// took the first JSON value of a body and ignored whatever followed
    /// (`{}\xff` was a good logout), where the browser's, like
    /// `serde_json::from_slice`, refused it.
    #[test]
    fn bytes_after_the_body_are_refused() {
        for bad in [
            &br#"{"name":"x","inner":{"count":1}}x"#[..],
            br#"{"name":"x","inner":{"count":1}}{"name":"y","inner":{"count":2}}"#,
            b"{\"name\":\"x\",\"inner\":{\"count\":1}}\xff",
        ] {
            let error = <FieldJson as Decodes<Body>>::decode(Bytes::from_static(bad)).unwrap_err();
            assert!(error.starts_with("trailing characters"), "{error}");
        }
        let spaced = Bytes::from_static(b" {\"name\":\"x\",\"inner\":{\"count\":1}}\r\n");
        assert!(<FieldJson as Decodes<Body>>::decode(spaced).is_ok());
    }

    #[test]
    fn a_whole_request_is_its_own_flat_json_and_errors_keep_their_paths() {
        use crate::api::messages::SendMessage;
        use crate::model::conversation::Outgoing;
        use crate::model::ids::{ConversationId, MessageId};

        let outgoing = Outgoing {
            conversation_id: ConversationId::new(),
            message_id: MessageId::new(),
            epoch: 0,
            nonce: [1; 12].into(),
            ciphertext: [2; 40].into(),
            signature: [3; 64].into(),
        };
        let body =
            <FieldJson as Encodes<Whole<SendMessage>>>::encode(&Whole(outgoing.clone().into()))
                .unwrap();
        assert_eq!(body, serde_json::to_vec(&outgoing).unwrap());
        let back = <FieldJson as Decodes<Whole<SendMessage>>>::decode(body).unwrap();
        assert_eq!(*back.0, outgoing);

        let mut bad = serde_json::to_value(&outgoing).unwrap();
        bad["nonce"] = "AAA=".into();
        let bad = Bytes::from(serde_json::to_vec(&bad).unwrap());
        let error = <FieldJson as Decodes<Whole<SendMessage>>>::decode(bad)
            .err()
            .unwrap();
        assert!(
            error.starts_with("nonce: expected base64url without padding"),
            "{error}"
        );
    }
}
