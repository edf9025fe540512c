//! Founding clients: a record no client takes becomes a client of its own, with its golden
//! values, provenance, first history, search terms and blocking keys, and the `NewClient`
//! decision with the fuzzy step's evidence. Written for any number of records at once, one
//! statement per table: the per-event path founds one client here, an import's bulk path all
//! the rows of a batch it is certain about, so both write exactly the same rows.

use std::collections::BTreeMap;

use entity::{clients, decisions::DecisionKind};
use sea_orm::ConnectionTrait;

use super::ProcessError;
use crate::{
    domain::ids::ClientId,
    reconcile::{self, GoldenField, MergeInput, history::FieldChange},
    store::{
        clients as client_store,
        decisions::{self, Decision},
        history, match_keys, provenance,
        records::{self, SourceRecord},
    },
};

/// One record founding a client.
pub(crate) struct Founding<'a> {
    /// The record; it is saved pointing at its new client.
    pub(crate) record: &'a mut SourceRecord,
    /// The new client's row (`client_row` of `fields`).
    pub(crate) client: clients::Model,
    /// The client's golden values, each with where it came from.
    pub(crate) fields: Vec<GoldenField>,
    /// The record's blocking keys, which the client takes.
    pub(crate) blocking_keys: &'a [String],
    /// The event that placed the record.
    pub(crate) event: &'a str,
    /// The best candidate's probability, when one was scored.
    pub(crate) probability: Option<f64>,
    /// The fuzzy step's evidence: the candidates it weighed.
    pub(crate) evidence: serde_json::Value,
}

/// The golden values of a client `record` founds alone: its own values, merged as any
/// client's are.
pub(crate) fn golden_of(record: &SourceRecord) -> Vec<GoldenField> {
    let only = [MergeInput {
        source: record.source,
        external_id: &record.external_id,
        fields: &record.fields,
    }];
    reconcile::merge(&only, &BTreeMap::new()).fields
}

/// The row of a new client holding `fields`, under a new id.
pub(crate) fn client_row(fields: &[GoldenField]) -> clients::Model {
    let values: Vec<_> = fields.iter().map(|g| (g.field, g.value.clone())).collect();
    client_store::new_row(ClientId::generate(), &values)
}

/// Writes each founding's client and points its record at it, with the client's provenance,
/// first history, blocking keys and the decision; one statement per table for all of them.
pub(crate) async fn found(
    txn: &impl ConnectionTrait,
    model_version: &str,
    foundings: &mut [Founding<'_>],
) -> Result<(), ProcessError> {
    if foundings.is_empty() {
        return Ok(());
    }
    let id = |f: &Founding<'_>| ClientId::from_uuid(f.client.id);
    let rows: Vec<&clients::Model> = foundings.iter().map(|f| &f.client).collect();
    client_store::insert_all(txn, &rows).await?;
    for founding in foundings.iter_mut() {
        founding.record.client_id = Some(id(founding));
    }
    let mut saved: Vec<&mut SourceRecord> = foundings.iter_mut().map(|f| &mut *f.record).collect();
    records::save_all(txn, &mut saved).await?;
    let fields: Vec<(ClientId, &[GoldenField])> =
        foundings.iter().map(|f| (id(f), f.fields.as_slice())).collect();
    provenance::record_all(txn, &fields).await?;
    let firsts: Vec<Vec<FieldChange>> = foundings
        .iter()
        .map(|f| reconcile::history::diff(&BTreeMap::new(), &f.fields, &[]))
        .collect();
    let changes: Vec<(ClientId, &str, &[FieldChange])> = foundings
        .iter()
        .zip(&firsts)
        .map(|(f, first)| (id(f), f.event, first.as_slice()))
        .collect();
    history::append_all(txn, &changes).await?;
    let keys: Vec<(ClientId, &[String])> = foundings.iter().map(|f| (id(f), f.blocking_keys)).collect();
    match_keys::insert_all(txn, &keys).await?;
    let made: Vec<Decision<'_>> = foundings
        .iter()
        .map(|f| Decision {
            kind: DecisionKind::NewClient,
            source: f.record.source,
            external_id: &f.record.external_id,
            event: f.event,
            client: Some(id(f)),
            from: None,
            probability: f.probability,
            evidence: f.evidence.clone(),
            model_version,
        })
        .collect();
    decisions::record_all(txn, &made).await?;
    Ok(())
}
