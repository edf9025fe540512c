//! What an operator decides: resolving conflicts (keep HubSpot's value, accept ClickUp's, pin a
//! value, link a doubtful record to a client) and clearing pins. Each decision is one
//! transaction that also re-derives the client, so the golden record shows it at once.
//!
//! - `matches`: deciding where a doubtful record goes (link, not a match).
//! - `placement`: moving a record to another or a new client (split, unlink), which sticks.
//! - `writebacks`: retrying a failed write-back.
//! - `undo`: reversing a resolution, move or unpin from the state its audit row recorded.

use entity::conflicts::{self as conflict_rows, ConflictKind, ConflictStatus};
use entity::operators::Role;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

mod matches;
mod placement;
mod undo;
mod writebacks;

pub use placement::{Destination, Moved, move_record};
pub use undo::undo;
pub use writebacks::{parse_subject, retry_writeback, status_name, subject_name};

use matches::{link, not_a_match};

use crate::{
    access::{self, AccessError},
    domain::{Actor, ids::ClientId},
    engine::{self, Outcome, ProcessError, recompute},
    reconcile::{Field, Matching, normalize::Normalized},
    store::{
        StoreError,
        audit::{self, Entry},
        clients, conflicts, provenance, records,
    },
};

/// What an operator decided about a conflict.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Resolution {
    /// field_mismatch: HubSpot's value (already golden) is right; the same pair is not raised again.
    KeepHubspot,
    /// field_mismatch: ClickUp's value is right; it is pinned over HubSpot's.
    AcceptClickup,
    /// field_mismatch: neither; this value is pinned.
    Pin {
        /// The value, normalized like any source value.
        value: String,
    },
    /// ambiguous_match or key_collision: the record belongs to this client.
    Link {
        /// The client the record joins.
        client_id: Uuid,
    },
    /// ambiguous_match or key_collision: the record is none of the clients offered; it is
    /// never linked to their records again, and is placed anew without them.
    NotAMatch,
}

impl Resolution {
    fn name(&self) -> &'static str {
        match self {
            Resolution::KeepHubspot => "keep_hubspot",
            Resolution::AcceptClickup => "accept_clickup",
            Resolution::Pin { .. } => "pin",
            Resolution::Link { .. } => "link",
            Resolution::NotAMatch => "not_a_match",
        }
    }
}

/// Why a decision was refused.
#[derive(Debug, thiserror::Error)]
pub enum StewardError {
    /// No such conflict, client or field.
    #[error("{0} not found")]
    NotFound(String),
    /// Someone already resolved it.
    #[error("conflict {0} is already resolved")]
    AlreadyResolved(Uuid),
    /// The action does not apply to this kind of conflict.
    #[error("`{action}` does not resolve a {kind} conflict")]
    NotApplicable {
        /// The action asked for.
        action: &'static str,
        /// The conflict's kind.
        kind: &'static str,
    },
    /// A value or name that cannot be used.
    #[error("{0}")]
    Invalid(String),
    /// The state changed since the action being undone or retried; nothing was done.
    #[error("{0}")]
    Stale(String),
    /// The actor may not do this.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DbErr> for StewardError {
    fn from(e: DbErr) -> Self {
        StewardError::Store(StoreError::Db(e))
    }
}

impl From<ProcessError> for StewardError {
    fn from(e: ProcessError) -> Self {
        match e {
            ProcessError::Store(e) => StewardError::Store(e),
            // Resolving re-derives a client from stored records; it never calls a source.
            ProcessError::Source(e) => StewardError::Store(StoreError::Corrupt(e.to_string())),
        }
    }
}

/// How many times an operator's change is run again after losing a race with a worker.
const RACE_RETRIES: u32 = 5;

