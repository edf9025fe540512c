//! Planned write-backs, durable: a row per (source, record, field) value to write, so a write
//! a source could not take is retried later, one it refused stays visible with its reason, and
//! a restart loses nothing. At most one row per field is pending (`pending_key`, unique): a newer
//! plan replaces its value, so a backlog never writes a stale one. A row carries a client's
//! value or a project's (`subject`); the drainer places each by its subject.

use chrono::{DateTime, Utc};
use entity::outbox::{self, Column as C, Entity as Outbox, OutboxStatus, OutboxSubject};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, OnConflict},
};
use uuid::Uuid;

use crate::{
    domain::{
        ids::{ClientId, ProjectId},
        source::Source,
    },
    reconcile::{Field, project::ProjectField},
};

/// One value to write to one field of one source record, for one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedWrite<'a> {
    /// The golden client the value is from.
    pub client: Uuid,
    /// The system written to.
    pub source: Source,
    /// The record (`contact:…`, `task:…`).
    pub external_id: &'a str,
    /// `contact`, `company` or `task`.
    pub kind: &'a str,
    /// Which field.
    pub field: Field,
    /// The golden value.
    pub value: &'a str,
}

/// One value to write to one field of a project's deal or task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedProjectWrite<'a> {
    /// The project the value is from.
    pub project: ProjectId,
    /// The project's client, when known.
    pub client: Option<ClientId>,
    /// The system written to.
    pub source: Source,
    /// The record (`deal:…`, `task:…`).
    pub external_id: &'a str,
    /// `deal` or `task`.
    pub kind: &'a str,
    /// Which field.
    pub field: ProjectField,
    /// The golden value, as stored.
    pub value: &'a str,
}

/// A planned write whatever its subject: the row's own columns.
struct Planned<'a> {
    subject: OutboxSubject,
    client: Option<Uuid>,
    project: Option<Uuid>,
    source: Source,
    external_id: &'a str,
    kind: &'a str,
    field: &'a str,
    value: &'a str,
}

/// The unique key a pending row holds, so a field has at most one pending write (a project's
/// fields apart from a client's, whatever the record).
fn pending_key(subject: OutboxSubject, source: &str, external_id: &str, field: &str) -> String {
    match subject {
        OutboxSubject::Client => format!("{source}|{external_id}|{field}"),
        OutboxSubject::Project => format!("project|{source}|{external_id}|{field}"),
    }
}

/// Puts a write in the outbox, due now, and returns its row's id. A pending row for the same
/// field takes the new value and starts its attempts over (keeping its schedule, so a row being
/// sent is not sent twice at once); the same value again changes nothing.
pub async fn plan(
    db: &impl ConnectionTrait,
    write: &PlannedWrite<'_>,
    now: DateTime<Utc>,
) -> Result<Uuid, DbErr> {
    let planned = Planned {
        subject: OutboxSubject::Client,
        client: Some(write.client),
        project: None,
        source: write.source,
        external_id: write.external_id,
        kind: write.kind,
        field: write.field.as_str(),
        value: write.value,
    };
    plan_row(db, &planned, now).await
}

/// Puts a project's write in the outbox, as `plan` does a client's.
pub async fn plan_project(
    db: &impl ConnectionTrait,
    write: &PlannedProjectWrite<'_>,
    now: DateTime<Utc>,
) -> Result<Uuid, DbErr> {
    let planned = Planned {
        subject: OutboxSubject::Project,
        client: write.client.map(|c| c.as_uuid()),
        project: Some(write.project.as_uuid()),
        source: write.source,
        external_id: write.external_id,
        kind: write.kind,
        field: write.field.as_str(),
        value: write.value,
    };
    plan_row(db, &planned, now).await
}

async fn plan_row(db: &impl ConnectionTrait, write: &Planned<'_>, now: DateTime<Utc>) -> Result<Uuid, DbErr> {
    let key = pending_key(
        write.subject,
        write.source.as_str(),
        write.external_id,
        write.field,
    );
    // Two rounds at most: a concurrent planner may insert between our read and our insert.
    for _ in 0..2 {
        if let Some(row) = Outbox::find()
            .filter(C::PendingKey.eq(key.as_str()))
            .one(db)
            .await?
        {
            if row.value != write.value {
                Outbox::update_many()
                    .col_expr(C::Value, Expr::value(write.value))
                    .col_expr(C::ClientId, Expr::value(write.client))
                    .col_expr(C::ProjectId, Expr::value(write.project))
                    .col_expr(C::Attempts, Expr::value(0))
                    .col_expr(C::LastError, Expr::value(Option::<String>::None))
                    .col_expr(C::UpdatedAt, Expr::value(now))
                    .filter(C::Id.eq(row.id))
                    .exec(db)
                    .await?;
            }
            return Ok(row.id);
        }
        let id = Uuid::now_v7();
        let row = outbox::ActiveModel {
            id: Set(id),
            subject: Set(write.subject),
            client_id: Set(write.client),
            project_id: Set(write.project),
            source: Set(write.source.as_str().to_owned()),
            external_id: Set(write.external_id.to_owned()),
            kind: Set(write.kind.to_owned()),
            field: Set(write.field.to_owned()),
            value: Set(write.value.to_owned()),
            status: Set(OutboxStatus::Pending),
            pending_key: Set(Some(key.clone())),
            attempts: Set(0),
            next_attempt_at: Set(now),
            last_error: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let inserted = Outbox::insert(row)
            .on_conflict(OnConflict::column(C::PendingKey).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
        if inserted == 1 {
            return Ok(id);
        }
    }
    Err(DbErr::Custom(format!(
        "outbox row for {key} kept changing under us"
    )))
}

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
