//! Names from any script become clients: a name the phonetic encoder cannot read (Søren, Sæther,
//! Skłodowska) once panicked inside the worker and killed its consumer.

use clientsync::worker::Settled;
use entity::inbox_events::InboxStatus;
use serde_json::json;

use crate::helpers::{Backend, hubspot_property, now_ms, spawn_app};

on_both_backends!(hubspot_contacts_with_nordic_and_polish_names_become_clients);

async fn hubspot_contacts_with_nordic_and_polish_names_become_clients(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = now_ms();
    let batch = json!([
        hubspot_property(901, "firstname", "Søren", t),
        hubspot_property(901, "lastname", "Sæther", t + 1),
        hubspot_property(902, "firstname", "Maria", t + 2),
        hubspot_property(902, "lastname", "Skłodowska", t + 3),
        hubspot_property(903, "firstname", "Cæsar", t + 4),
        hubspot_property(903, "lastname", "Sørensen", t + 5),
        hubspot_property(903, "email", "caesar@example.no", t + 6),
    ]);
    assert_eq!(app.post_hubspot(&batch).await.status(), 200);

    let settled = app.drain_worker().await;

    assert!(
        settled.iter().all(|s| matches!(s, Settled::Done(_))),
        "{settled:?}"
    );
    let clients = app.clients().await;
    let names: Vec<(Option<&str>, Option<&str>)> = clients
        .iter()
        .map(|c| (c.given_name.as_deref(), c.family_name.as_deref()))
        .collect();
    assert_eq!(clients.len(), 3, "{names:?}");
    for expected in [
        (Some("Søren"), Some("Sæther")),
        (Some("Maria"), Some("Skłodowska")),
        (Some("Cæsar"), Some("Sørensen")),
    ] {
        assert!(names.contains(&expected), "{expected:?} not in {names:?}");
    }
    let inbox = app.inbox().await;
    assert_eq!(inbox.len(), 7);
    assert!(
        inbox.iter().all(|e| e.status == InboxStatus::Processed),
        "{inbox:?}"
    );
    assert_eq!(app.queue_depth().await, 0);
}
