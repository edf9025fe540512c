//! Deciding a match conflict: the record belongs to the client chosen (link), or to none of
//! the clients offered (not a match, remembered so it is never linked to them again).

use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use super::{StewardError, refresh};
use crate::{
    domain::{
        Actor,
        ids::ClientId,
        source::{ObjectKind, Source},
    },
    engine::recompute,
    reconcile::Matching,
    store::{
        clients,
        exclusions::{self, RecordRef},
        records::{self, SourceRecord},
    },
};
use entity::conflicts as conflict_rows;

/// Moves a doubtful record onto the client the operator chose; a client it alone fed goes.
/// Returns the client it left, if any, and whether that client was removed (an undo restores it).
pub(super) async fn link(
    txn: &DatabaseTransaction,
    matching: &Matching,
    row: &conflict_rows::Model,
    target: ClientId,
    by: &Actor,
) -> Result<(Option<ClientId>, bool), StewardError> {
    let mut record = stored_record(txn, &conflict_record(row)?).await?;
    if !clients::lock(txn, target).await? {
        return Err(StewardError::NotFound(format!("client {target}")));
    }
    let previous = record.client_id.filter(|c| *c != target);
    record.client_id = Some(target);
    records::save(txn, &mut record).await?;
    let event = format!("operator:{}", by.name());
    recompute(txn, matching, target, &record, &event).await?;
    let mut removed = false;
    if let Some(previous) = previous {
        if records::count_linked(txn, previous).await? == 0 {
            clients::delete(txn, previous).await?;
            removed = true;
        } else {
            refresh(txn, matching, previous, by).await?;
        }
    }
    Ok((previous, removed))
}

/// The record a match conflict is about.
fn conflict_record(row: &conflict_rows::Model) -> Result<RecordRef, StewardError> {
    let source: Source = row
        .source
        .parse()
        .map_err(|_| StewardError::NotFound(format!("source `{}`", row.source)))?;
    Ok(RecordRef {
        source,
        external_id: row.external_id.clone(),
    })
}

/// A stored record, locked for the rest of the transaction.
pub(super) async fn stored_record(
    txn: &DatabaseTransaction,
    which: &RecordRef,
) -> Result<SourceRecord, StewardError> {
    let kind: ObjectKind = which
        .external_id
        .split(':')
        .next()
        .unwrap_or_default()
        .parse()
        .map_err(|_| StewardError::NotFound(format!("record {which}")))?;
    let record = records::load_or_new(txn, which.source, &which.external_id, kind).await?;
    if !record.is_stored() {
        return Err(StewardError::NotFound(format!("record {which}")));
    }
    Ok(record)
}

/// Remembers that a doubtful record is none of the clients its conflict offered: it is told
/// apart from every record they hold now. Returns the record, how many records it was told
/// apart from, and those it had not been told apart from before (what an undo forgets).
pub(super) async fn not_a_match(
    txn: &DatabaseTransaction,
    row: &conflict_rows::Model,
    by: &Actor,
) -> Result<(SourceRecord, usize, Vec<RecordRef>), StewardError> {
    let record = stored_record(txn, &conflict_record(row)?).await?;
    let me = RecordRef::of(&record);
    let offered: Vec<ClientId> = row
        .candidates
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|c| c.get("client_id")?.as_str()?.parse::<Uuid>().ok())
                .map(ClientId::from_uuid)
                .collect()
        })
        .unwrap_or_default();
    let mut others = Vec::new();
    for client in offered.into_iter().filter(|c| Some(*c) != record.client_id) {
        for held in records::linked_active(txn, client).await? {
            let other = RecordRef::of(&held);
            if other != me && !others.contains(&other) {
                others.push(other);
            }
        }
    }
    if others.is_empty() {
        return Err(StewardError::Invalid(
            "the clients this conflict offered hold no records any more; nothing to tell apart".into(),
        ));
    }
    let added = exclusions::exclude(txn, &me, &others, by.name()).await?;
    Ok((record, others.len(), added))
}
