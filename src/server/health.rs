//! `GET /healthz`: is this node able to serve? A real round trip to the
//! database, bounded in time, so a load balancer can take a node with a dead
//! store out of rotation.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::store::Store;

/// How long the database may take to answer before the node counts as unhealthy.
const DB_TIMEOUT: Duration = Duration::from_secs(2);

/// The answer's body: `{"status":"ok","db":"ok"}` or `{"status":"error","db":"error"}`.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Health {
    pub status: &'static str,
    pub db: &'static str,
}

pub async fn healthz(State(store): State<Arc<dyn Store>>) -> (StatusCode, Json<Health>) {
    match tokio::time::timeout(DB_TIMEOUT, store.ping()).await {
        Ok(Ok(())) => (
            StatusCode::OK,
            Json(Health {
                status: "ok",
                db: "ok",
            }),
        ),
        outcome => {
            match outcome {
                Ok(Err(e)) => tracing::warn!(error = %e, "health check: database failed"),
                _ => tracing::warn!("health check: database timed out"),
            }
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "error",
                    db: "error",
                }),
            )
        }
    }
}
