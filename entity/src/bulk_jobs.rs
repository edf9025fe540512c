//! Bulk actions by filter: one row per job, with its progress, so an admin can watch and cancel it.

use sea_orm::entity::prelude::*;

/// Where a bulk job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum BulkStatus {
    /// Created, not started.
    #[sea_orm(string_value = "queued")]
    Queued,
    /// Working through its rows.
    #[sea_orm(string_value = "running")]
    Running,
    /// Every row was tried.
    #[sea_orm(string_value = "finished")]
    Finished,
    /// Stopped by an admin before the end.
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    /// Stopped by an error that is not one row's (the store failed); `last_error` says why.
    #[sea_orm(string_value = "failed")]
    Failed,
}

/// One bulk job; `request` is the action, filter and resolution as asked.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bulk_jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub action: String,
    pub request: Json,
    pub status: BulkStatus,
    pub total: i64,
    pub done: i64,
    pub failed: i64,
    /// An admin asked it to stop; the runner stops before its next row.
    pub cancelled: bool,
    pub last_error: Option<String>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

/// A job stands alone: the rows it touched have their own audit rows.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
