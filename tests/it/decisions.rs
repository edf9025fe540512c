//! Every automatic decision is stored with its evidence, so an operator can see why a record
//! sits on its client.

use entity::decisions::{self, DecisionKind};
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::json;

use crate::helpers::{Backend, clickup_task_update, hubspot_property, now_ms, spawn_app};

on_both_backends!(
    a_fuzzy_link_is_recorded_with_each_fields_level_and_bits,
    a_key_that_proves_two_clients_one_person_is_recorded_as_a_merge,
    an_operators_pin_outlives_the_merge_of_its_client
);

async fn all(app: &crate::helpers::TestApp) -> Vec<decisions::Model> {
    decisions::Entity::find()
        .order_by_asc(decisions::Column::Id)
        .all(&app.db)
        .await
        .expect("decisions")
}

async fn a_fuzzy_link_is_recorded_with_each_fields_level_and_bits(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = now_ms();
    app.post_hubspot(&json!([
        hubspot_property(1, "firstname", "Søren", t),
        hubspot_property(1, "lastname", "Sæther", t + 1),
        hubspot_property(1, "phone", "+34 612 345 678", t + 2),
    ]))
    .await;
    app.drain_worker().await;
    app.post_clickup(&clickup_task_update(
        "t1",
        &[("h1", "name", "Søren Sæther"), ("h2", "Phone", "612345678")],
        t + 3,
    ))
    .await;
    app.drain_worker().await;

    let link = all(&app)
        .await
        .into_iter()
        .find(|d| d.external_id == "task:t1" && d.kind == DecisionKind::Link)
        .expect("the task's link is recorded");
    assert_eq!(link.model_version, "default");
    assert!(link.probability.is_some_and(|p| p >= 0.95), "{link:?}");
    let fields = &link.evidence["candidates"][0]["explanation"]["fields"];
    let phone = fields
        .as_array()
        .and_then(|f| f.iter().find(|e| e["field"] == "phone"))
        .expect("the phone's part is explained");
    assert_eq!(phone["level"], "exact");
    assert!(phone["bits"].as_f64().is_some_and(|b| b > 0.0));
}

async fn a_key_that_proves_two_clients_one_person_is_recorded_as_a_merge(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = now_ms();
    // The contact founds one client by email, the task another by tax id...
    app.post_hubspot(&json!([hubspot_property(1, "email", "ana@example.com", t)]))
        .await;
    app.post_clickup(&clickup_task_update(
        "t1",
        &[("h1", "Tax ID", "12345678Z")],
        t + 1,
    ))
    .await;
    app.drain_worker().await;
    assert_eq!(app.clients().await.len(), 2);
    // ...until the contact's tax id proves them one person.
    app.post_hubspot(&json!([hubspot_property(1, "tax_id", "12345678Z", t + 2)]))
        .await;
    app.drain_worker().await;

    assert_eq!(app.clients().await.len(), 1, "one person, one client");
    let open = app
        .conflicts()
        .await
        .into_iter()
        .filter(|c| c.status == entity::conflicts::ConflictStatus::Open)
        .count();
    assert_eq!(open, 0, "nothing left for an operator");
    let decided = all(&app).await;
    let moved = decided
        .iter()
        .find(|d| matches!(d.kind, DecisionKind::Move | DecisionKind::Merge))
        .expect("the move is recorded");
    assert_eq!(moved.external_id, "contact:1");
    assert_eq!(moved.evidence["keys"]["document_key"], "12345678Z");
    assert!(moved.from_client_id.is_some() && moved.client_id.is_some());
}

async fn an_operators_pin_outlives_the_merge_of_its_client(backend: Backend) {
    use clientsync::{domain::ids::ClientId, reconcile::Field, store::provenance};
    let app = spawn_app(backend).await;
    let t = now_ms();
    app.post_hubspot(&json!([hubspot_property(1, "email", "ana@example.com", t)]))
        .await;
    app.post_clickup(&clickup_task_update(
        "t1",
        &[("h1", "Tax ID", "12345678Z"), ("h2", "Phone", "612345678")],
        t + 1,
    ))
    .await;
    app.drain_worker().await;
    // The pin is on the contact's client, which the merge absorbs into the task's.
    let contact_client = app
        .clients()
        .await
        .into_iter()
        .find(|c| c.email.is_some())
        .expect("the contact's client");
    provenance::pin(
        &app.db,
        ClientId::from_uuid(contact_client.id),
        Field::Phone,
        Some("+34699000111".into()),
        "steward",
        "called the client",
    )
    .await
    .expect("pin");
    app.post_hubspot(&json!([hubspot_property(1, "tax_id", "12345678Z", t + 2)]))
        .await;
    app.drain_worker().await;

    let clients = app.clients().await;
    assert_eq!(clients.len(), 1, "{clients:?}");
    assert_eq!(
        clients[0].phone.as_deref(),
        Some("+34699000111"),
        "the pin stands"
    );
}
