//! Bulk jobs from the events pages (admin, as in the API): replay the dead events a filter
//! selects, or retry the failed write-backs it selects. A dry run counts first; starting asks
//! `bulk::Runner::start`, the function the API calls (its audit row, then one per row touched);
//! the job's page polls its progress with htmx every second while it runs, and can cancel it.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use entity::bulk_jobs::{self, BulkStatus};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{DeadForm, given, instant};
use crate::{
    api::{ApiState, auth::Admin},
    bulk::{self, BulkAction, BulkError, BulkFilter, BulkPlan},
    console::{
        error::{ConsoleError, html, is_htmx, see_other},
        layout::{Chrome, Nav, when},
        session::{Posted, Visit},
    },
    store::bulk_jobs as jobs,
};

/// Mounts the dry run / start, the job page, its progress and cancel.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/jobs", web::post().to(start))
        .route("/jobs/{id}", web::get().to(page))
        .route("/jobs/{id}/progress", web::get().to(progress))
        .route("/jobs/{id}/cancel", web::post().to(cancel));
}

/// A bulk request from a form: the action, its filter, and whether only to count.
#[derive(Debug, Deserialize)]
struct Request {
    action: String,
    #[serde(flatten)]
    filter: DeadForm,
    #[serde(default)]
    dry_run: String,
}

impl Request {
    fn plan(&self) -> Result<BulkPlan, ConsoleError> {
        let action = match self.action.as_str() {
            "replay_dead" => BulkAction::ReplayDead,
            "retry_writebacks" => BulkAction::RetryWritebacks,
            other => return Err(ConsoleError::BadRequest(format!("unknown bulk action `{other}`"))),
        };
        let f = &self.filter;
        // Checks the source and times as the list does.
        f.filter(None, 0)?;
        let filter = BulkFilter {
            source: given(&f.source),
            event_type: given(&f.event_type),
            since: instant(&f.since)?,
            until: instant(&f.until)?,
            reason: given(&f.reason),
            external_id: given(&f.external_id),
            ..BulkFilter::default()
        };
        Ok(BulkPlan::new(action, filter)?)
    }

    /// The request as the job row keeps it, in the API's shape.
    fn recorded(&self) -> serde_json::Value {
        let f = &self.filter;
        json!({
            "action": self.action,
            "filter": {
                "source": given(&f.source),
                "type": given(&f.event_type),
                "since": instant(&f.since).ok().flatten(),
                "until": instant(&f.until).ok().flatten(),
                "reason": given(&f.reason),
                "external_id": given(&f.external_id),
            },
            "dry_run": false,
        })
    }

    fn noun(&self) -> &'static str {
        match self.action.as_str() {
            "retry_writebacks" => "failed write-backs",
            _ => "dead events",
        }
    }
}

/// What a dry run found, with the form that starts the job on the same filter.
#[derive(Template)]
#[template(path = "console/events/dry_run.html")]
struct DryRun {
    csrf: String,
    action: String,
    noun: &'static str,
    filter: DeadForm,
    count: u64,
}

#[derive(Template)]
#[template(path = "console/events/dry_run_page.html")]
struct DryRunPage {
    chrome: Chrome,
    dry: DryRun,
}

