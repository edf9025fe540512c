//! Four worker processes on Postgres + RabbitMQ, fed every event about a few hundred people
//! (non-ASCII names, tax ids on both sides for a third of them) shuffled and partly delivered
//! twice, still make exactly one client per person.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use clientsync::{
    config::Config,
    startup::{Application, Role},
};
use entity::{
    conflicts::{ConflictKind, ConflictStatus},
    inbox_events::InboxStatus,
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::helpers::{Backend, clickup_task_update, hubspot_property, now_ms, spawn_app_with};

const PEOPLE: usize = 400;
const WORKERS: usize = 4;
const GIVEN: [&str; 16] = [
    "Ana", "Søren", "Lucía", "Andrés", "Łukasz", "Jorge", "Zoë", "Pablo", "Ærling", "Óscar", "Carmen",
    "Raúl", "Sofía", "Björn", "Marta", "Iván",
];
const FAMILY: [&str; 15] = [
    "Prieto",
    "Sæther",
    "Navarro",
    "Skłodowska",
    "Ortega",
    "Weiß",
    "Vidal",
    "Øvergaard",
    "Molina",
    "Dvořák",
    "Garrido",
    "Cæsar",
    "Fuentes",
    "Núñez",
    "Santana",
];

/// One webhook delivery: a HubSpot batch of one event, or a ClickUp event.
#[derive(Clone)]
enum Delivery {
    HubSpot(Value),
    ClickUp(Value),
}

struct Person {
    given: &'static str,
    family: &'static str,
    email: String,
    phone_digits: String,
    /// A third of the people carry a tax id on both sides, so the contact's email and the
    /// task's tax id can found two clients that must become one whatever the order.
    document_key: Option<String>,
}

fn person(i: usize) -> Person {
    let (given, family) = (GIVEN[i % GIVEN.len()], FAMILY[(i / GIVEN.len()) % FAMILY.len()]);
    Person {
        given,
        family,
        email: format!("client{i}@example.com"),
        // Sequential numbers, as one office's lines are: neighbours differ in one digit.
        phone_digits: format!("600{i:06}"),
        document_key: i.is_multiple_of(3).then(|| {
            let number = 20_000_000 + i;
            format!("{number}{}", b"TRWAGMYFPDXBNJZSQVHLCKE"[number % 23] as char)
        }),
    }
}

/// Every event about person `i`: a contact whose email changes once (the newer one must win
/// wherever it lands in the shuffle) and a task holding the name, the phone and, for half of
/// the people, the email; each event carries one field, as webhooks do.
fn events_of(i: usize, t0: i64) -> Vec<Delivery> {
    let p = person(i);
    let contact = 30_000 + i as i64;
    let t = t0 + i as i64 * 10;
    let phone = &p.phone_digits;
    let mut events = vec![
        Delivery::HubSpot(hubspot_property(
            contact,
            "email",
            &format!("old{i}@example.com"),
            t,
        )),
        Delivery::HubSpot(hubspot_property(contact, "firstname", p.given, t + 1)),
        Delivery::HubSpot(hubspot_property(contact, "lastname", p.family, t + 2)),
        Delivery::HubSpot(hubspot_property(contact, "phone", &format!("+34 {phone}"), t + 3)),
        Delivery::HubSpot(hubspot_property(contact, "email", &p.email, t + 4)),
    ];
    let task = format!("task{i}");
    let name = format!("{} {}", p.given, p.family);
    let mut items = vec![("name", name.as_str()), ("Phone", phone.as_str())];
    if i.is_multiple_of(2) {
        items.push(("Email", p.email.as_str()));
    }
    if let Some(key) = &p.document_key {
        events.push(Delivery::HubSpot(hubspot_property(contact, "tax_id", key, t + 4)));
        items.push(("Tax ID", key.as_str()));
    }
    for (k, (field, value)) in items.into_iter().enumerate() {
        let id = format!("h{i}-{k}");
        events.push(Delivery::ClickUp(clickup_task_update(
            &task,
            &[(&id, field, value)],
            t + 5 + k as i64,
        )));
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_workers_racing_over_shuffled_duplicated_events_make_one_client_per_person() {
    let captured: Arc<Mutex<Option<Config>>> = Arc::default();
    let stash = captured.clone();
    let app = spawn_app_with(Backend::Production, move |config| {
        config.worker.concurrency = 2;
        config.database.max_connections = 6;
        if let Ok(mut slot) = stash.lock() {
            *slot = Some(config.clone());
        }
    })
    .await;
    let config = captured.lock().expect("config").take().expect("tweak ran");
    let shutdown = CancellationToken::new();
    for _ in 0..WORKERS {
        let worker = Application::build(config.clone(), Role::Worker)
            .await
            .expect("worker builds");
        tokio::spawn(worker.run_until(shutdown.clone()));
    }

    let t0 = now_ms() - 3_600_000;
    let mut deliveries: Vec<Delivery> = (0..PEOPLE).flat_map(|i| events_of(i, t0)).collect();
    let distinct = deliveries.len();
    let mut rng = fastrand::Rng::with_seed(7);
    let again: Vec<Delivery> = deliveries.iter().filter(|_| rng.f64() < 0.2).cloned().collect();
    deliveries.extend(again);
    rng.shuffle(&mut deliveries);
    for delivery in &deliveries {
        let status = match delivery {
            Delivery::HubSpot(event) => app.post_hubspot(&json!([event])).await.status(),
            Delivery::ClickUp(event) => app.post_clickup(event).await.status(),
        };
        assert_eq!(status, 200);
    }

    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let inbox = app.inbox().await;
        if inbox.len() == distinct && app.queue_depth().await == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "workers did not finish: {} of {distinct}",
            inbox.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    shutdown.cancel();

    let inbox = app.inbox().await;
    let failed: Vec<_> = inbox
        .iter()
        .filter(|e| e.status != InboxStatus::Processed)
        .collect();
    assert!(failed.is_empty(), "every event applied once: {failed:?}");

    let clients = app.clients().await;
    let records = app.source_records().await;
    let by_id: BTreeMap<_, _> = clients.iter().map(|c| (c.id, c)).collect();
    let mut seen = BTreeSet::new();
    for i in 0..PEOPLE {
        let p = person(i);
        let contact = records
            .iter()
            .find(|r| r.external_id == format!("contact:{}", 30_000 + i))
            .expect("contact stored");
        let task = records
            .iter()
            .find(|r| r.external_id == format!("task:task{i}"))
            .expect("task stored");
        let client = contact.client_id.expect("contact linked");
        assert_eq!(
            task.client_id,
            Some(client),
            "person {i}'s task joins their contact"
        );
        assert!(
            seen.insert(client),
            "person {i} shares a client with someone else"
        );
        let golden = by_id[&client];
        assert_eq!(
            golden.email.as_deref(),
            Some(p.email.as_str()),
            "newest email wins"
        );
        assert_eq!(golden.given_name.as_deref(), Some(p.given));
        assert_eq!(golden.document_key, p.document_key);
        assert_eq!(golden.family_name.as_deref(), Some(p.family));
        assert_eq!(
            golden.phone.as_deref(),
            Some(format!("+34{}", p.phone_digits).as_str())
        );
    }
    assert_eq!(clients.len(), PEOPLE, "exactly one client per person");
    let open: Vec<_> = app
        .conflicts()
        .await
        .into_iter()
        .filter(|c| c.kind != ConflictKind::FieldMismatch && c.status == ConflictStatus::Open)
        .collect();
    assert!(open.is_empty(), "no match left for an operator: {open:?}");
}
