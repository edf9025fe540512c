//! `clientsync import` runs: counters and statistics per run of a file, kept for reading
//! afterwards and for resuming a run that was stopped.

use sea_orm::entity::prelude::*;

/// Where an import run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ImportStatus {
    /// Reading rows, or stopped part-way (the next run of the same file resumes it).
    #[sea_orm(string_value = "running")]
    Running,
    /// Every row was read and settled.
    #[sea_orm(string_value = "finished")]
    Finished,
    /// Stopped by an error that is not one row's (the store failed); `last_error` says why.
    #[sea_orm(string_value = "failed")]
    Failed,
}

/// One run of one file; `stats` holds the numeric columns' count, min, max and sum.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "import_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub file: String,
    pub file_sha256: String,
    pub source: String,
    pub status: ImportStatus,
    pub options: Json,
    pub rows_read: i64,
    pub rows_loaded: i64,
    pub rows_rejected: i64,
    pub unchanged: i64,
    pub new_clients: i64,
    pub linked: i64,
    pub conflicts: i64,
    /// The file line of the last row of the last committed batch: a resumed run starts after it.
    pub last_line: i64,
    pub stats: Json,
    pub last_error: Option<String>,
    pub started_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

/// A run stands alone: the records it applied have their own inbox rows.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
