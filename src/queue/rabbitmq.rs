//! The RabbitMQ backend (production): durable quorum queues, persistent messages, publisher
//! confirms with `mandatory`, manual acks, tiered delayed retries and a dead-letter queue.
//!
//! Topology for prefix `p`:
//! - `p.events`: the work queue (quorum).
//! - `p.retry.<ms>ms`: one quorum queue per retry delay, with `x-message-ttl` and dead-lettering
//!   back to `p.events` (at-least-once dead-lettering, so an expiring message is never lost).
//!   The delay is in the name so a changed policy declares new queues instead of failing on
//!   mismatched arguments.
//! - `p.dead`: messages out of attempts or failing for good, with their reason in a header.
//!
//! Connections are made lazily and dropped on any error, so a receiver starts (and answers 503)
//! while the broker is down and recovers by itself when it returns. Publishers and consumers use
//! separate connections, as RabbitMQ advises (flow control on one does not stall the other).

use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, Consumer,
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions,
        BasicQosOptions, ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
    },
    types::{AMQPValue, FieldTable, LongString, ShortString},
    uri::AMQPUri,
};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

use super::{Delivery, DeliveryHandle, Doomed, EventQueue, QueueError, RetryOutcome, RetryPolicy};

/// How long a (re)connection may take before the caller gets `Unavailable`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Heartbeat asked of the broker unless the URL or `with_heartbeat` says otherwise.
const DEFAULT_HEARTBEAT_SECS: u16 = 10;
const ATTEMPT_HEADER: &str = "x-attempt";
const LAST_ERROR_HEADER: &str = "x-last-error";
const DEAD_REASON_HEADER: &str = "x-dead-reason";

/// Settings of the RabbitMQ backend.
#[derive(Clone)]
pub struct RabbitConfig {
    /// `amqp://user:password@host:port/vhost`; holds a password, so never logged.
    pub url: SecretString,
    /// Prefix of every queue name.
    pub queue_prefix: String,
    /// Unacked deliveries the consumer may hold.
    pub prefetch: u16,
    /// How long a publish waits for its confirms.
    pub confirm_timeout: Duration,
    /// Retry and dead-letter policy.
    pub retry: RetryPolicy,
}

impl std::fmt::Debug for RabbitConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RabbitConfig")
            .field("url", &"<redacted>")
            .field("queue_prefix", &self.queue_prefix)
            .field("prefetch", &self.prefetch)
            .finish()
    }
}

/// A connection with one confirm-mode channel on it.
struct Link {
    connection: Connection,
    channel: Channel,
    /// Which publisher link this is, so a publish that failed on it resets this one and not
    /// the fresh link another request opened since.
    generation: u64,
}

impl Link {
    fn usable(&self) -> bool {
        self.connection.status().connected() && self.channel.status().connected()
    }
}

/// The consumer side: its own connection and the delivery stream.
struct Consuming {
    link: Link,
    consumer: Consumer,
}

/// The RabbitMQ-backed queue.
pub struct RabbitQueue {
    config: RabbitConfig,
    /// `host:port` of the broker, for errors (the URL holds a password).
    endpoint: String,
    heartbeat_secs: u16,
    events: String,
    dead: String,
    publisher: Mutex<Option<Link>>,
    /// Publisher links opened so far: the next one's generation.
    publishers_opened: std::sync::atomic::AtomicU64,
    consuming: Mutex<Option<Consuming>>,
}

impl RabbitQueue {
    /// Never fails because the broker is down: connects lazily, so a receiver starts and answers
    /// 503 until the broker is back.
    pub fn new(config: RabbitConfig) -> Self {
        let events = format!("{}.events", config.queue_prefix);
        let dead = format!("{}.dead", config.queue_prefix);
        Self {
            endpoint: crate::config::secrets::endpoint(config.url.expose_secret()),
            heartbeat_secs: DEFAULT_HEARTBEAT_SECS,
            config,
            events,
            dead,
            publisher: Mutex::new(None),
            publishers_opened: std::sync::atomic::AtomicU64::new(0),
            consuming: Mutex::new(None),
        }
    }

