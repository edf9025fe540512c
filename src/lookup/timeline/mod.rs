//! A client's history in time order, gathered from where each part is stored: the inbound
//! events about its records (`inbox_events`, echoes of our own writes marked), the engine's
//! match decisions with their evidence (`decisions`), every change of a golden value with the
//! value before and what caused it (`field_history`), write-backs planned, sent or failed (`outbox`), and operator actions (`audit_log` rows about
//! the client, its conflicts or its records).
//!
//! Paged by keyset over `(at, id)`: each part is read from the cursor on, then merged. Entries
//! sharing the cursor's instant beyond one page's worth in one part could be skipped, which
//! takes more than 50 rows of one kind stamped with the same microsecond.

mod actions;
mod cursor;
mod decisions;
mod events;
mod fields;
mod writebacks;

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

pub use cursor::TimelineCursor;
pub use decisions::decision_name;

use super::LookupError;
use crate::{
    domain::ids::ClientId,
    store::{clients, records},
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
    entries.extend(events::events(db, &held, since, fetch).await?);
    entries.extend(decisions::decided(db, client, &held, since, fetch).await?);
    entries.extend(fields::fields(db, client, since, fetch).await?);
    entries.extend(writebacks::writebacks(db, client, since, fetch).await?);
    entries.extend(actions::actions(db, client, &held, since, fetch).await?);
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
