//! Project write-back against the simulated APIs: what ClickUp owns of a project (status, time
//! estimate, time spent) is
//! written to its deal, what HubSpot owns (amount, payment status) to its task, each change once,
//! and neither write's echo makes a change, a conflict or another write.

use clientsync::{
    domain::source::Source,
    simulator::{ObjectType, TaskStatus},
};
use entity::{conflicts::ConflictStatus, projects};
use std::time::Duration;

use sea_orm::EntityTrait;
use serde_json::json;

use crate::{
    helpers::{Backend, SimApp, spawn_app},
    projects::{PROJECT_LIST, spawn_with_projects},
    write_back::{ana_in_sync, settle},
};

on_both_backends!(
    a_status_changed_in_clickup_reaches_the_deal_once_and_its_echo_changes_nothing,
    a_time_estimate_set_in_clickup_reaches_the_deal_once_and_its_echo_changes_nothing,
    time_tracked_in_clickup_reaches_the_deal_once_per_entry_and_its_echo_changes_nothing,
    an_amount_changed_in_hubspot_reaches_the_project_task_once_and_its_echo_changes_nothing,
    a_project_value_in_dispute_is_not_written_over,
    the_outbox_migration_keeps_client_writes_both_ways_and_project_writes_only_going_up,
);

/// Ana's project task and the deal billing it, settled: returns (task, deal).
async fn project_with_deal(t: &SimApp, task_fields: &[(&str, &str)]) -> (String, String) {
    let (_, client_task) = ana_in_sync(t).await;
    let mut fields = vec![("Client", client_task.as_str())];
    fields.extend_from_slice(task_fields);
    let task = t
        .sim
        .create_task(PROJECT_LIST, "Tienda online", &fields)
        .expect("project task created");
    let deal = t.sim.create_deal(&[
        ("dealname", "Tienda online"),
        ("clickup_task_id", &task),
        ("amount", "1500.50"),
        ("payment_status", "Pending"),
    ]);
    settle(t).await;
    (task, deal)
}

async fn the_project(t: &SimApp) -> projects::Model {
    let mut rows = projects::Entity::find().all(&t.app.db).await.expect("projects");
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows.remove(0)
}

/// The open conflicts about a project task.
async fn open_conflicts(t: &SimApp, task: &str) -> Vec<String> {
    t.app
        .conflicts()
        .await
        .into_iter()
        .filter(|c| c.status == ConflictStatus::Open && c.external_id == format!("project:{task}"))
        .map(|c| c.field.unwrap_or_default())
        .collect()
}

fn deal_property(t: &SimApp, deal: &str, name: &str) -> Option<String> {
    t.sim
        .hubspot_object(ObjectType::Deal, deal)
        .and_then(|d| d.get(name).cloned())
}

async fn a_status_changed_in_clickup_reaches_the_deal_once_and_its_echo_changes_nothing(backend: Backend) {
    let t = spawn_with_projects(backend).await;
    let (task, deal) = project_with_deal(&t, &[]).await;
    assert_eq!(
        deal_property(&t, &deal, "project_status").as_deref(),
        Some("to do"),
        "the deal learnt the task's status when they were linked"
    );
    let before = t.sim.writes().len();

    t.sim
        .set_status(&task, TaskStatus::InProgress)
        .expect("status set");
    settle(&t).await;

    let writes = t.sim.writes()[before..].to_vec();
    assert_eq!(writes.len(), 1, "one change, one write: {writes:?}");
    assert_eq!(
        (
            writes[0].source,
            writes[0].object_id.as_str(),
            writes[0].field.as_str()
        ),
        (Source::HubSpot, deal.as_str(), "project_status")
    );
    assert_eq!(writes[0].value, json!("in progress"));
    assert_eq!(
        deal_property(&t, &deal, "project_status").as_deref(),
        Some("in progress")
    );
    let project = the_project(&t).await;
    assert_eq!(project.status.as_deref(), Some("in progress"));
    assert_eq!(
        open_conflicts(&t, &task).await,
        Vec::<String>::new(),
        "our write is not HubSpot disagreeing"
    );
    assert!(
        t.app
            .inbox()
            .await
            .iter()
            .any(|e| e.object_id == deal && e.last_error.as_deref() == Some("our own write coming back")),
        "the deal's echo arrived and was recognised"
    );
}

