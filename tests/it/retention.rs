//! Retention: each kind of finished data goes once it is past its cut-off and not a second
//! earlier; what is still needed (pending and dead events, open conflicts, an operator's standing
//! decision, pending and failed write-backs) and the golden list never go; dead events go only
//! by an explicit purge, from the inbox and from the queue's dead-letter store alike.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use clientsync::{
    cli::{PurgeDeadArgs, run_prune, run_purge_dead},
    clock::Clock,
    config::RetentionConfig,
    retention::{
        Pruned, Pruner,
        dead::{self, DeadPurge},
    },
    startup::Role,
    store::conflicts::SYSTEM,
};
use entity::{
    conflicts::{self, ConflictKind, ConflictStatus},
    decisions, field_provenance,
    inbox_events::{self, InboxStatus},
    outbox::{self, OutboxStatus},
    source_records,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, sea_query::Expr,
};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    Backend, TestApp, hubspot_property, now_ms, spawn_app, spawn_app_in_role, spawn_app_with,
};

on_both_backends!(
    each_category_is_pruned_exactly_past_its_cut_off_and_nothing_else,
    a_dry_run_counts_what_a_prune_removes_and_changes_nothing,
    dead_events_survive_age_pruning_and_go_only_with_an_explicit_purge,
    a_prune_crosses_batch_boundaries_without_missing_or_overshooting,
    the_worker_role_prunes_by_itself_on_its_interval,
    prune_and_purge_dead_work_from_the_command_line,
    the_retention_migration_rolls_back_and_forward,
);

/// "Now" for a test: whole seconds, so stored times compare exactly on both backends.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

fn days(n: i64) -> Duration {
    Duration::days(n)
}

fn second() -> Duration {
    Duration::seconds(1)
}

fn pruner(app: &TestApp, config: &RetentionConfig, at: DateTime<Utc>) -> Pruner {
    Pruner::new(app.db.clone(), config, Clock::fixed(at.timestamp_millis()))
}

/// The built-in settings: payloads 30 days, inbox rows 400, resolved conflicts 400, sent
/// outbox rows 30.
fn defaults() -> RetentionConfig {
    clientsync::config::Config::defaults()
        .expect("defaults are valid")
        .retention
}

async fn seed_event(db: &DatabaseConnection, id: &str, status: InboxStatus, received_at: DateTime<Utc>) {
    inbox_events::ActiveModel {
        id: Set(id.to_owned()),
        source: Set("hubspot".into()),
        event_type: Set("contact.propertyChange".into()),
        object_id: Set("42".into()),
        occurred_at_ms: Set(received_at.timestamp_millis()),
        received_at: Set(received_at),
        payload: Set(json!({"propertyName": "email", "propertyValue": format!("{id}@example.com")})),
        status: Set(status),
        attempts: Set(1),
        last_error: Set(None),
        updated_at: Set(received_at),
        payload_pruned_at: Set(None),
    }
    .insert(db)
    .await
    .expect("event seeded");
}

/// A conflict; resolved at `resolved_at` by `by` when given, else open.
async fn seed_conflict(
    db: &DatabaseConnection,
    kind: ConflictKind,
    client: Option<Uuid>,
    resolved: Option<(&str, DateTime<Utc>)>,
    created_at: DateTime<Utc>,
) -> Uuid {
    let id = Uuid::now_v7();
    conflicts::ActiveModel {
        id: Set(id),
        kind: Set(kind),
        status: Set(if resolved.is_some() {
            ConflictStatus::Resolved
        } else {
            ConflictStatus::Open
        }),
        client_id: Set(client),
        field: Set(Some("phone".into())),
        hubspot_value: Set(Some("+34 600 000 001".into())),
        clickup_value: Set(Some("+34 600 000 002".into())),
        candidates: Set(json!([])),
        source: Set("hubspot".into()),
        external_id: Set("contact:42".into()),
        event_id: Set("hubspot:1".into()),
        resolution: Set(resolved.map(|_| "kept HubSpot's value".to_owned())),
        resolved_by: Set(resolved.map(|(by, _)| by.to_owned())),
        resolved_at: Set(resolved.map(|(_, at)| at)),
        created_at: Set(created_at),
        updated_at: Set(resolved.map_or(created_at, |(_, at)| at)),
    }
    .insert(db)
    .await
    .expect("conflict seeded");
    id
}

