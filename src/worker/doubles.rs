//! A queue that misbehaves on purpose, for tests of consumer supervision and readiness: the
//! real backends cannot be made to panic inside `receive` on demand.

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use async_trait::async_trait;

use crate::queue::{Delivery, EventQueue, QueueError, RetryOutcome};

/// What `receive` does while misbehaving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehaviour {
    /// Panics, as a bug in the consume loop itself would.
    Panic,
    /// Fails, as an unreachable broker would.
    Fail,
}

/// Misbehaves on the first `times` receives, then has nothing to deliver.
pub struct UnrulyQueue {
    misbehaviour: Misbehaviour,
    left: AtomicUsize,
}

impl UnrulyQueue {
    /// A queue that misbehaves `times` times (use `usize::MAX` for always).
    pub fn new(misbehaviour: Misbehaviour, times: usize) -> Self {
        Self {
            misbehaviour,
            left: AtomicUsize::new(times),
        }
    }

    /// How many more receives will misbehave.
    pub fn misbehaviours_left(&self) -> usize {
        self.left.load(Ordering::SeqCst)
    }
}

fn unused() -> QueueError {
    QueueError::Unavailable("this test queue delivers nothing".into())
}

#[async_trait]
impl EventQueue for UnrulyQueue {
    async fn publish(&self, _bodies: &[Vec<u8>]) -> Result<(), QueueError> {
        Err(unused())
    }

    async fn receive(&self, wait: Duration) -> Result<Option<Delivery>, QueueError> {
        let misbehave = self
            .left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        match (misbehave, self.misbehaviour) {
            (true, Misbehaviour::Panic) => panic!("receive blew up"),
            (true, Misbehaviour::Fail) => Err(QueueError::Unavailable("broker down".into())),
            (false, _) => {
                tokio::time::sleep(wait).await;
                Ok(None)
            }
        }
    }

    async fn ack(&self, _delivery: Delivery) -> Result<(), QueueError> {
        Err(unused())
    }

    async fn retry(&self, _delivery: Delivery, _reason: &str) -> Result<RetryOutcome, QueueError> {
        Err(unused())
    }

    async fn dead_letter(&self, _delivery: Delivery, _reason: &str) -> Result<(), QueueError> {
        Err(unused())
    }

    async fn replay_dead(&self, _limit: usize) -> Result<u64, QueueError> {
        Err(unused())
    }

    async fn purge_dead(&self, _doomed: &crate::queue::Doomed<'_>) -> Result<u64, QueueError> {
        Err(unused())
    }

    async fn depth(&self) -> Result<Option<u64>, QueueError> {
        Ok(Some(0))
    }

    async fn ping(&self) -> Result<(), QueueError> {
        Ok(())
    }
}
