//! Field changes: what each golden field was and became, from which source, record and event,
//! and what caused the change (an event, or an operator). Read from `field_history`; a field
//! whose value predates the history (no row about it) shows its current value as last set,
//! from `field_provenance`, so older clients still show where each value came from. The
//! history of a client that a merge (or a lone record's move) folded into this one is part of
//! this client's past, so it shows too, marked with the client it happened on.

use chrono::{DateTime, Utc};
use entity::{
    decisions::{self, DecisionKind},
    field_history, field_provenance,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::json;
use uuid::Uuid;

use super::TimelineEntry;
use crate::{
    domain::ids::ClientId,
    lookup::LookupError,
    store::{clients, history, provenance::OPERATOR},
};

/// The client's field changes from `since` on, and the values set before the history began.
pub(super) async fn fields(
    db: &impl ConnectionTrait,
    client: ClientId,
    since: Option<DateTime<Utc>>,
    fetch: u64,
) -> Result<Vec<TimelineEntry>, LookupError> {
    let mut whose = folded_into(db, client).await?;
    whose.push(client);
    let mut out: Vec<TimelineEntry> = history::of_clients(db, &whose, since, fetch)
        .await?
        .into_iter()
        .map(|row| change_entry(row, client))
        .collect();
    out.extend(untracked(db, client, since).await?);
    Ok(out)
}

/// The clients that merges and lone records' moves removed into `client`, directly or through
/// clients that were themselves folded in later; each is gone, so its history has no other home.
async fn folded_into(db: &impl ConnectionTrait, client: ClientId) -> Result<Vec<ClientId>, LookupError> {
    use decisions::Column as C;
    let mut found: Vec<ClientId> = Vec::new();
    let mut frontier = vec![client];
    while !frontier.is_empty() {
        let rows = decisions::Entity::find()
            .filter(C::ClientId.is_in(frontier.iter().map(|c| c.as_uuid())))
            .filter(C::Kind.is_in([DecisionKind::Merge, DecisionKind::Move]))
            .all(db)
            .await?;
        let mut next: Vec<ClientId> = rows.iter().flat_map(predecessors).collect();
        next.sort_by_key(|c| c.as_uuid());
        next.dedup();
        next.retain(|c| *c != client && !found.contains(c));
        // A move leaves its old client in place when other records still feed it.
        let alive: Vec<Uuid> = clients::load_many(db, &next)
            .await?
            .iter()
            .map(|c| c.id)
            .collect();
        next.retain(|c| !alive.contains(&c.as_uuid()));
        found.extend(&next);
        frontier = next;
    }
    Ok(found)
}

/// The clients a merge or move decision took records from: its `from_client_id` and, for a
/// merge of several, every id its evidence lists as absorbed.
fn predecessors(row: &decisions::Model) -> Vec<ClientId> {
    let absorbed = row.evidence.get("absorbed").and_then(|a| a.as_array());
    let listed = absorbed
        .into_iter()
        .flatten()
        .filter_map(|id| id.as_str().and_then(|s| Uuid::parse_str(s).ok()));
    row.from_client_id
        .into_iter()
        .chain(listed)
        .map(ClientId::from_uuid)
        .collect()
}

fn change_entry(row: field_history::Model, shown_on: ClientId) -> TimelineEntry {
    let shown = |v: &Option<String>| v.as_deref().map_or("(empty)".to_owned(), |v| format!("`{v}`"));
    let (before, after) = (shown(&row.before), shown(&row.after));
    let folded = if row.client_id == shown_on.as_uuid() {
        String::new()
    } else {
        format!(" (on client {}, since merged into this one)", row.client_id)
    };
    let summary = match row.source.as_str() {
        OPERATOR => format!("{} {before} → {after}, pinned by {}", row.field, row.external_id),
        history::EMPTIED => format!("{} {before} → {after}: no record holds it any more", row.field),
        source => format!(
            "{} {before} → {after} from {source} {} (event {})",
            row.field, row.external_id, row.event_id
        ),
    } + &folded;
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
            "client_id": row.client_id,
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
