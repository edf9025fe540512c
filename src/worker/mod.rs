//! Consumers: take a message, process it, then ack, retry or dead-letter it. No input can stop
//! them: a panic in one message's work is that message's failure (`guard`), and a consumer that
//! ends anyway is restarted and counted for readiness (`supervisor`).

#[cfg(test)]
pub(crate) mod doubles;
pub mod enrich;
pub mod guard;
mod outage;
mod project_path;
mod settled_batch;
pub mod supervisor;
pub mod tally;
mod write_back;

use std::{future::Future, sync::Arc, time::Duration};

use sea_orm::DatabaseConnection;
use tracing::Instrument;

pub use crate::engine::{Outcome, ProcessError, process};
pub use enrich::Enricher;
pub use guard::{Panicked, guarded};
pub use supervisor::{ConsumerHealth, ConsumerReport, RestartPolicy};

use self::outage::StoreWatch;

use crate::{
    metrics,
    projects::ProjectSync,
    queue::{Delivery, Envelope, EventQueue, QueueError, RetryOutcome},
    reconcile::Matching,
    sources::{self, EventEffect, mapping::FieldMapping},
    store::{inbox, turns::WriteTurns},
    writeback::WriteBack,
};

/// What the worker did with one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Processed and acked.
    Done(Outcome),
    /// Failed transiently; handed back for a delayed retry.
    Retrying(Duration),
    /// Failed for good or out of attempts; in the dead-letter store with its reason.
    DeadLettered(String),
}

impl Settled {
    /// Stable name of the outcome, for metrics and the per-minute summary.
    pub fn label(&self) -> &'static str {
        match self {
            Settled::Done(outcome) => outcome.as_str(),
            Settled::Retrying(_) => "retrying",
            Settled::DeadLettered(_) => "dead_lettered",
        }
    }
}

/// Why a message could not be settled (the queue itself failed); the message is redelivered later.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// Receiving, acking or re-publishing failed.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// Recording a dead event in the database failed.
    #[error("recording a dead event failed: {0}")]
    RecordDead(#[from] sea_orm::DbErr),
    /// The consumers stopped while the database was unreachable: the message was left
    /// unsettled, to be delivered again, rather than charged an attempt.
    #[error("stopped while the database was unreachable ({0}); the message will be delivered again")]
    Unsettled(String),
}

/// Everything a worker needs.
#[derive(Clone)]
pub struct Worker {
    db: DatabaseConnection,
    queue: Arc<dyn EventQueue>,
    objects: Arc<ObjectLocks>,
    matching: Arc<Matching>,
    /// Which source fields feed which client fields.
    mapping: Arc<FieldMapping>,
    /// Reads thin events' objects from their source.
    enricher: Enricher,
    /// Writes golden values back to the sources after a client changed.
    write_back: Option<Arc<WriteBack>>,
    /// How many consumers are live, shared with readiness.
    consumers: ConsumerHealth,
    /// How consumers that end unexpectedly are restarted.
    restart: RestartPolicy,
    /// What was settled since the last per-minute summary.
    tally: Arc<tally::Tally>,
    /// Where the database is and how long its work may take, for outages.
    store: StoreWatch,
    /// Writers of the same SQLite file take turns (`store::turns`).
    writes: WriteTurns,
    /// The project path, when project lists are configured (`projects`).
    projects: Option<ProjectSync>,
}

/// Striped locks by source object, so the consumers of one process take turns on an object
/// instead of racing on its unique index (the loser would wait for the winner's commit, fail,
/// and redo its work). Races between processes are still settled by the indexes.
struct ObjectLocks([tokio::sync::Mutex<()>; 256]);

impl ObjectLocks {
    fn new() -> Self {
        Self(std::array::from_fn(|_| tokio::sync::Mutex::new(())))
    }

    fn index(env: &Envelope) -> usize {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (env.source, &env.object_id).hash(&mut hasher);
        (hasher.finish() % 256) as usize
    }

    fn stripe(&self, env: &Envelope) -> &tokio::sync::Mutex<()> {
        &self.0[Self::index(env)]
    }

    /// Takes the turns of several objects, always in stripe order so two batches never deadlock.
    async fn lock_all<'a>(
        &self,
        envs: impl Iterator<Item = &'a Envelope>,
    ) -> Vec<tokio::sync::MutexGuard<'_, ()>> {
        let mut stripes: Vec<usize> = envs.map(Self::index).collect();
        stripes.sort_unstable();
        stripes.dedup();
        let mut guards = Vec::with_capacity(stripes.len());
        for stripe in stripes {
            guards.push(self.0[stripe].lock().await);
        }
        guards
    }
}

