//! Inbox rows written for a UTC day that had already closed (an event that waited in the queue
//! past midnight): each makes the next report count that day again.

use sea_orm::entity::prelude::*;

/// One late event and the day it counts on.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "report_late_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    #[sea_orm(primary_key, auto_increment = false)]
    pub event_id: String,
    pub noted_at: DateTimeUtc,
}

/// Marks stand alone.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