    /// The same queue asking the broker for a heartbeat every `secs` (the URL's `heartbeat`, if
    /// it has one, wins): a broker that stops answering is noticed after two missed beats.
    pub fn with_heartbeat(mut self, secs: u16) -> Self {
        self.heartbeat_secs = secs;
        self
    }

    /// A broker failure, naming the broker (lapin's errors name the failure, never the host).
    fn unavailable(&self, e: impl std::fmt::Display) -> QueueError {
        QueueError::Unavailable(format!("RabbitMQ at {}: {e}", self.endpoint))
    }

    /// The URL with our heartbeat unless it sets its own; a URL that does not parse is reported
    /// without echoing it (it holds the password).
    fn uri(&self) -> Result<AMQPUri, QueueError> {
        let mut uri: AMQPUri = self.config.url.expose_secret().parse().map_err(|_| {
            QueueError::Unavailable(
                "CLIENTSYNC_QUEUE__AMQP_URL is not a valid amqp:// URL (value not shown: it holds a password)"
                    .into(),
            )
        })?;
        if uri.query.heartbeat.is_none() {
            uri.query.heartbeat = Some(self.heartbeat_secs);
        }
        Ok(uri)
    }

    /// Every retry delay the policy can produce, one queue each.
    fn retry_delays(&self) -> Vec<Duration> {
        let mut delays: Vec<Duration> = (2..=self.config.retry.max_attempts)
            .map(|n| self.config.retry.delay_for(n))
            .collect();
        delays.dedup();
        delays
    }

    fn retry_queue(&self, delay: Duration) -> String {
        format!("{}.retry.{}ms", self.config.queue_prefix, delay.as_millis())
    }

