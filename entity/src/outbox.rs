//! Planned write-backs: what is still to be written to a source, what was, and what failed.

use sea_orm::entity::prelude::*;

/// Where a planned write stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum OutboxStatus {
    /// Still to be written; due at `next_attempt_at`.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Written to the source.
    #[sea_orm(string_value = "sent")]
    Sent,
    /// Given up on (refused, or out of attempts); `last_error` says why.
    #[sea_orm(string_value = "failed")]
    Failed,
}

/// What a planned write carries a value of: a golden client's field or a project's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum OutboxSubject {
    /// A client field (`reconcile::Field`) to a contact, company or client task.
    #[sea_orm(string_value = "client")]
    Client,
    /// A project field (`reconcile::project::ProjectField`) to a deal or project task.
    #[sea_orm(string_value = "project")]
    Project,
}

/// One planned write of one value to one field of one source record.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub subject: OutboxSubject,
    /// The client the value is from (a project's, when known).
    pub client_id: Option<Uuid>,
    /// The project the value is from, for a project write.
    pub project_id: Option<Uuid>,
    pub source: String,
    pub external_id: String,
    pub kind: String,
    /// The field's name, as its subject's field type spells it.
    pub field: String,
    pub value: String,
    pub status: OutboxStatus,
    /// `source|external_id|field` while pending (`project|…` for a project write), null
    /// otherwise: one pending row per field.
    pub pending_key: Option<String>,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Outbox rows stand alone: a write may outlive the client a merge removed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
