//! Open conflicts, oldest first, 50 to a page, with the field-mismatch decisions (keep
//! HubSpot's value, accept ClickUp's, pin one) for stewards. A decision goes through
//! `steward::resolve`, the same function the API and CLI call: one transaction, the client
//! re-derived, one audit row. With htmx the decided row leaves the list in place. Admins also
//! resolve every conflict the list's filter selects at once (`bulk`).

mod bulk;

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use entity::conflicts::{ConflictKind, ConflictStatus};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    error::{ConsoleError, html, is_htmx, see_other},
    layout::{Chrome, Nav, when},
    session::{Posted, Visit},
};
use crate::{
    api::{
        ApiState,
        auth::{Steward, Viewer},
    },
    domain::ids::ClientId,
    reconcile::Field,
    steward::{self, Resolution},
    store::{
        clients,
        conflicts::{self, ConflictFilter, kind_name},
    },
};

/// Conflicts on one page: enough to work through, few enough to render at once.
pub const PAGE: u64 = 50;

/// Mounts the list and the decision.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/conflicts", web::get().to(list))
        .route("/conflicts/{id}/resolve", web::post().to(resolve))
        .configure(bulk::routes);
}

#[derive(Deserialize)]
struct Filter {
    kind: Option<String>,
    field: Option<String>,
    after: Option<Uuid>,
}

/// The list's filter as a form gives it: empty means any.
struct Chosen {
    kind: Option<ConflictKind>,
    field: Option<Field>,
}

impl Chosen {
    /// Reads `kind` and `field`, refusing names the store does not know.
    fn parse(kind: Option<&str>, field: Option<&str>) -> Result<Self, ConsoleError> {
        let kind = match kind.map(str::trim).unwrap_or("") {
            "" => None,
            raw => Some(
                crate::api::conflicts::parse_kind(raw)
                    .map_err(|e| ConsoleError::BadRequest(e.to_string()))?,
            ),
        };
        let field = match field.map(str::trim).unwrap_or("") {
            "" => None,
            raw => Some(
                Field::parse(raw)
                    .ok_or_else(|| ConsoleError::BadRequest(format!("unknown field `{raw}`")))?,
            ),
        };
        Ok(Self { kind, field })
    }

    fn kind_name(&self) -> &'static str {
        self.kind.map(kind_name).unwrap_or_default()
    }

    fn field_name(&self) -> &'static str {
        self.field.map(Field::as_str).unwrap_or_default()
    }
}

/// One conflict as the list shows it.
struct Row {
    id: Uuid,
    kind: &'static str,
    kind_label: &'static str,
    client: String,
    field: String,
    hubspot: String,
    clickup: String,
    raised: String,
}

impl Row {
    fn of(c: entity::conflicts::Model, names: &HashMap<Uuid, String>) -> Self {
        Self {
            id: c.id,
            kind: kind_name(c.kind),
            kind_label: kind_label(c.kind),
            client: c
                .client_id
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_else(|| c.external_id.clone()),
            field: c.field.unwrap_or_default(),
            hubspot: c.hubspot_value.unwrap_or_default(),
            clickup: c.clickup_value.unwrap_or_default(),
            raised: when(Some(c.created_at)),
        }
    }
}

#[derive(Template)]
#[template(path = "console/conflicts/page.html")]
struct Page {
    chrome: Chrome,
    kind: &'static str,
    field: &'static str,
    /// Every field a mismatch can be on, for the filter's choices.
    fields: &'static [Field],
    rows: Vec<Row>,
    next: Option<Uuid>,
}

#[derive(Template)]
#[template(path = "console/conflicts/resolved.html")]
struct Resolved {
    message: String,
}

/// A field-mismatch decision from the row's buttons or the pin form.
#[derive(Deserialize)]
struct Decision {
    action: String,
    #[serde(default)]
    value: String,
}

fn kind_label(kind: ConflictKind) -> &'static str {
    match kind {
        ConflictKind::FieldMismatch => "field mismatch",
        ConflictKind::AmbiguousMatch => "ambiguous match",
        ConflictKind::KeyCollision => "key collision",
    }
}

async fn list(
    visit: Visit<Viewer>,
    state: web::Data<ApiState>,
    filter: web::Query<Filter>,
) -> Result<HttpResponse, ConsoleError> {
    let chosen = Chosen::parse(filter.kind.as_deref(), filter.field.as_deref())?;
    let found = conflicts::list(
        &state.db,
        &ConflictFilter {
            status: Some(ConflictStatus::Open),
            kind: chosen.kind,
            client: None,
            field: chosen.field.map(|f| f.as_str().to_owned()),
            after: filter.after,
            limit: PAGE,
        },
    )
    .await?;
    let names = client_names(&state, &found).await?;
    let next = (found.len() as u64 == PAGE)
        .then(|| found.last().map(|c| c.id))
        .flatten();
    let rows = found.into_iter().map(|c| Row::of(c, &names)).collect();
    let page = Page {
        chrome: Chrome::new(&visit.session, Nav::Conflicts),
        kind: chosen.kind_name(),
        field: chosen.field_name(),
        fields: &Field::ALL,
        rows,
        next,
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// The names of the page's clients, in one query.
async fn client_names(
    state: &ApiState,
    rows: &[entity::conflicts::Model],
) -> Result<HashMap<Uuid, String>, ConsoleError> {
    let ids: Vec<ClientId> = rows
        .iter()
        .filter_map(|c| c.client_id.map(ClientId::from_uuid))
        .collect();
    let found = clients::load_many(&state.db, &ids).await?;
    Ok(found.into_iter().map(|c| (c.id, display_name(c))).collect())
}

/// How a client is named in lists: company or person name, else email, else id.
fn display_name(c: entity::clients::Model) -> String {
    let person = [c.given_name.as_deref(), c.family_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    c.name
        .filter(|n| !n.is_empty())
        .or_else(|| (!person.is_empty()).then_some(person))
        .or(c.email)
        .unwrap_or_else(|| c.id.to_string())
}

async fn resolve(
    req: HttpRequest,
    posted: Posted<Steward, Decision>,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ConsoleError> {
    let resolution = match posted.form.action.as_str() {
        "keep_hubspot" => Resolution::KeepHubspot,
        "accept_clickup" => Resolution::AcceptClickup,
        "pin" => Resolution::Pin {
            value: posted.form.value.clone(),
        },
        other => return Err(ConsoleError::BadRequest(format!("unknown action `{other}`"))),
    };
    let row = steward::resolve(&state.db, &state.matching, *id, resolution, &posted.session.actor).await?;
    if !is_htmx(&req) {
        return Ok(see_other("/console/conflicts"));
    }
    let message = format!(
        "Resolved the {} conflict: {}.",
        row.field.as_deref().unwrap_or("field"),
        row.resolution.as_deref().unwrap_or("done")
    );
    Ok(html(StatusCode::OK, Resolved { message }.render()))
}