async fn start(
    req: HttpRequest,
    posted: Posted<Admin, Request>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ConsoleError> {
    let plan = posted.form.plan()?;
    if given(&posted.form.dry_run).is_some() {
        let dry = DryRun {
            csrf: posted.session.csrf.clone(),
            action: posted.form.action.clone(),
            noun: posted.form.noun(),
            filter: posted.form.filter.clone(),
            count: plan.count(&state.db).await?,
        };
        if is_htmx(&req) {
            return Ok(html(StatusCode::OK, dry.render()));
        }
        let chrome = Chrome::new(&posted.session, Nav::Events);
        return Ok(html(StatusCode::OK, DryRunPage { chrome, dry }.render()));
    }
    let job = state
        .bulk
        .start(plan, posted.form.recorded(), &posted.session.actor)
        .await?;
    let to = format!("/console/jobs/{}", job.id);
    if is_htmx(&req) {
        return Ok(HttpResponse::Ok().insert_header(("HX-Redirect", to)).finish());
    }
    Ok(see_other(&to))
}

/// A job's progress as the page shows it.
struct Progress {
    id: Uuid,
    action: String,
    status: &'static str,
    total: i64,
    done: i64,
    failed: i64,
    /// Whole percent of the total handled, for the progress bar.
    percent: i64,
    cancelled: bool,
    last_error: String,
    created_by: String,
    started: String,
    finished: String,
    /// Still going: keep polling and offer cancel.
    live: bool,
}

impl From<bulk_jobs::Model> for Progress {
    fn from(j: bulk_jobs::Model) -> Self {
        let live = matches!(j.status, BulkStatus::Queued | BulkStatus::Running);
        Self {
            id: j.id,
            status: match j.status {
                BulkStatus::Queued => "queued",
                BulkStatus::Running => "running",
                BulkStatus::Finished => "finished",
                BulkStatus::Cancelled => "cancelled",
                BulkStatus::Failed => "failed",
            },
            percent: if j.total > 0 {
                ((j.done + j.failed) * 100 / j.total).clamp(0, 100)
            } else {
                100
            },
            action: j.action,
            total: j.total,
            done: j.done,
            failed: j.failed,
            cancelled: j.cancelled,
            last_error: j.last_error.unwrap_or_default(),
            created_by: j.created_by,
            started: when(Some(j.created_at)),
            finished: when(j.finished_at),
            live,
        }
    }
}

#[derive(Template)]
#[template(path = "console/events/progress.html")]
struct ProgressView {
    csrf: String,
    job: Progress,
}

#[derive(Template)]
#[template(path = "console/events/job.html")]
struct JobPage {
    chrome: Chrome,
    view: ProgressView,
}

async fn load(state: &ApiState, id: Uuid) -> Result<bulk_jobs::Model, ConsoleError> {
    jobs::get(&state.db, id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("bulk job {id}")))
}

async fn page(
    visit: Visit<Admin>,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ConsoleError> {
    let view = ProgressView {
        csrf: visit.session.csrf.clone(),
        job: load(&state, *id).await?.into(),
    };
    let chrome = Chrome::new(&visit.session, Nav::Events);
    Ok(html(StatusCode::OK, JobPage { chrome, view }.render()))
}

async fn progress(
    visit: Visit<Admin>,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ConsoleError> {
    let view = ProgressView {
        csrf: visit.session.csrf,
        job: load(&state, *id).await?.into(),
    };
    Ok(html(StatusCode::OK, view.render()))
}

/// The cancel form carries only its CSRF token.
#[derive(Deserialize)]
struct Empty {}

async fn cancel(
    req: HttpRequest,
    posted: Posted<Admin, Empty>,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ConsoleError> {
    let job = bulk::cancel(&state.db, *id, &posted.session.actor).await?;
    if !is_htmx(&req) {
        return Ok(see_other(&format!("/console/jobs/{id}")));
    }
    let view = ProgressView {
        csrf: posted.session.csrf.clone(),
        job: job.into(),
    };
    Ok(html(StatusCode::OK, view.render()))
}

impl From<BulkError> for ConsoleError {
    fn from(e: BulkError) -> Self {
        match e {
            BulkError::Invalid(_) => ConsoleError::Unprocessable(e.to_string()),
            BulkError::NotFound(id) => ConsoleError::NotFound(format!("bulk job {id}")),
            BulkError::Ended(_) => ConsoleError::Conflict(e.to_string()),
            BulkError::Access(e) => e.into(),
            BulkError::Store(e) => ConsoleError::Internal(e.to_string()),
        }
    }
}
