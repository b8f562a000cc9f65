//! `POST /api/contacts/put` `{version, book}` → `{version}`: replaces the
//! caller's own contact book if `version` is the stored one + 1 (1 for the
//! first put); otherwise 409 `version_conflict` and nothing changes.

use leptos::prelude::*;

use crate::api::codec::{Api, Whole};
use crate::model::contacts::{BookVersion, PutBook};
use crate::model::error::ApiError;

/// The body is a [`PutBook`], whole.
#[server(name = PutContactBook, prefix = "/api", endpoint = "contacts/put", input = Api, output = Api, custom = Whole)]
pub async fn put(book: PutBook) -> Result<BookVersion, ApiError> {
    use crate::server::{contacts, request};
    let user = request::current_user().await?;
    contacts::put(&request::state(), user.id, book).await
}

#[cfg(test)]
mod tests {
    use leptos::server_fn::{Bytes, Decodes, Encodes};

    use super::*;
    use crate::api::codec::FieldJson;
    use crate::model::blob::Blob;

    #[test]
    fn the_body_is_exactly_version_and_book() {
        let put = PutBook {
            version: 3,
            book: Blob(vec![0xfb, 0xff]),
        };
        let body =
            <FieldJson as Encodes<Whole<PutContactBook>>>::encode(&Whole(put.clone().into()))
                .unwrap();
        assert_eq!(&body[..], br#"{"version":3,"book":"-_8"}"#);
        let back = <FieldJson as Decodes<Whole<PutContactBook>>>::decode(body).unwrap();
        assert_eq!(*back.0, put);

        let bad = Bytes::from_static(br#"{"version":3,"book":"+/8"}"#);
        let error = <FieldJson as Decodes<Whole<PutContactBook>>>::decode(bad)
            .err()
            .unwrap();
        assert!(
            error.starts_with("book: expected base64url without padding"),
            "{error}"
        );
    }
}
