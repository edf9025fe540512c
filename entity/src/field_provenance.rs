//! Where each golden field's value came from, so operators can trust or override it.

use sea_orm::entity::prelude::*;

/// One golden field's provenance.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "field_provenance")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub field: String,
    pub value: Option<String>,
    pub source: String,
    pub external_id: String,
    pub event_id: String,
    pub set_at_ms: i64,
    pub pinned: bool,
    pub updated_at: DateTimeUtc,
}

/// The client the field belongs to.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::clients::Entity",
        from = "Column::ClientId",
        to = "super::clients::Column::Id",
        on_delete = "Cascade"
    )]
    Client,
}

impl Related<super::clients::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Client.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
