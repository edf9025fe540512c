//! Prometheus metrics: what the service is doing, for dashboards and alerts. Recorded through
//! the `metrics` facade; rendered at `GET /metrics`. Every series is described (and, where its
//! labels are known, registered at zero) when the recorder is installed, so a dashboard or an
//! alert sees `0`, not "no data", before the first event (`series`); what only the database
//! knows is read at scrape time through a short cache (`stored`).

mod series;
mod stored;

use std::{
    sync::{
        OnceLock,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use chrono::{DateTime, Utc};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub use series::{Kind, SERIES, Series};
pub use stored::StoredGauges;

use crate::{domain::source::Source, store::attention::Attention};

/// Latency buckets (seconds) shared by every histogram: from 0.5 ms to 10 s.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder once and returns the handle that renders it; `None` when
/// another recorder was installed first (metrics are then that recorder's business).
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            series::describe();
            series::register_known_labels();
            Some(handle)
        })
        .clone()
}

/// Events a receiver accepted (durably queued).
pub fn events_accepted(source: Source, count: usize) {
    metrics::counter!("clientsync_webhook_events_total", "source" => source.as_str(), "outcome" => "accepted")
        .increment(count as u64);
}

/// A webhook request refused, by the `code` of its error body.
pub fn request_refused(source: Source, code: &'static str) {
    metrics::counter!("clientsync_webhook_refused_total", "source" => source.as_str(), "code" => code)
        .increment(1);
}

/// A signature refused, by reason (stale, mismatch, missing header…).
pub fn signature_failed(source: Source, reason: &'static str) {
    metrics::counter!("clientsync_signature_failures_total", "source" => source.as_str(), "reason" => reason)
        .increment(1);
}

/// How long the queue took to durably accept one request's events (publisher confirms included).
pub fn publish_latency(elapsed: Duration, ok: bool) {
    let result = if ok { "ok" } else { "error" };
    metrics::histogram!("clientsync_queue_publish_seconds", "result" => result).record(elapsed.as_secs_f64());
}

/// Messages waiting in the work queue, read at scrape time.
pub fn queue_depth(depth: u64) {
    metrics::gauge!("clientsync_queue_depth").set(depth as f64);
}

/// Outbox rows still to send and rows given up on, read at scrape time.
pub fn outbox_rows(pending: u64, failed: u64) {
    metrics::gauge!("clientsync_outbox_rows", "status" => "pending").set(pending as f64);
    metrics::gauge!("clientsync_outbox_rows", "status" => "failed").set(failed as f64);
}

/// Rows retention removed or cleared, by what they were (`payloads`, `inbox_rows`,
/// `resolved_conflicts`, `sent_outbox_rows`, `dead_events`).
pub fn pruned(what: &'static str, count: u64) {
    metrics::counter!("clientsync_pruned_total", "what" => what).increment(count);
}

/// What a worker did with one message (its stable outcome name), and how long it took.
pub fn settled(outcome: &'static str, elapsed: Duration) {
    metrics::counter!("clientsync_worker_messages_total", "outcome" => outcome).increment(1);
    metrics::histogram!("clientsync_worker_process_seconds").record(elapsed.as_secs_f64());
}

/// A message whose processing panicked; it is retried and then dead-lettered like any failure.
pub fn message_panicked() {
    metrics::counter!("clientsync_worker_panics_total").increment(1);
}

/// Consumers taking messages in this process right now.
pub fn consumers_live(live: usize) {
    metrics::gauge!("clientsync_worker_consumers_live").set(live as f64);
}

/// Consumers this process is configured to run, so `live < wanted` shows a shrunken pool.
pub fn consumers_wanted(wanted: usize) {
    metrics::gauge!("clientsync_worker_consumers_wanted").set(wanted as f64);
}

/// When the newest event this process has taken off the queue was received (Unix ms); the queue
/// is first in, first out, so the event waiting at its head was received no earlier than this.
static NEWEST_TAKEN_MS: AtomicI64 = AtomicI64::new(i64::MIN);

/// When this process started to watch the queue, for the age estimate before it takes anything.
static WATCHING_SINCE_MS: OnceLock<i64> = OnceLock::new();

/// A worker took an event received at `received_at` off the queue.
pub fn event_taken(received_at: DateTime<Utc>) {
    NEWEST_TAKEN_MS.fetch_max(received_at.timestamp_millis(), Ordering::Relaxed);
}