impl Worker {
    /// A worker over a store and a queue.
    pub fn new(db: DatabaseConnection, queue: Arc<dyn EventQueue>) -> Self {
        Self {
            db,
            queue,
            objects: Arc::new(ObjectLocks::new()),
            matching: Arc::new(Matching::default()),
            mapping: Arc::new(FieldMapping::default()),
            enricher: Enricher::default(),
            write_back: None,
            consumers: ConsumerHealth::default(),
            restart: RestartPolicy::STANDARD,
            tally: Arc::default(),
            store: StoreWatch::default(),
            writes: WriteTurns::none(),
            projects: None,
        }
    }

    /// The same worker sending project tasks and deals down the project path (`None`: off).
    pub fn with_projects(mut self, projects: Option<ProjectSync>) -> Self {
        self.projects = projects;
        self
    }

    /// The same worker bounding its transactions by `config.transaction_timeout_ms`, naming
    /// `config`'s host and port when the database is unreachable, and writing a SQLite file in
    /// turns with the process's other writers of it.
    pub fn with_database(mut self, config: &crate::config::DatabaseConfig) -> Self {
        self.store = StoreWatch::from_config(config);
        self.writes = WriteTurns::of(config);
        self
    }

    /// The handle readiness reads to tell whether this worker's consumers are running.
    pub fn consumers(&self) -> ConsumerHealth {
        self.consumers.clone()
    }

    /// The same worker restarting dead consumers on `policy` instead of the standard waits.
    pub fn with_restart(mut self, policy: RestartPolicy) -> Self {
        self.restart = policy;
        self
    }

    /// The same worker writing golden values back to the sources after each linked event.
    pub fn with_write_back(mut self, write_back: WriteBack) -> Self {
        self.write_back = Some(Arc::new(write_back));
        self
    }

    /// Adds write-back when the configuration enables it and a source has an API client.
    pub fn with_write_back_from(
        self,
        config: &crate::config::Config,
        apis: &crate::saas::Apis,
        db: &DatabaseConnection,
    ) -> Self {
        if !config.api.write_back || (apis.hubspot.is_none() && apis.clickup.is_none()) {
            return self;
        }
        let mapping = self.mapping.clone();
        let write_back = WriteBack::new(db.clone(), apis.clone(), mapping, &config.outbox)
            .with_projects(config.projects_if_enabled());
        self.with_write_back(write_back)
    }

    /// The same worker reading thin events' objects through `enricher`.
    pub fn with_enricher(mut self, enricher: Enricher) -> Self {
        self.enricher = enricher;
        self
    }

    /// The same worker matching with `matching` instead of the defaults.
    pub fn with_matching(mut self, matching: Matching) -> Self {
        self.matching = Arc::new(matching);
        self
    }

    /// The same worker reading events with `mapping` instead of the built-in names.
    pub fn with_mapping(mut self, mapping: FieldMapping) -> Self {
        self.mapping = Arc::new(mapping);
        self
    }

    /// Takes and settles one message if one arrives within `wait`; tests drive the worker with it.
    pub async fn process_next(&self, wait: Duration) -> Result<Option<Settled>, WorkerError> {
        let Some(delivery) = self.queue.receive(wait).await? else {
            return Ok(None);
        };
        self.settle(delivery).await.map(Some)
    }

    /// Takes up to `max` messages (waiting up to `wait` for the first) and settles them; see
    /// `settle_batch`.
    pub async fn process_batch(&self, wait: Duration, max: usize) -> Result<Vec<Settled>, WorkerError> {
        match self.queue.receive(wait).await? {
            Some(first) => self.settle_batch(first, max).await,
            None => Ok(Vec::new()),
        }
    }

    async fn settle(&self, delivery: Delivery) -> Result<Settled, WorkerError> {
        let attempt = delivery.attempt;
        let env = match Envelope::from_bytes(&delivery.body) {
            Ok(env) => {
                metrics::event_taken(env.received_at);
                env
            }
            Err(e) => {
                let reason = format!("undecodable message: {e}");
                tracing::error!(attempt, %reason, "dead-lettering poison message");
                inbox::record_undecodable(&self.db, &delivery.body, attempt, &reason).await?;
                self.queue.dead_letter(delivery, &reason).await?;
                return Ok(Settled::DeadLettered(reason));
            }
        };
        let work = self.enrich_and_apply(&env, attempt);
        self.settle_decoded(delivery, &env, work).await
    }

