//! Conflicts: what the engine would not decide, listed and resolved by stewards.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use entity::conflicts::{ConflictKind, ConflictStatus};
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
    domain::ids::ClientId,
    lookup::{self, conflict::ConflictDetail},
    steward::{self, Resolution},
    store::conflicts::{self, ConflictFilter},
};

/// Mounts the conflict routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/conflicts").get(list))
        .service(web::resource("/conflicts/{id}").get(show))
        .service(web::resource("/conflicts/{id}/resolve").post(resolve));
}

/// Conflict listing parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `open` (default), `resolved` or `all`.
    status: Option<String>,
    /// `field_mismatch`, `ambiguous_match` or `key_collision`.
    kind: Option<String>,
    /// Only this client's conflicts.
    client_id: Option<Uuid>,
    /// Keyset cursor: the `next_after` of the previous page.
    after: Option<Uuid>,
    /// Page size, 1–500 (default 100).
    limit: Option<u64>,
}

/// A conflict as operators see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictOut {
    id: Uuid,
    /// `field_mismatch`, `ambiguous_match` or `key_collision`.
    kind: &'static str,
    /// `open` or `resolved`.
    status: &'static str,
    client_id: Option<Uuid>,
    field: Option<String>,
    hubspot_value: Option<String>,
    clickup_value: Option<String>,
    /// The candidates or colliding clients the engine saw.
    #[schema(value_type = Object)]
    candidates: serde_json::Value,
    source: String,
    external_id: String,
    event_id: String,
    resolution: Option<String>,
    resolved_by: Option<String>,
    resolved_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl From<entity::conflicts::Model> for ConflictOut {
    fn from(c: entity::conflicts::Model) -> Self {
        Self {
            id: c.id,
            kind: conflicts::kind_name(c.kind),
            status: match c.status {
                ConflictStatus::Open => "open",
                ConflictStatus::Resolved => "resolved",
            },
            client_id: c.client_id,
            field: c.field,
            hubspot_value: c.hubspot_value,
            clickup_value: c.clickup_value,
            candidates: c.candidates,
            source: c.source,
            external_id: c.external_id,
            event_id: c.event_id,
            resolution: c.resolution,
            resolved_by: c.resolved_by,
            resolved_at: c.resolved_at,
            created_at: c.created_at,
        }
    }
}

/// What a steward decided about a conflict.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ResolutionIn {
    /// field_mismatch: HubSpot's value (already golden) is right.
    KeepHubspot,
    /// field_mismatch: ClickUp's value is right; it is pinned over HubSpot's.
    AcceptClickup,
    /// field_mismatch: neither; this value is pinned.
    Pin {
        /// The value, normalized like any source value.
        value: String,
    },
    /// ambiguous_match or key_collision: the record belongs to this client.
    Link {
        /// The client the record joins.
        client_id: Uuid,
    },
    /// ambiguous_match or key_collision: the record is none of the clients offered; it is
    /// never linked to their records again and is placed anew without them.
    NotAMatch,
}

impl From<ResolutionIn> for Resolution {
    fn from(r: ResolutionIn) -> Self {
        match r {
            ResolutionIn::KeepHubspot => Resolution::KeepHubspot,
            ResolutionIn::AcceptClickup => Resolution::AcceptClickup,
            ResolutionIn::Pin { value } => Resolution::Pin { value },
            ResolutionIn::Link { client_id } => Resolution::Link { client_id },
            ResolutionIn::NotAMatch => Resolution::NotAMatch,
        }
    }
}

