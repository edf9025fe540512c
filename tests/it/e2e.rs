//! Signed webhooks in, golden clients out — on both deployments.

use clientsync::worker::{Outcome, Settled};
use entity::{conflicts::ConflictKind, inbox_events::InboxStatus};
use serde_json::json;

use crate::helpers::{Backend, clickup_task_update, hubspot_property, now_ms, spawn_app};

on_both_backends!(
    a_signed_hubspot_batch_and_clickup_events_become_golden_clients_with_provenance,
    the_same_event_sent_three_times_yields_one_inbox_row_and_one_client,
    hubspot_and_clickup_records_with_the_same_document_key_become_one_client_with_hubspot_values,
    a_key_collision_raises_a_conflict_and_merges_nothing,
    an_older_event_never_overwrites_a_newer_value,
    a_thin_creation_event_is_stored_pending_enrichment,
    unknown_event_types_are_accepted_and_stored,
);

async fn a_signed_hubspot_batch_and_clickup_events_become_golden_clients_with_provenance(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = now_ms();
    let batch = json!([
        hubspot_property(501, "email", "Ana@Example.com", t),
        hubspot_property(501, "firstname", "Ana", t + 1),
        hubspot_property(777, "email", "bo@example.com", t + 2),
    ]);
    assert_eq!(app.post_hubspot(&batch).await.status(), 200);
    let task = clickup_task_update(
        "c0j",
        &[("h1", "name", "Carla Ltd"), ("h2", "Email", "carla@example.com")],
        t,
    );
    assert_eq!(app.post_clickup(&task).await.status(), 200);

    let settled = app.drain_worker().await;

    assert_eq!(settled.len(), 4, "{settled:?}");
    let clients = app.clients().await;
    assert_eq!(clients.len(), 3);
    let ana = clients
        .iter()
        .find(|c| c.email.as_deref() == Some("ana@example.com"))
        .expect("ana");
    assert_eq!(ana.given_name.as_deref(), Some("Ana"));
    let carla = clients
        .iter()
        .find(|c| c.email.as_deref() == Some("carla@example.com"))
        .expect("carla");
    assert_eq!(carla.name.as_deref(), Some("Carla Ltd"));
    let provenance = app.provenance().await;
    let ana_email = provenance
        .iter()
        .find(|p| p.client_id == ana.id && p.field == "email")
        .expect("provenance of ana's email");
    assert_eq!(ana_email.source, "hubspot");
    assert_eq!(ana_email.external_id, "contact:501");
    assert_eq!(ana_email.set_at_ms, t);
    assert!(
        ana_email
            .event_id
            .starts_with("hubspot:62515:contact.propertyChange:501:email:")
    );
    assert_eq!(app.inbox_count().await, 4);
    assert_eq!(app.queue_depth().await, 0);
}

async fn the_same_event_sent_three_times_yields_one_inbox_row_and_one_client(backend: Backend) {
    let app = spawn_app(backend).await;
    let batch = json!([hubspot_property(42, "email", "same@example.com", now_ms())]);

    for _ in 0..3 {
        assert_eq!(app.post_hubspot(&batch).await.status(), 200);
    }
    let settled = app.drain_worker().await;

    assert_eq!(app.inbox_count().await, 1);
    assert_eq!(app.clients().await.len(), 1);
    let duplicates = settled
        .iter()
        .filter(|s| **s == Settled::Done(Outcome::Duplicate))
        .count();
    assert_eq!(duplicates, 2, "{settled:?}");
}

async fn hubspot_and_clickup_records_with_the_same_document_key_become_one_client_with_hubspot_values(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let t = now_ms();
    let task = clickup_task_update(
        "t-acme",
        &[
            ("h10", "Tax ID", "b-12345674"),
            ("h11", "Phone", "+34 600 000 002"),
            ("h12", "name", "ACME Iberia"),
        ],
        t,
    );
    assert_eq!(app.post_clickup(&task).await.status(), 200);
    app.drain_worker().await;
    let batch = json!([
        hubspot_property(9001, "tax_id", "B12345674", t + 10),
        hubspot_property(9001, "phone", "+34 600 000 001", t + 11),
    ]);
    assert_eq!(app.post_hubspot(&batch).await.status(), 200);
    app.drain_worker().await;

    let clients = app.clients().await;
    assert_eq!(clients.len(), 1, "{clients:?}");
    let client = &clients[0];
    assert_eq!(client.document_key.as_deref(), Some("B12345674"));
    assert_eq!(
        client.phone.as_deref(),
        Some("+34600000001"),
        "HubSpot wins the phone"
    );
    assert_eq!(
        client.name.as_deref(),
        Some("ACME Iberia"),
        "ClickUp fills what HubSpot lacks"
    );
    let records = app.source_records().await;
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r.client_id == Some(client.id)));
    let conflicts = app.conflicts().await;
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0].kind, ConflictKind::FieldMismatch);
    assert_eq!(conflicts[0].field.as_deref(), Some("phone"));
    assert_eq!(conflicts[0].hubspot_value.as_deref(), Some("+34600000001"));
    assert_eq!(conflicts[0].clickup_value.as_deref(), Some("+34600000002"));
}

