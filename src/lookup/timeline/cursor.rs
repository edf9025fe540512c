//! Where a timeline page ended: the `(at, id)` of its last entry, written as `nanos~id`.

use chrono::{DateTime, TimeZone, Utc};

use super::TimelineEntry;
use crate::lookup::LookupError;

/// Where a timeline page ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineCursor {
    pub(super) at: DateTime<Utc>,
    id: String,
}

impl TimelineCursor {
    /// Reads a `next_after`.
    pub fn parse(raw: &str) -> Result<Self, LookupError> {
        let bad = || LookupError::BadQuery("bad `after` cursor".into());
        let (nanos, id) = raw.split_once('~').ok_or_else(bad)?;
        let at = Utc.timestamp_nanos(nanos.parse().map_err(|_| bad())?);
        Ok(Self {
            at,
            id: id.to_owned(),
        })
    }

    pub(super) fn of(entry: &TimelineEntry) -> Self {
        Self {
            at: entry.at,
            id: entry.id.clone(),
        }
    }

    pub(super) fn before(&self, entry: &TimelineEntry) -> bool {
        (self.at, self.id.as_str()) < (entry.at, entry.id.as_str())
    }
}

impl std::fmt::Display for TimelineCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Nanoseconds: SQLite keeps them, and a cursor cut to µs would show an entry twice.
        write!(
            f,
            "{}~{}",
            self.at.timestamp_nanos_opt().unwrap_or(i64::MAX),
            self.id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_what_it_wrote_even_with_tildes_in_the_id() {
        let cursor = TimelineCursor {
            at: Utc.timestamp_nanos(1_764_000_000_123_456_789),
            id: "event:clickup:w~1".into(),
        };
        assert_eq!(TimelineCursor::parse(&cursor.to_string()).unwrap(), cursor);
        assert!(TimelineCursor::parse("yesterday~x").is_err());
    }
}
