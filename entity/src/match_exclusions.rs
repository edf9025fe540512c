//! "Not a match" verdicts: two records an operator said are different clients.

use sea_orm::entity::prelude::*;

/// One excluded pair, stored in both directions so either record finds it by index.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "match_exclusions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub source: String,
    pub external_id: String,
    pub other_source: String,
    pub other_external_id: String,
    pub created_by: String,
    pub created_at: DateTimeUtc,
}

/// No relations: the verdict outlives the clients of the day.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
