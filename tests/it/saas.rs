//! Against the simulated HubSpot and ClickUp APIs: thin events become full records, rate-limit
//! storms lose nothing, and a killed backfill resumes where it stopped.

use std::time::Duration;

use clientsync::{
    backfill::{Scope, Since},
    domain::source::Source,
    simulator::{Endpoint, Fault, Scenario},
    sources::snapshot_envelope,
    worker::{Enricher, Settled},
};
use entity::conflicts::ConflictKind;
use tokio_util::sync::CancellationToken;

use crate::helpers::{Backend, SimApp, spawn_app_with_sim};

on_both_backends!(
    thin_events_become_full_records_read_from_the_source,
    a_rate_limit_storm_is_waited_out_and_no_event_is_lost,
    a_killed_backfill_resumes_at_its_last_page_and_ends_with_the_scenarios_clients,
);

fn ana(sim: &SimApp) -> (String, String) {
    let contact = sim.sim.create_contact(&[
        ("email", "ana.ruiz@example.com"),
        ("firstname", "Ana"),
        ("lastname", "Ruiz"),
        ("tax_id", "12345678Z"),
    ]);
    // Only the thin creation event will reach the service.
    sim.sim.discard_pending();
    let list = sim.sim.clickup_list_id();
    let task = sim
        .sim
        .create_task(
            &list,
            "Ana Ruiz",
            &[("Tax ID", "12345678Z"), ("Phone", "+34 600 111 222")],
        )
        .expect("task created");
    (contact, task)
}

async fn thin_events_become_full_records_read_from_the_source(backend: Backend) {
    let t = spawn_app_with_sim(backend).await;
    let (contact, task) = ana(&t);
    t.sim.flush().await.expect("ClickUp's taskCreated is delivered");
    t.post_contact_creations(std::slice::from_ref(&contact)).await;

    let settled = t.app.drain_worker().await;

    assert!(
        settled.iter().all(|s| matches!(s, Settled::Done(_))),
        "{settled:?}"
    );
    let clients = t.app.clients().await;
    assert_eq!(clients.len(), 1, "the contact and the task are one client");
    let client = &clients[0];
    assert_eq!(client.email.as_deref(), Some("ana.ruiz@example.com"));
    assert_eq!(client.given_name.as_deref(), Some("Ana"));
    assert_eq!(
        client.phone.as_deref(),
        Some("+34600111222"),
        "the task's phone, read from ClickUp"
    );
    let records = t.app.source_records().await;
    assert_eq!(records.len(), 2);
    assert!(
        records.iter().all(|r| r.client_id == Some(client.id)),
        "{records:?}"
    );
    assert!(t.sim.calls(Endpoint::ClickUpGetTask) >= 1);
    assert!(
        records.iter().any(|r| r.external_id == format!("task:{task}")),
        "the task is one of them"
    );
}

/// Thin events of one batch are read with one HubSpot batch call, not one call each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thin_contacts_of_one_batch_are_read_in_one_call() {
    let t = spawn_app_with_sim(Backend::Embedded).await;
    let ids: Vec<String> = (0..3)
        .map(|n| t.sim.create_contact(&[("email", &format!("p{n}@example.com"))]))
        .collect();
    let envelopes: Vec<_> = ids
        .iter()
        .map(|id| {
            let mut env = snapshot_envelope(
                Source::HubSpot,
                "contact",
                serde_json::json!({"id": id, "updatedAt": "2026-11-25T10:00:00Z"}),
            )
            .expect("envelope");
            env.event_type = "contact.creation".into();
            env.payload = serde_json::json!({"subscriptionType": "contact.creation", "objectId": id});
            env
        })
        .collect();
    let apis = clientsync::saas::Apis::from_config(&t.config).expect("API clients");
    let mapping = t.config.mapping.field_mapping().expect("mapping");

    let effects = Enricher::new(&apis)
        .effects(&envelopes.iter().collect::<Vec<_>>(), &mapping)
        .await;

    assert_eq!(t.sim.calls(Endpoint::HubSpotBatchRead), 1);
    assert_eq!(t.sim.calls(Endpoint::HubSpotRead), 0);
    for (effect, n) in effects.iter().zip(0..) {
        let effect = format!("{:?}", effect.as_ref().expect("enriched"));
        assert!(effect.contains(&format!("p{n}@example.com")), "{effect}");
    }
}

