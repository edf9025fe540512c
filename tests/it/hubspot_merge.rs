//! HubSpot merging two contacts makes their clients one, with everything linked to either.

use entity::source_records::RecordStatus;
use serde_json::json;

use crate::helpers::{Backend, clickup_task_update, hubspot_property, now_ms, spawn_app};

on_both_backends!(
    merging_two_contacts_in_hubspot_leaves_one_client_holding_both_and_their_tasks,
    a_merge_into_a_new_object_id_moves_the_link_to_the_new_contact,
);

fn merge_event(primary: i64, merged: &[i64], new_id: Option<i64>, at: i64) -> serde_json::Value {
    let mut event = json!({
        "eventId": at, "subscriptionId": 2, "portalId": 62515, "appId": 54321, "occurredAt": at,
        "subscriptionType": "contact.merge", "attemptNumber": 0, "objectId": primary,
        "primaryObjectId": primary, "mergedObjectIds": merged, "numberOfPropertiesMoved": 2,
        "changeSource": "CRM_UI", "sourceId": "userId:1"
    });
    if let Some(id) = new_id {
        event["newObjectId"] = id.into();
    }
    event
}

async fn merging_two_contacts_in_hubspot_leaves_one_client_holding_both_and_their_tasks(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = now_ms() - 60_000;
    // The same person entered twice, with different emails: two clients, one task on the second.
    let contacts = json!([
        hubspot_property(1, "email", "ana@home.example", t),
        hubspot_property(1, "firstname", "Ana", t + 1),
        hubspot_property(2, "email", "ana.romero@work.example", t + 2),
        hubspot_property(2, "phone", "+34 612 345 678", t + 3),
    ]);
    assert_eq!(app.post_hubspot(&contacts).await.status(), 200);
    let task = clickup_task_update("t1", &[("h1", "Email", "ana.romero@work.example")], t + 4);
    assert_eq!(app.post_clickup(&task).await.status(), 200);
    app.drain_worker().await;
    assert_eq!(app.clients().await.len(), 2);

    assert_eq!(
        app.post_hubspot(&json!([merge_event(1, &[2], None, t + 10)]))
            .await
            .status(),
        200
    );
    app.drain_worker().await;

    let clients = app.clients().await;
    assert_eq!(clients.len(), 1, "{clients:?}");
    let client = &clients[0];
    assert_eq!(
        client.email.as_deref(),
        Some("ana.romero@work.example"),
        "the newer email wins"
    );
    assert_eq!(client.given_name.as_deref(), Some("Ana"));
    assert_eq!(client.phone.as_deref(), Some("+34612345678"));
    let records = app.source_records().await;
    assert!(
        records.iter().all(|r| r.client_id == Some(client.id)),
        "{records:?}"
    );
    let retired = records
        .iter()
        .find(|r| r.external_id == "contact:2")
        .expect("contact 2");
    assert_eq!(retired.status, RecordStatus::Deleted);
}

async fn a_merge_into_a_new_object_id_moves_the_link_to_the_new_contact(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = now_ms() - 60_000;
    let contacts = json!([
        hubspot_property(5, "email", "luis@example.com", t),
        hubspot_property(6, "email", "luis.g@example.com", t + 1),
    ]);
    assert_eq!(app.post_hubspot(&contacts).await.status(), 200);
    app.drain_worker().await;

    assert_eq!(
        app.post_hubspot(&json!([merge_event(5, &[6], Some(7), t + 10)]))
            .await
            .status(),
        200
    );
    app.drain_worker().await;

    let clients = app.clients().await;
    assert_eq!(clients.len(), 1, "{clients:?}");
    let records = app.source_records().await;
    let survivor = records
        .iter()
        .find(|r| r.external_id == "contact:7")
        .expect("new contact");
    assert_eq!(survivor.status, RecordStatus::Active);
    assert_eq!(survivor.client_id, Some(clients[0].id));
    for old in ["contact:5", "contact:6"] {
        let record = records
            .iter()
            .find(|r| r.external_id == old)
            .expect("old contact");
        assert_eq!(record.status, RecordStatus::Deleted, "{old}");
    }
}
