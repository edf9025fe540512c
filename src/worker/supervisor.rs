//! Consumers that outlive their failures: each consumer runs under a supervisor that restarts it
//! with capped exponential backoff when it ends for any reason but shutdown, and counts how many
//! are consuming so that readiness can say when none is (a worker process whose consumers have
//! all died must not look healthy while the queue grows).

use std::{
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use tokio_util::sync::CancellationToken;

use super::{Worker, guard::guarded};
use crate::{metrics, queue::QueueError};

/// How a consumer that ended unexpectedly is restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// Wait before the first restart.
    pub first_delay: Duration,
    /// Ceiling of the doubling wait, so a consumer that keeps dying is still retried regularly.
    pub max_delay: Duration,
    /// A consumer that ran this long before ending starts again from `first_delay`.
    pub healthy_after: Duration,
}

impl RestartPolicy {
    /// Production waits: 200 ms doubling to 30 s; a minute of work forgives earlier failures.
    pub const STANDARD: Self = Self {
        first_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(30),
        healthy_after: Duration::from_secs(60),
    };
}

/// Where the supervisor is in its life, as readiness reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Consumers have not been started yet.
    Starting = 0,
    /// The supervisor is running consumers and restarting those that end.
    Supervising = 1,
    /// The supervisor has ended (shutdown, or it failed itself): nothing will be restarted.
    Stopped = 2,
}

impl Phase {
    fn from_u8(n: u8) -> Self {
        match n {
            0 => Phase::Starting,
            1 => Phase::Supervising,
            _ => Phase::Stopped,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    phase: AtomicU8,
    wanted: AtomicUsize,
    live: AtomicUsize,
    restarts: AtomicU64,
    last_failure: Mutex<Option<String>>,
    /// The queue trouble last logged, shared by every consumer so one outage is one line.
    trouble: Mutex<Option<String>>,
    /// Consumers holding a message until the database answers again.
    waiting_for_database: AtomicUsize,
    /// Whether a database outage has been logged and not yet its end.
    database_down: AtomicBool,
}

/// The worker's consumers as readiness sees them; a cheap shared handle.
#[derive(Debug, Clone, Default)]
pub struct ConsumerHealth(Arc<State>);

/// A snapshot of the consumers, for `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerReport {
    /// Where the supervisor is.
    pub phase: Phase,
    /// Consumers the process is configured to run.
    pub wanted: usize,
    /// Consumers consuming right now.
    pub live: usize,
    /// Restarts since the process started.
    pub restarts: u64,
    /// Why the last consumer to end ended (for logs and operators; not shown on probes).
    pub last_failure: Option<String>,
    /// Consumers holding a message until the database answers again.
    pub waiting_for_database: usize,
}

impl ConsumerReport {
    /// Whether at least one consumer is taking messages.
    pub fn is_ready(&self) -> bool {
        self.phase == Phase::Supervising && self.live > 0
    }

    /// Why the consumers are not ready, in a sentence; `None` when they are.
    pub fn problem(&self) -> Option<String> {
        if self.is_ready() {
            return None;
        }
        Some(match self.phase {
            Phase::Starting => "the consumers have not started".to_owned(),
            Phase::Stopped => "the consumers have stopped and are not being restarted".to_owned(),
            Phase::Supervising => format!(
                "no consumer is running ({} of {} wanted); they are being restarted ({} restarts so far)",
                self.live, self.wanted, self.restarts
            ),
        })
    }
}

impl ConsumerHealth {
    /// What the consumers are doing now.
    pub fn report(&self) -> ConsumerReport {
        ConsumerReport {
            phase: Phase::from_u8(self.0.phase.load(Ordering::SeqCst)),
            wanted: self.0.wanted.load(Ordering::SeqCst),
            live: self.0.live.load(Ordering::SeqCst),
            restarts: self.0.restarts.load(Ordering::SeqCst),
            last_failure: self
                .0
                .last_failure
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            waiting_for_database: self.0.waiting_for_database.load(Ordering::SeqCst),
        }
    }

    /// Counts a consumer as waiting for the database while the guard lives.
    pub(super) fn waiting_for_database(&self) -> WaitingForDatabase {
        self.0.waiting_for_database.fetch_add(1, Ordering::SeqCst);
        WaitingForDatabase(self.clone())
    }

    /// The database stopped answering: `true` for the first consumer to notice (it logs it).
    pub(super) fn database_lost(&self) -> bool {
        !self.0.database_down.swap(true, Ordering::SeqCst)
    }

    /// The database answers again: `true` for the first consumer to notice (it logs it).
    pub(super) fn database_back(&self) -> bool {
        self.0.database_down.swap(false, Ordering::SeqCst)
    }

    fn supervising(&self, wanted: usize) -> Supervising {
        self.0.wanted.store(wanted, Ordering::SeqCst);
        self.0.phase.store(Phase::Supervising as u8, Ordering::SeqCst);
        Supervising(self.clone())
    }

    fn live(&self) -> Live {
        let live = self.0.live.fetch_add(1, Ordering::SeqCst) + 1;
        metrics::consumers_live(live);
        Live(self.clone())
    }

