//! Reports over stored rows, as JSON: the same report the CLI prints and the console draws.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{
    ApiState,
    auth::{Caller, Viewer},
    error::{ApiError, ErrorOut},
};
use crate::reports::{self, Report, ReportError, ReportName};

/// Mounts the reports route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/reports/{name}").get(show));
}

/// The window of a report.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// UTC days ending today, 1–731 (default 30). The backlog ignores it.
    days: Option<u32>,
}

/// Days a report covers when the query does not say.
pub const DEFAULT_DAYS: u32 = 30;

/// One report, computed now from stored rows.
#[utoipa::path(
    operation_id = "reports_show", get, path = "/api/v1/reports/{name}", tag = "reports",
    params(
        ("name" = String, Path, description = "events-per-day, conflicts-per-day, decisions-per-day, write-backs-per-day or backlog"),
        ReportQuery,
    ),
    security(("token" = ["viewer"])),
    responses(
        (status = 200, description = "The report, tagged by `report`", body = Report),
        (status = 400, description = "Bad `days`", body = ErrorOut),
        (status = 404, description = "No report by that name", body = ErrorOut),
    )
)]
pub async fn show(
    _: Caller<Viewer>,
    state: web::Data<ApiState>,
    name: web::Path<String>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let name = ReportName::parse(&name)?;
    let days = query.days.unwrap_or(DEFAULT_DAYS);
    let report = reports::make(&state.db, name, days, chrono::Utc::now()).await?;
    Ok(HttpResponse::Ok().json(report))
}

impl From<ReportError> for ApiError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::UnknownReport(_) => ApiError::NotFound(e.to_string()),
            ReportError::DaysOutOfRange(_) => ApiError::BadRequest(e.to_string()),
            ReportError::Store(e) => ApiError::Internal(e.to_string()),
        }
    }
}
