//! Dead events: listed with filters, shown with payload and last error, replayed by stewards.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    ApiState,
    auth::{Caller, Steward, Viewer},
    error::{ApiError, ErrorOut},
    page,
};
use crate::{
    dead_events,
    store::inbox::{self, DeadFilter},
};

/// Mounts the dead-event routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/dead-events").get(list))
        .service(web::resource("/dead-events/{id}").get(show))
        .service(web::resource("/dead-events/{id}/replay").post(replay));
}

/// Dead-event filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeadQuery {
    /// `hubspot`, `clickup`, or `unknown` (bodies that were not events).
    pub source: Option<String>,
    /// The sender's event type, e.g. `contact.propertyChange`.
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    /// Received at or after (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Received before (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// Whose last error contains this text.
    pub reason: Option<String>,
    /// About this object: a HubSpot object id or a ClickUp task id.
    pub external_id: Option<String>,
    /// Keyset cursor: the `next_after` of the previous page.
    pub after: Option<String>,
    /// Page size, 1–500 (default 100).
    pub limit: Option<u64>,
}

impl DeadQuery {
    /// The store's filter, with a checked page size.
    pub fn filter(&self, limit: u64) -> Result<DeadFilter, ApiError> {
        if let Some(source) = &self.source
            && !["hubspot", "clickup", "unknown"].contains(&source.as_str())
        {
            return Err(ApiError::BadRequest(format!("unknown source `{source}`")));
        }
        Ok(DeadFilter {
            source: self.source.clone(),
            event_type: self.event_type.clone(),
            since: self.since,
            until: self.until,
            reason: self.reason.clone(),
            object_id: self.external_id.clone(),
            after: self.after.clone(),
            limit,
        })
    }
}

/// A dead event in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadEventOut {
    id: String,
    source: String,
    #[serde(rename = "type")]
    event_type: String,
    external_id: String,
    occurred_at_ms: i64,
    received_at: DateTime<Utc>,
    attempts: i32,
    last_error: Option<String>,
    /// When it was dead-lettered (last).
    dead_at: DateTime<Utc>,
}

/// A dead event with its payload.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadEventDetailOut {
    #[serde(flatten)]
    event: DeadEventOut,
    /// The event exactly as the sender sent it (a string for a body that was not JSON).
    #[schema(value_type = Object)]
    payload: serde_json::Value,
    /// Whether it can be replayed (an undecodable body cannot).
    replayable: bool,
}

/// A page of dead events, in id order.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadPage {
    items: Vec<DeadEventOut>,
    /// Pass as `after` for the next page; null on the last.
    next_after: Option<String>,
}

impl From<&entity::inbox_events::Model> for DeadEventOut {
    fn from(r: &entity::inbox_events::Model) -> Self {
        Self {
            id: r.id.clone(),
            source: r.source.clone(),
            event_type: r.event_type.clone(),
            external_id: r.object_id.clone(),
            occurred_at_ms: r.occurred_at_ms,
            received_at: r.received_at,
            attempts: r.attempts,
            last_error: r.last_error.clone(),
            dead_at: r.updated_at,
        }
    }
}

/// Lists dead events, a page at a time.
#[utoipa::path(
    operation_id = "dead_events_list", get, path = "/api/v1/dead-events", tag = "dead-events", params(DeadQuery),
    security(("token" = ["viewer"])),
    responses(
        (status = 200, description = "A page of dead events", body = DeadPage),
        (status = 400, description = "Bad filter", body = ErrorOut),
        (status = 401, description = "No valid token", body = ErrorOut),
    )
)]
pub async fn list(
    _: Caller<Viewer>,
    state: web::Data<ApiState>,
    query: web::Query<DeadQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = page::limit(query.limit)?;
    let rows = inbox::dead_page(&state.db, &query.filter(limit)?).await?;
    let next_after = (rows.len() as u64 == limit)
        .then(|| rows.last().map(|r| r.id.clone()))
        .flatten();
    Ok(HttpResponse::Ok().json(DeadPage {
        items: rows.iter().map(DeadEventOut::from).collect(),
        next_after,
    }))
}

/// One dead event with its payload, attempts and last error.
#[utoipa::path(
    operation_id = "dead_events_show", get, path = "/api/v1/dead-events/{id}", tag = "dead-events",
    params(("id" = String, Path, description = "Event id, e.g. `hubspot:123`")),
    security(("token" = ["viewer"])),
    responses(
        (status = 200, description = "The event", body = DeadEventDetailOut),
        (status = 401, description = "No valid token", body = ErrorOut),
        (status = 404, description = "No such dead event", body = ErrorOut),
    )
)]
pub async fn show(
    _: Caller<Viewer>,
    state: web::Data<ApiState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = inbox::get(&state.db, &id)
        .await?
        .filter(|r| r.status == entity::inbox_events::InboxStatus::Dead)
        .ok_or_else(|| ApiError::NotFound(format!("dead event {id}")))?;
    Ok(HttpResponse::Ok().json(DeadEventDetailOut {
        event: DeadEventOut::from(&row),
        replayable: inbox::envelope_of(&row).is_some(),
        payload: row.payload,
    }))
}

/// Puts a dead event back on the work queue; the worker applies it once.
#[utoipa::path(
    operation_id = "dead_events_replay", post, path = "/api/v1/dead-events/{id}/replay", tag = "dead-events",
    params(("id" = String, Path, description = "Event id")),
    security(("token" = ["steward"])),
    responses(
        (status = 202, description = "Queued again"),
        (status = 401, description = "No valid token", body = ErrorOut),
        (status = 403, description = "Role too low", body = ErrorOut),
        (status = 404, description = "No such event", body = ErrorOut),
        (status = 409, description = "Not dead (already applied)", body = ErrorOut),
        (status = 422, description = "Not an event: cannot be replayed", body = ErrorOut),
        (status = 503, description = "The queue is down", body = ErrorOut),
    )
)]
pub async fn replay(
    caller: Caller<Steward>,
    state: web::Data<ApiState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    dead_events::replay_one(&state.db, state.queue.as_ref(), &id, caller.actor()).await?;
    Ok(HttpResponse::Accepted().finish())
}
