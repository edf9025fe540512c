//! The audit log, read with filters: who changed what, when, from what to what.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
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
    steward,
    store::audit::{self, AuditFilter},
};

/// Mounts the audit route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/audit").get(list))
        .service(web::resource("/audit/{id}/undo").post(undo));
}

/// Audit filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this actor (operator name, `cli:<login>` or `bootstrap`).
    actor: Option<String>,
    /// Only this action, e.g. `conflict.resolve`.
    action: Option<String>,
    /// Only changes to this kind of thing: `conflict`, `client`, `record`, `operator`, …
    target_kind: Option<String>,
    /// Only changes to this one thing.
    target_id: Option<String>,
    /// Not before this time (RFC 3339).
    since: Option<DateTime<Utc>>,
    /// Before this time (RFC 3339).
    until: Option<DateTime<Utc>>,
    /// Keyset cursor: the `next_after` of the previous page (this list is newest first).
    before: Option<Uuid>,
    /// Page size, 1–500 (default 100).
    limit: Option<u64>,
}

/// One audit row.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditOut {
    id: Uuid,
    at: DateTime<Utc>,
    actor: String,
    actor_id: Option<Uuid>,
    /// `api`, `console`, `cli` or `bootstrap`.
    via: String,
    action: String,
    target_kind: String,
    target_id: String,
    #[schema(value_type = Option<Object>)]
    before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    after: Option<serde_json::Value>,
    reason: Option<String>,
    /// The audit row this change reversed.
    undoes: Option<Uuid>,
}

impl From<entity::audit_log::Model> for AuditOut {
    fn from(r: entity::audit_log::Model) -> Self {
        Self {
            id: r.id,
            at: r.at,
            actor: r.actor,
            actor_id: r.actor_id,
            via: r.via,
            action: r.action,
            target_kind: r.target_kind,
            target_id: r.target_id,
            before: r.before,
            after: r.after,
            reason: r.reason,
            undoes: r.undoes,
        }
    }
}

/// The audit log, newest first.
#[utoipa::path(
    operation_id = "audit_list", get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    security(("token" = ["viewer"])),
    responses(
        (status = 200, description = "A page of audit rows", body = Page<AuditOut>),
        (status = 400, description = "Bad filter", body = ErrorOut),
    )
)]
pub async fn list(
    _: Caller<Viewer>,
    state: web::Data<ApiState>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = page::limit(query.limit)?;
    let filter = AuditFilter {
        actor: query.actor,
        action: query.action,
        target_kind: query.target_kind,
        target_id: query.target_id,
        since: query.since,
        until: query.until,
        before_id: query.before,
        limit,
    };
    let rows = audit::list(&state.db, &filter).await?;
    Ok(HttpResponse::Ok().json(Page::of(rows, limit, |r| r.id, AuditOut::from)))
}

/// Why an undo is asked for.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UndoIn {
    /// Why, for the audit log.
    reason: Option<String>,
}

/// What an undo wrote.
#[derive(Debug, Serialize, ToSchema)]
pub struct UndoneOut {
    /// The undo's own audit row.
    audit_id: Uuid,
    /// The audit row it reversed.
    undoes: Uuid,
}

/// Reverses a resolution, move or unpin, restoring the before state its audit row recorded.
#[utoipa::path(
    operation_id = "audit_undo", post, path = "/api/v1/audit/{id}/undo", tag = "audit",
    params(("id" = Uuid, Path, description = "The audit row of the change to undo")),
    request_body = UndoIn,
    security(("token" = ["steward"])),
    responses(
        (status = 200, description = "Undone", body = UndoneOut),
        (status = 400, description = "Not a UUID, or a bad body", body = ErrorOut),
        (status = 401, description = "No valid token", body = ErrorOut),
        (status = 403, description = "Role too low", body = ErrorOut),
        (status = 404, description = "No such audit row", body = ErrorOut),
        (status = 409, description = "Changed since, or already undone", body = ErrorOut),
        (status = 422, description = "Not an undoable change", body = ErrorOut),
    )
)]
pub async fn undo(
    caller: Caller<Steward>,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
    body: web::Json<UndoIn>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.into_inner().reason;
    let audit_id = steward::undo(&state.db, &state.matching, *id, reason, caller.actor()).await?;
    Ok(HttpResponse::Ok().json(UndoneOut {
        audit_id,
        undoes: *id,
    }))
}
