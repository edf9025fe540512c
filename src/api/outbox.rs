//! The write-back outbox: planned writes to the sources, listed with filters; failed ones retried.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use entity::outbox::{self as outbox_rows, OutboxStatus, OutboxSubject};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    ApiState,
    auth::{Caller, Steward, Viewer},
    error::{ApiError, ErrorOut},
    page::{self, Page},
};
use crate::{
    steward::{self, parse_subject, status_name, subject_name},
    store::outbox::{self, OutboxFilter},
};

/// Mounts the outbox routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/outbox").get(list))
        .service(web::resource("/outbox/{id}/retry").post(retry));
}

/// Outbox filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// `pending`, `sent` or `failed`.
    status: Option<String>,
    /// `hubspot` or `clickup`: the system written to.
    source: Option<String>,
    /// `client` or `project`: whose value is written.
    subject: Option<String>,
    /// Only writes for this client.
    client_id: Option<Uuid>,
    /// Keyset cursor: the `next_after` of the previous page.
    after: Option<Uuid>,
    /// Page size, 1–500 (default 100).
    limit: Option<u64>,
}

/// A planned write-back.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxOut {
    id: Uuid,
    /// `client` or `project`: whose value is written.
    subject: &'static str,
    /// The client the value is from (a project's, once its client is known).
    client_id: Option<Uuid>,
    /// The project the value is from, for a project write.
    project_id: Option<Uuid>,
    source: String,
    external_id: String,
    field: String,
    value: String,
    /// `pending`, `sent` or `failed`.
    status: &'static str,
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<outbox_rows::Model> for OutboxOut {
    fn from(r: outbox_rows::Model) -> Self {
        Self {
            id: r.id,
            subject: subject_name(r.subject),
            client_id: r.client_id,
            project_id: r.project_id,
            source: r.source,
            external_id: r.external_id,
            field: r.field,
            value: r.value,
            status: status_name(r.status),
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_error: r.last_error,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Reads a write-back status as the API spells it.
pub fn parse_status(raw: &str) -> Result<OutboxStatus, ApiError> {
    match raw {
        "pending" => Ok(OutboxStatus::Pending),
        "sent" => Ok(OutboxStatus::Sent),
        "failed" => Ok(OutboxStatus::Failed),
        other => Err(ApiError::BadRequest(format!("unknown status `{other}`"))),
    }
}

/// Reads a write-back subject as the API spells it (`client` or `project`).
pub fn parse_subject_filter(raw: &str) -> Result<OutboxSubject, ApiError> {
    parse_subject(raw).ok_or_else(|| ApiError::BadRequest(format!("unknown subject `{raw}`")))
}

/// Lists write-backs, oldest first, a page at a time.
#[utoipa::path(
    operation_id = "outbox_list", get, path = "/api/v1/outbox", tag = "outbox", params(OutboxQuery),
    security(("token" = ["viewer"])),
    responses(
        (status = 200, description = "A page of write-backs", body = Page<OutboxOut>),
        (status = 400, description = "Bad filter", body = ErrorOut),
        (status = 401, description = "No valid token", body = ErrorOut),
    )
)]
pub async fn list(
    _: Caller<Viewer>,
    state: web::Data<ApiState>,
    query: web::Query<OutboxQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = page::limit(query.limit)?;
    let filter = OutboxFilter {
        status: query.status.as_deref().map(parse_status).transpose()?,
        source: query
            .source
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(ApiError::BadRequest)?,
        subject: query.subject.as_deref().map(parse_subject_filter).transpose()?,
        client: query.client_id,
        after: query.after,
        limit,
    };
    let rows = outbox::page(&state.db, &filter).await?;
    Ok(HttpResponse::Ok().json(Page::of(rows, limit, |r| r.id, OutboxOut::from)))
}

/// Retries a failed write-back: pending again, attempts reset, due now.
#[utoipa::path(
    operation_id = "outbox_retry", post, path = "/api/v1/outbox/{id}/retry", tag = "outbox",
    params(("id" = Uuid, Path, description = "Write-back id")),
    security(("token" = ["steward"])),
    responses(
        (status = 204, description = "Pending again"),
        (status = 400, description = "Not a UUID", body = ErrorOut),
        (status = 401, description = "No valid token", body = ErrorOut),
        (status = 403, description = "Role too low", body = ErrorOut),
        (status = 404, description = "No such write-back", body = ErrorOut),
        (status = 409, description = "Not failed, or superseded by a newer write", body = ErrorOut),
    )
)]
pub async fn retry(
    caller: Caller<Steward>,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    steward::retry_writeback(&state.db, *id, caller.actor()).await?;
    Ok(HttpResponse::NoContent().finish())
}
