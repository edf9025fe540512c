//! Probes.

use std::time::{Duration, Instant};

use clientsync::startup::Role;

use crate::helpers::{Backend, spawn_app, spawn_app_in_role};

on_both_backends!(a_worker_process_reports_its_live_consumers_and_is_ready);

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
    assert!(
        body.get("worker").is_none(),
        "a receiver has no consumers to report: {body}"
    );
}

async fn a_worker_process_reports_its_live_consumers_and_is_ready(backend: Backend) {
    let app = spawn_app_in_role(backend, Role::Worker, |_| {}).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let (status, body) = loop {
        let response = app
            .client
            .get(format!("{}/readyz", app.address))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap();
        if status == 200 || Instant::now() > deadline {
            break (status, body);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["worker"]["status"], "ok");
    assert!(
        body["worker"]["live_consumers"].as_u64().unwrap_or(0) >= 1,
        "{body}"
    );
}
