//! Events per closed UTC day, source and type, kept in `report_event_counts` so a long window
//! reads one row per day and type instead of every inbox row (10 M rows over 400 days: 4.6 s
//! counted live, a few ms from here). Days are rolled on read: a report rolls the closed days of
//! its window that are not rolled yet, and counts the rest (today) live.
//!
//! A closed day can still gain rows. `received_at` is stamped by the receiver, but the inbox row
//! is written when a worker takes the event off the queue: seconds later normally, days later
//! after a worker outage. So the inbox write leaves a late mark (`report_late_events`) when the
//! day it counts on closed before the write, and a report rolls a marked day again. Ordering
//! makes this safe without locking writers: the writer commits its row with (or before) its
//! mark; the roller first deletes the marks it sees, then counts. A mark the roller did not see
//! was not committed yet, so it survives and the next report recounts; a mark it saw and
//! deleted belongs to a row committed before the count. Rollers of the same day queue on the
//! day's `report_rolled_days` row, which each upserts first (its write lock on SQLite).
//! A day is rolled only `SETTLE` after it closed, so a write that decided "not late" just
//! before midnight has long committed.
//!
//! Retention and purges delete inbox rows; a rolled day keeps counting them. The report says
//! how many events reached us each day, the load carried: an operator reading last March's
//! traffic expects the figure they saw before to stay, and the oldest days of a 400-day chart
//! are exactly the ones retention takes. So retention rolls what it is about to delete first
//! (`roll_settled`). A day recounted after a late event counts the rows still stored.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::{
    inbox_events::{self, Column as Inbox},
    report_event_counts::{self, Column as Counts},
    report_late_events::{self, Column as Late},
    report_rolled_days::{self, Column as Rolled},
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    QuerySelect, QueryTrait, Select, TransactionTrait,
    sea_query::{Expr, Func, OnConflict, Query},
};

use super::{day, midnight, next};

/// How long after a day closes it may be rolled: longer than any inbox write takes between
/// deciding its row is on time and committing it.
pub const SETTLE: Duration = Duration::hours(1);

/// One day's count of one source and event type.
pub(super) type Key = (NaiveDate, String, String);

/// The last day that may be rolled at `now` (closed at least `SETTLE` ago).
pub fn last_settled(now: DateTime<Utc>) -> Option<NaiveDate> {
    (now - SETTLE).date_naive().pred_opt()
}

/// Counts per day, source and type of the days `first..=last` (all settled), rolling first
/// those not rolled yet or marked late.
pub async fn counts(
    db: &DatabaseConnection,
    first: NaiveDate,
    last: NaiveDate,
    now: DateTime<Utc>,
) -> Result<BTreeMap<Key, u64>, DbErr> {
    roll(db, first, last, now).await?;
    let rows: Vec<(NaiveDate, String, String, i64)> = report_event_counts::Entity::find()
        .select_only()
        .columns([Counts::Day, Counts::Source, Counts::EventType, Counts::Count])
        .filter(Counts::Day.between(first, last))
        .into_tuple()
        .all(db)
        .await?;
    Ok(by_key(rows))
}

