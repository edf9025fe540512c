//! The operator API: see what the service would not decide and decide it.
//!
//! Every route needs `Authorization: Bearer <server.operator_token>`; changes also need
//! `X-Operator: <name>`, which is recorded on the conflict or pin.
//!
//! - `GET /api/v1/conflicts?status=open|resolved|all&kind=&client_id=&after=&limit=`
//! - `POST /api/v1/conflicts/{id}/resolve` with `{"action": "keep_hubspot" | "accept_clickup" |
//!   "pin", "value": …}` or `{"action": "link", "client_id": …}`
//! - `GET /api/v1/clients/{id}`: golden values, where each came from, pins, linked records
//! - `DELETE /api/v1/clients/{id}/pins/{field}`

use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, dev::Payload, http::StatusCode, web};
use entity::conflicts::{ConflictKind, ConflictStatus};
use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::{
    domain::ids::ClientId,
    operator::{self, Operator, OperatorError, Resolution},
    reconcile::{Field, Matching},
    store::{
        clients,
        conflicts::{self, ConflictFilter},
        records,
    },
};

/// What the operator routes share.
pub struct OperatorState {
    /// The store.
    pub db: DatabaseConnection,
    /// Matching settings, for normalizing pinned values and re-deriving clients.
    pub matching: Matching,
    /// The bearer token.
    pub token: SecretString,
}

/// Mounts `/api/v1`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .route("/conflicts", web::get().to(list_conflicts))
            .route("/conflicts/{id}/resolve", web::post().to(resolve))
            .route("/clients/{id}", web::get().to(get_client))
            .route("/clients/{id}/pins/{field}", web::delete().to(clear_pin)),
    );
}

