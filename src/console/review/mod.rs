//! Conflict review: one conflict at a time, the record and the clients it might be beside each
//! other, with the engine's evidence per field (bits, as `lookup::conflict::detail` explains
//! them) drawn as bars. A steward picks link, not a match or split (or, for a field mismatch,
//! keep HubSpot or accept ClickUp); htmx first shows what the golden clients would become
//! (`preview`), and only the confirm button decides, through `steward::resolve` or
//! `steward::move_record` (audited, CSRF-checked by `Posted`). The page then moves on to the
//! next open conflict of the same kind. A field mismatch shows the client's every field from
//! HubSpot, ClickUp and golden side by side with provenance and the rule that won (`golden`),
//! and offers keep HubSpot, accept ClickUp or pin a value, previewed the same way. Keys: j/k
//! next/previous, l/n/s (h/c/p on a field mismatch) the actions' previews, ? help
//! (assets/console-keys.js: an element with `data-key` is clicked, or focused, by its key).

mod golden;
mod outcome;
mod preview;

use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;
use entity::conflicts::{ConflictKind, ConflictStatus};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    error::{ConsoleError, html, see_other},
    layout::{Chrome, Nav, when},
    session::{Posted, Visit},
};
use crate::{
    api::{
        ApiState,
        auth::{Steward, Viewer},
    },
    domain::{ids::ClientId, source::Source},
    lookup::conflict::{self, CandidateSide, CollisionSide, RecordSide},
    reconcile::Field,
    steward::{self, Destination, Resolution},
    store::{
        conflicts::{self, ConflictFilter, kind_name},
        exclusions::RecordRef,
    },
};
use outcome::Effect;

/// Mounts the review page, the preview fragment and the decision.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/review/{id}", web::get().to(show))
        .route("/review/{id}/preview", web::get().to(preview))
        .route("/review/{id}/decide", web::post().to(decide));
}

/// What a steward may decide on the review page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Action {
    KeepHubspot,
    AcceptClickup,
    Pin,
    Link,
    NotAMatch,
    Split,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::KeepHubspot => "keep_hubspot",
            Action::AcceptClickup => "accept_clickup",
            Action::Pin => "pin",
            Action::Link => "link",
            Action::NotAMatch => "not_a_match",
            Action::Split => "split",
        }
    }
}

/// An action and, for a link, the client; for a pin, the value.
#[derive(Deserialize)]
struct Chosen {
    action: Action,
    client_id: Option<Uuid>,
    value: Option<String>,
}

impl Chosen {
    /// The value a pin asks for, or why there is none.
    fn pinned(&self) -> Result<&str, ConsoleError> {
        self.value
            .as_deref()
            .ok_or_else(|| ConsoleError::BadRequest("a pin needs `value`".into()))
    }
}

/// One field's evidence for a candidate, with its bar.
struct Evidence {
    field: &'static str,
    record_value: String,
    client_value: String,
    level: &'static str,
    bits: f64,
    bar: Bar,
}

/// A horizontal bar centred on zero bits: right and green for evidence for, left and red against.
struct Bar {
    x: i64,
    width: i64,
    positive: bool,
}

impl Bar {
    /// Pixels per bit; ±12 bits fill the 120-pixel bar's halves.
    const SCALE: f64 = 5.0;

    fn of(bits: f64) -> Self {
        let width = (bits.abs() * Self::SCALE).round().clamp(0.0, 60.0) as i64;
        Self {
            x: if bits >= 0.0 { 60 } else { 60 - width },
            width,
            positive: bits >= 0.0,
        }
    }
}

/// A client the record might belong to, as a column of the page.
struct Side {
    client_id: Uuid,
    name: String,
    exists: bool,
    probability: String,
    evidence: Vec<Evidence>,
    keys: Vec<(&'static str, String, String, bool)>,
    held: Vec<String>,
}

impl Side {
    fn candidate(c: CandidateSide) -> Self {
        Self {
            client_id: c.client_id,
            name: c.name.unwrap_or_else(|| c.client_id.to_string()),
            exists: c.exists,
            probability: c
                .probability_now
                .or(c.probability_then)
                .map(|p| format!("{:.1} %", p * 100.0))
                .unwrap_or_default(),
            evidence: c
                .fields
                .into_iter()
                .map(|f| Evidence {
                    field: f.field,
                    record_value: f.record_value.unwrap_or_default(),
                    client_value: f.client_value.unwrap_or_default(),
                    level: f.level,
                    bits: f.bits,
                    bar: Bar::of(f.bits),
                })
                .collect(),
            keys: Vec::new(),
            held: Vec::new(),
        }
    }

