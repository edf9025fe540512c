//! The append-only audit log: one row per change by an operator or the CLI, written in the
//! same transaction as the change, so a change without its row cannot exist.

use chrono::{DateTime, Utc};
use entity::audit_log;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::Value;
use uuid::Uuid;

use super::StoreError;
use crate::domain::Actor;

/// One change, as the service layer describes it.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// What was done, e.g. `conflict.resolve`, `operator.add`.
    pub action: &'static str,
    /// The kind of thing changed: `conflict`, `client`, `record`, `operator`, `event`, `outbox`.
    pub target_kind: &'static str,
    /// Its id.
    pub target_id: String,
    /// The state before, enough to undo.
    pub before: Option<Value>,
    /// The state after.
    pub after: Option<Value>,
    /// Why, as the actor said.
    pub reason: Option<String>,
    /// The audit row this change reverses, for undo.
    pub undoes: Option<Uuid>,
}

/// Appends one row for a change by `actor`; returns its id.
pub async fn append(db: &impl ConnectionTrait, actor: &Actor, entry: Entry) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    audit_log::ActiveModel {
        id: Set(id),
        at: Set(Utc::now()),
        actor: Set(actor.name().to_owned()),
        actor_id: Set(actor.id()),
        via: Set(actor.via().as_str().to_owned()),
        action: Set(entry.action.to_owned()),
        target_kind: Set(entry.target_kind.to_owned()),
        target_id: Set(entry.target_id),
        before: Set(entry.before),
        after: Set(entry.after),
        reason: Set(entry.reason),
        undoes: Set(entry.undoes),
    }
    .insert(db)
    .await?;
    Ok(id)
}

/// Which audit rows to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this actor's.
    pub actor: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// Only changes to this kind of thing.
    pub target_kind: Option<String>,
    /// Only changes to this one thing (with `target_kind`).
    pub target_id: Option<String>,
    /// Not before this time.
    pub since: Option<DateTime<Utc>>,
    /// Before this time.
    pub until: Option<DateTime<Utc>>,
    /// Keyset paging: rows older than this id (ids are time-ordered UUIDv7).
    pub before_id: Option<Uuid>,
    /// Page size.
    pub limit: u64,
}

/// One page of the log, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
) -> Result<Vec<audit_log::Model>, StoreError> {
    let mut query = audit_log::Entity::find();
    if let Some(actor) = &filter.actor {
        query = query.filter(audit_log::Column::Actor.eq(actor.as_str()));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_log::Column::Action.eq(action.as_str()));
    }
    if let Some(kind) = &filter.target_kind {
        query = query.filter(audit_log::Column::TargetKind.eq(kind.as_str()));
    }
    if let Some(id) = &filter.target_id {
        query = query.filter(audit_log::Column::TargetId.eq(id.as_str()));
    }
    if let Some(since) = filter.since {
        query = query.filter(audit_log::Column::At.gte(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(audit_log::Column::At.lt(until));
    }
    if let Some(before) = filter.before_id {
        query = query.filter(audit_log::Column::Id.lt(before));
    }
    Ok(query
        .order_by_desc(audit_log::Column::Id)
        .limit(filter.limit)
        .all(db)
        .await?)
}

/// One row by id.
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<audit_log::Model>, StoreError> {
    Ok(audit_log::Entity::find_by_id(id).one(db).await?)
}

/// The row that undid `id`, if any: an action is undone at most once.
pub async fn undo_of(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<audit_log::Model>, StoreError> {
    Ok(audit_log::Entity::find()
        .filter(audit_log::Column::Undoes.eq(id))
        .one(db)
        .await?)
}
