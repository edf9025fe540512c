//! Dead events as operators see them: listed with filters, shown with payload and last error,
//! replayed one at a time through the queue (API and CLI), applied once; failed write-backs
//! listed and retried.

use clientsync::{cli::DeadCommand, domain::Actor};
use entity::{audit_log, inbox_events::InboxStatus};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, MAX_ATTEMPTS, hubspot_property, now_ms},
    operator::{OperatedApp, operator_app},
};

on_both_backends!(
    dead_events_are_listed_by_filter_shown_whole_and_replayed_once_through_the_queue,
    the_cli_lists_shows_and_replays_dead_events_through_the_same_service,
    failed_write_backs_are_listed_by_filter_and_retried_once_with_an_audit_row,
);

/// Three HubSpot events that die (the store is broken under the worker), then the cause is fixed.
pub(crate) async fn three_dead_events(app: &OperatedApp) -> i64 {
    let t = now_ms() - 60_000;
    app.db
        .execute_unprepared("ALTER TABLE source_records RENAME TO source_records_moved")
        .await
        .unwrap();
    let events = json!([
        hubspot_property(5, "email", "five@example.com", t),
        hubspot_property(6, "email", "six@example.com", t + 1),
        hubspot_property(7, "email", "seven@example.com", t + 2),
    ]);
    assert_eq!(app.post_hubspot(&events).await.status(), 200);
    app.drain_worker().await;
    assert!(app.inbox().await.iter().all(|e| e.status == InboxStatus::Dead));
    app.db
        .execute_unprepared("ALTER TABLE source_records_moved RENAME TO source_records")
        .await
        .unwrap();
    t
}

