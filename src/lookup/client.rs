//! One client as an operator inspects it: each golden value with where it came from and
//! whether an operator pinned it, every linked record with that source's own current values
//! (so a value HubSpot won over ClickUp's is visible beside the one it beat), and the
//! client's open conflicts.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::{conflicts::ConflictStatus, source_records::RecordStatus};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::LookupError;
use crate::{
    domain::ids::ClientId,
    reconcile::Field,
    store::{
        clients,
        conflicts::{self, ConflictFilter},
        records::{self, SourceRecord},
    },
};

/// A golden value and where it came from.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GoldenValue {
    /// The value.
    pub value: String,
    /// `hubspot`, `clickup` or `operator`.
    pub source: Option<String>,
    /// The record that gave it (an operator's name, for a pin).
    pub external_id: Option<String>,
    /// The event that carried it (the reason, for a pin).
    pub event_id: Option<String>,
    /// When the source changed it (Unix ms).
    pub set_at_ms: Option<i64>,
    /// An operator fixed this value; sources do not change it until the pin is cleared.
    pub pinned: bool,
}

/// One field as a source record last reported it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SourceValue {
    /// The value; null when the source cleared it.
    pub value: Option<String>,
    /// When the source changed it (Unix ms).
    pub at_ms: i64,
    /// The event that carried it.
    pub event_id: String,
}

/// A record linked to the client, with its own current values.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LinkedRecord {
    /// `hubspot` or `clickup`.
    pub source: String,
    /// `contact:…`, `company:…` or `task:…`.
    pub external_id: String,
    /// `active`, `pending_enrichment` or `deleted` (a deleted record no longer feeds the client).
    pub status: &'static str,
    /// The newest event time applied (Unix ms).
    pub last_event_at_ms: i64,
    /// Every field this source reported, by name.
    pub values: BTreeMap<String, SourceValue>,
}

/// An open conflict of the client, in brief (`GET /api/v1/conflicts/{id}` has the rest).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpenConflict {
    /// Its id.
    pub id: Uuid,
    /// `field_mismatch`, `ambiguous_match` or `key_collision`.
    pub kind: &'static str,
    /// The field, for a mismatch.
    pub field: Option<String>,
    /// HubSpot's value, for a mismatch.
    pub hubspot_value: Option<String>,
    /// ClickUp's value, for a mismatch.
    pub clickup_value: Option<String>,
    /// When it was raised.
    pub created_at: DateTime<Utc>,
}

/// A client as operators see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientView {
    /// Its id.
    pub id: Uuid,
    /// Bumped on every change of a golden value.
    pub version: i64,
    /// The golden values by field name, with provenance and pins.
    pub fields: BTreeMap<String, GoldenValue>,
    /// The records feeding it (and deleted ones that did), each with its source's values.
    pub records: Vec<LinkedRecord>,
    /// Its open conflicts, oldest first.
    pub open_conflicts: Vec<OpenConflict>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When a golden value last changed.
    pub updated_at: DateTime<Utc>,
}

/// The most open conflicts a view lists (a client with more is shown the first ones).
const MAX_CONFLICTS: u64 = 200;

/// One client, or `NotFound`.
pub async fn view(db: &impl sea_orm::ConnectionTrait, client: ClientId) -> Result<ClientView, LookupError> {
    let (row, provenance) = clients::find_with_provenance(db, client)
        .await?
        .ok_or_else(|| LookupError::NotFound(format!("client {client}")))?;
    let fields = Field::ALL
        .iter()
        .filter_map(|field| {
            let value = clients::value_of(&row, *field)?;
            let from = provenance.get(field);
            Some((
                field.as_str().to_owned(),
                GoldenValue {
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
    let records = records::linked_all(db, client)
        .await?
        .iter()
        .map(linked)
        .collect();
    let filter = ConflictFilter {
        status: Some(ConflictStatus::Open),
        client: Some(client),
        limit: MAX_CONFLICTS,
        ..ConflictFilter::default()
    };
    let open_conflicts = conflicts::list(db, &filter)
        .await?
        .into_iter()
        .map(|c| OpenConflict {
            id: c.id,
            kind: conflicts::kind_name(c.kind),
            field: c.field,
            hubspot_value: c.hubspot_value,
            clickup_value: c.clickup_value,
            created_at: c.created_at,
        })
        .collect();
    Ok(ClientView {
        id: row.id,
        version: row.version,
        fields,
        records,
        open_conflicts,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// A record as the view shows it.
pub fn linked(record: &SourceRecord) -> LinkedRecord {
    let values = Field::ALL
        .iter()
        .filter_map(|field| {
            let held = record.fields.get(*field)?;
            Some((
                field.as_str().to_owned(),
                SourceValue {
                    value: held.value.clone(),
                    at_ms: held.at_ms,
                    event_id: held.event.clone(),
                },
            ))
        })
        .collect();
    LinkedRecord {
        source: record.source.as_str().to_owned(),
        external_id: record.external_id.clone(),
        status: status_name(record.status),
        last_event_at_ms: record.last_event_at_ms,
        values,
    }
}

/// A record status as the API spells it.
pub fn status_name(status: RecordStatus) -> &'static str {
    match status {
        RecordStatus::Active => "active",
        RecordStatus::PendingEnrichment => "pending_enrichment",
        RecordStatus::Deleted => "deleted",
    }
}
