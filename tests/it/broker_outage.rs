//! A broker that goes away and comes back: the receiver answers 503 meanwhile and recovers by
//! itself; the worker resumes consuming without a restart; nothing accepted is lost.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use secrecy::SecretString;
use serde_json::json;
use tokio::{
    net::{TcpListener, TcpStream},
    task::AbortHandle,
};

use crate::helpers::{Backend, TestApp, hubspot_property, now_ms, spawn_app_with};

/// A TCP proxy in front of RabbitMQ that the test can cut and restore, or freeze (sockets stay
/// open, nothing is forwarded: a hung broker).
struct Proxy {
    port: u16,
    open: Arc<AtomicBool>,
    frozen: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(AtomicBool::new(true));
        let frozen = Arc::new(AtomicBool::new(false));
        let links: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (accept_open, accept_links, accept_frozen) = (open.clone(), links.clone(), frozen.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !accept_open.load(Ordering::SeqCst) {
                    continue; // dropped: the broker is "down"
                }
                let upstream = upstream.clone();
                let frozen = accept_frozen.clone();
                let task = tokio::spawn(async move {
                    if let Ok(outbound) = TcpStream::connect(upstream).await {
                        let (from_client, to_client) = inbound.split();
                        let (from_broker, to_broker) = outbound.into_split();
                        let _ = tokio::join!(
                            pump(from_client, to_broker, frozen.clone()),
                            pump(from_broker, to_client, frozen),
                        );
                    }
                });
                accept_links.lock().unwrap().push(task.abort_handle());
            }
        });
        Self {
            port,
            open,
            frozen,
            links,
        }
    }

    fn freeze(&self) {
        self.frozen.store(true, Ordering::SeqCst);
    }

    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

/// Forwards bytes until either side closes; while frozen, holds what it read.
async fn pump(
    mut from: impl tokio::io::AsyncRead + Unpin,
    mut to: impl tokio::io::AsyncWrite + Unpin,
    frozen: Arc<AtomicBool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if frozen.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
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
    let authority = crate::helpers::amqp_url();
    let upstream = authority
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("127.0.0.1:5672")
        .to_owned();
    let proxy = Proxy::start(upstream).await;
    let url = format!("amqp://guest:guest@127.0.0.1:{}/%2f", proxy.port);
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
    let authority = crate::helpers::amqp_url();
    let upstream = authority
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("127.0.0.1:5672")
        .to_owned();
    let proxy = Proxy::start(upstream).await;
    let url = format!("amqp://guest:guest@127.0.0.1:{}/%2f", proxy.port);
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
    assert!(matches!(err, QueueError::LoginRefused), "{err}");
    let text = err.to_string();
    assert!(text.contains("CLIENTSYNC_QUEUE__AMQP_URL"), "{text}");
    assert!(!text.contains("not-the-password"), "{text}");
}