    async fn open(&self, role: &str) -> Result<Link, QueueError> {
        let properties = ConnectionProperties::default()
            .with_connection_name(format!("clientsync-{role}-{}", self.config.queue_prefix).into());
        let connection =
            tokio::time::timeout(CONNECT_TIMEOUT, Connection::connect_uri(self.uri()?, properties))
                .await
                .map_err(|_| {
                    QueueError::Unavailable(format!(
                        "RabbitMQ at {}: no answer within {CONNECT_TIMEOUT:?}",
                        self.endpoint
                    ))
                })?
                .map_err(|e| {
                    if e.to_string().contains("ACCESS_REFUSED") {
                        QueueError::LoginRefused {
                            endpoint: self.endpoint.clone(),
                        }
                    } else {
                        self.unavailable(e)
                    }
                })?;
        let channel = connection
            .create_channel()
            .await
            .map_err(|e| self.unavailable(e))?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| self.unavailable(e))?;
        self.declare_on(&channel).await?;
        Ok(Link {
            connection,
            channel,
            generation: 0,
        })
    }

    async fn declare_on(&self, channel: &Channel) -> Result<(), QueueError> {
        let durable = QueueDeclareOptions::durable();
        channel
            .queue_declare(self.events.as_str().into(), durable, quorum())
            .await
            .map_err(|e| self.unavailable(e))?;
        channel
            .queue_declare(self.dead.as_str().into(), durable, quorum())
            .await
            .map_err(|e| self.unavailable(e))?;
        for delay in self.retry_delays() {
            let mut args = quorum();
            let ttl = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
            args.insert("x-message-ttl".into(), AMQPValue::LongLongInt(ttl));
            args.insert("x-dead-letter-exchange".into(), long_string(""));
            args.insert("x-dead-letter-routing-key".into(), long_string(&self.events));
            args.insert("x-dead-letter-strategy".into(), long_string("at-least-once"));
            args.insert("x-overflow".into(), long_string("reject-publish"));
            channel
                .queue_declare(self.retry_queue(delay).as_str().into(), durable, args)
                .await
                .map_err(|e| self.unavailable(e))?;
        }
        Ok(())
    }

    /// A confirm-mode channel to publish on, connecting first if needed. The lock is held only
    /// to (re)connect; publishes run concurrently on clones of the channel.
    async fn publisher_channel(&self) -> Result<Channel, QueueError> {
        self.publisher_link().await.map(|(channel, _)| channel)
    }

    /// The publisher channel and the generation of its link.
    async fn publisher_link(&self) -> Result<(Channel, u64), QueueError> {
        let mut guard = self.publisher.lock().await;
        if let Some(link) = guard.as_ref()
            && link.usable()
        {
            return Ok((link.channel.clone(), link.generation));
        }
        let mut link = self.open("publisher").await?;
        link.generation = self
            .publishers_opened
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let out = (link.channel.clone(), link.generation);
        *guard = Some(link);
        Ok(out)
    }

    /// Closes the publisher link of `generation` (if it is still the current one), so the next
    /// publish opens a new connection and channel and declares the topology again.
    async fn drop_publisher(&self, generation: u64) {
        let mut guard = self.publisher.lock().await;
        if guard.as_ref().is_some_and(|link| link.generation == generation)
            && let Some(link) = guard.take()
        {
            let _ = link
                .connection
                .close(200, "resetting after an error".into())
                .await;
        }
    }

    /// Publishes every body to `queue` (pipelined), then awaits all confirms together.
    async fn publish_to(
        &self,
        queue: &str,
        bodies: &[&[u8]],
        headers: &FieldTable,
    ) -> Result<(), QueueError> {
        let (channel, generation) = self.publisher_link().await?;
        let result = tokio::time::timeout(self.config.confirm_timeout, async {
            let mut confirms = Vec::with_capacity(bodies.len());
            for body in bodies {
                let properties = BasicProperties::default()
                    .with_delivery_mode(2)
                    .with_content_type("application/json".into())
                    .with_message_id(uuid::Uuid::new_v4().to_string().into())
                    .with_headers(headers.clone());
                let options = BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                };
                let confirm = channel
                    .basic_publish("".into(), queue.into(), options, body, properties)
                    .await
                    .map_err(|e| self.unavailable(e))?;
                confirms.push(confirm);
            }
            for confirm in confirms {
                match confirm.await.map_err(|e| self.unavailable(e))? {
                    Confirmation::Ack(None) => {}
                    Confirmation::Ack(Some(_)) => return Err(QueueError::Unroutable),
                    Confirmation::Nack(_) | Confirmation::NotRequested => return Err(QueueError::Nacked),
                }
            }
            Ok(())
        })
        .await;
        // Any failure resets the link. A nack or an unroutable return is no exception: a
        // channel that first published to a quorum queue while it was electing a new leader
        // (a node lost) was nacked for good by RabbitMQ 3.10 until it was closed, so keeping
        // it turned a seconds-long election into 503s for as long as the receiver ran
        // (scripts/failover-drill.py rabbitmq); a new channel declares the topology again too.
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(_) => Err(QueueError::ConfirmTimeout),
        };
        if outcome.is_err() {
            self.drop_publisher(generation).await;
        }
        outcome
    }

    async fn start_consuming(&self) -> Result<Consuming, QueueError> {
        let link = self.open("consumer").await?;
        link.channel
            .basic_qos(self.config.prefetch, BasicQosOptions::default())
            .await
            .map_err(|e| self.unavailable(e))?;
        let tag = format!("clientsync-{}", uuid::Uuid::new_v4().simple());
        let consumer = link
            .channel
            .basic_consume(
                self.events.as_str().into(),
                tag.into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| self.unavailable(e))?;
        Ok(Consuming { link, consumer })
    }

    /// Declares the topology now; an error if the broker is unreachable.
    pub async fn declare(&self) -> Result<(), QueueError> {
        self.publisher_channel().await.map(|_| ())
    }

    /// Deletes this prefix's queues (tests and benchmarks clean up after themselves).
    pub async fn delete_topology(&self) -> Result<(), QueueError> {
        let channel = self.publisher_channel().await?;
        let mut names = vec![self.events.clone(), self.dead.clone()];
        names.extend(self.retry_delays().into_iter().map(|d| self.retry_queue(d)));
        for name in names {
            channel
                .queue_delete(name.as_str().into(), QueueDeleteOptions::default())
                .await
                .map_err(|e| self.unavailable(e))?;
        }
        Ok(())
    }

    /// Republishes a delivery's body to `queue` with `headers`, then acks the original; if the
    /// republish fails the original is handed back (requeued) so nothing is lost.
    async fn move_to(&self, delivery: Delivery, queue: &str, headers: FieldTable) -> Result<(), QueueError> {
        let DeliveryHandle::Amqp(acker) = delivery.handle else {
            return Err(QueueError::Unavailable("delivery is not from RabbitMQ".into()));
        };
        if let Err(e) = self.publish_to(queue, &[&delivery.body], &headers).await {
            let _ = acker
                .nack(BasicNackOptions {
                    requeue: true,
                    ..BasicNackOptions::default()
                })
                .await;
            return Err(e);
        }
        acker
            .ack(BasicAckOptions::default())
            .await
            .map_err(|e| self.unavailable(e))?;
        Ok(())
    }
}

