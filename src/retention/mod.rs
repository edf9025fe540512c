//! Retention: finished data is kept only as long as it serves, because client personal data
//! lives in it (raw event payloads above all). A prune never selects what is still needed:
//! events pending enrichment or dead, open conflicts, pending or failed write-backs, anything
//! newer than its cut-off, and nothing of the golden list (clients, records, provenance,
//! decisions). Dead events go only by an operator's explicit purge (`dead`), never by age.

pub mod dead;

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use entity::{conflicts, inbox_events, outbox};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait};
use tokio_util::sync::CancellationToken;

use crate::{
    clock::Clock,
    config::RetentionConfig,
    queue::QueueError,
    store::{
        conflicts as conflict_store, inbox, outbox as outbox_store,
        prune::{self, Change},
    },
};

/// Why a prune or a purge stopped; what it had done by then stays done.
#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    /// The store failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// The queue's dead-letter store could not be purged.
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// One kind of finished data, with its own setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Raw payloads of processed (or ignored) events; the rows stay.
    Payloads,
    /// Inbox rows of processed (or ignored) events.
    InboxRows,
    /// Resolved conflicts.
    ResolvedConflicts,
    /// Outbox rows already written to their source.
    SentOutboxRows,
}

impl Category {
    /// Every category, in the order a prune runs them (rows before payloads, so no payload
    /// is cleared from a row about to go).
    pub const ALL: [Category; 4] = [
        Category::InboxRows,
        Category::Payloads,
        Category::ResolvedConflicts,
        Category::SentOutboxRows,
    ];

    /// The stable name: the metric's `what` label and the log field.
    pub fn name(self) -> &'static str {
        match self {
            Category::Payloads => "payloads",
            Category::InboxRows => "inbox_rows",
            Category::ResolvedConflicts => "resolved_conflicts",
            Category::SentOutboxRows => "sent_outbox_rows",
        }
    }

    /// The setting that says how many days it is kept.
    pub fn key(self) -> &'static str {
        match self {
            Category::Payloads => "retention.payload_days",
            Category::InboxRows => "retention.inbox_row_days",
            Category::ResolvedConflicts => "retention.resolved_conflict_days",
            Category::SentOutboxRows => "retention.sent_outbox_days",
        }
    }

    /// Days kept under `config`; 0 is forever.
    pub fn days(self, config: &RetentionConfig) -> u32 {
        match self {
            Category::Payloads => config.payload_days,
            Category::InboxRows => config.inbox_row_days,
            Category::ResolvedConflicts => config.resolved_conflict_days,
            Category::SentOutboxRows => config.sent_outbox_days,
        }
    }
}

/// How many rows of each category a prune changed, or a dry run would.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Payloads cleared.
    pub payloads: u64,
    /// Inbox rows deleted.
    pub inbox_rows: u64,
    /// Resolved conflicts deleted.
    pub resolved_conflicts: u64,
    /// Sent outbox rows deleted.
    pub sent_outbox_rows: u64,
}

impl Pruned {
    /// The count of one category.
    pub fn of(&self, category: Category) -> u64 {
        match category {
            Category::Payloads => self.payloads,
            Category::InboxRows => self.inbox_rows,
            Category::ResolvedConflicts => self.resolved_conflicts,
            Category::SentOutboxRows => self.sent_outbox_rows,
        }
    }

    fn slot(&mut self, category: Category) -> &mut u64 {
        match category {
            Category::Payloads => &mut self.payloads,
            Category::InboxRows => &mut self.inbox_rows,
            Category::ResolvedConflicts => &mut self.resolved_conflicts,
            Category::SentOutboxRows => &mut self.sent_outbox_rows,
        }
    }
}

/// Prunes the store by the retention settings.
pub struct Pruner {
    db: DatabaseConnection,
    config: RetentionConfig,
    clock: Clock,
}

impl Pruner {
    /// A pruner of `db` by `config`, reading "now" from `clock`.
    pub fn new(db: DatabaseConnection, config: &RetentionConfig, clock: Clock) -> Self {
        Self {
            db,
            config: config.clone(),
            clock,
        }
    }

