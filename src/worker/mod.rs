//! Consumers: take a message, process it, then ack, retry or dead-letter it.

pub mod enrich;
pub mod process;

use std::{sync::Arc, time::Duration};

use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub use enrich::Enricher;
pub use process::{Outcome, ProcessError, process};

use crate::{
    domain::ids::ClientId,
    metrics,
    queue::{Delivery, Envelope, EventQueue, QueueError, RetryOutcome},
    reconcile::Matching,
    saas::ApiError,
    sources::{self, EventEffect, mapping::FieldMapping},
    store::inbox,
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

/// Why a message could not be settled (the queue itself failed); the message is redelivered later.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// Receiving, acking or re-publishing failed.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// Recording a dead event in the database failed.
    #[error("recording a dead event failed: {0}")]
    RecordDead(#[from] sea_orm::DbErr),
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
        }
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
        self.with_write_back(WriteBack::new(db.clone(), apis.clone(), mapping))
    }

    /// Brings the clients' records in both systems up to their golden values. A failure is
    /// logged and counted, not retried here: the event is already applied, and the next change
    /// to the client (or the next backfill) plans the same write again.
    async fn write_back(&self, clients: impl IntoIterator<Item = ClientId>) {
        let Some(write_back) = &self.write_back else {
            return;
        };
        let mut seen = std::collections::HashSet::new();
        for client in clients.into_iter().filter(|c| seen.insert(*c)) {
            match write_back.sync(client).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(%client, written = n, "wrote golden values back"),
                Err(e) => {
                    metrics::write_back_failed();
                    tracing::warn!(%client, error = %e, "write-back failed; the next change tries again");
                }
            }
        }
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

    /// Settles `first` with up to `max - 1` messages already waiting behind it: applied in one
    /// transaction (one commit for all) when they all succeed, else one by one.
    async fn settle_batch(&self, first: Delivery, max: usize) -> Result<Vec<Settled>, WorkerError> {
        let mut deliveries = vec![first];
        while deliveries.len() < max {
            match self.queue.receive(Duration::ZERO).await? {
                Some(delivery) => deliveries.push(delivery),
                None => break,
            }
        }
        let mut settled = Vec::with_capacity(deliveries.len());
        let mut decoded = Vec::with_capacity(deliveries.len());
        for delivery in deliveries {
            match Envelope::from_bytes(&delivery.body) {
                Ok(env) => decoded.push((delivery, env)),
                Err(_) => settled.push(self.settle(delivery).await?),
            }
        }
        let effects = {
            let envs: Vec<&Envelope> = decoded.iter().map(|(_, env)| env).collect();
            self.enricher.effects(&envs, &self.mapping).await
        };
        let mut ready = Vec::with_capacity(decoded.len());
        for ((delivery, env), effect) in decoded.into_iter().zip(effects) {
            match effect {
                Ok(effect) => ready.push((delivery, env, effect)),
                Err(e) => settled.push(self.settle_decoded(delivery, env, Err(e)).await?),
            }
        }
        if ready.len() > 1 {
            let started = std::time::Instant::now();
            let result = {
                let events: Vec<(&Envelope, &EventEffect, u32)> = ready
                    .iter()
                    .map(|(d, env, effect)| (env, effect, d.attempt))
                    .collect();
                let _turns = self.objects.lock_all(ready.iter().map(|(_, env, _)| env)).await;
                process::process_batch(&self.db, &self.matching, &events).await
            };
            match result {
                Ok(outcomes) => {
                    let mut linked = Vec::new();
                    for ((delivery, _, _), outcome) in ready.into_iter().zip(outcomes) {
                        self.queue.ack(delivery).await?;
                        if let Outcome::Linked(client) = outcome {
                            linked.push(client);
                        }
                        let done = Settled::Done(outcome);
                        metrics::settled(&done, started.elapsed());
                        settled.push(done);
                    }
                    self.write_back(linked).await;
                    return Ok(settled);
                }
                Err(e) => {
                    tracing::debug!(error = %e, size = ready.len(), "batch failed; settling one by one")
                }
            }
        }
        for (delivery, env, effect) in ready {
            settled.push(self.settle_decoded(delivery, env, Ok(effect)).await?);
        }
        Ok(settled)
    }

    async fn settle(&self, delivery: Delivery) -> Result<Settled, WorkerError> {
        let attempt = delivery.attempt;
        let env = match Envelope::from_bytes(&delivery.body) {
            Ok(env) => env,
            Err(e) => {
                let reason = format!("undecodable message: {e}");
                tracing::error!(attempt, %reason, "dead-lettering poison message");
                inbox::record_undecodable(&self.db, &delivery.body, attempt, &reason).await?;
                self.queue.dead_letter(delivery, &reason).await?;
                return Ok(Settled::DeadLettered(reason));
            }
        };
        let effect = self.enricher.effects(&[&env], &self.mapping).await.pop();
        let effect = effect.unwrap_or_else(|| Ok(sources::effect(&env, &self.mapping)));
        self.settle_decoded(delivery, env, effect).await
    }

    async fn settle_decoded(
        &self,
        delivery: Delivery,
        env: Envelope,
        effect: Result<EventEffect, ApiError>,
    ) -> Result<Settled, WorkerError> {
        let attempt = delivery.attempt;
        let span =
            tracing::info_span!("event", id = %env.id, source = %env.source, kind = %env.event_type, attempt);
        let started = std::time::Instant::now();
        let settled = self.settle_event(delivery, env, effect).instrument(span).await?;
        metrics::settled(&settled, started.elapsed());
        Ok(settled)
    }

    async fn settle_event(
        &self,
        delivery: Delivery,
        env: Envelope,
        effect: Result<EventEffect, ApiError>,
    ) -> Result<Settled, WorkerError> {
        let attempt = delivery.attempt;
        let processed = match effect {
            Ok(effect) => {
                let _turn = self.objects.stripe(&env).lock().await;
                process(&self.db, &self.matching, &env, &effect, attempt).await
            }
            Err(e) => Err(e.into()),
        };
        match processed {
            Ok(outcome) => {
                tracing::debug!(?outcome, "processed");
                self.queue.ack(delivery).await?;
                if let Outcome::Linked(client) = &outcome {
                    self.write_back([*client]).await;
                }
                Ok(Settled::Done(outcome))
            }
            Err(e) if e.is_transient() => {
                let reason = e.to_string();
                match self.queue.retry(delivery, &reason).await? {
                    RetryOutcome::Scheduled(delay) => {
                        tracing::warn!(error = %reason, ?delay, "transient failure; retrying");
                        Ok(Settled::Retrying(delay))
                    }
                    RetryOutcome::DeadLettered => {
                        tracing::error!(error = %reason, "out of attempts; dead-lettered");
                        inbox::record_dead(&self.db, &env, attempt, &reason).await?;
                        Ok(Settled::DeadLettered(reason))
                    }
                }
            }
            Err(e) => {
                let reason = e.to_string();
                tracing::error!(error = %reason, "permanent failure; dead-lettered");
                inbox::record_dead(&self.db, &env, attempt, &reason).await?;
                self.queue.dead_letter(delivery, &reason).await?;
                Ok(Settled::DeadLettered(reason))
            }
        }
    }

    /// Runs `concurrency` consumers until `shutdown` fires; each finishes its in-flight message first.
    pub async fn run(self, concurrency: usize, batch: usize, poll: Duration, shutdown: CancellationToken) {
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..concurrency {
            let worker = self.clone();
            let shutdown = shutdown.clone();
            tasks.spawn(async move { worker.consume(n, batch, poll, shutdown).await });
        }
        while tasks.join_next().await.is_some() {}
        tracing::info!("workers stopped");
    }

    async fn consume(&self, n: usize, batch: usize, poll: Duration, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(200);
        while !shutdown.is_cancelled() {
            let next = tokio::select! {
                () = shutdown.cancelled() => break,
                next = self.queue.receive(poll) => next,
            };
            let result = match next {
                Ok(Some(first)) => self.settle_batch(first, batch).await.map(|_| ()),
                Ok(None) => Ok(()),
                Err(e) => Err(e.into()),
            };
            match result {
                Ok(()) => backoff = Duration::from_millis(200),
                Err(e) => {
                    tracing::warn!(worker = n, error = %e, ?backoff, "queue trouble; backing off");
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
    }
}
