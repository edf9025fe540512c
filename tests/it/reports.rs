//! Reports: rows seeded at known instants, on both backends, come out as exact figures on the
//! right UTC days (a row at midnight opens its day, one a second before closes the previous),
//! with days that have nothing as zeros, the rolling 14-day mean reading the 13 days before the
//! window, and medians of odd and even counts; the API and the CLI serve the same report.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use clientsync::{
    cli::{ReportArgs, ReportFormat, run_report},
    reports::{self, Report, ReportName},
};
use entity::{
    conflicts::{self, ConflictKind, ConflictStatus},
    decisions::{self, DecisionKind},
    inbox_events::{self, InboxStatus},
    operators::Role,
    outbox::{self, OutboxStatus},
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, spawn_app};

on_both_backends!(
    events_per_day_count_each_source_and_type_with_a_rolling_mean_over_fourteen_days,
    conflicts_per_day_count_openings_and_resolutions_with_their_median_time,
    decisions_per_day_give_the_auto_linked_share_of_what_was_decided,
    write_backs_per_day_count_sent_and_failed_but_not_pending,
    the_backlog_counts_unprocessed_events_and_the_age_of_the_oldest,
    the_api_serves_a_report_to_a_viewer_and_refuses_unknown_names_and_bad_windows,
    the_cli_prints_a_report_as_csv_and_as_the_apis_json,
);

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// Reports are made at noon on 20 March 2026; a three-day window is 18–20 March.
fn now() -> DateTime<Utc> {
    at("2026-03-20T12:00:00Z")
}

/// Stores one inbox event (the report tests of `report_rollup` seed with it too).
pub(crate) async fn seed_event(
    db: &DatabaseConnection,
    source: &str,
    event_type: &str,
    status: InboxStatus,
    received_at: DateTime<Utc>,
) {
    inbox_events::ActiveModel {
        id: Set(Uuid::now_v7().to_string()),
        source: Set(source.into()),
        event_type: Set(event_type.into()),
        object_id: Set("42".into()),
        // A sender's clock a day off: reports count by when we received it.
        occurred_at_ms: Set((received_at - Duration::days(1)).timestamp_millis()),
        received_at: Set(received_at),
        payload: Set(json!({})),
        status: Set(status),
        attempts: Set(1),
        last_error: Set(None),
        updated_at: Set(received_at),
        payload_pruned_at: Set(None),
    }
    .insert(db)
    .await
    .unwrap();
}

async fn seed_conflict(db: &DatabaseConnection, created_at: &str, resolved_at: Option<&str>) {
    conflicts::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(ConflictKind::FieldMismatch),
        status: Set(if resolved_at.is_some() {
            ConflictStatus::Resolved
        } else {
            ConflictStatus::Open
        }),
        client_id: Set(None),
        field: Set(Some("phone".into())),
        hubspot_value: Set(Some("1".into())),
        clickup_value: Set(Some("2".into())),
        candidates: Set(json!([])),
        source: Set("hubspot".into()),
        external_id: Set("contact:42".into()),
        event_id: Set("hubspot:1".into()),
        resolution: Set(resolved_at.map(|_| "kept HubSpot's value".to_owned())),
        resolved_by: Set(resolved_at.map(|_| "alice".to_owned())),
        resolved_at: Set(resolved_at.map(at)),
        created_at: Set(at(created_at)),
        updated_at: Set(at(resolved_at.unwrap_or(created_at))),
    }
    .insert(db)
    .await
    .unwrap();
}

async fn seed_decision(db: &DatabaseConnection, kind: DecisionKind, decided_at: &str) {
    decisions::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(kind),
        source: Set("hubspot".into()),
        external_id: Set("contact:42".into()),
        event_id: Set("hubspot:1".into()),
        client_id: Set(None),
        from_client_id: Set(None),
        probability: Set(None),
        evidence: Set(json!({})),
        model_version: Set("test".into()),
        decided_at: Set(at(decided_at)),
    }
    .insert(db)
    .await
    .unwrap();
}

async fn seed_write(db: &DatabaseConnection, status: OutboxStatus, updated_at: &str) {
    let id = Uuid::now_v7();
    outbox::ActiveModel {
        id: Set(id),
        subject: Set(outbox::OutboxSubject::Client),
        client_id: Set(Some(Uuid::nil())),
        project_id: Set(None),
        source: Set("hubspot".into()),
        external_id: Set("contact:42".into()),
        kind: Set("contact".into()),
        field: Set("payment_status".into()),
        value: Set("Paid".into()),
        status: Set(status),
        pending_key: Set((status == OutboxStatus::Pending).then(|| format!("hubspot|contact:42|{id}"))),
        attempts: Set(1),
        next_attempt_at: Set(at(updated_at)),
        last_error: Set(None),
        created_at: Set(at(updated_at)),
        updated_at: Set(at(updated_at)),
    }
    .insert(db)
    .await
    .unwrap();
}

