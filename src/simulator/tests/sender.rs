//! Webhook delivery: signatures the receiver verifies, retries, health and duplicates.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

use super::*;
use crate::receiver::signature::{HubSpotHeaders, HubSpotRequest, Legacy, verify_clickup, verify_hubspot};

/// What the stub receiver got: path, headers, body.
type Received = Arc<Mutex<Vec<(String, Vec<(String, String)>, Vec<u8>)>>>;

/// A stub receiver that records every request and answers `statuses` in turn (then 200).
async fn receiver(statuses: Vec<u16>) -> (String, Received) {
    let got: Received = Arc::default();
    let answers = Arc::new(Mutex::new(statuses));
    let (g, a) = (got.clone(), answers.clone());
    let server = HttpServer::new(move || {
        let (g, a) = (g.clone(), a.clone());
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let (g, a) = (g.clone(), a.clone());
            async move {
                let headers = req
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
                    .collect();
                g.lock()
                    .unwrap()
                    .push((req.path().to_owned(), headers, body.to_vec()));
                let mut a = a.lock().unwrap();
                let status = if a.is_empty() { 200 } else { a.remove(0) };
                HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
            }
        }))
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    (format!("http://127.0.0.1:{port}"), got)
}

fn get<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn the_sender_signs_hubspot_batches_and_clickup_events_as_the_receiver_verifies_them() {
    let (target, got) = receiver(vec![500]).await;
    let sim = start(SimConfig::default());
    sim.set_sender(SenderConfig {
        target: Some(target),
        public_base_url: Some("https://sync.example.com".into()),
        batch_size: 2,
        ..SenderConfig::default()
    });
    sim.create_contact(&[("email", "a@x.com"), ("firstname", "Ana")]);
    let task = sim.create_task(&sim.clickup_list_id(), "Ana Gil", &[]).unwrap();
    sim.set_field(&task, "Phone", "+34 600 000 001").unwrap();
    let report = sim.flush().await.unwrap();
    assert_eq!(report.events, 6);
    assert_eq!(
        (report.requests, report.sent, report.retried, report.failed),
        (5, 5, 1, 0)
    );

    let got = got.lock().unwrap();
    let secret = sim.config().hubspot_client_secret.clone();
    let hubspot: Vec<_> = got.iter().filter(|(p, _, _)| p == "/webhooks/hubspot").collect();
    assert_eq!(hubspot.len(), 2, "3 events in batches of 2");
    for (path, headers, body) in &hubspot {
        let version = verify_hubspot(
            &secret,
            &HubSpotHeaders {
                signature_v3: get(headers, "X-HubSpot-Signature-v3"),
                timestamp: get(headers, "X-HubSpot-Request-Timestamp"),
                signature: get(headers, "X-HubSpot-Signature"),
                version: get(headers, "X-HubSpot-Signature-Version"),
            },
            &HubSpotRequest {
                method: "POST",
                public_base_url: "https://sync.example.com",
                path_and_query: path,
                body,
            },
            chrono::Utc::now().timestamp_millis(),
            300_000,
            Legacy::Refused,
        );
        assert_eq!(version, Ok(crate::receiver::signature::HubSpotVersion::V3));
    }
    let clickup: Vec<_> = got
        .iter()
        .filter(|(p, _, _)| p.starts_with("/webhooks/clickup/"))
        .collect();
    assert_eq!(clickup.len(), 4, "created, status, updated, and one retry");
    let secrets = sim.clickup_webhook_secrets();
    let (webhook_id, secret) = secrets.split_once('=').unwrap();
    for (path, headers, body) in clickup {
        assert_eq!(path, &format!("/webhooks/clickup/{webhook_id}"));
        let secret = crate::receiver::signature::WebhookSecret::new(secret.to_owned());
        assert_eq!(verify_clickup(&secret, get(headers, "X-Signature"), body), Ok(()));
    }
    assert_eq!(
        sim.webhook_health(webhook_id).unwrap().status,
        HealthStatus::Active
    );
}

#[tokio::test]
async fn a_clickup_event_that_keeps_failing_is_dropped_and_the_webhook_marked_failing_until_a_success() {
    let (target, got) = receiver(vec![500; 5]).await;
    let sim = start(SimConfig::default());
    sim.set_sender(SenderConfig {
        target: Some(target),
        retry_delay: Duration::from_millis(1),
        ..SenderConfig::default()
    });
    let list = sim.clickup_list_id();
    let id = sim.clickup_webhook_id(&list).unwrap();
    let task = sim.create_task(&list, "Ana Gil", &[]).unwrap();
    sim.discard_pending();
    sim.delete_task(&task).unwrap();
    let report = sim.flush().await.unwrap();
    assert_eq!(
        (report.requests, report.sent, report.retried, report.failed),
        (1, 0, 4, 1)
    );
    assert_eq!(got.lock().unwrap().len(), 5, "ClickUp tries an event 5 times");
    let failing = WebhookHealth {
        status: HealthStatus::Failing,
        fail_count: 1,
    };
    assert_eq!(sim.webhook_health(&id), Some(failing));

    sim.create_task(&list, "Luis Gil", &[]).unwrap();
    assert_eq!(sim.flush().await.unwrap().sent, 2);
    assert_eq!(
        sim.webhook_health(&id).unwrap(),
        WebhookHealth {
            status: HealthStatus::Active,
            fail_count: 0
        }
    );

    sim.set_webhook_health(
        &id,
        WebhookHealth {
            status: HealthStatus::Suspended,
            fail_count: 100,
        },
    )
    .unwrap();
    sim.create_task(&list, "Eva Gil", &[]).unwrap();
    let report = sim.flush().await.unwrap();
    assert_eq!((report.skipped, report.requests), (2, 0));
}

#[tokio::test]
async fn duplicates_resend_the_same_body() {
    let (target, got) = receiver(Vec::new()).await;
    let sim = start(SimConfig::default());
    sim.set_sender(SenderConfig {
        target: Some(target),
        duplicate_rate: 1.0,
        shuffle: true,
        burst: 4,
        ..SenderConfig::default()
    });
    sim.create_contact(&[("email", "a@x.com")]);
    let report = sim.flush().await.unwrap();
    assert_eq!((report.requests, report.duplicated, report.sent), (2, 1, 2));
    let got = got.lock().unwrap();
    assert_eq!(got[0].2, got[1].2);
}
