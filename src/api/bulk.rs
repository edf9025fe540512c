//! Bulk actions by filter (admin): a dry run counts, a real run is a job with progress.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use entity::bulk_jobs;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    ApiState,
    auth::{Admin, Caller},
    conflicts::{ResolutionIn, parse_kind},
    error::{ApiError, ErrorOut},
};
use crate::{
    bulk::{self, BulkAction, BulkError, BulkFilter, BulkPlan},
    domain::ids::ClientId,
    store::bulk_jobs as jobs,
};

/// Mounts the bulk routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/bulk").post(start))
        .service(web::resource("/bulk/{id}").get(show))
        .service(web::resource("/bulk/{id}/cancel").post(cancel));
}

/// Which bulk action.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionIn {
    /// Resolve the open conflicts selected with `resolution`.
    Resolve,
    /// Replay the dead events selected.
    ReplayDead,
    /// Retry the failed write-backs selected.
    RetryWritebacks,
}

/// Which rows: each action reads the fields that apply to its rows.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterIn {
    /// replay_dead, retry_writebacks: `hubspot` or `clickup`.
    source: Option<String>,
    /// replay_dead: the event type.
    #[serde(rename = "type")]
    event_type: Option<String>,
    /// replay_dead: received at or after.
    since: Option<DateTime<Utc>>,
    /// replay_dead: received before.
    until: Option<DateTime<Utc>>,
    /// replay_dead: whose last error contains this text.
    reason: Option<String>,
    /// replay_dead: about this object (HubSpot object id, ClickUp task id).
    external_id: Option<String>,
    /// resolve: `field_mismatch`, `ambiguous_match` or `key_collision`.
    kind: Option<String>,
    /// resolve: only conflicts on this field, e.g. `phone`.
    field: Option<String>,
    /// resolve, retry_writebacks: only this client's.
    client_id: Option<Uuid>,
}

/// A bulk request.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkIn {
    action: ActionIn,
    #[serde(default)]
    filter: FilterIn,
    /// For `resolve`: how each conflict is resolved (not `link`).
    resolution: Option<ResolutionIn>,
    /// Only count the rows that would be touched.
    #[serde(default)]
    dry_run: bool,
}

/// What a dry run found.
#[derive(Debug, Serialize, ToSchema)]
pub struct DryRunOut {
    /// Rows the filter selects now.
    would_touch: u64,
}

/// A bulk job and its progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkJobOut {
    id: Uuid,
    action: String,
    #[schema(value_type = Object)]
    request: serde_json::Value,
    /// `queued`, `running`, `finished`, `cancelled` or `failed`.
    status: &'static str,
    /// Rows the filter selected when the job started.
    total: i64,
    done: i64,
    failed: i64,
    /// An admin asked it to stop.
    cancelled: bool,
    last_error: Option<String>,
    created_by: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl From<bulk_jobs::Model> for BulkJobOut {
    fn from(j: bulk_jobs::Model) -> Self {
        Self {
            id: j.id,
            action: j.action,
            request: j.request,
            status: bulk::status_name(j.status),
            total: j.total,
            done: j.done,
            failed: j.failed,
            cancelled: j.cancelled,
            last_error: j.last_error,
            created_by: j.created_by,
            created_at: j.created_at,
            updated_at: j.updated_at,
            finished_at: j.finished_at,
        }
    }
}

impl From<BulkError> for ApiError {
    fn from(e: BulkError) -> Self {
        match e {
            BulkError::Invalid(_) => ApiError::Unprocessable(e.to_string()),
            BulkError::NotFound(id) => ApiError::NotFound(format!("bulk job {id}")),
            BulkError::Ended(_) => ApiError::Conflict(e.to_string()),
            BulkError::Access(e) => e.into(),
            BulkError::Store(e) => ApiError::Internal(e.to_string()),
        }
    }
}