    fn colliding(c: CollisionSide) -> Self {
        Self {
            client_id: c.client_id,
            name: c.name.unwrap_or_else(|| c.client_id.to_string()),
            exists: c.exists,
            probability: String::new(),
            evidence: Vec::new(),
            keys: c
                .keys
                .into_iter()
                .map(|k| {
                    let (mine, theirs) = (
                        k.record_value.unwrap_or_default(),
                        k.client_value.unwrap_or_default(),
                    );
                    (k.field, mine, theirs, k.same)
                })
                .collect(),
            held: c
                .records
                .into_iter()
                .map(|r| format!("{}/{}", r.source, r.external_id))
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/review/page.html")]
struct Page {
    chrome: Chrome,
    id: Uuid,
    kind: &'static str,
    open: bool,
    field: String,
    hubspot: String,
    clickup: String,
    raised: String,
    record: Option<RecordSide>,
    sides: Vec<Side>,
    /// The client the conflict is about, when it names one.
    client: Option<Uuid>,
    /// A field mismatch's client, field by field.
    golden: Vec<golden::FieldRow>,
    prev: Option<Uuid>,
    next: Option<Uuid>,
}

#[derive(Template)]
#[template(path = "console/review/preview.html")]
struct Preview {
    csrf: String,
    id: Uuid,
    action: &'static str,
    client_id: Option<Uuid>,
    /// The value a pin stores, as Confirm sends it.
    value: Option<String>,
    summary: String,
    effects: Vec<Effect>,
}

async fn load(state: &ApiState, id: Uuid) -> Result<entity::conflicts::Model, ConsoleError> {
    conflicts::get(&state.db, id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("conflict {id}")))
}

async fn show(
    visit: Visit<Viewer>,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ConsoleError> {
    let row = load(&state, *id).await?;
    let detail = conflict::detail(&state.db, &state.matching, &row).await?;
    let mut sides: Vec<Side> = detail
        .candidates_side_by_side
        .into_iter()
        .map(Side::candidate)
        .collect();
    sides.extend(detail.colliding.into_iter().map(Side::colliding));
    let golden = match mismatch(&row) {
        Ok((client, field)) => golden::rows(&state.db, client, Some(field)).await?,
        Err(_) => Vec::new(),
    };
    let (prev, next) = neighbours(&state, &row).await?;
    let page = Page {
        chrome: Chrome::new(&visit.session, Nav::Conflicts),
        id: row.id,
        kind: kind_name(row.kind),
        open: row.status == ConflictStatus::Open,
        field: row.field.unwrap_or_default(),
        hubspot: row.hubspot_value.unwrap_or_default(),
        clickup: row.clickup_value.unwrap_or_default(),
        raised: when(Some(row.created_at)),
        record: detail.record,
        sides,
        client: row.client_id,
        golden,
        prev,
        next,
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// The open conflicts of the same kind just before and just after this one (oldest first).
async fn neighbours(
    state: &ApiState,
    row: &entity::conflicts::Model,
) -> Result<(Option<Uuid>, Option<Uuid>), ConsoleError> {
    let next = conflicts::list(
        &state.db,
        &ConflictFilter {
            status: Some(ConflictStatus::Open),
            kind: Some(row.kind),
            after: Some(row.id),
            limit: 1,
            ..ConflictFilter::default()
        },
    )
    .await?
    .first()
    .map(|c| c.id);
    let prev = conflicts::open_before(&state.db, row.kind, row.id).await?;
    Ok((prev, next))
}

async fn preview(
    visit: Visit<Steward>,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
    chosen: web::Query<Chosen>,
) -> Result<HttpResponse, ConsoleError> {
    let row = load(&state, *id).await?;
    let outcome = outcome::of(&state, &row, &chosen).await?;
    let page = Preview {
        csrf: visit.session.csrf.clone(),
        id: row.id,
        action: chosen.action.name(),
        client_id: chosen.client_id,
        value: outcome.value,
        summary: outcome.summary,
        effects: outcome.effects,
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// A field mismatch's client and field, or why the conflict has none.
fn mismatch(row: &entity::conflicts::Model) -> Result<(ClientId, Field), ConsoleError> {
    let client = row.client_id.map(ClientId::from_uuid);
    let field = row.field.as_deref().and_then(Field::parse);
    match (row.kind, client, field) {
        (ConflictKind::FieldMismatch, Some(client), Some(field)) => Ok((client, field)),
        _ => Err(ConsoleError::Unprocessable(format!(
            "conflict {} is not a field mismatch on a client's field",
            row.id
        ))),
    }
}

async fn decide(
    posted: Posted<Steward, Chosen>,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ConsoleError> {
    let row = load(&state, *id).await?;
    let by = &posted.session.actor;
    let resolution = match posted.form.action {
        Action::KeepHubspot => Some(Resolution::KeepHubspot),
        Action::AcceptClickup => Some(Resolution::AcceptClickup),
        Action::Pin => Some(Resolution::Pin {
            value: posted.form.pinned()?.to_owned(),
        }),
        Action::NotAMatch => Some(Resolution::NotAMatch),
        Action::Link => Some(Resolution::Link {
            client_id: posted
                .form
                .client_id
                .ok_or_else(|| ConsoleError::BadRequest("a link needs `client_id`".into()))?,
        }),
        Action::Split => None,
    };
    match resolution {
        Some(resolution) => {
            steward::resolve(&state.db, &state.matching, row.id, resolution, by).await?;
        }
        None => {
            let source: Source = row.source.parse().map_err(ConsoleError::Unprocessable)?;
            let record = RecordRef {
                source,
                external_id: row.external_id.clone(),
            };
            let reason = Some(format!("split off on reviewing conflict {}", row.id));
            steward::move_record(
                &state.db,
                &state.matching,
                &record,
                Destination::NewClient,
                reason,
                by,
            )
            .await?;
        }
    }
    let (_, next) = neighbours(&state, &row).await?;
    Ok(see_other(&match next {
        Some(next) => format!("/console/review/{next}"),
        None => format!("/console/conflicts?kind={}", kind_name(row.kind)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_bars_grow_right_for_and_left_against_and_stop_at_their_half() {
        let for_ = Bar::of(4.0);
        assert_eq!((for_.x, for_.width, for_.positive), (60, 20, true));
        let against = Bar::of(-2.0);
        assert_eq!((against.x, against.width, against.positive), (50, 10, false));
        assert_eq!(Bar::of(-40.0).x, 0);
        assert_eq!(Bar::of(40.0).width, 60);
    }
}
