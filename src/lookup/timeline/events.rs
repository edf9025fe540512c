//! The inbound events about a client's records, echoes of our own writes marked.

use chrono::{DateTime, Utc};
use entity::inbox_events;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use super::TimelineEntry;
use crate::{domain::source::Source, lookup::LookupError, store::records, worker::enrich::ECHO};

pub(super) async fn events(
    db: &impl ConnectionTrait,
    held: &[records::SourceRecord],
    since: Option<DateTime<Utc>>,
    fetch: u64,
) -> Result<Vec<TimelineEntry>, LookupError> {
    use inbox_events::Column as C;
    let mut out = Vec::new();
    for source in [Source::HubSpot, Source::ClickUp] {
        // HubSpot contact and company ids share one namespace in events: the event type says which.
        let objects: Vec<(&str, &str)> = held
            .iter()
            .filter(|r| r.source == source)
            .filter_map(|r| r.external_id.split_once(':'))
            .collect();
        if objects.is_empty() {
            continue;
        }
        let mut query = inbox_events::Entity::find()
            .filter(C::Source.eq(source.as_str()))
            .filter(C::ObjectId.is_in(objects.iter().map(|(_, id)| *id)));
        if let Some(since) = since {
            query = query.filter(C::ReceivedAt.gte(since));
        }
        let rows = query.order_by_asc(C::ReceivedAt).limit(fetch).all(db).await?;
        for row in rows {
            let kind_fits = source != Source::HubSpot
                || objects.iter().any(|(kind, id)| {
                    *id == row.object_id
                        && (row.event_type.starts_with(kind) || !row.event_type.contains('.'))
                });
            if kind_fits {
                out.push(event_entry(row));
            }
        }
    }
    Ok(out)
}

fn event_entry(row: inbox_events::Model) -> TimelineEntry {
    let status = match row.status {
        inbox_events::InboxStatus::Processed => "processed",
        inbox_events::InboxStatus::PendingEnrichment => "pending_enrichment",
        inbox_events::InboxStatus::Ignored => "ignored",
        inbox_events::InboxStatus::Dead => "dead",
    };
    let echo = row.last_error.as_deref() == Some(ECHO);
    let summary = if echo {
        format!(
            "{} {} for {}: echo of our own write, ignored",
            row.source, row.event_type, row.object_id
        )
    } else {
        format!(
            "{} {} for {}: {status}",
            row.source, row.event_type, row.object_id
        )
    };
    TimelineEntry {
        at: row.received_at,
        kind: "event",
        what: row.event_type.clone(),
        summary,
        detail: json!({
            "event_id": row.id,
            "source": row.source,
            "object_id": row.object_id,
            "occurred_at_ms": row.occurred_at_ms,
            "status": status,
            "echo_ignored": echo,
            "attempts": row.attempts,
            "last_error": row.last_error,
            // What the source said changed (null once retention cleared it).
            "payload": row.payload,
        }),
        id: format!("event:{}", row.id),
    }
}
