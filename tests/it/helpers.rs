//! `spawn_app()`: a running receiver on its own database (and queue prefix), with signing helpers
//! and a worker the test drives step by step.

use std::{sync::Arc, time::Duration};

use clientsync::{
    clock::Clock,
    config::Config,
    queue::{
        EventQueue, RetryPolicy,
        rabbitmq::{RabbitConfig, RabbitQueue},
    },
    receiver::signature::{self, WebhookSecret},
    startup::{Application, Role},
    worker::{Settled, Worker},
};
use entity::{clients, conflicts, field_provenance, inbox_events, source_records};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// Which store and queue a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file in a temp dir + the embedded database queue (the default deployment).
    Embedded,
    /// A fresh Postgres database + RabbitMQ with a unique queue prefix (production).
    Production,
}

pub const HUBSPOT_SECRET: &str = "test-hubspot-client-secret";
pub const CLICKUP_WEBHOOK: &str = "7fa3ec74-69a8-4530-a251-8a13730bd204";
pub const CLICKUP_SECRET: &str = "test-clickup-webhook-secret";
pub const PUBLIC_BASE_URL: &str = "https://hooks.example.com";
pub const MAX_ATTEMPTS: u32 = 3;

pub fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

pub fn amqp_url() -> String {
    std::env::var("TEST_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

pub struct TestApp {
    pub address: String,
    /// The store's URL, for running the binary against it.
    pub database_url: String,
    pub db: DatabaseConnection,
    pub queue: Arc<dyn EventQueue>,
    pub worker: Worker,
    pub client: reqwest::Client,
    pub backend: Backend,
    shutdown: CancellationToken,
    cleanup: Cleanup,
    _dir: tempfile::TempDir,
}

/// What a test leaves on the shared Postgres and RabbitMQ, removed when it ends (pass or fail).
#[derive(Default)]
struct Cleanup {
    database: Option<String>,
    rabbit: Option<(String, String)>,
}

impl Cleanup {
    async fn run(self) {
        if let Some((url, prefix)) = self.rabbit {
            let queue = RabbitQueue::new(RabbitConfig {
                url: SecretString::from(url),
                queue_prefix: prefix,
                prefetch: 1,
                confirm_timeout: Duration::from_secs(5),
                retry: RetryPolicy {
                    max_attempts: MAX_ATTEMPTS,
                    base_delay: Duration::from_millis(10),
                    max_delay: Duration::from_millis(50),
                },
            });
            let _ = queue.delete_topology().await;
        }
        if let Some(name) = self.database
            && let Ok(admin) = Database::connect(format!("{}/postgres", postgres_url())).await
        {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
            let _ = admin.close().await;
        }
    }
}

/// Creates a uniquely named Postgres database and returns its URL.
pub async fn fresh_postgres_database() -> String {
    let name = format!("clientsync_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(format!("{}/postgres", postgres_url()))
        .await
        .expect("Postgres must be reachable at TEST_DATABASE_URL (or 127.0.0.1:5432)");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    admin.close().await.ok();
    format!("{}/{name}", postgres_url())
}

/// The configuration a test app starts from, before backend choices.
pub fn test_config(dir: &tempfile::TempDir) -> Config {
    let mut config = Config::defaults().expect("defaults are valid");
    config.server.port = 0;
    config.server.public_base_url = PUBLIC_BASE_URL.into();
    config.database.url = SecretString::from(format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("clientsync.db").display()
    ));
    config.hubspot.client_secret = Some(SecretString::from(HUBSPOT_SECRET));
    config.clickup.webhook_secrets = Some(SecretString::from(format!("{CLICKUP_WEBHOOK}={CLICKUP_SECRET}")));
    config.queue.prefix = format!("clientsync-test-{}", uuid::Uuid::new_v4().simple());
    config.queue.max_attempts = MAX_ATTEMPTS;
    config.queue.retry_base_ms = 10;
    config.queue.retry_max_ms = 50;
    config
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_in_role(backend, Role::Receiver, tweak).await
}

/// Like `spawn_app_with`, running the service in `role` (a worker role also runs its own
/// consumers beside the worker the test drives).
pub async fn spawn_app_in_role(backend: Backend, role: Role, tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn(backend, role, None, tweak).await
}

/// A second process on another's Postgres database (`database_url`, which the other drops): a
/// worker beside a receiver, as deployed.
pub async fn spawn_beside(database_url: &str, role: Role, tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn(Backend::Production, role, Some(database_url), tweak).await
}

async fn spawn(
    backend: Backend,
    role: Role,
    shared_database: Option<&str>,
    tweak: impl FnOnce(&mut Config),
) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(&dir);
    if backend == Backend::Production {
        config.database.url = SecretString::from(match shared_database {
            Some(url) => url.to_owned(),
            None => fresh_postgres_database().await,
        });
        config.queue.amqp_url = Some(SecretString::from(amqp_url()));
    }
    tweak(&mut config);
    let cleanup = Cleanup {
        database: (backend == Backend::Production && shared_database.is_none())
            .then(|| {
                config
                    .database
                    .url
                    .expose_secret()
                    .rsplit('/')
                    .next()
                    .map(str::to_owned)
            })
            .flatten(),
        rabbit: config
            .queue
            .amqp_url
            .as_ref()
            .map(|_| (amqp_url(), config.queue.prefix.clone())),
    };
    let database_url = config.database.url.expose_secret().to_owned();
    let matching = config.matching.matching().expect("matching config is valid");
    let mapping = config.mapping.field_mapping().expect("mapping config is valid");
    let apis = clientsync::saas::Apis::from_config(&config).expect("API clients build");
    let worker_config = config.clone();
    let app = Application::build_with_clock(config, role, Clock::system())
        .await
        .expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.db().clone();
    let queue = app.queue();
    // The worker the test drives reads events exactly as the service's own would.
    let worker = Worker::new(db.clone(), queue.clone())
        .with_matching(matching)
        .with_mapping(mapping)
        .with_enricher(clientsync::worker::Enricher::new(&apis).with_own_writes(worker_config.own_writes()))
        .with_write_back_from(&worker_config, &apis, &db)
        .with_projects(clientsync::projects::ProjectSync::from_config(
            &worker_config,
            &apis,
        ))
        .with_database(&worker_config.database);
    let shutdown = CancellationToken::new();
    tokio::spawn(app.run_until(shutdown.clone()));
    TestApp {
        address,
        database_url,
        db,
        queue,
        worker,
        client: reqwest::Client::new(),
        backend,
        shutdown,
        cleanup,
        _dir: dir,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
        let cleanup = std::mem::take(&mut self.cleanup);
        if cleanup.database.is_none() && cleanup.rabbit.is_none() {
            return;
        }
        // Drop cannot await: clean up on a thread with its own runtime, and wait for it.
        let done = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                runtime.block_on(cleanup.run());
            }
        });
        let _ = done.join();
    }
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub fn hubspot_secret() -> WebhookSecret {
    WebhookSecret::new(HUBSPOT_SECRET.into())
}

