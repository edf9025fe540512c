//! Building the application from configuration: store, queue, receiver and workers, by role.

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_web::{
    App, HttpServer,
    dev::{Server, Service},
    http::KeepAlive,
    middleware, web,
};
use anyhow::Context;
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;

use crate::{
    api::{self, ApiState, auth::Guard, health::Probes, metrics::Scrape},
    clock::Clock,
    config::{Config, secrets},
    queue::{
        EventQueue,
        embedded::{self, EmbeddedConfig, EmbeddedQueue},
        rabbitmq::{RabbitConfig, RabbitQueue},
    },
    receiver::{self, ReceiverState, signature::Legacy},
    retention::Pruner,
    saas::{Apis, webhook_health::WebhookWatch},
    store::{self, turns::WriteTurns},
    worker::{Enricher, Worker},
    writeback::Drainer,
};

/// Consumers per process on SQLite, whatever `worker.concurrency` says.
const SQLITE_CONSUMERS: usize = 2;
/// Fewest events per transaction on SQLite: its writers take turns, so each commit, claim and
/// ack is paid once per batch; 32 cost 2.8 CPU-ms per event against 4.2 for 8 (BENCHMARKS.md).
const SQLITE_BATCH: usize = 32;

/// Which parts of the service this process runs (one image, roles chosen at start).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// Webhook receiver only; scale it with traffic.
    Receiver,
    /// Queue consumers only (plus probes); scale with queue depth.
    Worker,
    /// Both in one process: the embedded default.
    All,
}

/// A built service, bound to its port and ready to run.
pub struct Application {
    port: u16,
    role: Role,
    server: Server,
    worker: Option<Worker>,
    config: Config,
    db: DatabaseConnection,
    queue: Arc<dyn EventQueue>,
    apis: Apis,
    webhook_watch: Option<WebhookWatch>,
    /// Sends due write-backs from the outbox, in the worker role with write-back on.
    drainer: Option<Drainer>,
    /// Prunes finished data on `retention.interval_secs`, in the worker role.
    pruner: Option<Pruner>,
}

/// The queue backend the configuration asks for: RabbitMQ when an AMQP URL is set, else
/// embedded: in a SQLite file of its own beside a SQLite store (`queue::embedded::own_file`),
/// which adopts any messages the store's own table still holds, or in the store itself.
pub async fn build_queue(
    config: &Config,
    db: &DatabaseConnection,
    clock: &Clock,
) -> anyhow::Result<Arc<dyn EventQueue>> {
    let retry = config.queue.retry_policy();
    if let Some(url) = &config.queue.amqp_url {
        return Ok(Arc::new(
            RabbitQueue::new(RabbitConfig {
                url: url.clone(),
                queue_prefix: config.queue.prefix.clone(),
                prefetch: config.queue.prefetch,
                confirm_timeout: Duration::from_millis(config.queue.confirm_timeout_ms),
                retry,
            })
            .with_heartbeat(config.queue.heartbeat_secs),
        ));
    }
    let (queue_db, database) = match embedded::own_file(config.database.url.expose_secret()) {
        Some(url) => {
            let mut database = config.database.clone();
            database.url = secrecy::SecretString::from(url);
            let queue_db = store::connect(&database)
                .await
                .context("opening the embedded queue's file")?;
            // The whole schema, so the queue's table has every migration's shape.
            store::migrate(&queue_db)
                .await
                .context("running migrations on the embedded queue's file")?;
            let adopted = embedded::adopt(db, &queue_db, &config.queue.prefix)
                .await
                .context("moving queued events into the embedded queue's file")?;
            if adopted > 0 {
                tracing::info!(adopted, file = %database.endpoint(), "queued events moved into the queue's own file");
            }
            (queue_db, database)
        }
        None => (db.clone(), config.database.clone()),
    };
    Ok(Arc::new(
        EmbeddedQueue::new(
            queue_db,
            EmbeddedConfig {
                queue: config.queue.prefix.clone(),
                lease: Duration::from_secs(config.queue.lease_secs),
                retry,
                endpoint: database.endpoint(),
            },
            clock.clone(),
        )
        .with_write_turns(WriteTurns::of(&database)),
    ))
}

impl Application {
    /// Connects, migrates and binds with the real clock.
    pub async fn build(config: Config, role: Role) -> anyhow::Result<Self> {
        Self::build_with_clock(config, role, Clock::system()).await
    }

