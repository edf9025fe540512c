//! The write-back outbox against the simulated APIs: writes a source cannot take now are kept
//! and sent later, writes it refuses end `failed` with the reason, a newer value replaces a
//! pending one, a restart loses nothing, and an operator can put a failed write back.

use std::sync::Arc;

use chrono::{Duration, Utc};
use clientsync::{
    cli::{OutboxCommand, StatusArg, run_outbox},
    config::OutboxConfig,
    domain::ids::ProjectId,
    domain::source::Source,
    reconcile::Field,
    reconcile::project::ProjectField,
    simulator::{Fault, ObjectType},
    startup::Role,
    store::outbox::{self, PlannedProjectWrite, PlannedWrite, Retried},
    writeback::Drainer,
};
use entity::{
    audit_log,
    outbox::{Model as Row, OutboxStatus},
};
use sea_orm::EntityTrait;
use uuid::Uuid;

use crate::{
    helpers::{Backend, SimApp, spawn_app_with_sim, spawn_app_with_sim_in_role},
    write_back::ana_in_sync,
};

on_both_backends!(
    a_write_that_meets_503s_is_retried_and_sent_once_the_source_recovers,
    a_write_the_source_refuses_ends_failed_with_its_reason,
    a_write_still_failing_after_max_attempts_ends_failed_with_the_last_reason,
    a_newer_value_for_the_same_field_replaces_the_pending_one,
    a_pending_write_left_by_a_crashed_process_is_sent_by_a_new_drainer,
    outbox_retry_puts_a_failed_write_back_to_pending,
    the_worker_role_drains_the_outbox_by_itself,
    outbox_list_and_retry_work_from_the_command_line,
);

/// A drainer of the app's outbox, as a (new) worker process would build it.
fn drainer(t: &SimApp, config: &OutboxConfig) -> Drainer {
    Drainer::new(
        t.app.db.clone(),
        clientsync::saas::Apis::from_config(&t.config).expect("API clients"),
        Arc::new(t.config.mapping.field_mapping().expect("mapping config")),
        config,
    )
}

/// Plans `value` for a field of `external_id`, due at `at`.
async fn plan(
    t: &SimApp,
    external_id: &str,
    kind: &str,
    field: Field,
    value: &str,
    at: chrono::DateTime<Utc>,
) -> Uuid {
    let client = t.app.clients().await.first().map_or(Uuid::nil(), |c| c.id);
    let source = if kind == "task" {
        Source::ClickUp
    } else {
        Source::HubSpot
    };
    let write = PlannedWrite {
        client,
        source,
        external_id,
        kind,
        field,
        value,
    };
    outbox::plan(&t.app.db, &write, at).await.expect("planned")
}

/// Plans a write of a project's status to its deal (`deal:7`), pending: (project, row).
async fn plan_for_a_project(t: &SimApp) -> (Uuid, Uuid) {
    let project = Uuid::now_v7();
    let write = PlannedProjectWrite {
        project: ProjectId::from_uuid(project),
        client: None,
        source: Source::HubSpot,
        external_id: "deal:7",
        kind: "deal",
        field: ProjectField::Status,
        value: "in progress",
    };
    let row = outbox::plan_project(&t.app.db, &write, Utc::now())
        .await
        .expect("planned");
    (project, row)
}

async fn rows(t: &SimApp) -> Vec<Row> {
    outbox::list(&t.app.db, None, None, 1000).await.expect("listed")
}

async fn row(t: &SimApp, id: Uuid) -> Row {
    rows(t)
        .await
        .into_iter()
        .find(|r| r.id == id)
        .expect("the row is there")
}

fn payment_status(t: &SimApp, contact: &str) -> Option<String> {
    t.sim
        .hubspot_object(ObjectType::Contact, contact)
        .and_then(|o| o.get("payment_status").cloned())
}

async fn a_write_that_meets_503s_is_retried_and_sent_once_the_source_recovers(backend: Backend) {
    let t = spawn_app_with_sim(backend).await;
    let (contact, _) = ana_in_sync(&t).await;
    let drainer = drainer(&t, &t.config.outbox);
    let id = plan(
        &t,
        &format!("contact:{contact}"),
        "contact",
        Field::PaymentStatus,
        "Paid",
        Utc::now(),
    )
    .await;
    // More 503s than one attempt's in-call retries (the webhook health poll may take a few).
    t.sim.inject(Fault::ServerError { count: 8 });

    let first = drainer.send_due(Utc::now()).await.expect("round");
    assert_eq!((first.sent, first.retrying), (0, 1), "{first:?}");
    let failed_once = row(&t, id).await;
    assert_eq!(failed_once.status, OutboxStatus::Pending);
    assert_eq!(failed_once.attempts, 1);
    assert!(
        failed_once
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("503")),
        "{failed_once:?}"
    );
    assert!(failed_once.next_attempt_at > Utc::now(), "backed off");
    assert_eq!(payment_status(&t, &contact), None);

    let mut later = Utc::now();
    for _ in 0..5 {
        later += Duration::hours(1);
        if drainer.send_due(later).await.expect("round").sent == 1 {
            break;
        }
    }
    let sent = row(&t, id).await;
    assert_eq!(sent.status, OutboxStatus::Sent, "{sent:?}");
    assert!(sent.attempts >= 2);
    assert_eq!(payment_status(&t, &contact).as_deref(), Some("Paid"));
    let writes = t
        .sim
        .writes()
        .into_iter()
        .filter(|w| w.object_id == contact)
        .count();
    assert_eq!(writes, 1, "written once");
}

