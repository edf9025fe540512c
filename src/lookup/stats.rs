//! Counters for a dashboard, computed from stored rows on each request (not per-process
//! counters, which every replica would hold differently and lose on restart). Each is one
//! indexed count; the queue's backlog is asked of the queue, which on RabbitMQ is the broker.

use chrono::{DateTime, Duration, Utc};
use entity::{
    conflicts::{ConflictKind, ConflictStatus},
    inbox_events::{self, InboxStatus},
    outbox::{self, OutboxStatus},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::LookupError;
use crate::{queue::EventQueue, store::conflicts::kind_name};

/// Open conflicts by kind.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpenConflicts {
    /// Both systems hold different values for a field.
    pub field_mismatch: u64,
    /// A record could belong to more than one client.
    pub ambiguous_match: u64,
    /// A record's keys point at different clients.
    pub key_collision: u64,
    /// All of them.
    pub total: u64,
}

/// The oldest event received and not yet applied.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Oldest {
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// How long ago, in seconds.
    pub age_seconds: i64,
}

/// What the dashboard shows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Stats {
    /// Open conflicts by kind.
    pub open_conflicts: OpenConflicts,
    /// Events that failed for good and wait in the dead-letter store.
    pub dead_events: u64,
    /// Write-backs given up on (refused, or out of attempts).
    pub failed_writebacks: u64,
    /// The oldest event not yet applied, from stored rows. On the embedded queue it covers
    /// both events still queued and events waiting for their source fetch. On RabbitMQ it covers
    /// only events waiting for their source fetch: the broker keeps no age of the messages it
    /// holds, so its backlog is `queued_events`. Null when nothing waits.
    pub oldest_unprocessed: Option<Oldest>,
    /// Events waiting in the work queue, as the queue counts them: on RabbitMQ the work queue's
    /// ready messages (a passive declare; deliveries a worker holds unacked and delayed retries
    /// are not counted), on the embedded queue its ready rows. Null when the queue cannot be
    /// asked (broker down): the other counters still answer.
    pub queued_events: Option<u64>,
    /// Events received since midnight UTC.
    pub events_today: u64,
    /// When these were counted.
    pub computed_at: DateTime<Utc>,
}

/// Counts everything at `now`; `queue` is asked for its backlog.
pub async fn stats(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    queue: &dyn EventQueue,
) -> Result<Stats, LookupError> {
    let rows: Vec<(ConflictKind, i64)> = entity::conflicts::Entity::find()
        .select_only()
        .column(entity::conflicts::Column::Kind)
        .column_as(entity::conflicts::Column::Id.count(), "n")
        .filter(entity::conflicts::Column::Status.eq(ConflictStatus::Open))
        .group_by(entity::conflicts::Column::Kind)
        .into_tuple()
        .all(db)
        .await?;
    let of = |kind: ConflictKind| {
        rows.iter()
            .find(|(k, _)| kind_name(*k) == kind_name(kind))
            .map_or(0, |(_, n)| u64::try_from(*n).unwrap_or(0))
    };
    let open_conflicts = OpenConflicts {
        field_mismatch: of(ConflictKind::FieldMismatch),
        ambiguous_match: of(ConflictKind::AmbiguousMatch),
        key_collision: of(ConflictKind::KeyCollision),
        total: rows.iter().map(|(_, n)| u64::try_from(*n).unwrap_or(0)).sum(),
    };
    let dead_events = inbox_events::Entity::find()
        .filter(inbox_events::Column::Status.eq(InboxStatus::Dead))
        .count(db)
        .await?;
    let failed_writebacks = outbox::Entity::find()
        .filter(outbox::Column::Status.eq(OutboxStatus::Failed))
        .count(db)
        .await?;
    let waiting: Option<DateTime<Utc>> = inbox_events::Entity::find()
        .select_only()
        .column(inbox_events::Column::ReceivedAt)
        .filter(inbox_events::Column::Status.eq(InboxStatus::PendingEnrichment))
        .order_by_asc(inbox_events::Column::ReceivedAt)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    let queued = queue.oldest_waiting().await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the queue did not say how old its oldest event is");
        None
    });
    let oldest = [waiting, queued].into_iter().flatten().min().map(|at| Oldest {
        received_at: at,
        age_seconds: (now - at).num_seconds().max(0),
    });
    let midnight = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(now - Duration::days(1), |t| t.and_utc());
    let events_today = inbox_events::Entity::find()
        .filter(inbox_events::Column::Status.is_in([
            InboxStatus::Processed,
            InboxStatus::PendingEnrichment,
            InboxStatus::Ignored,
            InboxStatus::Dead,
        ]))
        .filter(inbox_events::Column::ReceivedAt.gte(midnight))
        .count(db)
        .await?;
    let queued_events = queue.depth().await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the queue did not say how many events wait");
        None
    });
    Ok(Stats {
        queued_events,
        open_conflicts,
        dead_events,
        failed_writebacks,
        oldest_unprocessed: oldest,
        events_today,
        computed_at: now,
    })
}
