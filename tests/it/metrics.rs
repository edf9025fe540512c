//! `/metrics` tells what the service did. The recorder is process-wide, so counts here include
//! other tests' events: assertions check that series exist and count at least this test's share.

use std::time::{Duration, Instant};

use clientsync::{metrics::SERIES, startup::Role};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::{
    Backend, TestApp, clickup_task_update, hubspot_headers, hubspot_property, now_ms, spawn_app,
    spawn_app_in_role,
};

/// Contact `n` in HubSpot and the same person in ClickUp with another phone: a field_mismatch.
async fn open_a_field_mismatch(app: &TestApp, n: i64) {
    let phone = json!([hubspot_property(
        n,
        "phone",
        &format!("+34 611 000 {n:03}"),
        now_ms()
    )]);
    assert_eq!(app.post_hubspot(&phone).await.status(), 200);
    let email = json!([hubspot_property(
        n,
        "email",
        &format!("m{n}@example.com"),
        now_ms()
    )]);
    assert_eq!(app.post_hubspot(&email).await.status(), 200);
    let task = clickup_task_update(
        &format!("m{n}"),
        &[
            (&format!("mh{n}a"), "Email", &format!("m{n}@example.com")),
            (&format!("mh{n}b"), "Phone", &format!("+34 622 000 {n:03}")),
        ],
        now_ms(),
    );
    assert_eq!(app.post_clickup(&task).await.status(), 200);
    app.drain_worker().await;
}

async fn scrape(app: &TestApp) -> String {
    let response = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// Scrapes until `series` reads `want`: gauges are process-wide, so another test's app may set
/// them between this app's refresh and its render.
async fn scrape_until(app: &TestApp, series: &str, want: f64) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = scrape(app).await;
        if value_of(&text, series) == want || Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

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
    open_a_field_mismatch(&app, 93).await;

    let text = scrape(&app).await;

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

#[tokio::test]
async fn every_series_is_described_and_known_label_sets_read_zero_before_their_first_event() {
    let app = spawn_app(Backend::Embedded).await;

    let text = scrape(&app).await;

    for name in [
        "clientsync_webhook_refused_total",
        "clientsync_signature_failures_total",
        "clientsync_worker_messages_total",
        "clientsync_worker_panics_total",
        "clientsync_conflicts_open",
        "clientsync_dead_events",
        "clientsync_pruned_total",
        "clientsync_clickup_webhooks",
    ] {
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "{name} is described: {text}"
        );
    }
    let never_refused = r#"clientsync_webhook_refused_total{source="clickup",code="queue_unavailable"}"#;
    assert!(text.contains(never_refused), "{text}");
    assert!(
        text.contains(r#"clientsync_clickup_webhooks{status="suspended"}"#),
        "{text}"
    );
    let described: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# HELP "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    for sample in text.lines().filter(|l| l.starts_with("clientsync_")) {
        let name = sample.split(['{', ' ']).next().unwrap_or_default();
        assert!(
            described.iter().any(|d| base_name(name) == *d),
            "{name} has a # HELP line"
        );
    }
}

#[tokio::test]
async fn open_conflicts_by_kind_and_dead_events_are_counted_from_the_database() {
    let app = spawn_app(Backend::Embedded).await;
    open_a_field_mismatch(&app, 94).await;
    // The next event fails on every attempt and is dead-lettered.
    app.db
        .execute_unprepared("ALTER TABLE source_records RENAME TO source_records_moved")
        .await
        .unwrap();
    let doomed = json!([hubspot_property(95, "email", "m95@example.com", now_ms())]);
    assert_eq!(app.post_hubspot(&doomed).await.status(), 200);
    app.drain_worker().await;

    let text = scrape_until(&app, "clientsync_dead_events ", 1.0).await;

    assert_eq!(value_of(&text, "clientsync_dead_events "), 1.0, "{text}");
    let mismatches = r#"clientsync_conflicts_open{kind="field_mismatch"}"#;
    let text = scrape_until(&app, mismatches, 1.0).await;
    assert_eq!(value_of(&text, mismatches), 1.0, "{text}");
    let collisions = r#"clientsync_conflicts_open{kind="key_collision"}"#;
    assert!(text.contains(collisions), "kinds with none read 0: {text}");
    assert!(
        text.contains(r#"clientsync_outbox_rows{status="failed"}"#),
        "{text}"
    );
}

#[tokio::test]
async fn a_worker_reports_its_live_and_wanted_consumers_and_the_age_of_the_oldest_waiting_event() {
    let app = spawn_app_in_role(Backend::Embedded, Role::Worker, |_| {}).await;

    let text = scrape(&app).await;

    assert!(
        text.contains("# HELP clientsync_worker_consumers_live "),
        "{text}"
    );
    assert!(text.contains("clientsync_worker_consumers_wanted "), "{text}");
    assert!(
        text.contains("clientsync_queue_oldest_event_age_seconds "),
        "{text}"
    );
}

#[test]
fn every_metric_the_monitoring_manifests_use_is_one_the_service_describes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("k8s/monitoring");
    let mut used = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for token in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if token.starts_with("clientsync_") {
                used.push((path.display().to_string(), token.to_owned()));
            }
        }
    }
    assert!(
        used.len() > 10,
        "the alerts and dashboard use the service's series: {used:?}"
    );
    for (file, name) in used {
        assert!(
            SERIES.iter().any(|s| s.name == base_name(&name)),
            "{file} uses {name}, which the service does not export"
        );
    }
}

/// A histogram's sample names carry a suffix; the described name does not.
fn base_name(sample: &str) -> &str {
    ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|suffix| sample.strip_suffix(suffix))
        .filter(|base| SERIES.iter().any(|s| s.name == *base))
        .unwrap_or(sample)
}
