//! `[retention]`: how long finished data is kept, in days (0 keeps it forever), and how the
//! worker role prunes. Client personal data lives in event payloads, so the defaults keep
//! payloads for a month and event rows (source, type, time; no payload) for a little over a year.

use serde::Deserialize;

use super::ConfigError;

/// Shortest non-zero `inbox_row_days`: an inbox row is how a re-sent event is recognised, and
/// senders re-send for up to a few days (HubSpot retries a failed delivery for about a day).
pub const MIN_INBOX_ROW_DAYS: u32 = 7;

/// Most rows one prune statement names: short statements keep locks short, and both backends
/// take this many bound parameters comfortably.
pub const MAX_BATCH_SIZE: u64 = 10_000;

/// Retention settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// Days the raw payload of a processed (or ignored) event is kept; then it is cleared and
    /// the row stays. 0 keeps payloads as long as their rows.
    pub payload_days: u32,
    /// Days a processed (or ignored) event's inbox row is kept; 0 keeps rows forever.
    pub inbox_row_days: u32,
    /// Days a resolved conflict is kept after its resolution; 0 keeps them forever.
    pub resolved_conflict_days: u32,
    /// Days an outbox row is kept after it was sent; 0 keeps them forever.
    pub sent_outbox_days: u32,
    /// How often the worker role prunes; 0 leaves pruning to `clientsync prune` (a CronJob).
    pub interval_secs: u64,
    /// Rows changed per statement.
    pub batch_size: u64,
}

impl RetentionConfig {
    /// Checks what types alone cannot; names the offending key.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.inbox_row_days != 0 && self.inbox_row_days < MIN_INBOX_ROW_DAYS {
            return Err(ConfigError::BadValue {
                key: "retention.inbox_row_days",
                reason: format!(
                    "must be 0 (keep forever) or at least {MIN_INBOX_ROW_DAYS}: an inbox row is how a \
                     re-sent event is recognised"
                ),
            });
        }
        if !(1..=MAX_BATCH_SIZE).contains(&self.batch_size) {
            return Err(ConfigError::BadValue {
                key: "retention.batch_size",
                reason: format!("must be between 1 and {MAX_BATCH_SIZE}"),
            });
        }
        Ok(())
    }

    /// Whether anything is ever pruned by age.
    pub fn prunes_anything(&self) -> bool {
        [
            self.payload_days,
            self.inbox_row_days,
            self.resolved_conflict_days,
            self.sent_outbox_days,
        ]
        .iter()
        .any(|days| *days > 0)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, sources::EnvSettings};

    fn load(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let env = EnvSettings::from_vars(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        Config::load_from(None, env).map_err(|e| e.to_string())
    }

    #[test]
    fn the_defaults_keep_payloads_a_month_and_rows_a_year_and_a_month() {
        let r = load(&[]).unwrap().retention;
        assert_eq!(
            (
                r.payload_days,
                r.inbox_row_days,
                r.resolved_conflict_days,
                r.sent_outbox_days
            ),
            (30, 400, 400, 30)
        );
        assert_eq!((r.interval_secs, r.batch_size), (3600, 1000));
        assert!(r.prunes_anything());
    }

    #[test]
    fn zero_days_everywhere_keeps_everything_forever() {
        let r = load(&[
            ("CLIENTSYNC_RETENTION__PAYLOAD_DAYS", "0"),
            ("CLIENTSYNC_RETENTION__INBOX_ROW_DAYS", "0"),
            ("CLIENTSYNC_RETENTION__RESOLVED_CONFLICT_DAYS", "0"),
            ("CLIENTSYNC_RETENTION__SENT_OUTBOX_DAYS", "0"),
        ])
        .unwrap()
        .retention;
        assert!(!r.prunes_anything());
    }

    #[test]
    fn inbox_rows_kept_less_than_a_week_are_refused_naming_the_key() {
        let err = load(&[("CLIENTSYNC_RETENTION__INBOX_ROW_DAYS", "3")]).unwrap_err();
        assert!(err.contains("retention.inbox_row_days"), "{err}");
        assert!(load(&[("CLIENTSYNC_RETENTION__INBOX_ROW_DAYS", "7")]).is_ok());
    }

    #[test]
    fn a_batch_of_zero_or_of_too_many_rows_is_refused_naming_the_key() {
        for size in ["0", "10001"] {
            let err = load(&[("CLIENTSYNC_RETENTION__BATCH_SIZE", size)]).unwrap_err();
            assert!(err.contains("retention.batch_size"), "{size}: {err}");
        }
    }

    #[test]
    fn a_negative_or_misspelt_retention_setting_is_refused_naming_it() {
        let err = load(&[("CLIENTSYNC_RETENTION__PAYLOAD_DAYS", "-1")]).unwrap_err();
        assert!(err.contains("CLIENTSYNC_RETENTION__PAYLOAD_DAYS"), "{err}");
        let err = load(&[("CLIENTSYNC_RETENTION__PAYLOAD_DAY", "30")]).unwrap_err();
        assert!(err.contains("retention.payload_day"), "{err}");
    }
}
