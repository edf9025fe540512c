//! `GET /metrics`: Prometheus text exposition of everything `crate::metrics` records.

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::{
    metrics::{self, StoredGauges},
    queue::EventQueue,
    worker::ConsumerHealth,
};

/// What the scrape endpoint needs.
pub struct Scrape {
    /// Renders the process-wide recorder.
    pub handle: PrometheusHandle,
    /// Asked for its depth at scrape time.
    pub queue: Arc<dyn EventQueue>,
    /// Counts of what needs an operator, read from the database through a short cache.
    pub stored: StoredGauges,
    /// This process's consumers, when it runs a worker: their count and the queue's oldest age.
    pub consumers: Option<ConsumerHealth>,
}

/// Mounts `/metrics`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(scrape));
}

async fn scrape(state: web::Data<Scrape>) -> HttpResponse {
    match state.queue.depth().await {
        Ok(Some(depth)) => {
            metrics::queue_depth(depth);
            if state.consumers.is_some() {
                metrics::oldest_event_age(depth, chrono::Utc::now());
            }
        }
        Ok(None) => {}
        Err(e) => tracing::debug!(error = %e, "queue depth unavailable for this scrape"),
    }
    if let Some(consumers) = &state.consumers {
        let report = consumers.report();
        metrics::consumers_live(report.live);
        metrics::consumers_wanted(report.wanted);
    }
    state.stored.refresh().await;
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.handle.render())
}
