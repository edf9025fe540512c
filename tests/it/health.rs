//! Probes.

use crate::helpers::{Backend, spawn_app};

#[tokio::test]
async fn healthz_answers_200() {
    let app = spawn_app(Backend::Embedded).await;
    let response = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn readyz_answers_200_when_database_and_broker_are_reachable() {
    let app = spawn_app(Backend::Production).await;
    let response = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["queue"], "ok");
    assert_eq!(body["database"], "ok");
}
