//! Planned write-backs, durable: a row per (source, record, field) value to write, so a write
//! a source could not take is retried later, one it refused stays visible with its reason, and
//! a restart loses nothing. At most one row per field is pending (`pending_key`, unique): a newer
//! plan replaces its value, so a backlog never writes a stale one (`plan`). A row carries a
//! client's value or a project's (`subject`); the drainer places each by its subject.

mod plan;

use chrono::{DateTime, Utc};
use entity::outbox::{self, Column as C, Entity as Outbox, OutboxStatus, OutboxSubject};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};
use uuid::Uuid;

use plan::pending_key;
pub use plan::{PlannedProjectWrite, PlannedWrite, plan, plan_project};

/// Pending rows due at `now`, oldest due first.
pub async fn due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<outbox::Model>, DbErr> {
    Outbox::find()
        .filter(C::Status.eq(OutboxStatus::Pending))
        .filter(C::NextAttemptAt.lte(now))
        .order_by_asc(C::NextAttemptAt)
        .order_by_asc(C::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The given rows that are pending and due at `now`.
pub async fn due_among(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Vec<outbox::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Outbox::find()
        .filter(C::Id.is_in(ids.iter().copied()))
        .filter(C::Status.eq(OutboxStatus::Pending))
        .filter(C::NextAttemptAt.lte(now))
        .order_by_asc(C::Id)
        .all(db)
        .await
}

/// Takes a due row for one sender until `until`: true when this caller got it. A drainer that
/// dies mid-send leaves the row pending, due again once `until` passes.
pub async fn claim(
    db: &impl ConnectionTrait,
    row: &outbox::Model,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let claimed = Outbox::update_many()
        .col_expr(C::NextAttemptAt, Expr::value(until))
        .filter(C::Id.eq(row.id))
        .filter(C::Status.eq(OutboxStatus::Pending))
        .filter(C::NextAttemptAt.eq(row.next_attempt_at))
        .exec(db)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// Marks a row sent, unless a newer value replaced the one sent meanwhile (then it stays pending
/// and the new value goes out next); returns whether it was marked.
pub async fn mark_sent(
    db: &impl ConnectionTrait,
    row: &outbox::Model,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let marked = Outbox::update_many()
        .col_expr(C::Status, Expr::value(OutboxStatus::Sent))
        .col_expr(C::PendingKey, Expr::value(Option::<String>::None))
        .col_expr(C::Attempts, Expr::value(row.attempts.saturating_add(1)))
        .col_expr(C::LastError, Expr::value(Option::<String>::None))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::Id.eq(row.id))
        .filter(C::Status.eq(OutboxStatus::Pending))
        .filter(C::Value.eq(row.value.as_str()))
        .exec(db)
        .await?;
    Ok(marked.rows_affected == 1)
}

/// Records a failed attempt and when to try again (unless a newer value replaced the one tried).
pub async fn schedule_retry(
    db: &impl ConnectionTrait,
    row: &outbox::Model,
    next: DateTime<Utc>,
    error: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    Outbox::update_many()
        .col_expr(C::Attempts, Expr::value(row.attempts.saturating_add(1)))
        .col_expr(C::NextAttemptAt, Expr::value(next))
        .col_expr(C::LastError, Expr::value(error))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::Id.eq(row.id))
        .filter(C::Status.eq(OutboxStatus::Pending))
        .filter(C::Value.eq(row.value.as_str()))
        .exec(db)
        .await
        .map(drop)
}

/// Gives up on a row with its reason (unless a newer value replaced the one tried).
pub async fn mark_failed(
    db: &impl ConnectionTrait,
    row: &outbox::Model,
    error: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    Outbox::update_many()
        .col_expr(C::Status, Expr::value(OutboxStatus::Failed))
        .col_expr(C::PendingKey, Expr::value(Option::<String>::None))
        .col_expr(C::Attempts, Expr::value(row.attempts.saturating_add(1)))
        .col_expr(C::LastError, Expr::value(error))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::Id.eq(row.id))
        .filter(C::Status.eq(OutboxStatus::Pending))
        .filter(C::Value.eq(row.value.as_str()))
        .exec(db)
        .await
        .map(drop)
}

/// Drops a pending row whose write has no place at the source (no such custom field on the
/// task): there is nothing to write, now or later.
pub async fn discard(db: &impl ConnectionTrait, row: &outbox::Model) -> Result<(), DbErr> {
    Outbox::delete_many()
        .filter(C::Id.eq(row.id))
        .filter(C::Status.eq(OutboxStatus::Pending))
        .filter(C::Value.eq(row.value.as_str()))
        .exec(db)
        .await
        .map(drop)
}