async fn report(db: &DatabaseConnection, name: ReportName, days: u32) -> Report {
    reports::make(db, name, days, now()).await.unwrap()
}

async fn events_per_day_count_each_source_and_type_with_a_rolling_mean_over_fourteen_days(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = &app.db;
    // 5 March is the 13th day before the window: read by 18 March's mean only.
    for _ in 0..14 {
        seed_event(
            db,
            "hubspot",
            "contact.creation",
            InboxStatus::Processed,
            at("2026-03-05T10:00:00Z"),
        )
        .await;
    }
    // A second before: read by no mean.
    seed_event(
        db,
        "hubspot",
        "contact.creation",
        InboxStatus::Processed,
        at("2026-03-04T23:59:59Z"),
    )
    .await;
    for _ in 0..2 {
        seed_event(
            db,
            "hubspot",
            "contact.propertyChange",
            InboxStatus::Processed,
            at("2026-03-18T00:00:00Z"),
        )
        .await;
    }
    seed_event(
        db,
        "clickup",
        "taskUpdated",
        InboxStatus::Dead,
        at("2026-03-20T23:59:59Z"),
    )
    .await;
    seed_event(
        db,
        "clickup",
        "taskUpdated",
        InboxStatus::Processed,
        at("2026-03-21T00:00:00Z"),
    )
    .await;

    let Report::EventsPerDay(r) = report(db, ReportName::EventsPerDay, 3).await else {
        panic!("events")
    };
    assert_eq!((r.from, r.to), (day("2026-03-18"), day("2026-03-20")));
    let totals: Vec<_> = r.days.iter().map(|d| (d.day, d.total, d.total_avg_14d)).collect();
    assert_eq!(
        totals,
        vec![
            (day("2026-03-18"), 2, 16.0 / 14.0),
            (day("2026-03-19"), 0, 2.0 / 14.0),
            (day("2026-03-20"), 1, 3.0 / 14.0),
        ]
    );
    let first: Vec<_> = r.days[0]
        .by_type
        .iter()
        .map(|c| (c.source.as_str(), c.event_type.as_str(), c.count, c.avg_14d))
        .collect();
    assert_eq!(
        first,
        vec![
            ("clickup", "taskUpdated", 0, 0.0),
            ("hubspot", "contact.creation", 0, 1.0),
            ("hubspot", "contact.propertyChange", 2, 2.0 / 14.0),
        ]
    );
    assert_eq!(
        r.days[2].by_type[0].count, 1,
        "the dead event counts: it was received"
    );
    assert_eq!(r.days[2].by_type[1].avg_14d, 0.0, "5 March has left the mean");
}

async fn conflicts_per_day_count_openings_and_resolutions_with_their_median_time(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = &app.db;
    seed_conflict(db, "2026-03-18T10:00:00Z", Some("2026-03-18T10:10:00Z")).await; // 600 s
    seed_conflict(db, "2026-03-18T23:00:00Z", Some("2026-03-19T01:00:00Z")).await; // 7200 s
    seed_conflict(db, "2026-03-19T08:00:00Z", Some("2026-03-19T09:00:00Z")).await; // 3600 s
    seed_conflict(db, "2026-03-20T08:00:00Z", None).await;
    seed_conflict(db, "2026-03-17T08:00:00Z", Some("2026-03-21T00:00:00Z")).await; // outside both ways

    let Report::ConflictsPerDay(r) = report(db, ReportName::ConflictsPerDay, 3).await else {
        panic!("conflicts")
    };
    let days: Vec<_> = r
        .days
        .iter()
        .map(|d| (d.day, d.opened, d.resolved, d.median_seconds_to_resolve))
        .collect();
    assert_eq!(
        days,
        vec![
            (day("2026-03-18"), 2, 1, Some(600.0)),
            (day("2026-03-19"), 1, 2, Some(5400.0)),
            (day("2026-03-20"), 1, 0, None),
        ]
    );
    assert_eq!(r.median_seconds_to_resolve, Some(3600.0));
}

async fn decisions_per_day_give_the_auto_linked_share_of_what_was_decided(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = &app.db;
    for kind in [
        DecisionKind::Link,
        DecisionKind::Link,
        DecisionKind::Merge,
        DecisionKind::Ambiguous,
        DecisionKind::NewClient,
    ] {
        seed_decision(db, kind, "2026-03-19T12:00:00Z").await;
    }
    seed_decision(db, DecisionKind::Collision, "2026-03-20T00:00:00Z").await;
    seed_decision(db, DecisionKind::Split, "2026-03-20T11:00:00Z").await;
    seed_decision(db, DecisionKind::Link, "2026-03-17T23:59:59Z").await;

    let Report::DecisionsPerDay(r) = report(db, ReportName::DecisionsPerDay, 3).await else {
        panic!("decisions")
    };
    let days: Vec<_> = r
        .days
        .iter()
        .map(|d| {
            (
                d.auto_linked,
                d.sent_to_review,
                d.new_client,
                d.split,
                d.auto_share,
            )
        })
        .collect();
    assert_eq!(
        days,
        vec![
            (0, 0, 0, 0, None),
            (3, 1, 1, 0, Some(0.75)),
            (0, 1, 0, 1, Some(0.0))
        ]
    );
}

