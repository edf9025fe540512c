//! The engine's match decisions about the client or its records, with their evidence.

use chrono::{DateTime, Utc};
use entity::decisions;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use super::TimelineEntry;
use crate::{domain::ids::ClientId, lookup::LookupError, store::records};

pub(super) async fn decided(
    db: &impl ConnectionTrait,
    client: ClientId,
    held: &[records::SourceRecord],
    since: Option<DateTime<Utc>>,
    fetch: u64,
) -> Result<Vec<TimelineEntry>, LookupError> {
    use decisions::Column as C;
    let mut about = sea_orm::Condition::any().add(C::ClientId.eq(client.as_uuid()));
    for record in held {
        about = about.add(
            sea_orm::Condition::all()
                .add(C::ExternalId.eq(record.external_id.as_str()))
                .add(C::Source.eq(record.source.as_str())),
        );
    }
    let mut query = decisions::Entity::find().filter(about);
    if let Some(since) = since {
        query = query.filter(C::DecidedAt.gte(since));
    }
    let rows = query.order_by_asc(C::DecidedAt).limit(fetch).all(db).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let what = decision_name(row.kind);
            let probability = row
                .probability
                .map_or(String::new(), |p| format!(" (p = {:.3})", p));
            TimelineEntry {
                at: row.decided_at,
                kind: "decision",
                what: what.to_owned(),
                summary: format!("{what}: {}:{}{probability}", row.source, row.external_id),
                detail: json!({
                    "source": row.source,
                    "external_id": row.external_id,
                    "event_id": row.event_id,
                    "client_id": row.client_id,
                    "from_client_id": row.from_client_id,
                    "probability": row.probability,
                    "model_version": row.model_version,
                    "evidence": row.evidence,
                }),
                id: format!("decision:{}", row.id),
            }
        })
        .collect())
}

/// A decision kind as the timeline names it.
pub fn decision_name(kind: decisions::DecisionKind) -> &'static str {
    use decisions::DecisionKind as K;
    match kind {
        K::Link => "link",
        K::NewClient => "new_client",
        K::Ambiguous => "ambiguous",
        K::Merge => "merge",
        K::Move => "move",
        K::Collision => "collision",
        K::Split => "split",
    }
}
