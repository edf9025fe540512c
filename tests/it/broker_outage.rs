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

/// A TCP proxy in front of RabbitMQ that the test can cut and restore.
struct Proxy {
    port: u16,
    open: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (accept_open, accept_links) = (open.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !accept_open.load(Ordering::SeqCst) {
                    continue; // dropped: the broker is "down"
                }
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                accept_links.lock().unwrap().push(task.abort_handle());
            }
        });
        Self { port, open, links }
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