/// Lists conflicts, oldest first, a page at a time.
#[utoipa::path(
    operation_id = "conflicts_list", get, path = "/api/v1/conflicts", tag = "conflicts", params(ListQuery),
    security(("token" = ["viewer"])),
    responses(
        (status = 200, description = "A page of conflicts", body = Page<ConflictOut>),
        (status = 400, description = "Bad filter", body = ErrorOut),
        (status = 401, description = "No valid token", body = ErrorOut),
    )
)]
pub async fn list(
    _: Caller<Viewer>,
    state: web::Data<ApiState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let status = match query.status.as_deref().unwrap_or("open") {
        "open" => Some(ConflictStatus::Open),
        "resolved" => Some(ConflictStatus::Resolved),
        "all" => None,
        other => return Err(ApiError::BadRequest(format!("unknown status `{other}`"))),
    };
    let kind = query.kind.as_deref().map(parse_kind).transpose()?;
    let limit = page::limit(query.limit)?;
    let filter = ConflictFilter {
        status,
        kind,
        client: query.client_id.map(ClientId::from_uuid),
        field: None,
        after: query.after,
        limit,
    };
    let rows = conflicts::list(&state.db, &filter).await?;
    Ok(HttpResponse::Ok().json(Page::of(rows, limit, |r| r.id, ConflictOut::from)))
}

/// Reads a conflict kind as the API spells it.
pub fn parse_kind(raw: &str) -> Result<ConflictKind, ApiError> {
    match raw {
        "field_mismatch" => Ok(ConflictKind::FieldMismatch),
        "ambiguous_match" => Ok(ConflictKind::AmbiguousMatch),
        "key_collision" => Ok(ConflictKind::KeyCollision),
        other => Err(ApiError::BadRequest(format!("unknown kind `{other}`"))),
    }
}

/// A conflict with what its kind needs to be decided.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictDetailOut {
    /// The conflict as listed.
    #[serde(flatten)]
    conflict: ConflictOut,
    /// key_collision: the colliding values and each side's records and client; ambiguous_match:
    /// each candidate beside the record, field by field.
    #[serde(flatten)]
    detail: ConflictDetail,
}

impl ConflictDetailOut {
    /// A conflict row with its detail.
    pub fn new(row: entity::conflicts::Model, detail: ConflictDetail) -> Self {
        Self {
            conflict: ConflictOut::from(row),
            detail,
        }
    }
}

/// One conflict; a key_collision shows the values that collided and the records and clients on
/// each side, an ambiguous_match each candidate side by side with per-field levels and bits.
#[utoipa::path(
    operation_id = "conflicts_show", get, path = "/api/v1/conflicts/{id}", tag = "conflicts",
    params(("id" = Uuid, Path, description = "Conflict id")),
    security(("token" = ["viewer"])),
    responses(
        (status = 200, description = "The conflict", body = ConflictDetailOut),
        (status = 400, description = "Not a UUID", body = ErrorOut),
        (status = 404, description = "No such conflict", body = ErrorOut),
    )
)]
pub async fn show(
    _: Caller<Viewer>,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let row = conflicts::get(&state.db, *id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("conflict {id}")))?;
    let detail = lookup::conflict::detail(&state.db, &state.matching, &row).await?;
    Ok(HttpResponse::Ok().json(ConflictDetailOut::new(row, detail)))
}

/// Resolves an open conflict; the client is re-derived in the same transaction.
#[utoipa::path(
    operation_id = "conflicts_resolve", post, path = "/api/v1/conflicts/{id}/resolve", tag = "conflicts",
    params(("id" = Uuid, Path, description = "Conflict id")),
    request_body = ResolutionIn,
    security(("token" = ["steward"])),
    responses(
        (status = 200, description = "Resolved", body = ConflictOut),
        (status = 403, description = "Role too low", body = ErrorOut),
        (status = 404, description = "No such conflict or client", body = ErrorOut),
        (status = 409, description = "Already resolved", body = ErrorOut),
        (status = 422, description = "The action does not fit the conflict", body = ErrorOut),
    )
)]
pub async fn resolve(
    caller: Caller<Steward>,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
    body: web::Json<ResolutionIn>,
) -> Result<HttpResponse, ApiError> {
    let resolution = body.into_inner().into();
    let row = steward::resolve(&state.db, &state.matching, *id, resolution, caller.actor()).await?;
    Ok(HttpResponse::Ok().json(ConflictOut::from(row)))
}
