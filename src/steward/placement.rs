//! Moving a record off its client, to a new client or to another one: undoing a wrong link or
//! merge. The move sticks: the record is marked as placed by the operator, so the engine keeps
//! it there, and it is told apart from the records it left, so no key or score brings it back.

use entity::{conflicts::ConflictKind, operators::Role, source_records::RecordStatus};
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use serde_json::json;
use uuid::Uuid;

use super::{StewardError, matches::stored_record};
use crate::{
    access,
    domain::{Actor, ids::ClientId},
    engine::recompute,
    reconcile::Matching,
    store::{
        audit::{self, Entry},
        clients, conflicts,
        exclusions::{self, RecordRef},
        records::{self, SourceRecord},
    },
};

/// Why an operator's placement closes a record's match conflicts.
const PLACED: &str = "placed by an operator";

/// Where an operator moves a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// A client of its own, made for it.
    NewClient,
    /// An existing client.
    Client(ClientId),
}

/// What a move did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// The record moved.
    pub record: RecordRef,
    /// The client it left, if it sat on one.
    pub from: Option<ClientId>,
    /// The client it sits on now.
    pub to: ClientId,
    /// Whether `from` was removed, the record having been all it held.
    pub from_removed: bool,
    /// The audit row of the move.
    pub audit_id: Uuid,
}

/// Moves `record` to `to` for the reason given, in one transaction that re-derives both clients.
pub async fn move_record(
    db: &DatabaseConnection,
    matching: &Matching,
    record: &RecordRef,
    to: Destination,
    reason: Option<String>,
    by: &Actor,
) -> Result<Moved, StewardError> {
    access::require(by, Role::Steward)?;
    super::retrying("record.move", || {
        move_once(db, matching, record, to, reason.clone(), by)
    })
    .await
}

async fn move_once(
    db: &DatabaseConnection,
    matching: &Matching,
    record: &RecordRef,
    to: Destination,
    reason: Option<String>,
    by: &Actor,
) -> Result<Moved, StewardError> {
    let txn = crate::store::begin_write(db).await?;
    let mut loaded = stored_record(&txn, record).await?;
    if loaded.status == RecordStatus::Deleted {
        return Err(StewardError::Invalid(format!(
            "record {record} was deleted at its source; it feeds no client"
        )));
    }
    let from = loaded.client_id;
    let placed_before = loaded.placed_by.clone();
    let target = match to {
        Destination::Client(id) if Some(id) == from => {
            return Err(StewardError::Invalid(format!(
                "record {record} is already on client {id}"
            )));
        }
        Destination::Client(id) => id,
        Destination::NewClient => clients::create(&txn, &[]).await?,
    };
    let step = Step {
        txn: &txn,
        matching,
        by,
    };
    let Relocation {
        from_removed,
        forgotten,
    } = step
        .relocate(&mut loaded, from, target, Some(by.name()), true)
        .await?;
    let forgot: Vec<String> = forgotten.iter().map(ToString::to_string).collect();
    let audit_id = audit::append(
        &txn,
        by,
        Entry {
            action: "record.move",
            target_kind: "record",
            target_id: record.to_string(),
            before: Some(json!({ "client_id": from, "placed_by": placed_before })),
            after: Some(json!({
                "client_id": target,
                "placed_by": by.name(),
                "new_client": to == Destination::NewClient,
                "from_removed": from_removed,
                "forgot": forgot,
            })),
            reason,
            ..Entry::default()
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(%record, from = ?from, to = %target, by = by.name(), "record moved");
    Ok(Moved {
        record: record.clone(),
        from,
        to: target,
        from_removed,
        audit_id,
    })
}

/// What a relocation did besides placing the record.
pub(super) struct Relocation {
    /// Whether the client the record left was removed, the record having been all it held.
    pub(super) from_removed: bool,
    /// The records of the client it joined that it had been told apart from, and no longer is.
    pub(super) forgotten: Vec<RecordRef>,
}

/// One operator placement inside its transaction.
pub(super) struct Step<'a> {
    pub(super) txn: &'a DatabaseTransaction,
    pub(super) matching: &'a Matching,
    pub(super) by: &'a Actor,
}

impl Step<'_> {
    /// Puts `record` (now on `from`) on `target`, marked as placed by `placed_by`: it is told
    /// apart from the records it leaves (when `tell_apart`) and no longer from those it joins,
    /// its match conflicts close, `from` is re-derived (or removed when it held nothing else)
    /// and so is `target`.
    pub(super) async fn relocate(
        &self,
        record: &mut SourceRecord,
        from: Option<ClientId>,
        target: ClientId,
        placed_by: Option<&str>,
        tell_apart: bool,
    ) -> Result<Relocation, StewardError> {
        let txn = self.txn;
        let me = RecordRef::of(record);
        // One order for every writer, so two moves between the same clients cannot deadlock.
        let mut involved: Vec<ClientId> = from.into_iter().chain([target]).collect();
        involved.sort_unstable();
        for client in &involved {
            if !clients::lock(txn, *client).await? {
                return Err(StewardError::NotFound(format!("client {client}")));
            }
        }
        let others_of = |held: Vec<SourceRecord>| -> Vec<RecordRef> {
            held.iter().map(RecordRef::of).filter(|r| *r != me).collect()
        };
        let joining = others_of(records::linked_active(txn, target).await?);
        let forgotten = exclusions::forget(txn, &me, &joining).await?;
        if let Some(from) = from.filter(|_| tell_apart) {
            let leaving = others_of(records::linked_active(txn, from).await?);
            exclusions::exclude(txn, &me, &leaving, self.by.name()).await?;
        }
        records::place(txn, record, Some(target), placed_by).await?;
        for kind in [ConflictKind::AmbiguousMatch, ConflictKind::KeyCollision] {
            conflicts::close_for_record(txn, kind, record, PLACED).await?;
        }
        let event = format!("operator:{}", self.by.name());
        let mut removed = false;
        if let Some(from) = from {
            if records::count_linked(txn, from).await? == 0 {
                clients::delete(txn, from).await?;
                removed = true;
            } else {
                // The record is the trigger: it left, so mismatches it took part in close.
                recompute(txn, self.matching, from, record, &event).await?;
            }
        }
        recompute(txn, self.matching, target, record, &event).await?;
        Ok(Relocation {
            from_removed: removed,
            forgotten,
        })
    }
}
