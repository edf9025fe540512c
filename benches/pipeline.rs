//! Throughput of the event path on this machine, against the real Postgres and RabbitMQ:
//!
//! (a) raw lapin publish-with-confirms of 10-message batches to a quorum queue (the ceiling),
//! (b) signed HubSpot batches of 10 events posted to the receiver, which answers only after
//!     RabbitMQ confirmed every event (events/s, p50/p99 request latency, ratio b/a),
//! (c) end to end: workers draining what (b) queued into golden clients on Postgres.
//!
//! Run: `cargo bench --bench pipeline`. Options after `--`: `--events N` (per phase),
//! `--concurrency C` (senders, 32), `--workers W` (consumers, 24), `--batch B` (most events per
//! worker transaction, 8), `--per-contact K` (properties per contact in each batch of 10, 2). Needs Postgres and RabbitMQ (TEST_DATABASE_URL /
//! TEST_AMQP_URL, defaulting to the local services). Results and commands are in BENCHMARKS.md.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use clientsync::{
    clock::Clock,
    config::Config,
    queue::rabbitmq::{RabbitConfig, RabbitQueue},
    receiver::signature::{WebhookSecret, sign_hubspot_v1, sign_hubspot_v3},
    startup::{Application, Role},
    worker::Worker,
};
use lapin::{
    BasicProperties, Confirmation, Connection, ConnectionProperties,
    options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions},
    types::{AMQPValue, FieldTable, LongString},
};
use sea_orm::{ConnectionTrait, Database, EntityTrait, PaginatorTrait};
use secrecy::SecretString;
use serde_json::json;
use tokio_util::sync::CancellationToken;

const BATCH: usize = 10;
const SECRET: &str = "bench-hubspot-secret";
const BASE: &str = "https://hooks.example.com";

struct Options {
    events: usize,
    concurrency: usize,
    workers: usize,
    per_contact: usize,
    batch: usize,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str, default: usize| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    Options {
        events: value("--events", 50_000),
        concurrency: value("--concurrency", 32),
        workers: value("--workers", 24),
        per_contact: value("--per-contact", 2),
        batch: value("--batch", 8),
    }
}

fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

fn amqp_url() -> String {
    std::env::var("TEST_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

struct Measured {
    events: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Measured {
    fn rate(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&mut self, p: f64) -> Duration {
        self.latencies.sort_unstable();
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies.get(i).copied().unwrap_or_default()
    }
}

/// One contact-property event body, the size a real one has.
fn event(object_id: usize, property: &str, value: &str, occurred_at: i64) -> serde_json::Value {
    json!({"eventId": occurred_at, "subscriptionId": 1, "portalId": 62515, "appId": 54321,
           "occurredAt": occurred_at, "subscriptionType": "contact.propertyChange", "attemptNumber": 0,
           "objectId": object_id, "propertyName": property, "propertyValue": value,
           "changeSource": "CRM_UI", "sourceId": "userId:1"})
}

/// Batch `n`: `BATCH / per_contact` contacts with `per_contact` properties each (email first).
fn batch(n: usize, per_contact: usize) -> Vec<u8> {
    const PROPERTIES: [&str; 5] = ["email", "firstname", "lastname", "phone", "company"];
    let per_contact = per_contact.clamp(1, PROPERTIES.len());
    let now = chrono::Utc::now().timestamp_millis();
    let events: Vec<_> = (0..BATCH)
        .map(|i| {
            let id = n * BATCH + i / per_contact;
            let property = PROPERTIES[i % per_contact];
            let value = match property {
                "email" => format!("c{id}@bench.example.com"),
                "phone" => format!("+34 600 {id:06}"),
                _ => format!("Client {id}"),
            };
            event(id, property, &value, now + (i % per_contact) as i64)
        })
        .collect();
    serde_json::to_vec(&events).unwrap_or_default()
}

async fn raw_lapin(opts: &Options) -> anyhow::Result<Measured> {
    let connection = Connection::connect(&amqp_url(), ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    channel.confirm_select(ConfirmSelectOptions::default()).await?;
    let queue = format!("bench-raw-{}", uuid::Uuid::new_v4().simple());
    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString(LongString::from(b"quorum".to_vec())),
    );
    channel
        .queue_declare(queue.as_str().into(), QueueDeclareOptions::durable(), args)
        .await?;
    let body = Arc::new(batch(0, opts.per_contact));
    let per_message = body.len() / BATCH;
    let batches = opts.events / BATCH;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..opts.concurrency {
        let (channel, queue, next, body) = (channel.clone(), queue.clone(), next.clone(), body.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < batches {
                let t = Instant::now();
                let mut confirms = Vec::with_capacity(BATCH);
                for _ in 0..BATCH {
                    let props = BasicProperties::default().with_delivery_mode(2);
                    let options = BasicPublishOptions {
                        mandatory: true,
                        ..Default::default()
                    };
                    confirms.push(
                        channel
                            .basic_publish(
                                "".into(),
                                queue.as_str().into(),
                                options,
                                &body[..per_message],
                                props,
                            )
                            .await?,
                    );
                }
                for c in confirms {
                    anyhow::ensure!(matches!(c.await?, Confirmation::Ack(None)), "not confirmed");
                }
                latencies.push(t.elapsed());
            }
            anyhow::Ok(latencies)
        });
    }
    let mut latencies = Vec::new();
    while let Some(result) = tasks.join_next().await {
        latencies.extend(result??);
    }
    let elapsed = started.elapsed();
    channel
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await?;
    Ok(Measured {
        events: batches * BATCH,
        elapsed,
        latencies,
    })
}

async fn receiver(opts: &Options, address: &str) -> anyhow::Result<Measured> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(opts.concurrency)
        .build()?;
    let batches = opts.events / BATCH;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let secret = Arc::new(WebhookSecret::new(SECRET.into()));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let per_contact = opts.per_contact;
    for _ in 0..opts.concurrency {
        let (client, next, secret, url) = (
            client.clone(),
            next.clone(),
            secret.clone(),
            format!("{address}/webhooks/hubspot"),
        );
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= batches {
                    break;
                }
                let body = batch(n, per_contact);
                let ts = chrono::Utc::now().timestamp_millis().to_string();
                let v3 = sign_hubspot_v3(&secret, "POST", &format!("{BASE}/webhooks/hubspot"), &body, &ts);
                let v1 = sign_hubspot_v1(&secret, &body);
                let t = Instant::now();
                let response = client
                    .post(&url)
                    .header("Content-Type", "application/json")
                    .header("X-HubSpot-Signature-v3", v3)
                    .header("X-HubSpot-Request-Timestamp", ts)
                    .header("X-HubSpot-Signature-Version", "v1")
                    .header("X-HubSpot-Signature", v1)
                    .body(body)
                    .send()
                    .await?;
                anyhow::ensure!(
                    response.status().is_success(),
                    "receiver answered {}",
                    response.status()
                );
                latencies.push(t.elapsed());
            }
            anyhow::Ok(latencies)
        });
    }
    let mut latencies = Vec::new();
    while let Some(result) = tasks.join_next().await {
        latencies.extend(result??);
    }
    Ok(Measured {
        events: batches * BATCH,
        elapsed: started.elapsed(),
        latencies,
    })
}

