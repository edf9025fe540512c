//! The append-only audit log: who changed what, when, from what to what, and why.

use sea_orm::entity::prelude::*;

/// One change; rows are inserted and never updated or deleted.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: DateTimeUtc,
    pub actor: String,
    pub actor_id: Option<Uuid>,
    pub via: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub before: Option<Json>,
    pub after: Option<Json>,
    pub reason: Option<String>,
    pub undoes: Option<Uuid>,
}

/// No relations: the log outlives what it names.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
