//! Conflicts opened (by `created_at`) and resolved (by `resolved_at`) per UTC day, and how long
//! the ones resolved took: per day and over the window, as a median, which one conflict left
//! open for a month does not drag the way it drags a mean.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::conflicts::{self, Column as C, ConflictStatus};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    Table,
    day::{self, Window},
};

/// Conflicts per UTC day over a window.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ConflictsPerDay {
    /// First day shown.
    pub from: NaiveDate,
    /// Last day shown.
    pub to: NaiveDate,
    /// Median seconds from opening to resolution of the conflicts resolved in the window.
    pub median_seconds_to_resolve: Option<f64>,
    /// Every day of the window, oldest first, zeros included.
    pub days: Vec<ConflictsDay>,
}

/// One day's conflicts.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ConflictsDay {
    /// The UTC day.
    pub day: NaiveDate,
    /// Conflicts raised that day.
    pub opened: u64,
    /// Conflicts resolved that day.
    pub resolved: u64,
    /// Median seconds from opening to resolution of those resolved that day.
    pub median_seconds_to_resolve: Option<f64>,
}

/// Counts the window's conflicts.
pub async fn make(db: &impl ConnectionTrait, window: &Window) -> Result<ConflictsPerDay, DbErr> {
    let backend = db.get_database_backend();
    let day_of = day::of(backend, "created_at");
    let opened: Vec<(String, i64)> = conflicts::Entity::find()
        .select_only()
        .column_as(day_of, "day")
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(C::CreatedAt.gte(window.start()))
        .filter(C::CreatedAt.lt(window.end()))
        .group_by(day::group_of(backend, "created_at"))
        .into_tuple()
        .all(db)
        .await?;
    let opened: BTreeMap<NaiveDate, u64> = opened
        .into_iter()
        .filter_map(|(d, n)| Some((day::parse(&d)?, u64::try_from(n).ok()?)))
        .collect();

    // Each resolved conflict's two times: as many rows as conflicts resolved in the window,
    // which operators resolve by hand (thousands, not millions).
    let resolved: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = conflicts::Entity::find()
        .select_only()
        .column(C::CreatedAt)
        .column(C::ResolvedAt)
        .filter(C::Status.eq(ConflictStatus::Resolved))
        .filter(C::ResolvedAt.gte(window.start()))
        .filter(C::ResolvedAt.lt(window.end()))
        .into_tuple()
        .all(db)
        .await?;
    let mut took: BTreeMap<NaiveDate, Vec<f64>> = BTreeMap::new();
    for (created, resolved) in resolved {
        let Some(resolved) = resolved else { continue };
        let seconds = (resolved - created).num_milliseconds() as f64 / 1000.0;
        took.entry(resolved.date_naive()).or_default().push(seconds);
    }

    let median_seconds_to_resolve = day::median(took.values().flatten().copied().collect());
    let days = window
        .days()
        .map(|d| {
            let took = took.get(&d).cloned().unwrap_or_default();
            ConflictsDay {
                day: d,
                opened: opened.get(&d).copied().unwrap_or(0),
                resolved: took.len() as u64,
                median_seconds_to_resolve: day::median(took),
            }
        })
        .collect();
    Ok(ConflictsPerDay {
        from: window.first(),
        to: window.last(),
        median_seconds_to_resolve,
        days,
    })
}

impl ConflictsPerDay {
    /// A row per day.
    pub fn table(&self) -> Table {
        let mut table = Table::new(&["day", "opened", "resolved", "median_seconds_to_resolve"]);
        for d in &self.days {
            table.push(vec![
                d.day.to_string(),
                d.opened.to_string(),
                d.resolved.to_string(),
                d.median_seconds_to_resolve
                    .map(|s| format!("{s:.0}"))
                    .unwrap_or_default(),
            ]);
        }
        table
    }
}
