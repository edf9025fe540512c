//! Conflicts: what the worker would not decide, kept open for an operator.

use chrono::Utc;
use entity::conflicts::{self, ConflictKind, ConflictStatus};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait,
    IntoActiveModel, QueryFilter,
};
use serde_json::json;
use uuid::Uuid;

use super::{StoreError, records::SourceRecord};
use crate::{
    domain::{ids::ClientId, source::Source},
    reconcile::Mismatch,
};

/// The stable name of a conflict kind, as the API and metrics show it.
pub fn kind_name(kind: ConflictKind) -> &'static str {
    match kind {
        ConflictKind::FieldMismatch => "field_mismatch",
        ConflictKind::AmbiguousMatch => "ambiguous_match",
        ConflictKind::KeyCollision => "key_collision",
    }
}

/// Who closes conflicts that resolve themselves.
pub const SYSTEM: &str = "clientsync";

fn new_row(kind: ConflictKind, record: &SourceRecord, event: &str) -> conflicts::ActiveModel {
    open_row(kind, record.source, &record.external_id, event)
}

/// A new open conflict raised by `event` about `external_id` of `source`, with nothing else
/// filled in: the caller sets the client, field, values or candidates its kind carries.
pub(crate) fn open_row(
    kind: ConflictKind,
    source: Source,
    external_id: &str,
    event: &str,
) -> conflicts::ActiveModel {
    let now = Utc::now();
    conflicts::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(kind),
        status: Set(ConflictStatus::Open),
        client_id: Set(None),
        field: Set(None),
        hubspot_value: Set(None),
        clickup_value: Set(None),
        candidates: Set(json!([])),
        source: Set(source.as_str().to_owned()),
        external_id: Set(external_id.to_owned()),
        event_id: Set(event.to_owned()),
        resolution: Set(None),
        resolved_by: Set(None),
        resolved_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Raises (or refreshes) the conflict of a record that could not be matched on its own: a
/// key_collision (its keys point at different clients) or an ambiguous_match (several fuzzy
/// candidates, or one too doubtful to link). One open conflict per record and kind.
pub async fn open_for_record(
    db: &impl ConnectionTrait,
    kind: ConflictKind,
    record: &SourceRecord,
    candidates: serde_json::Value,
    event: &str,
) -> Result<(), StoreError> {
    let existing = conflicts::Entity::find()
        .filter(conflicts::Column::Kind.eq(kind))
        .filter(conflicts::Column::Status.eq(ConflictStatus::Open))
        .filter(conflicts::Column::Source.eq(record.source.as_str()))
        .filter(conflicts::Column::ExternalId.eq(record.external_id.as_str()))
        .one(db)
        .await?;
    match existing {
        Some(row) if row.candidates == candidates => {}
        Some(row) => {
            let mut row = row.into_active_model();
            row.candidates = Set(candidates);
            row.event_id = Set(event.to_owned());
            row.updated_at = Set(Utc::now());
            row.update(db).await?;
        }
        None => {
            let mut row = new_row(kind, record, event);
            row.client_id = Set(record.client_id.map(|c| c.as_uuid()));
            row.candidates = Set(candidates);
            row.insert(db).await?;
            crate::metrics::conflict_opened(kind_name(kind));
        }
    }
    Ok(())
}

/// Closes a record's open conflict of `kind` once the record was matched without it.
pub async fn close_for_record(
    db: &impl ConnectionTrait,
    kind: ConflictKind,
    record: &SourceRecord,
    resolution: &str,
) -> Result<(), StoreError> {
    close_open(
        db,
        sea_orm::Condition::all()
            .add(conflicts::Column::Kind.eq(kind))
            .add(conflicts::Column::Source.eq(record.source.as_str()))
            .add(conflicts::Column::ExternalId.eq(record.external_id.as_str())),
        resolution,
    )
    .await
}

/// Closes a client's open field mismatches (it is being merged away; the survivor raises what
/// still differs).
pub async fn close_field_mismatches(
    db: &impl ConnectionTrait,
    client: ClientId,
    resolution: &str,
) -> Result<(), StoreError> {
    close_open(
        db,
        sea_orm::Condition::all()
            .add(conflicts::Column::Kind.eq(ConflictKind::FieldMismatch))
            .add(conflicts::Column::ClientId.eq(client.as_uuid())),
        resolution,
    )
    .await
}

/// Resolves, as the system, every open conflict that `which` selects.
async fn close_open(
    db: &impl ConnectionTrait,
    which: sea_orm::Condition,
    resolution: &str,
) -> Result<(), StoreError> {
    let now = Utc::now();
    conflicts::Entity::update_many()
        .col_expr(
            conflicts::Column::Status,
            sea_orm::sea_query::Expr::value(ConflictStatus::Resolved.to_value()),
        )
        .col_expr(conflicts::Column::Resolution, resolution.into())
        .col_expr(conflicts::Column::ResolvedBy, SYSTEM.into())
        .col_expr(conflicts::Column::ResolvedAt, now.into())
        .col_expr(conflicts::Column::UpdatedAt, now.into())
        .filter(conflicts::Column::Status.eq(ConflictStatus::Open))
        .filter(which)
        .exec(db)
        .await?;
    Ok(())
}

/// Makes the client's open field_mismatch conflicts match `mismatches`: opens new ones, refreshes
/// changed values, and closes those whose values agree again.
/// A client's open field_mismatch conflicts: what merge keeps in step and write-back leaves
/// alone until an operator decides.
pub async fn open_field_mismatches(
    db: &impl ConnectionTrait,
    client: ClientId,
) -> Result<Vec<conflicts::Model>, StoreError> {
    Ok(conflicts::Entity::find()
        .filter(conflicts::Column::ClientId.eq(client.as_uuid()))
        .filter(conflicts::Column::Kind.eq(ConflictKind::FieldMismatch))
        .filter(conflicts::Column::Status.eq(ConflictStatus::Open))
        // A project's mismatches are its own (`store::projects`), not the client's fields.
        .filter(conflicts::Column::Field.not_like(format!("{}%", super::projects::FIELD_PREFIX)))
        .all(db)
        .await?)
}

pub async fn sync_field_mismatches(
    db: &impl ConnectionTrait,
    client: ClientId,
    mismatches: &[Mismatch],
    record: &SourceRecord,
    event: &str,
) -> Result<(), StoreError> {
    let open = open_field_mismatches(db, client).await?;
    for row in &open {
        let still = mismatches
            .iter()
            .find(|m| Some(m.field.as_str()) == row.field.as_deref());
        match still {
            Some(m)
                if row.hubspot_value.as_deref() == Some(&m.hubspot)
                    && row.clickup_value.as_deref() == Some(&m.clickup) => {}
            Some(m) => {
                let mut active = row.clone().into_active_model();
                active.hubspot_value = Set(Some(m.hubspot.clone()));
                active.clickup_value = Set(Some(m.clickup.clone()));
                active.event_id = Set(event.to_owned());
                active.updated_at = Set(Utc::now());
                active.update(db).await?;
            }
            None => {
                let mut active = row.clone().into_active_model();
                active.status = Set(ConflictStatus::Resolved);
                active.resolution = Set(Some("values agree again".into()));
                active.resolved_by = Set(Some(SYSTEM.into()));
                active.resolved_at = Set(Some(Utc::now()));
                active.updated_at = Set(Utc::now());
                active.update(db).await?;
            }
        }
    }
    // An operator who kept one side of these exact values has decided them; do not ask again.
    let decided = if mismatches.is_empty() {
        Vec::new()
    } else {
        conflicts::Entity::find()
            .filter(conflicts::Column::ClientId.eq(client.as_uuid()))
            .filter(conflicts::Column::Kind.eq(ConflictKind::FieldMismatch))
            .filter(conflicts::Column::Status.eq(ConflictStatus::Resolved))
            .filter(conflicts::Column::ResolvedBy.ne(SYSTEM))
            .all(db)
            .await?
    };
    for m in mismatches {
        let same = |row: &conflicts::Model| {
            row.field.as_deref() == Some(m.field.as_str())
                && row.hubspot_value.as_deref() == Some(&m.hubspot)
                && row.clickup_value.as_deref() == Some(&m.clickup)
        };
        if open
            .iter()
            .any(|row| row.field.as_deref() == Some(m.field.as_str()))
            || decided.iter().any(same)
        {
            continue;
        }
        let mut row = new_row(ConflictKind::FieldMismatch, record, event);
        row.client_id = Set(Some(client.as_uuid()));
        row.field = Set(Some(m.field.as_str().to_owned()));
        row.hubspot_value = Set(Some(m.hubspot.clone()));
        row.clickup_value = Set(Some(m.clickup.clone()));
        row.insert(db).await?;
        crate::metrics::conflict_opened(kind_name(ConflictKind::FieldMismatch));
    }
    Ok(())
}

/// Which conflicts an operator lists.
#[derive(Debug, Clone, Default)]
pub struct ConflictFilter {
    /// Only this status (open by default in the API).
    pub status: Option<ConflictStatus>,
    /// Only this kind.
    pub kind: Option<ConflictKind>,
    /// Only this client's.
    pub client: Option<ClientId>,
    /// Only conflicts on this field (field mismatches), e.g. `phone`.
    pub field: Option<String>,
    /// Keyset paging: conflicts after this id (ids are time-ordered UUIDv7).
    pub after: Option<Uuid>,
    /// Page size.
    pub limit: u64,
}

/// One page of conflicts, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &ConflictFilter,
) -> Result<Vec<conflicts::Model>, StoreError> {
    use sea_orm::{QueryOrder, QuerySelect};
    let mut query = conflicts::Entity::find();
    if let Some(status) = filter.status {
        query = query.filter(conflicts::Column::Status.eq(status));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(conflicts::Column::Kind.eq(kind));
    }
    if let Some(client) = filter.client {
        query = query.filter(conflicts::Column::ClientId.eq(client.as_uuid()));
    }
    if let Some(field) = &filter.field {
        query = query.filter(conflicts::Column::Field.eq(field.as_str()));
    }
    if let Some(after) = filter.after {
        query = query.filter(conflicts::Column::Id.gt(after));
    }
    Ok(query
        .order_by_asc(conflicts::Column::Id)
        .limit(filter.limit)
        .all(db)
        .await?)
}

