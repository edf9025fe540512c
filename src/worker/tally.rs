//! One info line a minute saying what the worker did; each event alone is logged at debug, so
//! a busy worker's log stays readable and a quiet one says nothing.

use std::{
    collections::BTreeMap,
    sync::{Mutex, PoisonError},
    time::Duration,
};

use tokio_util::sync::CancellationToken;

/// Messages settled since the last summary, by outcome.
#[derive(Debug, Default)]
pub struct Tally(Mutex<BTreeMap<&'static str, u64>>);

impl Tally {
    /// Counts one settled message.
    pub fn count(&self, outcome: &'static str) {
        *self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(outcome)
            .or_default() += 1;
    }

    /// The summary of what was counted since the last call, and a fresh start; `None` when
    /// nothing happened.
    pub fn take(&self) -> Option<String> {
        let counts = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        let total: u64 = counts.values().sum();
        if total == 0 {
            return None;
        }
        let parts: Vec<String> = counts
            .iter()
            .map(|(outcome, n)| format!("{outcome} {n}"))
            .collect();
        Some(format!("{total} messages settled: {}", parts.join(", ")))
    }

    /// Logs the summary every `every` until `shutdown`, and once more on the way out.
    pub async fn report_every(&self, every: Duration, shutdown: CancellationToken) {
        let mut ticks = tokio::time::interval(every);
        ticks.tick().await;
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = ticks.tick() => {}
            }
            if let Some(line) = self.take() {
                tracing::info!("last minute: {line}");
            }
        }
        if let Some(line) = self.take() {
            tracing::info!("before stopping: {line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_counts_outcomes_since_the_last_one_and_is_silent_when_idle() {
        let tally = Tally::default();
        assert_eq!(tally.take(), None);
        for outcome in ["linked", "linked", "duplicate", "retrying"] {
            tally.count(outcome);
        }
        assert_eq!(
            tally.take().as_deref(),
            Some("4 messages settled: duplicate 1, linked 2, retrying 1")
        );
        assert_eq!(tally.take(), None, "counted once");
    }
}
