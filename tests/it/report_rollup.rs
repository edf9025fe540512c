//! The events report's rollup of closed days: on both backends the report equals a direct count
//! of the inbox rows, whether its days are counted live, rolled by this read or read back from
//! the rollup, by two readers at once, across midnight and after a late event is written for a
//! day already rolled; and the days retention deletes keep their counts.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use clientsync::{
    clock::Clock,
    domain::{
        event::{Envelope, EventId},
        source::Source,
    },
    reports::{self, EventsPerDay, Report, ReportName},
    retention::Pruner,
    store::inbox::{self, Claim},
};
use entity::{
    inbox_events::{self, InboxStatus},
    report_rolled_days,
};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use serde_json::json;

use crate::{
    helpers::{Backend, spawn_app},
    reports::seed_event,
};

on_both_backends!(
    the_report_equals_a_direct_count_before_and_after_its_days_are_rolled,
    a_day_is_counted_live_until_it_settles_and_then_again_when_a_late_event_arrives,
    retention_deletes_inbox_rows_but_their_days_keep_their_counts,
);

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

const TYPES: [(&str, &str); 3] = [
    ("hubspot", "contact.creation"),
    ("hubspot", "contact.propertyChange"),
    ("clickup", "taskUpdated"),
];

/// Between 0 and 4 events of each type on each of the `days` days before `last`, at times
/// spread over the day (midnight and a second before it included).
async fn seed_days(db: &DatabaseConnection, last: NaiveDate, days: i64) {
    for back in 0..days {
        let day = last - Duration::days(back);
        for (t, (source, event_type)) in TYPES.into_iter().enumerate() {
            let n = (back * 7 + t as i64 * 3) % 5;
            for i in 0..n {
                let second = [0, 43_200, 86_399, 3_600][i as usize % 4];
                let when = day.and_hms_opt(0, 0, 0).unwrap().and_utc() + Duration::seconds(second);
                seed_event(db, source, event_type, InboxStatus::Processed, when).await;
            }
        }
    }
}

/// Counts per day, source and type of the report's days, straight from the inbox rows.
async fn direct_count(
    db: &DatabaseConnection,
    report: &EventsPerDay,
) -> BTreeMap<(NaiveDate, String, String), u64> {
    count_rows(db, report.from, report.to).await
}

