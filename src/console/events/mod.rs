//! Events: dead events with the API's filters and keyset paging, recent events newest first,
//! one event's payload (pretty, escaped) with attempts and last error, and replay. Replaying one
//! is a steward's (`dead_events::replay_one`, the function the API calls); replaying many by
//! filter, and retrying failed write-backs by filter, are admin bulk jobs: `bulk` reads the
//! form, `console::jobs` counts, starts and shows the job (htmx polling, cancel). The
//! write-back outbox is in `outbox`.

pub mod bulk;
pub mod outbox;

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use chrono::{DateTime, NaiveDateTime, Utc};
use entity::inbox_events::{self, InboxStatus};
use serde::{Deserialize, Serialize};

use super::{
    error::{ConsoleError, html, is_htmx, see_other},
    layout::{Chrome, Nav, when},
    session::{Posted, Visit},
};
use crate::{
    api::{
        ApiState,
        auth::{Steward, Viewer},
    },
    dead_events::{self, DeadEventError},
    store::inbox::{self, DeadFilter, RecentFilter},
};

/// Events on one page.
pub const PAGE: u64 = 50;

/// Mounts the events pages, the outbox and bulk jobs.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/events", web::get().to(dead))
        .route("/events/recent", web::get().to(recent))
        .route("/events/show", web::get().to(show))
        .route("/events/replay", web::post().to(replay))
        .configure(outbox::routes)
        .configure(bulk::routes);
}

/// The dead-event filters, as the API names them; empty fields mean "any".
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct DeadForm {
    /// `hubspot`, `clickup` or `unknown`.
    #[serde(default)]
    pub source: String,
    /// The sender's event type.
    #[serde(default, rename = "type")]
    pub event_type: String,
    /// Received at or after: RFC 3339, or `YYYY-MM-DDTHH:MM` in UTC (a datetime-local input).
    #[serde(default)]
    pub since: String,
    /// Received before, as `since`.
    #[serde(default)]
    pub until: String,
    /// Whose last error contains this text.
    #[serde(default)]
    pub reason: String,
    /// About this object.
    #[serde(default)]
    pub external_id: String,
}

impl DeadForm {
    /// The store's filter for one page after `after`.
    pub fn filter(&self, after: Option<String>, limit: u64) -> Result<DeadFilter, ConsoleError> {
        let source = given(&self.source);
        if let Some(source) = &source
            && !["hubspot", "clickup", "unknown"].contains(&source.as_str())
        {
            return Err(ConsoleError::BadRequest(format!("unknown source `{source}`")));
        }
        Ok(DeadFilter {
            source,
            event_type: given(&self.event_type),
            since: instant(&self.since)?,
            until: instant(&self.until)?,
            reason: given(&self.reason),
            object_id: given(&self.external_id),
            after,
            limit,
        })
    }

    /// The filters as a query string, for paging links.
    fn query(&self) -> String {
        serde_urlencoded::to_string(self).unwrap_or_default()
    }
}

/// A form field, `None` when left empty.
pub fn given(raw: &str) -> Option<String> {
    let raw = raw.trim();
    (!raw.is_empty()).then(|| raw.to_owned())
}

/// A time from a form: RFC 3339, or a datetime-local value read as UTC; empty is none.
pub fn instant(raw: &str) -> Result<Option<DateTime<Utc>>, ConsoleError> {
    let Some(raw) = given(raw) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(&raw) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&raw, f).ok())
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| ConsoleError::BadRequest(format!("`{raw}` is not a time (YYYY-MM-DDTHH:MM, UTC)")))
}

/// One event as the lists show it.
pub struct EventRow {
    id: String,
    source: String,
    event_type: String,
    external_id: String,
    status: &'static str,
    attempts: i32,
    last_error: String,
    received: String,
}

impl From<&inbox_events::Model> for EventRow {
    fn from(r: &inbox_events::Model) -> Self {
        Self {
            id: r.id.clone(),
            source: r.source.clone(),
            event_type: r.event_type.clone(),
            external_id: r.object_id.clone(),
            status: status_name(r.status),
            attempts: r.attempts,
            last_error: r.last_error.clone().unwrap_or_default(),
            received: when(Some(r.received_at)),
        }
    }
}

/// An inbox status as pages and filters spell it.
fn status_name(status: InboxStatus) -> &'static str {
    match status {
        InboxStatus::Processed => "processed",
        InboxStatus::PendingEnrichment => "pending_enrichment",
        InboxStatus::Ignored => "ignored",
        InboxStatus::Dead => "dead",
    }
}

fn parse_status(raw: &str) -> Result<InboxStatus, ConsoleError> {
    match raw {
        "processed" => Ok(InboxStatus::Processed),
        "pending_enrichment" => Ok(InboxStatus::PendingEnrichment),
        "ignored" => Ok(InboxStatus::Ignored),
        "dead" => Ok(InboxStatus::Dead),
        other => Err(ConsoleError::BadRequest(format!("unknown status `{other}`"))),
    }
}