/// An outbox row last changed (sent, failed or retried) at `at`.
async fn seed_write(db: &DatabaseConnection, status: OutboxStatus, at: DateTime<Utc>) -> Uuid {
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
        next_attempt_at: Set(at),
        last_error: Set((status == OutboxStatus::Failed).then(|| "404 not found".to_owned())),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(db)
    .await
    .expect("write seeded");
    id
}

async fn events(db: &DatabaseConnection) -> Vec<inbox_events::Model> {
    inbox_events::Entity::find().all(db).await.expect("inbox")
}

async fn event(db: &DatabaseConnection, id: &str) -> Option<inbox_events::Model> {
    inbox_events::Entity::find_by_id(id.to_owned())
        .one(db)
        .await
        .expect("inbox row")
}

async fn conflict_ids(db: &DatabaseConnection) -> BTreeSet<Uuid> {
    conflicts::Entity::find()
        .all(db)
        .await
        .expect("conflicts")
        .into_iter()
        .map(|c| c.id)
        .collect()
}

async fn outbox_ids(db: &DatabaseConnection) -> BTreeSet<Uuid> {
    outbox::Entity::find()
        .all(db)
        .await
        .expect("outbox")
        .into_iter()
        .map(|r| r.id)
        .collect()
}

/// Rows of the golden list and its history: clients, records, provenance, decisions.
async fn golden_counts(app: &TestApp) -> [u64; 4] {
    [
        entity::clients::Entity::find()
            .count(&app.db)
            .await
            .expect("clients"),
        source_records::Entity::find()
            .count(&app.db)
            .await
            .expect("records"),
        field_provenance::Entity::find()
            .count(&app.db)
            .await
            .expect("provenance"),
        decisions::Entity::find().count(&app.db).await.expect("decisions"),
    ]
}

/// One real client (with its record, provenance and decision) made by the worker.
async fn a_client(app: &TestApp) -> Uuid {
    let event = json!([hubspot_property(7, "email", "golden@example.com", now_ms())]);
    assert_eq!(app.post_hubspot(&event).await.status(), 200);
    app.drain_worker().await;
    let clients = app.clients().await;
    assert_eq!(clients.len(), 1);
    clients[0].id
}

/// What `seed_everything` leaves, to check afterwards.
struct Seeded {
    /// Conflicts that must survive, and those that must go.
    conflicts_kept: BTreeSet<Uuid>,
    conflicts_gone: BTreeSet<Uuid>,
    /// Outbox rows that must survive, and the one that must go.
    writes_kept: BTreeSet<Uuid>,
    write_gone: Uuid,
}

const STATUSES: [InboxStatus; 4] = [
    InboxStatus::Processed,
    InboxStatus::Ignored,
    InboxStatus::PendingEnrichment,
    InboxStatus::Dead,
];

/// Ages around the payload (30 d) and row (400 d) cut-offs, by label.
fn ages() -> [(&'static str, Duration); 4] {
    [
        ("inside-payload", days(30) - second()),
        ("past-payload", days(30) + second()),
        ("inside-row", days(400) - second()),
        ("past-row", days(400) + second()),
    ]
}

fn event_id(status: InboxStatus, age: &str) -> String {
    format!("test:{status:?}:{age}")
}

/// Every inbox status at every age, conflicts of every kind of standing on both sides of the
/// cut-off, and outbox rows of every status, relative to `at`.
async fn seed_everything(app: &TestApp, client: Uuid, at: DateTime<Utc>) -> Seeded {
    for status in STATUSES {
        for (label, age) in ages() {
            seed_event(&app.db, &event_id(status, label), status, at - age).await;
        }
    }
    let past = Some(at - days(400) - second());
    let inside = Some(at - days(400) + second());
    let mut kept = BTreeSet::new();
    let mut gone = BTreeSet::new();
    // Open, however old: an operator still has to act.
    kept.insert(seed_conflict(&app.db, ConflictKind::AmbiguousMatch, None, None, at - days(900)).await);
    let c = |kind, client, by: &'static str, when: Option<DateTime<Utc>>| {
        let db = app.db.clone();
        async move { seed_conflict(&db, kind, client, when.map(|w| (by, w)), at - days(900)).await }
    };
    kept.insert(c(ConflictKind::AmbiguousMatch, None, SYSTEM, inside).await);
    gone.insert(c(ConflictKind::AmbiguousMatch, None, SYSTEM, past).await);
    gone.insert(c(ConflictKind::KeyCollision, Some(client), "operator:ana", past).await);
    gone.insert(c(ConflictKind::FieldMismatch, Some(client), SYSTEM, past).await);
    // An operator's decision on a field of a client that is gone decides nothing any more.
    gone.insert(c(ConflictKind::FieldMismatch, None, "operator:ana", past).await);
    // An operator's decision on a live client's field: the worker reads it so as not to ask again.
    kept.insert(c(ConflictKind::FieldMismatch, Some(client), "operator:ana", past).await);
    let mut writes_kept = BTreeSet::new();
    writes_kept.insert(seed_write(&app.db, OutboxStatus::Sent, at - days(30) + second()).await);
    writes_kept.insert(seed_write(&app.db, OutboxStatus::Failed, at - days(90)).await);
    writes_kept.insert(seed_write(&app.db, OutboxStatus::Pending, at - days(90)).await);
    let write_gone = seed_write(&app.db, OutboxStatus::Sent, at - days(30) - second()).await;
    Seeded {
        conflicts_kept: kept,
        conflicts_gone: gone,
        writes_kept,
        write_gone,
    }
}

