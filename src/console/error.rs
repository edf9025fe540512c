//! The console's one error type. A page answers with a small HTML page and the status that
//! fits; an htmx request gets the message as a fragment aimed at the page's alert area. 5xx
//! says nothing of the cause, which is logged once, here.

use actix_web::{
    HttpRequest, HttpResponse, ResponseError,
    http::{StatusCode, header},
};
use askama::Template;
use entity::operators::Role;

use crate::{access::AccessError, domain::actor::role_name, steward::StewardError, store::StoreError};

/// Why a console request failed.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No live session: sign in first.
    #[error("please sign in")]
    SignInFirst,
    /// Signed in, but the role does not cover the action.
    #[error("this needs the {} role", role_name(*.0))]
    Forbidden(Role),
    /// A POST from another origin, or without this session's CSRF token.
    #[error("the form was refused ({0}); reload the page and try again")]
    CsrfRefused(&'static str),
    /// A form or query the console cannot use.
    #[error("{0}")]
    BadRequest(String),
    /// No such thing.
    #[error("{0} not found")]
    NotFound(String),
    /// The state changed under the request (already resolved, name taken, last admin).
    #[error("{0}")]
    Conflict(String),
    /// Understood, but it does not apply here.
    #[error("{0}")]
    Unprocessable(String),
    /// A service the action needs (the work queue) is down; retrying later may work.
    #[error("{0}; try again shortly")]
    Unavailable(String),
    /// Too many failed sign-ins from this address.
    #[error("too many failed attempts; retry in {0} s")]
    TooManyAttempts(u64),
    /// Something on our side failed; the detail is logged, not shown.
    #[error("something went wrong on our side; it has been logged")]
    Internal(String),
}

/// The page shown for an error.
#[derive(Template)]
#[template(path = "console/error/page.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    detail: String,
    css: &'a str,
    icon: &'a str,
}

/// The fragment htmx swaps into the alert area.
#[derive(Template)]
#[template(path = "console/error/flash.html")]
struct Flash {
    detail: String,
}

/// A 303 to `to`; after a POST the browser follows it with a GET.
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// Whether the request came from htmx (it then wants a fragment, not a page).
pub fn is_htmx(req: &HttpRequest) -> bool {
    req.headers().contains_key("HX-Request")
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignInFirst => StatusCode::SEE_OTHER,
            ConsoleError::Forbidden(_) | ConsoleError::CsrfRefused(_) => StatusCode::FORBIDDEN,
            ConsoleError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::Conflict(_) => StatusCode::CONFLICT,
            ConsoleError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ConsoleError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            ConsoleError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ConsoleError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ConsoleError::SignInFirst => return see_other("/console/login"),
            ConsoleError::Internal(cause) => tracing::error!(%cause, "console: request failed"),
            ConsoleError::CsrfRefused(why) => tracing::warn!(why, "console: form refused"),
            _ => {}
        }
        let status = self.status_code();
        let page = ErrorPage {
            status: status.as_u16(),
            title: status.canonical_reason().unwrap_or("Error"),
            detail: self.to_string(),
            css: super::assets::stylesheet(),
            icon: super::assets::icon(),
        };
        html(status, page.render())
    }
}

impl ConsoleError {
    /// The answer for an htmx request: the message as a fragment for the alert area (the
    /// layout tells htmx to swap error answers too), or a redirect to sign-in.
    pub fn for_htmx(&self) -> HttpResponse {
        if matches!(self, ConsoleError::SignInFirst) {
            return HttpResponse::Ok()
                .insert_header(("HX-Redirect", "/console/login"))
                .finish();
        }
        if let ConsoleError::Internal(cause) = self {
            tracing::error!(%cause, "console: request failed");
        }
        let mut response = html(
            self.status_code(),
            Flash {
                detail: self.to_string(),
            }
            .render(),
        );
        let headers = response.headers_mut();
        headers.insert(
            header::HeaderName::from_static("hx-retarget"),
            header::HeaderValue::from_static("#flash"),
        );
        headers.insert(
            header::HeaderName::from_static("hx-reswap"),
            header::HeaderValue::from_static("innerHTML"),
        );
        response
    }
}

/// An HTML answer that no cache keeps (pages show personal data and per-session tokens).
pub fn html(status: StatusCode, rendered: Result<String, askama::Error>) -> HttpResponse {
    match rendered {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(body),
        Err(e) => {
            tracing::error!(cause = %e, "console: a template failed to render");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("internal error")
        }
    }
}

/// Answers any console path no route serves.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ConsoleError> {
    Err(ConsoleError::NotFound(format!("`{}`", req.path())))
}

impl From<StoreError> for ConsoleError {
    fn from(e: StoreError) -> Self {
        ConsoleError::Internal(e.to_string())
    }
}

impl From<sea_orm::DbErr> for ConsoleError {
    fn from(e: sea_orm::DbErr) -> Self {
        ConsoleError::Internal(e.to_string())
    }
}

impl From<AccessError> for ConsoleError {
    fn from(e: AccessError) -> Self {
        match e {
            AccessError::Unauthenticated => ConsoleError::SignInFirst,
            AccessError::Forbidden(role) => ConsoleError::Forbidden(role),
            AccessError::BootstrapClosed => ConsoleError::Forbidden(Role::Admin),
            AccessError::NameTaken(_) | AccessError::LastAdmin => ConsoleError::Conflict(e.to_string()),
            AccessError::NoSuchOperator(name) => ConsoleError::NotFound(format!("operator `{name}`")),
            AccessError::WeakPassword(_) | AccessError::PasswordNotInEnv(_) | AccessError::Invalid(_) => {
                ConsoleError::Unprocessable(e.to_string())
            }
            AccessError::Random(_) | AccessError::Store(_) => ConsoleError::Internal(e.to_string()),
        }
    }
}

impl From<StewardError> for ConsoleError {
    fn from(e: StewardError) -> Self {
        match e {
            StewardError::NotFound(what) => ConsoleError::NotFound(what),
            StewardError::AlreadyResolved(_) | StewardError::Stale(_) => {
                ConsoleError::Conflict(e.to_string())
            }
            StewardError::NotApplicable { .. } | StewardError::Invalid(_) => {
                ConsoleError::Unprocessable(e.to_string())
            }
            StewardError::Access(e) => e.into(),
            StewardError::Store(e) => ConsoleError::Internal(e.to_string()),
        }
    }
}

impl From<crate::lookup::LookupError> for ConsoleError {
    fn from(e: crate::lookup::LookupError) -> Self {
        use crate::lookup::LookupError;
        match e {
            LookupError::BadQuery(detail) => ConsoleError::BadRequest(detail),
            LookupError::NotFound(what) => ConsoleError::NotFound(what),
            LookupError::Store(e) => ConsoleError::Internal(e.to_string()),
        }
    }
}
