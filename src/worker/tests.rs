//! The worker against a real store and real queues, with units of work that misbehave.

use std::time::Duration;

use entity::inbox_events::{self, InboxStatus};
use sea_orm::{Database, EntityTrait};
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

use super::{
    doubles::{Misbehaviour, UnrulyQueue},
    *,
};
use crate::{
    clock::Clock,
    domain::{event::EventId, source::Source},
    queue::{
        RetryPolicy,
        embedded::{EmbeddedConfig, EmbeddedQueue},
        rabbitmq::{RabbitConfig, RabbitQueue},
    },
    worker::supervisor::Phase,
};

const ATTEMPTS: u32 = 3;
const PANIC: &str = "end byte index 2 is not a char boundary; it is inside 'Ø' (bytes 1..3) of `SØREN`";

/// Retries wait long enough that the message behind a failed one is always taken first.
fn retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: ATTEMPTS,
        base_delay: Duration::from_millis(150),
        max_delay: Duration::from_millis(150),
    }
}

async fn store(dir: &tempfile::TempDir) -> DatabaseConnection {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("worker.db").display());
    let db = Database::connect(url).await.unwrap();
    crate::store::migrate(&db).await.unwrap();
    db
}

fn embedded(db: &DatabaseConnection) -> Arc<dyn EventQueue> {
    Arc::new(EmbeddedQueue::new(
        db.clone(),
        EmbeddedConfig {
            queue: "worker-unit".into(),
            lease: Duration::from_secs(30),
            retry: retry(),
            endpoint: "worker.db".into(),
        },
        Clock::system(),
    ))
}

fn rabbit() -> RabbitQueue {
    let url =
        std::env::var("TEST_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    RabbitQueue::new(RabbitConfig {
        url: SecretString::from(url),
        queue_prefix: format!("clientsync-unit-{}", uuid::Uuid::new_v4().simple()),
        prefetch: 8,
        confirm_timeout: Duration::from_secs(5),
        retry: retry(),
    })
}

fn envelope(object_id: &str) -> Vec<u8> {
    Envelope {
        id: EventId::new(format!("hubspot:test:{object_id}")),
        source: Source::HubSpot,
        event_type: "contact.propertyChange".into(),
        object_id: object_id.into(),
        occurred_at_ms: 1_764_000_000_000,
        received_at: chrono::Utc::now(),
        payload: serde_json::json!({"objectId": object_id}),
    }
    .to_bytes()
    .unwrap()
}

/// Takes messages until none comes, settling each with a unit of work that panics for the
/// object named "poison" and succeeds for any other: the seam production fills with
/// `enrich_and_apply`.
async fn drain_with_a_poisoned_unit_of_work(worker: &Worker) -> Vec<(String, Settled)> {
    let mut settled = Vec::new();
    for _ in 0..50 {
        let Some(delivery) = worker.queue.receive(Duration::from_millis(500)).await.unwrap() else {
            break;
        };
        let env = Envelope::from_bytes(&delivery.body).unwrap();
        let poisoned = env.object_id == "poison";
        let work = async move {
            tokio::task::yield_now().await;
            if poisoned {
                panic!("{PANIC}");
            }
            Ok(Outcome::Ignored)
        };
        let result = worker.settle_decoded(delivery, &env, work).await.unwrap();
        settled.push((env.object_id.clone(), result));
    }
    settled
}