    /// One message's work when its effect is not known yet: a project event goes down the
    /// project path; otherwise a thin event's object is read from its source, then applied.
    async fn enrich_and_apply(&self, env: &Envelope, attempt: u32) -> Result<Outcome, ProcessError> {
        if let Some(projects) = &self.projects
            && let Some(event) = projects.route(&self.db, env).await?
        {
            return self.apply_project(env, event, attempt).await;
        }
        let effect = self.enricher.effects(&[env], &self.mapping).await.pop();
        let effect = effect.unwrap_or_else(|| Ok(sources::effect(env, &self.mapping)))?;
        self.apply(env, effect, attempt).await
    }

    /// One message's work once its effect is known: apply it, taking its object's turn, and
    /// outlasting a database outage (`outage`).
    async fn apply(
        &self,
        env: &Envelope,
        effect: EventEffect,
        attempt: u32,
    ) -> Result<Outcome, ProcessError> {
        let effect = &effect;
        self.outlasting(|| async move {
            let _turn = self.objects.stripe(env).lock().await;
            // Boxed: the engine's future is large, and debug builds copy it at every level.
            self.bounded(Box::pin(async {
                let _writing = self.writes.take().await;
                process(&self.db, &self.matching, env, effect, attempt).await
            }))
            .await
        })
        .await
    }

    /// Runs `work` for one message, guarded, and settles the message by its result.
    async fn settle_decoded(
        &self,
        delivery: Delivery,
        env: &Envelope,
        work: impl Future<Output = Result<Outcome, ProcessError>>,
    ) -> Result<Settled, WorkerError> {
        let attempt = delivery.attempt;
        let span =
            tracing::info_span!("event", id = %env.id, source = %env.source, kind = %env.event_type, attempt);
        let started = std::time::Instant::now();
        let settled = self.settle_event(delivery, env, work).instrument(span).await?;
        metrics::settled(settled.label(), started.elapsed());
        self.tally.count(settled.label());
        Ok(settled)
    }

    /// Acks a message whose work succeeded; retries it after a transient failure or a panic
    /// (through the queue's delayed retry, dead-lettered once out of attempts); dead-letters it
    /// at once after a permanent failure.
    async fn settle_event(
        &self,
        delivery: Delivery,
        env: &Envelope,
        work: impl Future<Output = Result<Outcome, ProcessError>>,
    ) -> Result<Settled, WorkerError> {
        let attempt = delivery.attempt;
        let (reason, transient) = match guarded(work).await {
            Ok(Ok(outcome)) => {
                tracing::debug!(?outcome, "processed");
                self.queue.ack(delivery).await?;
                match &outcome {
                    Outcome::Linked(client) => self.write_back([*client]).await,
                    Outcome::Project(project) => self.write_back_project(*project).await,
                    _ => {}
                }
                return Ok(Settled::Done(outcome));
            }
            Ok(Err(e)) if e.is_store_failure() && self.store.stopping.is_cancelled() => {
                tracing::info!(error = %e, "stopping while the database is unreachable; leaving the message to be delivered again");
                return Err(WorkerError::Unsettled(e.to_string()));
            }
            Ok(Err(e)) => (e.to_string(), e.is_transient()),
            Err(panicked) => {
                metrics::message_panicked();
                tracing::error!(event = %env.id, attempt, panic = panicked.message(), "processing panicked; settling it as a failure of this message");
                (panicked.to_string(), true)
            }
        };
        if !transient {
            tracing::error!(error = %reason, "permanent failure; dead-lettered");
            inbox::record_dead(&self.db, env, attempt, &reason).await?;
            self.queue.dead_letter(delivery, &reason).await?;
            return Ok(Settled::DeadLettered(reason));
        }
        match self.queue.retry(delivery, &reason).await? {
            RetryOutcome::Scheduled(delay) => {
                tracing::warn!(error = %reason, ?delay, "transient failure; retrying");
                Ok(Settled::Retrying(delay))
            }
            RetryOutcome::DeadLettered => {
                tracing::error!(error = %reason, "out of attempts; dead-lettered");
                inbox::record_dead(&self.db, env, attempt, &reason).await?;
                Ok(Settled::DeadLettered(reason))
            }
        }
    }
}

#[cfg(test)]
mod tests;