/// What the default settings prune from `seed_everything`.
const EXPECTED: Pruned = Pruned {
    // Processed and ignored events past the payload cut-off but inside the row cut-off.
    payloads: 4,
    // Processed and ignored events past the row cut-off.
    inbox_rows: 2,
    resolved_conflicts: 4,
    sent_outbox_rows: 1,
};

async fn each_category_is_pruned_exactly_past_its_cut_off_and_nothing_else(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = a_client(&app).await;
    let at = now();
    let seeded = seed_everything(&app, client, at).await;
    let golden = golden_counts(&app).await;
    let real_events = events(&app.db).await;
    let real_events: Vec<_> = real_events
        .iter()
        .filter(|e| !e.id.starts_with("test:"))
        .collect();
    assert!(!real_events.is_empty());

    let pruned = pruner(&app, &defaults(), at).prune().await.expect("pruned");

    assert_eq!(pruned, EXPECTED);
    for status in STATUSES {
        let finished = matches!(status, InboxStatus::Processed | InboxStatus::Ignored);
        for (label, _) in ages() {
            let id = event_id(status, label);
            let row = event(&app.db, &id).await;
            match (finished, label) {
                (true, "past-row") => assert!(row.is_none(), "{id} is deleted"),
                (true, "past-payload" | "inside-row") => {
                    let row = row.unwrap_or_else(|| panic!("{id} is kept"));
                    assert_eq!(row.payload, Value::Null, "{id}'s payload is cleared");
                    assert_eq!(row.payload_pruned_at, Some(at), "{id}");
                    assert_eq!((row.source.as_str(), row.status), ("hubspot", status), "{id}");
                }
                _ => {
                    let row = row.unwrap_or_else(|| panic!("{id} is kept"));
                    assert_ne!(row.payload, Value::Null, "{id}'s payload is kept");
                    assert_eq!(row.payload_pruned_at, None, "{id}");
                }
            }
        }
    }
    for real in real_events {
        assert_eq!(
            event(&app.db, &real.id).await.as_ref(),
            Some(real),
            "a new event is untouched"
        );
    }
    let conflicts = conflict_ids(&app.db).await;
    assert!(seeded.conflicts_kept.is_subset(&conflicts), "{conflicts:?}");
    assert!(seeded.conflicts_gone.is_disjoint(&conflicts), "{conflicts:?}");
    let writes = outbox_ids(&app.db).await;
    assert!(seeded.writes_kept.is_subset(&writes), "{writes:?}");
    assert!(!writes.contains(&seeded.write_gone));
    assert_eq!(
        golden_counts(&app).await,
        golden,
        "the golden list is never pruned"
    );

    let again = pruner(&app, &defaults(), at).prune().await.expect("pruned again");
    assert_eq!(
        again,
        Pruned::default(),
        "a second prune finds nothing, cleared payloads included"
    );
}

