//! Throughput of the event path on this machine with traffic that looks like real traffic:
//! contacts with varied Spanish names drawn at realistic frequencies (`clientsync::generate`),
//! four property events per contact (email, first name, last name, phone), 10 % of the people
//! also arriving through ClickUp as a task carrying a corrupted copy of their details, 20 % of
//! the events sent twice, and every event shuffled before it is batched (`--arrival shuffled`,
//! the default and the worst case) or each object's events sent together in shuffled order
//! (`--arrival grouped`: HubSpot sends a new contact's property changes in one request).
//!
//! (a) raw lapin publish-with-confirms of 10-message batches to a quorum queue (the ceiling),
//! (b) the same traffic posted, signed, to the receiver in front of RabbitMQ (HubSpot in batches
//!     of up to 10, ClickUp one event per request), which answers only after every confirm,
//! (c) end to end on Postgres: the service's consumers draining what (b) queued,
//! (d) the embedded default as `serve` runs it: one process, SQLite file + database queue,
//!     receiver and worker running together while the traffic is posted,
//! (e) statements per event on each path (new contact, a lone contact's next property, a
//!     duplicate, a cross-source link, a change on a shared client, fuzzy candidate search).
//!
//! For (c) and (d): events/s, commit lag p50/p99 (inbox `updated_at − received_at`, so queue
//! wait included), statements per event (every statement the service's pools ran, BEGIN and
//! COMMIT aside), transactions per event (Postgres), CPU-ms per event of this process and of all
//! `postgres` processes, and this process's peak RSS (load generator included). The load
//! average is printed next to every phase: on a shared machine compare runs side by side.
//!
//! Run: `cargo bench --bench pipeline -- --events 20000`. Options after `--`: `--events N`
//! (distinct events, 20,000), `--concurrency C` (senders, 32), `--workers W` (Postgres
//! consumers, 24), `--batch B` (most events per worker transaction, 8), `--seed S` (42),
//! `--phases abcde`, `--arrival shuffled|grouped`, `--embedded-batch B` (`worker.batch_size` in (d); `serve` raises it to
//! at least 32 on SQLite), `--processes N` (worker processes in (c), 1: with more, the bench starts
//! N − 1 worker-only copies of its own binary beside its own worker, all on the same database and
//! queue, and the figures of (c) sum every process's CPU and statements; see `processes`).
//! Needs Postgres and RabbitMQ (TEST_DATABASE_URL / TEST_AMQP_URL, defaulting to the local
//! services). Results and commands are in BENCHMARKS.md.

#[path = "pipeline/processes.rs"]
mod processes;

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use clientsync::{
    clock::Clock,
    config::Config,
    generate::{Person, Scenario, generate},
    queue::rabbitmq::{RabbitConfig, RabbitQueue},
    receiver::signature::{WebhookSecret, sign_clickup, sign_hubspot_v1, sign_hubspot_v3},
    startup::{Application, Role},
    store,
    worker::Worker,
};
use lapin::{
    BasicProperties, Confirmation, Connection, ConnectionProperties,
    options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions},
    types::{AMQPValue, FieldTable, LongString},
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait, QuerySelect};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const BATCH: usize = 10;
const SECRET: &str = "bench-hubspot-secret";
const CLICKUP_WEBHOOK: &str = "bench-webhook";
const CLICKUP_SECRET: &str = "bench-clickup-secret";
const BASE: &str = "https://hooks.example.com";