    fn restarted(&self, why: String) {
        self.0.restarts.fetch_add(1, Ordering::SeqCst);
        *self.0.last_failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(why);
        metrics::consumer_restarted();
    }
}

/// Marks the supervisor stopped when it ends, however it ends (a panic in it included).
struct Supervising(ConsumerHealth);

impl Drop for Supervising {
    fn drop(&mut self) {
        self.0.0.phase.store(Phase::Stopped as u8, Ordering::SeqCst);
    }
}

/// Counts one consumer as waiting for the database while it exists.
pub(super) struct WaitingForDatabase(ConsumerHealth);

impl Drop for WaitingForDatabase {
    fn drop(&mut self) {
        self.0.0.waiting_for_database.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts one consumer live while it exists, so a consumer unwinding from a panic is uncounted.
struct Live(ConsumerHealth);

impl Drop for Live {
    fn drop(&mut self) {
        let live = self.0.0.live.fetch_sub(1, Ordering::SeqCst).saturating_sub(1);
        metrics::consumers_live(live);
    }
}

impl ConsumerHealth {
    /// Whether `trouble` is news: the first consumer to meet it logs it, the others (and the
    /// same consumer on its next backoff) do not, until the queue answers again.
    fn is_new_trouble(&self, trouble: &str) -> bool {
        let mut last = self.0.trouble.lock().unwrap_or_else(PoisonError::into_inner);
        if last.as_deref() == Some(trouble) {
            return false;
        }
        *last = Some(trouble.to_owned());
        true
    }

    /// The queue answered: the next trouble is news again.
    fn trouble_over(&self) {
        let mut last = self.0.trouble.lock().unwrap_or_else(PoisonError::into_inner);
        if last.take().is_some() {
            tracing::info!("queue answering again");
        }
    }
}

impl Worker {
    /// Runs `concurrency` supervised consumers until `shutdown` fires; each finishes its
    /// in-flight messages first. A consumer that ends before that is restarted.
    pub async fn run(
        mut self,
        concurrency: usize,
        batch: usize,
        poll: Duration,
        shutdown: CancellationToken,
    ) {
        self.store.stopping = shutdown.clone();
        let _supervising = self.consumers.supervising(concurrency);
        let tally = self.tally.clone();
        // Stopped after the consumers, so the last summary includes what they drained.
        let summary_stop = CancellationToken::new();
        let summaries = tokio::spawn({
            let stop = summary_stop.clone();
            async move { tally.report_every(Duration::from_secs(60), stop).await }
        });
        let mut slots = tokio::task::JoinSet::new();
        for n in 0..concurrency {
            let worker = self.clone();
            let shutdown = shutdown.clone();
            slots.spawn(async move { worker.keep_consuming(n, batch, poll, shutdown).await });
        }
        while slots.join_next().await.is_some() {}
        summary_stop.cancel();
        let _ = summaries.await;
        tracing::info!("workers stopped");
    }

    /// Runs consumer `n` again and again until shutdown, waiting longer after each quick death.
    async fn keep_consuming(&self, n: usize, batch: usize, poll: Duration, shutdown: CancellationToken) {
        let policy = self.restart;
        let mut delay = policy.first_delay;
        loop {
            let started = Instant::now();
            let ended = {
                let _live = self.consumers.live();
                guarded(self.consume(n, batch, poll, shutdown.clone())).await
            };
            if shutdown.is_cancelled() {
                return;
            }
            let why = match ended {
                Ok(()) => "the consumer loop returned".to_owned(),
                Err(panicked) => panicked.to_string(),
            };
            if started.elapsed() >= policy.healthy_after {
                delay = policy.first_delay;
            }
            tracing::error!(worker = n, reason = %why, ?delay, "consumer ended unexpectedly; restarting it");
            self.consumers.restarted(why);
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(delay) => {}
            }
            delay = delay.saturating_mul(2).min(policy.max_delay);
        }
    }

    /// Takes batches until shutdown. A failure to take or settle one (the queue or the store
    /// failing) is logged and waited out, never the end of the loop.
    async fn consume(&self, n: usize, batch: usize, poll: Duration, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(200);
        // A queue that hangs (a broker, or the embedded queue's database, holding connections
        // open and answering nothing) counts as failing once the wait is well over.
        let hung = poll + self.store.timeout();
        while !shutdown.is_cancelled() {
            let next = tokio::select! {
                () = shutdown.cancelled() => break,
                next = tokio::time::timeout(hung, self.queue.receive(poll)) => next.unwrap_or_else(|_| {
                    Err(QueueError::Unavailable(format!("the queue did not answer within {hung:?}")))
                }),
            };
            let result = match next {
                Ok(Some(first)) => self.settle_batch(first, batch).await.map(|_| ()),
                Ok(None) => Ok(()),
                Err(e) => Err(e.into()),
            };
            match result {
                Ok(()) => {
                    if backoff > Duration::from_millis(200) {
                        self.consumers.trouble_over();
                    }
                    backoff = Duration::from_millis(200);
                }
                Err(e) => {
                    let trouble = e.to_string();
                    if self.consumers.is_new_trouble(&trouble) {
                        tracing::warn!(error = %trouble, "queue trouble; consumers back off until it answers");
                    } else {
                        tracing::debug!(worker = n, error = %trouble, ?backoff, "queue trouble; backing off");
                    }
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_queue_outage_is_news_once_for_all_consumers_until_the_queue_answers() {
        let health = ConsumerHealth::default();
        let other_consumer = health.clone();
        assert!(health.is_new_trouble("login refused"));
        assert!(
            !other_consumer.is_new_trouble("login refused"),
            "a second consumer stays quiet"
        );
        assert!(
            !health.is_new_trouble("login refused"),
            "so does the next backoff"
        );
        assert!(
            health.is_new_trouble("connection refused"),
            "a different trouble is news"
        );
        health.trouble_over();
        assert!(
            health.is_new_trouble("connection refused"),
            "after recovery it is news again"
        );
    }
}
