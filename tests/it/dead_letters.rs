//! Poison messages end in the dead-letter store with their reason; nothing loops forever.

use clientsync::worker::Settled;
use entity::inbox_events::InboxStatus;
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::{Backend, MAX_ATTEMPTS, hubspot_property, now_ms, spawn_app};

on_both_backends!(
    an_event_that_keeps_failing_is_dead_lettered_after_the_configured_attempts_with_its_reason,
    an_undecodable_message_is_dead_lettered_at_once_with_its_reason,
    a_dead_event_replayed_after_the_cause_is_fixed_is_applied_once,
);

async fn an_event_that_keeps_failing_is_dead_lettered_after_the_configured_attempts_with_its_reason(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    // Break the store under the worker: every attempt fails the same way.
    app.db
        .execute_unprepared("ALTER TABLE source_records RENAME TO source_records_moved")
        .await
        .unwrap();
    assert_eq!(
        app.post_hubspot(&json!([hubspot_property(5, "email", "p@example.com", now_ms())]))
            .await
            .status(),
        200
    );

    let settled = app.drain_worker().await;

    let retries = settled
        .iter()
        .filter(|s| matches!(s, Settled::Retrying(_)))
        .count();
    assert_eq!(retries as u32, MAX_ATTEMPTS - 1, "{settled:?}");
    assert!(
        matches!(settled.last(), Some(Settled::DeadLettered(_))),
        "{settled:?}"
    );
    let inbox = app.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].status, InboxStatus::Dead);
    assert_eq!(inbox[0].attempts as u32, MAX_ATTEMPTS);
    let reason = inbox[0].last_error.clone().unwrap_or_default();
    assert!(
        reason.contains("source_records"),
        "reason names the cause: {reason}"
    );
    assert_eq!(app.queue_depth().await, 0);
}

async fn an_undecodable_message_is_dead_lettered_at_once_with_its_reason(backend: Backend) {
    let app = spawn_app(backend).await;
    app.queue
        .publish(&[b"definitely not an envelope".to_vec()])
        .await
        .unwrap();

    let settled = app.drain_worker().await;

    assert_eq!(settled.len(), 1);
    assert!(matches!(&settled[0], Settled::DeadLettered(reason) if reason.contains("undecodable")));
    let inbox = app.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].status, InboxStatus::Dead);
    assert!(inbox[0].id.starts_with("undecodable:"));
}

async fn a_dead_event_replayed_after_the_cause_is_fixed_is_applied_once(backend: Backend) {
    let app = spawn_app(backend).await;
    app.db
        .execute_unprepared("ALTER TABLE source_records RENAME TO source_records_moved")
        .await
        .unwrap();
    let event = json!([hubspot_property(6, "email", "replay@example.com", now_ms())]);
    assert_eq!(app.post_hubspot(&event).await.status(), 200);
    app.drain_worker().await;
    assert_eq!(app.inbox().await[0].status, InboxStatus::Dead);

    // The cause is fixed; the operator replays the dead letters.
    app.db
        .execute_unprepared("ALTER TABLE source_records_moved RENAME TO source_records")
        .await
        .unwrap();
    assert_eq!(app.queue.replay_dead(100).await.unwrap(), 1);
    let settled = app.drain_worker().await;

    assert!(matches!(settled.as_slice(), [Settled::Done(_)]), "{settled:?}");
    let inbox = app.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].status, InboxStatus::Processed);
    let clients = app.clients().await;
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].email.as_deref(), Some("replay@example.com"));
    assert_eq!(
        app.queue.replay_dead(100).await.unwrap(),
        0,
        "nothing left to replay"
    );
}
