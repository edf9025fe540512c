//! Dead events: what failed for good, kept in the inbox with its payload and last error, and
//! replayed by an operator once the cause is fixed. A replay goes back through the queue like
//! any event, so the worker applies it with its usual retries, and the inbox's dedupe makes a
//! second copy of one event (a replay racing the dead-letter store's own) a no-op.

use std::collections::HashSet;

use entity::{inbox_events, operators::Role};
use sea_orm::{DatabaseConnection, DbErr};
use serde_json::json;

use crate::{
    access::{self, AccessError},
    domain::Actor,
    queue::{EventQueue, QueueError},
    store::{
        StoreError,
        audit::{self, Entry},
        inbox,
    },
};

/// Why a replay was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum DeadEventError {
    /// No event by that id.
    #[error("event {0} not found")]
    NotFound(String),
    /// The event is not dead (it was applied, perhaps by an earlier replay).
    #[error("event {0} is not dead; nothing to replay")]
    NotDead(String),
    /// The stored body was never an event; replaying it would only dead-letter it again.
    #[error("event {0} is an undecodable body; it cannot be replayed, only purged")]
    Undecodable(String),
    /// The actor may not do this.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// The queue would not take the events; nothing was replayed.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DbErr> for DeadEventError {
    fn from(e: DbErr) -> Self {
        DeadEventError::Store(StoreError::Db(e))
    }
}

/// Replays one dead event by id.
pub async fn replay_one(
    db: &DatabaseConnection,
    queue: &dyn EventQueue,
    id: &str,
    by: &Actor,
) -> Result<(), DeadEventError> {
    access::require(by, Role::Steward)?;
    let row = inbox::get(db, id)
        .await?
        .ok_or_else(|| DeadEventError::NotFound(id.to_owned()))?;
    if row.status != inbox_events::InboxStatus::Dead {
        return Err(DeadEventError::NotDead(id.to_owned()));
    }
    if inbox::envelope_of(&row).is_none() {
        return Err(DeadEventError::Undecodable(id.to_owned()));
    }
    replay_rows(db, queue, &[row], by).await.map(drop)
}

/// Puts dead events back on the work queue, then writes one audit row per event and removes
/// their copies from the dead-letter store; returns how many were replayed. Rows that are not
/// dead events, or not events at all, are skipped.
pub async fn replay_rows(
    db: &DatabaseConnection,
    queue: &dyn EventQueue,
    rows: &[inbox_events::Model],
    by: &Actor,
) -> Result<u64, DeadEventError> {
    access::require(by, Role::Steward)?;
    let mut bodies = Vec::with_capacity(rows.len());
    let mut replayed = Vec::with_capacity(rows.len());
    for row in rows
        .iter()
        .filter(|r| r.status == inbox_events::InboxStatus::Dead)
    {
        let Some(envelope) = inbox::envelope_of(row) else {
            continue;
        };
        let body = envelope
            .to_bytes()
            .map_err(|e| StoreError::Corrupt(format!("event {} does not serialize: {e}", row.id)))?;
        bodies.push(body);
        replayed.push(row);
    }
    if bodies.is_empty() {
        return Ok(0);
    }
    // Confirmed on the work queue first: a failure below leaves a second copy at worst, which
    // the inbox applies once.
    queue.publish(&bodies).await?;
    let txn = crate::store::begin_write(db).await?;
    for row in &replayed {
        audit::append(
            &txn,
            by,
            Entry {
                action: "event.replay",
                target_kind: "event",
                target_id: row.id.clone(),
                before: Some(json!({
                    "status": "dead",
                    "attempts": row.attempts,
                    "last_error": row.last_error,
                })),
                after: Some(json!({ "status": "queued" })),
                ..Entry::default()
            },
        )
        .await?;
    }
    txn.commit().await?;
    let ids: HashSet<&str> = replayed.iter().map(|r| r.id.as_str()).collect();
    let purged = queue
        .purge_dead(&|body: &[u8]| ids.contains(inbox::key_of(body).as_str()))
        .await?;
    tracing::info!(
        replayed = replayed.len(),
        purged,
        by = by.name(),
        "dead events replayed"
    );
    Ok(replayed.len() as u64)
}
