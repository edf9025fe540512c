//! Import runs: created when a file's import starts, advanced in the same transaction as each
//! batch of its rows, found again by the file's SHA-256 to resume, and read back for reports.

use chrono::{DateTime, Utc};
use entity::import_runs::{self, Column as C, ImportStatus};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

/// What a run is of: the file as named and hashed, and how it is read.
#[derive(Debug, Clone)]
pub struct RunOf<'a> {
    /// The file as given on the command line.
    pub file: &'a str,
    /// Hex SHA-256 of its bytes: the same file, wherever it lies, resumes the same run.
    pub sha256: &'a str,
    /// `hubspot`, `clickup`, `csv as hubspot`…
    pub source: &'a str,
    /// The options it was started with (batch size, statistics columns, mapping).
    pub options: serde_json::Value,
}

/// The counters a run has reached, as committed with its last batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Data rows read.
    pub rows_read: u64,
    /// Rows that passed validation and were applied (unchanged ones included).
    pub rows_loaded: u64,
    /// Rows written to the rejected file.
    pub rows_rejected: u64,
    /// Loaded rows that changed nothing (the same row was imported before).
    pub unchanged: u64,
    /// Loaded rows that founded a client.
    pub new_clients: u64,
    /// Loaded rows that joined a client that already existed.
    pub linked: u64,
    /// Loaded rows that became an ambiguous_match or key_collision conflict.
    pub conflicts: u64,
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

impl Counters {
    /// The counters a stored run holds.
    pub fn of(run: &import_runs::Model) -> Self {
        Self {
            rows_read: unsigned(run.rows_read),
            rows_loaded: unsigned(run.rows_loaded),
            rows_rejected: unsigned(run.rows_rejected),
            unchanged: unsigned(run.unchanged),
            new_clients: unsigned(run.new_clients),
            linked: unsigned(run.linked),
            conflicts: unsigned(run.conflicts),
        }
    }
}

/// Starts a run.
pub async fn create(
    db: &impl ConnectionTrait,
    of: RunOf<'_>,
    now: DateTime<Utc>,
) -> Result<import_runs::Model, DbErr> {
    import_runs::ActiveModel {
        id: Set(Uuid::now_v7()),
        file: Set(of.file.to_owned()),
        file_sha256: Set(of.sha256.to_owned()),
        source: Set(of.source.to_owned()),
        status: Set(ImportStatus::Running),
        options: Set(of.options),
        rows_read: Set(0),
        rows_loaded: Set(0),
        rows_rejected: Set(0),
        unchanged: Set(0),
        new_clients: Set(0),
        linked: Set(0),
        conflicts: Set(0),
        last_line: Set(0),
        stats: Set(serde_json::json!({})),
        last_error: Set(None),
        started_at: Set(now),
        updated_at: Set(now),
        finished_at: Set(None),
    }
    .insert(db)
    .await
}

/// The newest run of this file and source that did not finish: a new run resumes it.
pub async fn resumable(
    db: &impl ConnectionTrait,
    sha256: &str,
    source: &str,
) -> Result<Option<import_runs::Model>, DbErr> {
    import_runs::Entity::find()
        .filter(C::FileSha256.eq(sha256))
        .filter(C::Source.eq(source))
        .filter(C::Status.ne(ImportStatus::Finished))
        .order_by_desc(C::StartedAt)
        .one(db)
        .await
}

/// Records where a run got to; called inside the transaction that applied the batch.
pub async fn advance(
    db: &impl ConnectionTrait,
    id: Uuid,
    counters: Counters,
    last_line: u64,
    stats: serde_json::Value,
) -> Result<(), DbErr> {
    import_runs::Entity::update_many()
        .col_expr(C::Status, Expr::value(ImportStatus::Running))
        .col_expr(C::RowsRead, Expr::value(signed(counters.rows_read)))
        .col_expr(C::RowsLoaded, Expr::value(signed(counters.rows_loaded)))
        .col_expr(C::RowsRejected, Expr::value(signed(counters.rows_rejected)))
        .col_expr(C::Unchanged, Expr::value(signed(counters.unchanged)))
        .col_expr(C::NewClients, Expr::value(signed(counters.new_clients)))
        .col_expr(C::Linked, Expr::value(signed(counters.linked)))
        .col_expr(C::Conflicts, Expr::value(signed(counters.conflicts)))
        .col_expr(C::LastLine, Expr::value(signed(last_line)))
        .col_expr(C::Stats, Expr::value(stats))
        .col_expr(C::UpdatedAt, Expr::value(Utc::now()))
        .filter(C::Id.eq(id))
        .exec(db)
        .await
        .map(drop)
}

/// Ends a run with `status`.
pub async fn finish(
    db: &impl ConnectionTrait,
    id: Uuid,
    status: ImportStatus,
    last_error: Option<&str>,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let mut update = import_runs::Entity::update_many()
        .col_expr(C::Status, Expr::value(status))
        .col_expr(C::UpdatedAt, Expr::value(now));
    if status == ImportStatus::Finished {
        update = update.col_expr(C::FinishedAt, Expr::value(now));
    }
    if let Some(error) = last_error {
        update = update.col_expr(C::LastError, Expr::value(error.to_owned()));
    }
    update.filter(C::Id.eq(id)).exec(db).await.map(drop)
}

/// One run by id.
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<import_runs::Model>, DbErr> {
    import_runs::Entity::find_by_id(id).one(db).await
}

/// The newest runs first.
pub async fn list(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<import_runs::Model>, DbErr> {
    import_runs::Entity::find()
        .order_by_desc(C::StartedAt)
        .order_by_desc(C::Id)
        .limit(limit)
        .all(db)
        .await
}
