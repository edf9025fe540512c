//! "Needs attention": one inbox of what waits for an operator, counted from stored rows, with
//! first and last seen per group and a filter by source; and the ClickUp webhooks that are
//! failing or suspended as the health watch last saw them (ClickUp sends no notice, and a
//! suspended webhook delivers nothing until someone reactivates it).

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use entity::conflicts::ConflictKind;
use serde::Deserialize;

use super::{
    error::{ConsoleError, html},
    layout::{Chrome, Nav, when},
    session::Visit,
};
use crate::{
    api::{ApiState, auth::Viewer, health::Probes},
    domain::source::Source,
    saas::webhook_health::Unhealthy,
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
    /// The webhooks behind the ClickUp line, each with status and events dropped.
    webhooks: Vec<String>,
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
        webhooks: Vec::new(),
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
    req: HttpRequest,
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
    if source != Some(Source::HubSpot) {
        groups.push(webhooks(&req));
    }
    let page = Page {
        chrome: Chrome::new(&visit.session, Nav::Attention),
        source: source.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        groups,
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// The ClickUp webhooks losing events, from the health watch this process runs (none runs
/// without `clickup.team_id` and an API token, and the line says so).
fn webhooks(req: &HttpRequest) -> Line {
    let watch = req
        .app_data::<web::Data<Probes>>()
        .and_then(|p| p.webhooks.clone());
    let mut line = Line {
        key: "clickup_webhooks",
        label: "ClickUp webhooks failing or suspended",
        count: 0,
        first_seen: when(None),
        last_seen: when(None),
        href: None,
        hint: "",
        webhooks: Vec::new(),
    };
    let Some(watch) = watch else {
        line.hint = "not watched: set clickup.team_id and the ClickUp API token";
        return line;
    };
    match watch.unhealthy() {
        None => line.hint = "not checked yet",
        Some(Unhealthy {
            checked_at,
            webhooks: Err(_),
        }) => {
            line.last_seen = when(Some(checked_at));
            line.hint = "the last health check failed; see the log and /readyz";
        }
        Some(Unhealthy {
            checked_at,
            webhooks: Ok(unhealthy),
        }) => {
            line.count = unhealthy.len() as u64;
            line.last_seen = when(Some(checked_at));
            line.hint = if unhealthy.iter().any(|w| w.status == "suspended") {
                "suspended: reactivate it in ClickUp (PUT /webhook/{id}, status active), then backfill"
            } else if unhealthy.is_empty() {
                "all active"
            } else {
                "failing: ClickUp drops events; check that it reaches /webhooks/clickup"
            };
            line.webhooks = unhealthy
                .iter()
                .map(|w| format!("{} ({}, {} dropped)", w.id, w.status, w.fail_count))
                .collect();
        }
    }
    line
}

/// An events page's link, filtered by the source this page is filtered by.
fn with_source(path: &str, source: Option<Source>) -> String {
    match source {
        Some(source) => format!("{path}source={}", source.as_str()),
        None => path.trim_end_matches(['?', '&']).to_owned(),
    }
}
