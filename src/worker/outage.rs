//! A database outage is nobody's event's fault. When the work on a message fails in the database
//! and the database then does not answer a ping, the consumer keeps the message, waits until the
//! database answers, and does the work again: no attempt is spent, so an outage of any length
//! dead-letters nothing. A failure while the database answers (a deadlock, a bad row) is the
//! message's own and is retried through the queue as before, so a message that breaks the
//! database cannot loop here. Every wait is bounded: a transaction by `transaction_timeout_ms`
//! (a hung database holds connections open and answers nothing), a ping by the same.

use std::{future::Future, sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

use super::Worker;
use crate::{
    config::DatabaseConfig,
    engine::ProcessError,
    store::{self, StoreError},
};

/// First wait between pings while the database is down; doubles up to `MAX_PAUSE`.
const FIRST_PAUSE: Duration = Duration::from_millis(100);
/// Longest wait between pings, so the worker resumes soon after the database does.
const MAX_PAUSE: Duration = Duration::from_secs(2);

/// What the worker knows of its database besides the pool.
#[derive(Clone)]
pub(super) struct StoreWatch {
    /// `host:port` or the SQLite file, for log lines.
    endpoint: Arc<str>,
    /// Longest one transaction (an event or a batch), and one ping, may take.
    timeout: Duration,
    /// Fires when the consumers stop: a consumer waiting for the database then stops waiting
    /// and leaves its message unsettled (it is delivered again).
    pub(super) stopping: CancellationToken,
}

impl Default for StoreWatch {
    fn default() -> Self {
        Self {
            endpoint: Arc::from("the database"),
            timeout: Duration::from_secs(30),
            stopping: CancellationToken::new(),
        }
    }
}

impl StoreWatch {
    /// The watch for the configured database.
    pub(super) fn from_config(config: &DatabaseConfig) -> Self {
        Self {
            endpoint: Arc::from(config.endpoint()),
            timeout: Duration::from_millis(config.transaction_timeout_ms),
            stopping: CancellationToken::new(),
        }
    }

    /// How long a receive may take beyond its own wait before the queue counts as hung.
    pub(super) fn timeout(&self) -> Duration {
        self.timeout
    }
}

impl Worker {
    /// Runs `work` (one unit of database work, bounded by its maker with `bounded`); when it
    /// fails in the database and the database does not answer, waits for it and runs it again.
    pub(super) async fn outlasting<T, F, Fut>(&self, mut work: F) -> Result<T, ProcessError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ProcessError>>,
    {
        loop {
            match work().await {
                Err(e) if e.is_store_failure() && self.outlast_outage(&e).await => continue,
                other => return other,
            }
        }
    }

    /// `work` within the transaction timeout; past it the database counts as hung.
    pub(super) async fn bounded<T>(
        &self,
        work: impl Future<Output = Result<T, ProcessError>>,
    ) -> Result<T, ProcessError> {
        let limit = self.store.timeout;
        tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
            Err(ProcessError::Store(StoreError::Hung {
                endpoint: self.store.endpoint.to_string(),
                after: limit,
            }))
        })
    }

    /// After `failure` in the database: `false` at once when the database answers (the failure
    /// was the work's own), else `true` once it answers again, or `false` if the consumers are
    /// stopping meanwhile.
    async fn outlast_outage(&self, failure: &ProcessError) -> bool {
        let Err(down) = self.ping().await else {
            return false;
        };
        let _waiting = self.consumers.waiting_for_database();
        if self.consumers.database_lost() {
            tracing::warn!(
                error = %down,
                failure = %failure,
                "database unreachable; consumers keep their messages and pause until it answers (no attempt is spent)"
            );
        }
        let mut pause = FIRST_PAUSE;
        loop {
            tokio::select! {
                () = self.store.stopping.cancelled() => return false,
                () = tokio::time::sleep(pause) => {}
            }
            match self.ping().await {
                Ok(()) => {
                    if self.consumers.database_back() {
                        tracing::info!(endpoint = %self.store.endpoint, "database answering again; consumers resume");
                    }
                    return true;
                }
                Err(e) => {
                    tracing::debug!(error = %e, ?pause, "database still unreachable");
                    pause = (pause * 2).min(MAX_PAUSE);
                }
            }
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        store::ping(&self.db, &self.store.endpoint, self.store.timeout).await
    }
}
