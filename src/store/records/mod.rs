//! Source records: one row per (source, external id) with its timestamped fields and client link.
//! `waiting`: those on no client, placed again when a client takes one of their keys.

mod waiting;

pub use waiting::{Waiting, waiting_holding, waiting_with_keys};

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::source_records::{self, RecordStatus};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QuerySelect, QueryTrait, sea_query::Query,
};

use super::{StoreError, exclusions::RecordRef};
use crate::{
    domain::{
        ids::ClientId,
        source::{ObjectKind, Source},
    },
    reconcile::{Field, FieldSet},
};

/// A source record as the worker handles it.
#[derive(Debug, Clone)]
pub struct SourceRecord {
    /// Row id; `None` until first saved.
    id: Option<i64>,
    /// Which system.
    pub source: Source,
    /// `kind:id` in that system (contact and company ids are separate namespaces).
    pub external_id: String,
    /// What kind of object it mirrors.
    pub kind: ObjectKind,
    /// The golden client it feeds, once matched.
    pub client_id: Option<ClientId>,
    /// Active, pending enrichment, or deleted.
    pub status: RecordStatus,
    /// Field values with their times.
    pub fields: FieldSet,
    /// Newest event time applied.
    pub last_event_at_ms: i64,
    /// The operator who placed it on its client by hand: later events keep it there.
    pub placed_by: Option<String>,
}

impl SourceRecord {
    /// A record never stored: no fields, waiting for its first values.
    pub fn new(source: Source, external_id: &str, kind: ObjectKind) -> Self {
        Self {
            id: None,
            source,
            external_id: external_id.to_owned(),
            kind,
            client_id: None,
            status: RecordStatus::PendingEnrichment,
            fields: FieldSet::default(),
            last_event_at_ms: 0,
            placed_by: None,
        }
    }

    /// Whether the record has been saved (a record never heard of before has not).
    pub fn is_stored(&self) -> bool {
        self.id.is_some()
    }

    fn from_model(m: source_records::Model) -> Result<Self, StoreError> {
        let source = m.source.parse().map_err(StoreError::Corrupt)?;
        let kind = m.kind.parse().map_err(StoreError::Corrupt)?;
        let fields = serde_json::from_value(m.fields)
            .map_err(|e| StoreError::Corrupt(format!("source_records {} fields: {e}", m.id)))?;
        Ok(Self {
            id: Some(m.id),
            source,
            external_id: m.external_id,
            kind,
            client_id: m.client_id.map(ClientId::from_uuid),
            status: m.status,
            fields,
            last_event_at_ms: m.last_event_at_ms,
            placed_by: m.placed_by,
        })
    }
}

/// The stored record for (source, external id), or a new empty one. The row stays locked
/// (`FOR UPDATE` on Postgres) until the transaction ends, so two events about one object
/// apply one after the other and neither loses the other's field; a record not yet stored
/// is guarded by its unique index instead (the losing insert is retried and then locks).
pub async fn load_or_new(
    db: &impl ConnectionTrait,
    source: Source,
    external_id: &str,
    kind: ObjectKind,
) -> Result<SourceRecord, StoreError> {
    let found = source_records::Entity::find()
        .filter(source_records::Column::Source.eq(source.as_str()))
        .filter(source_records::Column::ExternalId.eq(external_id))
        .lock_exclusive()
        .one(db)
        .await?;
    match found {
        Some(model) => SourceRecord::from_model(model),
        None => Ok(SourceRecord::new(source, external_id, kind)),
    }
}

/// Inserts or updates the record; a concurrent insert of the same record fails on the unique
/// index and the caller retries the whole event.
pub async fn save(db: &impl ConnectionTrait, record: &mut SourceRecord) -> Result<(), StoreError> {
    save_all(db, &mut [record]).await
}

