//! Field provenance: which source, record and event set each golden field, and operator pins.

use chrono::Utc;
use entity::field_provenance;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::OnConflict,
};

use super::StoreError;
use crate::{domain::ids::ClientId, reconcile::GoldenField};

/// What a new value replaces in a provenance row: where it came from and when.
const SOURCE_COLUMNS: [field_provenance::Column; 6] = [
    field_provenance::Column::Value,
    field_provenance::Column::Source,
    field_provenance::Column::ExternalId,
    field_provenance::Column::EventId,
    field_provenance::Column::SetAtMs,
    field_provenance::Column::UpdatedAt,
];

/// Records where golden fields' values came from, in one statement (never touches a pinned row).
pub async fn record(
    db: &impl ConnectionTrait,
    client: ClientId,
    fields: &[GoldenField],
) -> Result<(), StoreError> {
    record_all(db, &[(client, fields)]).await
}

/// `record` for several clients, in one statement for all of them (split only under the
/// backends' parameter limits).
pub async fn record_all(
    db: &impl ConnectionTrait,
    clients: &[(ClientId, &[GoldenField])],
) -> Result<(), StoreError> {
    use field_provenance::Column as C;
    let now = Utc::now();
    let rows: Vec<field_provenance::ActiveModel> = clients
        .iter()
        .flat_map(|(client, fields)| {
            fields.iter().map(move |golden| field_provenance::ActiveModel {
                client_id: Set(client.as_uuid()),
                field: Set(golden.field.as_str().to_owned()),
                value: Set(golden.value.clone()),
                source: Set(golden.source.as_str().to_owned()),
                external_id: Set(golden.external_id.clone()),
                event_id: Set(golden.event.clone()),
                set_at_ms: Set(golden.at_ms),
                pinned: Set(false),
                updated_at: Set(now),
            })
        })
        .collect();
    for chunk in super::insert_chunks::<field_provenance::Entity, _>(rows) {
        field_provenance::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::columns([C::ClientId, C::Field])
                    .update_columns(SOURCE_COLUMNS)
                    .action_and_where(C::Pinned.eq(false))
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Who set a pinned value, in the provenance row's `source` column.
pub const OPERATOR: &str = "operator";

/// Pins a golden field to `value` for an operator: recomputes leave it alone until it is cleared.
pub async fn pin(
    db: &impl ConnectionTrait,
    client: ClientId,
    field: crate::reconcile::Field,
    value: Option<String>,
    by: &str,
    reason: &str,
) -> Result<(), StoreError> {
    let now = Utc::now();
    let row = field_provenance::ActiveModel {
        client_id: Set(client.as_uuid()),
        field: Set(field.as_str().to_owned()),
        value: Set(value),
        source: Set(OPERATOR.to_owned()),
        external_id: Set(by.to_owned()),
        event_id: Set(reason.to_owned()),
        set_at_ms: Set(now.timestamp_millis()),
        pinned: Set(true),
        updated_at: Set(now),
    };
    write_pins(db, vec![row]).await
}

/// Writes pinned rows over whatever the fields held.
async fn write_pins(
    db: &impl ConnectionTrait,
    rows: Vec<field_provenance::ActiveModel>,
) -> Result<(), StoreError> {
    use field_provenance::Column as C;
    if rows.is_empty() {
        return Ok(());
    }
    field_provenance::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([C::ClientId, C::Field])
                .update_columns(SOURCE_COLUMNS.into_iter().chain([C::Pinned]))
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Clears a pin; returns whether the field was pinned. The next recompute takes the sources' value.
pub async fn unpin(
    db: &impl ConnectionTrait,
    client: ClientId,
    field: crate::reconcile::Field,
) -> Result<bool, StoreError> {
    use field_provenance::Column as C;
    let result = field_provenance::Entity::update_many()
        .col_expr(C::Pinned, sea_orm::sea_query::Expr::value(false))
        .col_expr(C::UpdatedAt, sea_orm::sea_query::Expr::value(Utc::now()))
        .filter(C::ClientId.eq(client.as_uuid()))
        .filter(C::Field.eq(field.as_str()))
        .filter(C::Pinned.eq(true))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Carries the operator pins of a client being merged away to the client absorbing it, for
/// each field the survivor has not pinned itself: an operator's decision outlives a merge.
pub async fn carry_pins(db: &impl ConnectionTrait, from: ClientId, to: ClientId) -> Result<(), StoreError> {
    use field_provenance::Column as C;
    let pinned = |client: ClientId| {
        field_provenance::Entity::find()
            .filter(C::ClientId.eq(client.as_uuid()))
            .filter(C::Pinned.eq(true))
    };
    let carried = pinned(from).all(db).await?;
    if carried.is_empty() {
        return Ok(());
    }
    let held: Vec<String> = pinned(to)
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.field)
        .collect();
    let rows: Vec<field_provenance::ActiveModel> = carried
        .into_iter()
        .filter(|row| !held.contains(&row.field))
        .map(|row| field_provenance::ActiveModel {
            client_id: Set(to.as_uuid()),
            field: Set(row.field),
            value: Set(row.value),
            source: Set(row.source),
            external_id: Set(row.external_id),
            event_id: Set(row.event_id),
            set_at_ms: Set(row.set_at_ms),
            pinned: Set(true),
            updated_at: Set(Utc::now()),
        })
        .collect();
    write_pins(db, rows).await
}

/// Drops the unpinned provenance of fields the client no longer holds a value for.
pub async fn forget(
    db: &impl ConnectionTrait,
    client: ClientId,
    fields: &[crate::reconcile::Field],
) -> Result<(), StoreError> {
    use field_provenance::Column as C;
    if fields.is_empty() {
        return Ok(());
    }
    field_provenance::Entity::delete_many()
        .filter(C::ClientId.eq(client.as_uuid()))
        .filter(C::Field.is_in(fields.iter().map(|f| f.as_str())))
        .filter(C::Pinned.eq(false))
        .exec(db)
        .await?;
    Ok(())
}
