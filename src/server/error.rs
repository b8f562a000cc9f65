//! How an [`ApiError`] becomes an HTTP answer: its code's status and the
//! JSON body `{"error", "message"}`. Internal causes are logged where they
//! happen, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::store::StoreError;
use crate::model::error::ApiError;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "store unavailable");
                ApiError::store_unavailable()
            }
            StoreError::Conflict => {
                // Callers turn the conflicts they expect into their own codes.
                tracing::error!("unexpected store conflict");
                ApiError::internal()
            }
            StoreError::Other(cause) => {
                tracing::error!(error = %cause, "store error");
                ApiError::internal()
            }
        }
    }
}
