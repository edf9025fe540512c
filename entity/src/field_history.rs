//! Past values of golden fields: one row per change, so a timeline can show what a field was.

use sea_orm::entity::prelude::*;

/// One change of one golden field; appended, never updated.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "field_history")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub field: String,
    /// The value before the change (null: the field was empty).
    pub before: Option<String>,
    /// The value after the change (null: the field was emptied).
    pub after: Option<String>,
    /// Where the new value came from: `hubspot`, `clickup`, `operator`, or `none` when emptied.
    pub source: String,
    /// The record (or the operator, for a pin) that gave the new value.
    pub external_id: String,
    /// The event that gave the new value (or the pin's reason).
    pub event_id: String,
    /// When the source set the new value (Unix ms).
    pub set_at_ms: i64,
    /// What made the change: an event id, a decision (`decision:<id>`) or `operator:<name>`.
    pub cause: String,
    pub changed_at: DateTimeUtc,
}

/// No relations: the history outlives the clients it names.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