/// How many of a deal's events were recognised as our own write coming back.
async fn echoes_of(t: &SimApp, deal: &str) -> usize {
    t.app
        .inbox()
        .await
        .iter()
        .filter(|e| e.object_id == deal && e.last_error.as_deref() == Some("our own write coming back"))
        .count()
}

/// How many events of one type arrived about a task.
async fn arrived(t: &SimApp, task: &str, event_type: &str) -> usize {
    t.app
        .inbox()
        .await
        .iter()
        .filter(|e| e.object_id == task && e.event_type == event_type)
        .count()
}

/// The writes since `before`, as (object, field, value).
fn writes_since(t: &SimApp, before: usize) -> Vec<(Source, String, String, serde_json::Value)> {
    t.sim.writes()[before..]
        .iter()
        .map(|w| (w.source, w.object_id.clone(), w.field.clone(), w.value.clone()))
        .collect()
}

async fn a_time_estimate_set_in_clickup_reaches_the_deal_once_and_its_echo_changes_nothing(backend: Backend) {
    let t = spawn_with_projects(backend).await;
    let (task, deal) = project_with_deal(&t, &[]).await;
    assert_eq!(
        deal_property(&t, &deal, "time_estimate_ms"),
        None,
        "nobody estimated it yet"
    );
    let (before, echoes) = (t.sim.writes().len(), echoes_of(&t, &deal).await);

    t.sim
        .set_time_estimate(&task, Some(Duration::from_secs(2 * 3600)))
        .expect("estimated");
    settle(&t).await;

    assert_eq!(
        writes_since(&t, before),
        vec![(
            Source::HubSpot,
            deal.clone(),
            "time_estimate_ms".to_owned(),
            json!("7200000")
        )],
        "one change, one write"
    );
    assert_eq!(
        deal_property(&t, &deal, "time_estimate_ms").as_deref(),
        Some("7200000")
    );
    assert_eq!(the_project(&t).await.time_estimate_ms, Some(7_200_000));
    assert_eq!(
        arrived(&t, &task, "taskTimeEstimateUpdated").await,
        1,
        "it came as ClickUp's webhook"
    );
    assert_eq!(
        echoes_of(&t, &deal).await,
        echoes + 1,
        "the deal's echo arrived and was recognised"
    );
    assert_eq!(
        open_conflicts(&t, &task).await,
        Vec::<String>::new(),
        "our write is not HubSpot disagreeing"
    );
}

async fn time_tracked_in_clickup_reaches_the_deal_once_per_entry_and_its_echo_changes_nothing(
    backend: Backend,
) {
    let t = spawn_with_projects(backend).await;
    let (task, deal) = project_with_deal(&t, &[]).await;
    let (before, echoes) = (t.sim.writes().len(), echoes_of(&t, &deal).await);

    t.sim
        .track_time(&task, Duration::from_secs(3600))
        .expect("tracked");
    settle(&t).await;
    assert_eq!(
        writes_since(&t, before),
        vec![(
            Source::HubSpot,
            deal.clone(),
            "time_spent_ms".to_owned(),
            json!("3600000")
        )],
        "one entry, one write"
    );
    t.sim
        .track_time(&task, Duration::from_secs(1800))
        .expect("tracked again");
    settle(&t).await;

    let writes = writes_since(&t, before);
    assert_eq!(writes.len(), 2, "{writes:?}");
    assert_eq!(writes[1].3, json!("5400000"), "the deal gets the task's total");
    assert_eq!(
        deal_property(&t, &deal, "time_spent_ms").as_deref(),
        Some("5400000")
    );
    assert_eq!(the_project(&t).await.time_spent_ms, Some(5_400_000));
    assert_eq!(arrived(&t, &task, "taskTimeTrackedUpdated").await, 2);
    assert_eq!(echoes_of(&t, &deal).await, echoes + 2, "each echo was recognised");
    assert_eq!(open_conflicts(&t, &task).await, Vec::<String>::new());
}

