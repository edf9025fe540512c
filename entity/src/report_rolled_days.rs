//! Closed UTC days whose events are counted in `report_event_counts`: a day without a row here
//! (or with a late mark) is counted from the inbox on the next read.

use sea_orm::entity::prelude::*;

/// One rolled day.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "report_rolled_days")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    pub rolled_at: DateTimeUtc,
}

/// Days stand alone.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