#[derive(Template)]
#[template(path = "console/events/dead.html")]
struct DeadPage {
    chrome: Chrome,
    form: DeadForm,
    rows: Vec<EventRow>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct DeadQuery {
    #[serde(flatten)]
    form: DeadForm,
    after: Option<String>,
}

async fn dead(
    visit: Visit<Viewer>,
    state: web::Data<ApiState>,
    query: web::Query<DeadQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let DeadQuery { form, after } = query.into_inner();
    let found = inbox::dead_page(&state.db, &form.filter(after, PAGE)?).await?;
    let next = (found.len() as u64 == PAGE)
        .then(|| {
            found
                .last()
                .map(|r| format!("{}&after={}", form.query(), urlencoding(&r.id)))
        })
        .flatten();
    let page = DeadPage {
        chrome: Chrome::new(&visit.session, Nav::Events),
        rows: found.iter().map(EventRow::from).collect(),
        form,
        next,
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// A value for a query string.
fn urlencoding(raw: &str) -> String {
    serde_urlencoded::to_string([("", raw)])
        .map(|s| s.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct RecentQuery {
    #[serde(default)]
    source: String,
    #[serde(default, rename = "type")]
    event_type: String,
    #[serde(default)]
    status: String,
    #[serde(default, skip_serializing)]
    before_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing)]
    before_id: Option<String>,
}

#[derive(Template)]
#[template(path = "console/events/recent.html")]
struct RecentPage {
    chrome: Chrome,
    query: RecentQuery,
    rows: Vec<EventRow>,
    next: Option<String>,
}

async fn recent(
    visit: Visit<Viewer>,
    state: web::Data<ApiState>,
    query: web::Query<RecentQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let query = query.into_inner();
    let filter = RecentFilter {
        source: given(&query.source),
        event_type: given(&query.event_type),
        status: given(&query.status).as_deref().map(parse_status).transpose()?,
        before: query.before_at.zip(query.before_id.clone()),
        limit: PAGE,
    };
    let found = inbox::recent_page(&state.db, &filter).await?;
    let next = (found.len() as u64 == PAGE)
        .then(|| {
            found.last().map(|r| {
                format!(
                    "{}&before_at={}&before_id={}",
                    serde_urlencoded::to_string(&query).unwrap_or_default(),
                    urlencoding(&r.received_at.to_rfc3339()),
                    urlencoding(&r.id)
                )
            })
        })
        .flatten();
    let page = RecentPage {
        chrome: Chrome::new(&visit.session, Nav::Events),
        rows: found.iter().map(EventRow::from).collect(),
        query,
        next,
    };
    Ok(html(StatusCode::OK, page.render()))
}

#[derive(Deserialize)]
struct Which {
    id: String,
}

#[derive(Template)]
#[template(path = "console/events/show.html")]
struct ShowPage {
    chrome: Chrome,
    row: EventRow,
    payload: String,
    pruned: bool,
    replayable: bool,
}

async fn show(
    visit: Visit<Viewer>,
    state: web::Data<ApiState>,
    which: web::Query<Which>,
) -> Result<HttpResponse, ConsoleError> {
    let row = inbox::get(&state.db, &which.id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("event `{}`", which.id)))?;
    let payload = serde_json::to_string_pretty(&row.payload)
        .map_err(|e| ConsoleError::Internal(format!("payload of {}: {e}", row.id)))?;
    let page = ShowPage {
        chrome: Chrome::new(&visit.session, Nav::Events),
        replayable: row.status == InboxStatus::Dead && inbox::envelope_of(&row).is_some(),
        pruned: row.payload_pruned_at.is_some(),
        row: EventRow::from(&row),
        payload,
    };
    Ok(html(StatusCode::OK, page.render()))
}

#[derive(Template)]
#[template(path = "console/events/done.html")]
struct Done {
    message: String,
}

async fn replay(
    req: HttpRequest,
    posted: Posted<Steward, Which>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ConsoleError> {
    let id = &posted.form.id;
    dead_events::replay_one(&state.db, state.queue.as_ref(), id, &posted.session.actor).await?;
    if !is_htmx(&req) {
        return Ok(see_other("/console/events"));
    }
    let message = format!("Replayed {id}: it is on the work queue again.");
    Ok(html(StatusCode::OK, Done { message }.render()))
}

impl From<DeadEventError> for ConsoleError {
    fn from(e: DeadEventError) -> Self {
        match e {
            DeadEventError::NotFound(id) => ConsoleError::NotFound(format!("event `{id}`")),
            DeadEventError::NotDead(_) => ConsoleError::Conflict(e.to_string()),
            DeadEventError::Undecodable(_) => ConsoleError::Unprocessable(e.to_string()),
            DeadEventError::Access(e) => e.into(),
            DeadEventError::Queue(e) => ConsoleError::Unavailable(e.to_string()),
            DeadEventError::Store(e) => ConsoleError::Internal(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_time_is_rfc_3339_or_a_datetime_local_value_in_utc() {
        let local = instant("2026-12-03T09:30").unwrap().unwrap();
        assert_eq!(local.to_rfc3339(), "2026-12-03T09:30:00+00:00");
        let zoned = instant("2026-12-03T10:30:00+01:00").unwrap().unwrap();
        assert_eq!(zoned, local);
        assert!(instant("  ").unwrap().is_none());
        assert!(instant("yesterday").is_err());
    }

    #[test]
    fn an_unknown_source_is_refused_before_any_query() {
        let form = DeadForm {
            source: "salesforce".into(),
            ..DeadForm::default()
        };
        assert!(form.filter(None, 10).is_err());
    }
}
