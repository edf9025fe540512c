//! One client's page: each golden value with the source, record and time that set it and
//! whether it is pinned; every linked record with its source's own values (a steward can split
//! one off); the open conflicts, each a link to its review; and the timeline, oldest first,
//! with an Undo button on the operator changes that can be undone. All of it is read through
//! `lookup` (`client::view`, `timeline::timeline`), as the API serves it.

use std::collections::HashSet;

use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::super::{
    error::{ConsoleError, html},
    layout::{Chrome, Nav, when},
    session::Visit,
};
use crate::{
    api::{ApiState, auth::Viewer},
    domain::ids::ClientId,
    lookup::{
        client::{self, ClientView, LinkedRecord},
        timeline::{self, TimelineCursor, TimelineEntry},
    },
};

/// Timeline entries on one page of the client view.
pub const ENTRIES: u64 = 200;

/// The operator changes `steward::undo` can reverse.
pub const UNDOABLE: [&str; 3] = ["record.move", "client.unpin", "conflict.resolve"];

/// Mounts the client page.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/clients/{id}", web::get().to(show));
}

#[derive(Deserialize)]
struct Paging {
    after: Option<String>,
}

/// A golden value as the page lists it.
struct GoldenRow {
    field: String,
    value: String,
    source: String,
    record: String,
    set_at: String,
    pinned: bool,
}

/// A linked record, its values in one line each.
struct RecordRow {
    source: String,
    external_id: String,
    status: &'static str,
    last_event: String,
    values: Vec<(String, String)>,
    splittable: bool,
}

/// An open conflict in brief.
struct ConflictRow {
    id: Uuid,
    kind: &'static str,
    field: String,
    hubspot: String,
    clickup: String,
    raised: String,
}

/// How to undo an entry: its audit row and the client to show afterwards.
struct Undo {
    audit_id: Uuid,
    back_to: Uuid,
}

/// One timeline entry.
struct EntryRow {
    at: String,
    kind: &'static str,
    what: String,
    summary: String,
    undo: Option<Undo>,
    undone: bool,
}

#[derive(Template)]
#[template(path = "console/clients/view.html")]
struct Page {
    chrome: Chrome,
    id: Uuid,
    name: String,
    version: i64,
    created: String,
    updated: String,
    golden: Vec<GoldenRow>,
    records: Vec<RecordRow>,
    conflicts: Vec<ConflictRow>,
    entries: Vec<EntryRow>,
    next: Option<String>,
}

async fn show(
    visit: Visit<Viewer>,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
    paging: web::Query<Paging>,
) -> Result<HttpResponse, ConsoleError> {
    let client = ClientId::from_uuid(*id);
    let view = client::view(&state.db, client).await?;
    let after = paging.after.as_deref().map(TimelineCursor::parse).transpose()?;
    let history = timeline::timeline(&state.db, client, after.as_ref(), ENTRIES).await?;
    let chrome = Chrome::new(&visit.session, Nav::Clients);
    let page = Page {
        name: name_of(&view),
        golden: golden(&view),
        records: records(&view, chrome.steward),
        conflicts: conflicts(&view),
        entries: entries(&history.items, *id, chrome.steward),
        next: history.next_after,
        chrome,
        id: view.id,
        version: view.version,
        created: when(Some(view.created_at)),
        updated: when(Some(view.updated_at)),
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// The name to head the page with: name, else given and family names, else email, else id.
fn name_of(view: &ClientView) -> String {
    let value = |f: &str| view.fields.get(f).map(|g| g.value.clone());
    let person: Vec<String> = ["given_name", "family_name"]
        .into_iter()
        .filter_map(value)
        .collect();
    value("name")
        .or_else(|| (!person.is_empty()).then(|| person.join(" ")))
        .or_else(|| value("company"))
        .or_else(|| value("email"))
        .unwrap_or_else(|| view.id.to_string())
}

fn at_ms(ms: Option<i64>) -> String {
    when(ms.and_then(DateTime::<Utc>::from_timestamp_millis))
}

fn golden(view: &ClientView) -> Vec<GoldenRow> {
    view.fields
        .iter()
        .map(|(field, g)| GoldenRow {
            field: field.clone(),
            value: g.value.clone(),
            source: g.source.clone().unwrap_or_default(),
            record: g.external_id.clone().unwrap_or_default(),
            set_at: at_ms(g.set_at_ms),
            pinned: g.pinned,
        })
        .collect()
}

fn records(view: &ClientView, steward: bool) -> Vec<RecordRow> {
    let active = view.records.iter().filter(|r| r.status != "deleted").count();
    view.records
        .iter()
        .map(|r: &LinkedRecord| RecordRow {
            source: r.source.clone(),
            external_id: r.external_id.clone(),
            status: r.status,
            last_event: at_ms(Some(r.last_event_at_ms)),
            values: r
                .values
                .iter()
                .map(|(f, v)| (f.clone(), v.value.clone().unwrap_or_else(|| "(cleared)".into())))
                .collect(),
            // A record alone on its client has nothing to be split from.
            splittable: steward && active > 1 && r.status != "deleted",
        })
        .collect()
}

fn conflicts(view: &ClientView) -> Vec<ConflictRow> {
    view.open_conflicts
        .iter()
        .map(|c| ConflictRow {
            id: c.id,
            kind: c.kind,
            field: c.field.clone().unwrap_or_default(),
            hubspot: c.hubspot_value.clone().unwrap_or_default(),
            clickup: c.clickup_value.clone().unwrap_or_default(),
            raised: when(Some(c.created_at)),
        })
        .collect()
}

/// The entries with an Undo on each undoable operator change not undone on this page; after
/// undoing a move, the page of the client the record went back to is shown.
fn entries(items: &[TimelineEntry], client: Uuid, steward: bool) -> Vec<EntryRow> {
    let audit_id = |e: &TimelineEntry, key: &str| {
        e.detail
            .get(key)
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<Uuid>().ok())
    };
    let undone: HashSet<Uuid> = items.iter().filter_map(|e| audit_id(e, "undoes")).collect();
    items
        .iter()
        .map(|e| {
            let row = (e.kind == "operator" && UNDOABLE.contains(&e.what.as_str()))
                .then(|| audit_id(e, "audit_id"))
                .flatten();
            let was_undone = row.is_some_and(|id| undone.contains(&id));
            let back_to = e
                .detail
                .get("before")
                .and_then(|b| b.get("client_id"))
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<Uuid>().ok())
                .filter(|_| e.what == "record.move")
                .unwrap_or(client);
            EntryRow {
                at: when(Some(e.at)),
                kind: e.kind,
                what: e.what.clone(),
                summary: e.summary.clone(),
                undo: row
                    .filter(|_| steward && !was_undone)
                    .map(|audit_id| Undo { audit_id, back_to }),
                undone: was_undone,
            }
        })
        .collect()
}
