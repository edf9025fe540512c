//! Import runs (`clientsync import`): each run's counters and statistics, read after the fact.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{
    ApiState,
    auth::{Caller, Viewer},
    error::{ApiError, ErrorOut},
};
use crate::lookup::imports::{self, ImportRunView};

/// Mounts the import routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/imports").get(list))
        .service(web::resource("/imports/{id}").get(show));
}

/// How many runs to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Most runs, newest first (1–500, default 50).
    limit: Option<u64>,
}

/// Import runs, newest first.
#[utoipa::path(
    operation_id = "imports_list", get, path = "/api/v1/imports", tag = "imports",
    params(ListQuery),
    security(("token" = ["viewer"])),
    responses(
        (status = 200, description = "The runs", body = [ImportRunView]),
        (status = 400, description = "Bad query", body = ErrorOut),
        (status = 401, description = "No valid token", body = ErrorOut),
    )
)]
pub async fn list(
    _: Caller<Viewer>,
    state: web::Data<ApiState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let runs = imports::list(&state.db, query.limit.unwrap_or(50)).await?;
    Ok(HttpResponse::Ok().json(runs))
}

/// One import run with its statistics.
#[utoipa::path(
    operation_id = "imports_show", get, path = "/api/v1/imports/{id}", tag = "imports",
    params(("id" = Uuid, Path, description = "Run id")),
    security(("token" = ["viewer"])),
    responses(
        (status = 200, description = "The run", body = ImportRunView),
        (status = 400, description = "Not a UUID", body = ErrorOut),
        (status = 401, description = "No valid token", body = ErrorOut),
        (status = 404, description = "No such run", body = ErrorOut),
    )
)]
pub async fn show(
    _: Caller<Viewer>,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(imports::show(&state.db, *id).await?))
}
