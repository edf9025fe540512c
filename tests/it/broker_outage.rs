//! A broker that goes away and comes back: the receiver answers 503 meanwhile and recovers by
//! itself; the worker resumes consuming without a restart; nothing accepted is lost.

use std::time::{Duration, Instant};

use clientsync::{config::secrets, startup::Role};
use secrecy::SecretString;
use serde_json::json;

use crate::{
    helpers::{Backend, TestApp, amqp_url, hubspot_property, now_ms, spawn_app_in_role, spawn_app_with},
    proxy::Proxy,
};

/// A proxy in front of the test broker, and the AMQP URL through it.
async fn broker_behind_proxy() -> (Proxy, String) {
    let proxy = Proxy::start(secrets::endpoint(&amqp_url())).await;
    let url = proxy.url_for(&amqp_url());
    (proxy, url)
}

async fn post_one(app: &TestApp, id: i64) -> u16 {
    let batch = json!([hubspot_property(
        id,
        "email",
        &format!("c{id}@example.com"),
        now_ms()
    )]);
    app.post_hubspot(&batch).await.status().as_u16()
}

/// Runs the worker, tolerating queue errors while it reconnects, until `expected` events are in the inbox.
async fn process_until(app: &TestApp, expected: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.inbox_count().await < expected {
        assert!(
            Instant::now() < deadline,
            "worker did not resume: {} of {expected}",
            app.inbox_count().await
        );
        let _ = app.worker.process_next(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receiver_answers_503_while_the_broker_is_away_and_both_sides_recover_by_themselves() {
    let (proxy, url) = broker_behind_proxy().await;
    let app = spawn_app_with(Backend::Production, |c| {
        c.queue.amqp_url = Some(SecretString::from(url))
    })
    .await;

    assert_eq!(post_one(&app, 1).await, 200);
    process_until(&app, 1).await;

    proxy.cut();
    assert_eq!(
        post_one(&app, 2).await,
        503,
        "a cut broker is a 503, so the sender retries"
    );

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut accepted = 1;
    loop {
        if post_one(&app, 3).await == 200 {
            accepted += 1;
            break;
        }
        assert!(Instant::now() < deadline, "the receiver did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    process_until(&app, accepted).await;
    assert_eq!(app.clients().await.len() as u64, accepted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_broker_gets_senders_a_503_within_the_confirm_timeout_and_readiness_still_answers() {
    let (proxy, url) = broker_behind_proxy().await;
    let app = spawn_app_with(Backend::Production, |c| {
        c.queue.amqp_url = Some(SecretString::from(url));
        c.queue.confirm_timeout_ms = 1_000;
    })
    .await;
    assert_eq!(post_one(&app, 1).await, 200);

    proxy.freeze();
    let bound = Duration::from_millis(1_000 + 1_500);
    for id in 2..4 {
        // The second request finds the publisher reset and must reconnect: bounded too.
        let started = Instant::now();
        let status = tokio::time::timeout(bound * 4, post_one(&app, id))
            .await
            .expect("the sender is answered, not held");
        assert_eq!(status, 503, "a hung broker is a 503");
        assert!(
            started.elapsed() < bound,
            "answered after {:?}",
            started.elapsed()
        );
    }
    let started = Instant::now();
    let ready = tokio::time::timeout(
        bound * 4,
        app.client.get(format!("{}/readyz", app.address)).send(),
    )
    .await
    .expect("readiness answers, not held")
    .expect("readiness request");
    assert!(ready.status().as_u16() == 200 || ready.status().as_u16() == 503);
    assert!(
        started.elapsed() < bound,
        "readiness answered after {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_stuck_on_a_frozen_broker_notices_by_heartbeat_and_resumes_on_a_new_connection() {
    let (proxy, url) = broker_behind_proxy().await;
    let app = spawn_app_in_role(Backend::Production, Role::All, |c| {
        c.queue.amqp_url = Some(SecretString::from(url));
        c.queue.confirm_timeout_ms = 1_000;
        c.queue.heartbeat_secs = 1;
        c.worker.concurrency = 2;
        c.worker.poll_ms = 100;
    })
    .await;
    assert_eq!(post_one(&app, 1).await, 200);
    wait_for_inbox(&app, 1).await;

    // The consumer's connection goes silent for good (a failover leaves it blackholed): only the
    // heartbeat gets the worker off it. New connections work.
    proxy.freeze();
    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    while post_one(&app, 2).await != 200 {
        assert!(Instant::now() < deadline, "the receiver did not reconnect");
    }

    wait_for_inbox(&app, 2).await;
    assert_eq!(app.clients().await.len(), 2);
    let ready: serde_json::Value = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .expect("readiness")
        .json()
        .await
        .expect("readiness body");
    assert_eq!(
        ready["worker"]["restarts"], 0,
        "recovered without a restart: {ready}"
    );
}

/// Waits (with a deadline) until the service's own consumers have applied `expected` events.
async fn wait_for_inbox(app: &TestApp, expected: u64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while app.inbox_count().await < expected {
        assert!(
            Instant::now() < deadline,
            "the worker did not resume: {} of {expected}",
            app.inbox_count().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_amqp_credentials_name_the_setting_to_fix() {
    use clientsync::queue::{
        EventQueue, QueueError, RetryPolicy,
        rabbitmq::{RabbitConfig, RabbitQueue},
    };
    let url = crate::helpers::amqp_url().replacen("guest:guest", "guest:not-the-password", 1);
    let queue = RabbitQueue::new(RabbitConfig {
        url: SecretString::from(url),
        queue_prefix: format!("clientsync-test-{}", uuid::Uuid::new_v4().simple()),
        prefetch: 1,
        confirm_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
        },
    });
    let err = queue.ping().await.expect_err("the broker refuses the login");
    assert!(matches!(err, QueueError::LoginRefused { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("CLIENTSYNC_QUEUE__AMQP_URL"), "{text}");
    assert!(!text.contains("not-the-password"), "{text}");
}
