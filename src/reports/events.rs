//! Events per day, by source and type, counted by when they were *received* (`received_at`):
//! what reached us that day, which is the load the service carried. `occurred_at` is the
//! sender's clock and a backfill replays old `occurred_at`s, which would pile history on days
//! when nothing arrived.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    Table,
    day::{self, ROLLING_DAYS, Window},
    next,
    rollup::{self, Key},
};

/// Events received per UTC day over a window.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventsPerDay {
    /// First day shown.
    pub from: NaiveDate,
    /// Last day shown (today for a report made now).
    pub to: NaiveDate,
    /// Every day of the window, oldest first, zeros included.
    pub days: Vec<EventsDay>,
}

/// One day's events.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventsDay {
    /// The UTC day.
    pub day: NaiveDate,
    /// Events received that day.
    pub total: u64,
    /// Mean of `total` over this day and the 13 before it.
    pub total_avg_14d: f64,
    /// Per source and event type: each pair seen in the window or the 13 days before it.
    pub by_type: Vec<EventCount>,
}

/// One source and event type on one day.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventCount {
    /// `hubspot` or `clickup`.
    pub source: String,
    /// The sender's event type, e.g. `contact.propertyChange`.
    pub event_type: String,
    /// Events received that day.
    pub count: u64,
    /// Mean of `count` over this day and the 13 before it.
    pub avg_14d: f64,
}

/// Counts the window's events, and the 13 days before it that the rolling average reads:
/// settled days from the rollup (rolling those not rolled yet), the rest live from the inbox.
pub async fn make(
    db: &DatabaseConnection,
    window: &Window,
    now: DateTime<Utc>,
) -> Result<EventsPerDay, DbErr> {
    let read = window.reaching_back(ROLLING_DAYS - 1);
    let settled = rollup::last_settled(now).map(|d| d.min(read.last()));
    let mut counts = match settled {
        Some(last) if last >= read.first() => rollup::counts(db, read.first(), last, now).await?,
        _ => BTreeMap::new(),
    };
    let live_from = settled.map_or(read.first(), |last| next(last).max(read.first()));
    if live_from <= read.last() {
        counts.extend(live(db, live_from, read.last()).await?);
    }

    let mut series: BTreeMap<(String, String), BTreeMap<NaiveDate, u64>> = BTreeMap::new();
    let mut totals: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    for ((d, source, event_type), n) in counts {
        *series
            .entry((source, event_type))
            .or_default()
            .entry(d)
            .or_default() += n;
        *totals.entry(d).or_default() += n;
    }

    let shown = window.days().count();
    let total_counts = day::filled(&read, &totals);
    let total_means = day::rolling_mean(&total_counts);
    let per_series: Vec<_> = series
        .into_iter()
        .map(|(key, counts)| {
            let filled = day::filled(&read, &counts);
            let means = day::rolling_mean(&filled);
            (key, filled, means)
        })
        .collect();
    let skip = ROLLING_DAYS - 1;
    let days = window
        .days()
        .enumerate()
        .take(shown)
        .map(|(i, d)| EventsDay {
            day: d,
            total: total_counts.get(skip + i).copied().unwrap_or(0),
            total_avg_14d: total_means.get(i).copied().unwrap_or(0.0),
            by_type: per_series
                .iter()
                .map(|((source, event_type), filled, means)| EventCount {
                    source: source.clone(),
                    event_type: event_type.clone(),
                    count: filled.get(skip + i).copied().unwrap_or(0),
                    avg_14d: means.get(i).copied().unwrap_or(0.0),
                })
                .collect(),
        })
        .collect();
    Ok(EventsPerDay {
        from: window.first(),
        to: window.last(),
        days,
    })
}

/// Counts of the days `first..=last` straight from the inbox: the days not settled yet.
async fn live(
    db: &DatabaseConnection,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<BTreeMap<Key, u64>, DbErr> {
    let rows = rollup::grouped(db.get_database_backend(), first, last)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rollup::by_key(rows))
}

impl EventsPerDay {
    /// A row per day for all events (source and type `all`), then one per source and type.
    pub fn table(&self) -> Table {
        let mut table = Table::new(&["day", "source", "event_type", "count", "avg_14d"]);
        for d in &self.days {
            table.push(vec![
                d.day.to_string(),
                "all".into(),
                "all".into(),
                d.total.to_string(),
                format!("{:.2}", d.total_avg_14d),
            ]);
            for c in &d.by_type {
                table.push(vec![
                    d.day.to_string(),
                    c.source.clone(),
                    c.event_type.clone(),
                    c.count.to_string(),
                    format!("{:.2}", c.avg_14d),
                ]);
            }
        }
        table
    }
}
