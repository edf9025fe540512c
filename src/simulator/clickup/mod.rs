//! Fake ClickUp API v2: tasks, list scans, custom fields, field writes and team webhooks, with
//! ClickUp's personal-token auth, `X-RateLimit-*` headers and `{err, ECODE}` error bodies.

mod handlers;
mod ids;
pub(crate) mod json;
mod scan;
pub(crate) mod store;
mod time;
mod values;

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use serde_json::{Value, json};

use super::{
    Endpoint,
    limits::Injected,
    state::{Shared, World},
};

/// Why a ClickUp API request was refused; rendered as ClickUp's `{err, ECODE}` body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ClickUpError {
    /// No `Authorization` header.
    #[error("Authorization header required")]
    MissingToken,
    /// A token that is not ours.
    #[error("Token invalid")]
    BadToken,
    /// Unknown or deleted task.
    #[error("Task not found, deleted")]
    TaskNotFound,
    /// Unknown list.
    #[error("List not found")]
    ListNotFound,
    /// Unknown workspace.
    #[error("Team not authorized")]
    TeamNotFound,
    /// Unknown custom field.
    #[error("Custom field not found")]
    FieldNotFound,
    /// A `drop_down` write naming no option.
    #[error("Value must be an option index or uuid")]
    BadOption,
    /// A value of the wrong JSON type for the field.
    #[error("Value is not valid for a {0} field")]
    BadValue(&'static str),
    /// A body that is not the expected JSON.
    #[error("Invalid request body")]
    BadBody,
    /// Over the per-token limit.
    #[error("Rate limit reached")]
    RateLimited,
    /// An injected outage.
    #[error("Service unavailable")]
    Unavailable,
}

impl ClickUpError {
    fn status(&self) -> StatusCode {
        match self {
            ClickUpError::MissingToken | ClickUpError::BadToken | ClickUpError::TeamNotFound => {
                StatusCode::UNAUTHORIZED
            }
            ClickUpError::TaskNotFound | ClickUpError::ListNotFound => StatusCode::NOT_FOUND,
            ClickUpError::FieldNotFound
            | ClickUpError::BadOption
            | ClickUpError::BadValue(_)
            | ClickUpError::BadBody => StatusCode::BAD_REQUEST,
            ClickUpError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ClickUpError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// ClickUp's error code (real where known; the rest are stand-ins in ClickUp's style).
    fn code(&self) -> &'static str {
        match self {
            ClickUpError::MissingToken => "OAUTH_017",
            ClickUpError::BadToken => "OAUTH_025",
            ClickUpError::TeamNotFound => "OAUTH_027",
            ClickUpError::TaskNotFound => "ITEM_013",
            ClickUpError::ListNotFound => "ITEM_015",
            ClickUpError::FieldNotFound => "FIELD_002",
            ClickUpError::BadOption => "FIELD_011",
            ClickUpError::BadValue(_) => "FIELD_013",
            ClickUpError::BadBody => "INPUT_003",
            ClickUpError::RateLimited => "APP_002",
            ClickUpError::Unavailable => "APP_001",
        }
    }
}

/// A handler's answer: JSON body (status 200), or a refusal.
pub(crate) type Reply = Result<Value, ClickUpError>;

/// Mounts the ClickUp routes under `/clickup/api/v2`.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/clickup/api/v2")
            .route("/task/{task_id}", web::get().to(handlers::get_task))
            .route(
                "/task/{task_id}/field/{field_id}",
                web::post().to(handlers::set_field),
            )
            .route(
                "/task/{task_id}/field/{field_id}",
                web::delete().to(handlers::clear_field),
            )
            .route("/list/{list_id}/task", web::get().to(handlers::list_tasks))
            .route("/list/{list_id}/field", web::get().to(handlers::list_fields))
            .route("/team/{team_id}/webhook", web::get().to(handlers::webhooks)),
    );
}

/// Runs a handler behind ClickUp's auth, faults and limit, and renders its answer with the
/// rate-limit headers.
pub(crate) fn serve(
    shared: &Shared,
    req: &HttpRequest,
    endpoint: Endpoint,
    handler: impl FnOnce(&mut World, &Shared) -> Reply,
) -> HttpResponse {
    let mut world = shared.world();
    world.count_call(endpoint);
    match req.headers().get("authorization").and_then(|v| v.to_str().ok()) {
        None => return render(Err(ClickUpError::MissingToken), None),
        Some(token) if token.trim() != shared.config.clickup_token => {
            return render(Err(ClickUpError::BadToken), None);
        }
        Some(_) => {}
    }
    let now = tokio::time::Instant::now();
    let window = &mut world.clickup_window;
    let (limit, reset) = (window.max(), window.reset_unix_secs());
    let (remaining, refusal) = match world.faults.take() {
        Some(Injected::RateLimit) => (0, Some(ClickUpError::RateLimited)),
        Some(Injected::ServerError) => (0, Some(ClickUpError::Unavailable)),
        None => match world.clickup_window.try_acquire(now) {
            Ok(remaining) => (remaining, None),
            Err(()) => (0, Some(ClickUpError::RateLimited)),
        },
    };
    // The window may have rolled over while acquiring.
    let reset = reset.max(world.clickup_window.reset_unix_secs());
    let headers = (limit, remaining, reset);
    if let Some(refusal) = refusal {
        if refusal == ClickUpError::RateLimited {
            world.rate_limited += 1;
        }
        return render(Err(refusal), Some(headers));
    }
    render(handler(&mut world, shared), Some(headers))
}

fn render(reply: Reply, headers: Option<(u32, u32, i64)>) -> HttpResponse {
    let (status, body) = match reply {
        Ok(body) => (StatusCode::OK, body),
        Err(e) => (e.status(), json!({"err": e.to_string(), "ECODE": e.code()})),
    };
    let mut response = HttpResponse::build(status);
    if let Some((limit, remaining, reset)) = headers {
        response
            .insert_header(("X-RateLimit-Limit", limit.to_string()))
            .insert_header(("X-RateLimit-Remaining", remaining.to_string()))
            .insert_header(("X-RateLimit-Reset", reset.to_string()));
    }
    response.json(body)
}