async fn a_rate_limit_storm_is_waited_out_and_no_event_is_lost(backend: Backend) {
    let t = spawn_app_with_sim(backend).await;
    let ids: Vec<String> = (0..20)
        .map(|n| {
            t.sim
                .create_contact(&[("email", &format!("storm{n}@example.com"))])
        })
        .collect();
    t.sim.discard_pending();
    t.sim.inject(Fault::RateLimit { count: 10 });

    t.post_contact_creations(&ids).await;
    let mut settled = t.app.drain_worker().await;
    // Retries scheduled by the queue may still be waiting out their delay.
    for _ in 0..20 {
        if t.app.clients().await.len() == ids.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        settled.extend(t.app.drain_worker().await);
    }

    assert!(
        t.sim.rate_limited() >= 10,
        "the storm happened: {}",
        t.sim.rate_limited()
    );
    assert!(
        !settled.iter().any(|s| matches!(s, Settled::DeadLettered(_))),
        "nothing dead-lettered: {settled:?}"
    );
    let mut emails: Vec<String> = t
        .app
        .clients()
        .await
        .into_iter()
        .filter_map(|c| c.email)
        .collect();
    emails.sort();
    let mut expected: Vec<String> = (0..20).map(|n| format!("storm{n}@example.com")).collect();
    expected.sort();
    assert_eq!(emails, expected, "every contact arrived with its data");
}

async fn a_killed_backfill_resumes_at_its_last_page_and_ends_with_the_scenarios_clients(backend: Backend) {
    let t = spawn_app_with_sim(backend).await;
    let truth = t
        .sim
        .seed_silently(&Scenario {
            clients: 400,
            collisions: 3,
            ..Scenario::default()
        })
        .expect("seeded");
    assert!(truth.hubspot_contacts > 200, "several pages of contacts");

    // Killed (not asked to stop) once its first page of contacts is saved.
    let first = {
        let backfill = t.backfill();
        let run = tokio::spawn(async move {
            backfill
                .run(Scope::All, Since::Everything, &CancellationToken::new())
                .await
                .map(|r| r.objects())
        });
        let db = t.app.db.clone();
        loop {
            let cursor = clientsync::store::cursors::load(&db, "hubspot:contact")
                .await
                .expect("cursor readable");
            if cursor.is_some_and(|c| c.position.is_some()) {
                run.abort();
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(run.await.is_err(), "the first run was killed");
        t.sim.calls(Endpoint::HubSpotList)
    };

    let report = t
        .backfill()
        .run(Scope::All, Since::Everything, &CancellationToken::new())
        .await
        .expect("the second run completes");

    let contacts = &report.streams["hubspot:contact"];
    assert!(contacts.resumed, "it resumed");
    assert!(
        (contacts.objects as usize) < truth.hubspot_contacts,
        "pages read before the kill are not read again: {} of {}",
        contacts.objects,
        truth.hubspot_contacts
    );
    assert!(first >= 1);
    let clients = t.app.clients().await;
    let records = t.app.source_records().await;
    assert_eq!(clients.len(), truth.expected_clients, "one client per person");
    for (contact, task) in &truth.in_both_pairs {
        let client_of = |external_id: String| {
            records
                .iter()
                .find(|r| r.external_id == external_id)
                .and_then(|r| r.client_id)
        };
        let contact_client = client_of(format!("contact:{contact}"));
        assert!(contact_client.is_some(), "contact {contact} is linked");
        assert_eq!(
            contact_client,
            client_of(format!("task:{task}")),
            "contact {contact} and task {task}"
        );
    }
    let collisions = t
        .app
        .conflicts()
        .await
        .into_iter()
        .filter(|c| c.kind == ConflictKind::KeyCollision)
        .count();
    assert_eq!(collisions, truth.expected_key_collisions);
}

/// A ClickUp webhook that starts failing shows in `/readyz` (which stays 200: taking receivers
/// out of service would not bring the webhook back).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_clickup_webhook_shows_in_readiness_without_failing_it() {
    use clientsync::simulator::{HealthStatus, WebhookHealth};
    let t = spawn_app_with_sim(Backend::Embedded).await;
    let webhook = t
        .sim
        .clickup_webhook_id(&t.sim.clickup_list_id())
        .expect("the list's webhook");
    t.sim
        .set_webhook_health(
            &webhook,
            WebhookHealth {
                status: HealthStatus::Failing,
                fail_count: 7,
            },
        )
        .expect("health set");

    let mut detail = serde_json::Value::Null;
    for _ in 0..50 {
        let response = t
            .app
            .client
            .get(format!("{}/readyz", t.app.address))
            .send()
            .await
            .expect("readyz answers");
        assert_eq!(
            response.status(),
            200,
            "an unhealthy webhook never fails readiness"
        );
        let body: serde_json::Value = response.json().await.expect("json");
        detail = body["clickup_webhooks"].clone();
        if detail["status"] == "degraded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    assert_eq!(detail["status"], "degraded", "{detail}");
    assert_eq!(detail["unhealthy"][0]["id"], webhook.as_str(), "{detail}");
    assert_eq!(detail["unhealthy"][0]["status"], "failing", "{detail}");
    assert_eq!(detail["unhealthy"][0]["fail_count"], 7, "{detail}");
}