async fn dead_events_are_listed_by_filter_shown_whole_and_replayed_once_through_the_queue(backend: Backend) {
    let app = operator_app(backend).await;
    let t = three_dead_events(&app).await;
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };

    let (status, all) = app.operator_get("/api/v1/dead-events").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(ids(&all).len(), 3);
    let (_, none) = app.operator_get("/api/v1/dead-events?source=clickup").await;
    assert!(ids(&none).is_empty());
    let (_, six) = app.operator_get("/api/v1/dead-events?external_id=6").await;
    assert_eq!(ids(&six).len(), 1, "{six}");
    assert!(ids(&six)[0].ends_with(&format!(":6:email:{}", t + 1)), "{six}");
    let (_, by_reason) = app
        .operator_get("/api/v1/dead-events?reason=source_records")
        .await;
    assert_eq!(ids(&by_reason).len(), 3, "the reason names the missing table");
    let (_, typed) = app
        .operator_get("/api/v1/dead-events?type=contact.propertyChange&since=2000-01-01T00:00:00Z")
        .await;
    assert_eq!(ids(&typed).len(), 3);
    let (_, first) = app.operator_get("/api/v1/dead-events?limit=2").await;
    let after = first["next_after"].as_str().expect("a next page").to_owned();
    let (_, rest) = app
        .operator_get(&format!("/api/v1/dead-events?limit=2&after={after}"))
        .await;
    assert_eq!(ids(&first).len() + ids(&rest).len(), 3);
    assert!(rest["next_after"].is_null());
    let (status, body) = app.operator_get("/api/v1/dead-events?since=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let id = ids(&six)[0].clone();
    let (status, shown) = app.operator_get(&format!("/api/v1/dead-events/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["payload"]["propertyValue"], "six@example.com");
    assert_eq!(shown["attempts"], MAX_ATTEMPTS);
    assert!(
        shown["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("source_records"))
    );
    assert_eq!(shown["replayable"], true);

    let audits = audit_log::Entity::find().count(&app.db).await.unwrap();
    let replay = format!("/api/v1/dead-events/{id}/replay");
    let (status, body) = app.operator_send(Method::POST, &replay, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(
        audit_log::Entity::find().count(&app.db).await.unwrap(),
        audits + 1
    );
    app.drain_worker().await;
    let processed: Vec<_> = app
        .inbox()
        .await
        .into_iter()
        .filter(|e| e.status == InboxStatus::Processed)
        .collect();
    assert_eq!(processed.len(), 1);
    assert_eq!(processed[0].id, id);
    assert_eq!(app.clients().await.len(), 1);
    let (status, _) = app.operator_get(&format!("/api/v1/dead-events/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no longer dead");
    let (status, body) = app.operator_send(Method::POST, &replay, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = app
        .operator_send(Method::POST, "/api/v1/dead-events/hubspot:404/replay", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.queue.replay_dead(100).await.unwrap(),
        2,
        "the replayed event left the dead-letter store, the others wait there"
    );
    app.drain_worker().await;
    assert_eq!(app.clients().await.len(), 3, "each applied once");
}

async fn the_cli_lists_shows_and_replays_dead_events_through_the_same_service(backend: Backend) {
    let app = operator_app(backend).await;
    let t = three_dead_events(&app).await;
    let cli = Actor::cli(Some("maria"));
    let run = |command: DeadCommand| {
        let (db, queue, cli) = (app.db.clone(), app.queue.clone(), cli.clone());
        async move { clientsync::cli::run_dead(&db, queue.as_ref(), &cli, &command).await }
    };
    let listed = run(DeadCommand::List {
        source: Some("hubspot".into()),
        event_type: None,
        since: None,
        until: None,
        reason: None,
        external_id: None,
        after: None,
        limit: 2,
    })
    .await
    .expect("list");
    assert_eq!(
        listed.len(),
        3,
        "two rows and where the next page starts: {listed:?}"
    );
    assert!(listed[2].starts_with("more: --after hubspot:"));
    let id = app
        .inbox()
        .await
        .into_iter()
        .map(|e| e.id)
        .find(|id| id.ends_with(&format!(":7:email:{}", t + 2)))
        .expect("event of contact 7");
    let shown = run(DeadCommand::Show { id: id.clone() }).await.expect("show");
    assert!(shown.iter().any(|l| l.contains("seven@example.com")), "{shown:?}");
    let replayed = run(DeadCommand::Replay { id: id.clone() }).await.expect("replay");
    assert_eq!(replayed, vec![format!("{id} is queued again")]);
    app.drain_worker().await;
    let rows = audit_log::Entity::find().all(&app.db).await.unwrap();
    let replay = rows.iter().find(|r| r.action == "event.replay").expect("audited");
    assert_eq!((replay.actor.as_str(), replay.via.as_str()), ("cli:maria", "cli"));
    assert!(
        run(DeadCommand::Replay { id }).await.is_err(),
        "not dead any more"
    );
}

/// A failed write-back for client `client`, as the drainer leaves one.
pub(crate) async fn failed_writeback(
    app: &OperatedApp,
    client: uuid::Uuid,
    source: &str,
    field: &str,
) -> uuid::Uuid {
    failed_write(app, Whose::Client(client), source, field).await
}

/// A failed write of a project's value (its client unknown) to `source`.
pub(crate) async fn failed_project_writeback(
    app: &OperatedApp,
    project: uuid::Uuid,
    source: &str,
    field: &str,
) -> uuid::Uuid {
    failed_write(app, Whose::Project(project), source, field).await
}

/// Whose value a test's write-back carries.
enum Whose {
    Client(uuid::Uuid),
    Project(uuid::Uuid),
}

async fn failed_write(app: &OperatedApp, whose: Whose, source: &str, field: &str) -> uuid::Uuid {
    use entity::outbox::{self, OutboxSubject};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let now = chrono::Utc::now();
    let id = uuid::Uuid::now_v7();
    let (subject, client, project, hubspot_kind) = match whose {
        Whose::Client(client) => (OutboxSubject::Client, Some(client), None, "contact"),
        Whose::Project(project) => (OutboxSubject::Project, None, Some(project), "deal"),
    };
    let kind = if source == "hubspot" { hubspot_kind } else { "task" };
    outbox::ActiveModel {
        id: Set(id),
        subject: Set(subject),
        client_id: Set(client),
        project_id: Set(project),
        source: Set(source.into()),
        external_id: Set(format!("{kind}:{}", if kind == "task" { "t1" } else { "1" })),
        kind: Set(kind.into()),
        field: Set(field.into()),
        value: Set("x".into()),
        status: Set(outbox::OutboxStatus::Failed),
        pending_key: Set(None),
        attempts: Set(8),
        next_attempt_at: Set(now),
        last_error: Set(Some("refused: 400".into())),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.db)
    .await
    .expect("failed write-back");
    id
}

async fn failed_write_backs_are_listed_by_filter_and_retried_once_with_an_audit_row(backend: Backend) {
    let app = operator_app(backend).await;
    let (one, other) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let to_hubspot = failed_writeback(&app, one, "hubspot", "project_status").await;
    failed_writeback(&app, other, "clickup", "phone").await;
    let project = uuid::Uuid::now_v7();
    let to_task = failed_project_writeback(&app, project, "clickup", "amount").await;
    let count = |body: &Value| body["items"].as_array().map_or(0, Vec::len);

    let (status, all) = app.operator_get("/api/v1/outbox?status=failed").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(count(&all), 3);
    let (_, projects) = app.operator_get("/api/v1/outbox?subject=project").await;
    assert_eq!(count(&projects), 1, "{projects}");
    assert_eq!(projects["items"][0]["id"], to_task.to_string());
    assert_eq!(projects["items"][0]["subject"], "project");
    assert_eq!(projects["items"][0]["project_id"], project.to_string());
    let (_, clients) = app.operator_get("/api/v1/outbox?subject=client").await;
    assert_eq!(count(&clients), 2, "{clients}");
    assert_eq!(clients["items"][0]["subject"], "client");
    assert_eq!(clients["items"][0]["project_id"], Value::Null);
    let (status, _) = app.operator_get("/api/v1/outbox?subject=team").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, hubspot) = app.operator_get("/api/v1/outbox?source=hubspot").await;
    assert_eq!(count(&hubspot), 1);
    assert_eq!(hubspot["items"][0]["id"], to_hubspot.to_string());
    assert_eq!(hubspot["items"][0]["last_error"], "refused: 400");
    let (_, theirs) = app
        .operator_get(&format!("/api/v1/outbox?client_id={other}"))
        .await;
    assert_eq!(count(&theirs), 1);
    let (status, _) = app.operator_get("/api/v1/outbox?status=lost").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let audits = audit_log::Entity::find().count(&app.db).await.unwrap();
    let retry = format!("/api/v1/outbox/{to_hubspot}/retry");
    let (status, body) = app.operator_send(Method::POST, &retry, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(
        audit_log::Entity::find().count(&app.db).await.unwrap(),
        audits + 1
    );
    let (_, pending) = app.operator_get("/api/v1/outbox?status=pending").await;
    assert_eq!(count(&pending), 1);
    assert_eq!(pending["items"][0]["attempts"], 0);
    let (status, body) = app.operator_send(Method::POST, &retry, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "not failed any more: {body}");
    let (status, _) = app
        .operator_send(
            Method::POST,
            &format!("/api/v1/outbox/{}/retry", uuid::Uuid::now_v7()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        audit_log::Entity::find().count(&app.db).await.unwrap(),
        audits + 1
    );
}