struct Options {
    events: usize,
    concurrency: usize,
    workers: usize,
    batch: usize,
    seed: u64,
    phases: String,
    /// Events per worker transaction in (d); `None` keeps the shipped `worker.batch_size`.
    embedded_batch: Option<usize>,
    /// How an object's events arrive: `shuffled` (each event anywhere) or `grouped` (an
    /// object's events sent together, as HubSpot batches a new contact's property changes).
    grouped: bool,
    /// Worker processes draining in (c): this one and `processes − 1` worker-only copies.
    processes: usize,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().collect();
    let text = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let value = |flag: &str, default: usize| text(flag).and_then(|v| v.parse().ok()).unwrap_or(default);
    Options {
        events: value("--events", 20_000),
        concurrency: value("--concurrency", 32),
        workers: value("--workers", 24),
        batch: value("--batch", 8),
        seed: value("--seed", 42) as u64,
        phases: text("--phases").unwrap_or_else(|| "abcde".into()),
        embedded_batch: text("--embedded-batch").and_then(|v| v.parse().ok()),
        grouped: text("--arrival").is_some_and(|a| a == "grouped"),
        processes: value("--processes", 1).max(1),
    }
}

fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

fn amqp_url() -> String {
    std::env::var("TEST_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// One webhook request of the traffic, unsigned (signed as it is sent).
enum Request {
    HubSpot(Vec<u8>),
    ClickUp(Vec<u8>),
}

/// The whole traffic of a run, in the order it is sent.
struct Traffic {
    requests: Vec<Request>,
    /// Distinct events: the inbox rows the worker ends with.
    distinct: usize,
    /// Events sent, duplicates included.
    sent: usize,
    contacts: usize,
    tasks: usize,
}

/// One contact-property event body, the size a real one has.
fn hubspot_event(object_id: usize, property: &str, value: &str, occurred_at: i64) -> Value {
    json!({"eventId": occurred_at, "subscriptionId": 1, "portalId": 62515, "appId": 54321,
           "occurredAt": occurred_at, "subscriptionType": "contact.propertyChange", "attemptNumber": 0,
           "objectId": object_id, "propertyName": property, "propertyValue": value,
           "changeSource": "CRM_UI", "sourceId": "userId:1"})
}

/// One ClickUp taskUpdated event carrying one custom-field history item.
fn clickup_event(task: usize, item: usize, field: &str, value: &str, date: i64) -> Value {
    let history = if field == "name" {
        json!({"id": format!("h{task}-{item}"), "type": 1, "date": date.to_string(), "field": "name",
               "user": {"id": 183, "username": "John"}, "after": value, "before": null})
    } else {
        json!({"id": format!("h{task}-{item}"), "type": 1, "date": date.to_string(), "field": "custom_field",
               "custom_field": {"id": format!("cf-{field}"), "name": field, "type": "short_text"},
               "user": {"id": 183, "username": "John"}, "after": value, "before": null})
    };
    json!({"event": "taskUpdated", "task_id": format!("t{task}"), "webhook_id": CLICKUP_WEBHOOK,
           "history_items": [history]})
}

/// The HubSpot contact properties each contact sends, one event each.
const HUBSPOT_PROPERTIES: [&str; 4] = ["email", "firstname", "lastname", "phone"];
/// The ClickUp custom fields carrying the same details on a task.
const CLICKUP_FIELDS: [&str; 4] = ["Email", "First name", "Last name", "Phone"];

/// A person's email, given name, family name and phone, in the order of the two lists above.
fn details(person: &Person) -> [&str; 4] {
    [
        &person.email,
        &person.given_name,
        &person.surname,
        &person.phone_number,
    ]
}

/// Draws the traffic for about `events` distinct events (see the module docs).
fn traffic(events: usize, seed: u64, grouped: bool) -> Traffic {
    // 4 events per contact, plus 4 for the tenth of them that ClickUp also holds.
    let contacts = (events as f64 / 4.4).round().max(1.0) as usize;
    let data = generate(&Scenario {
        people: contacts,
        overlap: 0.1,
        seed,
        ..Scenario::default()
    });
    let base = chrono::Utc::now().timestamp_millis() - 86_400_000;
    let mut rng = fastrand::Rng::with_seed(seed);
    // Each unit is sent together: an object's events when grouped, else one event.
    let mut units: Vec<Vec<(bool, Value)>> = Vec::with_capacity(events * 6 / 5);
    for (n, person) in data.left.iter().enumerate() {
        let mut unit = Vec::with_capacity(4);
        for (k, (property, value)) in HUBSPOT_PROPERTIES.into_iter().zip(details(person)).enumerate() {
            let at = base + (n * 4 + k) as i64;
            unit.push((true, hubspot_event(1_000 + n, property, value, at)));
        }
        units.push(unit);
    }
    let copies: std::collections::HashMap<&str, &Person> =
        data.right.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut tasks = 0;
    for (task, (_, right_id)) in data.truth.iter().enumerate() {
        let Some(copy) = copies.get(right_id.as_str()) else {
            continue;
        };
        tasks += 1;
        let mut unit = Vec::with_capacity(4);
        for (k, (field, value)) in CLICKUP_FIELDS.into_iter().zip(details(copy)).enumerate() {
            let at = base + 10_000_000 + (task * 4 + k) as i64;
            unit.push((false, clickup_event(task, k, field, value, at)));
        }
        units.push(unit);
    }
    if !grouped {
        units = units.into_iter().flatten().map(|event| vec![event]).collect();
    }
    let all: Vec<&(bool, Value)> = units.iter().flatten().collect();
    let distinct = all.len();
    let again: Vec<Vec<(bool, Value)>> = (0..distinct / 5)
        .map(|_| vec![all[rng.usize(..distinct)].clone()])
        .collect();
    units.extend(again);
    rng.shuffle(&mut units);
    let items: Vec<(bool, Value)> = units.into_iter().flatten().collect();
    let sent = items.len();
    let mut requests = Vec::new();
    let mut batch = Vec::with_capacity(BATCH);
    for (hubspot, event) in items {
        if hubspot {
            batch.push(event);
            if batch.len() == BATCH {
                requests.push(Request::HubSpot(serde_json::to_vec(&batch).unwrap_or_default()));
                batch.clear();
            }
        } else {
            requests.push(Request::ClickUp(serde_json::to_vec(&event).unwrap_or_default()));
        }
    }
    if !batch.is_empty() {
        requests.push(Request::HubSpot(serde_json::to_vec(&batch).unwrap_or_default()));
    }
    Traffic {
        requests,
        distinct,
        sent,
        contacts,
        tasks,
    }
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
        percentile(&mut self.latencies, p)
    }
}

fn percentile(latencies: &mut [Duration], p: f64) -> Duration {
    latencies.sort_unstable();
    let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
    latencies.get(i).copied().unwrap_or_default()
}

/// What the machine and this process were doing, read from /proc.
struct Gauges {
    at: Instant,
    statements: u64,
    own_cpu: f64,
    postgres_cpu: f64,
}

impl Gauges {
    fn now() -> Self {
        Self {
            at: Instant::now(),
            statements: store::statements_run(),
            own_cpu: cpu_seconds("/proc/self/stat"),
            postgres_cpu: postgres_cpu_seconds(),
        }
    }
}

/// utime + stime of one process, in seconds (assumes the usual 100 ticks per second).
fn cpu_seconds(stat: &str) -> f64 {
    let Ok(text) = std::fs::read_to_string(stat) else {
        return 0.0;
    };
    // The command name may hold spaces; fields after its closing parenthesis are fixed.
    let Some(rest) = text.rsplit(')').next() else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds of every `postgres` process (other sessions' included: a shared server).
fn postgres_cpu_seconds() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|e| std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "postgres"))
        .map(|e| cpu_seconds(&e.path().join("stat").to_string_lossy()))
        .sum()
}

