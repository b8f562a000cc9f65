//! The API's error answer, `{"error": code, "message": text}`, shared by the
//! server that builds it and the browser that decodes it. Codes are stable;
//! messages are for people and never carry internal detail.

use serde::{Deserialize, Serialize};

/// A stable error code, as the contract lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    InvalidEncoding,
    KdfTooWeak,
    StaleEpoch,
    Unauthorized,
    NotAMember,
    ForbiddenOrigin,
    /// A create that would put a member in more conversations than the
    /// server's `conversations_per_user`.
    TooManyConversations,
    /// A change the removal rule forbids (only the creator removes; a
    /// member who left is dropped by the next epoch, nothing else).
    NotAllowed,
    NotFound,
    UsernameTaken,
    IdConflict,
    /// A contact book put whose version is not the stored one + 1: the
    /// book changed elsewhere (another browser put first).
    VersionConflict,
    /// A change or a leave that names an epoch other than the current one:
    /// another change came first.
    EpochConflict,
    /// A member left: sends wait for the next epoch, which must carry the
    /// pending departures.
    RekeyRequired,
    MessageTooLarge,
    /// A contact book over [`MAX_BOOK_BYTES`](super::contacts::MAX_BOOK_BYTES).
    BookTooLarge,
    /// A request body over what its endpoint could ever need.
    RequestTooLarge,
    /// A request body that did not arrive within `body_timeout_secs`.
    RequestTimeout,
    RateLimited,
    StoreUnavailable,
    /// A fault on the server's side; the message says nothing more.
    Internal,
    /// The browser could not reach the server (never sent by the server).
    Unreachable,
}

impl ErrorCode {
    /// The HTTP status that goes with the code.
    pub fn status(self) -> u16 {
        use ErrorCode::*;
        match self {
            InvalidRequest | InvalidEncoding | KdfTooWeak | StaleEpoch => 400,
            Unauthorized => 401,
            NotAMember | ForbiddenOrigin | TooManyConversations | NotAllowed => 403,
            NotFound => 404,
            RequestTimeout => 408,
            UsernameTaken | IdConflict | VersionConflict | EpochConflict | RekeyRequired => 409,
            MessageTooLarge | BookTooLarge | RequestTooLarge => 413,
            RateLimited => 429,
            Internal => 500,
            StoreUnavailable | Unreachable => 503,
        }
    }
}

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub error: ErrorCode,
    pub message: String,
    /// With `rate_limited`: seconds until a retry may succeed (also sent as
    /// the `Retry-After` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(error: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            error,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// 400 `invalid_request` naming the field at fault.
    pub fn invalid(field: &str, problem: &str) -> Self {
        Self::new(ErrorCode::InvalidRequest, format!("{field}: {problem}"))
    }

    /// 400 `invalid_encoding` naming the field at fault.
    pub fn encoding(field: &str, expected: &str) -> Self {
        Self::new(
            ErrorCode::InvalidEncoding,
            format!("{field}: expected {expected}"),
        )
    }

    /// 401, the same answer for every kind of failed authentication.
    pub fn unauthorized() -> Self {
        Self::new(
            ErrorCode::Unauthorized,
            "Wrong username or password, or your session has ended.",
        )
    }

    pub fn store_unavailable() -> Self {
        Self::new(
            ErrorCode::StoreUnavailable,
            "The server cannot reach its database right now. Try again shortly.",
        )
    }

    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "Something went wrong on the server.")
    }
}

/// Server functions return `ApiError` itself, JSON-encoded, so the body is
/// the contract's `{"error", "message"}`. Failures before the function runs
/// (a body that does not decode) become `invalid_request` naming what serde
/// found wrong; the server's status layer turns the code into the status.
impl leptos::server_fn::error::FromServerFnError for ApiError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(e: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match e {
            E::Args(why) | E::MissingArg(why) => ApiError::new(
                ErrorCode::InvalidRequest,
                format!("Malformed request: {why}"),
            ),
            // On the server this is a request body that did not decode (a
            // byte field that is not base64url is `invalid_encoding`); in
            // the browser, an answer that did not (a server fault).
            E::Deserialization(why) if cfg!(feature = "ssr") => {
                if names_bad_bytes(&why) {
                    ApiError::new(ErrorCode::InvalidEncoding, why)
                } else {
                    ApiError::new(
                        ErrorCode::InvalidRequest,
                        format!("Malformed request: {why}"),
                    )
                }
            }
            E::Request(_) => ApiError::new(
                ErrorCode::Unreachable,
                "Cannot reach the server. Check your connection.",
            ),
            _ => ApiError::internal(),
        }
    }
}

/// Whether a decode error (`path: problem`, as the API's codec words it)
/// is a byte field that is not base64url.
fn names_bad_bytes(why: &str) -> bool {
    why.split_once(": ")
        .is_some_and(|(_, problem)| problem.starts_with(super::blob::NOT_BASE64URL))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_is_pinned() {
        let e = ApiError::new(ErrorCode::UsernameTaken, "That name is taken.");
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(
            json,
            r#"{"error":"username_taken","message":"That name is taken."}"#
        );
        assert_eq!(serde_json::from_str::<ApiError>(&json).unwrap(), e);
        assert_eq!(
            serde_json::to_string(&ErrorCode::NotAMember).unwrap(),
            r#""not_a_member""#
        );
        assert_eq!(
            serde_json::to_string(&ErrorCode::VersionConflict).unwrap(),
            r#""version_conflict""#
        );
        assert_eq!(
            serde_json::to_string(&ErrorCode::BookTooLarge).unwrap(),
            r#""book_too_large""#
        );
    }

    #[test]
    fn statuses_follow_the_contract() {
        assert_eq!(ErrorCode::InvalidEncoding.status(), 400);
        assert_eq!(ErrorCode::Unauthorized.status(), 401);
        assert_eq!(ErrorCode::ForbiddenOrigin.status(), 403);
        assert_eq!(ErrorCode::IdConflict.status(), 409);
        assert_eq!(ErrorCode::VersionConflict.status(), 409);
        assert_eq!(ErrorCode::MessageTooLarge.status(), 413);
        assert_eq!(ErrorCode::BookTooLarge.status(), 413);
        assert_eq!(ErrorCode::RateLimited.status(), 429);
        assert_eq!(ErrorCode::StoreUnavailable.status(), 503);
    }

    #[test]
    fn a_body_that_does_not_decode_is_invalid_request_or_invalid_encoding() {
        use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
        let decoded = |why: &str| {
            ApiError::from_server_fn_error(ServerFnErrorErr::Deserialization(why.into()))
        };
        let bad_bytes =
            decoded("keys[1].wrapped_key: expected base64url without padding at line 1 column 9");
        assert_eq!(bad_bytes.error, ErrorCode::InvalidEncoding);
        assert!(bad_bytes.message.starts_with("keys[1].wrapped_key: "));
        let bad_type =
            decoded("epoch: invalid type: string \"0\", expected u32 at line 1 column 9");
        assert_eq!(bad_type.error, ErrorCode::InvalidRequest);
        // A value that merely quotes the words is not a byte field.
        let quoted = decoded(
            "kdf_iterations: invalid type: string \"expected base64url without padding\", expected u32",
        );
        assert_eq!(quoted.error, ErrorCode::InvalidRequest);
    }
}
