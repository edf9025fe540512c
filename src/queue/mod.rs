//! The durable queue between receiver and worker: one trait, two backends.
//!
//! `publish` returns only once every event is durably accepted (RabbitMQ publisher
//! confirms, or a committed database transaction), so the receiver may answer 2xx.

pub mod embedded;
pub mod rabbitmq;

use std::time::Duration;

use async_trait::async_trait;

pub use crate::domain::event::Envelope;

/// Why the queue could not do what was asked; the receiver maps every variant to 503.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The broker or database cannot be reached right now.
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    /// The broker refused our user or password: retrying will not help until the URL changes.
    #[error(
        "RabbitMQ at {endpoint} refused the login: check the user and password in CLIENTSYNC_QUEUE__AMQP_URL"
    )]
    LoginRefused {
        /// `host:port` of the broker.
        endpoint: String,
    },
    /// The broker answered with a negative confirm.
    #[error("publish not confirmed by the broker")]
    Nacked,
    /// The broker returned the message as unroutable (mandatory publish).
    #[error("publish returned as unroutable")]
    Unroutable,
    /// No confirm arrived in time.
    #[error("publish confirm timed out")]
    ConfirmTimeout,
    /// The embedded backend's database failed.
    #[error("the queue's database at {endpoint} failed: {source}")]
    Store {
        /// Where the database is (`host:port` or the SQLite file).
        endpoint: String,
        /// What it said.
        source: sea_orm::DbErr,
    },
}

/// One message handed to a worker, with what the backend needs to settle it.
#[derive(Debug)]
pub struct Delivery {
    /// The raw message body; decoding it is the worker's job, so a poison body can be dead-lettered.
    pub body: Vec<u8>,
    /// 1 on first delivery, incremented by every retry.
    pub attempt: u32,
    /// Backend-specific handle used to ack, retry or dead-letter.
    pub handle: DeliveryHandle,
}

/// Backend-specific settlement handle; opaque to the worker.
#[derive(Debug)]
pub enum DeliveryHandle {
    /// A RabbitMQ delivery awaiting ack.
    Amqp(lapin::Acker),
    /// A leased row of the embedded queue table.
    Embedded {
        /// Row id in `queue_messages`.
        id: i64,
        /// The lease token that proves this worker still owns the row.
        lease: uuid::Uuid,
    },
}

/// What became of a message handed back with `retry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryOutcome {
    /// It will be delivered again after the given delay.
    Scheduled(Duration),
    /// Attempts are exhausted; it is in the dead-letter queue.
    DeadLettered,
}

/// Retry policy shared by both backends.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Deliveries allowed before a message is dead-lettered.
    pub max_attempts: u32,
    /// Delay before the first retry; doubles every attempt.
    pub base_delay: Duration,
    /// Ceiling of the delay.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// Delay before delivering attempt `next_attempt` (2 = first retry).
    pub fn delay_for(&self, next_attempt: u32) -> Duration {
        let exp = next_attempt.saturating_sub(2).min(20);
        self.base_delay.saturating_mul(1u32 << exp).min(self.max_delay)
    }
}

/// Which dead-lettered message bodies a purge deletes.
pub type Doomed<'a> = dyn Fn(&[u8]) -> bool + Send + Sync + 'a;

/// The queue seam: the receiver publishes, workers receive and settle.
#[async_trait]
pub trait EventQueue: Send + Sync + 'static {
    /// Durably accepts every body or fails as a whole (some may have been stored; the
    /// sender's retry is then deduplicated by the worker's inbox).
    async fn publish(&self, bodies: &[Vec<u8>]) -> Result<(), QueueError>;

    /// Waits up to `wait` for the next message; `None` when none arrived in time.
    async fn receive(&self, wait: Duration) -> Result<Option<Delivery>, QueueError>;

    /// Takes up to `max` more messages that are ready now, without waiting: how a consumer
    /// fills a batch behind its first message (one statement on the embedded queue).
    async fn receive_ready(&self, max: usize) -> Result<Vec<Delivery>, QueueError> {
        let mut taken = Vec::with_capacity(max);
        while taken.len() < max {
            match self.receive(Duration::ZERO).await? {
                Some(delivery) => taken.push(delivery),
                None => break,
            }
        }
        Ok(taken)
    }

    /// Marks a message done; it will not be delivered again.
    async fn ack(&self, delivery: Delivery) -> Result<(), QueueError>;

    /// Marks several messages done (one statement on the embedded queue); on failure some may
    /// be left to be delivered again, which the worker's inbox makes harmless.
    async fn ack_all(&self, deliveries: Vec<Delivery>) -> Result<(), QueueError> {
        for delivery in deliveries {
            self.ack(delivery).await?;
        }
        Ok(())
    }

    /// Hands a message back for a delayed retry, or dead-letters it when attempts are exhausted.
    async fn retry(&self, delivery: Delivery, reason: &str) -> Result<RetryOutcome, QueueError>;

    /// Moves a message to the dead-letter queue with its reason.
    async fn dead_letter(&self, delivery: Delivery, reason: &str) -> Result<(), QueueError>;

    /// Moves up to `limit` dead-lettered messages back to the work queue with fresh attempts
    /// (after the cause was fixed); returns how many moved. Each is confirmed on the work queue
    /// before it leaves the dead-letter store, so a failure midway loses nothing.
    async fn replay_dead(&self, limit: usize) -> Result<u64, QueueError>;

    /// Deletes the dead-lettered messages whose body `doomed` accepts (an operator's purge)
    /// and returns how many went; the others stay dead-lettered, in the store they were in.
    async fn purge_dead(&self, doomed: &Doomed<'_>) -> Result<u64, QueueError>;

    /// Messages waiting, where the backend can tell.
    async fn depth(&self) -> Result<Option<u64>, QueueError>;

    /// When the oldest message still waiting was queued, where the backend keeps it (a broker
    /// keeps no age of the messages it holds).
    async fn oldest_waiting(&self) -> Result<Option<chrono::DateTime<chrono::Utc>>, QueueError> {
        Ok(None)
    }

    /// Checks that the backend is reachable (readiness).
    async fn ping(&self) -> Result<(), QueueError>;
}
