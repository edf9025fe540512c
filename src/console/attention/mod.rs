//! "Needs attention": one inbox of what waits for an operator, counted from stored rows, with
//! first and last seen per group and a filter by source.

use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;
use entity::conflicts::ConflictKind;
use serde::Deserialize;

use super::{
    error::{ConsoleError, html},
    layout::{Chrome, Nav, when},
    session::Visit,
};
use crate::{
    api::{ApiState, auth::Viewer},
    domain::source::Source,
    store::{
        attention::{self, Group},
        conflicts::kind_name,
    },
};

/// Mounts the page.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/attention", web::get().to(show));
}

#[derive(Deserialize)]
struct Filter {
    source: Option<String>,
}

/// One line of the inbox.
struct Line {
    key: &'static str,
    label: &'static str,
    count: u64,
    first_seen: String,
    last_seen: String,
    href: Option<String>,
    hint: &'static str,
}

#[derive(Template)]
#[template(path = "console/attention/page.html")]
struct Page {
    chrome: Chrome,
    source: String,
    groups: Vec<Line>,
}

fn line(
    key: &'static str,
    label: &'static str,
    group: &Group,
    href: Option<String>,
    hint: &'static str,
) -> Line {
    Line {
        key,
        label,
        count: group.count,
        first_seen: when(group.first_seen),
        last_seen: when(group.last_seen),
        href,
        hint,
    }
}

fn label(kind: ConflictKind) -> &'static str {
    match kind {
        ConflictKind::FieldMismatch => "Open conflicts: field mismatch",
        ConflictKind::AmbiguousMatch => "Open conflicts: ambiguous match",
        ConflictKind::KeyCollision => "Open conflicts: key collision",
    }
}

async fn show(
    visit: Visit<Viewer>,
    state: web::Data<ApiState>,
    filter: web::Query<Filter>,
) -> Result<HttpResponse, ConsoleError> {
    let source = match filter.source.as_deref().unwrap_or("") {
        "" => None,
        raw => Some(
            raw.parse::<Source>()
                .map_err(|_| ConsoleError::BadRequest(format!("unknown source `{raw}`")))?,
        ),
    };
    let summary = attention::summary(&state.db, source).await?;
    let mut groups: Vec<Line> = summary
        .conflicts
        .iter()
        .map(|(kind, group)| {
            let href = format!("/console/conflicts?kind={}", kind_name(*kind));
            line(kind_name(*kind), label(*kind), group, Some(href), "")
        })
        .collect();
    groups.push(line(
        "dead_events",
        "Dead events",
        &summary.dead_events,
        Some(with_source("/console/events?", source)),
        "",
    ));
    groups.push(line(
        "failed_write_backs",
        "Failed write-backs",
        &summary.failed_write_backs,
        Some(with_source("/console/outbox?status=failed&", source)),
        "",
    ));
    let page = Page {
        chrome: Chrome::new(&visit.session, Nav::Attention),
        source: source.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        groups,
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// An events page's link, filtered by the source this page is filtered by.
fn with_source(path: &str, source: Option<Source>) -> String {
    match source {
        Some(source) => format!("{path}source={}", source.as_str()),
        None => path.trim_end_matches(['?', '&']).to_owned(),
    }
}
