//! Undo: an operator's change reversed from the before state its audit row recorded, once, and
//! only while nothing has changed it since; the undo writes its own audit row pointing at it.

use entity::{conflicts::ConflictStatus, operators::Role};
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use serde_json::Value;
use uuid::Uuid;

use super::{StewardError, matches::stored_record, placement::Step, refresh};
use crate::{
    access,
    domain::{Actor, ids::ClientId, source::Source},
    engine::recompute,
    reconcile::{Field, Matching},
    store::{
        audit::{self, Entry},
        clients, conflicts,
        exclusions::{self, RecordRef},
        provenance, records,
    },
};

/// Reverses the change audit row `id` recorded; returns the undo's own audit row id.
pub async fn undo(
    db: &DatabaseConnection,
    matching: &Matching,
    id: Uuid,
    reason: Option<String>,
    by: &Actor,
) -> Result<Uuid, StewardError> {
    access::require(by, Role::Steward)?;
    super::retrying("audit.undo", || undo_once(db, matching, id, reason.clone(), by)).await
}

async fn undo_once(
    db: &DatabaseConnection,
    matching: &Matching,
    id: Uuid,
    reason: Option<String>,
    by: &Actor,
) -> Result<Uuid, StewardError> {
    let txn = crate::store::begin_write(db).await?;
    let row = audit::get(&txn, id)
        .await?
        .ok_or_else(|| StewardError::NotFound(format!("audit row {id}")))?;
    if audit::undo_of(&txn, id).await?.is_some() {
        return Err(StewardError::Stale(format!("audit row {id} was already undone")));
    }
    let before = row.before.clone().unwrap_or(Value::Null);
    let after = row.after.clone().unwrap_or(Value::Null);
    match row.action.as_str() {
        "record.move" => undo_move(&txn, matching, &row.target_id, &before, &after, by).await?,
        "client.unpin" => undo_unpin(&txn, matching, &row.target_id, &before, id, by).await?,
        "conflict.resolve" => undo_resolution(&txn, matching, &row.target_id, &after, by).await?,
        other => {
            return Err(StewardError::Invalid(format!("`{other}` cannot be undone")));
        }
    }
    let undo_id = audit::append(
        &txn,
        by,
        Entry {
            action: "audit.undo",
            target_kind: kind_of(&row.target_kind),
            target_id: row.target_id.clone(),
            before: row.after.clone(),
            after: row.before.clone(),
            reason,
            undoes: Some(id),
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(undone = %id, action = row.action, by = by.name(), "operator change undone");
    Ok(undo_id)
}

/// The audit target kinds an undo can name (an entry takes a static name).
fn kind_of(kind: &str) -> &'static str {
    match kind {
        "record" => "record",
        "client" => "client",
        "conflict" => "conflict",
        _ => "other",
    }
}

fn client_at(value: &Value, key: &str) -> Option<ClientId> {
    value
        .get(key)?
        .as_str()?
        .parse::<Uuid>()
        .ok()
        .map(ClientId::from_uuid)
}

/// A move goes back: the record returns to the client it left, as placed as it was then.
async fn undo_move(
    txn: &DatabaseTransaction,
    matching: &Matching,
    target: &str,
    before: &Value,
    after: &Value,
    by: &Actor,
) -> Result<(), StewardError> {
    let (source, external_id) = target
        .split_once('/')
        .ok_or_else(|| StewardError::Invalid(format!("`{target}` names no record")))?;
    let source: Source = source.parse().map_err(StewardError::Invalid)?;
    let which = RecordRef {
        source,
        external_id: external_id.to_owned(),
    };
    let Some(back_to) = client_at(before, "client_id") else {
        return Err(StewardError::Invalid(
            "the record sat on no client before; move it instead".into(),
        ));
    };
    let mut record = stored_record(txn, &which).await?;
    if record.client_id != client_at(after, "client_id") {
        return Err(StewardError::Stale(format!("record {which} has moved since")));
    }
    if !clients::lock(txn, back_to).await? {
        // The move emptied the client and removed it: it comes back under its id. Gone for
        // any other reason (a merge took it), there is nothing to go back to.
        if after.get("from_removed").and_then(Value::as_bool) != Some(true) {
            return Err(StewardError::Stale(format!(
                "client {back_to}, which the record left, is gone"
            )));
        }
        clients::restore(txn, back_to).await?;
    }
    let placed_by = before.get("placed_by").and_then(Value::as_str);
    let step = Step { txn, matching, by };
    let from = record.client_id;
    step.relocate(&mut record, from, back_to, placed_by, false)
        .await?;
    // The move put the record with records it had been told apart from: it is again.
    let forgot = record_refs(after, "forgot");
    exclusions::exclude(txn, &which, &forgot, by.name()).await?;
    Ok(())
}

/// The records an audit row lists under `key` (as `source/external_id`).
fn record_refs(value: &Value, key: &str) -> Vec<RecordRef> {
    value
        .get(key)
        .and_then(Value::as_array)
        .map(|all| {
            all.iter()
                .filter_map(Value::as_str)
                .filter_map(|r| {
                    let (source, external_id) = r.split_once('/')?;
                    Some(RecordRef {
                        source: source.parse().ok()?,
                        external_id: external_id.to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A cleared pin comes back with the value it held.
async fn undo_unpin(
    txn: &DatabaseTransaction,
    matching: &Matching,
    target: &str,
    before: &Value,
    id: Uuid,
    by: &Actor,
) -> Result<(), StewardError> {
    let client = target
        .parse::<Uuid>()
        .map(ClientId::from_uuid)
        .map_err(|_| StewardError::Invalid(format!("`{target}` names no client")))?;
    let field = before
        .get("field")
        .and_then(Value::as_str)
        .and_then(Field::parse)
        .ok_or_else(|| StewardError::Invalid("the audit row names no field".into()))?;
    let Some((_, pins)) = clients::find_with_provenance(txn, client).await? else {
        return Err(StewardError::Stale(format!("client {client} is gone")));
    };
    if pins.get(&field).is_some_and(|p| p.pinned) {
        return Err(StewardError::Stale(format!("{} is pinned again", field.as_str())));
    }
    clients::lock(txn, client).await?;
    let value = before.get("pinned").and_then(Value::as_str).map(str::to_owned);
    provenance::pin(txn, client, field, value, by.name(), &format!("undo:{id}")).await?;
    refresh(txn, matching, client, by).await
}

/// A decision is taken back: the conflict opens again; a pin it set is cleared, and a record it
/// placed (link, not a match) goes back to no client, no longer told apart from the records the
/// verdict named, so the next event places it as before.
async fn undo_resolution(
    txn: &DatabaseTransaction,
    matching: &Matching,
    target: &str,
    after: &Value,
    by: &Actor,
) -> Result<(), StewardError> {
    let id = target
        .parse::<Uuid>()
        .map_err(|_| StewardError::Invalid(format!("`{target}` names no conflict")))?;
    let action = after.get("action").and_then(Value::as_str).unwrap_or_default();
    if !matches!(
        action,
        "keep_hubspot" | "accept_clickup" | "pin" | "link" | "not_a_match"
    ) {
        return Err(StewardError::Invalid(format!(
            "a `{action}` resolution cannot be undone"
        )));
    }
    let row = conflicts::get_for_update(txn, id)
        .await?
        .ok_or_else(|| StewardError::Stale(format!("conflict {id} is gone")))?;
    if row.status != ConflictStatus::Resolved {
        return Err(StewardError::Stale(format!("conflict {id} is open again")));
    }
    if matches!(action, "link" | "not_a_match") {
        unplace(txn, matching, &row, after, by).await?;
        conflicts::reopen(txn, row).await?;
        return Ok(());
    }
    let (client, field) = super::mismatch_target(&row)?;
    if action != "keep_hubspot" {
        let Some((_, pins)) = clients::find_with_provenance(txn, client).await? else {
            return Err(StewardError::Stale(format!("client {client} is gone")));
        };
        if !pins.get(&field).is_some_and(|p| p.pinned) {
            return Err(StewardError::Stale(format!(
                "the pin on {} was cleared since",
                field.as_str()
            )));
        }
        clients::lock(txn, client).await?;
        provenance::unpin(txn, client, field).await?;
    }
    conflicts::reopen(txn, row).await?;
    refresh(txn, matching, client, by).await
}

/// The record a match decision placed leaves the client it was put on (removed when it held
/// nothing else) and sits on no client again; a verdict's exclusions are forgotten.
async fn unplace(
    txn: &DatabaseTransaction,
    matching: &Matching,
    row: &entity::conflicts::Model,
    after: &Value,
    by: &Actor,
) -> Result<(), StewardError> {
    let Some(placed_on) = client_at(after, "placed_on") else {
        return Err(StewardError::Invalid(
            "the audit row does not say where the record went".into(),
        ));
    };
    let source: Source = row.source.parse().map_err(StewardError::Invalid)?;
    let which = RecordRef {
        source,
        external_id: row.external_id.clone(),
    };
    let mut record = stored_record(txn, &which).await?;
    if record.client_id != Some(placed_on) {
        return Err(StewardError::Stale(format!("record {which} has moved since")));
    }
    clients::lock(txn, placed_on).await?;
    let named = record_refs(after, "told_apart");
    exclusions::forget(txn, &which, &named).await?;
    // A link that emptied the client the record sat on removed it: it comes back, with the record.
    let back_to = client_at(after, "left_client")
        .filter(|_| after.get("left_removed").and_then(Value::as_bool) == Some(true));
    if let Some(back_to) = back_to {
        if clients::lock(txn, back_to).await? {
            return Err(StewardError::Stale(format!("client {back_to} exists again")));
        }
        clients::restore(txn, back_to).await?;
    }
    let placed_by = record.placed_by.clone();
    records::place(txn, &mut record, back_to, placed_by.as_deref()).await?;
    if let Some(back_to) = back_to {
        let event = format!("operator:{}", by.name());
        recompute(txn, matching, back_to, &record, &event).await?;
    }
    if records::count_linked(txn, placed_on).await? == 0 {
        clients::delete(txn, placed_on).await?;
    } else {
        recompute(
            txn,
            matching,
            placed_on,
            &record,
            &format!("operator:{}", by.name()),
        )
        .await?;
    }
    Ok(())
}
