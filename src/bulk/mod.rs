//! Bulk actions by filter (admin): resolve many conflicts one way, replay dead events, retry
//! failed write-backs. A dry run counts the rows a filter selects; a real run is a job row worked
//! through in the background at a bounded rate, its progress stored so an admin can watch it
//! and cancel it. Each row goes through the same service call as a single action, so each
//! touched row gets its own audit row, and the job's start and cancel get one each.

use std::{num::NonZeroU32, sync::Arc};

use entity::{
    bulk_jobs::{self, BulkStatus},
    conflicts::{self as conflict_rows, ConflictKind, ConflictStatus},
    operators::Role,
    outbox::OutboxStatus,
};
use governor::{Quota, RateLimiter};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    access::{self, AccessError},
    dead_events::{self, DeadEventError},
    domain::{Actor, ids::ClientId, source::Source},
    queue::EventQueue,
    reconcile::Matching,
    steward::{self, Resolution, StewardError},
    store::{
        StoreError,
        audit::{self, Entry},
        bulk_jobs as jobs,
        inbox::{self, DeadFilter},
        outbox::{self, OutboxFilter},
    },
};

/// Rows read per step; cancellation is checked between steps.
const CHUNK: u64 = 25;

/// Most dead events replayed per step. Each step ends by purging its events' copies from the
/// dead-letter store, which on RabbitMQ reads the whole store through, so fewer, larger steps
/// cost less; a step still takes at most a second or so at the configured rate.
const REPLAY_CHUNK: u64 = 200;

/// A running job whose progress has not moved for this long has lost its runner (a step takes
/// at most `CHUNK` seconds at the lowest rate).
const STALLED_SECS: i64 = 120;

/// What a bulk job does to each row its filter selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkAction {
    /// Resolve open conflicts with one resolution.
    Resolve(Resolution),
    /// Put dead events back on the work queue.
    ReplayDead,
    /// Put failed write-backs back to pending.
    RetryWritebacks,
}

impl BulkAction {
    /// The action's name as the API and the job row spell it.
    pub fn name(&self) -> &'static str {
        match self {
            BulkAction::Resolve(_) => "resolve",
            BulkAction::ReplayDead => "replay_dead",
            BulkAction::RetryWritebacks => "retry_writebacks",
        }
    }
}

/// A job's status as the API and the console spell it.
pub fn status_name(status: BulkStatus) -> &'static str {
    match status {
        BulkStatus::Queued => "queued",
        BulkStatus::Running => "running",
        BulkStatus::Finished => "finished",
        BulkStatus::Cancelled => "cancelled",
        BulkStatus::Failed => "failed",
    }
}

/// Which rows a bulk job touches; each action reads the fields that apply to its rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkFilter {
    /// Dead events and write-backs: only this source.
    pub source: Option<String>,
    /// Dead events: only this event type.
    pub event_type: Option<String>,
    /// Dead events: received at or after.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Dead events: received before.
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Dead events: whose last error contains this text.
    pub reason: Option<String>,
    /// Dead events: about this object.
    pub external_id: Option<String>,
    /// Conflicts: only this kind.
    pub kind: Option<ConflictKind>,
    /// Conflicts: only this field (field mismatches).
    pub field: Option<String>,
    /// Conflicts and write-backs: only this client's.
    pub client: Option<ClientId>,
}

/// Why a bulk request was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    /// The request does not make sense (a resolution that fits no selected conflict, …).
    #[error("{0}")]
    Invalid(String),
    /// No job by that id.
    #[error("bulk job {0} not found")]
    NotFound(Uuid),
    /// The job already ended.
    #[error("bulk job {0} has already ended")]
    Ended(Uuid),
    /// The actor may not do this.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DbErr> for BulkError {
    fn from(e: DbErr) -> Self {
        BulkError::Store(StoreError::Db(e))
    }
}

/// A checked request: the action and the filter it applies to.
#[derive(Debug, Clone)]
pub struct BulkPlan {
    action: BulkAction,
    filter: BulkFilter,
}

impl BulkPlan {
    /// Checks that the action fits the filter; a resolution names the conflict kind it applies to.
    pub fn new(action: BulkAction, mut filter: BulkFilter) -> Result<Self, BulkError> {
        if let Some(source) = &filter.source
            && !matches!(action, BulkAction::ReplayDead)
        {
            source.parse::<Source>().map_err(BulkError::Invalid)?;
        }
        if let BulkAction::Resolve(resolution) = &action {
            let fits: &[ConflictKind] = match resolution {
                Resolution::KeepHubspot | Resolution::AcceptClickup | Resolution::Pin { .. } => {
                    &[ConflictKind::FieldMismatch]
                }
                Resolution::NotAMatch => &[ConflictKind::AmbiguousMatch, ConflictKind::KeyCollision],
                Resolution::Link { .. } => {
                    return Err(BulkError::Invalid(
                        "`link` names one client; link records one at a time".into(),
                    ));
                }
            };
            match filter.kind {
                Some(kind) if !fits.contains(&kind) => {
                    return Err(BulkError::Invalid(
                        "the resolution does not resolve that kind of conflict".into(),
                    ));
                }
                Some(_) => {}
                None if fits.len() == 1 => filter.kind = Some(fits[0]),
                None => return Err(BulkError::Invalid("name the conflict kind in the filter".into())),
            }
        }
        Ok(Self { action, filter })
    }