async fn a_write_the_source_refuses_ends_failed_with_its_reason(backend: Backend) {
    let t = spawn_app_with_sim(backend).await;
    let drainer = drainer(&t, &t.config.outbox);
    let id = plan(
        &t,
        "task:no-such-task",
        "task",
        Field::Email,
        "ana@example.com",
        Utc::now(),
    )
    .await;

    let drained = drainer.send_due(Utc::now()).await.expect("round");

    assert_eq!(drained.failed, 1, "{drained:?}");
    let failed = row(&t, id).await;
    assert_eq!(failed.status, OutboxStatus::Failed);
    assert_eq!(
        failed.attempts, 1,
        "a refusal is not retried: trying again cannot help"
    );
    assert!(
        failed
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("not found")),
        "{failed:?}"
    );
    assert!(
        outbox::due(&t.app.db, Utc::now() + Duration::days(1), 10)
            .await
            .expect("due")
            .is_empty()
    );
}

async fn a_write_still_failing_after_max_attempts_ends_failed_with_the_last_reason(backend: Backend) {
    let t = spawn_app_with_sim(backend).await;
    let (contact, _) = ana_in_sync(&t).await;
    let config = OutboxConfig {
        max_attempts: 2,
        ..t.config.outbox.clone()
    };
    let drainer = drainer(&t, &config);
    let id = plan(
        &t,
        &format!("contact:{contact}"),
        "contact",
        Field::PaymentStatus,
        "Paid",
        Utc::now(),
    )
    .await;
    t.sim.inject(Fault::ServerError { count: 1000 });

    let first = drainer.send_due(Utc::now()).await.expect("round");
    let second = drainer
        .send_due(Utc::now() + Duration::hours(1))
        .await
        .expect("round");

    assert_eq!((first.retrying, second.failed), (1, 1), "{first:?} {second:?}");
    let failed = row(&t, id).await;
    assert_eq!(failed.status, OutboxStatus::Failed);
    assert_eq!(failed.attempts, 2);
    assert!(
        failed.last_error.as_deref().is_some_and(|e| e.contains("503")),
        "{failed:?}"
    );
}

async fn a_newer_value_for_the_same_field_replaces_the_pending_one(backend: Backend) {
    let t = spawn_app_with_sim(backend).await;
    let (contact, _) = ana_in_sync(&t).await;
    let record = format!("contact:{contact}");
    let first = plan(
        &t,
        &record,
        "contact",
        Field::PaymentStatus,
        "Pending",
        Utc::now(),
    )
    .await;
    let second = plan(&t, &record, "contact", Field::PaymentStatus, "Paid", Utc::now()).await;

    assert_eq!(first, second, "one pending row per field");
    let pending: Vec<Row> = rows(&t)
        .await
        .into_iter()
        .filter(|r| r.status == OutboxStatus::Pending)
        .collect();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].value, "Paid");

    drainer(&t, &t.config.outbox)
        .send_due(Utc::now())
        .await
        .expect("round");
    assert_eq!(payment_status(&t, &contact).as_deref(), Some("Paid"));
    let writes = t
        .sim
        .writes()
        .into_iter()
        .filter(|w| w.object_id == contact)
        .count();
    assert_eq!(writes, 1, "the stale value was never written");
}

async fn a_pending_write_left_by_a_crashed_process_is_sent_by_a_new_drainer(backend: Backend) {
    let t = spawn_app_with_sim(backend).await;
    let (contact, _) = ana_in_sync(&t).await;
    let long_ago = Utc::now() - Duration::minutes(30);
    let id = plan(
        &t,
        &format!("contact:{contact}"),
        "contact",
        Field::PaymentStatus,
        "Paid",
        long_ago,
    )
    .await;
    // The dead process had claimed it mid-send; its lease ran out long ago.
    let planned = row(&t, id).await;
    assert!(
        outbox::claim(&t.app.db, &planned, long_ago + Duration::minutes(2))
            .await
            .expect("claimed")
    );

    let drained = drainer(&t, &t.config.outbox)
        .send_due(Utc::now())
        .await
        .expect("round");

    assert_eq!(drained.sent, 1, "{drained:?}");
    assert_eq!(row(&t, id).await.status, OutboxStatus::Sent);
    assert_eq!(payment_status(&t, &contact).as_deref(), Some("Paid"));
}

