//! Bulk actions by filter (admin): a dry run counts, a real run works through every row at a
//! bounded rate with one audit row each, reports progress and stops when cancelled; a bulk
//! replay with the workers running loses no event and applies none twice.

use std::time::{Duration, Instant};

use clientsync::startup::Role as ServiceRole;
use entity::{audit_log, inbox_events, operators::Role};
use reqwest::{Method, StatusCode};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter,
};
use serde_json::{Value, json};

use crate::{
    dead_events_api::failed_writeback,
    helpers::{
        Backend, TestApp, clickup_task_update, hubspot_property, now_ms, spawn_app_in_role, spawn_app_with,
    },
    operator::OperatedApp,
};

on_both_backends!(
    bulk_replay_of_a_thousand_dead_events_with_the_workers_running_loses_none_and_applies_none_twice,
    a_cancelled_bulk_job_stops_before_its_next_rows,
    a_bulk_resolve_dry_run_counts_and_the_real_run_resolves_each_conflict_with_its_own_audit_row,
    a_job_whose_runner_stopped_with_a_restart_ends_when_cancelled,
    a_bulk_retry_puts_back_the_failed_write_backs_its_filter_selects,
);

pub(crate) async fn admin_app(app: TestApp) -> OperatedApp {
    let token = app.add_operator("ada", Role::Admin).await;
    OperatedApp { app, token }
}

async fn audits(app: &TestApp, action: &str) -> u64 {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(action))
        .count(&app.db)
        .await
        .expect("count")
}

async fn dead_count(app: &TestApp) -> u64 {
    inbox_events::Entity::find()
        .filter(inbox_events::Column::Status.eq(inbox_events::InboxStatus::Dead))
        .count(&app.db)
        .await
        .expect("count")
}

