//! UTC days: the window a report covers, the SQL that puts a stored time on its day on each
//! backend, and the arithmetic done over days once they are counted.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{DbBackend, sea_query::Expr};

use super::{ReportError, midnight, next};

/// The longest window: the store keeps inbox rows 400 days by default, so a little more.
pub const MAX_DAYS: u32 = 731;

/// Days a rolling average looks back over, the day itself included.
pub const ROLLING_DAYS: usize = 14;

/// The UTC days `first..=last` a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    first: NaiveDate,
    last: NaiveDate,
}

impl Window {
    /// The `days` days that end with `last`.
    pub fn ending(last: NaiveDate, days: u32) -> Result<Self, ReportError> {
        if days == 0 || days > MAX_DAYS {
            return Err(ReportError::DaysOutOfRange(days));
        }
        let first = last
            .checked_sub_signed(Duration::days(i64::from(days) - 1))
            .ok_or(ReportError::DaysOutOfRange(days))?;
        Ok(Self { first, last })
    }

    /// The first day.
    pub fn first(&self) -> NaiveDate {
        self.first
    }

    /// The last day (today for a report made now).
    pub fn last(&self) -> NaiveDate {
        self.last
    }

    /// Every day, oldest first.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        self.first.iter_days().take_while({
            let last = self.last;
            move |d| *d <= last
        })
    }

    /// The same window started `extra` days earlier (what a rolling average reads).
    pub fn reaching_back(&self, extra: usize) -> Self {
        let extra = i64::try_from(extra).unwrap_or(0);
        Self {
            first: self
                .first
                .checked_sub_signed(Duration::days(extra))
                .unwrap_or(self.first),
            last: self.last,
        }
    }

    /// Times from midnight UTC of the first day, inclusive.
    pub fn start(&self) -> DateTime<Utc> {
        midnight(self.first)
    }

    /// Times before midnight UTC after the last day.
    pub fn end(&self) -> DateTime<Utc> {
        midnight(next(self.last))
    }
}

/// `column`'s UTC day as `YYYY-MM-DD` text, to select. Postgres stores an instant
/// (`timestamptz`), put on its UTC day whatever the session's time zone; SQLite stores RFC 3339
/// text, which `strftime` reads with its offset and writes in UTC.
pub fn of(backend: DbBackend, column: &str) -> Expr {
    match backend {
        DbBackend::Postgres => Expr::cust(format!("CAST(CAST({column} AT TIME ZONE 'UTC' AS date) AS text)")),
        _ => Expr::cust(format!("strftime('%Y-%m-%d', {column})")),
    }
}

/// `column`'s UTC day, to group by: on Postgres a `date`, which hashes in about half the time
/// `to_char` text takes over a million rows (500 ms against 870 ms, 1.07 M rows, warm).
pub fn group_of(backend: DbBackend, column: &str) -> Expr {
    match backend {
        DbBackend::Postgres => Expr::cust(format!("CAST({column} AT TIME ZONE 'UTC' AS date)")),
        _ => of(backend, column),
    }
}

/// Reads a day as the SQL above writes it; `None` for anything else (never expected).
pub fn parse(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// Counts per day over `window`, with days that have no row as zero.
pub fn filled(window: &Window, counts: &BTreeMap<NaiveDate, u64>) -> Vec<u64> {
    window
        .days()
        .map(|day| counts.get(&day).copied().unwrap_or(0))
        .collect()
}

/// The mean of each day's count and the `ROLLING_DAYS - 1` days before it, over
/// `counts` that start `ROLLING_DAYS - 1` days before the first day shown.
pub fn rolling_mean(counts: &[u64]) -> Vec<f64> {
    counts
        .windows(ROLLING_DAYS)
        .map(|days| days.iter().sum::<u64>() as f64 / ROLLING_DAYS as f64)
        .collect()
}

/// The median of `values` (the mean of the middle two for an even count); `None` if empty.
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        parse(text).unwrap()
    }

    #[test]
    fn a_window_of_three_days_ends_on_its_last_day_and_covers_whole_utc_days() {
        let window = Window::ending(day("2026-03-01"), 3).unwrap();
        let days: Vec<_> = window.days().collect();
        assert_eq!(
            days,
            vec![day("2026-02-27"), day("2026-02-28"), day("2026-03-01")]
        );
        assert_eq!(window.start().to_rfc3339(), "2026-02-27T00:00:00+00:00");
        assert_eq!(window.end().to_rfc3339(), "2026-03-02T00:00:00+00:00");
    }

    #[test]
    fn an_empty_or_overlong_window_is_refused() {
        assert!(matches!(
            Window::ending(day("2026-03-01"), 0),
            Err(ReportError::DaysOutOfRange(0))
        ));
        assert!(Window::ending(day("2026-03-01"), MAX_DAYS + 1).is_err());
    }

    #[test]
    fn the_rolling_mean_of_a_day_counts_the_thirteen_before_it_even_when_empty() {
        let mut counts = vec![0; 13];
        counts.push(14);
        counts.push(28);
        assert_eq!(rolling_mean(&counts), vec![1.0, 3.0]);
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(vec![4.0, 1.0, 10.0, 2.0]), Some(3.0));
    }
}