/// The commit under test, marked `+dirty` when the tree has changes.
fn commit() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let dirty = !git(&["status", "--porcelain", "--untracked-files=no"]).is_empty();
    format!(
        "{}{}",
        git(&["rev-parse", "--short", "HEAD"]),
        if dirty { "+dirty" } else { "" }
    )
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// This process's resident memory now and its peak since the last reset, in MB.
fn rss_mb() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (kb("VmRSS:") / 1024, kb("VmHWM:") / 1024)
}

/// Starts a new peak-RSS window (Linux: writing 5 to clear_refs resets VmHWM).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

async fn raw_lapin(opts: &Options, message: &[u8]) -> anyhow::Result<Measured> {
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
    let body = Arc::new(message.to_vec());
    let batches = opts.events / BATCH;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..opts.concurrency {
        let (channel, queue, next, body) = (channel.clone(), queue.clone(), next.clone(), body.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < batches {
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
                            .basic_publish("".into(), queue.as_str().into(), options, &body, props)
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

/// Posts the whole traffic, signed, from `concurrency` senders; latencies are per request.
async fn send(traffic: &Arc<Traffic>, concurrency: usize, address: &str) -> anyhow::Result<Measured> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let hubspot = Arc::new(WebhookSecret::new(SECRET.into()));
    let clickup = Arc::new(WebhookSecret::new(CLICKUP_SECRET.into()));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, next, hubspot, clickup, traffic, address) = (
            client.clone(),
            next.clone(),
            hubspot.clone(),
            clickup.clone(),
            traffic.clone(),
            address.to_owned(),
        );
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            while let Some(request) = traffic.requests.get(next.fetch_add(1, Ordering::Relaxed)) {
                let post = match request {
                    Request::HubSpot(body) => {
                        let ts = chrono::Utc::now().timestamp_millis().to_string();
                        let v3 =
                            sign_hubspot_v3(&hubspot, "POST", &format!("{BASE}/webhooks/hubspot"), body, &ts);
                        client
                            .post(format!("{address}/webhooks/hubspot"))
                            .header("X-HubSpot-Signature-v3", v3)
                            .header("X-HubSpot-Request-Timestamp", ts)
                            .header("X-HubSpot-Signature-Version", "v1")
                            .header("X-HubSpot-Signature", sign_hubspot_v1(&hubspot, body))
                            .body(body.clone())
                    }
                    Request::ClickUp(body) => client
                        .post(format!("{address}/webhooks/clickup"))
                        .header("X-Signature", sign_clickup(&clickup, body))
                        .body(body.clone()),
                };
                let t = Instant::now();
                let response = post.header("Content-Type", "application/json").send().await?;
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
        events: traffic.sent,
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
    config.queue.prefix = format!("clientsync-bench-{}", uuid::Uuid::new_v4().simple());
    config.hubspot.client_secret = Some(SecretString::from(SECRET));
    config.clickup.webhook_secrets = Some(SecretString::from(format!("{CLICKUP_WEBHOOK}={CLICKUP_SECRET}")));
    // The bench runs the load generator in the same process: no request should wait on 503s.
    config.server.max_in_flight = 1024;
    Ok(config)
}

/// The configuration of (b) and (c) on `database`: RabbitMQ, and a pool sized for `workers`
/// consumers. The worker-only copies of (c) build theirs here too, so every process is alike.
fn postgres_config(database: String, workers: usize) -> anyhow::Result<Config> {
    let mut config = config(database, workers as u32 + 4)?;
    config.queue.amqp_url = Some(SecretString::from(amqp_url()));
    config.queue.prefetch = 256;
    Ok(config)
}

/// Waits until the inbox holds `expected` rows; returns when the last of them was claimed.
async fn settled(db: &DatabaseConnection, expected: usize, limit: Duration) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let done = entity::inbox_events::Entity::find().count(db).await? as usize;
        if done >= expected {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < limit,
            "end to end did not finish: {done}/{expected}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The inbox rows' commit lags (`updated_at − received_at`) and the last row's `updated_at`.
async fn lags(db: &DatabaseConnection) -> anyhow::Result<(Vec<Duration>, chrono::DateTime<chrono::Utc>)> {
    use entity::inbox_events::Column as C;
    let rows: Vec<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> =
        entity::inbox_events::Entity::find()
            .select_only()
            .column(C::ReceivedAt)
            .column(C::UpdatedAt)
            .into_tuple()
            .all(db)
            .await?;
    let last = rows
        .iter()
        .map(|(_, u)| *u)
        .max()
        .unwrap_or_else(chrono::Utc::now);
    let lags = rows
        .iter()
        .map(|(r, u)| (*u - *r).to_std().unwrap_or_default())
        .collect();
    Ok((lags, last))
}

/// Postgres transactions committed in the bench database so far.
async fn commits(db: &DatabaseConnection) -> u64 {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
        ))
        .await;
    row.ok()
        .flatten()
        .and_then(|r| r.try_get_by_index::<i64>(0).ok())
        .unwrap_or(0) as u64
}

/// Prints what the senders saw: events/s accepted and request latency.
fn print_requests(label: &str, sent: &mut Measured, extra: &str) {
    println!(
        "{label}: {:.0} events/s accepted, request p50 {:?}, p99 {:?}{extra}; load {}",
        sent.rate(),
        sent.percentile(0.5),
        sent.percentile(0.99),
        loadavg()
    );
}

/// What an end-to-end phase ended with.
struct Drained {
    elapsed: Duration,
    lags: Vec<Duration>,
    clients: u64,
    /// Postgres transactions committed meanwhile (Postgres only).
    transactions: Option<u64>,
    /// What the worker-only processes of (c) spent (`--processes`); empty when this one ran alone.
    copies: Vec<processes::Tally>,
}

/// Prints one end-to-end phase's figures, all per distinct event; with worker-only processes,
/// statements and CPU are summed over every process and each one's share is shown too.
fn report(label: &str, traffic: &Traffic, before: &Gauges, mut drained: Drained) {
    let after = Gauges::now();
    let n = traffic.distinct as f64;
    let (rss, peak) = rss_mb();
    let own_statements = (after.statements - before.statements) as f64 / n;
    let own_cpu = (after.own_cpu - before.own_cpu) * 1000.0 / n;
    let postgres_cpu = (after.postgres_cpu - before.postgres_cpu) * 1000.0 / n;
    let (statements, cpu, memory) = if drained.copies.is_empty() {
        (
            format!("{own_statements:.1} statements/event"),
            format!("CPU {own_cpu:.2} ms/event in this process"),
            String::new(),
        )
    } else {
        let copies = &drained.copies;
        let processes = copies.len() + 1;
        let each =
            |f: &dyn Fn(&processes::Tally) -> String| copies.iter().map(f).collect::<Vec<_>>().join(", ");
        let total_statements = own_statements + copies.iter().map(|c| c.statements as f64 / n).sum::<f64>();
        let total_cpu = own_cpu + copies.iter().map(|c| c.cpu_seconds * 1000.0 / n).sum::<f64>();
        (
            format!(
                "{total_statements:.1} statements/event over the {processes} processes (this one {own_statements:.1}; \
                 worker-only {})",
                each(&|c| format!("{:.1}", c.statements as f64 / n))
            ),
            format!(
                "CPU {total_cpu:.2} ms/event in the {processes} worker processes (this one {own_cpu:.2}; \
                 worker-only {}, each from its Worker::run to its exit, after {} CPU-ms starting)",
                each(&|c| format!("{:.2}", c.cpu_seconds * 1000.0 / n)),
                each(&|c| format!("{:.0}", c.starting_cpu_seconds * 1000.0))
            ),
            format!(
                "; worker-only peak RSS {} MB",
                each(&|c| c.peak_rss_mb.to_string())
            ),
        )
    };
    println!(
        "{label}: {} distinct events ({} sent) -> {} clients in {:.2} s = {:.0} events/s; \
         commit lag p50 {:?} p99 {:?}; {statements}{}; {cpu}, \
         {postgres_cpu:.2} ms/event in postgres; RSS {rss} MB (peak {peak} MB){memory}; load {}",
        traffic.distinct,
        traffic.sent,
        drained.clients,
        drained.elapsed.as_secs_f64(),
        n / drained.elapsed.as_secs_f64(),
        percentile(&mut drained.lags, 0.5),
        percentile(&mut drained.lags, 0.99),
        drained.transactions.map_or(String::new(), |t| format!(
            ", {:.2} transactions/event",
            t as f64 / n
        )),
        loadavg(),
    );
}

/// (b) and (c): the receiver in front of RabbitMQ, then the consumers draining into Postgres.
async fn postgres_phases(opts: &Options, traffic: &Arc<Traffic>, raw: Option<f64>) -> anyhow::Result<()> {
    let database = fresh_database().await?;
    let bench_config = postgres_config(database.clone(), opts.workers)?;
    let app = Application::build_with_clock(bench_config.clone(), Role::Receiver, Clock::system()).await?;
    let address = format!("http://127.0.0.1:{}", app.port());
    let (db, queue) = (app.db().clone(), app.queue());
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run_until(shutdown.clone()));
    let mut b = send(traffic, opts.concurrency, &address).await?;
    let ratio = raw.map_or(String::new(), |a| format!("; b/a = {:.2}", b.rate() / a));
    print_requests(
        "(b) signed webhooks through the receiver into RabbitMQ",
        &mut b,
        &ratio,
    );
    if opts.phases.contains('c') {
        reset_peak_rss();
        let worker = Worker::new(db.clone(), queue.clone());
        let stop_workers = CancellationToken::new();
        let before = Gauges::now();
        let xacts = commits(&db).await;
        let copies = processes::Copies::start(
            opts.processes - 1,
            opts.workers,
            opts.batch,
            &database,
            &bench_config.queue.prefix,
        )?;
        let workers = tokio::spawn(worker.run(
            opts.workers,
            opts.batch,
            Duration::from_millis(200),
            stop_workers.clone(),
        ));
        settled(&db, traffic.distinct, Duration::from_secs(1200)).await?;
        let elapsed = before.at.elapsed();
        stop_workers.cancel();
        let copies = copies.stop().await?;
        workers.await?;
        let transactions = commits(&db).await.saturating_sub(xacts);
        // Keyed by event id: one row per distinct event, however many processes raced for it.
        let inbox = entity::inbox_events::Entity::find().count(&db).await? as usize;
        anyhow::ensure!(
            inbox == traffic.distinct,
            "the inbox holds {inbox} rows for {} distinct events",
            traffic.distinct
        );
        let clients = entity::clients::Entity::find().count(&db).await?;
        let (lags, _) = lags(&db).await?;
        report(
            &format!(
                "(c) end to end into Postgres, {} worker process{} x {} consumers x batch {} (a drain: lag is queue wait)",
                opts.processes,
                if opts.processes == 1 { "" } else { "es" },
                opts.workers,
                opts.batch
            ),
            traffic,
            &before,
            Drained {
                elapsed,
                lags,
                clients,
                transactions: Some(transactions),
                copies,
            },
        );
    }
    shutdown.cancel();
    server.await??;
    cleanup(&bench_config, &database).await
}

/// (d) the embedded default: `serve` in one process on a SQLite file, traffic posted while its
/// worker drains.
async fn embedded_phase(opts: &Options, traffic: &Arc<Traffic>) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("clientsync.db").display());
    let defaults = Config::defaults()?;
    let mut bench_config = config(url.clone(), defaults.database.max_connections)?;
    if let Some(batch) = opts.embedded_batch {
        bench_config.worker.batch_size = batch;
    }
    // As `serve` runs it: SQLite takes at least 32 events per transaction (startup.rs).
    let batch = bench_config.worker.batch_size.max(32);
    let app = Application::build_with_clock(bench_config, Role::All, Clock::system()).await?;
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.db().clone();
    let shutdown = CancellationToken::new();
    reset_peak_rss();
    let before = Gauges::now();
    let started = chrono::Utc::now();
    let server = tokio::spawn(app.run_until(shutdown.clone()));
    let mut d = send(traffic, opts.concurrency, &address).await?;
    print_requests(
        "(d) embedded default, receiver while the worker drains",
        &mut d,
        "",
    );
    settled(&db, traffic.distinct, Duration::from_secs(1800)).await?;
    let (lags, last) = lags(&db).await?;
    let elapsed = (last - started).to_std().unwrap_or_default();
    let clients = entity::clients::Entity::find().count(&db).await?;
    report(
        &format!(
            "(d) end to end, embedded default (SQLite + database queue, serve's consumers, batch {batch})"
        ),
        traffic,
        &before,
        Drained {
            elapsed,
            lags,
            clients,
            transactions: None,
            copies: Vec::new(),
        },
    );
    // SQLite checkpoints the WAL into the file every 1,000 pages, inside whichever commit
    // crosses the mark: what one costs, from a full checkpoint of what is left at the end.
    let wal = std::fs::metadata(dir.path().join("clientsync.db-wal")).map_or(0, |m| m.len());
    let t = Instant::now();
    db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await?;
    println!(
        "(d) WAL checkpoint: {:.1} MB of WAL written into the file in {:?} (auto-checkpoints write ~4 MB each)",
        wal as f64 / 1e6,
        t.elapsed()
    );
    // The queue's own file (`queue::embedded::own_file`), checkpointed the same way.
    let queue_wal = std::fs::metadata(dir.path().join("clientsync-queue.db-wal")).map_or(0, |m| m.len());
    if let Some(queue_url) = clientsync::queue::embedded::own_file(&url) {
        let queue_db = Database::connect(queue_url).await?;
        let t = Instant::now();
        queue_db
            .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await?;
        println!(
            "(d) queue file WAL checkpoint: {:.1} MB in {:?}",
            queue_wal as f64 / 1e6,
            t.elapsed()
        );
        queue_db.close().await?;
    }
    shutdown.cancel();
    server.await??;
    Ok(())
}

