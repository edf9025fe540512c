//! Rate windows and injected faults: the natural limits each SaaS enforces per token, and
//! faults a test asks for, decided before a request reaches its handler.

use std::{collections::VecDeque, time::Duration};

use tokio::time::Instant;

/// A fault a test injects: the next `count` API requests (either source) fail this way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer 429 with the source's rate-limit body and headers (remaining 0).
    RateLimit {
        /// How many requests.
        count: u32,
    },
    /// Answer 503, as during an outage.
    ServerError {
        /// How many requests.
        count: u32,
    },
}

/// Injected faults still to serve.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    rate_limit: u32,
    server_error: u32,
}

/// What an injected fault does to the current request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Injected {
    /// Pretend the rate limit is reached.
    RateLimit,
    /// Pretend the service is down.
    ServerError,
}

impl Faults {
    /// Queues a fault.
    pub(crate) fn add(&mut self, fault: Fault) {
        match fault {
            Fault::RateLimit { count } => self.rate_limit = self.rate_limit.saturating_add(count),
            Fault::ServerError { count } => self.server_error = self.server_error.saturating_add(count),
        }
    }

    /// Takes the fault for this request, if any (rate limits first).
    pub(crate) fn take(&mut self) -> Option<Injected> {
        if self.rate_limit > 0 {
            self.rate_limit -= 1;
            Some(Injected::RateLimit)
        } else if self.server_error > 0 {
            self.server_error -= 1;
            Some(Injected::ServerError)
        } else {
            None
        }
    }
}

/// A rolling window (HubSpot's `TEN_SECONDLY_ROLLING`, the search endpoints' per-second one):
/// at most `max` requests in any `interval`.
#[derive(Debug)]
pub(crate) struct RollingWindow {
    max: u32,
    interval: Duration,
    hits: VecDeque<Instant>,
}

impl RollingWindow {
    /// An empty window.
    pub(crate) fn new(max: u32, interval: Duration) -> Self {
        Self {
            max,
            interval,
            hits: VecDeque::new(),
        }
    }

    fn expire(&mut self, now: Instant) {
        while self
            .hits
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.interval)
        {
            self.hits.pop_front();
        }
    }

    /// Counts a request if there is room; the remaining allowance either way.
    pub(crate) fn try_acquire(&mut self, now: Instant) -> Result<u32, ()> {
        self.expire(now);
        let used = u32::try_from(self.hits.len()).unwrap_or(u32::MAX);
        if used >= self.max {
            return Err(());
        }
        self.hits.push_back(now);
        Ok(self.max - used - 1)
    }

    /// What is left without counting a request.
    pub(crate) fn remaining(&mut self, now: Instant) -> u32 {
        self.expire(now);
        self.max
            .saturating_sub(u32::try_from(self.hits.len()).unwrap_or(u32::MAX))
    }

    /// The window's size.
    pub(crate) fn max(&self) -> u32 {
        self.max
    }

    /// The window's length in milliseconds.
    pub(crate) fn interval_ms(&self) -> u128 {
        self.interval.as_millis()
    }
}

/// A fixed window that resets at a known instant (ClickUp's per-minute limit, whose
/// `X-RateLimit-Reset` names that instant).
#[derive(Debug)]
pub(crate) struct FixedWindow {
    max: u32,
    interval: Duration,
    started: Instant,
    started_unix_ms: i64,
    used: u32,
}

impl FixedWindow {
    /// A window starting now.
    pub(crate) fn new(max: u32, interval: Duration) -> Self {
        Self {
            max,
            interval,
            started: Instant::now(),
            started_unix_ms: chrono::Utc::now().timestamp_millis(),
            used: 0,
        }
    }

    fn roll(&mut self, now: Instant) {
        if now.duration_since(self.started) >= self.interval {
            self.started = now;
            self.started_unix_ms = chrono::Utc::now().timestamp_millis();
            self.used = 0;
        }
    }

    /// Counts a request if there is room; the remaining allowance either way.
    pub(crate) fn try_acquire(&mut self, now: Instant) -> Result<u32, ()> {
        self.roll(now);
        if self.used >= self.max {
            return Err(());
        }
        self.used += 1;
        Ok(self.max - self.used)
    }

    /// The window's size.
    pub(crate) fn max(&self) -> u32 {
        self.max
    }

    /// Unix seconds at which the current window resets (rounded up).
    pub(crate) fn reset_unix_secs(&self) -> i64 {
        let interval_ms = i64::try_from(self.interval.as_millis()).unwrap_or(i64::MAX);
        (self.started_unix_ms.saturating_add(interval_ms) + 999) / 1000
    }
}

/// A daily quota (HubSpot's `DAILY` policy); resets at UTC midnight.
#[derive(Debug)]
pub(crate) struct DailyQuota {
    max: u64,
    used: u64,
    day: chrono::NaiveDate,
}

impl DailyQuota {
    /// A fresh quota.
    pub(crate) fn new(max: u64) -> Self {
        Self {
            max,
            used: 0,
            day: chrono::Utc::now().date_naive(),
        }
    }

    /// Whether a request fits, without counting it.
    pub(crate) fn has_room(&mut self) -> bool {
        let today = chrono::Utc::now().date_naive();
        if today != self.day {
            self.day = today;
            self.used = 0;
        }
        self.used < self.max
    }

    /// Counts a request.
    pub(crate) fn count(&mut self) {
        self.used = self.used.saturating_add(1);
    }

    /// The quota.
    pub(crate) fn max(&self) -> u64 {
        self.max
    }

    /// What is left today.
    pub(crate) fn remaining(&self) -> u64 {
        self.max.saturating_sub(self.used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rolling_window_refuses_the_request_after_its_maximum_until_time_passes() {
        let mut w = RollingWindow::new(2, Duration::from_secs(10));
        let t = Instant::now();
        assert_eq!(w.try_acquire(t), Ok(1));
        assert_eq!(w.try_acquire(t), Ok(0));
        assert_eq!(w.try_acquire(t), Err(()));
        assert_eq!(w.try_acquire(t + Duration::from_secs(10)), Ok(1));
    }

    #[test]
    fn injected_rate_limits_are_served_before_server_errors_and_run_out() {
        let mut f = Faults::default();
        f.add(Fault::ServerError { count: 1 });
        f.add(Fault::RateLimit { count: 1 });
        assert_eq!(f.take(), Some(Injected::RateLimit));
        assert_eq!(f.take(), Some(Injected::ServerError));
        assert_eq!(f.take(), None);
    }
}