pub fn clickup_secret() -> WebhookSecret {
    WebhookSecret::new(CLICKUP_SECRET.into())
}

/// The v3 + v1 headers HubSpot sends for `body` at `timestamp`.
pub fn hubspot_headers(body: &[u8], path: &str, timestamp: i64) -> Vec<(String, String)> {
    let uri = format!("{PUBLIC_BASE_URL}{path}");
    let ts = timestamp.to_string();
    vec![
        (
            "X-HubSpot-Signature-v3".into(),
            signature::sign_hubspot_v3(&hubspot_secret(), "POST", &uri, body, &ts),
        ),
        ("X-HubSpot-Request-Timestamp".into(), ts),
        ("X-HubSpot-Signature-Version".into(), "v1".into()),
        (
            "X-HubSpot-Signature".into(),
            signature::sign_hubspot_v1(&hubspot_secret(), body),
        ),
    ]
}

impl TestApp {
    pub async fn post_raw(
        &self,
        path: &str,
        body: Vec<u8>,
        headers: &[(String, String)],
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}{path}", self.address))
            .header("Content-Type", "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send().await.expect("request sent")
    }

    /// Posts a correctly signed HubSpot batch.
    pub async fn post_hubspot(&self, events: &Value) -> reqwest::Response {
        let body = serde_json::to_vec(events).expect("json");
        let headers = hubspot_headers(&body, "/webhooks/hubspot", now_ms());
        self.post_raw("/webhooks/hubspot", body, &headers).await
    }

    /// Posts a correctly signed ClickUp event.
    pub async fn post_clickup(&self, event: &Value) -> reqwest::Response {
        let body = serde_json::to_vec(event).expect("json");
        let headers = vec![(
            "X-Signature".to_owned(),
            signature::sign_clickup(&clickup_secret(), &body),
        )];
        self.post_raw("/webhooks/clickup", body, &headers).await
    }