    /// Where a category's cut-off falls at `now`: older than this goes. `None` keeps it forever.
    pub fn cutoff(&self, category: Category, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match category.days(&self.config) {
            0 => None,
            days => TimeDelta::try_days(i64::from(days)).and_then(|age| now.checked_sub_signed(age)),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.clock.now_ms()).unwrap_or_else(Utc::now)
    }

    /// Removes (or, for payloads, clears) everything past its cut-off, a batch at a time, and
    /// counts it in `clientsync_pruned_total{what}`.
    pub async fn prune(&self) -> Result<Pruned, RetentionError> {
        let now = self.now();
        // The events report keeps counting what is deleted here (`reports::rollup`).
        if self.cutoff(Category::InboxRows, now).is_some() {
            crate::reports::rollup::roll_settled(&self.db, now).await?;
        }
        let mut pruned = Pruned::default();
        for category in Category::ALL {
            let n = self.apply(category, now, Mode::Prune).await?;
            crate::metrics::pruned(category.name(), n);
            *pruned.slot(category) = n;
        }
        Ok(pruned)
    }

    /// What `prune` would remove now, changing nothing (a dry run).
    pub async fn preview(&self) -> Result<Pruned, RetentionError> {
        let now = self.now();
        let mut pruned = Pruned::default();
        for category in Category::ALL {
            *pruned.slot(category) = self.apply(category, now, Mode::Count).await?;
        }
        Ok(pruned)
    }

    async fn apply(&self, category: Category, now: DateTime<Utc>, mode: Mode) -> Result<u64, DbErr> {
        let Some(cutoff) = self.cutoff(category, now) else {
            return Ok(0);
        };
        use inbox_events::Column as Inbox;
        match category {
            Category::Payloads => {
                let mut which = inbox::payloads_before(cutoff);
                // A row that goes anyway is not cleared first: counts stay what a reader expects.
                if let Some(rows) = self.cutoff(Category::InboxRows, now) {
                    which = which.add(Inbox::ReceivedAt.gte(rows));
                }
                let change = Change::Update(inbox::cleared_payload(now));
                self.change::<inbox_events::Entity>(&which, Inbox::Id, &change, mode)
                    .await
            }
            Category::InboxRows => {
                let which = inbox::finished_before(cutoff);
                self.change::<inbox_events::Entity>(&which, Inbox::Id, &Change::Delete, mode)
                    .await
            }
            Category::ResolvedConflicts => {
                let which = conflict_store::resolved_before(cutoff);
                self.change::<conflicts::Entity>(&which, conflicts::Column::Id, &Change::Delete, mode)
                    .await
            }
            Category::SentOutboxRows => {
                let which = outbox_store::sent_before(cutoff);
                self.change::<outbox::Entity>(&which, outbox::Column::Id, &Change::Delete, mode)
                    .await
            }
        }
    }

    /// Changes (or counts) the rows of `E` that `which` selects.
    async fn change<E>(
        &self,
        which: &Condition,
        id: E::Column,
        change: &Change<E::Column>,
        mode: Mode,
    ) -> Result<u64, DbErr>
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        match mode {
            Mode::Count => prune::count::<E>(&self.db, which).await,
            Mode::Prune => prune::in_batches::<E>(&self.db, which, id, change, self.config.batch_size).await,
        }
    }

    /// Prunes every `interval` until `shutdown` (the worker role's periodic task), one info line
    /// per run; a run that fails is logged and the next one tries again.
    pub async fn run(self, interval: Duration, shutdown: CancellationToken) {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = ticks.tick() => {
                    let started = Instant::now();
                    match crate::worker::guarded(self.prune()).await {
                        Ok(Ok(p)) => tracing::info!(
                            payloads = p.payloads,
                            inbox_rows = p.inbox_rows,
                            resolved_conflicts = p.resolved_conflicts,
                            sent_outbox_rows = p.sent_outbox_rows,
                            elapsed_ms = started.elapsed().as_millis() as u64,
                            "retention pruned"
                        ),
                        Ok(Err(e)) => tracing::warn!(error = %e, "retention prune failed; the next run tries again"),
                        Err(panicked) => tracing::error!(panic = panicked.message(), "retention prune panicked; the next run tries again"),
                    }
                }
            }
        }
    }
}

/// Whether `apply` changes rows or only counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Prune,
    Count,
}
