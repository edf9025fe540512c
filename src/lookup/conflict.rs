//! A conflict with what an operator needs to decide it, read live from the store:
//! - key_collision: the record's keys, and per client its keys pointed at, the values on both
//!   sides (which agree, which differ) and the records that client holds;
//! - ambiguous_match: each candidate client beside the record, field by field, with the
//!   agreement level by name ("exact", "one edit", "different", …) and its bits (0.1), the
//!   probability now and when the engine asked.
//!
//! Clients may have changed or gone since the conflict was raised: what is shown is what holds
//! now, with `exists: false` for a client merged away or removed.

use entity::conflicts::ConflictKind;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::LookupError;
use crate::{
    domain::ids::ClientId,
    reconcile::{
        Field, Matching,
        fuzzy::{Profile, explain},
    },
    store::{
        clients,
        records::{self, SourceRecord},
    },
};

/// The conflict's own record, as it stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordSide {
    /// `hubspot` or `clickup`.
    pub source: String,
    /// `contact:…`, `company:…` or `task:…`.
    pub external_id: String,
    /// The client it sits on now, if any.
    pub client_id: Option<Uuid>,
    /// Its email.
    pub email: Option<String>,
    /// Its document key.
    pub document_key: Option<String>,
    /// Its name, as the source has it (name, else given and family).
    pub name: Option<String>,
}

/// One key compared across a collision.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyComparison {
    /// `email` or `document_key`.
    pub field: &'static str,
    /// The record's value.
    pub record_value: Option<String>,
    /// The client's value.
    pub client_value: Option<String>,
    /// Both hold it and it is the same: this key points the record at this client.
    pub same: bool,
}

/// A record a collision side holds.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HeldRecord {
    /// `hubspot` or `clickup`.
    pub source: String,
    /// Its id there.
    pub external_id: String,
    /// Its email.
    pub email: Option<String>,
    /// Its document key.
    pub document_key: Option<String>,
}

/// A client the record's keys point at.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CollisionSide {
    /// The client.
    pub client_id: Uuid,
    /// False when it was merged away or removed since.
    pub exists: bool,
    /// Its display name.
    pub name: Option<String>,
    /// Email and document key, record against client.
    pub keys: Vec<KeyComparison>,
    /// The records it holds.
    pub records: Vec<HeldRecord>,
}

/// One field of a candidate beside the record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldComparison {
    /// The field.
    pub field: &'static str,
    /// The record's value.
    pub record_value: Option<String>,
    /// The candidate's golden value.
    pub client_value: Option<String>,
    /// `exact`, `one edit`, `similar`, `weak`, `different` or `missing`.
    pub level: &'static str,
    /// Evidence for (positive) or against (negative) a match, to 0.1 bit.
    pub bits: f64,
}

/// A candidate client of an ambiguous match.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CandidateSide {
    /// The client.
    pub client_id: Uuid,
    /// False when it was merged away or removed since.
    pub exists: bool,
    /// Its display name.
    pub name: Option<String>,
    /// The probability when the engine raised the conflict.
    pub probability_then: Option<f64>,
    /// The probability on today's values (0 when document keys veto), to 0.001.
    pub probability_now: Option<f64>,
    /// Total bits now, to 0.1.
    pub bits_now: Option<f64>,
    /// It already holds another object of the record's source and kind.
    pub same_source: bool,
    /// Field by field, record against candidate.
    pub fields: Vec<FieldComparison>,
}

/// What a conflict's kind adds to it.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ConflictDetail {
    /// The record the conflict is about (absent when it is gone).
    pub record: Option<RecordSide>,
    /// key_collision: the clients its keys point at.
    pub colliding: Vec<CollisionSide>,
    /// ambiguous_match: the candidates, most probable first.
    pub candidates_side_by_side: Vec<CandidateSide>,
}