async fn write_backs_per_day_count_sent_and_failed_but_not_pending(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = &app.db;
    seed_write(db, OutboxStatus::Sent, "2026-03-18T09:00:00Z").await;
    seed_write(db, OutboxStatus::Sent, "2026-03-18T23:59:59Z").await;
    seed_write(db, OutboxStatus::Failed, "2026-03-20T01:00:00Z").await;
    seed_write(db, OutboxStatus::Pending, "2026-03-20T02:00:00Z").await;

    let Report::WriteBacksPerDay(r) = report(db, ReportName::WriteBacksPerDay, 3).await else {
        panic!("writes")
    };
    let days: Vec<_> = r.days.iter().map(|d| (d.day, d.sent, d.failed)).collect();
    assert_eq!(
        days,
        vec![
            (day("2026-03-18"), 2, 0),
            (day("2026-03-19"), 0, 0),
            (day("2026-03-20"), 0, 1)
        ]
    );
}

async fn the_backlog_counts_unprocessed_events_and_the_age_of_the_oldest(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = &app.db;
    seed_event(
        db,
        "hubspot",
        "contact.creation",
        InboxStatus::PendingEnrichment,
        now() - Duration::seconds(90),
    )
    .await;
    seed_event(
        db,
        "clickup",
        "taskCreated",
        InboxStatus::PendingEnrichment,
        now() - Duration::seconds(30),
    )
    .await;
    seed_event(
        db,
        "hubspot",
        "contact.creation",
        InboxStatus::Dead,
        now() - Duration::days(3),
    )
    .await;
    seed_event(
        db,
        "hubspot",
        "contact.creation",
        InboxStatus::Processed,
        now() - Duration::days(9),
    )
    .await;

    let Report::Backlog(r) = report(db, ReportName::Backlog, 1).await else {
        panic!("backlog")
    };
    assert_eq!(r.unprocessed, 2);
    assert_eq!(r.oldest_received_at, Some(now() - Duration::seconds(90)));
    assert_eq!(r.oldest_age_seconds, Some(90));
    assert_eq!(r.dead, 1);
}

async fn the_api_serves_a_report_to_a_viewer_and_refuses_unknown_names_and_bad_windows(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.add_operator("vera", Role::Viewer).await;
    let today = Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc();
    seed_event(
        &app.db,
        "hubspot",
        "contact.creation",
        InboxStatus::Processed,
        today,
    )
    .await;
    seed_event(
        &app.db,
        "hubspot",
        "contact.creation",
        InboxStatus::Processed,
        today - Duration::seconds(1),
    )
    .await;
    seed_event(
        &app.db,
        "hubspot",
        "contact.creation",
        InboxStatus::Processed,
        today - Duration::seconds(1),
    )
    .await;

    let get = |path: String| {
        app.client
            .get(format!("{}{path}", app.address))
            .bearer_auth(&token)
            .send()
    };
    let response = get("/api/v1/reports/events-per-day?days=2".into()).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["report"], "events-per-day");
    let totals: Vec<_> = body["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["total"].clone())
        .collect();
    assert_eq!(totals, vec![json!(2), json!(1)]);

    let response = get("/api/v1/reports/nothing?days=2".into()).await.unwrap();
    assert_eq!(response.status(), 404);
    let response = get("/api/v1/reports/backlog?days=0".into()).await.unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "bad_request");
}

async fn the_cli_prints_a_report_as_csv_and_as_the_apis_json(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_write(&app.db, OutboxStatus::Sent, "2026-03-19T09:00:00Z").await;
    seed_write(&app.db, OutboxStatus::Failed, "2026-03-20T09:00:00Z").await;
    let args = |format| ReportArgs {
        name: ReportName::WriteBacksPerDay,
        days: 3,
        format,
    };
    let csv = run_report(&app.db, &args(ReportFormat::Csv), now())
        .await
        .unwrap();
    assert_eq!(
        csv,
        "day,sent,failed\n2026-03-18,0,0\n2026-03-19,1,0\n2026-03-20,0,1\n"
    );
    let text = run_report(&app.db, &args(ReportFormat::Table), now())
        .await
        .unwrap();
    assert!(
        text.starts_with("day         sent  failed\n2026-03-18     0       0\n"),
        "{text}"
    );
    let json: Value = serde_json::from_str(
        &run_report(&app.db, &args(ReportFormat::Json), now())
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(json["report"], "write-backs-per-day");
    assert_eq!(
        json["days"][1],
        json!({"day": "2026-03-19", "sent": 1, "failed": 0})
    );
}
