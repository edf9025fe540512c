//! Operators: admins add people with a role and hand them a personal token, shown once.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    ApiState,
    auth::{Admin, Caller, Creator},
    error::{ApiError, ErrorOut},
};
use crate::{
    access,
    domain::actor::{parse_role, role_name},
};

/// Mounts the operator routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/operators").get(list).post(add))
        .service(web::resource("/operators/{name}").delete(revoke))
        .service(web::resource("/operators/{name}/role").put(set_role))
        .service(web::resource("/operators/{name}/tokens").post(issue_token));
}

/// An operator, without secrets.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorOut {
    id: Uuid,
    name: String,
    /// `viewer`, `steward` or `admin`.
    role: &'static str,
    /// Whether a console password is set.
    has_password: bool,
    created_by: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<entity::operators::Model> for OperatorOut {
    fn from(o: entity::operators::Model) -> Self {
        Self {
            id: o.id,
            role: role_name(o.role),
            has_password: o.password_hash.is_some(),
            name: o.name,
            created_by: o.created_by,
            created_at: o.created_at,
            revoked_at: o.revoked_at,
        }
    }
}

/// A new operator.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OperatorIn {
    /// Login name, 1–64 printable characters.
    name: String,
    /// `viewer`, `steward` or `admin`.
    role: String,
}

/// A role change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleIn {
    /// `viewer`, `steward` or `admin`.
    role: String,
}

/// A token, shown this once; only its hash is kept.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    /// The operator it speaks for.
    operator: String,
    /// The secret: store it now, it cannot be shown again.
    token: String,
    /// Its first characters, as lists show it.
    prefix: String,
}

/// Every operator, revoked ones included.
#[utoipa::path(
    operation_id = "operators_list", get, path = "/api/v1/operators", tag = "operators",
    security(("token" = ["admin"])),
    responses(
        (status = 200, description = "Operators by name", body = Vec<OperatorOut>),
        (status = 403, description = "Role too low", body = ErrorOut),
    )
)]
pub async fn list(caller: Caller<Admin>, state: web::Data<ApiState>) -> Result<HttpResponse, ApiError> {
    let rows = access::list(&state.db, caller.actor()).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(OperatorOut::from).collect::<Vec<_>>()))
}

/// Adds an operator and returns their first token. The bootstrap token may call this only to
/// create the first admin.
#[utoipa::path(
    operation_id = "operators_add", post, path = "/api/v1/operators", tag = "operators", request_body = OperatorIn,
    security(("token" = ["admin"]), ("bootstrap" = [])),
    responses(
        (status = 201, description = "Created; the token is shown once", body = TokenOut),
        (status = 403, description = "Role too low, or the bootstrap token after the first admin", body = ErrorOut),
        (status = 409, description = "Name taken", body = ErrorOut),
        (status = 422, description = "Bad name or role", body = ErrorOut),
    )
)]
pub async fn add(
    caller: Creator,
    state: web::Data<ApiState>,
    body: web::Json<OperatorIn>,
) -> Result<HttpResponse, ApiError> {
    let role = parse_role(&body.role).map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    let (operator, issued) = access::add(&state.db, &caller.0, &body.name, role).await?;
    Ok(HttpResponse::Created().json(TokenOut {
        operator: operator.name,
        token: issued.secret.expose_secret().to_owned(),
        prefix: issued.prefix,
    }))
}

/// Revokes an operator and all their tokens.
#[utoipa::path(
    operation_id = "operators_revoke", delete, path = "/api/v1/operators/{name}", tag = "operators",
    params(("name" = String, Path, description = "Operator name")),
    security(("token" = ["admin"])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such live operator", body = ErrorOut),
        (status = 409, description = "The last admin", body = ErrorOut),
    )
)]
pub async fn revoke(
    caller: Caller<Admin>,
    state: web::Data<ApiState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    access::revoke(&state.db, caller.actor(), &name).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Changes an operator's role.
#[utoipa::path(
    operation_id = "operators_set_role", put, path = "/api/v1/operators/{name}/role", tag = "operators", request_body = RoleIn,
    params(("name" = String, Path, description = "Operator name")),
    security(("token" = ["admin"])),
    responses(
        (status = 204, description = "Changed"),
        (status = 404, description = "No such live operator", body = ErrorOut),
        (status = 409, description = "The last admin", body = ErrorOut),
        (status = 422, description = "Unknown role", body = ErrorOut),
    )
)]
pub async fn set_role(
    caller: Caller<Admin>,
    state: web::Data<ApiState>,
    name: web::Path<String>,
    body: web::Json<RoleIn>,
) -> Result<HttpResponse, ApiError> {
    let role = parse_role(&body.role).map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    access::set_role(&state.db, caller.actor(), &name, role).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Issues another token for an operator (to rotate: issue, switch, then revoke the operator's
/// old tokens by revoking and re-adding, or keep both).
#[utoipa::path(
    operation_id = "operators_issue_token", post, path = "/api/v1/operators/{name}/tokens", tag = "operators",
    params(("name" = String, Path, description = "Operator name")),
    security(("token" = ["admin"])),
    responses(
        (status = 201, description = "Issued; shown once", body = TokenOut),
        (status = 404, description = "No such live operator", body = ErrorOut),
    )
)]
pub async fn issue_token(
    caller: Caller<Admin>,
    state: web::Data<ApiState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let issued = access::issue_token(&state.db, caller.actor(), &name).await?;
    Ok(HttpResponse::Created().json(TokenOut {
        operator: name.into_inner(),
        token: issued.secret.expose_secret().to_owned(),
        prefix: issued.prefix,
    }))
}
