//! The operator API's one error shape, `{code, detail}`, with the status that fits. Extractor
//! failures (bad JSON, query or UUID) are mapped here too, so the framework never answers in
//! plain text. 5xx bodies say nothing; the cause is logged once, here.

use actix_web::{
    HttpRequest, HttpResponse, ResponseError,
    dev::ServiceResponse,
    error::{JsonPayloadError, PathError, QueryPayloadError},
    http::{StatusCode, header},
    middleware::ErrorHandlerResponse,
    web,
};
use entity::operators::Role;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    access::AccessError, dead_events::DeadEventError, domain::actor::role_name, lookup::LookupError,
    steward::StewardError, store::StoreError,
};

/// Why an operator request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A parameter, query or body the API cannot use.
    #[error("{0}")]
    BadRequest(String),
    /// No valid credentials.
    #[error("a valid operator token is required")]
    Unauthenticated,
    /// Valid credentials, too low a role.
    #[error("this needs the {} role", role_name(*.0))]
    Forbidden(Role),
    /// No such thing.
    #[error("{0} not found")]
    NotFound(String),
    /// The method is not served on this path.
    #[error("method not allowed here")]
    MethodNotAllowed,
    /// The state changed under the request (already resolved, name taken, last admin).
    #[error("{0}")]
    Conflict(String),
    /// Understood, but it does not apply here.
    #[error("{0}")]
    Unprocessable(String),
    /// Too many failed authentications from this address.
    #[error("too many failed attempts; retry in {0} s")]
    TooManyAttempts(u64),
    /// A service we depend on (the queue) is down; retry later. The cause is logged, not sent.
    #[error("the queue is unavailable; try again later")]
    Unavailable(String),
    /// Something on our side failed; the detail is logged, not sent.
    #[error("internal error")]
    Internal(String),
}

/// The body of every error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorOut {
    /// Stable machine-readable reason, e.g. `not_found`.
    pub code: &'static str,
    /// What a person should know; empty of internals for 5xx.
    pub detail: String,
}

impl ApiError {
    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::Unprocessable(_) => "unprocessable",
            ApiError::TooManyAttempts(_) => "too_many_attempts",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) | ApiError::Unavailable(cause) = self {
            tracing::error!(%cause, "operator API: request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        match self {
            ApiError::Unauthenticated => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::TooManyAttempts(secs) => {
                response.insert_header((header::RETRY_AFTER, secs.to_string()));
            }
            _ => {}
        }
        response.json(ErrorOut {
            code: self.code(),
            detail: self.to_string(),
        })
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<AccessError> for ApiError {
    fn from(e: AccessError) -> Self {
        match e {
            AccessError::Unauthenticated => ApiError::Unauthenticated,
            AccessError::Forbidden(role) => ApiError::Forbidden(role),
            AccessError::BootstrapClosed => ApiError::Forbidden(Role::Admin),
            AccessError::NameTaken(_) | AccessError::LastAdmin => ApiError::Conflict(e.to_string()),
            AccessError::NoSuchOperator(name) => ApiError::NotFound(format!("operator `{name}`")),
            AccessError::WeakPassword(_) | AccessError::PasswordNotInEnv(_) | AccessError::Invalid(_) => {
                ApiError::Unprocessable(e.to_string())
            }
            AccessError::Random(_) | AccessError::Store(_) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<DeadEventError> for ApiError {
    fn from(e: DeadEventError) -> Self {
        match e {
            DeadEventError::NotFound(id) => ApiError::NotFound(format!("event {id}")),
            DeadEventError::NotDead(_) => ApiError::Conflict(e.to_string()),
            DeadEventError::Undecodable(_) => ApiError::Unprocessable(e.to_string()),
            DeadEventError::Access(e) => e.into(),
            DeadEventError::Queue(e) => ApiError::Unavailable(e.to_string()),
            DeadEventError::Store(e) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<StewardError> for ApiError {
    fn from(e: StewardError) -> Self {
        match e {
            StewardError::NotFound(what) => ApiError::NotFound(what),
            StewardError::AlreadyResolved(_) | StewardError::Stale(_) => ApiError::Conflict(e.to_string()),
            StewardError::NotApplicable { .. } | StewardError::Invalid(_) => {
                ApiError::Unprocessable(e.to_string())
            }
            StewardError::Access(e) => e.into(),
            StewardError::Store(e) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<LookupError> for ApiError {
    fn from(e: LookupError) -> Self {
        match e {
            LookupError::BadQuery(detail) => ApiError::BadRequest(detail),
            LookupError::NotFound(what) => ApiError::NotFound(what),
            LookupError::Store(e) => ApiError::Internal(e.to_string()),
        }
    }
}

/// Extractor settings for `/api/v1`: their failures become `{code, detail}` 400s.
pub fn extractors(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::JsonConfig::default().limit(64 * 1024).error_handler(
        |e: JsonPayloadError, _: &HttpRequest| ApiError::BadRequest(format!("body: {e}")).into(),
    ))
    .app_data(
        web::QueryConfig::default().error_handler(|e: QueryPayloadError, _: &HttpRequest| {
            ApiError::BadRequest(format!("query: {e}")).into()
        }),
    )
    .app_data(
        web::PathConfig::default()
            .error_handler(|e: PathError, _: &HttpRequest| ApiError::BadRequest(format!("path: {e}")).into()),
    );
}

/// Answers any path under `/api/v1` that no route serves.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!("`{}`", req.path())))
}

/// Gives any error response the framework made itself (a 405 from a resource, say) the
/// `{code, detail}` body; ours already have it and pass through.
pub fn json_body<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let error = match status {
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::NOT_FOUND => ApiError::NotFound(format!("`{}`", res.request().path())),
        StatusCode::UNAUTHORIZED => ApiError::Unauthenticated,
        s if s.is_client_error() => {
            ApiError::BadRequest(s.canonical_reason().unwrap_or("bad request").to_owned())
        }
        s => ApiError::Internal(format!("framework answered {s}")),
    };
    let (req, _) = res.into_parts();
    let mut response = error.error_response();
    *response.status_mut() = if matches!(error, ApiError::BadRequest(_)) {
        status
    } else {
        response.status()
    };
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_into_right_body(),
    ))
}
