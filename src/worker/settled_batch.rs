//! A batch of messages settled together: decoded, the project events taken aside, the rest
//! applied in one transaction where they can be, and what each came to.

use super::{Outcome, Settled, Worker, WorkerError, guarded};
use crate::{
    domain::ids::ClientId,
    metrics,
    queue::{Delivery, Envelope},
    sources::EventEffect,
};

impl Worker {
    /// Settles `first` with up to `max - 1` messages already waiting behind it: applied in one
    /// transaction (one commit for all) when they all succeed, else one by one. A panic while
    /// enriching or applying the batch sends it down the one-by-one path, where it is the failure
    /// of the one message that causes it. Every message taken is settled even when settling
    /// another failed; the first such failure is returned once all were tried.
    pub(super) async fn settle_batch(
        &self,
        first: Delivery,
        max: usize,
    ) -> Result<Vec<Settled>, WorkerError> {
        let mut deliveries = vec![first];
        let more = max.saturating_sub(1);
        if more > 0 {
            match tokio::time::timeout(self.store.timeout(), self.queue.receive_ready(more)).await {
                Ok(Ok(taken)) => deliveries.extend(taken),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "taking more of a batch failed; settling what was taken")
                }
                Err(_) => tracing::warn!("taking more of a batch hung; settling what was taken"),
            }
        }
        let mut tally = Tally::with_capacity(deliveries.len());
        let mut decoded = Vec::with_capacity(deliveries.len());
        for delivery in deliveries {
            match Envelope::from_bytes(&delivery.body) {
                Ok(env) => {
                    metrics::event_taken(env.received_at);
                    decoded.push((delivery, env))
                }
                Err(_) => tally.add(self.settle(delivery).await),
            }
        }
        let decoded = self.settle_projects(decoded, &mut tally).await;
        let effects = {
            let envs: Vec<&Envelope> = decoded.iter().map(|(_, env)| env).collect();
            guarded(self.enricher.effects(&envs, &self.mapping)).await
        };
        let effects = match effects {
            Ok(effects) => effects,
            Err(panicked) => {
                tracing::warn!(
                    panic = panicked.message(),
                    size = decoded.len(),
                    "enriching a batch panicked; settling one by one"
                );
                for (delivery, env) in decoded {
                    let work = self.enrich_and_apply(&env, delivery.attempt);
                    tally.add(self.settle_decoded(delivery, &env, work).await);
                }
                return tally.finish();
            }
        };
        let mut ready = Vec::with_capacity(decoded.len());
        for ((delivery, env), effect) in decoded.into_iter().zip(effects) {
            match effect {
                Ok(effect) => ready.push((delivery, env, effect)),
                Err(e) => tally.add(self.settle_decoded(delivery, &env, async { Err(e.into()) }).await),
            }
        }
        if ready.len() > 1 {
            let started = std::time::Instant::now();
            let result = {
                let events: Vec<(&Envelope, &EventEffect, u32)> = ready
                    .iter()
                    .map(|(d, env, effect)| (env, effect, d.attempt))
                    .collect();
                let _turns = self.objects.lock_all(ready.iter().map(|(_, env, _)| env)).await;
                let work = Box::pin(async {
                    let _writing = self.writes.take().await;
                    crate::engine::process_batch(&self.db, &self.matching, &events).await
                });
                guarded(self.bounded(work)).await
            };
            match result {
                Ok(Ok(outcomes)) => {
                    let (deliveries, linked): (Vec<Delivery>, Vec<Option<ClientId>>) = ready
                        .into_iter()
                        .zip(&outcomes)
                        .map(|((delivery, _, _), outcome)| match outcome {
                            Outcome::Linked(client) => (delivery, Some(*client)),
                            _ => (delivery, None),
                        })
                        .unzip();
                    if let Err(e) = self.queue.ack_all(deliveries).await {
                        // Applied but not acked: redelivered later and found duplicates.
                        tally.add(Err(e.into()));
                        return tally.finish();
                    }
                    for outcome in outcomes {
                        let done = Settled::Done(outcome);
                        metrics::settled(done.label(), started.elapsed());
                        tally.add(Ok(done));
                    }
                    self.write_back(linked.into_iter().flatten()).await;
                    return tally.finish();
                }
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, size = ready.len(), "batch failed; settling one by one")
                }
                Err(panicked) => {
                    tracing::warn!(
                        panic = panicked.message(),
                        size = ready.len(),
                        "batch panicked; settling one by one"
                    )
                }
            }
        }
        for (delivery, env, effect) in ready {
            let work = self.apply(&env, effect, delivery.attempt);
            tally.add(self.settle_decoded(delivery, &env, work).await);
        }
        tally.finish()
    }
}

/// What settling a batch came to: each message's settlement, and the first failure to settle one.
pub(super) struct Tally {
    settled: Vec<Settled>,
    failed: Option<WorkerError>,
}

impl Tally {
    pub(super) fn with_capacity(n: usize) -> Self {
        Self {
            settled: Vec::with_capacity(n),
            failed: None,
        }
    }

    pub(super) fn add(&mut self, result: Result<Settled, WorkerError>) {
        match result {
            Ok(settled) => self.settled.push(settled),
            Err(e) => {
                tracing::warn!(error = %e, "settling a message failed; it will be delivered again");
                self.failed.get_or_insert(e);
            }
        }
    }

    pub(super) fn finish(self) -> Result<Vec<Settled>, WorkerError> {
        match self.failed {
            Some(e) => Err(e),
            None => Ok(self.settled),
        }
    }
}