/// One page of rows, optionally of one status, in creation order (ids are UUID v7): pass the
/// last id of a page as `after` for the next.
pub async fn list(
    db: &impl ConnectionTrait,
    status: Option<OutboxStatus>,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<outbox::Model>, DbErr> {
    let mut query = Outbox::find();
    if let Some(status) = status {
        query = query.filter(C::Status.eq(status));
    }
    if let Some(after) = after {
        query = query.filter(C::Id.gt(after));
    }
    query.order_by_asc(C::Id).limit(limit).all(db).await
}

/// What an operator's retry of a row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retried {
    /// Pending again, attempts reset, due now.
    Requeued,
    /// A newer write of the same field is already pending: it carries the current value, so this
    /// one stays failed.
    Superseded,
    /// No failed row by that id.
    NotFailed,
}

/// Puts a failed row back to pending with its attempts reset, due now, once its cause is fixed.
pub async fn retry(db: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<Retried, DbErr> {
    let Some(row) = Outbox::find_by_id(id).one(db).await? else {
        return Ok(Retried::NotFailed);
    };
    if row.status != OutboxStatus::Failed {
        return Ok(Retried::NotFailed);
    }
    let key = pending_key(row.subject, &row.source, &row.external_id, &row.field);
    if Outbox::find()
        .filter(C::PendingKey.eq(key.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Ok(Retried::Superseded);
    }
    let requeued = Outbox::update_many()
        .col_expr(C::Status, Expr::value(OutboxStatus::Pending))
        .col_expr(C::PendingKey, Expr::value(key))
        .col_expr(C::Attempts, Expr::value(0))
        .col_expr(C::NextAttemptAt, Expr::value(now))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::Id.eq(id))
        .filter(C::Status.eq(OutboxStatus::Failed))
        .exec(db)
        .await;
    match requeued {
        Ok(r) if r.rows_affected == 1 => Ok(Retried::Requeued),
        Ok(_) => Ok(Retried::NotFailed),
        // A planner inserted a pending row for the field between our check and our update.
        Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
            Ok(Retried::Superseded)
        }
        Err(e) => Err(e),
    }
}

/// How many rows are pending and how many failed, for the scrape-time gauges.
pub async fn backlog(db: &impl ConnectionTrait) -> Result<(u64, u64), DbErr> {
    let count = |status| Outbox::find().filter(C::Status.eq(status)).count(db);
    Ok((
        count(OutboxStatus::Pending).await?,
        count(OutboxStatus::Failed).await?,
    ))
}

/// Rows written to their source before `cutoff` (a sent row's `updated_at` is when it was
/// sent). Pending and failed rows are never selected: they still have work or a reason to show.
pub fn sent_before(cutoff: DateTime<Utc>) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(C::Status.eq(OutboxStatus::Sent))
        .add(C::UpdatedAt.lt(cutoff))
}

/// Which write-backs to read.
#[derive(Debug, Clone, Default)]
pub struct OutboxFilter {
    /// Only rows in this state.
    pub status: Option<OutboxStatus>,
    /// Only writes to this system.
    pub source: Option<crate::domain::source::Source>,
    /// Only writes of a client's values, or only of a project's.
    pub subject: Option<OutboxSubject>,
    /// Only writes for this client.
    pub client: Option<Uuid>,
    /// Keyset paging: rows after this id.
    pub after: Option<Uuid>,
    /// Page size.
    pub limit: u64,
}

impl OutboxFilter {
    fn condition(&self) -> sea_orm::Condition {
        let mut all = sea_orm::Condition::all();
        if let Some(status) = self.status {
            all = all.add(C::Status.eq(status));
        }
        if let Some(source) = self.source {
            all = all.add(C::Source.eq(source.as_str()));
        }
        if let Some(subject) = self.subject {
            all = all.add(C::Subject.eq(subject));
        }
        if let Some(client) = self.client {
            all = all.add(C::ClientId.eq(client));
        }
        all
    }
}

/// One page of rows matching `filter`, in creation order.
pub async fn page(db: &impl ConnectionTrait, filter: &OutboxFilter) -> Result<Vec<outbox::Model>, DbErr> {
    let mut query = Outbox::find().filter(filter.condition());
    if let Some(after) = filter.after {
        query = query.filter(C::Id.gt(after));
    }
    query.order_by_asc(C::Id).limit(filter.limit).all(db).await
}

/// How many rows match `filter` (paging aside).
pub async fn count(db: &impl ConnectionTrait, filter: &OutboxFilter) -> Result<u64, DbErr> {
    Outbox::find().filter(filter.condition()).count(db).await
}
