//! Rows of the embedded queue backend.

use sea_orm::entity::prelude::*;

/// Whether a queued message can still be delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum MessageStatus {
    /// Waiting for (or leased to) a worker.
    #[sea_orm(string_value = "ready")]
    Ready,
    /// Dead-lettered with its reason.
    #[sea_orm(string_value = "dead")]
    Dead,
}

/// A queued message; a lease (`lease_id`, `lease_until_ms`) marks who is working on it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "queue_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub queue: String,
    pub body: Vec<u8>,
    pub attempt: i32,
    pub status: MessageStatus,
    pub available_at_ms: i64,
    pub lease_id: Option<Uuid>,
    pub lease_until_ms: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
}

/// Queue rows stand alone.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
