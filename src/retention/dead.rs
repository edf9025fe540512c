//! Purging dead events: an operator's explicit decision, never an age rule, because a dead
//! event is work not done (it waits to be replayed once its cause is fixed). A dead event has
//! two copies, the inbox row operators see and the message in the queue's dead-letter store
//! that `replay-dead` moves back; a purge removes both, the queue's first, so that a purge
//! stopped midway leaves nothing a replay would bring back unseen, and running it again
//! finishes it.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use super::RetentionError;
use crate::{queue::EventQueue, store::inbox};

/// Ids read per page while selecting dead events.
const PAGE: u64 = 1000;

/// Which dead events to purge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadPurge {
    /// Only events dead-lettered (last) before this time.
    pub before: DateTime<Utc>,
    /// Only events whose last error contains this text (case-sensitive).
    pub reason: Option<String>,
}

/// What a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Dead inbox rows deleted.
    pub events: u64,
    /// Their messages deleted from the queue's dead-letter store.
    pub dead_letters: u64,
}

/// The inbox ids of the dead events `purge` selects (what a dry run reports).
pub async fn select(db: &DatabaseConnection, purge: &DeadPurge) -> Result<Vec<String>, RetentionError> {
    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = inbox::dead_before(db, purge.before, after.as_deref(), PAGE).await?;
        let full = page.len() as u64 == PAGE;
        after = page.last().map(|(id, _)| id.clone());
        // Filtered here, not by SQL LIKE: Postgres and SQLite disagree on its case rules.
        ids.extend(page.into_iter().filter_map(|(id, error)| {
            let wanted = match &purge.reason {
                Some(reason) => error.as_deref().is_some_and(|e| e.contains(reason.as_str())),
                None => true,
            };
            wanted.then_some(id)
        }));
        if !full {
            return Ok(ids);
        }
    }
}

/// Deletes the dead events `purge` selects from the queue's dead-letter store and from the
/// inbox, `batch` inbox rows per statement, and counts them in
/// `clientsync_pruned_total{what="dead_events"}`.
pub async fn purge(
    db: &DatabaseConnection,
    queue: &dyn EventQueue,
    purge: &DeadPurge,
    batch: u64,
) -> Result<Purged, RetentionError> {
    let ids = select(db, purge).await?;
    if ids.is_empty() {
        return Ok(Purged::default());
    }
    // The events report keeps counting what is deleted here (`reports::rollup`).
    crate::reports::rollup::roll_settled(db, Utc::now()).await?;
    let doomed: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let dead_letters = queue
        .purge_dead(&|body: &[u8]| doomed.contains(inbox::key_of(body).as_str()))
        .await?;
    let mut events = 0;
    for chunk in ids.chunks(usize::try_from(batch.max(1)).unwrap_or(usize::MAX)) {
        events += inbox::delete_dead(db, chunk).await?;
    }
    crate::metrics::pruned("dead_events", events);
    tracing::info!(
        events,
        dead_letters,
        before = %purge.before,
        reason = purge.reason.as_deref().unwrap_or("any"),
        "dead events purged"
    );
    Ok(Purged { events, dead_letters })
}