/// (e) statements per event on each path, one event at a time on a fresh Postgres database:
/// what each kind of event costs in round trips, whatever the machine.
async fn per_path() -> anyhow::Result<()> {
    use clientsync::{
        queue::{
            EventQueue,
            embedded::{EmbeddedConfig, EmbeddedQueue},
        },
        receiver::{clickup, hubspot},
    };
    let database = fresh_database().await?;
    let bench_config = config(database.clone(), 4)?;
    let db = store::connect(&bench_config.database).await?;
    store::migrate(&db).await?;
    let queue = Arc::new(EmbeddedQueue::new(
        db.clone(),
        EmbeddedConfig {
            queue: "paths".into(),
            lease: Duration::from_secs(60),
            retry: bench_config.queue.retry_policy(),
            endpoint: "bench".into(),
        },
        Clock::system(),
    ));
    let worker = Worker::new(db.clone(), queue.clone());
    let at = chrono::Utc::now().timestamp_millis() - 60_000;
    let contact = |id: usize, property: &str, value: &str, n: i64| {
        let body =
            serde_json::to_vec(&json!([hubspot_event(id, property, value, at + n)])).unwrap_or_default();
        hubspot::split(&body).ok().and_then(|mut e| e.pop())
    };
    let task = |id: usize, field: &str, value: &str, n: i64| {
        let body =
            serde_json::to_vec(&clickup_event(id, n as usize, field, value, at + n)).unwrap_or_default();
        clickup::envelope(&body, CLICKUP_WEBHOOK).ok()
    };
    let steps = [
        (
            "new contact (its first property, email)",
            contact(1, "email", "ana.garcia@example.es", 1),
        ),
        (
            "lone contact gains its first name",
            contact(1, "firstname", "Ana", 2),
        ),
        (
            "lone contact gains its last name",
            contact(1, "lastname", "García López", 3),
        ),
        (
            "lone contact gains its phone",
            contact(1, "phone", "+34 612 345 678", 4),
        ),
        (
            "the same event again (duplicate)",
            contact(1, "phone", "+34 612 345 678", 4),
        ),
        (
            "ClickUp task linked across sources by email",
            task(1, "Email", "ana.garcia@example.es", 5),
        ),
        (
            "property change on a record sharing its client",
            contact(1, "phone", "+34 612 345 679", 6),
        ),
        (
            "second contact, email",
            contact(2, "email", "lucia.fdez@example.es", 7),
        ),
        ("second contact, first name", contact(2, "firstname", "Lucía", 8)),
        (
            "second contact, last name",
            contact(2, "lastname", "Fernández Ruiz", 9),
        ),
        (
            "second contact, phone",
            contact(2, "phone", "+34 622 111 333", 10),
        ),
        (
            "ClickUp task without keys: first name (fuzzy search, new client)",
            task(2, "First name", "Lucia", 11),
        ),
        (
            "same task: last name (fuzzy search, lone record)",
            task(2, "Last name", "Fernandez Ruiz", 12),
        ),
        (
            "same task: phone (fuzzy search, moves to the contact's client)",
            task(2, "Phone", "622111333", 13),
        ),
    ];
    println!("(e) statements per event by path (Postgres; the queue's own claim and ack, 2, excluded):");
    for (what, env) in steps {
        let Some(env) = env else {
            anyhow::bail!("could not build the event for {what}")
        };
        queue.publish(&[env.to_bytes()?]).await?;
        let before = store::statements_run();
        let settled = worker.process_next(Duration::from_secs(1)).await?;
        let spent = store::statements_run().saturating_sub(before).saturating_sub(2);
        println!(
            "    {spent:>3}  {what} -> {}",
            settled.as_ref().map_or("nothing", |s| s.label())
        );
    }
    drop_database(&database).await
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
    drop_database(database).await
}

