//! Field changes: what each golden field was and became, from which source, record and event,
//! and what caused the change (an event, or an operator). Read from `field_history`; a field
//! whose value predates the history (no row about it) shows its current value as last set,
//! from `field_provenance`, so older clients still show where each value came from.

use chrono::{DateTime, Utc};
use entity::{field_history, field_provenance};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::json;

use super::TimelineEntry;
use crate::{
    domain::ids::ClientId,
    lookup::LookupError,
    store::{history, provenance::OPERATOR},
};

/// The client's field changes from `since` on, and the values set before the history began.
pub(super) async fn fields(
    db: &impl ConnectionTrait,
    client: ClientId,
    since: Option<DateTime<Utc>>,
    fetch: u64,
) -> Result<Vec<TimelineEntry>, LookupError> {
    let mut out: Vec<TimelineEntry> = history::of_client(db, client, since, fetch)
        .await?
        .into_iter()
        .map(change_entry)
        .collect();
    out.extend(untracked(db, client, since).await?);
    Ok(out)
}

fn change_entry(row: field_history::Model) -> TimelineEntry {
    let shown = |v: &Option<String>| v.as_deref().map_or("(empty)".to_owned(), |v| format!("`{v}`"));
    let (before, after) = (shown(&row.before), shown(&row.after));
    let summary = match row.source.as_str() {
        OPERATOR => format!("{} {before} → {after}, pinned by {}", row.field, row.external_id),
        history::EMPTIED => format!("{} {before} → {after}: no record holds it any more", row.field),
        source => format!(
            "{} {before} → {after} from {source} {} (event {})",
            row.field, row.external_id, row.event_id
        ),
    };
    TimelineEntry {
        at: row.changed_at,
        kind: "field",
        what: row.field.clone(),
        summary,
        detail: json!({
            "before": row.before,
            "value": row.after,
            "source": row.source,
            "external_id": row.external_id,
            "event_id": row.event_id,
            "set_at_ms": row.set_at_ms,
            "pinned": row.source == OPERATOR,
            "cause": row.cause,
        }),
        id: format!("field:{}", row.id),
    }
}

/// Current values of fields the history holds nothing about (set before it existed).
async fn untracked(
    db: &impl ConnectionTrait,
    client: ClientId,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<TimelineEntry>, LookupError> {
    let tracked: Vec<String> = field_history::Entity::find()
        .select_only()
        .column(field_history::Column::Field)
        .distinct()
        .filter(field_history::Column::ClientId.eq(client.as_uuid()))
        .into_tuple::<String>()
        .all(db)
        .await?;
    let mut query = field_provenance::Entity::find()
        .filter(field_provenance::Column::ClientId.eq(client.as_uuid()))
        .filter(field_provenance::Column::Field.is_not_in(tracked));
    if let Some(since) = since {
        query = query.filter(field_provenance::Column::UpdatedAt.gte(since));
    }
    Ok(query.all(db).await?.into_iter().map(current_entry).collect())
}

fn current_entry(row: field_provenance::Model) -> TimelineEntry {
    let value = row.value.clone().unwrap_or_default();
    let summary = if row.pinned {
        format!("{} pinned to `{value}` by {}", row.field, row.external_id)
    } else {
        format!(
            "{} set to `{value}` from {} {}",
            row.field, row.source, row.external_id
        )
    };
    TimelineEntry {
        at: row.updated_at,
        kind: "field",
        what: row.field.clone(),
        summary,
        detail: json!({
            "value": row.value,
            "source": row.source,
            "external_id": row.external_id,
            "event_id": row.event_id,
            "set_at_ms": row.set_at_ms,
            "pinned": row.pinned,
        }),
        id: format!("field:{}", row.field),
    }
}