/// One conflict by id.
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<conflicts::Model>, StoreError> {
    Ok(conflicts::Entity::find_by_id(id).one(db).await?)
}

/// One conflict, locked until the transaction ends so two operators cannot both resolve it.
pub async fn get_for_update(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<conflicts::Model>, StoreError> {
    use sea_orm::QuerySelect;
    Ok(conflicts::Entity::find_by_id(id).lock_exclusive().one(db).await?)
}

/// Marks a conflict resolved by an operator.
pub async fn resolve(
    db: &impl ConnectionTrait,
    row: conflicts::Model,
    resolution: &str,
    by: &str,
) -> Result<conflicts::Model, StoreError> {
    let now = Utc::now();
    let mut active = row.into_active_model();
    active.status = Set(ConflictStatus::Resolved);
    active.resolution = Set(Some(resolution.to_owned()));
    active.resolved_by = Set(Some(by.to_owned()));
    active.resolved_at = Set(Some(now));
    active.updated_at = Set(now);
    Ok(active.update(db).await?)
}

/// Conflicts resolved before `cutoff` that nothing reads any more. Open conflicts are never
/// selected, nor an operator's decision on a field_mismatch while its client exists: the worker
/// reads those so that it does not ask again about values an operator already decided (keeping
/// HubSpot's value leaves no pin behind).
pub fn resolved_before(cutoff: chrono::DateTime<Utc>) -> sea_orm::Condition {
    use conflicts::Column as C;
    let not_a_standing_decision = sea_orm::Condition::any()
        .add(C::Kind.ne(ConflictKind::FieldMismatch))
        .add(C::ResolvedBy.is_null())
        .add(C::ResolvedBy.eq(SYSTEM))
        .add(C::ClientId.is_null());
    sea_orm::Condition::all()
        .add(C::Status.eq(ConflictStatus::Resolved))
        .add(C::ResolvedAt.lt(cutoff))
        .add(not_a_standing_decision)
}

/// Opens a resolved conflict again (an operator undid its resolution).
pub async fn reopen(
    db: &impl ConnectionTrait,
    row: conflicts::Model,
) -> Result<conflicts::Model, StoreError> {
    let mut active = row.into_active_model();
    active.status = Set(ConflictStatus::Open);
    active.resolution = Set(None);
    active.resolved_by = Set(None);
    active.resolved_at = Set(None);
    active.updated_at = Set(Utc::now());
    Ok(active.update(db).await?)
}

/// The open conflict of `kind` just before `id` (oldest first), for moving back through a queue.
pub async fn open_before(
    db: &impl ConnectionTrait,
    kind: ConflictKind,
    id: Uuid,
) -> Result<Option<Uuid>, StoreError> {
    use sea_orm::{QueryOrder, QuerySelect};
    Ok(conflicts::Entity::find()
        .select_only()
        .column(conflicts::Column::Id)
        .filter(conflicts::Column::Status.eq(ConflictStatus::Open))
        .filter(conflicts::Column::Kind.eq(kind))
        .filter(conflicts::Column::Id.lt(id))
        .order_by_desc(conflicts::Column::Id)
        .into_tuple::<Uuid>()
        .one(db)
        .await?)
}
