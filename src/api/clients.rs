//! Clients: search, one client with where each value came from and what each source holds,
//! its timeline, and clearing the pins stewards set.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{
    ApiState,
    auth::{Caller, Steward, Viewer},
    error::{ApiError, ErrorOut},
    page,
};
use crate::{
    domain::ids::ClientId,
    lookup::{
        self,
        client::ClientView,
        search::{SearchBy, SearchPage, SearchQuery},
        timeline::{TimelineCursor, TimelinePage},
    },
    reconcile::Field,
    steward,
};

/// Mounts the client routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/clients").get(search))
        .service(web::resource("/clients/{id}").get(show))
        .service(web::resource("/clients/{id}/timeline").get(timeline))
        .service(web::resource("/clients/{id}/pins/{field}").delete(unpin));
}

/// Search parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// What to look for: an email, document key, phone, name or external id (required; optional
    /// here only so that a missing token is answered 401 before a missing `q` is 400).
    q: Option<String>,
    /// `email`, `document`, `phone`, `name` or `external_id`; absent, it is guessed (and the
    /// answer's `by` says what was taken).
    by: Option<String>,
    /// Keyset cursor: the `next_after` of the previous page (pass `by` with it).
    after: Option<String>,
    /// Page size, 1–500 (default 100).
    limit: Option<u64>,
}

/// Finds clients by exact key (email, document key, phone, HubSpot or ClickUp id) or by name:
/// folded (case and accents), by prefix, and by sound and spelling for near misses.
#[utoipa::path(
    operation_id = "clients_search", get, path = "/api/v1/clients", tag = "clients", params(SearchParams),
    security(("token" = ["viewer"])),
    responses(
        (status = 200, description = "A page of hits", body = SearchPage),
        (status = 400, description = "Missing or unusable query, bad cursor", body = ErrorOut),
        (status = 401, description = "No valid token", body = ErrorOut),
    )
)]
pub async fn search(
    _: Caller<Viewer>,
    state: web::Data<ApiState>,
    params: web::Query<SearchParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let query = SearchQuery {
        q: params.q.unwrap_or_default(),
        by: params.by.as_deref().map(SearchBy::parse).transpose()?,
        after: params.after,
        limit: page::limit(params.limit)?,
    };
    Ok(HttpResponse::Ok().json(lookup::search::search(&state.db, &state.matching, &query).await?))
}

/// One client's golden values with provenance and pins, its linked records with each
/// source's own current values, and its open conflicts.
#[utoipa::path(
    operation_id = "clients_show", get, path = "/api/v1/clients/{id}", tag = "clients",
    params(("id" = Uuid, Path, description = "Client id")),
    security(("token" = ["viewer"])),
    responses(
        (status = 200, description = "The client", body = ClientView),
        (status = 400, description = "Not a UUID", body = ErrorOut),
        (status = 404, description = "No such client", body = ErrorOut),
    )
)]
pub async fn show(
    _: Caller<Viewer>,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let view = lookup::client::view(&state.db, ClientId::from_uuid(*id)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Timeline paging.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimelineParams {
    /// Keyset cursor: the `next_after` of the previous page.
    after: Option<String>,
    /// Page size, 1–500 (default 100).
    limit: Option<u64>,
}

/// A client's history, oldest first: inbound events, match decisions with evidence, golden
/// values as set, write-backs (planned, sent, failed) and operator actions.
#[utoipa::path(
    operation_id = "clients_timeline", get, path = "/api/v1/clients/{id}/timeline", tag = "clients",
    params(("id" = Uuid, Path, description = "Client id"), TimelineParams),
    security(("token" = ["viewer"])),
    responses(
        (status = 200, description = "A page of the timeline", body = TimelinePage),
        (status = 400, description = "Not a UUID, or a bad cursor", body = ErrorOut),
        (status = 404, description = "No such client", body = ErrorOut),
    )
)]
pub async fn timeline(
    _: Caller<Viewer>,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
    params: web::Query<TimelineParams>,
) -> Result<HttpResponse, ApiError> {
    let after = params.after.as_deref().map(TimelineCursor::parse).transpose()?;
    let limit = page::limit(params.limit)?;
    let page = lookup::timeline::timeline(&state.db, ClientId::from_uuid(*id), after.as_ref(), limit).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Clears a pin: the field goes back to the sources' value (HubSpot's first).
#[utoipa::path(
    operation_id = "clients_unpin", delete, path = "/api/v1/clients/{id}/pins/{field}", tag = "clients",
    params(("id" = Uuid, Path, description = "Client id"), ("field" = String, Path, description = "Field name")),
    security(("token" = ["steward"])),
    responses(
        (status = 204, description = "Pin cleared"),
        (status = 403, description = "Role too low", body = ErrorOut),
        (status = 404, description = "No such client or pin", body = ErrorOut),
    )
)]
pub async fn unpin(
    caller: Caller<Steward>,
    state: web::Data<ApiState>,
    path: web::Path<(Uuid, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, field) = path.into_inner();
    let field =
        Field::parse(&field).ok_or_else(|| ApiError::BadRequest(format!("unknown field `{field}`")))?;
    steward::clear_pin(
        &state.db,
        &state.matching,
        ClientId::from_uuid(id),
        field,
        caller.actor(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
