//! `GET /healthz` reports a real database round trip.

use serde_json::{Value, json};

use crate::util::TestServer;

#[tokio::test]
async fn healthy_with_a_working_database() {
    let server = TestServer::start().await;
    let response = server.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"status": "ok", "db": "ok"}));
}

#[tokio::test]
async fn unavailable_when_the_database_is_gone() {
    let server = TestServer::start().await;
    server.running.store().close().await;
    let response = server.get("/healthz").await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"status": "error", "db": "error"}));
}
