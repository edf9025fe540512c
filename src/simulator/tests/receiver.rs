//! The sender against the service's real receiver routes: every delivery verifies and every
//! event reaches the queue.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::{App, HttpServer, web};
use async_trait::async_trait;

use super::*;
use crate::{
    clock::Clock,
    queue::{Delivery as Message, EventQueue, QueueError, RetryOutcome},
    receiver::{ReceiverState, signature::WebhookSecret},
};

/// A queue that only records what the receiver publishes.
#[derive(Default)]
struct Recorded(Mutex<Vec<Vec<u8>>>);

#[async_trait]
impl EventQueue for Recorded {
    async fn publish(&self, bodies: &[Vec<u8>]) -> Result<(), QueueError> {
        self.0.lock().unwrap().extend_from_slice(bodies);
        Ok(())
    }
    async fn receive(&self, _: Duration) -> Result<Option<Message>, QueueError> {
        Ok(None)
    }
    async fn ack(&self, _: Message) -> Result<(), QueueError> {
        Ok(())
    }
    async fn retry(&self, _: Message, _: &str) -> Result<RetryOutcome, QueueError> {
        Err(QueueError::Unavailable("not used".into()))
    }
    async fn dead_letter(&self, _: Message, _: &str) -> Result<(), QueueError> {
        Ok(())
    }
    async fn replay_dead(&self, _: usize) -> Result<u64, QueueError> {
        Ok(0)
    }
    async fn purge_dead(&self, _: &crate::queue::Doomed<'_>) -> Result<u64, QueueError> {
        Ok(0)
    }
    async fn depth(&self) -> Result<Option<u64>, QueueError> {
        Ok(None)
    }
    async fn ping(&self) -> Result<(), QueueError> {
        Ok(())
    }
}

#[tokio::test]
async fn every_delivery_of_a_seeded_scenario_is_accepted_by_the_real_receiver() {
    let sim = start(SimConfig::default());
    let queue = Arc::new(Recorded::default());
    let clickup_secrets: HashMap<String, WebhookSecret> = sim
        .clickup_webhook_secrets()
        .split(',')
        .map(|pair| {
            let (id, secret) = pair.split_once('=').unwrap();
            (id.to_owned(), WebhookSecret::new(secret.to_owned()))
        })
        .collect();
    let state = web::Data::new(ReceiverState {
        queue: queue.clone(),
        hubspot_secret: Some(sim.config().hubspot_client_secret.clone()),
        clickup_secrets,
        public_base_url: "https://sync.example.com/".into(),
        tolerance_ms: 300_000,
        // The sender is also run signing v1 only, as a legacy app would.
        legacy: crate::receiver::signature::Legacy::Accepted,
        max_body_bytes: 1 << 20,
        body_timeout: std::time::Duration::from_secs(5),
        publish_timeout: std::time::Duration::from_secs(5),
        in_flight: Arc::new(tokio::sync::Semaphore::new(64)),
        clock: Clock::system(),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .configure(crate::receiver::routes)
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .unwrap();
    let target = format!("http://127.0.0.1:{}", server.addrs()[0].port());
    tokio::spawn(server.run());

    for signature in [HubSpotSignature::V3, HubSpotSignature::V1] {
        sim.set_sender(SenderConfig {
            target: Some(target.clone()),
            public_base_url: Some("https://sync.example.com".into()),
            hubspot_signature: signature,
            batch_size: 7,
            burst: 3,
            ..SenderConfig::default()
        });
        queue.0.lock().unwrap().clear();
        sim.seed_with_webhooks(&Scenario {
            clients: 12,
            ..Scenario::default()
        })
        .unwrap();
        let report = sim.flush().await.unwrap();
        assert_eq!(
            (report.failed, report.retried),
            (0, 0),
            "{signature:?}: {report:?}"
        );
        assert_eq!(
            queue.0.lock().unwrap().len(),
            report.events,
            "one queued event per event sent"
        );
    }
}