/// Saves several records: each stored one updated, the new ones inserted together (one
/// statement, split only under the backends' parameter limits) with their row ids read back.
pub async fn save_all(
    db: &impl ConnectionTrait,
    records: &mut [&mut SourceRecord],
) -> Result<(), StoreError> {
    use source_records::Column as C;
    let now = Utc::now();
    let mut new = Vec::new();
    for record in records.iter_mut() {
        let mut model = active_of(record, now)?;
        match record.id {
            Some(id) => {
                model.id = Set(id);
                model.update(db).await?;
            }
            None => {
                model.created_at = Set(now);
                new.push(model);
            }
        }
    }
    let mut ids: HashMap<(String, String), i64> = HashMap::with_capacity(new.len());
    for chunk in super::insert_chunks::<source_records::Entity, _>(new) {
        let mut insert = source_records::Entity::insert_many(chunk).into_query();
        insert.returning(Query::returning().columns([C::Id, C::Source, C::ExternalId]));
        for row in db.query_all(&insert).await? {
            let key = (row.try_get("", "source")?, row.try_get("", "external_id")?);
            ids.insert(key, row.try_get("", "id")?);
        }
    }
    for record in records.iter_mut().filter(|r| r.id.is_none()) {
        let key = (record.source.as_str().to_owned(), record.external_id.clone());
        record.id =
            Some(*ids.get(&key).ok_or_else(|| {
                StoreError::Corrupt(format!("record {} was not inserted", record.external_id))
            })?);
    }
    Ok(())
}

/// A record's row as `save_all` writes it (no id, no creation time, no operator mark).
fn active_of(record: &SourceRecord, now: DateTime<Utc>) -> Result<source_records::ActiveModel, StoreError> {
    let fields = serde_json::to_value(&record.fields)
        .map_err(|e| StoreError::Corrupt(format!("fields do not serialize: {e}")))?;
    Ok(source_records::ActiveModel {
        source: Set(record.source.as_str().to_owned()),
        external_id: Set(record.external_id.clone()),
        kind: Set(record.kind.as_str().to_owned()),
        client_id: Set(record.client_id.map(|c| c.as_uuid())),
        status: Set(record.status),
        fields: Set(fields),
        last_event_at_ms: Set(record.last_event_at_ms),
        email: Set(record.fields.value(Field::Email).map(str::to_owned)),
        document_key: Set(record.fields.value(Field::DocumentKey).map(str::to_owned)),
        updated_at: Set(now),
        ..Default::default()
    })
}

/// Which of `refs` are stored records, in one query.
pub async fn stored_among(
    db: &impl ConnectionTrait,
    refs: &[RecordRef],
) -> Result<HashSet<RecordRef>, StoreError> {
    if refs.is_empty() {
        return Ok(HashSet::new());
    }
    let rows: Vec<(String, String)> = source_records::Entity::find()
        .select_only()
        .columns([source_records::Column::Source, source_records::Column::ExternalId])
        .filter(source_records::Column::ExternalId.is_in(refs.iter().map(|r| r.external_id.as_str())))
        .into_tuple()
        .all(db)
        .await?;
    Ok(refs
        .iter()
        .filter(|r| {
            rows.iter()
                .any(|(s, id)| s == r.source.as_str() && *id == r.external_id)
        })
        .cloned()
        .collect())
}

/// Puts a stored record on `client` by an operator's hand (`by`), or hands it back to the
/// engine (`None`); `save` leaves the mark alone, so only operators set or clear it.
pub async fn place(
    db: &impl ConnectionTrait,
    record: &mut SourceRecord,
    client: Option<ClientId>,
    by: Option<&str>,
) -> Result<(), StoreError> {
    record.client_id = client;
    save(db, record).await?;
    let Some(id) = record.id else {
        return Err(StoreError::Corrupt("a placed record was not stored".into()));
    };
    source_records::Entity::update_many()
        .col_expr(
            source_records::Column::PlacedBy,
            sea_orm::sea_query::Expr::value(by.map(str::to_owned)),
        )
        .filter(source_records::Column::Id.eq(id))
        .exec(db)
        .await?;
    record.placed_by = by.map(str::to_owned);
    Ok(())
}

/// The clients holding any of `records` (active ones), for keeping a record off them.
pub async fn clients_of(
    db: &impl ConnectionTrait,
    records: &[super::exclusions::RecordRef],
) -> Result<Vec<ClientId>, StoreError> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, String, Option<uuid::Uuid>)> = source_records::Entity::find()
        .select_only()
        .columns([
            source_records::Column::Source,
            source_records::Column::ExternalId,
            source_records::Column::ClientId,
        ])
        .filter(source_records::Column::ExternalId.is_in(records.iter().map(|r| r.external_id.as_str())))
        .filter(source_records::Column::Status.eq(RecordStatus::Active))
        .into_tuple()
        .all(db)
        .await?;
    let mut clients: Vec<ClientId> = rows
        .into_iter()
        .filter(|(source, id, _)| {
            records
                .iter()
                .any(|r| r.source.as_str() == source && r.external_id == *id)
        })
        .filter_map(|(_, _, client)| client.map(ClientId::from_uuid))
        .collect();
    clients.sort_unstable();
    clients.dedup();
    Ok(clients)
}

