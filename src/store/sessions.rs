//! Console session rows: looked up by the hash of the cookie's secret, never by the secret.

use chrono::{DateTime, Utc};
use entity::{console_sessions, operators};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter,
};
use uuid::Uuid;

use super::StoreError;

/// Stores a new session.
pub async fn insert(
    db: &impl ConnectionTrait,
    id_hash: &str,
    operator: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    console_sessions::ActiveModel {
        id_hash: Set(id_hash.to_owned()),
        operator_id: Set(operator),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(expires_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A session that has not expired by `now`, with its operator.
pub async fn live(
    db: &impl ConnectionTrait,
    id_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(console_sessions::Model, operators::Model)>, StoreError> {
    let found = console_sessions::Entity::find_by_id(id_hash.to_owned())
        .filter(console_sessions::Column::ExpiresAt.gt(now))
        .find_also_related(operators::Entity)
        .one(db)
        .await?;
    Ok(found.and_then(|(session, operator)| operator.map(|o| (session, o))))
}

/// Moves a session's idle deadline on.
pub async fn touch(
    db: &impl ConnectionTrait,
    session: console_sessions::Model,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut row = session.into_active_model();
    row.last_seen_at = Set(now);
    row.expires_at = Set(expires_at);
    row.update(db).await?;
    Ok(())
}

/// Deletes one session; whether it existed.
pub async fn delete(db: &impl ConnectionTrait, id_hash: &str) -> Result<bool, StoreError> {
    let gone = console_sessions::Entity::delete_by_id(id_hash.to_owned())
        .exec(db)
        .await?;
    Ok(gone.rows_affected > 0)
}

/// Deletes every session of an operator (revoked, say); how many went.
pub async fn delete_for_operator(db: &impl ConnectionTrait, operator: Uuid) -> Result<u64, StoreError> {
    let gone = console_sessions::Entity::delete_many()
        .filter(console_sessions::Column::OperatorId.eq(operator))
        .exec(db)
        .await?;
    Ok(gone.rows_affected)
}

/// Deletes sessions past their expiry; how many went.
pub async fn delete_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let gone = console_sessions::Entity::delete_many()
        .filter(console_sessions::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    Ok(gone.rows_affected)
}