impl BulkIn {
    fn plan(&self) -> Result<BulkPlan, ApiError> {
        let action = match (self.action, &self.resolution) {
            (ActionIn::Resolve, Some(r)) => BulkAction::Resolve(r.clone().into()),
            (ActionIn::Resolve, None) => {
                return Err(ApiError::Unprocessable("`resolve` needs a `resolution`".into()));
            }
            (_, Some(_)) => {
                return Err(ApiError::Unprocessable(
                    "only `resolve` takes a `resolution`".into(),
                ));
            }
            (ActionIn::ReplayDead, None) => BulkAction::ReplayDead,
            (ActionIn::RetryWritebacks, None) => BulkAction::RetryWritebacks,
        };
        let f = &self.filter;
        let filter = BulkFilter {
            source: f.source.clone(),
            event_type: f.event_type.clone(),
            since: f.since,
            until: f.until,
            reason: f.reason.clone(),
            external_id: f.external_id.clone(),
            kind: f.kind.as_deref().map(parse_kind).transpose()?,
            field: f.field.clone(),
            client: f.client_id.map(ClientId::from_uuid),
        };
        Ok(BulkPlan::new(action, filter)?)
    }
}

/// Counts (dry run) or starts a bulk action over the rows a filter selects.
#[utoipa::path(
    operation_id = "bulk_start", post, path = "/api/v1/bulk", tag = "bulk",
    request_body = BulkIn,
    security(("token" = ["admin"])),
    responses(
        (status = 200, description = "Dry run: how many rows would be touched", body = DryRunOut),
        (status = 202, description = "Started; poll the job", body = BulkJobOut),
        (status = 400, description = "Bad body", body = ErrorOut),
        (status = 401, description = "No valid token", body = ErrorOut),
        (status = 403, description = "Role too low", body = ErrorOut),
        (status = 422, description = "The action does not fit the filter", body = ErrorOut),
    )
)]
pub async fn start(
    caller: Caller<Admin>,
    state: web::Data<ApiState>,
    body: web::Json<BulkIn>,
) -> Result<HttpResponse, ApiError> {
    let plan = body.plan()?;
    if body.dry_run {
        let would_touch = plan.count(&state.db).await?;
        return Ok(HttpResponse::Ok().json(DryRunOut { would_touch }));
    }
    let request = serde_json::to_value(&*body).map_err(|e| ApiError::Internal(e.to_string()))?;
    let job = state.bulk.start(plan, request, caller.actor()).await?;
    Ok(HttpResponse::Accepted().json(BulkJobOut::from(job)))
}

/// A bulk job's progress.
#[utoipa::path(
    operation_id = "bulk_show", get, path = "/api/v1/bulk/{id}", tag = "bulk",
    params(("id" = Uuid, Path, description = "Job id")),
    security(("token" = ["admin"])),
    responses(
        (status = 200, description = "The job", body = BulkJobOut),
        (status = 400, description = "Not a UUID", body = ErrorOut),
        (status = 401, description = "No valid token", body = ErrorOut),
        (status = 403, description = "Role too low", body = ErrorOut),
        (status = 404, description = "No such job", body = ErrorOut),
    )
)]
pub async fn show(
    _: Caller<Admin>,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let job = jobs::get(&state.db, *id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("bulk job {id}")))?;
    Ok(HttpResponse::Ok().json(BulkJobOut::from(job)))
}

/// Stops a bulk job before its next rows.
#[utoipa::path(
    operation_id = "bulk_cancel", post, path = "/api/v1/bulk/{id}/cancel", tag = "bulk",
    params(("id" = Uuid, Path, description = "Job id")),
    security(("token" = ["admin"])),
    responses(
        (status = 200, description = "Cancelling; it stops before its next rows", body = BulkJobOut),
        (status = 401, description = "No valid token", body = ErrorOut),
        (status = 403, description = "Role too low", body = ErrorOut),
        (status = 404, description = "No such job", body = ErrorOut),
        (status = 409, description = "Already ended", body = ErrorOut),
    )
)]
pub async fn cancel(
    caller: Caller<Admin>,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let job = bulk::cancel(&state.db, *id, caller.actor()).await?;
    Ok(HttpResponse::Ok().json(BulkJobOut::from(job)))
}