/// Points every record of `from` at `to` (the source merged the objects behind them).
pub async fn relink(db: &impl ConnectionTrait, from: ClientId, to: ClientId) -> Result<(), StoreError> {
    source_records::Entity::update_many()
        .col_expr(
            source_records::Column::ClientId,
            sea_orm::sea_query::Expr::value(to.as_uuid()),
        )
        .col_expr(
            source_records::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(source_records::Column::ClientId.eq(from.as_uuid()))
        .exec(db)
        .await?;
    Ok(())
}

/// How many records (of any status) point at a client.
pub async fn count_linked(db: &impl ConnectionTrait, client: ClientId) -> Result<u64, StoreError> {
    Ok(source_records::Entity::find()
        .filter(source_records::Column::ClientId.eq(client.as_uuid()))
        .count(db)
        .await?)
}

/// Which of `clients` already hold a live record of this source and kind other than `record`.
pub async fn clients_holding_kind(
    db: &impl ConnectionTrait,
    clients: &[ClientId],
    record: &SourceRecord,
) -> Result<Vec<ClientId>, StoreError> {
    if clients.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Option<uuid::Uuid>> = source_records::Entity::find()
        .select_only()
        .column(source_records::Column::ClientId)
        .distinct()
        .filter(source_records::Column::ClientId.is_in(clients.iter().map(|c| c.as_uuid())))
        .filter(source_records::Column::Source.eq(record.source.as_str()))
        .filter(source_records::Column::Kind.eq(record.kind.as_str()))
        .filter(source_records::Column::ExternalId.ne(record.external_id.as_str()))
        .filter(source_records::Column::Status.ne(RecordStatus::Deleted))
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().flatten().map(ClientId::from_uuid).collect())
}

/// Up to `limit` active records with row ids above `after`, in id order, with the last id
/// read: a whole-table scan in pages, for fitting the model without loading every row at once.
pub async fn active_page(
    db: &impl ConnectionTrait,
    after: i64,
    limit: u64,
) -> Result<(Vec<SourceRecord>, Option<i64>), StoreError> {
    use sea_orm::QueryOrder;
    let rows = source_records::Entity::find()
        .filter(source_records::Column::Id.gt(after))
        .filter(source_records::Column::Status.eq(RecordStatus::Active))
        .order_by_asc(source_records::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let last = rows.last().map(|r| r.id);
    let records = rows
        .into_iter()
        .map(SourceRecord::from_model)
        .collect::<Result<_, _>>()?;
    Ok((records, last))
}

/// Every active record feeding a client: the inputs of its merge.
pub async fn linked_active(
    db: &impl ConnectionTrait,
    client: ClientId,
) -> Result<Vec<SourceRecord>, StoreError> {
    source_records::Entity::find()
        .filter(source_records::Column::ClientId.eq(client.as_uuid()))
        .filter(source_records::Column::Status.eq(RecordStatus::Active))
        .all(db)
        .await?
        .into_iter()
        .map(SourceRecord::from_model)
        .collect()
}

/// Every record pointing at a client, whatever its status, oldest first: what an operator
/// sees of where the client came from.
pub async fn linked_all(
    db: &impl ConnectionTrait,
    client: ClientId,
) -> Result<Vec<SourceRecord>, StoreError> {
    use sea_orm::QueryOrder;
    source_records::Entity::find()
        .filter(source_records::Column::ClientId.eq(client.as_uuid()))
        .order_by_asc(source_records::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(SourceRecord::from_model)
        .collect()
}

/// Records by `(source, external_id)`, whatever their status or client.
pub async fn find_many(
    db: &impl ConnectionTrait,
    keys: &[(String, String)],
) -> Result<Vec<SourceRecord>, StoreError> {
    let mut any = sea_orm::Condition::any();
    for (source, id) in keys {
        any = any.add(
            sea_orm::Condition::all()
                .add(source_records::Column::Source.eq(source.as_str()))
                .add(source_records::Column::ExternalId.eq(id.as_str())),
        );
    }
    if any.is_empty() {
        return Ok(Vec::new());
    }
    source_records::Entity::find()
        .filter(any)
        .all(db)
        .await?
        .into_iter()
        .map(SourceRecord::from_model)
        .collect()
}
