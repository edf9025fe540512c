//! A client's history in time order, gathered from where each part is stored: the inbound
//! events about its records (`inbox_events`, echoes of our own writes marked), the engine's
//! match decisions with their evidence (`decisions`), the golden values as last set
//! (`field_provenance`: the store keeps the current value per field, not every past one),
//! write-backs planned, sent or failed (`outbox`), and operator actions (`audit_log` rows about
//! the client, its conflicts or its records).
//!
//! Paged by keyset over `(at, id)`: each part is read from the cursor on, then merged. Entries
//! sharing the cursor's instant beyond one page's worth in one part could be skipped, which
//! takes more than 50 rows of one kind stamped with the same microsecond.

use chrono::{DateTime, TimeZone, Utc};
use entity::{audit_log, conflicts, decisions, field_provenance, inbox_events, outbox};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::LookupError;
use crate::{
    domain::{ids::ClientId, source::Source},
    store::{clients, records},
    worker::enrich::ECHO,
};

/// One thing that happened to a client.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineEntry {
    /// When (received, decided, set, planned or done).
    pub at: DateTime<Utc>,
    /// `event`, `decision`, `field`, `writeback` or `operator`.
    pub kind: &'static str,
    /// Within the kind: the event type, the decision (`link`, `merge`, …), the field name,
    /// `planned`/`sent`/`failed`, or the audit action.
    pub what: String,
    /// One line for a person.
    pub summary: String,
    /// The stored particulars (evidence, payload status, before/after, …).
    #[schema(value_type = Object)]
    pub detail: Value,
    /// Stable id of the entry, for the cursor.
    pub id: String,
}

/// One page of a timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelinePage {
    /// Entries, oldest first.
    pub items: Vec<TimelineEntry>,
    /// Pass as `after` for the next page; null on the last.
    pub next_after: Option<String>,
}

/// Where a timeline page ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineCursor {
    at: DateTime<Utc>,
    id: String,
}

impl TimelineCursor {
    /// Reads a `next_after`.
    pub fn parse(raw: &str) -> Result<Self, LookupError> {
        let bad = || LookupError::BadQuery("bad `after` cursor".into());
        let (nanos, id) = raw.split_once('~').ok_or_else(bad)?;
        let at = Utc.timestamp_nanos(nanos.parse().map_err(|_| bad())?);
        Ok(Self {
            at,
            id: id.to_owned(),
        })
    }

    fn of(entry: &TimelineEntry) -> Self {
        Self {
            at: entry.at,
            id: entry.id.clone(),
        }
    }

    fn before(&self, entry: &TimelineEntry) -> bool {
        (self.at, self.id.as_str()) < (entry.at, entry.id.as_str())
    }
}

impl std::fmt::Display for TimelineCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Nanoseconds: SQLite keeps them, and a cursor cut to µs would show an entry twice.
        write!(
            f,
            "{}~{}",
            self.at.timestamp_nanos_opt().unwrap_or(i64::MAX),
            self.id
        )
    }
}

/// Most conflicts of one client whose audit rows the timeline looks for.
const MAX_CONFLICTS: u64 = 1000;

/// A page of the client's timeline from `after` on.
pub async fn timeline(
    db: &impl ConnectionTrait,
    client: ClientId,
    after: Option<&TimelineCursor>,
    limit: u64,
) -> Result<TimelinePage, LookupError> {
    if clients::load_many(db, &[client]).await?.is_empty() {
        return Err(LookupError::NotFound(format!("client {client}")));
    }
    let since = after.map(|c| c.at);
    // Each part reads this many from the cursor on, so ties at the cursor cannot starve a page.
    let fetch = limit.saturating_add(50);
    let held = records::linked_all(db, client).await?;
    let mut entries = Vec::new();
    entries.extend(events(db, &held, since, fetch).await?);
    entries.extend(decided(db, client, &held, since, fetch).await?);
    entries.extend(fields(db, client).await?);
    entries.extend(writebacks(db, client, since, fetch).await?);
    entries.extend(actions(db, client, &held, since, fetch).await?);
    entries.retain(|e| after.is_none_or(|c| c.before(e)));
    entries.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    entries.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_after = (entries.len() as u64 == limit)
        .then(|| entries.last().map(|e| TimelineCursor::of(e).to_string()))
        .flatten();
    Ok(TimelinePage {
        items: entries,
        next_after,
    })
}

async fn events(
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

async fn decided(
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

async fn fields(db: &impl ConnectionTrait, client: ClientId) -> Result<Vec<TimelineEntry>, LookupError> {
    let rows = field_provenance::Entity::find()
        .filter(field_provenance::Column::ClientId.eq(client.as_uuid()))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
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
        })
        .collect())
}

async fn writebacks(
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

async fn actions(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_what_it_wrote_even_with_tildes_in_the_id() {
        let cursor = TimelineCursor {
            at: Utc.timestamp_nanos(1_764_000_000_123_456_789),
            id: "event:clickup:w~1".into(),
        };
        assert_eq!(TimelineCursor::parse(&cursor.to_string()).unwrap(), cursor);
        assert!(TimelineCursor::parse("yesterday~x").is_err());
    }
}