async fn fresh_database() -> anyhow::Result<String> {
    let name = format!("clientsync_bench_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(format!("{}/postgres", postgres_url())).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    admin.close().await?;
    Ok(format!("{}/{name}", postgres_url()))
}

fn config(database: String, connections: u32) -> anyhow::Result<Config> {
    let mut config = Config::defaults()?;
    config.server.port = 0;
    config.server.public_base_url = BASE.into();
    config.database.url = SecretString::from(database);
    config.database.max_connections = connections;
    config.queue.amqp_url = Some(SecretString::from(amqp_url()));
    config.queue.prefix = format!("clientsync-bench-{}", uuid::Uuid::new_v4().simple());
    config.queue.prefetch = 256;
    config.hubspot.client_secret = Some(SecretString::from(SECRET));
    Ok(config)
}

async fn run() -> anyhow::Result<()> {
    let opts = options();
    println!(
        "events per phase: {}, senders: {}, workers: {}, batch: {}, properties per contact: {}",
        opts.events, opts.concurrency, opts.workers, opts.batch, opts.per_contact
    );

    let mut a = raw_lapin(&opts).await?;
    println!(
        "(a) raw lapin publish+confirm, batches of {BATCH}: {:.0} events/s, batch p50 {:?}, p99 {:?}",
        a.rate(),
        a.percentile(0.5),
        a.percentile(0.99)
    );

    let database = fresh_database().await?;
    let bench_config = config(database.clone(), opts.workers as u32 + 4)?;
    let app = Application::build_with_clock(bench_config.clone(), Role::Receiver, Clock::system()).await?;
    let address = format!("http://127.0.0.1:{}", app.port());
    let (db, queue) = (app.db().clone(), app.queue());
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run_until(shutdown.clone()));
    let mut b = receiver(&opts, &address).await?;
    println!(
        "(b) signed HubSpot batches of {BATCH} through the receiver: {:.0} events/s, request p50 {:?}, p99 {:?}; b/a = {:.2}",
        b.rate(),
        b.percentile(0.5),
        b.percentile(0.99),
        b.rate() / a.rate()
    );

    let worker = Worker::new(db.clone(), queue.clone());
    let stop_workers = CancellationToken::new();
    let started = Instant::now();
    let workers = tokio::spawn(worker.run(
        opts.workers,
        opts.batch,
        Duration::from_millis(200),
        stop_workers.clone(),
    ));
    let expected = b.events as u64;
    loop {
        let done = entity::inbox_events::Entity::find().count(&db).await?;
        if done >= expected {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "end to end did not finish: {done}/{expected}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let elapsed = started.elapsed();
    stop_workers.cancel();
    workers.await?;
    let clients = entity::clients::Entity::find().count(&db).await?;
    println!(
        "(c) end to end into Postgres with {} workers: {expected} events -> {clients} clients in {:.2} s = {:.0} events/s",
        opts.workers,
        elapsed.as_secs_f64(),
        expected as f64 / elapsed.as_secs_f64()
    );
    shutdown.cancel();
    server.await??;
    cleanup(&bench_config, &database).await
}

/// Deletes the benchmark's queues and database.
async fn cleanup(config: &Config, database: &str) -> anyhow::Result<()> {
    let rabbit = RabbitQueue::new(RabbitConfig {
        url: SecretString::from(amqp_url()),
        queue_prefix: config.queue.prefix.clone(),
        prefetch: config.queue.prefetch,
        confirm_timeout: Duration::from_secs(5),
        retry: config.queue.retry_policy(),
    });
    rabbit.delete_topology().await?;
    let name = database.rsplit('/').next().unwrap_or_default();
    let admin = Database::connect(format!("{}/postgres", postgres_url())).await?;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run())
}