async fn count_rows(
    db: &DatabaseConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> BTreeMap<(NaiveDate, String, String), u64> {
    let mut counts = BTreeMap::new();
    for row in inbox_events::Entity::find().all(db).await.unwrap() {
        let day = row.received_at.date_naive();
        if (from..=to).contains(&day) {
            *counts.entry((day, row.source, row.event_type)).or_default() += 1;
        }
    }
    counts
}

/// The report's non-zero counts in the same shape, after checking each day's total is their sum.
fn reported(report: &EventsPerDay) -> BTreeMap<(NaiveDate, String, String), u64> {
    let mut counts = BTreeMap::new();
    for day in &report.days {
        assert_eq!(
            day.total,
            day.by_type.iter().map(|c| c.count).sum::<u64>(),
            "{}",
            day.day
        );
        for c in day.by_type.iter().filter(|c| c.count > 0) {
            counts.insert((day.day, c.source.clone(), c.event_type.clone()), c.count);
        }
    }
    counts
}

async fn events(db: &DatabaseConnection, days: u32, now: DateTime<Utc>) -> EventsPerDay {
    match reports::make(db, ReportName::EventsPerDay, days, now)
        .await
        .unwrap()
    {
        Report::EventsPerDay(r) => r,
        other => panic!("expected events per day, got {other:?}"),
    }
}

async fn rolled_days(db: &DatabaseConnection) -> u64 {
    report_rolled_days::Entity::find().count(db).await.unwrap()
}

async fn the_report_equals_a_direct_count_before_and_after_its_days_are_rolled(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = &app.db;
    let now = at("2026-03-20T12:00:00Z");
    seed_days(db, now.date_naive(), 40).await;
    assert_eq!(rolled_days(db).await, 0);

    // Two readers at once: both roll the same days, one after the other.
    let (first, second) = tokio::join!(events(db, 20, now), events(db, 20, now));
    let expected = direct_count(db, &first).await;
    assert!(expected.len() > 20, "the seed gives most days events");
    assert_eq!(reported(&first), expected);
    assert_eq!(second, first);
    // The 19 closed days of the window and the 13 before it; today is counted live.
    assert_eq!(rolled_days(db).await, 32);

    // Read back from the rollup, and a longer window that rolls only the days it adds.
    assert_eq!(events(db, 20, now).await, first);
    let longer = events(db, 30, now).await;
    assert_eq!(reported(&longer), direct_count(db, &longer).await);
    assert_eq!(rolled_days(db).await, 42);
}

async fn a_day_is_counted_live_until_it_settles_and_then_again_when_a_late_event_arrives(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = &app.db;
    seed_days(db, at("2026-03-20T00:00:00Z").date_naive(), 5).await;
    let before_midnight = at("2026-03-20T23:30:00Z");
    let report = events(db, 3, before_midnight).await;
    assert_eq!(reported(&report), direct_count(db, &report).await);

    // Half an hour after midnight the 20th is closed but not settled: still counted live, so an
    // event the receiver took at 23:59:59 and a worker writes now is in the next report.
    let after_midnight = at("2026-03-21T00:30:00Z");
    seed_event(
        db,
        TYPES[2].0,
        TYPES[2].1,
        InboxStatus::Processed,
        at("2026-03-20T23:59:59Z"),
    )
    .await;
    let report = events(db, 3, after_midnight).await;
    assert_eq!(reported(&report), direct_count(db, &report).await);
    let rolled = rolled_days(db).await;

    // At 02:00 the 20th is rolled with the event in it.
    let settled = at("2026-03-21T02:00:00Z");
    let report = events(db, 3, settled).await;
    assert_eq!(rolled_days(db).await, rolled + 1);
    assert_eq!(reported(&report), direct_count(db, &report).await);
    let before_late = report.days[1].total;

    // A worker takes an event of the 20th off the queue now, after the day was rolled: the
    // claim leaves a late mark and the next report counts the 20th again.
    let late = envelope("late", at("2026-03-20T18:00:00Z"));
    let txn = clientsync::store::begin_write(db).await.unwrap();
    let claim = inbox::claim(&txn, &late, InboxStatus::Processed, 1, None)
        .await
        .unwrap();
    txn.commit().await.unwrap();
    assert_eq!(claim, Claim::Fresh);
    let report = events(db, 3, settled).await;
    assert_eq!(report.days[1].day, at("2026-03-20T00:00:00Z").date_naive());
    assert_eq!(report.days[1].total, before_late + 1);
    assert_eq!(reported(&report), direct_count(db, &report).await);

    // The worker's batch claim leaves the same marks: two more late events, claimed together.
    let (one, two) = (
        envelope("late-1", at("2026-03-20T19:00:00Z")),
        envelope("late-2", at("2026-03-20T20:00:00Z")),
    );
    let batch: Vec<inbox::ToClaim<'_>> = [&one, &two]
        .into_iter()
        .map(|env| inbox::ToClaim {
            env,
            status: InboxStatus::Processed,
            attempt: 1,
            note: None,
        })
        .collect();
    let txn = clientsync::store::begin_write(db).await.unwrap();
    let claims = inbox::claim_all(&txn, &batch).await.unwrap();
    txn.commit().await.unwrap();
    assert_eq!(claims, vec![Claim::Fresh, Claim::Fresh]);
    let report = events(db, 3, settled).await;
    assert_eq!(report.days[1].total, before_late + 3);
    assert_eq!(reported(&report), direct_count(db, &report).await);
}

async fn retention_deletes_inbox_rows_but_their_days_keep_their_counts(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = &app.db;
    let now = at("2026-03-20T12:00:00Z");
    // Inbox rows are kept 400 days by default: the oldest 30 of these 430 days go. No report is
    // read before the prune: retention rolls the days itself.
    let last = now.date_naive();
    seed_days(db, last, 430).await;
    let oldest = last - Duration::days(429);
    let stored_before = count_rows(db, oldest, last).await;
    assert_eq!(rolled_days(db).await, 0);

    let config = clientsync::config::Config::defaults().unwrap().retention;
    let pruned = Pruner::new(db.clone(), &config, Clock::fixed(now.timestamp_millis()))
        .prune()
        .await
        .unwrap();
    assert!(pruned.inbox_rows > 0);
    let stored_after = count_rows(db, oldest, last).await;
    assert!(
        stored_after
            .keys()
            .all(|(day, _, _)| *day > oldest + Duration::days(25))
    );

    let report = events(db, 431, now).await;
    assert_eq!(reported(&report), stored_before);
    assert!(reported(&report).keys().any(|(day, _, _)| *day == oldest));
}

fn envelope(name: &str, received_at: DateTime<Utc>) -> Envelope {
    Envelope {
        id: EventId::new(format!("clickup:test:{name}")),
        source: Source::ClickUp,
        event_type: TYPES[2].1.into(),
        object_id: name.into(),
        occurred_at_ms: received_at.timestamp_millis(),
        received_at,
        payload: json!({}),
    }
}