async fn outbox_retry_puts_a_failed_write_back_to_pending(backend: Backend) {
    let t = spawn_app_with_sim(backend).await;
    let id = plan(
        &t,
        "task:no-such-task",
        "task",
        Field::Email,
        "ana@example.com",
        Utc::now(),
    )
    .await;
    drainer(&t, &t.config.outbox)
        .send_due(Utc::now())
        .await
        .expect("round");
    let list_failed = OutboxCommand::List {
        status: Some(StatusArg::Failed),
        subject: None,
        after: None,
        limit: 50,
    };
    let listed = run_outbox(&t.app.db, &list_failed, &cli_user())
        .await
        .expect("listed");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(
        listed[0].starts_with(&id.to_string()) && listed[0].contains("not found"),
        "{listed:?}"
    );

    let retried = OutboxCommand::Retry {
        id: Some(id),
        all_failed: false,
    };
    let said = run_outbox(&t.app.db, &retried, &cli_user())
        .await
        .expect("retried");

    assert_eq!(said, vec![format!("{id} is pending again")]);
    let pending = row(&t, id).await;
    assert_eq!((pending.status, pending.attempts), (OutboxStatus::Pending, 0));
    assert!(pending.next_attempt_at <= Utc::now());
    assert!(
        run_outbox(&t.app.db, &list_failed, &cli_user())
            .await
            .expect("listed")
            .is_empty()
    );
    assert_eq!(
        outbox::retry(&t.app.db, id, Utc::now()).await.expect("retry"),
        Retried::NotFailed,
        "only a failed row can be retried"
    );
    let audited: Vec<audit_log::Model> = audit_log::Entity::find()
        .all(&t.app.db)
        .await
        .expect("audit")
        .into_iter()
        .filter(|r| r.action == "outbox.retry")
        .collect();
    assert_eq!(audited.len(), 1, "one audit row for the one retry: {audited:?}");
    assert_eq!(audited[0].target_id, id.to_string());
    assert_eq!(audited[0].actor, "cli:ops", "names who ran the CLI");
    assert_eq!(audited[0].via, "cli");
}

fn cli_user() -> clientsync::domain::Actor {
    clientsync::domain::Actor::cli(Some("ops"))
}

async fn the_worker_role_drains_the_outbox_by_itself(backend: Backend) {
    let t = spawn_app_with_sim_in_role(backend, Role::Worker, |c| c.outbox.interval_ms = 50).await;
    let contact = t.sim.create_contact(&[("email", "ana.ruiz@example.com")]);
    let id = plan(
        &t,
        &format!("contact:{contact}"),
        "contact",
        Field::PaymentStatus,
        "Paid",
        Utc::now(),
    )
    .await;

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while row(&t, id).await.status != OutboxStatus::Sent {
        assert!(
            std::time::Instant::now() < deadline,
            "the drainer did not send it: {:?}",
            row(&t, id).await
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(payment_status(&t, &contact).as_deref(), Some("Paid"));
}

/// Runs the `clientsync` binary against the app's store; returns (success, stdout).
fn clientsync(t: &SimApp, args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_clientsync"))
        .args(args)
        .env("CLIENTSYNC_DATABASE__URL", &t.app.database_url)
        .env("CLIENTSYNC_TELEMETRY__FILTER", "warn")
        .output()
        .expect("clientsync runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

async fn outbox_list_and_retry_work_from_the_command_line(backend: Backend) {
    let t = spawn_app_with_sim(backend).await;
    let id = plan(
        &t,
        "task:no-such-task",
        "task",
        Field::Email,
        "ana@example.com",
        Utc::now(),
    )
    .await;
    drainer(&t, &t.config.outbox)
        .send_due(Utc::now())
        .await
        .expect("round");

    let (ok, listed) = clientsync(&t, &["outbox", "list", "--status", "failed"]);
    assert!(
        ok && listed.contains(&id.to_string()) && listed.contains("not found"),
        "{listed}"
    );
    let (project, project_write) = plan_for_a_project(&t).await;
    let (ok, projects) = clientsync(&t, &["outbox", "list", "--subject", "project"]);
    assert!(ok, "{projects}");
    assert_eq!(projects.lines().count(), 1, "{projects}");
    assert!(
        projects.starts_with(&format!(
            "{project_write}\tpending\tproject:{project}\thubspot:deal:7\t"
        )),
        "the subject names the project: {projects}"
    );
    let (ok, clients) = clientsync(&t, &["outbox", "list", "--subject", "client"]);
    assert!(ok, "{clients}");
    assert!(
        clients.starts_with(&format!("{id}\tfailed\tclient\tclickup:task:no-such-task\t"))
            && !clients.contains(&project_write.to_string()),
        "{clients}"
    );
    let (ok, _) = clientsync(&t, &["outbox", "list", "--subject", "team"]);
    assert!(!ok, "an unknown subject is refused");
    let (ok, said) = clientsync(&t, &["outbox", "retry", &id.to_string()]);
    assert!(ok && said.contains("pending again"), "{said}");
    let (ok, listed) = clientsync(&t, &["outbox", "list", "--status", "failed"]);
    assert!(ok && listed.trim().is_empty(), "{listed}");
    let (ok, _) = clientsync(&t, &["outbox", "retry", &id.to_string()]);
    assert!(!ok, "a row that is not failed cannot be retried");
}