/// Rounds to one decimal, as bits are shown.
pub fn tenth(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The detail of a conflict row.
pub async fn detail(
    db: &impl sea_orm::ConnectionTrait,
    matching: &Matching,
    conflict: &entity::conflicts::Model,
) -> Result<ConflictDetail, LookupError> {
    let record = records::find_many(db, &[(conflict.source.clone(), conflict.external_id.clone())])
        .await?
        .into_iter()
        .next();
    let mut out = ConflictDetail {
        record: record.as_ref().map(record_side),
        ..ConflictDetail::default()
    };
    let Some(record) = record else { return Ok(out) };
    let named = named_clients(&conflict.candidates);
    let ids: Vec<ClientId> = named.iter().map(|(id, _)| ClientId::from_uuid(*id)).collect();
    let rows = clients::load_many(db, &ids).await?;
    let row_of = |id: Uuid| rows.iter().find(|r| r.id == id);
    match conflict.kind {
        ConflictKind::KeyCollision => {
            for (id, _) in &named {
                let row = row_of(*id);
                let held = match row {
                    Some(_) => records::linked_all(db, ClientId::from_uuid(*id)).await?,
                    None => Vec::new(),
                };
                out.colliding.push(collision_side(&record, *id, row, &held));
            }
        }
        ConflictKind::AmbiguousMatch => {
            let mine = Profile::build(|f| record.fields.value(f), matching.profile);
            for (id, then) in &named {
                out.candidates_side_by_side.push(candidate_side(
                    matching,
                    &record,
                    &mine,
                    *id,
                    row_of(*id),
                    then,
                ));
            }
        }
        ConflictKind::FieldMismatch => {}
    }
    Ok(out)
}

/// The client ids a conflict's stored candidates name, with what was stored about each.
fn named_clients(candidates: &serde_json::Value) -> Vec<(Uuid, serde_json::Value)> {
    candidates
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|c| {
                    let id = c.get("client_id")?.as_str()?;
                    Some((Uuid::parse_str(id).ok()?, c.clone()))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn display_name(get: impl Fn(Field) -> Option<String>) -> Option<String> {
    get(Field::Name).or_else(|| {
        let parts: Vec<String> = [get(Field::GivenName), get(Field::FamilyName)]
            .into_iter()
            .flatten()
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    })
}

fn record_side(record: &SourceRecord) -> RecordSide {
    let value = |f: Field| record.fields.value(f).map(str::to_owned);
    RecordSide {
        source: record.source.as_str().to_owned(),
        external_id: record.external_id.clone(),
        client_id: record.client_id.map(|c| c.as_uuid()),
        email: value(Field::Email),
        document_key: value(Field::DocumentKey),
        name: display_name(value),
    }
}

fn collision_side(
    record: &SourceRecord,
    id: Uuid,
    row: Option<&entity::clients::Model>,
    held: &[SourceRecord],
) -> CollisionSide {
    let keys = [Field::Email, Field::DocumentKey]
        .into_iter()
        .map(|field| {
            let mine = record.fields.value(field);
            let theirs = row.and_then(|r| clients::value_of(r, field));
            KeyComparison {
                field: field.as_str(),
                record_value: mine.map(str::to_owned),
                client_value: theirs.map(str::to_owned),
                same: mine.is_some() && mine == theirs,
            }
        })
        .collect();
    CollisionSide {
        client_id: id,
        exists: row.is_some(),
        name: row.and_then(|r| display_name(|f| clients::value_of(r, f).map(str::to_owned))),
        keys,
        records: held
            .iter()
            .map(|r| HeldRecord {
                source: r.source.as_str().to_owned(),
                external_id: r.external_id.clone(),
                email: r.fields.value(Field::Email).map(str::to_owned),
                document_key: r.fields.value(Field::DocumentKey).map(str::to_owned),
            })
            .collect(),
    }
}

fn candidate_side(
    matching: &Matching,
    record: &SourceRecord,
    mine: &Profile,
    id: Uuid,
    row: Option<&entity::clients::Model>,
    then: &serde_json::Value,
) -> CandidateSide {
    let mut side = CandidateSide {
        client_id: id,
        exists: row.is_some(),
        name: None,
        probability_then: then.get("probability").and_then(serde_json::Value::as_f64),
        probability_now: None,
        bits_now: None,
        same_source: then
            .get("same_source")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false),
        fields: Vec::new(),
    };
    let Some(row) = row else { return side };
    let theirs = Profile::build(|f| clients::value_of(row, f), matching.profile);
    let explained = explain::explain(&matching.model, mine, &theirs);
    side.name = display_name(|f| clients::value_of(row, f).map(str::to_owned));
    side.probability_now = Some((explained.probability * 1000.0).round() / 1000.0);
    side.bits_now = Some(tenth(explained.bits));
    side.fields = explained
        .fields
        .iter()
        .map(|e| FieldComparison {
            field: e.field.as_str(),
            record_value: record.fields.value(e.field).map(str::to_owned),
            client_value: clients::value_of(row, e.field).map(str::to_owned),
            level: e.level.human(),
            bits: tenth(e.bits),
        })
        .collect();
    side
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_shown_to_a_tenth() {
        assert_eq!(tenth(4.26), 4.3);
        assert_eq!(tenth(-2.25), -2.3);
        assert_eq!(tenth(0.04), 0.0);
    }

    #[test]
    fn stored_candidates_name_their_clients_and_anything_else_is_skipped() {
        let id = Uuid::now_v7();
        let stored = serde_json::json!([{"client_id": id, "probability": 0.8}, {"client_id": "nope"}, 3]);
        let named = named_clients(&stored);
        assert_eq!(named.len(), 1);
        assert_eq!(named[0].0, id);
        assert!(named_clients(&serde_json::json!({})).is_empty());
    }
}