async fn a_panicking_unit_of_work_is_retried_then_dead_lettered_while_the_next_message_is_processed(
    db: DatabaseConnection,
    queue: Arc<dyn EventQueue>,
) {
    queue
        .publish(&[envelope("poison"), envelope("healthy")])
        .await
        .unwrap();
    let worker = Worker::new(db.clone(), queue.clone());

    let settled = drain_with_a_poisoned_unit_of_work(&worker).await;

    let poison: Vec<&Settled> = settled
        .iter()
        .filter(|(o, _)| o == "poison")
        .map(|(_, s)| s)
        .collect();
    let reason = format!("panicked: {PANIC}");
    assert_eq!(poison.len() as u32, ATTEMPTS, "{settled:?}");
    assert!(
        poison[..poison.len() - 1]
            .iter()
            .all(|s| matches!(s, Settled::Retrying(_))),
        "{settled:?}"
    );
    assert_eq!(poison.last(), Some(&&Settled::DeadLettered(reason.clone())));
    let healthy: Vec<&Settled> = settled
        .iter()
        .filter(|(o, _)| o == "healthy")
        .map(|(_, s)| s)
        .collect();
    assert_eq!(healthy, vec![&Settled::Done(Outcome::Ignored)], "{settled:?}");
    assert_eq!(
        settled[1].0, "healthy",
        "the next message is not held up by the retries: {settled:?}"
    );
    let dead = inbox_events::Entity::find_by_id("hubspot:test:poison".to_owned())
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dead.status, InboxStatus::Dead);
    assert_eq!(dead.attempts as u32, ATTEMPTS);
    assert_eq!(dead.last_error.as_deref(), Some(reason.as_str()));
    assert_eq!(queue.depth().await.unwrap().unwrap_or(0), 0);
}

#[tokio::test]
async fn a_panicking_unit_of_work_is_retried_then_dead_lettered_on_the_embedded_queue() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(&dir).await;
    let queue = embedded(&db);
    a_panicking_unit_of_work_is_retried_then_dead_lettered_while_the_next_message_is_processed(db, queue)
        .await;
}

#[tokio::test]
async fn a_panicking_unit_of_work_is_retried_then_dead_lettered_on_rabbitmq() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(&dir).await;
    let queue = Arc::new(rabbit());
    a_panicking_unit_of_work_is_retried_then_dead_lettered_while_the_next_message_is_processed(
        db,
        queue.clone(),
    )
    .await;
    queue.delete_topology().await.unwrap();
}

fn fast_restarts() -> RestartPolicy {
    RestartPolicy {
        first_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        healthy_after: Duration::from_secs(60),
    }
}

/// Polls `health` until `done` holds, for at most five seconds.
async fn until(health: &ConsumerHealth, done: impl Fn(&ConsumerReport) -> bool) -> ConsumerReport {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let report = health.report();
        if done(&report) || std::time::Instant::now() > deadline {
            return report;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn consumers_that_panic_outside_any_message_are_restarted_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(&dir).await;
    let worker =
        Worker::new(db, Arc::new(UnrulyQueue::new(Misbehaviour::Panic, 3))).with_restart(fast_restarts());
    let health = worker.consumers();
    assert_eq!(health.report().phase, Phase::Starting);
    assert!(!health.report().is_ready());
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(worker.run(2, 4, Duration::from_millis(10), shutdown.clone()));

    let report = until(&health, |r| r.restarts == 3 && r.live == 2).await;

    assert_eq!(
        (report.restarts, report.live, report.wanted),
        (3, 2, 2),
        "{report:?}"
    );
    assert!(report.is_ready());
    assert_eq!(report.last_failure.as_deref(), Some("panicked: receive blew up"));
    shutdown.cancel();
    running.await.unwrap();
    let stopped = health.report();
    assert_eq!((stopped.phase, stopped.live), (Phase::Stopped, 0));
    assert!(
        stopped
            .problem()
            .is_some_and(|p| p.contains("not being restarted"))
    );
}

#[tokio::test]
async fn queue_errors_never_end_the_consume_loop() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(&dir).await;
    let queue = Arc::new(UnrulyQueue::new(Misbehaviour::Fail, 2));
    let worker = Worker::new(db, queue.clone()).with_restart(fast_restarts());
    let health = worker.consumers();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(worker.run(1, 4, Duration::from_millis(10), shutdown.clone()));

    // Two failed receives back off 200 ms then 400 ms; the third receive succeeds.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while queue.misbehaviours_left() > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let report = health.report();

    assert_eq!(queue.misbehaviours_left(), 0);
    assert_eq!((report.live, report.restarts), (1, 0), "{report:?}");
    shutdown.cancel();
    running.await.unwrap();
}
