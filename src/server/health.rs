//! `GET /healthz`: is this node able to serve? A real round trip to the
//! database, bounded in time, so a load balancer can take a node with a dead
//! store out of rotation. With Redis, it says whether pushes reach the other
//! nodes, but a node with Redis down still counts as healthy: it serves its
//! own sockets, and its members on other nodes catch up from history (every
//! node loses Redis at once, and taking them all out would serve no one).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::fanout::{Bus, BusHealth};
use super::store::Store;

/// How long the database may take to answer before the node counts as unhealthy.
const DB_TIMEOUT: Duration = Duration::from_secs(2);

/// The answer's body: `{"status":"ok","db":"ok"}` or
/// `{"status":"error","db":"error"}`, with `"redis":"ok"` or `"down"` when
/// the node fans out through Redis.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Health {
    pub status: &'static str,
    pub db: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis: Option<&'static str>,
}

pub async fn healthz(
    State(store): State<Arc<dyn Store>>,
    State(bus): State<Bus>,
) -> (StatusCode, Json<Health>) {
    let redis = match bus.health() {
        BusHealth::Solo => None,
        BusHealth::Up => Some("ok"),
        BusHealth::Down => Some("down"),
    };
    match tokio::time::timeout(DB_TIMEOUT, store.ping()).await {
        Ok(Ok(())) => (
            StatusCode::OK,
            Json(Health {
                status: "ok",
                db: "ok",
                redis,
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
                    redis,
                }),
            )
        }
    }
}