    /// Runs the worker until the queue stays empty; returns what it did.
    pub async fn drain_worker(&self) -> Vec<Settled> {
        let mut settled = Vec::new();
        let wait = Duration::from_millis(if self.backend == Backend::Production {
            400
        } else {
            150
        });
        // Batches, as the service's consumers take them: every test also covers batch settling.
        loop {
            let batch = self
                .worker
                .process_batch(wait, 8)
                .await
                .expect("worker settles messages");
            if batch.is_empty() {
                break;
            }
            settled.extend(batch);
        }
        settled
    }

    /// Two HubSpot contacts of the same name sharing an office line (distinct emails): a
    /// record with only the name and that phone fits both equally.
    pub async fn post_two_anas_sharing_an_office_line(&self, t: i64) {
        let contacts = serde_json::json!([
            hubspot_property(1, "email", "ana@one.example", t),
            hubspot_property(1, "firstname", "Ana", t + 1),
            hubspot_property(1, "lastname", "Romero", t + 2),
            hubspot_property(1, "phone", "+34 911 000 111", t + 3),
            hubspot_property(2, "email", "ana@two.example", t + 4),
            hubspot_property(2, "firstname", "Ana", t + 5),
            hubspot_property(2, "lastname", "Romero", t + 6),
            hubspot_property(2, "phone", "+34 911 000 111", t + 7),
        ]);
        assert_eq!(self.post_hubspot(&contacts).await.status(), 200);
    }

    pub async fn clients(&self) -> Vec<clients::Model> {
        clients::Entity::find().all(&self.db).await.expect("clients")
    }

    pub async fn conflicts(&self) -> Vec<conflicts::Model> {
        conflicts::Entity::find().all(&self.db).await.expect("conflicts")
    }

    pub async fn inbox(&self) -> Vec<inbox_events::Model> {
        inbox_events::Entity::find().all(&self.db).await.expect("inbox")
    }

    pub async fn source_records(&self) -> Vec<source_records::Model> {
        source_records::Entity::find()
            .all(&self.db)
            .await
            .expect("source records")
    }

    pub async fn provenance(&self) -> Vec<field_provenance::Model> {
        field_provenance::Entity::find()
            .all(&self.db)
            .await
            .expect("provenance")
    }

    /// Creates an operator through the service layer, as the CLI would; returns their token.
    pub async fn add_operator(&self, name: &str, role: entity::operators::Role) -> String {
        use secrecy::ExposeSecret;
        let cli = clientsync::domain::Actor::cli(Some("test"));
        let (_, issued) = clientsync::access::add(&self.db, &cli, name, role)
            .await
            .expect("add operator");
        issued.secret.expose_secret().to_owned()
    }

    pub async fn inbox_count(&self) -> u64 {
        inbox_events::Entity::find().count(&self.db).await.expect("count")
    }

    pub async fn queue_depth(&self) -> u64 {
        self.queue.depth().await.expect("depth").unwrap_or(0)
    }
}

/// A HubSpot property-change event.
pub fn hubspot_property(object_id: i64, property: &str, value: &str, occurred_at: i64) -> Value {
    serde_json::json!({
        "eventId": occurred_at, "subscriptionId": 1, "portalId": 62515, "appId": 54321,
        "occurredAt": occurred_at, "subscriptionType": "contact.propertyChange", "attemptNumber": 0,
        "objectId": object_id, "propertyName": property, "propertyValue": value,
        "changeSource": "CRM_UI", "sourceId": "userId:1"
    })
}

/// A ClickUp taskUpdated event carrying custom-field history items `(item id, field name, value)`.
pub fn clickup_task_update(task_id: &str, items: &[(&str, &str, &str)], date: i64) -> Value {
    let history: Vec<Value> = items
        .iter()
        .map(|(id, name, value)| {
            let mut item = serde_json::json!({
                "id": id, "type": 1, "date": date.to_string(), "parent_id": "162641062",
                "user": {"id": 183, "username": "John"}, "after": value, "before": null
            });
            if *name == "name" {
                item["field"] = "name".into();
            } else {
                item["field"] = "custom_field".into();
                item["custom_field"] =
                    serde_json::json!({"id": format!("cf-{name}"), "name": name, "type": "short_text"});
            }
            item
        })
        .collect();
    serde_json::json!({"event": "taskUpdated", "task_id": task_id, "webhook_id": CLICKUP_WEBHOOK, "history_items": history})
}