fn quorum() -> FieldTable {
    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), long_string("quorum"));
    args
}

fn long_string(s: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(s.as_bytes().to_vec()))
}

fn attempt_headers(attempt: u32, key: &str, reason: &str) -> FieldTable {
    let mut headers = FieldTable::default();
    headers.insert(ATTEMPT_HEADER.into(), AMQPValue::LongLongInt(i64::from(attempt)));
    let reason: String = reason.chars().take(1024).collect();
    headers.insert(ShortString::from(key), long_string(&reason));
    headers
}

/// The delivery count we stamped; 1 for a first delivery.
fn attempt_of(properties: &BasicProperties) -> u32 {
    let value = properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get(ATTEMPT_HEADER).cloned());
    let n = match value {
        Some(AMQPValue::LongLongInt(n)) => n,
        Some(AMQPValue::LongInt(n)) => i64::from(n),
        Some(AMQPValue::LongUInt(n)) => i64::from(n),
        Some(AMQPValue::ShortInt(n)) => i64::from(n),
        Some(AMQPValue::ShortUInt(n)) => i64::from(n),
        _ => 1,
    };
    u32::try_from(n.max(1)).unwrap_or(u32::MAX)
}

#[async_trait]
impl EventQueue for RabbitQueue {
    async fn publish(&self, bodies: &[Vec<u8>]) -> Result<(), QueueError> {
        if bodies.is_empty() {
            return Ok(());
        }
        let mut headers = FieldTable::default();
        headers.insert(ATTEMPT_HEADER.into(), AMQPValue::LongLongInt(1));
        let slices: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
        self.publish_to(&self.events, &slices, &headers).await
    }

    async fn receive(&self, wait: Duration) -> Result<Option<Delivery>, QueueError> {
        let mut guard = self.consuming.lock().await;
        if !guard.as_ref().is_some_and(|c| c.link.usable()) {
            *guard = Some(self.start_consuming().await?);
        }
        let Some(consuming) = guard.as_mut() else {
            return Ok(None);
        };
        match tokio::time::timeout(wait, consuming.consumer.next()).await {
            Err(_) => Ok(None),
            Ok(Some(Ok(delivery))) => Ok(Some(Delivery {
                attempt: attempt_of(&delivery.properties),
                body: delivery.data,
                handle: DeliveryHandle::Amqp(delivery.acker),
            })),
            Ok(Some(Err(e))) => {
                tracing::warn!(error = %e, "consumer failed; reconnecting on the next receive");
                *guard = None;
                Err(self.unavailable(e))
            }
            Ok(None) => {
                tracing::warn!("consumer stream ended; reconnecting on the next receive");
                *guard = None;
                Err(QueueError::Unavailable("consumer stream ended".into()))
            }
        }
    }

    async fn ack(&self, delivery: Delivery) -> Result<(), QueueError> {
        let DeliveryHandle::Amqp(acker) = delivery.handle else {
            return Err(QueueError::Unavailable("delivery is not from RabbitMQ".into()));
        };
        acker
            .ack(BasicAckOptions::default())
            .await
            .map_err(|e| self.unavailable(e))?;
        Ok(())
    }

    async fn retry(&self, delivery: Delivery, reason: &str) -> Result<RetryOutcome, QueueError> {
        if delivery.attempt >= self.config.retry.max_attempts {
            self.dead_letter(delivery, reason).await?;
            return Ok(RetryOutcome::DeadLettered);
        }
        let next = delivery.attempt + 1;
        let delay = self.config.retry.delay_for(next);
        let queue = self.retry_queue(delay);
        self.move_to(delivery, &queue, attempt_headers(next, LAST_ERROR_HEADER, reason))
            .await?;
        Ok(RetryOutcome::Scheduled(delay))
    }

