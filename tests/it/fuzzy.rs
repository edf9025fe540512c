//! Records with no shared exact key are matched by their names, phones and addresses.

use entity::conflicts::ConflictKind;
use serde_json::json;

use crate::helpers::{Backend, clickup_task_update, hubspot_property, now_ms, spawn_app};

on_both_backends!(
    a_clickup_task_with_no_keys_joins_the_contact_it_names,
    a_task_that_fits_two_clients_equally_opens_an_ambiguous_match_conflict,
    a_task_unlike_any_client_becomes_its_own_client,
    a_contact_whose_first_event_made_a_client_of_its_own_moves_once_it_is_recognised,
);

async fn a_clickup_task_with_no_keys_joins_the_contact_it_names(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = now_ms();
    let contact = json!([
        hubspot_property(501, "email", "ana.romero@example.com", t),
        hubspot_property(501, "firstname", "Ana", t + 1),
        hubspot_property(501, "lastname", "Romero", t + 2),
        hubspot_property(501, "phone", "+34 612 345 678", t + 3),
    ]);
    assert_eq!(app.post_hubspot(&contact).await.status(), 200);
    app.drain_worker().await;

    let task = clickup_task_update(
        "t1",
        &[("h1", "name", "ROMERO, Ana"), ("h2", "Phone", "612-345-678")],
        t + 10,
    );
    assert_eq!(app.post_clickup(&task).await.status(), 200);
    app.drain_worker().await;

    let clients = app.clients().await;
    assert_eq!(clients.len(), 1, "{clients:?}");
    let records = app.source_records().await;
    assert_eq!(records.len(), 2);
    assert!(
        records.iter().all(|r| r.client_id == Some(clients[0].id)),
        "{records:?}"
    );
    assert_eq!(clients[0].name.as_deref(), Some("ROMERO, Ana"));
    assert_eq!(clients[0].email.as_deref(), Some("ana.romero@example.com"));
}

async fn a_task_that_fits_two_clients_equally_opens_an_ambiguous_match_conflict(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = now_ms();
    app.post_two_anas_sharing_an_office_line(t).await;
    app.drain_worker().await;
    assert_eq!(app.clients().await.len(), 2);

    let task = clickup_task_update(
        "t9",
        &[("h1", "name", "Ana Romero"), ("h2", "Phone", "911000111")],
        t + 10,
    );
    assert_eq!(app.post_clickup(&task).await.status(), 200);
    app.drain_worker().await;

    assert_eq!(app.clients().await.len(), 2, "nothing merged, nothing created");
    let conflicts = app.conflicts().await;
    let ambiguous: Vec<_> = conflicts
        .iter()
        .filter(|c| c.kind == ConflictKind::AmbiguousMatch)
        .collect();
    assert_eq!(ambiguous.len(), 1, "{conflicts:?}");
    let candidates = ambiguous[0].candidates.as_array().expect("candidates list");
    assert_eq!(candidates.len(), 2);
    assert!(
        candidates
            .iter()
            .all(|c| c["probability"].as_f64().is_some_and(|p| p > 0.6))
    );
    assert!(
        candidates[0]["evidence"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
    );
    let task_record = app
        .source_records()
        .await
        .into_iter()
        .find(|r| r.source == "clickup")
        .expect("task record");
    assert_eq!(task_record.client_id, None);
}

async fn a_task_unlike_any_client_becomes_its_own_client(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = now_ms();
    let contact = json!([
        hubspot_property(7, "firstname", "Ana", t),
        hubspot_property(7, "lastname", "Romero", t + 1),
        hubspot_property(7, "phone", "+34 612 345 678", t + 2),
    ]);
    assert_eq!(app.post_hubspot(&contact).await.status(), 200);
    app.drain_worker().await;
    let task = clickup_task_update(
        "t2",
        &[("h1", "name", "Pedro Ibarra"), ("h2", "Phone", "699 888 777")],
        t + 5,
    );
    assert_eq!(app.post_clickup(&task).await.status(), 200);
    app.drain_worker().await;

    assert_eq!(app.clients().await.len(), 2);
    assert!(app.conflicts().await.is_empty());
}

async fn a_contact_whose_first_event_made_a_client_of_its_own_moves_once_it_is_recognised(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = now_ms();
    let task = clickup_task_update(
        "t3",
        &[("h1", "name", "Lucia Fernandez"), ("h2", "Phone", "655 444 333")],
        t,
    );
    assert_eq!(app.post_clickup(&task).await.status(), 200);
    app.drain_worker().await;
    // The contact's email arrives alone first: nothing to recognise it by, so a client of its own.
    let email = json!([hubspot_property(42, "email", "lucia@example.com", t + 1)]);
    assert_eq!(app.post_hubspot(&email).await.status(), 200);
    app.drain_worker().await;
    assert_eq!(app.clients().await.len(), 2);

    let rest = json!([
        hubspot_property(42, "firstname", "Lucía", t + 2),
        hubspot_property(42, "lastname", "Fernández", t + 3),
        hubspot_property(42, "phone", "+34 655 444 333", t + 4),
    ]);
    assert_eq!(app.post_hubspot(&rest).await.status(), 200);
    app.drain_worker().await;

    let clients = app.clients().await;
    assert_eq!(clients.len(), 1, "{clients:?}");
    assert_eq!(clients[0].email.as_deref(), Some("lucia@example.com"));
    assert_eq!(clients[0].given_name.as_deref(), Some("Lucía"));
    assert!(
        app.source_records()
            .await
            .iter()
            .all(|r| r.client_id == Some(clients[0].id))
    );
}