/// Drops a database the bench made.
async fn drop_database(database: &str) -> anyhow::Result<()> {
    let name = database.rsplit('/').next().unwrap_or_default();
    let admin = Database::connect(format!("{}/postgres", postgres_url())).await?;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await?;
    Ok(())
}

async fn run() -> anyhow::Result<()> {
    let opts = options();
    let traffic = Arc::new(traffic(opts.events, opts.seed, opts.grouped));
    let (rss, _) = rss_mb();
    println!(
        "pipeline bench: {} contacts x 4 HubSpot property events + {} ClickUp tasks x 4 events = {} distinct \
         events, {} sent (20 % twice), {}, {} requests; seed {}; senders {}, Postgres consumers {} x batch {} \
         in each of {} worker process(es); commit {}; load {}; RSS with the traffic built {rss} MB",
        traffic.contacts,
        traffic.tasks,
        traffic.distinct,
        traffic.sent,
        if opts.grouped {
            "each object's events sent together"
        } else {
            "every event shuffled"
        },
        traffic.requests.len(),
        opts.seed,
        opts.concurrency,
        opts.workers,
        opts.batch,
        opts.processes,
        commit(),
        loadavg()
    );
    let mut raw = None;
    if opts.phases.contains('a') {
        let message = traffic
            .requests
            .iter()
            .find_map(|r| match r {
                Request::HubSpot(body) => Some(body.len() / BATCH),
                Request::ClickUp(_) => None,
            })
            .unwrap_or(300);
        let mut a = raw_lapin(&opts, &vec![b'x'; message]).await?;
        println!(
            "(a) raw lapin publish+confirm, batches of {BATCH} ({message}-byte messages): {:.0} events/s, batch p50 {:?}, p99 {:?}; load {}",
            a.rate(),
            a.percentile(0.5),
            a.percentile(0.99),
            loadavg()
        );
        raw = Some(a.rate());
    }
    if opts.phases.contains('b') || opts.phases.contains('c') {
        postgres_phases(&opts, &traffic, raw).await?;
    }
    if opts.phases.contains('d') {
        embedded_phase(&opts, &traffic).await?;
    }
    if opts.phases.contains('e') {
        per_path().await?;
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    if processes::is_worker_only() {
        let opts = options();
        return runtime.block_on(processes::serve(opts.workers, opts.batch));
    }
    runtime.block_on(run())
}
