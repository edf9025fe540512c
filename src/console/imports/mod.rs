//! Imports: the runs of `clientsync import`, newest first, and one run's counters and column
//! statistics, from `lookup::imports`, the functions the API and the CLI call.

use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;
use uuid::Uuid;

use super::{
    error::{ConsoleError, html},
    layout::{Chrome, Nav, when},
    session::Visit,
};
use crate::{
    api::{ApiState, auth::Viewer},
    lookup::imports::{self, ImportRunView},
};

/// Mounts the list and the run page.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/imports", web::get().to(list))
        .route("/imports/{id}", web::get().to(show));
}

/// Runs listed on the page.
const SHOWN: u64 = 100;

#[derive(Template)]
#[template(path = "console/imports/list.html")]
struct ListPage {
    chrome: Chrome,
    runs: Vec<Row>,
}

/// One run as a table row.
struct Row {
    id: String,
    started: String,
    status: &'static str,
    source: String,
    file: String,
    read: i64,
    loaded: i64,
    rejected: i64,
    new_clients: i64,
}

#[derive(Template)]
#[template(path = "console/imports/run.html")]
struct RunPage {
    chrome: Chrome,
    run: ImportRunView,
    started: String,
    finished: String,
    columns: Vec<(String, String, String, String, u64, u64)>,
}

async fn list(visit: Visit<Viewer>, state: web::Data<ApiState>) -> Result<HttpResponse, ConsoleError> {
    let runs = imports::list(&state.db, SHOWN).await?;
    let page = ListPage {
        chrome: Chrome::new(&visit.session, Nav::Imports),
        runs: runs
            .into_iter()
            .map(|r| Row {
                id: r.id.to_string(),
                started: when(Some(r.started_at)),
                status: r.status,
                source: r.source,
                file: r.file,
                read: r.rows_read,
                loaded: r.rows_loaded,
                rejected: r.rows_rejected,
                new_clients: r.new_clients,
            })
            .collect(),
    };
    Ok(html(StatusCode::OK, page.render()))
}

async fn show(
    visit: Visit<Viewer>,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ConsoleError> {
    let run = imports::show(&state.db, *id).await?;
    let figure = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.2}"));
    let columns = run
        .stats
        .iter()
        .map(|(name, s)| {
            (
                name.clone(),
                figure(s.min),
                figure(s.mean),
                figure(s.max),
                s.count,
                s.not_numeric,
            )
        })
        .collect();
    let page = RunPage {
        chrome: Chrome::new(&visit.session, Nav::Imports),
        started: when(Some(run.started_at)),
        finished: when(run.finished_at),
        columns,
        run,
    };
    Ok(html(StatusCode::OK, page.render()))
}
