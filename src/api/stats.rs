//! Dashboard counters: open conflicts by kind, dead events, failed write-backs, the oldest
//! event still waiting and today's events, counted from stored rows on each request.

use actix_web::{HttpResponse, web};

use super::{
    ApiState,
    auth::{Caller, Viewer},
    error::{ApiError, ErrorOut},
};
use crate::lookup::{self, stats::Stats};

/// Mounts the stats route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/stats").get(show));
}

/// The counters, as of now.
#[utoipa::path(
    operation_id = "stats_show", get, path = "/api/v1/stats", tag = "stats",
    security(("token" = ["viewer"])),
    responses(
        (status = 200, description = "The counters", body = Stats),
        (status = 401, description = "No valid token", body = ErrorOut),
    )
)]
pub async fn show(_: Caller<Viewer>, state: web::Data<ApiState>) -> Result<HttpResponse, ApiError> {
    let stats = lookup::stats::stats(&state.db, chrono::Utc::now(), state.queue.as_ref()).await?;
    Ok(HttpResponse::Ok().json(stats))
}
