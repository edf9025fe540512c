//! Retrying a failed write-back once its cause is fixed, with the operator's audit row.

use chrono::Utc;
use entity::{
    operators::Role,
    outbox::{OutboxStatus, OutboxSubject},
};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};
use serde_json::json;
use uuid::Uuid;

use super::StewardError;
use crate::{
    access,
    domain::Actor,
    store::{
        audit::{self, Entry},
        outbox::{self, Retried},
    },
};

/// Puts a failed write-back back to pending, due now; refused when it is not failed any more
/// or a newer write of the same field already carries the current value.
pub async fn retry_writeback(db: &DatabaseConnection, id: Uuid, by: &Actor) -> Result<(), StewardError> {
    access::require(by, Role::Steward)?;
    let txn = crate::store::begin_write(db).await?;
    retry_in(&txn, id, by).await?;
    txn.commit().await?;
    Ok(())
}

/// The retry and its audit row, inside the caller's transaction.
pub(crate) async fn retry_in(txn: &impl ConnectionTrait, id: Uuid, by: &Actor) -> Result<(), StewardError> {
    let row = entity::outbox::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(|| StewardError::NotFound(format!("write-back {id}")))?;
    match outbox::retry(txn, id, Utc::now()).await? {
        Retried::Requeued => {}
        Retried::Superseded => {
            return Err(StewardError::Stale(format!(
                "a newer write of {} to {} {} is already pending",
                row.field, row.source, row.external_id
            )));
        }
        Retried::NotFailed => {
            return Err(StewardError::Stale(format!("write-back {id} is not failed")));
        }
    }
    audit::append(
        txn,
        by,
        Entry {
            action: "outbox.retry",
            target_kind: "outbox",
            target_id: id.to_string(),
            before: Some(json!({
                "status": "failed",
                "attempts": row.attempts,
                "last_error": row.last_error,
            })),
            after: Some(json!({ "status": status_name(OutboxStatus::Pending), "attempts": 0 })),
            ..Entry::default()
        },
    )
    .await?;
    Ok(())
}

/// How the API and audit log spell a write-back's status.
pub fn status_name(status: OutboxStatus) -> &'static str {
    match status {
        OutboxStatus::Pending => "pending",
        OutboxStatus::Sent => "sent",
        OutboxStatus::Failed => "failed",
    }
}

/// How the API, the CLI and the console spell whose value a write-back carries.
pub fn subject_name(subject: OutboxSubject) -> &'static str {
    match subject {
        OutboxSubject::Client => "client",
        OutboxSubject::Project => "project",
    }
}

/// Reads a subject as `subject_name` spells it; `None` for anything else.
pub fn parse_subject(raw: &str) -> Option<OutboxSubject> {
    [OutboxSubject::Client, OutboxSubject::Project]
        .into_iter()
        .find(|s| subject_name(*s) == raw)
}