/// Why an operator request failed, as an HTTP status and a JSON body.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No or wrong bearer token.
    #[error("a valid operator token is required")]
    Unauthorized,
    /// A parameter the API cannot use.
    #[error("{0}")]
    BadRequest(String),
    /// The decision was refused.
    #[error(transparent)]
    Operator(#[from] OperatorError),
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::BadRequest(_) | ApiError::Operator(OperatorError::Invalid(_)) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::Operator(OperatorError::NotFound(_)) => StatusCode::NOT_FOUND,
            ApiError::Operator(OperatorError::AlreadyResolved(_)) => StatusCode::CONFLICT,
            ApiError::Operator(OperatorError::NotApplicable { .. }) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Operator(OperatorError::Store(_)) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        // Store errors are logged in full and answered without internals.
        let message = match self {
            ApiError::Operator(OperatorError::Store(e)) => {
                tracing::error!(error = %e, "operator API: store failed");
                "the store failed; try again".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unauthorized) {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        response.json(json!({ "error": message }))
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        ApiError::Operator(OperatorError::from(e))
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::Operator(OperatorError::Store(e))
    }
}

/// A request that carried the operator token.
struct Authorized;

impl FromRequest for Authorized {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let given = req
            .headers()
            .get("Authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token);
        let ok = match (given, req.app_data::<web::Data<OperatorState>>()) {
            (Some(given), Some(state)) => {
                bool::from(given.as_bytes().ct_eq(state.token.expose_secret().as_bytes()))
            }
            _ => false,
        };
        std::future::ready(if ok {
            Ok(Authorized)
        } else {
            Err(ApiError::Unauthorized)
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive
/// (RFC 9110 §11.1), so `bearer` and `BEARER` work too.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn operator_of(req: &HttpRequest) -> Result<Operator, ApiError> {
    let name = req
        .headers()
        .get("X-Operator")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::BadRequest("the X-Operator header names who decides".into()))?;
    Ok(Operator::parse(name)?)
}

/// Conflict listing parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
    kind: Option<String>,
    client_id: Option<Uuid>,
    after: Option<Uuid>,
    limit: Option<u64>,
}

/// A conflict as operators see it.
#[derive(Debug, Serialize)]
struct ConflictView {
    id: Uuid,
    kind: &'static str,
    status: &'static str,
    client_id: Option<Uuid>,
    field: Option<String>,
    hubspot_value: Option<String>,
    clickup_value: Option<String>,
    candidates: serde_json::Value,
    source: String,
    external_id: String,
    event_id: String,
    resolution: Option<String>,
    resolved_by: Option<String>,
    resolved_at: Option<chrono::DateTime<chrono::Utc>>,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl From<entity::conflicts::Model> for ConflictView {
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

const MAX_PAGE: u64 = 500;

async fn list_conflicts(
    _: Authorized,
    state: web::Data<OperatorState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let status = match query.status.as_deref().unwrap_or("open") {
        "open" => Some(ConflictStatus::Open),
        "resolved" => Some(ConflictStatus::Resolved),
        "all" => None,
        other => return Err(ApiError::BadRequest(format!("unknown status `{other}`"))),
    };
    let kind = match query.kind.as_deref() {
        None => None,
        Some("field_mismatch") => Some(ConflictKind::FieldMismatch),
        Some("ambiguous_match") => Some(ConflictKind::AmbiguousMatch),
        Some("key_collision") => Some(ConflictKind::KeyCollision),
        Some(other) => return Err(ApiError::BadRequest(format!("unknown kind `{other}`"))),
    };
    let limit = query.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::BadRequest(format!("limit must be 1-{MAX_PAGE}")));
    }
    let filter = ConflictFilter {
        status,
        kind,
        client: query.client_id.map(ClientId::from_uuid),
        after: query.after,
        limit,
    };
    let rows = conflicts::list(&state.db, &filter).await?;
    let next = (rows.len() as u64 == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let items: Vec<ConflictView> = rows.into_iter().map(ConflictView::from).collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_after": next })))
}

async fn resolve(
    _: Authorized,
    req: HttpRequest,
    state: web::Data<OperatorState>,
    id: web::Path<Uuid>,
    body: web::Json<Resolution>,
) -> Result<HttpResponse, ApiError> {
    let by = operator_of(&req)?;
    let row = operator::resolve(&state.db, &state.matching, *id, body.into_inner(), &by).await?;
    Ok(HttpResponse::Ok().json(ConflictView::from(row)))
}

async fn get_client(
    _: Authorized,
    state: web::Data<OperatorState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let client = ClientId::from_uuid(*id);
    let (row, provenance) = clients::find_with_provenance(&state.db, client)
        .await?
        .ok_or_else(|| OperatorError::NotFound(format!("client {client}")))?;
    let fields: serde_json::Map<String, serde_json::Value> = Field::ALL
        .iter()
        .filter_map(|field| {
            let value = clients::value_of(&row, *field)?;
            let from = provenance.get(field);
            Some((
                field.as_str().to_owned(),
                json!({
                    "value": value,
                    "source": from.map(|p| p.source.as_str()),
                    "external_id": from.map(|p| p.external_id.as_str()),
                    "event_id": from.map(|p| p.event_id.as_str()),
                    "set_at_ms": from.map(|p| p.set_at_ms),
                    "pinned": from.is_some_and(|p| p.pinned),
                }),
            ))
        })
        .collect();
    let linked: Vec<_> = records::linked_active(&state.db, client)
        .await?
        .into_iter()
        .map(|r| json!({ "source": r.source.as_str(), "external_id": r.external_id }))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "id": row.id,
        "version": row.version,
        "fields": fields,
        "records": linked,
        "updated_at": row.updated_at,
    })))
}

async fn clear_pin(
    _: Authorized,
    req: HttpRequest,
    state: web::Data<OperatorState>,
    path: web::Path<(Uuid, String)>,
) -> Result<HttpResponse, ApiError> {
    let by = operator_of(&req)?;
    let (id, field) = path.into_inner();
    let field =
        Field::parse(&field).ok_or_else(|| ApiError::BadRequest(format!("unknown field `{field}`")))?;
    operator::clear_pin(&state.db, &state.matching, ClientId::from_uuid(id), field, &by).await?;
    Ok(HttpResponse::NoContent().finish())
}
