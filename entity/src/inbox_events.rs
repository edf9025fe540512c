//! Every event received, keyed by its dedup key: redeliveries and re-sends are no-ops.

use sea_orm::entity::prelude::*;

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum InboxStatus {
    /// Applied to its source record and reconciled.
    #[sea_orm(string_value = "processed")]
    Processed,
    /// Carried only ids; waits for the source API fetch.
    #[sea_orm(string_value = "pending_enrichment")]
    PendingEnrichment,
    /// Stored but nothing to apply (an event type we do not act on).
    #[sea_orm(string_value = "ignored")]
    Ignored,
    /// Failed for good; in the dead-letter store with its reason.
    #[sea_orm(string_value = "dead")]
    Dead,
}

/// An inbox row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbox_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub source: String,
    pub event_type: String,
    pub object_id: String,
    pub occurred_at_ms: i64,
    pub received_at: DateTimeUtc,
    pub payload: Json,
    pub status: InboxStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub updated_at: DateTimeUtc,
    /// When retention cleared `payload` (then JSON `null`); the row itself is kept longer.
    pub payload_pruned_at: Option<DateTimeUtc>,
}

/// Inbox rows stand alone.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
