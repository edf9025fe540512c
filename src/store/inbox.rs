//! The inbox: every event by its dedup key, so a redelivered or re-sent event is a no-op.

use chrono::Utc;
use entity::inbox_events::{self, InboxStatus};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, sea_query::OnConflict};
use sha2::{Digest, Sha256};

use crate::domain::event::Envelope;

/// Whether this event may be applied now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// First time (or a dead event sent again): apply it in this transaction.
    Fresh,
    /// Already applied: do nothing.
    Duplicate,
}

fn row(
    env: &Envelope,
    status: InboxStatus,
    attempts: u32,
    error: Option<String>,
) -> inbox_events::ActiveModel {
    inbox_events::ActiveModel {
        id: Set(env.id.as_str().to_owned()),
        source: Set(env.source.as_str().to_owned()),
        event_type: Set(truncate(&env.event_type, 64)),
        object_id: Set(env.object_id.clone()),
        occurred_at_ms: Set(env.occurred_at_ms),
        received_at: Set(env.received_at),
        payload: Set(env.payload.clone()),
        status: Set(status),
        attempts: Set(i32::try_from(attempts).unwrap_or(i32::MAX)),
        last_error: Set(error),
        updated_at: Set(Utc::now()),
    }
}

/// Records the event with its final status; must be the transaction's first statement (a write,
/// so SQLite takes the write lock before any read snapshot can go stale).
pub async fn claim(
    db: &impl ConnectionTrait,
    env: &Envelope,
    status: InboxStatus,
    attempt: u32,
    note: Option<String>,
) -> Result<Claim, DbErr> {
    let inserted = inbox_events::Entity::insert(row(env, status, attempt, note.clone()))
        .on_conflict(
            OnConflict::column(inbox_events::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    match inbox_events::Entity::find_by_id(env.id.as_str().to_owned())
        .one(db)
        .await?
    {
        Some(existing) if existing.status == InboxStatus::Dead => {
            inbox_events::Entity::update(row(env, status, attempt, note))
                .exec(db)
                .await?;
            Ok(Claim::Fresh)
        }
        _ => Ok(Claim::Duplicate),
    }
}

/// Stores a dead event with its last error, so operators see it and can replay it.
pub async fn record_dead(
    db: &impl ConnectionTrait,
    env: &Envelope,
    attempts: u32,
    reason: &str,
) -> Result<(), DbErr> {
    upsert_dead(
        db,
        row(env, InboxStatus::Dead, attempts, Some(truncate(reason, 2000))),
    )
    .await
}

/// Stores a queue message that is not even an envelope (a poison body) under a content hash.
pub async fn record_undecodable(
    db: &impl ConnectionTrait,
    body: &[u8],
    attempts: u32,
    reason: &str,
) -> Result<(), DbErr> {
    let digest = hex::encode(Sha256::digest(body));
    let now = Utc::now();
    let model = inbox_events::ActiveModel {
        id: Set(format!("undecodable:{digest}")),
        // Not an envelope, so its source is not known.
        source: Set("unknown".into()),
        event_type: Set("undecodable".into()),
        object_id: Set(String::new()),
        occurred_at_ms: Set(0),
        received_at: Set(now),
        payload: Set(serde_json::Value::String(
            String::from_utf8_lossy(body).chars().take(10_000).collect(),
        )),
        status: Set(InboxStatus::Dead),
        attempts: Set(i32::try_from(attempts).unwrap_or(i32::MAX)),
        last_error: Set(Some(truncate(reason, 2000))),
        updated_at: Set(now),
    };
    upsert_dead(db, model).await
}

async fn upsert_dead(db: &impl ConnectionTrait, model: inbox_events::ActiveModel) -> Result<(), DbErr> {
    use inbox_events::Column as C;
    inbox_events::Entity::insert(model)
        .on_conflict(
            OnConflict::column(C::Id)
                .update_columns([C::Status, C::Attempts, C::LastError, C::UpdatedAt])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}
