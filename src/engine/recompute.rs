//! A client's golden values, re-derived from every record it holds.

use std::collections::BTreeMap;

use entity::source_records::RecordStatus;

use super::ProcessError;
use crate::{
    domain::ids::ClientId,
    reconcile::{
        self, Field, Matching, MergeInput,
        fuzzy::{Profile, blocking},
        history::{FieldChange, SetBy},
    },
    store::{
        StoreError, clients, conflicts, history, match_keys, provenance,
        records::{self, SourceRecord},
    },
};

/// The blocking keys of a client holding `values`.
fn keys_of(values: &[(Field, Option<String>)], matching: &Matching) -> Vec<String> {
    let profile = Profile::build(
        |field| {
            values
                .iter()
                .find(|(f, _)| *f == field)
                .and_then(|(_, v)| v.as_deref())
        },
        matching.profile,
    );
    blocking::keys(&profile)
}

/// What this recompute changes in the client's values: fields merge set or emptied, and fields
/// an operator pinned (the pin rows name who and why) whose value the client does not show yet.
fn field_changes(
    row: &entity::clients::Model,
    held: &BTreeMap<Field, entity::field_provenance::Model>,
    applied: &[reconcile::GoldenField],
    vacated: &[Field],
) -> Vec<FieldChange> {
    let before: BTreeMap<Field, Option<String>> = Field::ALL
        .into_iter()
        .map(|field| (field, clients::value_of(row, field).map(str::to_owned)))
        .collect();
    let mut changes = reconcile::history::diff(&before, applied, vacated);
    changes.extend(
        held.iter()
            .filter(|(field, pin)| pin.pinned && before.get(field).cloned().flatten() != pin.value)
            .map(|(field, pin)| FieldChange {
                field: *field,
                before: before.get(field).cloned().flatten(),
                after: pin.value.clone(),
                by: SetBy::Operator {
                    name: pin.external_id.clone(),
                    reason: pin.event_id.clone(),
                },
            }),
    );
    changes
}

/// Re-derives a client's golden fields from every record linked to it. Deriving from the
/// records (not patching the row) makes the result independent of event order.
pub async fn recompute(
    txn: &impl sea_orm::ConnectionTrait,
    matching: &Matching,
    client: ClientId,
    trigger: &SourceRecord,
    event: &str,
) -> Result<(), ProcessError> {
    // Before reading the records, so a concurrent recompute of this client is seen, not overwritten.
    if !clients::lock(txn, client).await? {
        return Err(StoreError::Corrupt(format!("client {client} vanished")).into());
    }
    let linked = records::linked_active(txn, client).await?;
    recompute_locked(txn, matching, Locked { client, linked }, trigger, event).await
}

/// A client this transaction holds locked, with every active record it holds as read under
/// that lock (and as this transaction changed them since): what a recompute would read again.
pub(crate) struct Locked {
    /// The client.
    pub(crate) client: ClientId,
    /// Its active records.
    pub(crate) linked: Vec<SourceRecord>,
}

/// `recompute` of a client whose lock and records this transaction already holds.
pub(crate) async fn recompute_locked(
    txn: &impl sea_orm::ConnectionTrait,
    matching: &Matching,
    locked: Locked,
    trigger: &SourceRecord,
    event: &str,
) -> Result<(), ProcessError> {
    let Locked { client, linked } = locked;
    let inputs: Vec<MergeInput<'_>> = linked
        .iter()
        .map(|r| MergeInput {
            source: r.source,
            external_id: &r.external_id,
            fields: &r.fields,
        })
        .collect();
    let (row, held) = clients::get_with_provenance(txn, client).await?;
    let pinned: BTreeMap<Field, Option<String>> = held
        .iter()
        .filter(|(_, row)| row.pinned)
        .map(|(field, row)| (*field, row.value.clone()))
        .collect();
    let merge = reconcile::merge(&inputs, &pinned);
    let mut values = Vec::with_capacity(merge.fields.len());
    let mut changed = Vec::new();
    let mut applied = Vec::with_capacity(merge.fields.len());
    for golden in &merge.fields {
        // A key another client already holds is never copied: that would merge two clients.
        if matches!(golden.field, Field::Email | Field::DocumentKey)
            && let Some(value) = golden.value.as_deref()
            && clients::value_of(&row, golden.field) != Some(value)
            && clients::find_by_key(txn, golden.field, value)
                .await?
                .is_some_and(|owner| owner != client)
        {
            continue;
        }
        let unchanged = held.get(&golden.field).is_some_and(|p| {
            p.value == golden.value && p.event_id == golden.event && p.external_id == golden.external_id
        });
        if !unchanged {
            changed.push(golden.clone());
        }
        applied.push(golden.clone());
        values.push((golden.field, golden.value.clone()));
    }
    // Pinned values stand as the operator set them.
    values.extend(pinned.iter().map(|(field, value)| (*field, value.clone())));
    // A field none of its records holds any more (one left, or a key went to its owner) is
    // empty, not the value a record that left once gave it.
    let vacated: Vec<Field> = Field::ALL
        .into_iter()
        .filter(|field| !values.iter().any(|(f, _)| f == field))
        .collect();
    values.extend(vacated.iter().map(|field| (*field, None)));
    let history = field_changes(&row, &held, &applied, &vacated);
    history::append(txn, client, event, &history).await?;
    provenance::record(txn, client, &changed).await?;
    let stale: Vec<Field> = vacated.iter().copied().filter(|f| held.contains_key(f)).collect();
    provenance::forget(txn, client, &stale).await?;
    if clients::apply(txn, row, &values).await? {
        match_keys::replace(txn, client, &keys_of(&values, matching)).await?;
    }
    // Mismatches need two sources; skip the lookup unless one may exist or may have to close.
    let multi_source = linked
        .first()
        .is_some_and(|first| linked.iter().any(|r| r.source != first.source));
    // A record that was deleted or left this client may have taken a mismatch's other side.
    let left = trigger.status == RecordStatus::Deleted || trigger.client_id != Some(client);
    if !merge.mismatches.is_empty() || multi_source || left {
        conflicts::sync_field_mismatches(txn, client, &merge.mismatches, trigger, event).await?;
    }
    Ok(())
}
