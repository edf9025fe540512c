//! Poison messages end in the dead-letter store with their reason; nothing loops forever.

use clientsync::worker::Settled;
use entity::inbox_events::InboxStatus;
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::{Backend, MAX_ATTEMPTS, hubspot_property, now_ms, spawn_app};

on_both_backends!(
    an_event_that_keeps_failing_is_dead_lettered_after_the_configured_attempts_with_its_reason,
    an_undecodable_message_is_dead_lettered_at_once_with_its_reason,
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
