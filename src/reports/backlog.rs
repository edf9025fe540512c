//! The backlog now: inbox events not yet processed (`pending_enrichment`: stored, waiting for
//! the source API fetch that completes them), how many and how old the oldest is, beside the
//! dead events that wait for an operator. Events still in the queue, not yet in the inbox,
//! are the queue's depth (the `clientsync_queue_*` metrics), not a stored row.

use chrono::{DateTime, Utc};
use entity::inbox_events::{self, Column as C, InboxStatus};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, Func},
};
use serde::Serialize;
use utoipa::ToSchema;

use super::Table;

/// Unprocessed events as of `at`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Backlog {
    /// When this was counted.
    pub at: DateTime<Utc>,
    /// Events waiting to be processed.
    pub unprocessed: u64,
    /// When the oldest of them was received.
    pub oldest_received_at: Option<DateTime<Utc>>,
    /// Its age in seconds at `at`.
    pub oldest_age_seconds: Option<i64>,
    /// Events that failed for good and wait for an operator's replay or purge.
    pub dead: u64,
}

/// Counts the backlog as of `at`.
pub async fn make(db: &impl ConnectionTrait, at: DateTime<Utc>) -> Result<Backlog, DbErr> {
    let (unprocessed, oldest) = count(db, InboxStatus::PendingEnrichment).await?;
    let (dead, _) = count(db, InboxStatus::Dead).await?;
    Ok(Backlog {
        at,
        unprocessed,
        oldest_received_at: oldest,
        oldest_age_seconds: oldest.map(|oldest| (at - oldest).num_seconds().max(0)),
        dead,
    })
}

async fn count(
    db: &impl ConnectionTrait,
    status: InboxStatus,
) -> Result<(u64, Option<DateTime<Utc>>), DbErr> {
    let row: Option<(i64, Option<DateTime<Utc>>)> = inbox_events::Entity::find()
        .select_only()
        .column_as(Expr::cust("COUNT(*)"), "n")
        .column_as(Expr::from(Func::min(Expr::col(C::ReceivedAt))), "oldest")
        .filter(C::Status.eq(status))
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.map_or((0, None), |(n, oldest)| (u64::try_from(n).unwrap_or(0), oldest)))
}

impl Backlog {
    /// One row.
    pub fn table(&self) -> Table {
        let mut table = Table::new(&[
            "at",
            "unprocessed",
            "oldest_received_at",
            "oldest_age_seconds",
            "dead",
        ]);
        table.push(vec![
            self.at.to_rfc3339(),
            self.unprocessed.to_string(),
            self.oldest_received_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
            self.oldest_age_seconds.map(|s| s.to_string()).unwrap_or_default(),
            self.dead.to_string(),
        ]);
        table
    }
}
