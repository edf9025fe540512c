//! What a steward does from a client's page: split a record off to a client of its own
//! (`steward::move_record`, as `POST /api/v1/records/…/move {"to":"new"}`), and undo an
//! operator change from the timeline (`steward::undo`, as `POST /api/v1/audit/{id}/undo`).
//! Both are plain forms (Origin and CSRF checked by `Posted`), audited by the steward layer,
//! and answer with the page of the client to look at next.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use uuid::Uuid;

use super::super::{
    error::{ConsoleError, see_other},
    session::Posted,
};
use crate::{
    api::{ApiState, auth::Steward},
    domain::source::Source,
    steward::{self, Destination},
    store::exclusions::RecordRef,
};

/// Mounts split and undo.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/clients/{id}/split", web::post().to(split))
        .route("/audit/{id}/undo", web::post().to(undo));
}

/// The record to split off.
#[derive(Deserialize)]
struct Split {
    source: String,
    external_id: String,
}

/// Where to go once the change is undone.
#[derive(Deserialize)]
struct Undo {
    back_to: Uuid,
}

/// Moves the record to a new client and shows that client, whose timeline holds the move.
async fn split(
    posted: Posted<Steward, Split>,
    state: web::Data<ApiState>,
    _client: web::Path<Uuid>,
) -> Result<HttpResponse, ConsoleError> {
    let source: Source = posted
        .form
        .source
        .parse()
        .map_err(|e: String| ConsoleError::BadRequest(e))?;
    let record = RecordRef {
        source,
        external_id: posted.form.external_id.clone(),
    };
    let moved = steward::move_record(
        &state.db,
        &state.matching,
        &record,
        Destination::NewClient,
        Some("split off in the console".into()),
        &posted.session.actor,
    )
    .await?;
    Ok(see_other(&format!("/console/clients/{}", moved.to)))
}

/// Undoes the change audit row `id` recorded and shows the client the form named.
async fn undo(
    posted: Posted<Steward, Undo>,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ConsoleError> {
    steward::undo(
        &state.db,
        &state.matching,
        *id,
        Some("undone in the console".into()),
        &posted.session.actor,
    )
    .await?;
    Ok(see_other(&format!("/console/clients/{}", posted.form.back_to)))
}
