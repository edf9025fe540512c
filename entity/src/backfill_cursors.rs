//! Progress of one backfill stream (a HubSpot object type, a ClickUp list).

use sea_orm::entity::prelude::*;

/// One stream's run: what it was asked for, where it got to, and whether it finished.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "backfill_cursors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub stream: String,
    pub since_ms: Option<i64>,
    pub position: Option<String>,
    pub objects: i64,
    pub started_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
}

/// No relations: a cursor stands alone.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