async fn a_dry_run_counts_what_a_prune_removes_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = a_client(&app).await;
    let at = now();
    seed_everything(&app, client, at).await;
    let before = (
        events(&app.db).await,
        conflict_ids(&app.db).await,
        outbox_ids(&app.db).await,
    );

    let preview = pruner(&app, &defaults(), at).preview().await.expect("counted");

    assert_eq!(preview, EXPECTED);
    let after = (
        events(&app.db).await,
        conflict_ids(&app.db).await,
        outbox_ids(&app.db).await,
    );
    assert!(before == after, "a dry run changes nothing");
    assert_eq!(
        pruner(&app, &defaults(), at).prune().await.expect("pruned"),
        preview
    );

    let mut forever = defaults();
    forever.payload_days = 0;
    forever.sent_outbox_days = 0;
    seed_write(&app.db, OutboxStatus::Sent, at - days(3000)).await;
    seed_event(
        &app.db,
        "test:old-but-kept",
        InboxStatus::Processed,
        at - days(300),
    )
    .await;
    let kept = pruner(&app, &forever, at).preview().await.expect("counted");
    assert_eq!(kept, Pruned::default(), "0 days keeps forever");
}

/// An event whose processing fails for good (the store is broken under the worker).
async fn dead_event(app: &TestApp, object: i64) -> String {
    let event = json!([hubspot_property(
        object,
        "email",
        &format!("dead{object}@example.com"),
        now_ms()
    )]);
    assert_eq!(app.post_hubspot(&event).await.status(), 200);
    app.drain_worker().await;
    let dead: Vec<_> = events(&app.db)
        .await
        .into_iter()
        .filter(|e| e.status == InboxStatus::Dead && e.object_id == object.to_string())
        .collect();
    assert_eq!(dead.len(), 1, "{dead:?}");
    dead[0].id.clone()
}

async fn age(db: &DatabaseConnection, id: &str, at: DateTime<Utc>) {
    inbox_events::Entity::update_many()
        .col_expr(inbox_events::Column::ReceivedAt, Expr::value(at))
        .col_expr(inbox_events::Column::UpdatedAt, Expr::value(at))
        .filter(inbox_events::Column::Id.eq(id))
        .exec(db)
        .await
        .expect("aged");
}

async fn dead_events_survive_age_pruning_and_go_only_with_an_explicit_purge(backend: Backend) {
    let app = spawn_app(backend).await;
    app.db
        .execute_unprepared("ALTER TABLE source_records RENAME TO source_records_moved")
        .await
        .unwrap();
    let old = dead_event(&app, 61).await;
    let recent = dead_event(&app, 62).await;
    app.queue.publish(&[b"not an envelope".to_vec()]).await.unwrap();
    app.drain_worker().await;
    let poison = events(&app.db)
        .await
        .into_iter()
        .find(|e| e.id.starts_with("undecodable:"))
        .expect("the poison body is dead")
        .id;
    let long_ago = now() - days(3650);
    age(&app.db, &old, long_ago).await;
    age(&app.db, &poison, long_ago).await;

    // Age never removes a dead event, whatever the settings.
    let mut shortest = defaults();
    shortest.payload_days = 1;
    shortest.inbox_row_days = 7;
    let pruned = pruner(&app, &shortest, now() + days(3650))
        .prune()
        .await
        .expect("pruned");
    assert_eq!(pruned, Pruned::default());
    let dead = events(&app.db).await;
    assert_eq!(dead.len(), 3, "{dead:?}");
    assert!(
        dead.iter()
            .all(|e| e.status == InboxStatus::Dead && e.payload != Value::Null)
    );

    let yesterday = now() - days(1);
    let broken_store = DeadPurge {
        before: yesterday,
        reason: Some("source_records".into()),
    };
    assert_eq!(
        dead::select(&app.db, &broken_store).await.unwrap(),
        vec![old.clone()]
    );
    let purged = dead::purge(&app.db, app.queue.as_ref(), &broken_store, 1000)
        .await
        .unwrap();
    assert_eq!((purged.events, purged.dead_letters), (1, 1));
    assert!(event(&app.db, &old).await.is_none());
    let any_reason = DeadPurge {
        before: yesterday,
        reason: None,
    };
    let purged = dead::purge(&app.db, app.queue.as_ref(), &any_reason, 1000)
        .await
        .unwrap();
    assert_eq!(
        (purged.events, purged.dead_letters),
        (1, 1),
        "the poison body goes too"
    );
    let left: Vec<String> = events(&app.db).await.into_iter().map(|e| e.id).collect();
    assert_eq!(left, vec![recent.clone()], "the recent dead event stays");

    // Once the cause is fixed, only what was not purged comes back.
    app.db
        .execute_unprepared("ALTER TABLE source_records_moved RENAME TO source_records")
        .await
        .unwrap();
    assert_eq!(app.queue.replay_dead(100).await.unwrap(), 1);
    app.drain_worker().await;
    let left = events(&app.db).await;
    assert_eq!(left.len(), 1);
    assert_eq!(
        (left[0].id.as_str(), left[0].status),
        (recent.as_str(), InboxStatus::Processed)
    );
}

