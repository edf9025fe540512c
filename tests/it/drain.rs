//! SIGTERM on the real binary under load: the receiver stops taking requests and finishes the
//! in-flight ones, workers finish theirs; after a restart every accepted event is reconciled
//! exactly once.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicI64, Ordering},
    },
    time::{Duration, Instant},
};

use sea_orm::{Database, EntityTrait, IsolationLevel, PaginatorTrait, TransactionTrait};
use serde_json::json;

use crate::helpers::{
    HUBSPOT_SECRET, PUBLIC_BASE_URL, amqp_url, fresh_postgres_database, hubspot_headers, hubspot_property,
    now_ms,
};

/// The service binary, killed if the test ends early.
struct Service {
    child: Child,
    port: u16,
}

impl Service {
    fn start(database: &str, prefix: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_clientsync"))
            .args(["serve", "--role", "all"])
            .env("CLIENTSYNC_DATABASE__URL", database)
            .env("CLIENTSYNC_QUEUE__AMQP_URL", amqp_url())
            .env("CLIENTSYNC_QUEUE__PREFIX", prefix)
            .env("CLIENTSYNC_SERVER__PORT", "0")
            .env("CLIENTSYNC_SERVER__PUBLIC_BASE_URL", PUBLIC_BASE_URL)
            .env("CLIENTSYNC_SERVER__SHUTDOWN_GRACE_SECS", "15")
            .env("CLIENTSYNC_HUBSPOT__CLIENT_SECRET", HUBSPOT_SECRET)
            .env("CLIENTSYNC_TELEMETRY__FORMAT", "json")
            .env("CLIENTSYNC_WORKER__CONCURRENCY", "4")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("binary starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(event) = serde_json::from_str::<serde_json::Value>(&line)
                    && event["message"] == "clientsync listening"
                    && let Some(port) = event["port"].as_u64()
                {
                    let _ = tx.send(port as u16);
                }
            }
        });
        let port = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the service says where it listens");
        Self { child, port }
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the service did not stop within its grace period"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_loses_nothing_and_reconciles_every_accepted_event_exactly_once() {
    let database = fresh_postgres_database().await;
    let prefix = format!("clientsync-test-{}", uuid::Uuid::new_v4().simple());
    let service = Service::start(&database, &prefix);
    let address = format!("http://127.0.0.1:{}", service.port);

    // Senders post one new contact per request until told to stop; 200s are what was accepted.
    let stop = Arc::new(AtomicBool::new(false));
    let next_id = Arc::new(AtomicI64::new(1));
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (stop, next_id, address) = (stop.clone(), next_id.clone(), address.clone());
        senders.spawn(async move {
            let client = reqwest::Client::new();
            let mut accepted = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let id = next_id.fetch_add(1, Ordering::SeqCst);
                let body = serde_json::to_vec(&json!([hubspot_property(
                    id,
                    "email",
                    &format!("d{id}@example.com"),
                    now_ms()
                )]))
                .unwrap();
                let mut request = client
                    .post(format!("{address}/webhooks/hubspot"))
                    .body(body.clone());
                for (name, value) in hubspot_headers(&body, "/webhooks/hubspot", now_ms()) {
                    request = request.header(name, value);
                }
                match request.send().await {
                    Ok(response) if response.status() == 200 => accepted.push(id),
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
            accepted
        });
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let status = tokio::task::spawn_blocking(move || service.terminate())
        .await
        .unwrap();
    assert!(status.success(), "a graceful stop exits 0: {status:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    let mut accepted = Vec::new();
    while let Some(ids) = senders.join_next().await {
        accepted.extend(ids.unwrap());
    }
    assert!(
        accepted.len() > 10,
        "the load was real: {} accepted",
        accepted.len()
    );

    let _restarted = Service::start(&database, &prefix);
    let db = Database::connect(&database).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let reconciled = entity::inbox_events::Entity::find().count(&db).await.unwrap();
        if reconciled >= accepted.len() as u64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{reconciled} of {} accepted events reconciled",
            accepted.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A request cut mid-response may have been queued without its 200: the inbox can hold more
    // than was acknowledged, never less, and every event in it made exactly one client.
    // One snapshot for both counts, so an event committing in between cannot skew them.
    let snapshot = db
        .begin_with_config(Some(IsolationLevel::RepeatableRead), None)
        .await
        .unwrap();
    let inbox = entity::inbox_events::Entity::find()
        .count(&snapshot)
        .await
        .unwrap();
    let clients = entity::clients::Entity::find().all(&snapshot).await.unwrap();
    snapshot.commit().await.unwrap();
    assert!(inbox >= accepted.len() as u64);
    assert_eq!(
        clients.len() as u64,
        inbox,
        "one client per event: none twice, none lost"
    );
    let emails: std::collections::HashSet<_> = clients.iter().filter_map(|c| c.email.clone()).collect();
    for id in &accepted {
        assert!(
            emails.contains(&format!("d{id}@example.com")),
            "accepted contact {id} is missing"
        );
    }
}
