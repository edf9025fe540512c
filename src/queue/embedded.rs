//! The embedded queue: a table in the store itself, for one process with no broker.
//!
//! Durable by construction (an event is committed before the receiver answers). A worker claims
//! a row by writing a lease on it with a conditional update, which is portable across SQLite and
//! Postgres; a crashed worker's lease expires and the row is delivered again (counted as an attempt).

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::Utc;
use entity::queue_messages::{self, MessageStatus};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType},
};
use tokio::sync::Notify;
use uuid::Uuid;

use super::{Delivery, DeliveryHandle, Doomed, EventQueue, QueueError, RetryOutcome, RetryPolicy};

mod file;
use crate::{clock::Clock, store::turns::WriteTurns};
pub use file::{adopt, own_file};

/// How often a waiting receiver re-checks the table when no in-process publish woke it.
const POLL: Duration = Duration::from_millis(500);
/// Dead rows one purge statement looks at (bodies are read to decide, so pages stay small).
const PURGE_PAGE: u64 = 500;

/// Settings of the embedded backend.
#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    /// Name of this queue within the table (several deployments may share a database).
    pub queue: String,
    /// How long a claimed message stays invisible before another worker may take it.
    pub lease: Duration,
    /// Retry and dead-letter policy.
    pub retry: RetryPolicy,
    /// Where the database is (`host:port` or the SQLite file), named in errors.
    pub endpoint: String,
}

/// The database-backed queue.
#[derive(Clone)]
pub struct EmbeddedQueue {
    db: DatabaseConnection,
    config: EmbeddedConfig,
    clock: Clock,
    published: Arc<Notify>,
    /// Writers of the same SQLite file take turns (`store::turns`).
    turns: WriteTurns,
}

impl EmbeddedQueue {
    /// A queue over the store's own connection pool.
    pub fn new(db: DatabaseConnection, config: EmbeddedConfig, clock: Clock) -> Self {
        Self {
            db,
            config,
            clock,
            published: Arc::new(Notify::new()),
            turns: WriteTurns::none(),
        }
    }

    /// The same queue writing in `turns` with the other writers of its SQLite file, so an
    /// enqueue never waits behind more than the writes queued before it.
    pub fn with_write_turns(mut self, turns: WriteTurns) -> Self {
        self.turns = turns;
        self
    }

    /// A failure of the database the queue lives in, naming where it is.
    fn failed(&self, source: sea_orm::DbErr) -> QueueError {
        QueueError::Store {
            endpoint: self.config.endpoint.clone(),
            source,
        }
    }

    /// Claims up to `max` ready messages in one statement (under one lease), oldest first; empty
    /// when none is ready now. On Postgres, rows another consumer is claiming are skipped rather
    /// than waited for, so concurrent consumers take different rows.
    async fn claim(&self, max: usize) -> Result<Vec<Delivery>, QueueError> {
        use queue_messages::Column as C;
        let now = self.clock.now_ms();
        let free = || {
            Condition::any()
                .add(C::LeaseUntilMs.is_null())
                .add(C::LeaseUntilMs.lt(now))
        };
        let ready = queue_messages::Entity::find()
            .select_only()
            .column(C::Id)
            .filter(C::Queue.eq(&self.config.queue))
            .filter(C::Status.eq(MessageStatus::Ready))
            .filter(C::AvailableAtMs.lte(now))
            .filter(free())
            .order_by_asc(C::Id)
            .limit(max as u64)
            // SQLite has no row locks and ignores this; it has one writer anyway.
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .into_query();
        let lease = Uuid::new_v4();
        let lease_ms = i64::try_from(self.config.lease.as_millis()).unwrap_or(i64::MAX);
        let mut rows = {
            let _turn = self.turns.take().await;
            queue_messages::Entity::update_many()
                .col_expr(C::LeaseId, Expr::value(lease))
                .col_expr(C::LeaseUntilMs, Expr::value(now.saturating_add(lease_ms)))
                .col_expr(C::Attempt, Expr::col(C::Attempt).add(1))
                .filter(C::Id.in_subquery(ready))
                .filter(C::Status.eq(MessageStatus::Ready))
                .filter(free())
                .exec_with_returning(&self.db)
                .await
                .map_err(|e| self.failed(e))?
        };
        rows.sort_by_key(|row| row.id);
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let attempt = u32::try_from(row.attempt).unwrap_or(u32::MAX);
            let delivery = Delivery {
                body: row.body,
                attempt,
                handle: DeliveryHandle::Embedded { id: row.id, lease },
            };
            if attempt > self.config.retry.max_attempts {
                // Its worker kept dying mid-flight (expired leases): stop handing it out.
                self.dead_letter(delivery, "lease expired on every attempt")
                    .await?;
                continue;
            }
            claimed.push(delivery);
        }
        Ok(claimed)
    }

    /// Updates the row a delivery holds, only while its lease is still ours.
    async fn settle_row(
        &self,
        delivery: &Delivery,
        update: sea_orm::UpdateMany<queue_messages::Entity>,
    ) -> Result<(), QueueError> {
        let DeliveryHandle::Embedded { id, lease } = delivery.handle else {
            return Err(QueueError::Unavailable(
                "delivery is not from the embedded queue".into(),
            ));
        };
        let _turn = self.turns.take().await;
        let result = update
            .filter(queue_messages::Column::Id.eq(id))
            .filter(queue_messages::Column::LeaseId.eq(lease))
            .exec(&self.db)
            .await
            .map_err(|e| self.failed(e))?;
        if result.rows_affected == 0 {
            tracing::warn!(
                id,
                "lease lost before settling; another worker will handle the message"
            );
        }
        Ok(())
    }
}