async fn a_prune_crosses_batch_boundaries_without_missing_or_overshooting(backend: Backend) {
    let app = spawn_app(backend).await;
    let at = now();
    let mut config = defaults();
    config.batch_size = 3;
    for n in 0..7 {
        seed_event(
            &app.db,
            &format!("test:row-{n}"),
            InboxStatus::Processed,
            at - days(401),
        )
        .await;
        seed_event(
            &app.db,
            &format!("test:payload-{n}"),
            InboxStatus::Processed,
            at - days(31),
        )
        .await;
        seed_write(&app.db, OutboxStatus::Sent, at - days(31)).await;
    }
    // Exactly two batches, the second full: the loop must stop on the empty third.
    for _ in 0..6 {
        seed_conflict(
            &app.db,
            ConflictKind::AmbiguousMatch,
            None,
            Some((SYSTEM, at - days(401))),
            at,
        )
        .await;
    }
    for n in 0..2 {
        seed_event(
            &app.db,
            &format!("test:new-{n}"),
            InboxStatus::Processed,
            at - days(29),
        )
        .await;
        seed_write(&app.db, OutboxStatus::Sent, at - days(29)).await;
        seed_conflict(
            &app.db,
            ConflictKind::AmbiguousMatch,
            None,
            Some((SYSTEM, at - days(399))),
            at,
        )
        .await;
    }

    let pruned = pruner(&app, &config, at).prune().await.expect("pruned");

    assert_eq!(
        pruned,
        Pruned {
            payloads: 7,
            inbox_rows: 7,
            resolved_conflicts: 6,
            sent_outbox_rows: 7,
        }
    );
    let left = events(&app.db).await;
    assert_eq!(left.len(), 9, "{left:?}");
    assert!(left.iter().all(|e| !e.id.starts_with("test:row-")));
    let cleared = left.iter().filter(|e| e.payload == Value::Null).count();
    assert_eq!(cleared, 7);
    assert_eq!(conflict_ids(&app.db).await.len(), 2);
    assert_eq!(outbox_ids(&app.db).await.len(), 2);
}

async fn the_worker_role_prunes_by_itself_on_its_interval(backend: Backend) {
    let app = spawn_app_in_role(backend, Role::Worker, |c| c.retention.interval_secs = 1).await;
    let at = now();
    seed_event(&app.db, "test:old", InboxStatus::Processed, at - days(401)).await;
    seed_event(&app.db, "test:month", InboxStatus::Processed, at - days(31)).await;
    seed_event(&app.db, "test:new", InboxStatus::Processed, at - days(1)).await;
    let write = seed_write(&app.db, OutboxStatus::Sent, at - days(31)).await;

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let old_gone = event(&app.db, "test:old").await.is_none();
        let month = event(&app.db, "test:month").await.expect("kept");
        let write_gone = !outbox_ids(&app.db).await.contains(&write);
        if old_gone && month.payload == Value::Null && write_gone {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the worker role did not prune: old gone {old_gone}, {month:?}, write gone {write_gone}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let new = event(&app.db, "test:new").await.expect("kept");
    assert_ne!(new.payload, Value::Null);

    let metrics = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"clientsync_pruned_total{what="inbox_rows"}"#),
        "{metrics}"
    );
}

