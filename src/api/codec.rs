//! The API's JSON codec: plain `serde_json` on the wire, but a body that
//! does not decode is refused with the path of the field at fault
//! (`kdf_iterations: invalid type …`), so a client learns what to fix.
//! Only the server names the path: the browser decodes its own server's
//! answers, and tracking paths there would double every `Deserialize` in
//! the WASM bundle.

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::Serialize;
use serde::de::DeserializeOwned;

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

    #[cfg(feature = "ssr")]
    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let mut json = serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(&mut json).map_err(|e| {
            let path = e.path().to_string();
            if path == "." {
                e.inner().to_string()
            } else {
                format!("{path}: {}", e.inner())
            }
        })
    }

    #[cfg(not(feature = "ssr"))]
    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        serde_json::from_slice(&bytes).map_err(|e| e.to_string())
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
}
