//! Import runs as the operator API and `clientsync imports` show them: counters, the figures of
//! each `--stat` column with its mean, and where a stopped run would resume.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::import_runs::{self, ImportStatus};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::LookupError;
use crate::{import::stats::ColumnStats, store::imports};

/// One numeric column's figures over the rows loaded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ColumnView {
    /// Rows with a number in the column.
    pub count: u64,
    /// Rows whose cell was not a number (empty cells are not counted).
    pub not_numeric: u64,
    /// Smallest.
    pub min: Option<f64>,
    /// Mean.
    pub mean: Option<f64>,
    /// Largest.
    pub max: Option<f64>,
}

/// One import run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportRunView {
    /// Run id.
    pub id: Uuid,
    /// The file as named when the run started.
    pub file: String,
    /// Hex SHA-256 of the file: a run of the same bytes resumes this one until it finishes.
    pub file_sha256: String,
    /// `hubspot`, `clickup`, `csv as hubspot` or `csv as clickup`.
    pub source: String,
    /// `running` (or stopped part-way: running it again resumes), `finished` or `failed`.
    pub status: &'static str,
    /// Data rows read.
    pub rows_read: i64,
    /// Rows validated and applied (unchanged ones included).
    pub rows_loaded: i64,
    /// Rows refused, listed in `FILE.rejected.csv` with their line and reason.
    pub rows_rejected: i64,
    /// Loaded rows that changed nothing (imported before).
    pub unchanged: i64,
    /// Loaded rows that founded a client.
    pub new_clients: i64,
    /// Loaded rows that joined an existing client.
    pub linked: i64,
    /// Loaded rows that became an ambiguous_match or key_collision conflict.
    pub conflicts: i64,
    /// The line of the last row committed.
    pub last_line: i64,
    /// `--stat` column → figures.
    pub stats: BTreeMap<String, ColumnView>,
    /// Batch size, statistics columns and mapping it was started with.
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
    /// Why a failed run stopped.
    pub last_error: Option<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When its last batch committed.
    pub updated_at: DateTime<Utc>,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<import_runs::Model> for ImportRunView {
    fn from(run: import_runs::Model) -> Self {
        let stats: BTreeMap<String, ColumnStats> = serde_json::from_value(run.stats).unwrap_or_default();
        Self {
            id: run.id,
            file: run.file,
            file_sha256: run.file_sha256,
            source: run.source,
            status: match run.status {
                ImportStatus::Running => "running",
                ImportStatus::Finished => "finished",
                ImportStatus::Failed => "failed",
            },
            rows_read: run.rows_read,
            rows_loaded: run.rows_loaded,
            rows_rejected: run.rows_rejected,
            unchanged: run.unchanged,
            new_clients: run.new_clients,
            linked: run.linked,
            conflicts: run.conflicts,
            last_line: run.last_line,
            stats: stats
                .into_iter()
                .map(|(name, s)| {
                    let view = ColumnView {
                        count: s.count,
                        not_numeric: s.not_numeric,
                        min: s.min,
                        mean: s.mean(),
                        max: s.max,
                    };
                    (name, view)
                })
                .collect(),
            options: run.options,
            last_error: run.last_error,
            started_at: run.started_at,
            updated_at: run.updated_at,
            finished_at: run.finished_at,
        }
    }
}

/// The newest runs first, at most `limit` (1–500).
pub async fn list(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<ImportRunView>, LookupError> {
    if !(1..=500).contains(&limit) {
        return Err(LookupError::BadQuery(format!(
            "limit {limit} is not within 1–500"
        )));
    }
    Ok(imports::list(db, limit)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// One run.
pub async fn show(db: &impl ConnectionTrait, id: Uuid) -> Result<ImportRunView, LookupError> {
    imports::get(db, id)
        .await?
        .map(Into::into)
        .ok_or_else(|| LookupError::NotFound(format!("import run {id}")))
}