/// Runs the `clientsync` binary against the app's store and queue; returns (success, stdout,
/// stderr).
fn clientsync(app: &TestApp, queue: &(Option<String>, String), args: &[&str]) -> (bool, String, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_clientsync"));
    command
        .args(args)
        .env("CLIENTSYNC_DATABASE__URL", &app.database_url)
        .env("CLIENTSYNC_QUEUE__PREFIX", &queue.1)
        .env("CLIENTSYNC_TELEMETRY__FILTER", "warn");
    if let Some(amqp) = &queue.0 {
        command.env("CLIENTSYNC_QUEUE__AMQP_URL", amqp);
    }
    let output = command.output().expect("clientsync runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn prune_and_purge_dead_work_from_the_command_line(backend: Backend) {
    let mut queue = (None, String::new());
    let app = spawn_app_with(backend, |c| {
        queue = (
            c.queue.amqp_url.as_ref().map(|u| u.expose_secret().to_owned()),
            c.queue.prefix.clone(),
        );
    })
    .await;
    let at = now();
    seed_event(&app.db, "test:old", InboxStatus::Processed, at - days(401)).await;
    app.queue.publish(&[b"not an envelope".to_vec()]).await.unwrap();
    app.drain_worker().await;

    let (ok, said, _) = clientsync(&app, &queue, &["prune", "--dry-run"]);
    assert!(ok && said.contains("inbox_rows\t1 would be deleted"), "{said}");
    assert!(event(&app.db, "test:old").await.is_some());
    let (ok, said, _) = clientsync(&app, &queue, &["prune"]);
    assert!(ok && said.contains("inbox_rows\t1 deleted"), "{said}");
    assert!(said.contains("payloads\t0 cleared"), "{said}");
    assert!(event(&app.db, "test:old").await.is_none());

    let (ok, _, err) = clientsync(&app, &queue, &["prune", "--older-than", "3"]);
    assert!(!ok && err.contains("--older-than"), "{err}");
    let (ok, _, err) = clientsync(&app, &queue, &["purge-dead"]);
    assert!(!ok && err.contains("--before"), "{err}");
    let (ok, _, err) = clientsync(&app, &queue, &["purge-dead", "--before", "last week"]);
    assert!(!ok && err.contains("`last week`"), "{err}");

    let tomorrow = (at + days(1)).format("%Y-%m-%d").to_string();
    let (ok, said, _) = clientsync(&app, &queue, &["purge-dead", "--before", &tomorrow, "--dry-run"]);
    assert!(ok && said.contains("1 would be deleted"), "{said}");
    assert_eq!(events(&app.db).await.len(), 1, "a dry run deletes nothing");
    let (ok, said, _) = clientsync(&app, &queue, &["purge-dead", "--before", &tomorrow]);
    assert!(
        ok && said.contains("dead_events\t1 deleted\t(1 dead-lettered"),
        "{said}"
    );
    assert!(events(&app.db).await.is_empty());
    assert_eq!(
        app.queue.replay_dead(100).await.unwrap(),
        0,
        "nothing left to replay"
    );

    // The same, through the library calls the binary makes.
    let args = PurgeDeadArgs {
        before: at + days(1),
        reason: None,
        dry_run: false,
    };
    let said = run_purge_dead(&app.db, app.queue.as_ref(), &args, 10)
        .await
        .unwrap();
    assert_eq!(
        said,
        vec!["dead_events\t0 deleted\t(0 dead-lettered messages removed from the queue)"]
    );
    let said = run_prune(&app.db, &defaults(), Clock::fixed(at.timestamp_millis()), true)
        .await
        .unwrap();
    assert_eq!(said.len(), 4, "{said:?}");
}

async fn the_retention_migration_rolls_back_and_forward(backend: Backend) {
    use migration::{Migrator, MigratorTrait};
    let app = spawn_app(backend).await;

    // Later migrations roll back first; count back to this one whatever comes after it.
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let position = names
        .iter()
        .position(|n| n == "m20261203_000009_retention")
        .expect("the retention migration is listed");
    let back = u32::try_from(names.len() - position).expect("few migrations");
    Migrator::down(&app.db, Some(back))
        .await
        .expect("000009 rolls back");
    let pending = Migrator::get_pending_migrations(&app.db).await.expect("pending");
    assert_eq!(pending.len() as u32, back);
    assert_eq!(pending[0].name(), "m20261203_000009_retention");
    Migrator::up(&app.db, None).await.expect("000009 applies again");

    let at = now();
    seed_event(&app.db, "test:old", InboxStatus::Processed, at - days(31)).await;
    let pruned = pruner(&app, &defaults(), at).prune().await.expect("pruned");
    assert_eq!(pruned.payloads, 1);
}
