//! What a machine should not decide: kept for an operator to resolve.

use sea_orm::entity::prelude::*;

/// Why a conflict was raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum ConflictKind {
    /// Both systems hold a value for a field and they differ.
    #[sea_orm(string_value = "field_mismatch")]
    FieldMismatch,
    /// A record could belong to more than one client.
    #[sea_orm(string_value = "ambiguous_match")]
    AmbiguousMatch,
    /// The record's keys point at different clients.
    #[sea_orm(string_value = "key_collision")]
    KeyCollision,
}

/// Whether an operator still has to act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ConflictStatus {
    /// Waiting for an operator.
    #[sea_orm(string_value = "open")]
    Open,
    /// Decided by an operator.
    #[sea_orm(string_value = "resolved")]
    Resolved,
}

/// A conflict row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conflicts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: ConflictKind,
    pub status: ConflictStatus,
    pub client_id: Option<Uuid>,
    pub field: Option<String>,
    pub hubspot_value: Option<String>,
    pub clickup_value: Option<String>,
    pub candidates: Json,
    pub source: String,
    pub external_id: String,
    pub event_id: String,
    pub resolution: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// The client the conflict is about, when there is one.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::clients::Entity",
        from = "Column::ClientId",
        to = "super::clients::Column::Id",
        on_delete = "SetNull"
    )]
    Client,
}

impl Related<super::clients::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Client.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