async fn an_amount_changed_in_hubspot_reaches_the_project_task_once_and_its_echo_changes_nothing(
    backend: Backend,
) {
    let t = spawn_with_projects(backend).await;
    let (task, deal) = project_with_deal(&t, &[]).await;
    let amount = |t: &SimApp| {
        t.sim
            .task(&task)
            .and_then(|(_, fields)| fields.get("Amount").cloned())
    };
    assert_eq!(
        amount(&t),
        Some(json!("1500.50")),
        "the task learnt the deal's amount when they were linked"
    );
    // A change in ClickUp reads the whole task again, the amount we wrote included: it stays ours.
    t.sim
        .set_status(&task, TaskStatus::InProgress)
        .expect("status set");
    settle(&t).await;
    let before = t.sim.writes().len();

    t.sim
        .update_deal(&deal, &[("amount", "2000")])
        .expect("changed in HubSpot");
    settle(&t).await;

    let writes = t.sim.writes()[before..].to_vec();
    assert_eq!(writes.len(), 1, "one change, one write: {writes:?}");
    assert_eq!(
        (writes[0].source, writes[0].object_id.as_str()),
        (Source::ClickUp, task.as_str())
    );
    assert_eq!(amount(&t), Some(json!("2000.00")));
    let project = the_project(&t).await;
    assert_eq!(project.amount_cents, Some(200_000));
    assert_eq!(project.payment_status.as_deref(), Some("Pending"));
    assert_eq!(
        open_conflicts(&t, &task).await,
        Vec::<String>::new(),
        "our write is not ClickUp disagreeing"
    );
}

async fn a_project_value_in_dispute_is_not_written_over(backend: Backend) {
    let t = spawn_with_projects(backend).await;
    let (task, _) = project_with_deal(&t, &[("Amount", "1000")]).await;
    assert_eq!(open_conflicts(&t, &task).await, vec!["project.amount".to_owned()]);
    let amount_field = t.sim.clickup_field_id("Amount").expect("the Amount field");

    assert!(
        !t.sim
            .writes()
            .iter()
            .any(|w| w.object_id == task && w.field == amount_field),
        "ClickUp's amount waits for an operator: {:?}",
        t.sim.writes()
    );
    let (_, fields) = t.sim.task(&task).expect("task");
    assert_eq!(fields.get("Amount"), Some(&json!("1000")));
    assert!(
        t.sim.writes().iter().any(|w| w.object_id == task),
        "the payment status, not in dispute, was written: {:?}",
        t.sim.writes()
    );
}

async fn the_outbox_migration_keeps_client_writes_both_ways_and_project_writes_only_going_up(
    backend: Backend,
) {
    use entity::outbox::{self, OutboxStatus, OutboxSubject};
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, Statement};

    let app = spawn_app(backend).await;
    let now = chrono::Utc::now();
    let row = |subject, client, project, external_id: &str| outbox::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        subject: Set(subject),
        client_id: Set(client),
        project_id: Set(project),
        source: Set("hubspot".into()),
        external_id: Set(external_id.into()),
        kind: Set("deal".into()),
        field: Set("status".into()),
        value: Set("done".into()),
        status: Set(OutboxStatus::Failed),
        pending_key: Set(None),
        attempts: Set(1),
        next_attempt_at: Set(now),
        last_error: Set(Some("refused".into())),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let client = uuid::Uuid::now_v7();
    let kept = row(OutboxSubject::Client, Some(client), None, "contact:1")
        .insert(&app.db)
        .await
        .expect("client row");
    row(OutboxSubject::Project, None, Some(uuid::Uuid::now_v7()), "deal:7")
        .insert(&app.db)
        .await
        .expect("project row");

    Migrator::down(&app.db, Some(1)).await.expect("000019 rolls back");
    let backend_of = app.db.get_database_backend();
    let count = app
        .db
        .query_one_raw(Statement::from_string(
            backend_of,
            "SELECT COUNT(*) AS n FROM outbox",
        ))
        .await
        .expect("counted")
        .expect("a row")
        .try_get::<i64>("", "n")
        .expect("a number");
    assert_eq!(count, 1, "the older table holds client writes only");
    Migrator::up(&app.db, None).await.expect("000019 applies again");

    let rows = outbox::Entity::find().all(&app.db).await.expect("rows");
    assert_eq!(
        rows,
        vec![kept],
        "the client write came through both ways unchanged"
    );
}
