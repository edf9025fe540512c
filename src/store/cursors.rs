//! Backfill cursors: one row per stream, written after every finished page.

use chrono::{DateTime, Utc};
use entity::backfill_cursors::{self, Entity as Cursors};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, sea_query::OnConflict};

/// Where one backfill stream is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// `hubspot:contact`, `clickup:list:901…`.
    pub stream: String,
    /// The run reads objects changed at or after this (Unix ms); `None` reads everything.
    pub since_ms: Option<i64>,
    /// The next page to read, in the stream's own terms; `None` before the first page.
    pub position: Option<String>,
    /// Objects applied so far in this run.
    pub objects: i64,
    /// When this run began: the next incremental run reads from here.
    pub started_at: DateTime<Utc>,
    /// When the run read its last page; `None` while it is unfinished.
    pub completed_at: Option<DateTime<Utc>>,
}

/// The stream's cursor, if it ever ran.
pub async fn load(db: &impl ConnectionTrait, stream: &str) -> Result<Option<Cursor>, DbErr> {
    Ok(Cursors::find_by_id(stream.to_owned())
        .one(db)
        .await?
        .map(|row| Cursor {
            stream: row.stream,
            since_ms: row.since_ms,
            position: row.position,
            objects: row.objects,
            started_at: row.started_at,
            completed_at: row.completed_at,
        }))
}

/// Writes the cursor (insert or replace).
pub async fn save(db: &impl ConnectionTrait, cursor: &Cursor) -> Result<(), DbErr> {
    let row = backfill_cursors::ActiveModel {
        stream: Set(cursor.stream.clone()),
        since_ms: Set(cursor.since_ms),
        position: Set(cursor.position.clone()),
        objects: Set(cursor.objects),
        started_at: Set(cursor.started_at),
        updated_at: Set(Utc::now()),
        completed_at: Set(cursor.completed_at),
    };
    Cursors::insert(row)
        .on_conflict(
            OnConflict::column(backfill_cursors::Column::Stream)
                .update_columns([
                    backfill_cursors::Column::SinceMs,
                    backfill_cursors::Column::Position,
                    backfill_cursors::Column::Objects,
                    backfill_cursors::Column::StartedAt,
                    backfill_cursors::Column::UpdatedAt,
                    backfill_cursors::Column::CompletedAt,
                ])
                .to_owned(),
        )
        .exec(db)
        .await
        .map(drop)
}
