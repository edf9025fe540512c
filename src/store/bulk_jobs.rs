//! Bulk jobs: created by an admin, advanced by their runner, cancelled by an admin.

use chrono::Utc;
use entity::bulk_jobs::{self, BulkStatus, Column as C};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::Expr,
};
use uuid::Uuid;

/// Creates a queued job for `total` rows.
pub async fn create(
    db: &impl ConnectionTrait,
    action: &str,
    request: serde_json::Value,
    total: u64,
    by: &str,
) -> Result<bulk_jobs::Model, DbErr> {
    let now = Utc::now();
    bulk_jobs::ActiveModel {
        id: Set(Uuid::now_v7()),
        action: Set(action.to_owned()),
        request: Set(request),
        status: Set(BulkStatus::Queued),
        total: Set(i64::try_from(total).unwrap_or(i64::MAX)),
        done: Set(0),
        failed: Set(0),
        cancelled: Set(false),
        last_error: Set(None),
        created_by: Set(by.to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        finished_at: Set(None),
    }
    .insert(db)
    .await
}

/// One job by id.
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<bulk_jobs::Model>, DbErr> {
    bulk_jobs::Entity::find_by_id(id).one(db).await
}

/// Records progress (and the status, while it runs).
pub async fn progress(
    db: &impl ConnectionTrait,
    id: Uuid,
    done: u64,
    failed: u64,
    last_error: Option<&str>,
) -> Result<(), DbErr> {
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let mut update = bulk_jobs::Entity::update_many()
        .col_expr(C::Status, Expr::value(BulkStatus::Running))
        .col_expr(C::Done, Expr::value(count(done)))
        .col_expr(C::Failed, Expr::value(count(failed)))
        .col_expr(C::UpdatedAt, Expr::value(Utc::now()));
    if let Some(error) = last_error {
        update = update.col_expr(C::LastError, Expr::value(error.to_owned()));
    }
    update
        .filter(C::Id.eq(id))
        .filter(C::Status.is_in([BulkStatus::Queued, BulkStatus::Running]))
        .exec(db)
        .await
        .map(drop)
}

/// Ends a job with `status`.
pub async fn finish(
    db: &impl ConnectionTrait,
    id: Uuid,
    status: BulkStatus,
    last_error: Option<&str>,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let mut update = bulk_jobs::Entity::update_many()
        .col_expr(C::Status, Expr::value(status))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .col_expr(C::FinishedAt, Expr::value(now));
    if let Some(error) = last_error {
        update = update.col_expr(C::LastError, Expr::value(error.to_owned()));
    }
    update.filter(C::Id.eq(id)).exec(db).await.map(drop)
}

/// Asks a running or queued job to stop; returns whether it was still going.
pub async fn request_cancel(db: &impl ConnectionTrait, id: Uuid) -> Result<bool, DbErr> {
    let r = bulk_jobs::Entity::update_many()
        .col_expr(C::Cancelled, Expr::value(true))
        .col_expr(C::UpdatedAt, Expr::value(Utc::now()))
        .filter(C::Id.eq(id))
        .filter(C::Status.is_in([BulkStatus::Queued, BulkStatus::Running]))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Whether an admin asked the job to stop.
pub async fn cancel_requested(db: &impl ConnectionTrait, id: Uuid) -> Result<bool, DbErr> {
    Ok(get(db, id).await?.is_some_and(|j| j.cancelled))
}
