//! Write-backs to the sources: planned, then sent or failed.

use chrono::{DateTime, Utc};
use entity::outbox;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use super::TimelineEntry;
use crate::{domain::ids::ClientId, lookup::LookupError};

pub(super) async fn writebacks(
    db: &impl ConnectionTrait,
    client: ClientId,
    since: Option<DateTime<Utc>>,
    fetch: u64,
) -> Result<Vec<TimelineEntry>, LookupError> {
    use outbox::Column as C;
    let mut query = outbox::Entity::find().filter(C::ClientId.eq(client.as_uuid()));
    if let Some(since) = since {
        // A row planned before the cursor may have been sent or failed after it.
        query = query.filter(
            sea_orm::Condition::any()
                .add(C::CreatedAt.gte(since))
                .add(C::UpdatedAt.gte(since)),
        );
    }
    let rows = query.order_by_asc(C::CreatedAt).limit(fetch).all(db).await?;
    let mut out = Vec::new();
    for row in rows {
        let target = format!("{} {}.{}", row.source, row.external_id, row.field);
        let detail = json!({
            "outbox_id": row.id,
            "source": row.source,
            "external_id": row.external_id,
            "field": row.field,
            "value": row.value,
            "attempts": row.attempts,
            "last_error": row.last_error,
        });
        out.push(TimelineEntry {
            at: row.created_at,
            kind: "writeback",
            what: "planned".into(),
            summary: format!("write `{}` to {target} planned", row.value),
            detail: detail.clone(),
            id: format!("writeback:{}:planned", row.id),
        });
        let done = match row.status {
            outbox::OutboxStatus::Pending => None,
            outbox::OutboxStatus::Sent => Some(("sent", format!("`{}` written to {target}", row.value))),
            outbox::OutboxStatus::Failed => Some((
                "failed",
                format!(
                    "write to {target} failed: {}",
                    row.last_error.as_deref().unwrap_or("no reason stored")
                ),
            )),
        };
        if let Some((what, summary)) = done {
            out.push(TimelineEntry {
                at: row.updated_at,
                kind: "writeback",
                what: what.into(),
                summary,
                detail,
                id: format!("writeback:{}:{what}", row.id),
            });
        }
    }
    Ok(out)
}