#[async_trait]
impl EventQueue for EmbeddedQueue {
    async fn publish(&self, bodies: &[Vec<u8>]) -> Result<(), QueueError> {
        if bodies.is_empty() {
            return Ok(());
        }
        let now = self.clock.now_ms();
        let rows = bodies.iter().map(|body| queue_messages::ActiveModel {
            queue: Set(self.config.queue.clone()),
            body: Set(body.clone()),
            attempt: Set(0),
            status: Set(MessageStatus::Ready),
            available_at_ms: Set(now),
            lease_id: Set(None),
            lease_until_ms: Set(None),
            last_error: Set(None),
            created_at: Set(Utc::now()),
            ..Default::default()
        });
        {
            // One statement is its own transaction: all the bodies are stored, or none.
            let _turn = self.turns.take().await;
            queue_messages::Entity::insert_many(rows)
                .exec_without_returning(&self.db)
                .await
                .map_err(|e| self.failed(e))?;
        }
        self.published.notify_waiters();
        Ok(())
    }

    async fn receive(&self, wait: Duration) -> Result<Option<Delivery>, QueueError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.published.notified();
            if let Some(delivery) = self.claim(1).await?.pop() {
                return Ok(Some(delivery));
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let nap = POLL.min(deadline - now);
            tokio::select! {
                () = notified => {}
                () = tokio::time::sleep(nap) => {}
            }
        }
    }

    async fn ack(&self, delivery: Delivery) -> Result<(), QueueError> {
        let DeliveryHandle::Embedded { id, lease } = delivery.handle else {
            return Err(QueueError::Unavailable(
                "delivery is not from the embedded queue".into(),
            ));
        };
        let _turn = self.turns.take().await;
        queue_messages::Entity::delete_many()
            .filter(queue_messages::Column::Id.eq(id))
            .filter(queue_messages::Column::LeaseId.eq(lease))
            .exec(&self.db)
            .await
            .map_err(|e| self.failed(e))?;
        Ok(())
    }

    async fn receive_ready(&self, max: usize) -> Result<Vec<Delivery>, QueueError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        self.claim(max).await
    }

    async fn ack_all(&self, deliveries: Vec<Delivery>) -> Result<(), QueueError> {
        let mut ids = Vec::with_capacity(deliveries.len());
        let mut leases = Vec::with_capacity(deliveries.len());
        for delivery in &deliveries {
            let DeliveryHandle::Embedded { id, lease } = delivery.handle else {
                return Err(QueueError::Unavailable(
                    "delivery is not from the embedded queue".into(),
                ));
            };
            ids.push(id);
            if !leases.contains(&lease) {
                leases.push(lease);
            }
        }
        if ids.is_empty() {
            return Ok(());
        }
        // A lease is one claim's: a row re-leased since carries another, and stays.
        let _turn = self.turns.take().await;
        queue_messages::Entity::delete_many()
            .filter(queue_messages::Column::Id.is_in(ids))
            .filter(queue_messages::Column::LeaseId.is_in(leases))
            .exec(&self.db)
            .await
            .map_err(|e| self.failed(e))?;
        Ok(())
    }

    async fn retry(&self, delivery: Delivery, reason: &str) -> Result<RetryOutcome, QueueError> {
        if delivery.attempt >= self.config.retry.max_attempts {
            self.dead_letter(delivery, reason).await?;
            return Ok(RetryOutcome::DeadLettered);
        }
        use queue_messages::Column as C;
        let delay = self.config.retry.delay_for(delivery.attempt + 1);
        let at = self
            .clock
            .now_ms()
            .saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
        let update = queue_messages::Entity::update_many()
            .col_expr(C::AvailableAtMs, Expr::value(at))
            .col_expr(C::LeaseId, Expr::value(Option::<Uuid>::None))
            .col_expr(C::LeaseUntilMs, Expr::value(Option::<i64>::None))
            .col_expr(C::LastError, Expr::value(truncate(reason)));
        self.settle_row(&delivery, update).await?;
        Ok(RetryOutcome::Scheduled(delay))
    }

    async fn dead_letter(&self, delivery: Delivery, reason: &str) -> Result<(), QueueError> {
        use queue_messages::Column as C;
        let update = queue_messages::Entity::update_many()
            .col_expr(C::Status, Expr::value(MessageStatus::Dead))
            .col_expr(C::LeaseUntilMs, Expr::value(Option::<i64>::None))
            .col_expr(C::LastError, Expr::value(truncate(reason)));
        self.settle_row(&delivery, update).await
    }

    async fn replay_dead(&self, limit: usize) -> Result<u64, QueueError> {
        use queue_messages::Column as C;
        let ids: Vec<i64> = queue_messages::Entity::find()
            .select_only()
            .column(C::Id)
            .filter(C::Queue.eq(&self.config.queue))
            .filter(C::Status.eq(MessageStatus::Dead))
            .order_by_asc(C::Id)
            .limit(limit as u64)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(|e| self.failed(e))?;
        if ids.is_empty() {
            return Ok(0);
        }
        // The dead row becomes ready again in place: one statement, nothing to lose between.
        let replayed = queue_messages::Entity::update_many()
            .col_expr(C::Status, Expr::value(MessageStatus::Ready))
            .col_expr(C::Attempt, Expr::value(0))
            .col_expr(C::AvailableAtMs, Expr::value(self.clock.now_ms()))
            .col_expr(C::LeaseId, Expr::value(Option::<Uuid>::None))
            .col_expr(C::LeaseUntilMs, Expr::value(Option::<i64>::None))
            .filter(C::Id.is_in(ids))
            .filter(C::Status.eq(MessageStatus::Dead))
            .exec(&self.db)
            .await
            .map_err(|e| self.failed(e))?;
        self.published.notify_waiters();
        Ok(replayed.rows_affected)
    }

    async fn purge_dead(&self, doomed: &Doomed<'_>) -> Result<u64, QueueError> {
        use queue_messages::Column as C;
        let mut purged = 0;
        let mut after = i64::MIN;
        loop {
            let page: Vec<(i64, Vec<u8>)> = queue_messages::Entity::find()
                .select_only()
                .column(C::Id)
                .column(C::Body)
                .filter(C::Queue.eq(&self.config.queue))
                .filter(C::Status.eq(MessageStatus::Dead))
                .filter(C::Id.gt(after))
                .order_by_asc(C::Id)
                .limit(PURGE_PAGE)
                .into_tuple()
                .all(&self.db)
                .await
                .map_err(|e| self.failed(e))?;
            let Some((last, _)) = page.last() else {
                return Ok(purged);
            };
            after = *last;
            let ids: Vec<i64> = page
                .iter()
                .filter(|(_, body)| doomed(body))
                .map(|(id, _)| *id)
                .collect();
            if !ids.is_empty() {
                purged += queue_messages::Entity::delete_many()
                    .filter(C::Id.is_in(ids))
                    .filter(C::Status.eq(MessageStatus::Dead))
                    .exec(&self.db)
                    .await
                    .map_err(|e| self.failed(e))?
                    .rows_affected;
            }
            if (page.len() as u64) < PURGE_PAGE {
                return Ok(purged);
            }
        }
    }

    async fn depth(&self) -> Result<Option<u64>, QueueError> {
        let n = queue_messages::Entity::find()
            .filter(queue_messages::Column::Queue.eq(&self.config.queue))
            .filter(queue_messages::Column::Status.eq(MessageStatus::Ready))
            .count(&self.db)
            .await
            .map_err(|e| self.failed(e))?;
        Ok(Some(n))
    }

    async fn oldest_waiting(&self) -> Result<Option<chrono::DateTime<Utc>>, QueueError> {
        use queue_messages::Column as C;
        queue_messages::Entity::find()
            .select_only()
            .column(C::CreatedAt)
            .filter(C::Queue.eq(&self.config.queue))
            .filter(C::Status.eq(MessageStatus::Ready))
            .order_by_asc(C::Id)
            .limit(1)
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(|e| self.failed(e))
    }

    async fn ping(&self) -> Result<(), QueueError> {
        self.db.ping().await.map_err(|e| self.failed(e))
    }
}

fn truncate(reason: &str) -> String {
    reason.chars().take(2000).collect()
}
