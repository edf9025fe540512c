//! Postgres goes away under load, cut (connections dropped) or frozen (connections open, no
//! answers), and comes back; nothing is restarted. On RabbitMQ the receiver keeps accepting and
//! stays ready, the worker holds its messages until the database answers and dead-letters none
//! of them, and every event is applied exactly once. On the embedded default (the queue is the
//! database) webhooks get 503 with Retry-After meanwhile, so senders retry and nothing is lost.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use clientsync::{config::Config, config::secrets, startup::Role};
use entity::{clients, inbox_events, source_records};
use sea_orm::{ColumnTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::{
    helpers::{
        Backend, TestApp, hubspot_headers, hubspot_property, now_ms, postgres_url, spawn_app_in_role,
        spawn_beside,
    },
    proxy::Proxy,
};

/// Short bounds, so an outage is noticed in about a second.
fn tune(c: &mut Config) {
    c.database.connect_timeout_secs = 1;
    c.database.transaction_timeout_ms = 1_500;
    c.queue.confirm_timeout_ms = 1_000;
    c.worker.concurrency = 4;
    c.worker.poll_ms = 100;
}

/// A receiver and a worker process on RabbitMQ, both reaching Postgres through `proxy`; and a
/// direct connection to the same database for the test's own reads.
struct Deployment {
    receiver: TestApp,
    worker: TestApp,
    direct: DatabaseConnection,
}

async fn deploy_on_rabbitmq(proxy: &Proxy) -> Deployment {
    let prefix = format!("clientsync-test-{}", uuid::Uuid::new_v4().simple());
    let mut direct_url = String::new();
    let receiver = spawn_app_in_role(Backend::Production, Role::Receiver, |c| {
        direct_url = c.database.url.expose_secret().to_owned();
        c.database.url = SecretString::from(proxy.url_for(&direct_url));
        c.queue.prefix = prefix.clone();
        tune(c);
    })
    .await;
    let worker = spawn_beside(&receiver.database_url, Role::Worker, |c| {
        c.queue.prefix = prefix.clone();
        tune(c);
    })
    .await;
    let direct = Database::connect(direct_url).await.expect("direct connection");
    Deployment {
        receiver,
        worker,
        direct,
    }
}

async fn postgres_proxy() -> Proxy {
    Proxy::start(secrets::endpoint(&postgres_url())).await
}

/// One HubSpot contact per event, each with its own event id.
fn event(id: u64) -> Value {
    let mut event = hubspot_property(id as i64, "email", &format!("c{id}@example.com"), now_ms());
    event["eventId"] = json!(id);
    json!([event])
}

async fn post(client: &reqwest::Client, address: &str, id: u64) -> reqwest::Response {
    let body = serde_json::to_vec(&event(id)).expect("json");
    let mut request = client
        .post(format!("{address}/webhooks/hubspot"))
        .header("Content-Type", "application/json")
        .timeout(Duration::from_secs(10))
        .body(body.clone());
    for (name, value) in hubspot_headers(&body, "/webhooks/hubspot", now_ms()) {
        request = request.header(name, value);
    }
    request.send().await.expect("the receiver answers")
}

/// A sender posting one new contact every 15 ms until stopped; returns each post's status.
struct Load {
    posted: Arc<AtomicU64>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Vec<(u64, u16)>>,
}

impl Load {
    fn start(app: &TestApp) -> Self {
        let (client, address) = (app.client.clone(), app.address.clone());
        let posted = Arc::new(AtomicU64::new(0));
        let stop = CancellationToken::new();
        let (count, halt) = (posted.clone(), stop.clone());
        let task = tokio::spawn(async move {
            let mut statuses = Vec::new();
            let mut tick = tokio::time::interval(Duration::from_millis(15));
            for id in 1.. {
                tick.tick().await;
                if halt.is_cancelled() {
                    break;
                }
                statuses.push((id, post(&client, &address, id).await.status().as_u16()));
                count.store(id, Ordering::SeqCst);
            }
            statuses
        });
        Self { posted, stop, task }
    }

    fn posted(&self) -> u64 {
        self.posted.load(Ordering::SeqCst)
    }

    /// Waits until `more` events beyond those posted so far have been posted.
    async fn post_more(&self, more: u64) {
        let target = self.posted() + more;
        until(
            "the sender to post more",
            || async move { self.posted() >= target },
        )
        .await;
    }

    async fn finish(self) -> Vec<(u64, u16)> {
        self.stop.cancel();
        self.task.await.expect("the sender ran")
    }
}

/// Polls `done` every 50 ms until it holds; fails after 20 s naming `what`.
async fn until<F: std::future::Future<Output = bool>>(what: &str, mut done: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn inbox_count(db: &DatabaseConnection) -> u64 {
    inbox_events::Entity::find().count(db).await.expect("inbox count")
}

/// `/readyz` of `app`: status, body, and how long it took to answer.
async fn readiness(app: &TestApp) -> (u16, Value, Duration) {
    let started = Instant::now();
    let response = app
        .client
        .get(format!("{}/readyz", app.address))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("readiness answers");
    let status = response.status().as_u16();
    let body = response.json().await.expect("readiness body");
    (status, body, started.elapsed())
}

/// Waits until `app`'s readiness says `status` with the database unavailable, checking every
/// answer comes within the check timeout (plus scheduling slack); returns the body.
async fn until_readiness(app: &TestApp, status: u16) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (answered, body, took) = readiness(app).await;
        assert!(
            took < Duration::from_millis(2_500),
            "readiness took {took:?}: {body}"
        );
        if answered == status && body["database"] == "unavailable" {
            return body;
        }
        assert!(Instant::now() < deadline, "readiness never said {status}: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Takes Postgres away under load with `take_away`, then brings it back with `restore`.
async fn outage_under_load_on_rabbitmq(take_away: fn(&Proxy)) {
    let proxy = postgres_proxy().await;
    let deployment = deploy_on_rabbitmq(&proxy).await;
    let (receiver, worker, direct) = (&deployment.receiver, &deployment.worker, &deployment.direct);
    let load = Load::start(receiver);
    until("the worker to apply the first events", || async move {
        inbox_count(direct).await >= 20
    })
    .await;

    take_away(&proxy);
    let at = format!("127.0.0.1:{}", proxy.port());
    let worker_ready = until_readiness(worker, 503).await;
    let reason = worker_ready["reasons"]["database"].as_str().unwrap_or_default();
    assert!(
        reason.contains(&at),
        "the reason names the database: {worker_ready}"
    );
    until("a consumer to wait for the database", || async move {
        readiness(worker).await.1["worker"]["waiting_for_database"].as_u64() > Some(0)
    })
    .await;
    let receiver_ready = until_readiness(receiver, 200).await;
    assert!(
        receiver_ready["reasons"]["database"]
            .as_str()
            .unwrap_or_default()
            .contains(&at),
        "the receiver stays ready (it needs only the broker) and says why the database is not: {receiver_ready}"
    );
    let applied_during = inbox_count(direct).await;
    load.post_more(60).await;

    proxy.restore();
    load.post_more(30).await;
    let statuses = load.finish().await;
    let refused: Vec<_> = statuses.iter().filter(|(_, status)| *status != 200).collect();
    assert!(refused.is_empty(), "the receiver refused {refused:?}");
    let accepted = statuses.len() as u64;
    until("the worker to apply every accepted event", || async move {
        inbox_count(direct).await >= accepted
    })
    .await;

    assert!(applied_during < accepted, "the outage held events back");
    assert_eq!(
        inbox_count(direct).await,
        accepted,
        "each event once in the inbox"
    );
    let dead = inbox_events::Entity::find()
        .filter(inbox_events::Column::Status.eq(inbox_events::InboxStatus::Dead))
        .count(direct)
        .await
        .expect("dead count");
    assert_eq!(dead, 0, "an outage dead-letters nothing");
    assert_eq!(
        receiver
            .queue
            .replay_dead(1_000)
            .await
            .expect("dead-letter queue"),
        0,
        "the dead-letter queue is empty"
    );
    assert_eq!(
        clients::Entity::find().count(direct).await.expect("clients"),
        accepted
    );
    assert_eq!(
        source_records::Entity::find()
            .count(direct)
            .await
            .expect("records"),
        accepted
    );
    let (status, body, _) = readiness(worker).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["worker"]["restarts"], 0, "nothing restarted: {body}");
    assert_eq!(body["worker"]["waiting_for_database"], 0, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_postgres_pauses_the_worker_while_the_receiver_on_rabbitmq_keeps_accepting_and_nothing_is_lost()
{
    outage_under_load_on_rabbitmq(Proxy::cut).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_postgres_is_noticed_within_the_timeouts_and_the_worker_resumes_on_fresh_connections() {
    outage_under_load_on_rabbitmq(Proxy::freeze).await;
}

/// The embedded default's queue is the database: one process, both roles, on Postgres through
/// `proxy`, and a direct connection for the test's reads.
async fn embedded_on_postgres(proxy: &Proxy) -> (TestApp, DatabaseConnection) {
    let mut direct_url = String::new();
    let app = spawn_app_in_role(Backend::Production, Role::All, |c| {
        direct_url = c.database.url.expose_secret().to_owned();
        c.database.url = SecretString::from(proxy.url_for(&direct_url));
        c.queue.amqp_url = None;
        tune(c);
    })
    .await;
    let direct = Database::connect(direct_url).await.expect("direct connection");
    (app, direct)
}

async fn refused_with_retry_after(app: &TestApp, id: u64) {
    let started = Instant::now();
    let response = post(&app.client, &app.address, id).await;
    let took = started.elapsed();
    assert_eq!(response.status(), 503, "the sender is told to retry");
    assert!(response.headers().contains_key("Retry-After"));
    assert!(took < Duration::from_millis(2_500), "answered after {took:?}");
}

/// Takes Postgres away with `take_away` and brings it back with `bring_back`.
async fn embedded_outage(take_away: fn(&Proxy), bring_back: fn(&Proxy)) {
    let proxy = postgres_proxy().await;
    let (app, direct) = embedded_on_postgres(&proxy).await;
    let (app, direct) = (&app, &direct);
    for id in 1..=3 {
        assert_eq!(post(&app.client, &app.address, id).await.status(), 200);
    }
    until("the first events applied", || async move {
        inbox_count(direct).await == 3
    })
    .await;

    take_away(&proxy);
    refused_with_retry_after(app, 4).await;
    refused_with_retry_after(app, 5).await;
    let body = until_readiness(app, 503).await;
    let at = format!("127.0.0.1:{}", proxy.port());
    assert!(
        body["reasons"]["database"]
            .as_str()
            .unwrap_or_default()
            .contains(&at),
        "{body}"
    );
    let health = app
        .client
        .get(format!("{}/healthz", app.address))
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .expect("liveness answers");
    assert_eq!(health.status(), 200, "the process lives on: no restart wanted");

    bring_back(&proxy);
    // The senders retry what was refused, as HubSpot and ClickUp do after a 503.
    for id in 4..=5 {
        until("the receiver to accept again", || async move {
            post(&app.client, &app.address, id).await.status() == 200
        })
        .await;
    }
    until("every accepted event applied", || async move {
        inbox_count(direct).await == 5
    })
    .await;
    assert_eq!(clients::Entity::find().count(direct).await.expect("clients"), 5);
    let dead = inbox_events::Entity::find()
        .filter(inbox_events::Column::Status.eq(inbox_events::InboxStatus::Dead))
        .count(direct)
        .await
        .expect("dead count");
    assert_eq!(dead, 0);
    let (status, body, _) = readiness(app).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_embedded_default_a_cut_postgres_gets_webhooks_a_503_with_retry_after_and_nothing_is_lost() {
    embedded_outage(Proxy::cut, Proxy::restore).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_embedded_default_a_frozen_postgres_gets_webhooks_a_503_within_the_publish_timeout() {
    // A database that hangs and then answers again (the held statements go through).
    embedded_outage(Proxy::freeze, Proxy::thaw).await;
}