/// Rolls every settled day from the oldest stored event's that is not rolled yet or marked
/// late: what retention calls before it deletes inbox rows, so the rollup keeps them.
pub async fn roll_settled(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<(), DbErr> {
    let oldest: Option<Option<DateTime<Utc>>> = inbox_events::Entity::find()
        .select_only()
        .column_as(Expr::from(Func::min(Expr::col(Inbox::ReceivedAt))), "oldest")
        .into_tuple()
        .one(db)
        .await?;
    match (oldest.flatten(), last_settled(now)) {
        (Some(oldest), Some(last)) if oldest.date_naive() <= last => {
            roll(db, oldest.date_naive(), last, now).await
        }
        _ => Ok(()),
    }
}

/// Rolls the days of `first..=last` that need it, a run of consecutive days per statement.
async fn roll(
    db: &DatabaseConnection,
    first: NaiveDate,
    last: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let due = due(db, first, last).await?;
    if due.is_empty() {
        return Ok(());
    }
    let txn = db.begin().await?;
    // First statement, a write: SQLite's write lock, and on Postgres the days' row locks that
    // queue a second roller of the same days behind this one (rows in day order: no deadlock).
    report_rolled_days::Entity::insert_many(due.iter().map(|d| report_rolled_days::ActiveModel {
        day: Set(*d),
        rolled_at: Set(now),
    }))
    .on_conflict(
        OnConflict::column(Rolled::Day)
            .update_column(Rolled::RolledAt)
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    for (from, to) in runs(&due) {
        // Marks first, then the count: see the module's doc.
        report_late_events::Entity::delete_many()
            .filter(Late::Day.between(from, to))
            .exec(&txn)
            .await?;
        report_event_counts::Entity::delete_many()
            .filter(Counts::Day.between(from, to))
            .exec(&txn)
            .await?;
        txn.execute(&count_into_rollup(txn.get_database_backend(), from, to)?)
            .await?;
    }
    txn.commit().await
}

/// The days of `first..=last` without a rolled row or with a late mark, oldest first.
async fn due(db: &DatabaseConnection, first: NaiveDate, last: NaiveDate) -> Result<Vec<NaiveDate>, DbErr> {
    let rolled: BTreeSet<NaiveDate> = report_rolled_days::Entity::find()
        .select_only()
        .column(Rolled::Day)
        .filter(Rolled::Day.between(first, last))
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let late: BTreeSet<NaiveDate> = report_late_events::Entity::find()
        .select_only()
        .column(Late::Day)
        .distinct()
        .filter(Late::Day.between(first, last))
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(first
        .iter_days()
        .take_while(|d| *d <= last)
        .filter(|d| !rolled.contains(d) || late.contains(d))
        .collect())
}

/// `days` (ascending) as runs of consecutive days, each `(first, last)`.
fn runs(days: &[NaiveDate]) -> Vec<(NaiveDate, NaiveDate)> {
    let mut runs: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for &d in days {
        match runs.last_mut() {
            Some((_, last)) if next(*last) == d => *last = d,
            _ => runs.push((d, d)),
        }
    }
    runs
}

/// `INSERT INTO report_event_counts` the counts of the days `from..=to`.
fn count_into_rollup(
    backend: DbBackend,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<sea_orm::sea_query::InsertStatement, DbErr> {
    Ok(Query::insert()
        .into_table(report_event_counts::Entity)
        .columns([Counts::Day, Counts::Source, Counts::EventType, Counts::Count])
        .select_from(grouped(backend, from, to).into_query())
        .map_err(|e| DbErr::Custom(format!("building the rollup insert: {e}")))?
        .to_owned())
}

/// Inbox events received on the days `from..=to` counted per day, source and type, as
/// `(day, source, event_type, count)`: what the rollup holds and what the days not rolled are
/// counted live by (an index-only range scan on Postgres).
pub(super) fn grouped(backend: DbBackend, from: NaiveDate, to: NaiveDate) -> Select<inbox_events::Entity> {
    inbox_events::Entity::find()
        .select_only()
        .column_as(day::group_of(backend, "received_at"), "day")
        .column(Inbox::Source)
        .column(Inbox::EventType)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(Inbox::ReceivedAt.gte(midnight(from)))
        .filter(Inbox::ReceivedAt.lt(midnight(next(to))))
        .group_by(day::group_of(backend, "received_at"))
        .group_by(Inbox::Source)
        .group_by(Inbox::EventType)
}

/// Rows of `(day, source, event_type, count)` as counts by key.
pub(super) fn by_key(rows: Vec<(NaiveDate, String, String, i64)>) -> BTreeMap<Key, u64> {
    rows.into_iter()
        .filter_map(|(d, source, event_type, n)| Some(((d, source, event_type), u64::try_from(n).ok()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_day_is_settled_an_hour_after_it_closes() {
        let at = |t: &str| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc);
        assert_eq!(last_settled(at("2026-03-21T00:59:59Z")), Some(day("2026-03-19")));
        assert_eq!(last_settled(at("2026-03-21T01:00:00Z")), Some(day("2026-03-20")));
    }

    #[test]
    fn days_due_are_rolled_as_runs_of_consecutive_days() {
        let days = [day("2026-03-01"), day("2026-03-02"), day("2026-03-04")];
        assert_eq!(
            runs(&days),
            vec![
                (day("2026-03-01"), day("2026-03-02")),
                (day("2026-03-04"), day("2026-03-04"))
            ]
        );
    }
}