/// A test app wired to a simulated HubSpot and ClickUp: API tokens, bases and limits point at
/// the simulator, and its webhooks are delivered to the app, signed as the real senders sign.
pub struct SimApp {
    pub app: TestApp,
    pub sim: clientsync::simulator::Simulator,
    pub config: Config,
}

pub async fn spawn_app_with_sim(backend: Backend) -> SimApp {
    spawn_app_with_sim_in_role(backend, Role::Receiver, |_| {}).await
}

/// Like `spawn_app_with_sim`, running the service in `role` with `tweak` applied last.
pub async fn spawn_app_with_sim_in_role(
    backend: Backend,
    role: Role,
    tweak: impl FnOnce(&mut Config),
) -> SimApp {
    let sim = clientsync::simulator::SimConfig {
        hubspot_client_secret: hubspot_secret(),
        ..clientsync::simulator::SimConfig::default()
    };
    spawn_app_with_sim_config(backend, role, sim, tweak).await
}

/// Like `spawn_app_with_sim_in_role`, with the simulator started from `sim` (more lists).
pub async fn spawn_app_with_sim_config(
    backend: Backend,
    role: Role,
    sim: clientsync::simulator::SimConfig,
    tweak: impl FnOnce(&mut Config),
) -> SimApp {
    use clientsync::simulator::{SenderConfig, Simulator};
    let sim = Simulator::start(sim).expect("simulator starts");
    let mut captured = None;
    let app = spawn_app_in_role(backend, role, |c| {
        let s = sim.config();
        c.hubspot.access_token = Some(SecretString::from(s.hubspot_token.clone()));
        c.hubspot.api_base = sim.hubspot_base();
        c.hubspot.app_id = Some(s.hubspot_app_id.to_string());
        c.clickup.api_token = Some(SecretString::from(s.clickup_token.clone()));
        c.clickup.api_base = sim.clickup_base();
        c.clickup.team_id = Some(s.clickup_team_id.clone());
        c.clickup.user_id = Some(s.clickup_user_id.to_string());
        c.clickup.list_ids = s.clickup_list_ids.clone();
        c.clickup.webhook_secrets = Some(SecretString::from(format!(
            "{CLICKUP_WEBHOOK}={CLICKUP_SECRET},{}",
            sim.clickup_webhook_secrets()
        )));
        c.api.min_backoff_ms = 10;
        c.api.max_backoff_ms = 50;
        c.clickup.health_interval_secs = 1;
        tweak(c);
        captured = Some(c.clone());
    })
    .await;
    sim.set_sender(SenderConfig {
        target: Some(app.address.clone()),
        public_base_url: Some(PUBLIC_BASE_URL.into()),
        ..SenderConfig::default()
    });
    SimApp {
        app,
        sim,
        config: captured.expect("the tweak ran"),
    }
}

impl SimApp {
    /// A backfill over the app's store, reading the simulator with the app's own settings.
    pub fn backfill(&self) -> clientsync::backfill::Backfill {
        clientsync::backfill::Backfill::new(
            self.app.db.clone(),
            self.config.matching.matching().expect("matching config"),
            self.config.mapping.field_mapping().expect("mapping config"),
            clientsync::saas::Apis::from_config(&self.config).expect("API clients"),
            self.config.clickup.list_ids.clone(),
        )
        .with_projects(self.config.projects_if_enabled())
    }

    /// Posts HubSpot `contact.creation` events (thin: an id and nothing else) for `ids`.
    pub async fn post_contact_creations(&self, ids: &[String]) {
        let t = now_ms();
        let events: Vec<Value> = ids
            .iter()
            .enumerate()
            .map(|(n, id)| {
                serde_json::json!({"eventId": n, "subscriptionId": 1, "portalId": 9, "appId": 424242,
                    "occurredAt": t + n as i64, "subscriptionType": "contact.creation",
                    "attemptNumber": 0, "objectId": id.parse::<i64>().expect("numeric id"),
                    "changeFlag": "CREATED", "changeSource": "CRM_UI"})
            })
            .collect();
        let response = self.app.post_hubspot(&Value::Array(events)).await;
        assert!(response.status().is_success(), "{:?}", response.text().await);
    }
}
