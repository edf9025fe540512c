//! Events received per closed UTC day, source and event type: the events report's rollup,
//! filled on read from `inbox_events` (see `src/reports/rollup.rs`).

use sea_orm::entity::prelude::*;

/// One day's count of one source and event type.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "report_event_counts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    #[sea_orm(primary_key, auto_increment = false)]
    pub source: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub event_type: String,
    pub count: i64,
}

/// Counts stand alone.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
