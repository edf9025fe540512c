//! One row per object in a source system, linked to the golden client it feeds.

use sea_orm::entity::prelude::*;

/// Where a source record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum RecordStatus {
    /// Carries data and feeds its client.
    #[sea_orm(string_value = "active")]
    Active,
    /// Known only by id (a thin creation event); waits for the source API fetch.
    #[sea_orm(string_value = "pending_enrichment")]
    PendingEnrichment,
    /// Deleted at the source; no longer feeds its client.
    #[sea_orm(string_value = "deleted")]
    Deleted,
}

/// A source record row; `fields` maps field name to `{value, at_ms, event}`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "source_records")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub source: String,
    pub external_id: String,
    pub kind: String,
    pub client_id: Option<Uuid>,
    pub status: RecordStatus,
    pub fields: Json,
    pub last_event_at_ms: i64,
    pub email: Option<String>,
    pub document_key: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The operator who placed the record on its client by hand; the engine keeps it there.
    pub placed_by: Option<String>,
}

/// The client this record is linked to.
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