/// Runs an operator's change (one transaction), again when it lost a race with a concurrent
/// worker or operator: the rerun sees what the winner committed and decides on that.
pub(crate) async fn retrying<T, F>(what: &str, mut run: impl FnMut() -> F) -> Result<T, StewardError>
where
    F: std::future::Future<Output = Result<T, StewardError>>,
{
    let mut tries = 0;
    loop {
        match run().await {
            Err(StewardError::Store(e)) if e.is_lost_race() && tries < RACE_RETRIES => {
                tries += 1;
                tracing::info!(what, tries, error = %e, "operator change lost a race; running it again");
                let pause = 5 * u64::from(tries) + fastrand::u64(..10);
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
            other => return other,
        }
    }
}

/// Applies an operator's decision to an open conflict and closes it.
pub async fn resolve(
    db: &DatabaseConnection,
    matching: &Matching,
    id: Uuid,
    resolution: Resolution,
    by: &Actor,
) -> Result<conflict_rows::Model, StewardError> {
    access::require(by, Role::Steward)?;
    retrying("conflict.resolve", || {
        resolve_once(db, matching, id, resolution.clone(), by)
    })
    .await
}

async fn resolve_once(
    db: &DatabaseConnection,
    matching: &Matching,
    id: Uuid,
    resolution: Resolution,
    by: &Actor,
) -> Result<conflict_rows::Model, StewardError> {
    let txn = crate::store::begin_write(db).await?;
    // A field mismatch's client is locked before the conflict, the order a worker takes them
    // in (a merge locks the clients, then closes their mismatches). The other order deadlocked
    // with a worker moving the client's lone record away (tests/it/pin_race). Should the
    // client be gone by then, the merge that removed it closed the conflict.
    let mismatch_of = conflicts::get(&txn, id)
        .await?
        .filter(|row| row.kind == ConflictKind::FieldMismatch)
        .and_then(|row| row.client_id);
    if let Some(client) = mismatch_of {
        clients::lock(&txn, ClientId::from_uuid(client)).await?;
    }
    let row = conflicts::get_for_update(&txn, id)
        .await?
        .ok_or_else(|| StewardError::NotFound(format!("conflict {id}")))?;
    if row.status != ConflictStatus::Open {
        return Err(StewardError::AlreadyResolved(id));
    }
    let not_applicable = || StewardError::NotApplicable {
        action: resolution.name(),
        kind: conflicts::kind_name(row.kind),
    };
    let mut place_afterwards = None;
    let mut placed = None;
    let mut told_apart: Vec<String> = Vec::new();
    let mut left = (None, false);
    let note = match (&row.kind, &resolution) {
        (ConflictKind::FieldMismatch, Resolution::KeepHubspot) => "kept HubSpot's value".to_owned(),
        (ConflictKind::FieldMismatch, Resolution::AcceptClickup) => {
            let (client, field) = mismatch_target(&row)?;
            pin(&txn, matching, client, field, row.clickup_value.clone(), by, id).await?;
            "pinned ClickUp's value".to_owned()
        }
        (ConflictKind::FieldMismatch, Resolution::Pin { value }) => {
            let (client, field) = mismatch_target(&row)?;
            let value = pin_value(matching, field, value)?;
            pin(&txn, matching, client, field, Some(value), by, id).await?;
            "pinned an operator's value".to_owned()
        }
        (ConflictKind::AmbiguousMatch | ConflictKind::KeyCollision, Resolution::Link { client_id }) => {
            left = link(&txn, matching, &row, ClientId::from_uuid(*client_id), by).await?;
            placed = Some(ClientId::from_uuid(*client_id));
            format!("linked to client {client_id}")
        }
        (ConflictKind::AmbiguousMatch | ConflictKind::KeyCollision, Resolution::NotAMatch) => {
            let (record, told, added) = not_a_match(&txn, &row, by).await?;
            place_afterwards = Some(record);
            told_apart = added.iter().map(ToString::to_string).collect();
            format!("not a match for the {told} record(s) of the clients offered")
        }
        _ => return Err(not_applicable()),
    };
    let before = json!({ "status": "open", "client_id": row.client_id });
    let row = conflicts::resolve(&txn, row, &note, by.name()).await?;
    // After the conflict closed, so a placement that raises another one raises a new row.
    if let Some(mut record) = place_afterwards {
        let event = format!("operator:{}", by.name());
        if let Outcome::Linked(client) = engine::place_again(&txn, matching, &mut record, &event).await? {
            placed = Some(client);
        }
    }
    audit::append(
        &txn,
        by,
        Entry {
            action: "conflict.resolve",
            target_kind: "conflict",
            target_id: id.to_string(),
            before: Some(before),
            after: Some(json!({
                "status": "resolved",
                "action": resolution.name(),
                "resolution": row.resolution,
                "client_id": row.client_id,
                "placed_on": placed,
                "told_apart": told_apart,
                "left_client": left.0,
                "left_removed": left.1,
            })),
            ..Entry::default()
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(conflict = %id, by = by.name(), resolution = resolution.name(), "conflict resolved");
    Ok(row)
}

/// Clears a pin; the field goes back to the sources' value (HubSpot's first).
pub async fn clear_pin(
    db: &DatabaseConnection,
    matching: &Matching,
    client: ClientId,
    field: Field,
    by: &Actor,
) -> Result<(), StewardError> {
    access::require(by, Role::Steward)?;
    retrying("client.unpin", || clear_pin_once(db, matching, client, field, by)).await
}

async fn clear_pin_once(
    db: &DatabaseConnection,
    matching: &Matching,
    client: ClientId,
    field: Field,
    by: &Actor,
) -> Result<(), StewardError> {
    let txn = crate::store::begin_write(db).await?;
    // Locked before its pins are read: a worker merging the client away meanwhile (its lone
    // record moved) has then either committed, and the client is not found, or waits for this.
    if !clients::lock(&txn, client).await? {
        return Err(StewardError::NotFound(format!("client {client}")));
    }
    let (row, pins) = clients::get_with_provenance(&txn, client).await?;
    let pinned = pins
        .get(&field)
        .filter(|p| p.pinned)
        .map(|_| clients::value_of(&row, field));
    if !provenance::unpin(&txn, client, field).await? {
        return Err(StewardError::NotFound(format!("pin on {}", field.as_str())));
    }
    refresh(&txn, matching, client, by).await?;
    audit::append(
        &txn,
        by,
        Entry {
            action: "client.unpin",
            target_kind: "client",
            target_id: client.to_string(),
            before: Some(json!({ "field": field.as_str(), "pinned": pinned.flatten() })),
            after: Some(json!({ "field": field.as_str(), "pinned": null })),
            ..Entry::default()
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(%client, field = field.as_str(), by = by.name(), "pin cleared");
    Ok(())
}

/// The value an operator's pin on `field` stores: `raw` normalized like any source value, or
/// why it cannot be pinned. Previews call it too, so they show what Confirm would store.
pub fn pin_value(matching: &Matching, field: Field, raw: &str) -> Result<String, StewardError> {
    match crate::reconcile::normalize::normalize_in(field, Some(raw), matching.country) {
        Normalized::Value(v, _) => Ok(v),
        Normalized::Cleared => Err(StewardError::Invalid("the value is empty".into())),
        Normalized::Rejected(why) => Err(StewardError::Invalid(format!(
            "not a valid {}: {why}",
            field.as_str()
        ))),
    }
}

fn mismatch_target(row: &conflict_rows::Model) -> Result<(ClientId, Field), StewardError> {
    let client = row
        .client_id
        .map(ClientId::from_uuid)
        .ok_or_else(|| StewardError::NotFound("the conflict's client".into()))?;
    let name = row.field.as_deref().unwrap_or_default();
    if name.starts_with(crate::store::projects::FIELD_PREFIX) {
        // Projects have no golden values to pin or keep yet: the owner's value already stands,
        // and once the conflict is dismissed write-back carries it to the other side at the
        // project's next change.
        return Err(StewardError::Invalid(format!(
            "`{name}` is a project's field, whose owner's value already stands: change it in the \
             system that owns it (ClickUp for status, time and dates, HubSpot for amount and \
             payment status), or dismiss the conflict with keep_hubspot; pinning a value or \
             accepting ClickUp's is not supported for projects yet"
        )));
    }
    let field = Field::parse(name).ok_or_else(|| StewardError::NotFound("the conflict's field".into()))?;
    Ok((client, field))
}

async fn pin(
    txn: &DatabaseTransaction,
    matching: &Matching,
    client: ClientId,
    field: Field,
    value: Option<String>,
    by: &Actor,
    conflict: Uuid,
) -> Result<(), StewardError> {
    if !clients::lock(txn, client).await? {
        return Err(StewardError::NotFound(format!("client {client}")));
    }
    // A key another client holds would make two clients one: that is a link, not a pin.
    if matches!(field, Field::Email | Field::DocumentKey)
        && let Some(v) = value.as_deref()
        && clients::find_by_key(txn, field, v)
            .await?
            .is_some_and(|owner| owner != client)
    {
        return Err(StewardError::Invalid(format!(
            "another client holds this {}; link the records instead",
            field.as_str()
        )));
    }
    provenance::pin(
        txn,
        client,
        field,
        value,
        by.name(),
        &format!("conflict:{conflict}"),
    )
    .await?;
    refresh(txn, matching, client, by).await
}

/// Re-derives a client after an operator's change, with one of its records as the trigger.
async fn refresh(
    txn: &DatabaseTransaction,
    matching: &Matching,
    client: ClientId,
    by: &Actor,
) -> Result<(), StewardError> {
    let linked = records::linked_active(txn, client).await?;
    if let Some(trigger) = linked.first() {
        recompute(txn, matching, client, trigger, &format!("operator:{}", by.name())).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions_read_from_json_by_action() {
        let r: Resolution = serde_json::from_str(r#"{"action":"pin","value":"a@x.com"}"#).unwrap();
        assert_eq!(
            r,
            Resolution::Pin {
                value: "a@x.com".into()
            }
        );
        assert!(serde_json::from_str::<Resolution>(r#"{"action":"merge"}"#).is_err());
    }
}
