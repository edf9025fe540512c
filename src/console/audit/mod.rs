//! The audit log (admins): every change by an operator or the CLI, newest first, filtered by
//! actor, action and target, 100 to a page.

use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    error::{ConsoleError, html},
    layout::{Chrome, Nav, when},
    session::Visit,
};
use crate::{
    api::{ApiState, auth::Admin},
    store::audit::{self, AuditFilter},
};

/// Rows on one page.
const PAGE: u64 = 100;

/// Mounts the page.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(list));
}

/// The filters, as typed (empty means any).
#[derive(Deserialize, Default)]
struct Filter {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    target_kind: String,
    #[serde(default)]
    target_id: String,
    before: Option<Uuid>,
}

impl Filter {
    /// Whether any filter is set.
    fn any(&self) -> bool {
        [&self.actor, &self.action, &self.target_kind, &self.target_id]
            .iter()
            .any(|f| !f.trim().is_empty())
    }

    /// The filters as a query string prefix for the next page's link (ends with `&`).
    fn query(&self) -> String {
        let pairs = [
            ("actor", &self.actor),
            ("action", &self.action),
            ("target_kind", &self.target_kind),
            ("target_id", &self.target_id),
        ];
        let set: Vec<(&str, &str)> = pairs
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (*k, v.trim()))
            .collect();
        match serde_urlencoded::to_string(set) {
            Ok(q) if !q.is_empty() => format!("{q}&"),
            _ => String::new(),
        }
    }
}

struct Row {
    at: String,
    actor: String,
    via: String,
    action: String,
    target: String,
    before: String,
    after: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "console/audit/page.html")]
struct Page {
    chrome: Chrome,
    filter: Filter,
    rows: Vec<Row>,
    next: Option<Uuid>,
}

fn given(value: &str) -> Option<String> {
    Some(value.trim()).filter(|v| !v.is_empty()).map(str::to_owned)
}

fn compact(value: Option<serde_json::Value>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

async fn list(
    visit: Visit<Admin>,
    state: web::Data<ApiState>,
    filter: web::Query<Filter>,
) -> Result<HttpResponse, ConsoleError> {
    let filter = filter.into_inner();
    let found = audit::list(
        &state.db,
        &AuditFilter {
            actor: given(&filter.actor),
            action: given(&filter.action),
            target_kind: given(&filter.target_kind),
            target_id: given(&filter.target_id),
            since: None,
            until: None,
            before_id: filter.before,
            limit: PAGE,
        },
    )
    .await?;
    let next = (found.len() as u64 == PAGE)
        .then(|| found.last().map(|r| r.id))
        .flatten();
    let rows = found
        .into_iter()
        .map(|r| Row {
            at: when(Some(r.at)),
            target: format!("{} {}", r.target_kind, r.target_id),
            before: compact(r.before),
            after: compact(r.after),
            reason: r.reason.unwrap_or_default(),
            actor: r.actor,
            via: r.via,
            action: r.action,
        })
        .collect();
    let page = Page {
        chrome: Chrome::new(&visit.session, Nav::Audit),
        filter,
        rows,
        next,
    };
    Ok(html(StatusCode::OK, page.render()))
}
