//! Clients: the golden values with where each came from, and the pins stewards set.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    ApiState,
    auth::{Caller, Steward, Viewer},
    error::{ApiError, ErrorOut},
};
use crate::{
    domain::ids::ClientId,
    reconcile::Field,
    steward,
    store::{clients, records},
};

/// Mounts the client routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/clients/{id}").get(show))
        .service(web::resource("/clients/{id}/pins/{field}").delete(unpin));
}

/// A golden value and where it came from.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldOut {
    value: String,
    /// `hubspot`, `clickup` or `operator`.
    source: Option<String>,
    external_id: Option<String>,
    event_id: Option<String>,
    set_at_ms: Option<i64>,
    /// An operator fixed this value; sources do not change it until the pin is cleared.
    pinned: bool,
}

/// A record feeding the client.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkedOut {
    source: String,
    external_id: String,
}

/// A client as operators see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientOut {
    id: Uuid,
    version: i64,
    fields: BTreeMap<String, FieldOut>,
    records: Vec<LinkedOut>,
    updated_at: DateTime<Utc>,
}

/// One client's golden values, provenance, pins and linked records.
#[utoipa::path(
    operation_id = "clients_show", get, path = "/api/v1/clients/{id}", tag = "clients",
    params(("id" = Uuid, Path, description = "Client id")),
    security(("token" = ["viewer"])),
    responses(
        (status = 200, description = "The client", body = ClientOut),
        (status = 400, description = "Not a UUID", body = ErrorOut),
        (status = 404, description = "No such client", body = ErrorOut),
    )
)]
pub async fn show(
    _: Caller<Viewer>,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let client = ClientId::from_uuid(*id);
    let (row, provenance) = clients::find_with_provenance(&state.db, client)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("client {client}")))?;
    let fields = Field::ALL
        .iter()
        .filter_map(|field| {
            let value = clients::value_of(&row, *field)?;
            let from = provenance.get(field);
            Some((
                field.as_str().to_owned(),
                FieldOut {
                    value: value.to_owned(),
                    source: from.map(|p| p.source.clone()),
                    external_id: from.map(|p| p.external_id.clone()),
                    event_id: from.map(|p| p.event_id.clone()),
                    set_at_ms: from.map(|p| p.set_at_ms),
                    pinned: from.is_some_and(|p| p.pinned),
                },
            ))
        })
        .collect();
    let records = records::linked_active(&state.db, client)
        .await?
        .into_iter()
        .map(|r| LinkedOut {
            source: r.source.as_str().to_owned(),
            external_id: r.external_id,
        })
        .collect();
    Ok(HttpResponse::Ok().json(ClientOut {
        id: row.id,
        version: row.version,
        fields,
        records,
        updated_at: row.updated_at,
    }))
}

/// Clears a pin: the field goes back to the sources' value (HubSpot's first).
#[utoipa::path(
    operation_id = "clients_unpin", delete, path = "/api/v1/clients/{id}/pins/{field}", tag = "clients",
    params(("id" = Uuid, Path, description = "Client id"), ("field" = String, Path, description = "Field name")),
    security(("token" = ["steward"])),
    responses(
        (status = 204, description = "Pin cleared"),
        (status = 403, description = "Role too low", body = ErrorOut),
        (status = 404, description = "No such client or pin", body = ErrorOut),
    )
)]
pub async fn unpin(
    caller: Caller<Steward>,
    state: web::Data<ApiState>,
    path: web::Path<(Uuid, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, field) = path.into_inner();
    let field =
        Field::parse(&field).ok_or_else(|| ApiError::BadRequest(format!("unknown field `{field}`")))?;
    steward::clear_pin(
        &state.db,
        &state.matching,
        ClientId::from_uuid(id),
        field,
        caller.actor(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
