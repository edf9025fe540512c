//! Write-back against the simulated APIs: one change in one system is written once to the
//! other, and its echo (our own write coming back as a webhook) writes nothing more.

use clientsync::{domain::source::Source, simulator::ObjectType};

use crate::helpers::{Backend, SimApp, spawn_app_with_sim};

on_both_backends!(
    a_payment_status_set_in_clickup_is_written_once_to_hubspot_and_its_echo_writes_nothing,
    an_email_changed_in_hubspot_is_written_once_to_the_clickup_task,
);

/// Ana in both systems, delivered as the real senders would, reconciled, and every webhook
/// (write-back echoes included) settled: returns (contact, task).
pub(crate) async fn ana_in_sync(t: &SimApp) -> (String, String) {
    let contact = t.sim.create_contact(&[
        ("email", "ana.ruiz@example.com"),
        ("firstname", "Ana"),
        ("lastname", "Ruiz"),
        ("tax_id", "12345678Z"),
    ]);
    let list = t.sim.clickup_list_id();
    let task = t
        .sim
        .create_task(&list, "Ana Ruiz", &[("Tax ID", "12345678Z")])
        .expect("task created");
    settle(t).await;
    (contact, task)
}

/// Delivers what the simulator has to send and drains the worker, until nothing is left.
pub(crate) async fn settle(t: &SimApp) {
    for _ in 0..5 {
        let sent = t.sim.flush().await.expect("webhooks delivered");
        let settled = t.app.drain_worker().await;
        if sent.events == 0 && settled.is_empty() {
            return;
        }
    }
    panic!("still writing after five rounds: a write-back loop");
}

async fn a_payment_status_set_in_clickup_is_written_once_to_hubspot_and_its_echo_writes_nothing(
    backend: Backend,
) {
    let t = spawn_app_with_sim(backend).await;
    let (contact, task) = ana_in_sync(&t).await;
    let before = t.sim.writes().len();

    t.sim
        .set_field(&task, "Payment status", "Paid")
        .expect("set in ClickUp");
    settle(&t).await;

    let writes = t.sim.writes()[before..].to_vec();
    assert_eq!(writes.len(), 1, "one change, one write: {writes:?}");
    assert_eq!(writes[0].source, Source::HubSpot);
    assert_eq!(writes[0].object_id, contact);
    let hubspot = t
        .sim
        .hubspot_object(ObjectType::Contact, &contact)
        .expect("contact");
    assert_eq!(hubspot.get("payment_status").map(String::as_str), Some("Paid"));
    let clients = t.app.clients().await;
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].payment_status.as_deref(), Some("Paid"));
    assert!(
        t.app
            .inbox()
            .await
            .iter()
            .any(|e| e.last_error.as_deref() == Some("our own write coming back")),
        "the echo arrived and was recognised"
    );
}

async fn an_email_changed_in_hubspot_is_written_once_to_the_clickup_task(backend: Backend) {
    let t = spawn_app_with_sim(backend).await;
    let (contact, task) = ana_in_sync(&t).await;
    let (_, fields) = t.sim.task(&task).expect("task");
    assert_eq!(
        fields.get("Email").and_then(|v| v.as_str()),
        Some("ana.ruiz@example.com"),
        "linking filled the task's empty Email from HubSpot"
    );
    let before = t.sim.writes().len();

    t.sim
        .update_contact(&contact, &[("email", "ana@ruiz.example")])
        .expect("changed in HubSpot");
    settle(&t).await;

    let writes = t.sim.writes()[before..].to_vec();
    assert_eq!(writes.len(), 1, "one change, one write: {writes:?}");
    assert_eq!(writes[0].source, Source::ClickUp);
    let (_, fields) = t.sim.task(&task).expect("task");
    assert_eq!(
        fields.get("Email").and_then(|v| v.as_str()),
        Some("ana@ruiz.example")
    );
    let open_mismatches = t
        .app
        .conflicts()
        .await
        .into_iter()
        .filter(|c| c.field.as_deref() == Some("email"))
        .count();
    assert_eq!(
        open_mismatches, 0,
        "our own earlier write is not ClickUp disagreeing"
    );
}
