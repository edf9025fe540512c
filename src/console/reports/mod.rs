//! Reports: each as a table, a chart drawn here as SVG (attributes only, so it renders under a
//! CSP that allows no inline style or script) and a CSV download, all from `reports::make`,
//! the function the API and the CLI call.

mod chart;

use actix_web::{HttpResponse, http::StatusCode, http::header, web};
use askama::Template;
use serde::Deserialize;

use super::{
    error::{ConsoleError, html},
    layout::{Chrome, Nav},
    session::Visit,
};
use crate::{
    api::{ApiState, auth::Viewer, reports::DEFAULT_DAYS},
    reports::{self, ReportError, ReportName},
};

/// Mounts the page and its downloads.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/reports", web::get().to(show))
        .route("/reports/{name}.csv", web::get().to(download));
}

#[derive(Deserialize)]
struct Choice {
    name: Option<String>,
    days: Option<u32>,
}

#[derive(Template)]
#[template(path = "console/reports/page.html")]
struct Page {
    chrome: Chrome,
    names: Vec<(&'static str, &'static str)>,
    name: &'static str,
    title: &'static str,
    days: u32,
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    chart: Option<chart::Chart>,
}

async fn show(
    visit: Visit<Viewer>,
    state: web::Data<ApiState>,
    choice: web::Query<Choice>,
) -> Result<HttpResponse, ConsoleError> {
    let name = ReportName::parse(choice.name.as_deref().unwrap_or("events-per-day"))?;
    let days = choice.days.unwrap_or(DEFAULT_DAYS);
    let report = reports::make(&state.db, name, days, chrono::Utc::now()).await?;
    let table = report.table();
    let page = Page {
        chrome: Chrome::new(&visit.session, Nav::Reports),
        names: ReportName::ALL.map(|n| (n.as_str(), n.title())).to_vec(),
        name: name.as_str(),
        title: name.title(),
        days,
        headers: table.headers().to_vec(),
        rows: table.rows().to_vec(),
        chart: chart::Chart::draw(&report.series()),
    };
    Ok(html(StatusCode::OK, page.render()))
}

async fn download(
    _: Visit<Viewer>,
    state: web::Data<ApiState>,
    name: web::Path<String>,
    choice: web::Query<Choice>,
) -> Result<HttpResponse, ConsoleError> {
    let name = ReportName::parse(&name)?;
    let days = choice.days.unwrap_or(DEFAULT_DAYS);
    let report = reports::make(&state.db, name, days, chrono::Utc::now()).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}-{days}d.csv\"", name.as_str()),
        ))
        .body(report.table().to_csv()))
}

impl From<ReportError> for ConsoleError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::UnknownReport(_) => ConsoleError::NotFound(e.to_string()),
            ReportError::DaysOutOfRange(_) => ConsoleError::BadRequest(e.to_string()),
            ReportError::Store(e) => ConsoleError::Internal(e.to_string()),
        }
    }
}