    async fn dead_letter(&self, delivery: Delivery, reason: &str) -> Result<(), QueueError> {
        let headers = attempt_headers(delivery.attempt, DEAD_REASON_HEADER, reason);
        let dead = self.dead.clone();
        self.move_to(delivery, &dead, headers).await
    }

    async fn replay_dead(&self, limit: usize) -> Result<u64, QueueError> {
        let link = self.open("replay").await?;
        let mut headers = FieldTable::default();
        headers.insert(ATTEMPT_HEADER.into(), AMQPValue::LongLongInt(1));
        let mut replayed = 0;
        while (replayed as usize) < limit {
            let Some(message) = link
                .channel
                .basic_get(self.dead.as_str().into(), BasicGetOptions { no_ack: false })
                .await
                .map_err(|e| self.unavailable(e))?
            else {
                break;
            };
            let acker = message.delivery.acker.clone();
            if let Err(e) = self
                .publish_to(&self.events, &[&message.delivery.data], &headers)
                .await
            {
                let requeue = BasicNackOptions {
                    requeue: true,
                    ..BasicNackOptions::default()
                };
                let _ = acker.nack(requeue).await;
                return Err(e);
            }
            acker
                .ack(BasicAckOptions::default())
                .await
                .map_err(|e| self.unavailable(e))?;
            replayed += 1;
        }
        let _ = link.connection.close(200, "replayed".into()).await;
        Ok(replayed)
    }

    async fn purge_dead(&self, doomed: &Doomed<'_>) -> Result<u64, QueueError> {
        // Declares the topology, so the passive declare below cannot close its channel.
        self.publisher_channel().await?;
        let link = self.open("purge").await?;
        let waiting = link
            .channel
            .queue_declare(
                self.dead.as_str().into(),
                QueueDeclareOptions::durable().passive(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| self.unavailable(e))?
            .message_count();
        // Each message that was dead when the purge began is looked at once: those kept go to
        // the back (confirmed before the original is acked), behind any that arrive meanwhile.
        let mut purged = 0;
        for _ in 0..waiting {
            let Some(message) = link
                .channel
                .basic_get(self.dead.as_str().into(), BasicGetOptions { no_ack: false })
                .await
                .map_err(|e| self.unavailable(e))?
            else {
                break;
            };
            let acker = message.delivery.acker.clone();
            if doomed(&message.delivery.data) {
                purged += 1;
            } else {
                let headers = message.delivery.properties.headers().clone().unwrap_or_default();
                if let Err(e) = self
                    .publish_to(&self.dead, &[&message.delivery.data], &headers)
                    .await
                {
                    let requeue = BasicNackOptions {
                        requeue: true,
                        ..BasicNackOptions::default()
                    };
                    let _ = acker.nack(requeue).await;
                    return Err(e);
                }
            }
            acker
                .ack(BasicAckOptions::default())
                .await
                .map_err(|e| self.unavailable(e))?;
        }
        let _ = link.connection.close(200, "purged".into()).await;
        Ok(purged)
    }

    async fn depth(&self) -> Result<Option<u64>, QueueError> {
        self.publisher_channel().await?;
        let guard = self.publisher.lock().await;
        let Some(link) = guard.as_ref() else {
            return Err(QueueError::Unavailable("not connected".into()));
        };
        // A passive declare of a missing queue closes its channel: use a throwaway one.
        let channel = link
            .connection
            .create_channel()
            .await
            .map_err(|e| self.unavailable(e))?;
        let queue = channel
            .queue_declare(
                self.events.as_str().into(),
                QueueDeclareOptions::durable().passive(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| self.unavailable(e))?;
        let _ = channel.close(200, "done".into()).await;
        Ok(Some(u64::from(queue.message_count())))
    }

    async fn ping(&self) -> Result<(), QueueError> {
        self.publisher_channel().await.map(|_| ())
    }
}

#[cfg(test)]
mod tests;