    fn dead_filter(&self, after: Option<String>, limit: u64) -> DeadFilter {
        DeadFilter {
            source: self.filter.source.clone(),
            event_type: self.filter.event_type.clone(),
            since: self.filter.since,
            until: self.filter.until,
            reason: self.filter.reason.clone(),
            object_id: self.filter.external_id.clone(),
            after,
            limit,
        }
    }

    fn outbox_filter(&self, after: Option<Uuid>, limit: u64) -> OutboxFilter {
        OutboxFilter {
            status: Some(OutboxStatus::Failed),
            source: self.filter.source.as_deref().and_then(|s| s.parse().ok()),
            subject: None,
            client: self.filter.client.map(|c| c.as_uuid()),
            after,
            limit,
        }
    }

    fn conflict_condition(&self) -> Condition {
        use conflict_rows::Column as C;
        let mut all = Condition::all().add(C::Status.eq(ConflictStatus::Open));
        if let Some(kind) = self.filter.kind {
            all = all.add(C::Kind.eq(kind));
        }
        if let Some(field) = &self.filter.field {
            all = all.add(C::Field.eq(field.as_str()));
        }
        if let Some(client) = self.filter.client {
            all = all.add(C::ClientId.eq(client.as_uuid()));
        }
        all
    }

    /// How many rows the filter selects now: what a dry run answers.
    pub async fn count(&self, db: &DatabaseConnection) -> Result<u64, BulkError> {
        Ok(match &self.action {
            BulkAction::Resolve(_) => {
                conflict_rows::Entity::find()
                    .filter(self.conflict_condition())
                    .count(db)
                    .await?
            }
            BulkAction::ReplayDead => inbox::dead_count(db, &self.dead_filter(None, 0)).await?,
            BulkAction::RetryWritebacks => outbox::count(db, &self.outbox_filter(None, 0)).await?,
        })
    }
}

/// Runs bulk jobs in the background of the API process.
#[derive(Clone)]
pub struct Runner {
    db: DatabaseConnection,
    queue: Arc<dyn EventQueue>,
    matching: Matching,
    rate: NonZeroU32,
}

impl Runner {
    /// A runner touching at most `rows_per_sec` rows a second.
    pub fn new(
        db: DatabaseConnection,
        queue: Arc<dyn EventQueue>,
        matching: Matching,
        rows_per_sec: u32,
    ) -> Self {
        Self {
            db,
            queue,
            matching,
            rate: NonZeroU32::new(rows_per_sec).unwrap_or(NonZeroU32::MIN),
        }
    }

    /// Creates the job (with its audit row) and starts it; returns the job as created.
    pub async fn start(
        &self,
        plan: BulkPlan,
        request: serde_json::Value,
        by: &Actor,
    ) -> Result<bulk_jobs::Model, BulkError> {
        access::require(by, Role::Admin)?;
        let total = plan.count(&self.db).await?;
        let txn = crate::store::begin_write(&self.db).await?;
        let job = jobs::create(&txn, plan.action.name(), request.clone(), total, by.name()).await?;
        audit::append(
            &txn,
            by,
            Entry {
                action: "bulk.start",
                target_kind: "bulk_job",
                target_id: job.id.to_string(),
                after: Some(json!({ "request": request, "total": total })),
                ..Entry::default()
            },
        )
        .await?;
        txn.commit().await?;
        let runner = self.clone();
        let (id, by) = (job.id, by.clone());
        tokio::spawn(async move { runner.run(id, plan, by).await });
        Ok(job)
    }

    async fn run(self, id: Uuid, plan: BulkPlan, by: Actor) {
        let outcome = self.work(id, &plan, &by).await;
        let ended = match &outcome {
            Ok(status) => jobs::finish(&self.db, id, *status, None).await,
            Err(e) => {
                tracing::error!(job = %id, error = %e, "bulk job failed");
                jobs::finish(&self.db, id, BulkStatus::Failed, Some(&e.to_string())).await
            }
        };
        if let Err(e) = ended {
            tracing::error!(job = %id, error = %e, "bulk job's end not recorded");
        }
    }

