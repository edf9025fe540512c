//! The write-back outbox: planned writes to the sources with filters by status, source and
//! subject (a client's value or a project's), and a retry per failed row through
//! `steward::retry_writeback`, the function the API calls.
//! Retrying all failed rows a filter selects is an admin bulk job (`jobs`).

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use entity::outbox::OutboxSubject;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Done, PAGE, given};
use crate::{
    api::{
        ApiState,
        auth::{Steward, Viewer},
        outbox::{parse_status, parse_subject_filter},
    },
    console::{
        error::{ConsoleError, html, is_htmx, see_other},
        layout::{Chrome, Nav, when},
        session::{Posted, Visit},
    },
    steward::{self, status_name, subject_name},
    store::outbox::{self, OutboxFilter},
};

/// Mounts the list and the retry.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/outbox", web::get().to(list))
        .route("/outbox/{id}/retry", web::post().to(retry));
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct Query {
    #[serde(default)]
    status: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    subject: String,
    #[serde(default, skip_serializing)]
    after: Option<Uuid>,
}

/// One write-back as the list shows it.
struct Row {
    id: Uuid,
    /// `client`, or `project` followed by the project's id.
    subject: String,
    source: String,
    external_id: String,
    field: String,
    value: String,
    status: &'static str,
    attempts: i32,
    last_error: String,
    next_attempt: String,
}

impl From<entity::outbox::Model> for Row {
    fn from(r: entity::outbox::Model) -> Self {
        let subject = match r.project_id {
            Some(project) if r.subject == OutboxSubject::Project => format!("project {project}"),
            _ => subject_name(r.subject).to_owned(),
        };
        Self {
            id: r.id,
            subject,
            source: r.source,
            external_id: r.external_id,
            field: r.field,
            value: r.value,
            status: status_name(r.status),
            attempts: r.attempts,
            last_error: r.last_error.unwrap_or_default(),
            next_attempt: when(Some(r.next_attempt_at)),
        }
    }
}

#[derive(Template)]
#[template(path = "console/events/outbox.html")]
struct Page {
    chrome: Chrome,
    query: Query,
    rows: Vec<Row>,
    next: Option<String>,
}

async fn list(
    visit: Visit<Viewer>,
    state: web::Data<ApiState>,
    query: web::Query<Query>,
) -> Result<HttpResponse, ConsoleError> {
    let query = query.into_inner();
    let filter = OutboxFilter {
        status: given(&query.status)
            .as_deref()
            .map(parse_status)
            .transpose()
            .map_err(|e| ConsoleError::BadRequest(e.to_string()))?,
        source: given(&query.source)
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(ConsoleError::BadRequest)?,
        subject: given(&query.subject)
            .as_deref()
            .map(parse_subject_filter)
            .transpose()
            .map_err(|e| ConsoleError::BadRequest(e.to_string()))?,
        client: None,
        after: query.after,
        limit: PAGE,
    };
    let found = outbox::page(&state.db, &filter).await?;
    let next = (found.len() as u64 == PAGE)
        .then(|| {
            found.last().map(|r| {
                format!(
                    "{}&after={}",
                    serde_urlencoded::to_string(&query).unwrap_or_default(),
                    r.id
                )
            })
        })
        .flatten();
    let page = Page {
        chrome: Chrome::new(&visit.session, Nav::Events),
        rows: found.into_iter().map(Row::from).collect(),
        query,
        next,
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// The form carries only its CSRF token.
#[derive(Deserialize)]
struct Empty {}

async fn retry(
    req: HttpRequest,
    posted: Posted<Steward, Empty>,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ConsoleError> {
    steward::retry_writeback(&state.db, *id, &posted.session.actor).await?;
    if !is_htmx(&req) {
        return Ok(see_other("/console/outbox?status=failed"));
    }
    let message = format!("Write-back {id} is pending again; the writer sends it next.");
    Ok(html(StatusCode::OK, Done { message }.render()))
}
