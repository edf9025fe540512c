//! What the service last wrote to one field of one source record.

use sea_orm::entity::prelude::*;

/// The last value written, so the same value is not written again while its echo travels.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "write_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub source: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub external_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub field: String,
    pub value: Option<String>,
    pub written_at: DateTimeUtc,
}

/// No relations: a log row stands alone.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
