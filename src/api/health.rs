//! Liveness and readiness probes.

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::{queue::EventQueue, saas::webhook_health::WebhookWatch, store};

/// What readiness checks.
pub struct Probes {
    /// The store.
    pub db: DatabaseConnection,
    /// The queue backend.
    pub queue: Arc<dyn EventQueue>,
    /// ClickUp webhook health, when it is watched; shown, never failing readiness.
    pub webhooks: Option<WebhookWatch>,
}

/// Mounts `/healthz` and `/readyz`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

/// The process is up and serving HTTP.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The database and the queue answer; a load balancer stops sending webhooks when they do not.
async fn readyz(probes: web::Data<Probes>) -> HttpResponse {
    let database = store::ping(&probes.db).await;
    let queue = probes.queue.ping().await;
    if let Err(e) = &database {
        tracing::warn!(error = %e, "readiness: database unreachable");
    }
    if let Err(e) = &queue {
        tracing::warn!(error = %e, "readiness: queue unreachable");
    }
    let status = |ok: bool| if ok { "ok" } else { "unavailable" };
    let mut body = json!({
        "database": status(database.is_ok()),
        "queue": status(queue.is_ok()),
    });
    if let Some(watch) = &probes.webhooks {
        body["clickup_webhooks"] = watch.detail();
    }
    if database.is_ok() && queue.is_ok() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
