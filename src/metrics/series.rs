//! Every series the service exports, described once: `# HELP` lines from the first scrape, the
//! list the monitoring manifests are checked against (`tests/it/metrics.rs`), and the label
//! sets known in advance registered at zero, so `rate()` and alerts work before the first event.

use crate::{
    receiver::{error::ReceiveError, signature::SignatureError},
    saas::webhook_health,
};
use metrics::Unit;

/// What kind of Prometheus series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up; read with `rate()`.
    Counter,
    /// A value as last set.
    Gauge,
    /// Observations in buckets (`_bucket`, `_sum`, `_count`).
    Histogram,
}

/// One exported series: its name, kind and what it means.
#[derive(Debug, Clone, Copy)]
pub struct Series {
    /// The metric name, as Prometheus sees it.
    pub name: &'static str,
    /// Counter, gauge or histogram.
    pub kind: Kind,
    /// The `# HELP` text.
    pub help: &'static str,
}

const fn series(name: &'static str, kind: Kind, help: &'static str) -> Series {
    Series { name, kind, help }
}

/// Every series `crate::metrics` records, in the order of docs/operations.md.
pub const SERIES: &[Series] = &[
    series(
        "clientsync_webhook_events_total",
        Kind::Counter,
        "Webhook events durably queued, by source and outcome.",
    ),
    series(
        "clientsync_webhook_refused_total",
        Kind::Counter,
        "Webhook requests refused, by source and error code (503s are busy and queue_unavailable).",
    ),
    series(
        "clientsync_signature_failures_total",
        Kind::Counter,
        "Webhook signatures refused, by source and reason.",
    ),
    series(
        "clientsync_queue_publish_seconds",
        Kind::Histogram,
        "Time until the queue durably accepted one request's events, by result.",
    ),
    series(
        "clientsync_queue_depth",
        Kind::Gauge,
        "Messages waiting in the work queue, read at scrape time.",
    ),
    series(
        "clientsync_queue_oldest_event_age_seconds",
        Kind::Gauge,
        "Estimated age of the oldest event waiting in the queue (workers only; 0 when empty).",
    ),
    series(
        "clientsync_worker_messages_total",
        Kind::Counter,
        "Messages a worker settled, by outcome.",
    ),
    series(
        "clientsync_worker_process_seconds",
        Kind::Histogram,
        "Time to settle one message.",
    ),
    series(
        "clientsync_worker_panics_total",
        Kind::Counter,
        "Messages whose processing panicked (retried, then dead-lettered).",
    ),
    series(
        "clientsync_worker_consumers_live",
        Kind::Gauge,
        "Consumers taking messages in this process.",
    ),
    series(
        "clientsync_worker_consumers_wanted",
        Kind::Gauge,
        "Consumers this process is configured to run.",
    ),
    series(
        "clientsync_worker_consumer_restarts_total",
        Kind::Counter,
        "Consumers that ended unexpectedly and were restarted.",
    ),
    series(
        "clientsync_conflicts_opened_total",
        Kind::Counter,
        "Conflicts opened for operators, by kind.",
    ),
    series(
        "clientsync_conflicts_open",
        Kind::Gauge,
        "Open conflicts by kind, counted in the database (cached briefly).",
    ),
    series(
        "clientsync_dead_events",
        Kind::Gauge,
        "Dead events waiting for an operator, counted in the database (cached briefly).",
    ),
    series(
        "clientsync_outbox_rows",
        Kind::Gauge,
        "Write-backs pending and failed (given up on), counted in the database (cached briefly).",
    ),
    series(
        "clientsync_write_back_failures_total",
        Kind::Counter,
        "Failed write-back attempts (retried from the outbox, or left failed).",
    ),
    series(
        "clientsync_written_back_total",
        Kind::Counter,
        "Golden values written back, by target system and field.",
    ),
    series(
        "clientsync_api_calls_total",
        Kind::Counter,
        "Calls to the HubSpot and ClickUp APIs, by source, call and result.",
    ),
    series(
        "clientsync_api_call_seconds",
        Kind::Histogram,
        "Latency of calls to the HubSpot and ClickUp APIs, by source.",
    ),
    series(
        "clientsync_api_quota_remaining",
        Kind::Gauge,
        "What the source says is left of a rate-limit window, as last seen.",
    ),
    series(
        "clientsync_clickup_webhooks",
        Kind::Gauge,
        "Our ClickUp webhooks by health status, as last polled.",
    ),
    series(
        "clientsync_pruned_total",
        Kind::Counter,
        "Rows retention removed or cleared, by category.",
    ),
];

/// Label values known in advance; refusal codes, signature reasons and webhook statuses come
/// from the types that produce them. A value missing here still counts, it only starts absent.
const SOURCES: [&str; 2] = ["hubspot", "clickup"];
const OUTCOMES: [&str; 10] = [
    "linked",
    "project",
    "collision",
    "ambiguous",
    "duplicate",
    "pending_enrichment",
    "deleted",
    "ignored",
    "retrying",
    "dead_lettered",
];
const CONFLICT_KINDS: [&str; 3] = ["field_mismatch", "ambiguous_match", "key_collision"];
const PRUNED: [&str; 5] = [
    "payloads",
    "inbox_rows",
    "resolved_conflicts",
    "sent_outbox_rows",
    "dead_events",
];

/// Hands every description to the installed recorder.
pub(super) fn describe() {
    for s in SERIES {
        let unit = s.name.ends_with("_seconds").then_some(Unit::Seconds);
        match (s.kind, unit) {
            (Kind::Counter, _) => metrics::describe_counter!(s.name, s.help),
            (Kind::Gauge, Some(unit)) => metrics::describe_gauge!(s.name, unit, s.help),
            (Kind::Gauge, None) => metrics::describe_gauge!(s.name, s.help),
            (Kind::Histogram, Some(unit)) => metrics::describe_histogram!(s.name, unit, s.help),
            (Kind::Histogram, None) => metrics::describe_histogram!(s.name, s.help),
        }
    }
}

/// Registers at zero every series whose label set is known. Left out on purpose: API calls,
/// quotas and written-back fields (labels known only once called; a quota of 0 would page),
/// and the gauges set at scrape time.
pub(super) fn register_known_labels() {
    for source in SOURCES {
        metrics::counter!("clientsync_webhook_events_total", "source" => source, "outcome" => "accepted")
            .increment(0);
        for code in ReceiveError::CODES {
            metrics::counter!("clientsync_webhook_refused_total", "source" => source, "code" => code)
                .increment(0);
        }
        for reason in SignatureError::REASONS {
            metrics::counter!("clientsync_signature_failures_total", "source" => source, "reason" => reason)
                .increment(0);
        }
    }
    for outcome in OUTCOMES {
        metrics::counter!("clientsync_worker_messages_total", "outcome" => outcome).increment(0);
    }
    for kind in CONFLICT_KINDS {
        metrics::counter!("clientsync_conflicts_opened_total", "kind" => kind).increment(0);
    }
    for status in webhook_health::STATUSES {
        metrics::gauge!("clientsync_clickup_webhooks", "status" => status).set(0.0);
    }
    for what in PRUNED {
        metrics::counter!("clientsync_pruned_total", "what" => what).increment(0);
    }
    for name in [
        "clientsync_worker_panics_total",
        "clientsync_worker_consumer_restarts_total",
        "clientsync_write_back_failures_total",
    ] {
        metrics::counter!(name).increment(0);
    }
}