    /// Like `build`, with an injected clock (tests pin "now" for signature windows).
    pub async fn build_with_clock(config: Config, role: Role, clock: Clock) -> anyhow::Result<Self> {
        let db = connect(&config).await?;
        store::migrate(&db).await.context("running migrations")?;
        let queue = build_queue(&config, &db, &clock).await?;
        let prunes = matches!(role, Role::Worker | Role::All)
            && config.retention.interval_secs > 0
            && config.retention.prunes_anything();
        let pruner = prunes.then(|| Pruner::new(db.clone(), &config.retention, clock.clone()));
        let listener = TcpListener::bind((config.server.host.as_str(), config.server.port))
            .with_context(|| format!("binding {}:{}", config.server.host, config.server.port))?;
        let port = listener.local_addr()?.port();
        let receiver = match role {
            Role::Worker => None,
            Role::Receiver | Role::All => Some(web::Data::new(ReceiverState {
                queue: queue.clone(),
                hubspot_secret: config.hubspot.secret(),
                clickup_secrets: config.clickup.secrets()?,
                public_base_url: config.server.public_base_url.clone(),
                tolerance_ms: config.hubspot.signature_tolerance_secs.saturating_mul(1000),
                legacy: if config.hubspot.accept_legacy_signatures {
                    Legacy::Accepted
                } else {
                    Legacy::Refused
                },
                max_body_bytes: config.server.max_body_bytes,
                body_timeout: Duration::from_millis(config.server.body_timeout_ms),
                publish_timeout: Duration::from_millis(config.queue.confirm_timeout_ms),
                in_flight: Arc::new(tokio::sync::Semaphore::new(config.server.max_in_flight)),
                clock,
            })),
        };
        let apis = Apis::from_config(&config)?;
        let webhook_watch = match (&apis.clickup, &config.clickup.team_id) {
            (Some(_), Some(_)) if config.clickup.health_interval_secs > 0 => Some(WebhookWatch::default()),
            _ => None,
        };
        let matching = config.matching.matching()?;
        let mapping = config.mapping.field_mapping()?;
        let worker = matches!(role, Role::Worker | Role::All).then(|| {
            Worker::new(db.clone(), queue.clone())
                .with_matching(matching.clone())
                .with_mapping(mapping.clone())
                .with_enricher(Enricher::new(&apis).with_own_writes(config.own_writes()))
                .with_write_back_from(&config, &apis, &db)
                .with_projects(crate::projects::ProjectSync::from_config(&config, &apis))
                .with_database(&config.database)
        });
        let writes_back = config.api.write_back && (apis.hubspot.is_some() || apis.clickup.is_some());
        let drainer = (worker.is_some() && writes_back).then(|| {
            Drainer::new(db.clone(), apis.clone(), Arc::new(mapping), &config.outbox)
                .with_projects(config.projects_if_enabled())
        });
        let probes = web::Data::new(Probes {
            db: db.clone(),
            database_endpoint: config.database.endpoint(),
            database_required: role != Role::Receiver || config.queue.amqp_url.is_none(),
            queue_endpoint: match &config.queue.amqp_url {
                Some(url) => format!("RabbitMQ at {}", secrets::endpoint(url.expose_secret())),
                None => format!("the queue's database at {}", config.database.endpoint()),
            },
            queue: queue.clone(),
            webhooks: webhook_watch.clone(),
            consumers: worker.as_ref().map(Worker::consumers),
            check_timeout: Duration::from_millis(config.queue.confirm_timeout_ms),
        });
        let scrape = crate::metrics::install().map(|handle| {
            web::Data::new(Scrape {
                handle,
                queue: queue.clone(),
                stored: crate::metrics::StoredGauges::new(db.clone()),
                consumers: worker.as_ref().map(Worker::consumers),
            })
        });
        let operator_api = matches!(role, Role::Receiver | Role::All).then(|| {
            web::Data::new(ApiState {
                db: db.clone(),
                matching: matching.clone(),
                guard: Guard::new(config.server.auth_failures_per_minute),
                bootstrap: config.server.bootstrap_token.clone(),
                queue: queue.clone(),
                bulk: crate::bulk::Runner::new(
                    db.clone(),
                    queue.clone(),
                    matching.clone(),
                    config.server.bulk_rows_per_sec,
                ),
            })
        });
        let console = operator_api
            .is_some()
            .then(|| web::Data::new(crate::console::ConsoleState::from_config(&config)));
        let server = HttpServer::new(move || {
            let mut app = App::new()
                .wrap(middleware::NormalizePath::trim())
                // Outside NormalizePath: HubSpot signs the URI it called, trailing slash and all.
                .wrap_fn(|req, service| {
                    receiver::remember_received_uri(&req);
                    service.call(req)
                })
                .wrap(tracing_actix_web::TracingLogger::default())
                .app_data(probes.clone())
                .configure(api::health::routes);
            if let Some(scrape) = &scrape {
                app = app.app_data(scrape.clone()).configure(api::metrics::routes);
            }
            if let Some(state) = &operator_api {
                app = app.app_data(state.clone()).configure(api::v1);
            }
            if let Some(console) = &console {
                app = app.app_data(console.clone()).configure(crate::console::routes);
            }
            if let Some(state) = &receiver {
                app = app.app_data(state.clone()).configure(receiver::routes);
            }
            app
        })
        .client_request_timeout(Duration::from_millis(config.server.client_request_timeout_ms))
        .client_disconnect_timeout(Duration::from_millis(config.server.client_disconnect_timeout_ms))
        .keep_alive(KeepAlive::Timeout(Duration::from_secs(
            config.server.keep_alive_secs,
        )))
        .max_connections(config.server.max_connections)
        .max_connection_rate(config.server.max_connection_rate)
        .listen(listener)?
        .disable_signals()
        .shutdown_timeout(config.server.shutdown_grace_secs)
        .run();
        Ok(Self {
            port,
            role,
            server,
            worker,
            config,
            db,
            queue,
            apis,
            webhook_watch,
            drainer,
            pruner,
        })
    }

