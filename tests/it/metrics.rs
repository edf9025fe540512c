//! `/metrics` tells what the service did. The recorder is process-wide, so counts here include
//! other tests' events: assertions check that series exist and count at least this test's share.

use serde_json::json;

use crate::helpers::{Backend, clickup_task_update, hubspot_headers, hubspot_property, now_ms, spawn_app};

fn value_of(exposition: &str, series: &str) -> f64 {
    exposition
        .lines()
        .find(|line| line.starts_with(series))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_count_accepted_events_refused_signatures_worker_outcomes_and_conflicts() {
    let app = spawn_app(Backend::Embedded).await;
    let batch = json!([
        hubspot_property(91, "email", "m1@example.com", now_ms()),
        hubspot_property(92, "email", "m2@example.com", now_ms()),
    ]);
    assert_eq!(app.post_hubspot(&batch).await.status(), 200);
    let body = serde_json::to_vec(&batch).unwrap();
    let stale = hubspot_headers(&body, "/webhooks/hubspot", now_ms() - 3_600_000);
    assert_eq!(
        app.post_raw("/webhooks/hubspot", body, &stale).await.status(),
        401
    );
    // The same person in ClickUp with another phone: a field_mismatch conflict.
    let contact = json!([hubspot_property(93, "phone", "+34 611 000 093", now_ms())]);
    assert_eq!(app.post_hubspot(&contact).await.status(), 200);
    let email = json!([hubspot_property(93, "email", "m3@example.com", now_ms())]);
    assert_eq!(app.post_hubspot(&email).await.status(), 200);
    let task = clickup_task_update(
        "m3",
        &[
            ("mh1", "Email", "m3@example.com"),
            ("mh2", "Phone", "+34 622 000 093"),
        ],
        now_ms(),
    );
    assert_eq!(app.post_clickup(&task).await.status(), 200);
    app.drain_worker().await;

    let response = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();

    let accepted = r#"clientsync_webhook_events_total{source="hubspot",outcome="accepted"}"#;
    assert!(value_of(&text, accepted) >= 2.0, "{text}");
    let stale = r#"clientsync_signature_failures_total{source="hubspot",reason="stale_timestamp"}"#;
    assert!(value_of(&text, stale) >= 1.0, "{text}");
    let refused = r#"clientsync_webhook_refused_total{source="hubspot",code="invalid_signature"}"#;
    assert!(value_of(&text, refused) >= 1.0, "{text}");
    assert!(
        value_of(&text, r#"clientsync_worker_messages_total{outcome="linked"}"#) >= 2.0,
        "{text}"
    );
    let mismatches = r#"clientsync_conflicts_opened_total{kind="field_mismatch"}"#;
    assert!(value_of(&text, mismatches) >= 1.0, "{text}");
    assert!(text.contains("clientsync_queue_publish_seconds_bucket"), "{text}");
    assert!(text.contains("clientsync_worker_process_seconds_count"), "{text}");
    assert!(
        text.contains(r#"clientsync_outbox_rows{status="failed"}"#),
        "the outbox backlog is read at scrape time: {text}"
    );
    assert!(
        text.contains("clientsync_queue_depth 0"),
        "the drained queue is empty: {text}"
    );
}