    /// Works through the rows until none is left or an admin cancels; returns how it ended.
    async fn work(&self, id: Uuid, plan: &BulkPlan, by: &Actor) -> Result<BulkStatus, BulkError> {
        let limiter = RateLimiter::direct(Quota::per_second(self.rate));
        let (mut done, mut failed) = (0u64, 0u64);
        let mut last_error: Option<String> = None;
        let mut after_event: Option<String> = None;
        let mut after_id: Option<Uuid> = None;
        let step = match plan.action {
            BulkAction::ReplayDead => u64::from(self.rate.get()).clamp(CHUNK, REPLAY_CHUNK),
            _ => CHUNK,
        };
        loop {
            if jobs::cancel_requested(&self.db, id).await? {
                jobs::progress(&self.db, id, done, failed, last_error.as_deref()).await?;
                return Ok(BulkStatus::Cancelled);
            }
            let touched = match &plan.action {
                BulkAction::ReplayDead => {
                    let rows =
                        inbox::dead_page(&self.db, &plan.dead_filter(after_event.clone(), step)).await?;
                    after_event = rows.last().map(|r| r.id.clone());
                    for _ in &rows {
                        limiter.until_ready().await;
                    }
                    match dead_events::replay_rows(&self.db, self.queue.as_ref(), &rows, by).await {
                        Ok(n) => {
                            done += n;
                            failed += rows.len() as u64 - n;
                        }
                        Err(DeadEventError::Store(e)) => return Err(e.into()),
                        Err(e) => {
                            failed += rows.len() as u64;
                            last_error = Some(e.to_string());
                        }
                    }
                    rows.len()
                }
                BulkAction::Resolve(resolution) => {
                    let rows: Vec<Uuid> = conflict_rows::Entity::find()
                        .select_only()
                        .column(conflict_rows::Column::Id)
                        .filter(plan.conflict_condition())
                        .apply_if(after_id, |q, after| q.filter(conflict_rows::Column::Id.gt(after)))
                        .order_by_asc(conflict_rows::Column::Id)
                        .limit(CHUNK)
                        .into_tuple()
                        .all(&self.db)
                        .await?;
                    after_id = rows.last().copied().or(after_id);
                    for conflict in &rows {
                        limiter.until_ready().await;
                        match steward::resolve(&self.db, &self.matching, *conflict, resolution.clone(), by)
                            .await
                        {
                            Ok(_) => done += 1,
                            Err(StewardError::Store(e)) => return Err(e.into()),
                            Err(e) => {
                                failed += 1;
                                last_error = Some(e.to_string());
                            }
                        }
                    }
                    rows.len()
                }
                BulkAction::RetryWritebacks => {
                    let rows = outbox::page(&self.db, &plan.outbox_filter(after_id, CHUNK)).await?;
                    after_id = rows.last().map(|r| r.id).or(after_id);
                    for row in &rows {
                        limiter.until_ready().await;
                        match steward::retry_writeback(&self.db, row.id, by).await {
                            Ok(()) => done += 1,
                            Err(StewardError::Store(e)) => return Err(e.into()),
                            Err(e) => {
                                failed += 1;
                                last_error = Some(e.to_string());
                            }
                        }
                    }
                    rows.len()
                }
            };
            jobs::progress(&self.db, id, done, failed, last_error.as_deref()).await?;
            if (touched as u64) < step {
                return Ok(BulkStatus::Finished);
            }
        }
    }
}

/// Asks a job to stop before its next rows, with the admin's audit row; returns the job.
pub async fn cancel(db: &DatabaseConnection, id: Uuid, by: &Actor) -> Result<bulk_jobs::Model, BulkError> {
    access::require(by, Role::Admin)?;
    let txn = crate::store::begin_write(db).await?;
    let job = jobs::get(&txn, id).await?.ok_or(BulkError::NotFound(id))?;
    if !jobs::request_cancel(&txn, id).await? {
        return Err(BulkError::Ended(id));
    }
    // A runner records progress every few seconds; a job silent for longer lost its runner to
    // a restart (jobs do not resume), so it ends here: the filter still selects what is left.
    let silent = chrono::Utc::now() - job.updated_at;
    if silent > chrono::Duration::seconds(STALLED_SECS) {
        jobs::finish(
            &txn,
            id,
            BulkStatus::Cancelled,
            Some("its runner stopped (a restart)"),
        )
        .await?;
    }
    audit::append(
        &txn,
        by,
        Entry {
            action: "bulk.cancel",
            target_kind: "bulk_job",
            target_id: id.to_string(),
            before: Some(json!({ "done": job.done, "failed": job.failed, "total": job.total })),
            after: Some(json!({ "cancelled": true })),
            ..Entry::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(jobs::get(db, id).await?.unwrap_or(job))
}
