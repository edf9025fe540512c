//! Source records: moving one off its client (split, unlink) to a new client or another one.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    ApiState,
    auth::{Caller, Steward},
    error::{ApiError, ErrorOut},
};
use crate::{
    domain::{ids::ClientId, source::Source},
    steward::{self, Destination, Moved},
    store::exclusions::RecordRef,
};

/// Mounts the record routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/records/{source}/{external_id}/move").post(move_record));
}

/// Where a steward moves a record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveIn {
    /// A client id, or `new` for a client of the record's own.
    #[schema(example = "new")]
    to: String,
    /// Why, for the audit log.
    reason: Option<String>,
}

/// What a move did.
#[derive(Debug, Serialize, ToSchema)]
pub struct MovedOut {
    source: String,
    external_id: String,
    /// The client it left, if it sat on one.
    from: Option<Uuid>,
    /// The client it sits on now.
    to: Uuid,
    /// The client it left held nothing else and was removed.
    from_removed: bool,
    /// The audit row; `POST /api/v1/audit/{id}/undo` reverses the move.
    audit_id: Uuid,
}

impl From<Moved> for MovedOut {
    fn from(m: Moved) -> Self {
        Self {
            source: m.record.source.as_str().to_owned(),
            external_id: m.record.external_id,
            from: m.from.map(|c| c.as_uuid()),
            to: m.to.as_uuid(),
            from_removed: m.from_removed,
            audit_id: m.audit_id,
        }
    }
}

/// Moves a record off its client to a new client or another one; it stays where it is put.
#[utoipa::path(
    operation_id = "records_move", post, path = "/api/v1/records/{source}/{external_id}/move", tag = "records",
    params(
        ("source" = String, Path, description = "`hubspot` or `clickup`"),
        ("external_id" = String, Path, description = "`kind:id`, e.g. `contact:123` or `task:abc`"),
    ),
    request_body = MoveIn,
    security(("token" = ["steward"])),
    responses(
        (status = 200, description = "Moved; both clients re-derived", body = MovedOut),
        (status = 400, description = "Bad source, client id or body", body = ErrorOut),
        (status = 401, description = "No valid token", body = ErrorOut),
        (status = 403, description = "Role too low", body = ErrorOut),
        (status = 404, description = "No such record or client", body = ErrorOut),
        (status = 422, description = "Already there, or deleted at its source", body = ErrorOut),
    )
)]
pub async fn move_record(
    caller: Caller<Steward>,
    state: web::Data<ApiState>,
    path: web::Path<(String, String)>,
    body: web::Json<MoveIn>,
) -> Result<HttpResponse, ApiError> {
    let (source, external_id) = path.into_inner();
    let source: Source = source.parse().map_err(ApiError::BadRequest)?;
    let MoveIn { to, reason } = body.into_inner();
    let to = match to.as_str() {
        "new" => Destination::NewClient,
        id => Destination::Client(ClientId::from_uuid(id.parse().map_err(|_| {
            ApiError::BadRequest(format!("`to` is neither `new` nor a client id: `{id}`"))
        })?)),
    };
    let record = RecordRef { source, external_id };
    let moved = steward::move_record(&state.db, &state.matching, &record, to, reason, caller.actor()).await?;
    Ok(HttpResponse::Ok().json(MovedOut::from(moved)))
}