/// Polls the job until it ends (or the deadline passes); returns it.
pub(crate) async fn until_ended(app: &OperatedApp, job: &str, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let (status, body) = app.operator_get(&format!("/api/v1/bulk/{job}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if ["finished", "cancelled", "failed"].contains(&body["status"].as_str().unwrap_or_default()) {
            return body;
        }
        assert!(Instant::now() < deadline, "job did not end in time: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `n` dead events stored as the worker stores them (inbox rows with their payloads).
pub(crate) async fn seed_dead(app: &TestApp, n: i64, t: i64) {
    for i in 0..n {
        let event = hubspot_property(10_000 + i, "email", &format!("p{i}@example.com"), t + i);
        inbox_events::ActiveModel {
            id: Set(format!("hubspot:{}", t + i)),
            source: Set("hubspot".into()),
            event_type: Set("contact.propertyChange".into()),
            object_id: Set((10_000 + i).to_string()),
            occurred_at_ms: Set(t + i),
            received_at: Set(chrono::Utc::now()),
            payload: Set(event),
            status: Set(inbox_events::InboxStatus::Dead),
            attempts: Set(1),
            last_error: Set(Some("database: relation does not exist".into())),
            updated_at: Set(chrono::Utc::now()),
            payload_pruned_at: Set(None),
        }
        .insert(&app.db)
        .await
        .expect("dead event");
    }
}

async fn bulk_replay_of_a_thousand_dead_events_with_the_workers_running_loses_none_and_applies_none_twice(
    backend: Backend,
) {
    const N: i64 = 1000;
    let app = spawn_app_in_role(backend, ServiceRole::All, |c| {
        c.queue.max_attempts = 1;
        c.server.bulk_rows_per_sec = 2000;
    })
    .await;
    let app = admin_app(app).await;
    // The store breaks under the running workers: every event dies at its first attempt.
    app.db
        .execute_unprepared("ALTER TABLE source_records RENAME TO source_records_moved")
        .await
        .unwrap();
    let t = now_ms() - 600_000;
    for chunk in 0..N / 100 {
        let events: Vec<Value> = (chunk * 100..(chunk + 1) * 100)
            .map(|i| hubspot_property(10_000 + i, "email", &format!("p{i}@example.com"), t + i))
            .collect();
        assert_eq!(app.post_hubspot(&json!(events)).await.status(), 200);
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while dead_count(&app).await < N as u64 {
        assert!(Instant::now() < deadline, "only {} dead", dead_count(&app).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.db
        .execute_unprepared("ALTER TABLE source_records_moved RENAME TO source_records")
        .await
        .unwrap();

    let request = json!({"action": "replay_dead", "filter": {"source": "hubspot"}, "dry_run": true});
    let (status, dry) = app
        .operator_send(Method::POST, "/api/v1/bulk", Some(request))
        .await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(dry["would_touch"], N);
    assert_eq!(audits(&app, "event.replay").await, 0, "a dry run touches nothing");

    let request = json!({"action": "replay_dead", "filter": {"source": "hubspot"}, "dry_run": false});
    let (status, job) = app
        .operator_send(Method::POST, "/api/v1/bulk", Some(request))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(job["total"], N);
    let job = until_ended(&app, job["id"].as_str().expect("id"), Duration::from_secs(120)).await;
    assert_eq!(
        (
            job["status"].as_str(),
            job["done"].as_i64(),
            job["failed"].as_i64()
        ),
        (Some("finished"), Some(N), Some(0)),
        "{job}"
    );

    let deadline = Instant::now() + Duration::from_secs(120);
    let processed = || async {
        inbox_events::Entity::find()
            .filter(inbox_events::Column::Status.eq(inbox_events::InboxStatus::Processed))
            .count(&app.db)
            .await
            .expect("count")
    };
    while processed().await < N as u64 {
        assert!(Instant::now() < deadline, "only {} applied", processed().await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A second copy of every event (the dead-letter store's, had the purge missed any) is a no-op.
    assert_eq!(
        app.queue.replay_dead(2 * N as usize).await.unwrap(),
        0,
        "no copy left behind"
    );
    assert_eq!(app.inbox_count().await, N as u64);
    assert_eq!(dead_count(&app).await, 0, "none lost");
    assert_eq!(app.source_records().await.len(), N as usize);
    assert_eq!(app.clients().await.len(), N as usize, "none applied twice");
    assert_eq!(
        audits(&app, "event.replay").await,
        N as u64,
        "one audit row per event"
    );
    assert_eq!(audits(&app, "bulk.start").await, 1);
}

async fn a_cancelled_bulk_job_stops_before_its_next_rows(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.server.bulk_rows_per_sec = 20).await;
    let app = admin_app(app).await;
    seed_dead(&app, 200, now_ms() - 600_000).await;
    let request = json!({"action": "replay_dead", "filter": {}, "dry_run": false});
    let (status, job) = app
        .operator_send(Method::POST, "/api/v1/bulk", Some(request))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let id = job["id"].as_str().expect("id").to_owned();
    let (status, cancelling) = app
        .operator_send(Method::POST, &format!("/api/v1/bulk/{id}/cancel"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelling}");
    assert_eq!(cancelling["cancelled"], true);
    let job = until_ended(&app, &id, Duration::from_secs(30)).await;
    assert_eq!(job["status"], "cancelled", "{job}");
    let done = job["done"].as_u64().expect("done");
    assert!(done < 200, "stopped early: {job}");
    app.drain_worker().await;
    assert_eq!(
        dead_count(&app).await,
        200 - done,
        "those replayed applied, the rest untouched"
    );
    assert_eq!(audits(&app, "event.replay").await, done);
    assert_eq!(audits(&app, "bulk.cancel").await, 1);
    let (status, body) = app
        .operator_send(Method::POST, &format!("/api/v1/bulk/{id}/cancel"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "already ended: {body}");
}

/// Two people in both systems whose phones and cities disagree: four field mismatches, two
/// on `phone` and two on `city`.
pub(crate) async fn two_people_disagreeing_on_phone_and_city(app: &TestApp, t: i64) {
    for (i, (hub, click)) in [
        ("+34 611 111 111", "+34 622 222 222"),
        ("+34 633 333 333", "+34 644 444 444"),
    ]
    .iter()
    .enumerate()
    {
        let i = i as i64;
        let email = format!("p{i}@example.com");
        let contact = json!([
            hubspot_property(100 + i, "email", &email, t + 10 * i),
            hubspot_property(100 + i, "phone", hub, t + 10 * i + 1),
            hubspot_property(100 + i, "city", "Madrid", t + 10 * i + 2),
        ]);
        assert_eq!(app.post_hubspot(&contact).await.status(), 200);
        let (h1, h2, h3) = (format!("h{i}1"), format!("h{i}2"), format!("h{i}3"));
        let task = clickup_task_update(
            &format!("t{i}"),
            &[
                (h1.as_str(), "Email", email.as_str()),
                (h2.as_str(), "Phone", click),
                (h3.as_str(), "City", "Sevilla"),
            ],
            t + 10 * i + 3,
        );
        assert_eq!(app.post_clickup(&task).await.status(), 200);
    }
    app.drain_worker().await;
}

async fn a_bulk_resolve_dry_run_counts_and_the_real_run_resolves_each_conflict_with_its_own_audit_row(
    backend: Backend,
) {
    let app = spawn_app_with(backend, |_| {}).await;
    let app = admin_app(app).await;
    two_people_disagreeing_on_phone_and_city(&app, now_ms() - 60_000).await;
    let open = app.open_conflicts("field_mismatch").await;
    let phones = open.iter().filter(|c| c["field"] == "phone").count();
    assert_eq!(phones, 2, "{open:?}");

    let request = |dry_run: bool| {
        json!({
            "action": "resolve",
            "filter": {"field": "phone"},
            "resolution": {"action": "keep_hubspot"},
            "dry_run": dry_run,
        })
    };
    let (status, dry) = app
        .operator_send(Method::POST, "/api/v1/bulk", Some(request(true)))
        .await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(dry["would_touch"], 2);
    let (status, job) = app
        .operator_send(Method::POST, "/api/v1/bulk", Some(request(false)))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let job = until_ended(&app, job["id"].as_str().expect("id"), Duration::from_secs(30)).await;
    assert_eq!(
        (job["done"].as_i64(), job["failed"].as_i64()),
        (Some(2), Some(0)),
        "{job}"
    );
    let left = app.open_conflicts("field_mismatch").await;
    assert!(left.iter().all(|c| c["field"] != "phone"), "{left:?}");
    assert_eq!(left.len(), open.len() - 2, "other fields untouched");
    assert_eq!(
        audits(&app, "conflict.resolve").await,
        2,
        "one audit row per conflict"
    );

    let wrong = json!({"action": "resolve", "filter": {"kind": "ambiguous_match"}, "resolution": {"action": "keep_hubspot"}, "dry_run": true});
    let (status, body) = app.operator_send(Method::POST, "/api/v1/bulk", Some(wrong)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let missing = json!({"action": "resolve", "dry_run": true});
    let (status, body) = app
        .operator_send(Method::POST, "/api/v1/bulk", Some(missing))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

async fn a_job_whose_runner_stopped_with_a_restart_ends_when_cancelled(backend: Backend) {
    let app = admin_app(spawn_app_with(backend, |_| {}).await).await;
    // A job a process was running when it restarted: running, its progress silent for minutes.
    let job = clientsync::store::bulk_jobs::create(&app.db, "replay_dead", json!({}), 10, "ada")
        .await
        .expect("job");
    clientsync::store::bulk_jobs::progress(&app.db, job.id, 4, 0, None)
        .await
        .expect("progress");
    let mut stale: entity::bulk_jobs::ActiveModel = entity::bulk_jobs::Entity::find_by_id(job.id)
        .one(&app.db)
        .await
        .expect("read")
        .expect("job")
        .into();
    stale.updated_at = Set(chrono::Utc::now() - chrono::Duration::minutes(10));
    stale.update(&app.db).await.expect("age it");

    let (status, body) = app
        .operator_send(Method::POST, &format!("/api/v1/bulk/{}/cancel", job.id), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "cancelled", "no runner will end it: {body}");
    assert_eq!(body["done"], 4);
    assert!(body["finished_at"].is_string());
}

async fn a_bulk_retry_puts_back_the_failed_write_backs_its_filter_selects(backend: Backend) {
    let app = admin_app(spawn_app_with(backend, |_| {}).await).await;
    let client = uuid::Uuid::now_v7();
    failed_writeback(&app, client, "hubspot", "project_status").await;
    failed_writeback(&app, client, "hubspot", "payment_status").await;
    failed_writeback(&app, client, "clickup", "phone").await;
    let request = |dry_run: bool| json!({"action": "retry_writebacks", "filter": {"source": "hubspot"}, "dry_run": dry_run});
    let (status, dry) = app
        .operator_send(Method::POST, "/api/v1/bulk", Some(request(true)))
        .await;
    assert_eq!(
        (status, dry["would_touch"].as_u64()),
        (StatusCode::OK, Some(2)),
        "{dry}"
    );
    let (status, job) = app
        .operator_send(Method::POST, "/api/v1/bulk", Some(request(false)))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let job = until_ended(&app, job["id"].as_str().expect("id"), Duration::from_secs(30)).await;
    assert_eq!(
        (job["done"].as_i64(), job["failed"].as_i64()),
        (Some(2), Some(0)),
        "{job}"
    );
    let (_, failed) = app.operator_get("/api/v1/outbox?status=failed").await;
    let left: Vec<&str> = failed["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|i| i["source"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(left, vec!["clickup"], "only what the filter selected");
    assert_eq!(audits(&app, "outbox.retry").await, 2);
}
