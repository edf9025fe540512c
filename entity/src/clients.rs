//! The golden client record: one row per real-world client.

use sea_orm::entity::prelude::*;

/// A golden client row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    #[sea_orm(unique)]
    pub email: Option<String>,
    #[sea_orm(unique)]
    pub document_key: Option<String>,
    pub document_key_check: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub date_of_birth: Option<String>,
    pub street_number: Option<String>,
    pub street: Option<String>,
    pub address_2: Option<String>,
    pub city: Option<String>,
    pub postcode: Option<String>,
    pub region: Option<String>,
    pub project_status: Option<String>,
    pub payment_status: Option<String>,
    pub version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Links from a client to what hangs off it.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::source_records::Entity")]
    SourceRecords,
    #[sea_orm(has_many = "super::field_provenance::Entity")]
    FieldProvenance,
    #[sea_orm(has_many = "super::conflicts::Entity")]
    Conflicts,
    #[sea_orm(has_many = "super::match_keys::Entity")]
    MatchKeys,
}

impl Related<super::source_records::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SourceRecords.def()
    }
}

impl Related<super::field_provenance::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::FieldProvenance.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
