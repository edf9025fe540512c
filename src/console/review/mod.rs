//! Conflict review: one conflict at a time, the record and the clients it might be beside each
//! other, with the engine's evidence per field (bits, as `lookup::conflict::detail` explains
//! them) drawn as bars. A steward picks link, not a match or split (or, for a field mismatch,
//! keep HubSpot or accept ClickUp); htmx first shows what the golden clients would become
//! (`preview`), and only the confirm button decides, through `steward::resolve` or
//! `steward::move_record` (audited, CSRF-checked by `Posted`). The page then moves on to the
//! next open conflict of the same kind. Keys: j/k next/previous, l/n/s the actions' previews,
//! ? help (assets/console-keys.js: every element with `data-key` is clicked by its key).

mod preview;

use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;
use entity::conflicts::ConflictStatus;
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
    steward::{self, Destination, Resolution},
    store::{
        conflicts::{self, ConflictFilter, kind_name},
        exclusions::RecordRef,
        records::{self, SourceRecord},
    },
};
use preview::Change;

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
    Link,
    NotAMatch,
    Split,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::KeepHubspot => "keep_hubspot",
            Action::AcceptClickup => "accept_clickup",
            Action::Link => "link",
            Action::NotAMatch => "not_a_match",
            Action::Split => "split",
        }
    }
}

/// An action and, for a link, the client.
#[derive(Deserialize)]
struct Chosen {
    action: Action,
    client_id: Option<Uuid>,
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
    prev: Option<Uuid>,
    next: Option<Uuid>,
}

/// One client's changes in a preview.
struct Effect {
    title: String,
    changes: Vec<Change>,
}

#[derive(Template)]
#[template(path = "console/review/preview.html")]
struct Preview {
    csrf: String,
    id: Uuid,
    action: &'static str,
    client_id: Option<Uuid>,
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

async fn record_of(state: &ApiState, row: &entity::conflicts::Model) -> Result<SourceRecord, ConsoleError> {
    records::find_many(&state.db, &[(row.source.clone(), row.external_id.clone())])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            ConsoleError::Unprocessable(format!("record {}/{} is gone", row.source, row.external_id))
        })
}

async fn preview(
    visit: Visit<Steward>,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
    chosen: web::Query<Chosen>,
) -> Result<HttpResponse, ConsoleError> {
    let row = load(&state, *id).await?;
    let db = &state.db;
    let mut effects = Vec::new();
    let summary = match chosen.action {
        Action::KeepHubspot => "HubSpot's value stays golden; this pair is not asked about again.".to_owned(),
        Action::AcceptClickup => {
            effects.push(Effect {
                title: "The golden client".into(),
                changes: vec![Change {
                    field: row.field.as_deref().map(field_name).unwrap_or("field"),
                    now: row.hubspot_value.clone().unwrap_or_default(),
                    after: row.clickup_value.clone().unwrap_or_default(),
                    from: "pinned".into(),
                }],
            });
            "ClickUp's value is pinned over HubSpot's until the pin is cleared.".to_owned()
        }
        Action::Link => {
            let target = chosen
                .client_id
                .ok_or_else(|| ConsoleError::BadRequest("a link needs `client_id`".into()))?;
            let record = record_of(&state, &row).await?;
            let to = ClientId::from_uuid(target);
            effects.push(Effect {
                title: format!("Client {target}, which the record joins"),
                changes: preview::of_client(db, Some(to), Some(&record), None).await?,
            });
            if let Some(from) = record.client_id.filter(|c| *c != to) {
                effects.push(Effect {
                    title: format!("Client {from}, which the record leaves"),
                    changes: preview::of_client(db, Some(from), None, Some(&record)).await?,
                });
            }
            format!("Record {}/{} joins client {target}.", row.source, row.external_id)
        }
        Action::NotAMatch => format!(
            "Record {}/{} is told apart from every client offered and matched again without them \
             (usually a client of its own). No golden value of the clients offered changes.",
            row.source, row.external_id
        ),
        Action::Split => {
            let record = record_of(&state, &row).await?;
            effects.push(Effect {
                title: "A new client, made for the record".into(),
                changes: preview::of_client(db, None, Some(&record), None).await?,
            });
            if let Some(from) = record.client_id {
                effects.push(Effect {
                    title: format!("Client {from}, which the record leaves"),
                    changes: preview::of_client(db, Some(from), None, Some(&record)).await?,
                });
            }
            format!(
                "Record {}/{} moves to a client of its own and stays there whatever later events say.",
                row.source, row.external_id
            )
        }
    };
    let page = Preview {
        csrf: visit.session.csrf.clone(),
        id: row.id,
        action: chosen.action.name(),
        client_id: chosen.client_id,
        summary,
        effects,
    };
    Ok(html(StatusCode::OK, page.render()))
}

fn field_name(raw: &str) -> &'static str {
    crate::reconcile::Field::ALL
        .into_iter()
        .find(|f| f.as_str() == raw)
        .map_or("field", |f| f.as_str())
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
