//! Bulk jobs in the console (admin, as in the API), shared by the pages that start them: the
//! events pages (replay dead events, retry failed write-backs) and the conflicts list (resolve
//! by filter). A page turns its own form into a `bulk::BulkPlan`; `answer` then counts it (a dry
//! run, shown with the button that starts it on the same fields) or starts it through
//! `bulk::Runner::start`, the function the API calls (its audit row, then one per row touched).
//! The job's page polls its progress with htmx every second while it runs, and can cancel it.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use entity::bulk_jobs::{self, BulkStatus};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    error::{ConsoleError, html, is_htmx, see_other},
    layout::{Chrome, Nav, when},
    session::{Posted, Visit},
};
use crate::{
    access::sessions::Session,
    api::{ApiState, auth::Admin},
    bulk::{self, BulkError, BulkPlan},
    store::bulk_jobs as jobs,
};

/// Mounts the job page, its progress and cancel.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/jobs/{id}", web::get().to(page))
        .route("/jobs/{id}/progress", web::get().to(progress))
        .route("/jobs/{id}/cancel", web::post().to(cancel));
}

/// A page's bulk form once parsed: what to run, and how to ask for it again to start it.
pub struct Bulk {
    /// The checked action and filter.
    pub plan: BulkPlan,
    /// The request as the job row keeps it, in the API's shape.
    pub recorded: serde_json::Value,
    /// What the selected rows are called, plural ("dead events").
    pub noun: String,
    /// Where the start button posts.
    pub post_to: &'static str,
    /// The form's fields (not the CSRF token or `dry_run`), posted again to start.
    pub fields: Vec<(&'static str, String)>,
    /// The page the dry run belongs to.
    pub nav: Nav,
}

/// What a dry run found, with the form that starts the job on the same fields.
#[derive(Template)]
#[template(path = "console/jobs/dry_run.html")]
struct DryRun {
    csrf: String,
    post_to: &'static str,
    fields: Vec<(&'static str, String)>,
    noun: String,
    count: u64,
}

#[derive(Template)]
#[template(path = "console/jobs/dry_run_page.html")]
struct DryRunPage {
    chrome: Chrome,
    dry: DryRun,
}

/// Counts `bulk`'s rows (`dry_run`) or starts it and sends the browser to the job's page.
pub async fn answer(
    req: &HttpRequest,
    session: &Session,
    state: &ApiState,
    bulk: Bulk,
    dry_run: bool,
) -> Result<HttpResponse, ConsoleError> {
    if dry_run {
        let dry = DryRun {
            csrf: session.csrf.clone(),
            post_to: bulk.post_to,
            fields: bulk.fields,
            noun: bulk.noun,
            count: bulk.plan.count(&state.db).await?,
        };
        if is_htmx(req) {
            return Ok(html(StatusCode::OK, dry.render()));
        }
        let chrome = Chrome::new(session, bulk.nav);
        return Ok(html(StatusCode::OK, DryRunPage { chrome, dry }.render()));
    }
    let job = state.bulk.start(bulk.plan, bulk.recorded, &session.actor).await?;
    let to = format!("/console/jobs/{}", job.id);
    if is_htmx(req) {
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
            status: bulk::status_name(j.status),
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

impl Progress {
    /// Whether the job resolves conflicts (its page belongs to Conflicts, not Events).
    fn resolves(&self) -> bool {
        // The job row spells its action as `BulkAction::name` does.
        self.action == "resolve"
    }
}

#[derive(Template)]
#[template(path = "console/jobs/progress.html")]
struct ProgressView {
    csrf: String,
    job: Progress,
}

#[derive(Template)]
#[template(path = "console/jobs/job.html")]
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
    let nav = if view.job.resolves() {
        Nav::Conflicts
    } else {
        Nav::Events
    };
    let chrome = Chrome::new(&visit.session, nav);
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
