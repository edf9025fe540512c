//! People who act on the golden list, each with one role.

use sea_orm::entity::prelude::*;

/// What an operator may do; each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Role {
    /// Reads everything, changes nothing.
    #[sea_orm(string_value = "viewer")]
    Viewer,
    /// Resolves conflicts, links, unlinks, pins and replays.
    #[sea_orm(string_value = "steward")]
    Steward,
    /// Manages operators and tokens and runs bulk actions.
    #[sea_orm(string_value = "admin")]
    Admin,
}

/// One operator; revoked operators stay, so the audit log keeps naming them.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "operators")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub name: String,
    pub role: Role,
    pub password_hash: Option<String>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

/// An operator's tokens.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Personal API tokens.
    #[sea_orm(has_many = "super::operator_tokens::Entity")]
    Tokens,
}

impl Related<super::operator_tokens::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tokens.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