/// Age of the oldest event still waiting, estimated by a process that consumes: `0` when the
/// queue is empty, else how long ago the newest event it took was received (the waiting head
/// is younger or as old), or, before it took any, how long it has been watching. It keeps
/// growing while consumers take nothing, which is what an alert needs; receivers do not set it.
pub fn oldest_event_age(depth: u64, now: DateTime<Utc>) {
    let now_ms = now.timestamp_millis();
    let since = *WATCHING_SINCE_MS.get_or_init(|| now_ms);
    let newest = NEWEST_TAKEN_MS.load(Ordering::Relaxed);
    let newest = (newest != i64::MIN).then_some(newest);
    let age_ms = oldest_age_ms(depth, newest, since, now_ms);
    metrics::gauge!("clientsync_queue_oldest_event_age_seconds").set(age_ms as f64 / 1000.0);
}

/// The estimate behind `oldest_event_age`, in milliseconds (never negative: clocks differ).
fn oldest_age_ms(depth: u64, newest_taken_ms: Option<i64>, watching_since_ms: i64, now_ms: i64) -> i64 {
    let age = match (depth, newest_taken_ms) {
        (0, _) => 0,
        (_, None) => now_ms - watching_since_ms,
        (_, Some(newest)) => now_ms - newest,
    };
    age.max(0)
}

/// What needs an operator, counted from stored rows at scrape time: open conflicts by kind,
/// dead events and write-backs given up on. Every replica reports the same shared numbers.
pub fn stored_attention(attention: &Attention) {
    for (kind, group) in &attention.conflicts {
        metrics::gauge!("clientsync_conflicts_open", "kind" => crate::store::conflicts::kind_name(*kind))
            .set(group.count as f64);
    }
    metrics::gauge!("clientsync_dead_events").set(attention.dead_events.count as f64);
}

/// A consumer that ended unexpectedly and is being restarted.
pub fn consumer_restarted() {
    metrics::counter!("clientsync_worker_consumer_restarts_total").increment(1);
}

/// A conflict was opened for operators. Counted as it is written, so the rare transaction
/// that loses a race and re-runs may count its conflict twice.
pub fn conflict_opened(kind: &'static str) {
    metrics::counter!("clientsync_conflicts_opened_total", "kind" => kind).increment(1);
}

/// One call to a SaaS API, by source, call name and result (`ok`, `rate_limited`, `error`).
pub fn api_call(source: Source, call: &'static str, result: &'static str, elapsed: Duration) {
    metrics::counter!("clientsync_api_calls_total", "source" => source.as_str(), "call" => call, "result" => result)
        .increment(1);
    metrics::histogram!("clientsync_api_call_seconds", "source" => source.as_str())
        .record(elapsed.as_secs_f64());
}

/// What the source says is left of a rate-limit window (`burst`, `daily`, `minute`), as last seen.
pub fn api_quota_remaining(source: Source, window: &'static str, remaining: u64) {
    metrics::gauge!("clientsync_api_quota_remaining", "source" => source.as_str(), "window" => window)
        .set(remaining as f64);
}

/// A golden value written back to a source, by target system and field.
pub fn written_back(target: Source, field: &'static str) {
    metrics::counter!("clientsync_written_back_total", "target" => target.as_str(), "field" => field)
        .increment(1);
}

/// A failed write-back attempt (the outbox retries it, or leaves it `failed` with its reason).
pub fn write_back_failed() {
    metrics::counter!("clientsync_write_back_failures_total").increment(1);
}

/// Our ClickUp webhooks in one health state (`active`, `failing`, `suspended`), as last polled.
pub fn clickup_webhooks(status: &'static str, count: usize) {
    metrics::gauge!("clientsync_clickup_webhooks", "status" => status).set(count as f64);
}

#[cfg(test)]
mod tests {
    use super::oldest_age_ms;

    #[test]
    fn an_empty_queue_has_no_waiting_event_however_old_the_last_one_taken_was() {
        assert_eq!(oldest_age_ms(0, Some(1_000), 0, 90_000), 0);
    }

    #[test]
    fn a_backlog_is_as_old_as_the_newest_event_taken_and_keeps_ageing_while_nothing_is_taken() {
        assert_eq!(oldest_age_ms(5, Some(10_000), 0, 70_000), 60_000);
        assert_eq!(oldest_age_ms(5, Some(10_000), 0, 130_000), 120_000);
    }

    #[test]
    fn a_backlog_found_before_anything_was_taken_is_as_old_as_the_watch() {
        assert_eq!(oldest_age_ms(5, None, 40_000, 100_000), 60_000);
    }

    #[test]
    fn an_event_stamped_ahead_of_this_clock_reads_zero_not_negative() {
        assert_eq!(oldest_age_ms(5, Some(100_500), 0, 100_000), 0);
    }
}
