//! Write-backs per UTC day that ended sent or failed, on the day they did (`updated_at`, which
//! the outbox sets when a row is sent or given up on). A failed row retried by an operator and
//! then sent counts once, as sent, on its last day; pending rows are not counted.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use entity::outbox::{self, Column as C, OutboxStatus};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    Table,
    day::{self, Window},
};

/// Write-backs per UTC day over a window.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WriteBacksPerDay {
    /// First day shown.
    pub from: NaiveDate,
    /// Last day shown.
    pub to: NaiveDate,
    /// Every day of the window, oldest first, zeros included.
    pub days: Vec<WritesDay>,
}

/// One day's write-backs.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WritesDay {
    /// The UTC day.
    pub day: NaiveDate,
    /// Written to their source that day.
    pub sent: u64,
    /// Given up on that day.
    pub failed: u64,
}

/// Counts the window's write-backs.
pub async fn make(db: &impl ConnectionTrait, window: &Window) -> Result<WriteBacksPerDay, DbErr> {
    let backend = db.get_database_backend();
    let day_of = day::of(backend, "updated_at");
    let rows: Vec<(String, OutboxStatus, i64)> = outbox::Entity::find()
        .select_only()
        .column_as(day_of, "day")
        .column(C::Status)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(C::Status.is_in([OutboxStatus::Sent, OutboxStatus::Failed]))
        .filter(C::UpdatedAt.gte(window.start()))
        .filter(C::UpdatedAt.lt(window.end()))
        .group_by(day::group_of(backend, "updated_at"))
        .group_by(C::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut counts: BTreeMap<(NaiveDate, bool), u64> = BTreeMap::new();
    for (d, status, n) in rows {
        if let (Some(d), Ok(n)) = (day::parse(&d), u64::try_from(n)) {
            *counts.entry((d, status == OutboxStatus::Sent)).or_default() += n;
        }
    }
    let days = window
        .days()
        .map(|d| WritesDay {
            day: d,
            sent: counts.get(&(d, true)).copied().unwrap_or(0),
            failed: counts.get(&(d, false)).copied().unwrap_or(0),
        })
        .collect();
    Ok(WriteBacksPerDay {
        from: window.first(),
        to: window.last(),
        days,
    })
}

impl WriteBacksPerDay {
    /// A row per day.
    pub fn table(&self) -> Table {
        let mut table = Table::new(&["day", "sent", "failed"]);
        for d in &self.days {
            table.push(vec![d.day.to_string(), d.sent.to_string(), d.failed.to_string()]);
        }
        table
    }
}
