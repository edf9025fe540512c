//! Clients: search as you type (htmx asks for the results fragment a quarter second after the
//! last key, and drops an answer a newer keystroke overtook), and each client's page with its
//! golden values, linked records, open conflicts and timeline (`view`), where stewards split a
//! record off and undo operator changes (`actions`). The search is `lookup::search`, the same
//! as the API's and the CLI's; without JavaScript the form submits and the page lists the hits.

mod actions;
mod view;

use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    error::{ConsoleError, html},
    layout::{Chrome, Nav},
    session::Visit,
};
use crate::{
    api::{ApiState, auth::Viewer},
    lookup::{
        LookupError,
        search::{self, SearchBy, SearchQuery},
    },
};

/// Hits shown for one query: a person types more rather than pages.
pub const HITS: u64 = 25;

/// Mounts the search, the results fragment, the client page and its actions.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/clients", web::get().to(page))
        .route("/clients/results", web::get().to(results))
        .configure(view::routes)
        .configure(actions::routes);
}

#[derive(Deserialize)]
struct Typed {
    #[serde(default)]
    q: String,
    #[serde(default)]
    by: String,
}

/// One hit as the results list it.
struct HitRow {
    id: Uuid,
    name: String,
    email: String,
    document_key: String,
    phone: String,
    matched: &'static str,
}

/// The results of one query, or why there are none.
struct Found {
    hits: Vec<HitRow>,
    by: &'static str,
    note: Option<String>,
}

#[derive(Template)]
#[template(path = "console/clients/page.html")]
struct Page {
    chrome: Chrome,
    q: String,
    by: String,
    found: Found,
}

#[derive(Template)]
#[template(path = "console/clients/results.html")]
struct Results {
    found: Found,
}

async fn page(
    visit: Visit<Viewer>,
    state: web::Data<ApiState>,
    typed: web::Query<Typed>,
) -> Result<HttpResponse, ConsoleError> {
    let found = find(&state, &typed).await?;
    let page = Page {
        chrome: Chrome::new(&visit.session, Nav::Clients),
        q: typed.q.clone(),
        by: typed.by.clone(),
        found,
    };
    Ok(html(StatusCode::OK, page.render()))
}

async fn results(
    _visit: Visit<Viewer>,
    state: web::Data<ApiState>,
    typed: web::Query<Typed>,
) -> Result<HttpResponse, ConsoleError> {
    let found = find(&state, &typed).await?;
    Ok(html(StatusCode::OK, Results { found }.render()))
}

/// Runs the query; a query the search cannot read (too long, not an email) is a note under
/// the box, not an error, since it is usually half typed.
async fn find(state: &ApiState, typed: &Typed) -> Result<Found, ConsoleError> {
    let q = typed.q.trim();
    if q.is_empty() {
        return Ok(Found {
            hits: Vec::new(),
            by: "",
            note: Some("Type an email, tax id, phone, name or HubSpot/ClickUp id.".into()),
        });
    }
    let by = match typed.by.as_str() {
        "" => None,
        raw => Some(SearchBy::parse(raw)?),
    };
    let query = SearchQuery {
        q: q.to_owned(),
        by,
        after: None,
        limit: HITS,
    };
    let page = match search::search(&state.db, &state.matching, &query).await {
        Ok(page) => page,
        Err(LookupError::BadQuery(note)) => {
            return Ok(Found {
                hits: Vec::new(),
                by: by.map(SearchBy::as_str).unwrap_or_default(),
                note: Some(note),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let note = if page.items.is_empty() {
        Some(format!("No client matches `{q}`."))
    } else if page.incomplete || page.next_after.is_some() {
        Some(format!(
            "The first {} shown; add a word to narrow it.",
            page.items.len()
        ))
    } else {
        None
    };
    let hits = page
        .items
        .into_iter()
        .map(|hit| HitRow {
            id: hit.client.id,
            name: hit.client.display_name(),
            email: hit.client.email.clone().unwrap_or_default(),
            document_key: hit.client.document_key.clone().unwrap_or_default(),
            phone: hit.client.phone.clone().unwrap_or_default(),
            matched: hit.matched.as_str(),
        })
        .collect();
    Ok(Found {
        hits,
        by: page.by.as_str(),
        note,
    })
}