async fn a_key_collision_raises_a_conflict_and_merges_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = now_ms();
    // Client A is known by document key, client B by email.
    let a = clickup_task_update("t-a", &[("h1", "Tax ID", "12345678Z")], t);
    let b = json!([hubspot_property(1, "email", "b@example.com", t)]);
    app.post_clickup(&a).await;
    app.post_hubspot(&b).await;
    app.drain_worker().await;
    assert_eq!(app.clients().await.len(), 2);

    // A new record carries A's document key and B's email.
    let both = clickup_task_update(
        "t-c",
        &[("h2", "Tax ID", "12345678-Z"), ("h3", "Email", "B@example.com")],
        t + 5,
    );
    app.post_clickup(&both).await;
    app.drain_worker().await;

    let clients = app.clients().await;
    assert_eq!(clients.len(), 2, "nothing created or merged");
    let conflicts = app.conflicts().await;
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].kind, ConflictKind::KeyCollision);
    assert_eq!(conflicts[0].external_id, "task:t-c");
    assert_eq!(conflicts[0].candidates.as_array().map(Vec::len), Some(2));
    let record = app
        .source_records()
        .await
        .into_iter()
        .find(|r| r.external_id == "task:t-c")
        .expect("record kept");
    assert_eq!(record.client_id, None, "the colliding record is not linked");
    let holder_of_b = clients
        .iter()
        .find(|c| c.email.as_deref() == Some("b@example.com"))
        .expect("b");
    assert_eq!(holder_of_b.document_key, None, "B did not take A's key");
}

async fn an_older_event_never_overwrites_a_newer_value(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = now_ms();
    app.post_hubspot(&json!([hubspot_property(7, "firstname", "Newer", t + 100)]))
        .await;
    app.post_hubspot(&json!([hubspot_property(7, "firstname", "Older", t)]))
        .await;
    app.post_hubspot(&json!([hubspot_property(7, "email", "n@example.com", t + 50)]))
        .await;
    app.drain_worker().await;

    let clients = app.clients().await;
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].given_name.as_deref(), Some("Newer"));
}

async fn a_thin_creation_event_is_stored_pending_enrichment(backend: Backend) {
    let app = spawn_app(backend).await;
    let creation = json!([{"eventId":1,"subscriptionId":1,"portalId":62515,"appId":1,"occurredAt":now_ms(),
        "subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW"}]);
    assert_eq!(app.post_hubspot(&creation).await.status(), 200);
    let settled = app.drain_worker().await;

    assert_eq!(settled, vec![Settled::Done(Outcome::PendingEnrichment)]);
    let inbox = app.inbox().await;
    assert_eq!(inbox[0].status, InboxStatus::PendingEnrichment);
    let records = app.source_records().await;
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].status,
        entity::source_records::RecordStatus::PendingEnrichment
    );
    assert!(app.clients().await.is_empty());
}

async fn unknown_event_types_are_accepted_and_stored(backend: Backend) {
    let app = spawn_app(backend).await;
    let deal = json!([{"eventId":1,"subscriptionId":1,"portalId":62515,"appId":1,"occurredAt":now_ms(),
        "subscriptionType":"deal.creation","attemptNumber":0,"objectId":5}]);
    assert_eq!(app.post_hubspot(&deal).await.status(), 200);
    let list = json!({"event":"listCreated","list_id":"l1","webhook_id":crate::helpers::CLICKUP_WEBHOOK});
    assert_eq!(app.post_clickup(&list).await.status(), 200);
    app.drain_worker().await;

    let inbox = app.inbox().await;
    assert_eq!(inbox.len(), 2);
    assert!(inbox.iter().all(|e| e.status == InboxStatus::Ignored));
}
