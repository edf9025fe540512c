//! Field provenance: which source, record and event set each golden field, and operator pins.

use std::collections::BTreeMap;

use chrono::Utc;
use entity::field_provenance;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::OnConflict,
};

use super::StoreError;
use crate::{
    domain::ids::ClientId,
    reconcile::{Field, GoldenField},
};

/// A client's provenance rows by field.
pub async fn for_client(
    db: &impl ConnectionTrait,
    client: ClientId,
) -> Result<BTreeMap<Field, field_provenance::Model>, StoreError> {
    let rows = field_provenance::Entity::find()
        .filter(field_provenance::Column::ClientId.eq(client.as_uuid()))
        .all(db)
        .await?;
    rows.into_iter()
        .map(|row| {
            let field = Field::parse(&row.field)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown provenance field `{}`", row.field)))?;
            Ok((field, row))
        })
        .collect()
}

/// Records where a golden field's value came from (never touches a pinned row).
pub async fn record(
    db: &impl ConnectionTrait,
    client: ClientId,
    golden: &GoldenField,
) -> Result<(), StoreError> {
    use field_provenance::Column as C;
    let model = field_provenance::ActiveModel {
        client_id: Set(client.as_uuid()),
        field: Set(golden.field.as_str().to_owned()),
        value: Set(golden.value.clone()),
        source: Set(golden.source.as_str().to_owned()),
        external_id: Set(golden.external_id.clone()),
        event_id: Set(golden.event.clone()),
        set_at_ms: Set(golden.at_ms),
        pinned: Set(false),
        updated_at: Set(Utc::now()),
    };
    field_provenance::Entity::insert(model)
        .on_conflict(
            OnConflict::columns([C::ClientId, C::Field])
                .update_columns([
                    C::Value,
                    C::Source,
                    C::ExternalId,
                    C::EventId,
                    C::SetAtMs,
                    C::UpdatedAt,
                ])
                .action_and_where(C::Pinned.eq(false))
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}
