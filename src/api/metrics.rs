//! `GET /metrics`: Prometheus text exposition of everything `crate::metrics` records.

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use metrics_exporter_prometheus::PrometheusHandle;

use sea_orm::DatabaseConnection;

use crate::{metrics, queue::EventQueue, store::outbox};

/// What the scrape endpoint needs.
pub struct Scrape {
    /// Renders the process-wide recorder.
    pub handle: PrometheusHandle,
    /// Asked for its depth at scrape time.
    pub queue: Arc<dyn EventQueue>,
    /// Asked for the outbox backlog at scrape time.
    pub db: DatabaseConnection,
}

/// Mounts `/metrics`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(scrape));
}

async fn scrape(state: web::Data<Scrape>) -> HttpResponse {
    match state.queue.depth().await {
        Ok(Some(depth)) => metrics::queue_depth(depth),
        Ok(None) => {}
        Err(e) => tracing::debug!(error = %e, "queue depth unavailable for this scrape"),
    }
    match outbox::backlog(&state.db).await {
        Ok((pending, failed)) => metrics::outbox_rows(pending, failed),
        Err(e) => tracing::debug!(error = %e, "outbox backlog unavailable for this scrape"),
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.handle.render())
}
