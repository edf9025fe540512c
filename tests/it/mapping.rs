//! A deployment's own HubSpot properties and ClickUp custom fields feed client fields by config.

use entity::inbox_events::InboxStatus;
use serde_json::json;

use crate::helpers::{Backend, clickup_task_update, hubspot_property, now_ms, spawn_app_with};

on_both_backends!(configured_properties_and_custom_field_ids_feed_client_fields_and_unmapped_ones_do_not);

async fn configured_properties_and_custom_field_ids_feed_client_fields_and_unmapped_ones_do_not(
    backend: Backend,
) {
    let app = spawn_app_with(backend, |config| {
        config
            .mapping
            .hubspot
            .insert("numero_fiscal".into(), "document_key".into());
        config.mapping.hubspot.insert("mobilephone".into(), "none".into());
        // The test helper gives a custom field named N the id `cf-N`.
        config
            .mapping
            .clickup
            .insert("cf-Identificador".into(), "document_key".into());
    })
    .await;
    let t = now_ms() - 60_000;
    let contact = json!([
        hubspot_property(7, "numero_fiscal", "B12345674", t),
        hubspot_property(7, "mobilephone", "+34 699 000 000", t + 1),
    ]);
    assert_eq!(app.post_hubspot(&contact).await.status(), 200);
    let task = clickup_task_update("t7", &[("h1", "Identificador", "b-1234567-4")], t + 2);
    assert_eq!(app.post_clickup(&task).await.status(), 200);
    app.drain_worker().await;

    let clients = app.clients().await;
    assert_eq!(
        clients.len(),
        1,
        "the task's id field matched the contact's: {clients:?}"
    );
    assert_eq!(clients[0].document_key.as_deref(), Some("B12345674"));
    assert_eq!(clients[0].phone, None, "mobilephone was unmapped");
    let records = app.source_records().await;
    assert!(
        records.iter().all(|r| r.client_id == Some(clients[0].id)),
        "{records:?}"
    );
    let ignored = app
        .inbox()
        .await
        .into_iter()
        .filter(|e| e.status == InboxStatus::Ignored)
        .count();
    assert_eq!(ignored, 1, "the unmapped property is stored and ignored");
}
