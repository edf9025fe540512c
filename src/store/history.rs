//! Past values of golden fields: the changes the engine and operators made, appended in the
//! transaction that made them, and read back in time order for a client's timeline.

use chrono::{DateTime, Utc};
use entity::field_history;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::StoreError;
use crate::{
    domain::ids::ClientId,
    reconcile::history::{FieldChange, SetBy},
};

/// The `source` of a change that emptied a field.
pub const EMPTIED: &str = "none";

/// Appends the changes one recompute or pin made to a client; `cause` names what made them
/// (an event id, or `operator:<name>`).
pub async fn append(
    db: &impl ConnectionTrait,
    client: ClientId,
    cause: &str,
    changes: &[FieldChange],
) -> Result<(), StoreError> {
    append_all(db, &[(client, cause, changes)]).await
}

/// `append` for several clients, each with its cause, in one statement for all of them (split
/// only under the backends' parameter limits).
pub async fn append_all(
    db: &impl ConnectionTrait,
    clients: &[(ClientId, &str, &[FieldChange])],
) -> Result<(), StoreError> {
    let now = Utc::now();
    let rows: Vec<field_history::ActiveModel> = clients
        .iter()
        .flat_map(|(client, cause, changes)| {
            changes.iter().map(move |change| {
                let (source, external_id, event_id, set_at_ms) = match &change.by {
                    SetBy::Record {
                        source,
                        external_id,
                        event,
                        at_ms,
                    } => (source.as_str(), external_id.clone(), event.clone(), *at_ms),
                    SetBy::Operator { name, reason } => (
                        super::provenance::OPERATOR,
                        name.clone(),
                        reason.clone(),
                        now.timestamp_millis(),
                    ),
                    SetBy::Emptied => (EMPTIED, String::new(), String::new(), now.timestamp_millis()),
                };
                field_history::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    client_id: Set(client.as_uuid()),
                    field: Set(change.field.as_str().to_owned()),
                    before: Set(change.before.clone()),
                    after: Set(change.after.clone()),
                    source: Set(source.to_owned()),
                    external_id: Set(external_id),
                    event_id: Set(event_id),
                    set_at_ms: Set(set_at_ms),
                    cause: Set((*cause).to_owned()),
                    changed_at: Set(now),
                }
            })
        })
        .collect();
    for chunk in super::insert_chunks::<field_history::Entity, _>(rows) {
        field_history::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Up to `limit` changes of these clients' fields from `since` on, oldest first: a client's
/// own, and those of the clients folded into it.
pub async fn of_clients(
    db: &impl ConnectionTrait,
    clients: &[ClientId],
    since: Option<DateTime<Utc>>,
    limit: u64,
) -> Result<Vec<field_history::Model>, StoreError> {
    use field_history::Column as C;
    let ids = clients.iter().map(|c| c.as_uuid());
    let mut query = field_history::Entity::find().filter(C::ClientId.is_in(ids));
    if let Some(since) = since {
        query = query.filter(C::ChangedAt.gte(since));
    }
    Ok(query
        .order_by_asc(C::ChangedAt)
        .order_by_asc(C::Id)
        .limit(limit)
        .all(db)
        .await?)
}
