//! Operator actions: audit rows about the client, its conflicts or its records.

use chrono::{DateTime, Utc};
use entity::{audit_log, conflicts};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use super::TimelineEntry;
use crate::{domain::ids::ClientId, lookup::LookupError, store::records};

/// Most conflicts of one client whose audit rows the timeline looks for.
const MAX_CONFLICTS: u64 = 1000;

pub(super) async fn actions(
    db: &impl ConnectionTrait,
    client: ClientId,
    held: &[records::SourceRecord],
    since: Option<DateTime<Utc>>,
    fetch: u64,
) -> Result<Vec<TimelineEntry>, LookupError> {
    use audit_log::Column as C;
    let conflict_ids: Vec<String> = conflicts::Entity::find()
        .select_only()
        .column(conflicts::Column::Id)
        .filter(conflicts::Column::ClientId.eq(client.as_uuid()))
        .limit(MAX_CONFLICTS)
        .into_tuple::<uuid::Uuid>()
        .all(db)
        .await?
        .into_iter()
        .map(|id| id.to_string())
        .collect();
    let record_ids: Vec<String> = held
        .iter()
        // Moves name a record `source/external_id` (`RecordRef`'s form).
        .flat_map(|r| {
            [
                format!("{}:{}", r.source, r.external_id),
                format!("{}/{}", r.source, r.external_id),
                r.external_id.clone(),
            ]
        })
        .collect();
    let mut about = sea_orm::Condition::any().add(
        sea_orm::Condition::all()
            .add(C::TargetKind.eq("client"))
            .add(C::TargetId.eq(client.to_string())),
    );
    if !conflict_ids.is_empty() {
        about = about.add(
            sea_orm::Condition::all()
                .add(C::TargetKind.eq("conflict"))
                .add(C::TargetId.is_in(conflict_ids)),
        );
    }
    if !record_ids.is_empty() {
        about = about.add(
            sea_orm::Condition::all()
                .add(C::TargetKind.eq("record"))
                .add(C::TargetId.is_in(record_ids)),
        );
    }
    let mut query = audit_log::Entity::find().filter(about);
    if let Some(since) = since {
        query = query.filter(C::At.gte(since));
    }
    let rows = query.order_by_asc(C::At).limit(fetch).all(db).await?;
    Ok(rows
        .into_iter()
        .map(|row| TimelineEntry {
            at: row.at,
            kind: "operator",
            what: row.action.clone(),
            summary: format!(
                "{} by {} on {} {}{}",
                row.action,
                row.actor,
                row.target_kind,
                row.target_id,
                row.reason.as_deref().map_or(String::new(), |r| format!(": {r}"))
            ),
            detail: json!({
                "audit_id": row.id,
                "actor": row.actor,
                "via": row.via,
                "target_kind": row.target_kind,
                "target_id": row.target_id,
                "before": row.before,
                "after": row.after,
                "reason": row.reason,
                "undoes": row.undoes,
            }),
            id: format!("operator:{}", row.id),
        })
        .collect())
}
