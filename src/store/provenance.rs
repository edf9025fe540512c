//! Field provenance: which source, record and event set each golden field, and operator pins.

use chrono::Utc;
use entity::field_provenance;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, sea_query::OnConflict};

use super::StoreError;
use crate::{domain::ids::ClientId, reconcile::GoldenField};

/// Records where golden fields' values came from, in one statement (never touches a pinned row).
pub async fn record(
    db: &impl ConnectionTrait,
    client: ClientId,
    fields: &[GoldenField],
) -> Result<(), StoreError> {
    use field_provenance::Column as C;
    if fields.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let rows = fields.iter().map(|golden| field_provenance::ActiveModel {
        client_id: Set(client.as_uuid()),
        field: Set(golden.field.as_str().to_owned()),
        value: Set(golden.value.clone()),
        source: Set(golden.source.as_str().to_owned()),
        external_id: Set(golden.external_id.clone()),
        event_id: Set(golden.event.clone()),
        set_at_ms: Set(golden.at_ms),
        pinned: Set(false),
        updated_at: Set(now),
    });
    field_provenance::Entity::insert_many(rows)
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