    /// The bound port (tests bind port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The store pool, shared with tests.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The queue backend, shared with tests.
    pub fn queue(&self) -> Arc<dyn EventQueue> {
        self.queue.clone()
    }

    /// Serves until `shutdown` fires, then stops taking requests, finishes in-flight requests and
    /// messages within the grace period, and returns.
    pub async fn run_until(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let handle = self.server.handle();
        let server = tokio::spawn(self.server);
        let workers = self.worker.map(|worker| {
            let token = shutdown.child_token();
            let settings = &self.config.worker;
            let poll = Duration::from_millis(settings.poll_ms);
            // SQLite has one writer: more consumers would only queue for its lock.
            let (concurrency, batch) = if self.config.is_sqlite() {
                (
                    settings.concurrency.min(SQLITE_CONSUMERS),
                    settings.batch_size.max(SQLITE_BATCH),
                )
            } else {
                (settings.concurrency, settings.batch_size)
            };
            tokio::spawn(worker.run(concurrency, batch, poll, token))
        });
        if let (Some(watch), Some(api), Some(team)) = (
            self.webhook_watch,
            self.apis.clickup.clone(),
            self.config.clickup.team_id.clone(),
        ) {
            let every = Duration::from_secs(self.config.clickup.health_interval_secs);
            tokio::spawn(watch.run(api, team, every, shutdown.child_token()));
        }
        if let Some(drainer) = self.drainer {
            let every = Duration::from_millis(self.config.outbox.interval_ms);
            tokio::spawn(drainer.run(every, shutdown.child_token()));
        }
        if let Some(pruner) = self.pruner {
            let every = Duration::from_secs(self.config.retention.interval_secs);
            tokio::spawn(pruner.run(every, shutdown.child_token()));
        }
        shutdown.cancelled().await;
        tracing::info!("shutting down: draining requests and in-flight messages");
        let grace = Duration::from_secs(self.config.server.shutdown_grace_secs);
        let drain = async {
            handle.stop(true).await;
            if let Some(workers) = workers {
                let _ = workers.await;
            }
            let _ = server.await;
        };
        if tokio::time::timeout(grace, drain).await.is_err() {
            tracing::warn!(
                ?grace,
                "grace period over; exiting with work in flight (it will be redelivered)"
            );
        }
        Ok(())
    }

    /// Serves until SIGTERM or Ctrl-C.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let shutdown = CancellationToken::new();
        let trigger = shutdown.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            trigger.cancel();
        });
        let roles = match self.role {
            Role::Receiver => "receiver",
            Role::Worker => "worker",
            Role::All => "receiver + worker",
        };
        // The message stays "clientsync listening" (scripts and tests wait for it).
        tracing::info!(port = self.port, setup = %self.config.summary(roles), "clientsync listening");
        self.run_until(shutdown).await
    }
}

/// Connects to the store; a SQLite URL without `mode=rwc` gets a hint, since without it a
/// missing file is an error rather than created.
pub async fn connect(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let connected = store::connect(&config.database).await;
    let url = config.database.url.expose_secret();
    match connected {
        Ok(db) => Ok(db),
        Err(e) if config.is_sqlite() && !url.contains("mode=rwc") => Err(anyhow::Error::new(e).context(
            "connecting to the database (a SQLite file that does not exist yet needs `?mode=rwc` \
             at the end of CLIENTSYNC_DATABASE__URL to be created)",
        )),
        // The error names the database's host and port (never the URL: it holds the password).
        Err(e) => Err(e.into()),
    }
}

/// Waits for SIGTERM or Ctrl-C (the demo waits on it too while it serves the console).
pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
