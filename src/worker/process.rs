//! One event to one outcome, in one transaction: inbox row, source record, client, provenance
//! and conflicts change together or not at all.
//!
//! Concurrency (any number of workers on Postgres, READ COMMITTED), in lock order:
//! 1. The event's source record row is locked (`FOR UPDATE`) as it is loaded, so two events
//!    about one object apply in turn and neither loses the other's field. A record not yet
//!    stored is guarded by the `(source, external_id)` unique index: the losing insert rolls
//!    back, is retried here, and then finds and locks the winner's row.
//! 2. A record being matched takes advisory locks on its blocking keys (`store::match_keys`):
//!    records that could match each other share a key and take turns, and everything read
//!    after the lock (links, candidates, clients) includes what the previous holder committed.
//! 3. A client is locked before its golden values are recomputed from its records, so two
//!    records feeding one client merge in turn and neither overwrites the other's values.
//!
//! `clients.email` and `clients.document_key` are unique as a last line: a race the locks do
//! not cover fails on the index and is retried. A deadlock between two orders is detected by
//! Postgres, rolled back, and retried through the queue like any transient error.

use std::collections::BTreeMap;

use entity::{
    conflicts::ConflictKind, decisions::DecisionKind, inbox_events::InboxStatus, source_records::RecordStatus,
};
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
use serde_json::json;

use crate::{
    domain::ids::ClientId,
    queue::Envelope,
    reconcile::{
        self, Field, FieldValue, Holder, MatchDecision, Matching, Member, MergeInput, Placement, Scored,
        fuzzy::{Profile, blocking},
        normalize::Normalized,
    },
    sources::{self, EventEffect},
    store::{
        StoreError, clients, conflicts,
        decisions::{self, Decision},
        inbox::{self, Claim},
        match_keys, provenance,
        records::{self, SourceRecord},
    },
};

/// How many times an event is re-run in-process after losing a unique-index race. A race is
/// settled once the winner commits, so the loser re-runs after a short, growing pause; only
/// a run of bad luck this long falls back to the queue's delayed retry.
const RACE_RETRIES: u32 = 12;

/// What processing an event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Applied and reconciled into this client.
    Linked(ClientId),
    /// Applied, but its keys point at different clients: a key_collision conflict, nothing merged.
    Collision,
    /// Applied, but fuzzy matching was not sure: an ambiguous_match conflict, nothing merged.
    Ambiguous,
    /// Already processed: nothing done.
    Duplicate,
    /// Thin event: the record waits for enrichment.
    PendingEnrichment,
    /// The source deleted the object; its record no longer feeds a client.
    Deleted,
    /// Stored, nothing to apply.
    Ignored,
}

impl Outcome {
    /// Stable name for metrics and logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Linked(_) => "linked",
            Outcome::Collision => "collision",
            Outcome::Ambiguous => "ambiguous",
            Outcome::Duplicate => "duplicate",
            Outcome::PendingEnrichment => "pending_enrichment",
            Outcome::Deleted => "deleted",
            Outcome::Ignored => "ignored",
        }
    }
}

/// Why an event could not be processed.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The store failed; usually transient (connection, lock, race).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading the object from its source failed (enrichment).
    #[error("enrichment failed: {0}")]
    Source(#[from] crate::saas::ApiError),
}

impl From<DbErr> for ProcessError {
    fn from(e: DbErr) -> Self {
        ProcessError::Store(StoreError::Db(e))
    }
}

impl ProcessError {
    /// Transient errors are retried through the queue with backoff; others go to the dead-letter store.
    pub fn is_transient(&self) -> bool {
        match self {
            ProcessError::Store(StoreError::Db(_)) => true,
            ProcessError::Store(StoreError::Corrupt(_)) => false,
            ProcessError::Source(e) => e.is_transient(),
        }
    }
}

/// Processes one event, re-running it if it lost a race on a unique index.
pub async fn process(
    db: &DatabaseConnection,
    matching: &Matching,
    env: &Envelope,
    effect: &EventEffect,
    attempt: u32,
) -> Result<Outcome, ProcessError> {
    with_race_retries(&env.id, || process_once(db, matching, env, effect, attempt)).await
}

async fn process_once(
    db: &DatabaseConnection,
    matching: &Matching,
    env: &Envelope,
    effect: &EventEffect,
    attempt: u32,
) -> Result<Outcome, ProcessError> {
    let txn = db.begin().await?;
    let outcome = apply(&txn, matching, env, effect.clone(), attempt).await?;
    txn.commit().await?;
    Ok(outcome)
}

/// Processes several events in one transaction (one commit for all), re-running the batch if
/// it lost a race on a unique index; any other error rolls all of them back and the caller
/// settles them one by one.
pub async fn process_batch(
    db: &DatabaseConnection,
    matching: &Matching,
    events: &[(&Envelope, &EventEffect, u32)],
) -> Result<Vec<Outcome>, ProcessError> {
    let what = format!("batch of {}", events.len());
    with_race_retries(&what, || process_batch_once(db, matching, events)).await
}

/// Re-runs `run` when it lost a race on a unique index (the winner's rows are then found and
/// linked to); any other result is returned as it is.
async fn with_race_retries<T, F>(what: &str, mut run: impl FnMut() -> F) -> Result<T, ProcessError>
where
    F: std::future::Future<Output = Result<T, ProcessError>>,
{
    let mut tries = 0;
    loop {
        match run().await {
            Err(ProcessError::Store(e)) if e.is_unique_violation() && tries < RACE_RETRIES => {
                tries += 1;
                tracing::debug!(what, tries, "lost a race on a unique index; retrying");
                let pause = 2 * u64::from(tries) + fastrand::u64(..5);
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
            other => return other,
        }
    }
}

async fn process_batch_once(
    db: &DatabaseConnection,
    matching: &Matching,
    events: &[(&Envelope, &EventEffect, u32)],
) -> Result<Vec<Outcome>, ProcessError> {
    let txn = db.begin().await?;
    let mut outcomes = Vec::with_capacity(events.len());
    for (env, effect, attempt) in events {
        outcomes.push(apply(&txn, matching, env, (*effect).clone(), *attempt).await?);
    }
    txn.commit().await?;
    Ok(outcomes)
}

/// Applies one event, with what it means already read (and enriched), inside the caller's
/// transaction.
async fn apply(
    txn: &DatabaseTransaction,
    matching: &Matching,
    env: &Envelope,
    effect: EventEffect,
    attempt: u32,
) -> Result<Outcome, ProcessError> {
    let (status, note) = match &effect {
        EventEffect::Ignore { reason } => (InboxStatus::Ignored, Some(reason.clone())),
        EventEffect::Thin { .. } => (InboxStatus::PendingEnrichment, None),
        EventEffect::Update { .. } | EventEffect::Delete { .. } | EventEffect::Merge { .. } => {
            (InboxStatus::Processed, None)
        }
    };
    // The claim writes nothing for a duplicate, so returning here leaves the transaction clean.
    if inbox::claim(txn, env, status, attempt, note).await? == Claim::Duplicate {
        return Ok(Outcome::Duplicate);
    }
    let outcome = match effect {
        EventEffect::Ignore { .. } => Outcome::Ignored,
        EventEffect::Thin { kind } => {
            let mut record = records::load_or_new(txn, env.source, &external_id(kind, env), kind).await?;
            if record.status == RecordStatus::Deleted || record.fields.is_empty() {
                record.status = RecordStatus::PendingEnrichment;
            }
            record.last_event_at_ms = record.last_event_at_ms.max(env.occurred_at_ms);
            records::save(txn, &mut record).await?;
            Outcome::PendingEnrichment
        }
        EventEffect::Delete { kind } => {
            let mut record = records::load_or_new(txn, env.source, &external_id(kind, env), kind).await?;
            record.status = RecordStatus::Deleted;
            record.last_event_at_ms = record.last_event_at_ms.max(env.occurred_at_ms);
            records::save(txn, &mut record).await?;
            if let Some(client) = record.client_id {
                recompute(txn, matching, client, &record, &env.id).await?;
            }
            Outcome::Deleted
        }
        EventEffect::Merge {
            kind,
            survivor,
            merged,
        } => merge_records(txn, matching, env, kind, &survivor, &merged).await?,
        EventEffect::Update { kind, changes } => {
            let mut record = records::load_or_new(txn, env.source, &external_id(kind, env), kind).await?;
            let mut keys_changed = false;
            let mut new_evidence = false;
            for change in changes {
                let is_key = matches!(change.field, Field::Email | Field::DocumentKey);
                let was_unknown = record.fields.value(change.field).is_none();
                let field = change.field;
                let changed = apply_change(&mut record, change, &env.id, matching);
                keys_changed |= changed && is_key;
                new_evidence |= changed && (was_unknown || record.fields.value(field).is_some());
            }
            if record.status != RecordStatus::Deleted && !record.fields.is_empty() {
                record.status = RecordStatus::Active;
            }
            record.last_event_at_ms = record.last_event_at_ms.max(env.occurred_at_ms);
            let change = RecordChange {
                keys_changed,
                new_evidence,
            };
            reconcile_record(txn, matching, &mut record, change, &env.id).await?
        }
    };
    Ok(outcome)
}

/// The source merged objects: their records retire into the survivor's, taking their newer
/// values with them, and every record their clients held (ClickUp tasks included) follows to
/// one client, since the source of truth has said these are one entity.
async fn merge_records(
    txn: &DatabaseTransaction,
    matching: &Matching,
    env: &Envelope,
    kind: &'static str,
    survivor_id: &str,
    merged_ids: &[String],
) -> Result<Outcome, ProcessError> {
    let mut survivor = records::load_or_new(txn, env.source, &format!("{kind}:{survivor_id}"), kind).await?;
    let mut retired = Vec::new();
    for id in merged_ids {
        let record = records::load_or_new(txn, env.source, &format!("{kind}:{id}"), kind).await?;
        if record.is_stored() {
            survivor.fields.absorb(&record.fields);
            survivor.last_event_at_ms = survivor.last_event_at_ms.max(record.last_event_at_ms);
            retired.push(record);
        }
    }
    survivor.last_event_at_ms = survivor.last_event_at_ms.max(env.occurred_at_ms);
    if !survivor.fields.is_empty() && survivor.status != RecordStatus::Deleted {
        survivor.status = RecordStatus::Active;
    }
    let mut clients_involved: Vec<ClientId> = survivor
        .client_id
        .into_iter()
        .chain(retired.iter().filter_map(|r| r.client_id))
        .collect();
    let Some(&target) = clients_involved.first() else {
        // Nothing was linked yet: the survivor is matched like any record that gained values.
        for record in &mut retired {
            record.status = RecordStatus::Deleted;
            records::save(txn, record).await?;
        }
        let change = RecordChange {
            keys_changed: true,
            new_evidence: true,
        };
        return reconcile_record(txn, matching, &mut survivor, change, &env.id).await;
    };
    // One order for every worker, so two merges touching the same clients cannot deadlock.
    clients_involved.sort_unstable();
    clients_involved.dedup();
    for client in &clients_involved {
        clients::lock(txn, *client).await?;
    }
    for other in clients_involved.iter().filter(|c| **c != target) {
        records::relink(txn, *other, target).await?;
        clients::delete(txn, *other).await?;
    }
    for record in &mut retired {
        record.status = RecordStatus::Deleted;
        record.client_id = Some(target);
        records::save(txn, record).await?;
        for kind in [ConflictKind::AmbiguousMatch, ConflictKind::KeyCollision] {
            conflicts::close_for_record(txn, kind, record, "merged at the source").await?;
        }
    }
    survivor.client_id = Some(target);
    records::save(txn, &mut survivor).await?;
    recompute(txn, matching, target, &survivor, &env.id).await?;
    Ok(Outcome::Linked(target))
}

/// `kind:id`, because HubSpot contact and company ids are separate namespaces.
fn external_id(kind: &str, env: &Envelope) -> String {
    format!("{kind}:{}", env.object_id)
}

/// Normalizes and applies one change; returns whether the record changed.
fn apply_change(
    record: &mut SourceRecord,
    change: sources::Change,
    event: &str,
    matching: &Matching,
) -> bool {
    let value =
        match reconcile::normalize::normalize_in(change.field, change.raw.as_deref(), matching.country) {
            Normalized::Cleared => None,
            Normalized::Value(value, _) => Some(value),
            Normalized::Rejected(reason) => {
                tracing::warn!(event, field = change.field.as_str(), reason, "value skipped");
                return false;
            }
        };
    record.fields.apply(
        change.field,
        FieldValue {
            value,
            at_ms: change.at_ms,
            event: event.to_owned(),
        },
    )
}

/// What an event changed in a record, which decides how much matching it needs.
#[derive(Debug, Clone, Copy)]
struct RecordChange {
    /// Email or document key changed: exact keys are looked up again.
    keys_changed: bool,
    /// A field gained or changed a value: a record that alone feeds its client is matched
    /// again, since it may now be recognisably someone another client already holds.
    new_evidence: bool,
}

/// Matches a record to its client and applies it (the rules are `reconcile::placement`'s).
/// A linked record whose keys this event did not change keeps its link without new key lookups
/// (its keys were placed when they last changed); otherwise its keys are looked up and placed,
/// and a record no key places is matched fuzzily among the clients sharing a blocking key.
///
/// Events about one object arrive one field at a time and in any order, so a record may create
/// a client before it holds enough to be recognised. When such a record (the only one feeding
/// its client) gains or changes a value, it is matched again; if it now clearly belongs to
/// another client it moves there and the client it alone fed is removed.
async fn reconcile_record(
    txn: &impl sea_orm::ConnectionTrait,
    matching: &Matching,
    record: &mut SourceRecord,
    change: RecordChange,
    event: &str,
) -> Result<Outcome, ProcessError> {
    if record.status == RecordStatus::Deleted {
        records::save(txn, record).await?;
        return Ok(Outcome::Deleted);
    }
    let own = record.client_id;
    let lookup = change.keys_changed || own.is_none();
    // A client's records leave it only by moving while alone, merges, collisions and operators:
    // a record that shares its client now still will after the lock, so only a lone record pays
    // for matching again (and is counted again under the lock).
    let maybe_alone = match own {
        Some(client) if change.new_evidence => records::count_linked(txn, client).await? <= 1,
        _ => false,
    };
    let profile = Profile::build(|f| record.fields.value(f), matching.profile);
    let (blocking_keys, pool) = if lookup || maybe_alone {
        let keys = blocking::keys(&profile);
        // Before any lookup, so a concurrent match of the same person waits for this one's
        // commit and every read below (READ COMMITTED) sees what it committed.
        let pool = match_keys::lock_and_find(txn, &keys, matching.max_block).await?;
        (keys, pool)
    } else {
        (Vec::new(), Vec::new())
    };
    let alone = match own {
        Some(client) if maybe_alone => records::count_linked(txn, client).await? <= 1,
        _ => false,
    };
    let placement = if lookup {
        place_by_keys(txn, record).await?
    } else {
        own.map_or(Placement::Unmatched, Placement::Link)
    };
    let version = model_version(matching);
    let (source, external_id) = (record.source, record.external_id.clone());
    let decided = |kind, client, from, probability, evidence| Decision {
        kind,
        source,
        external_id: &external_id,
        event,
        client,
        from,
        probability,
        evidence,
        model_version: &version,
    };
    match placement {
        Placement::Unmatched => {
            let scored = fuzzy_candidates(txn, matching, &profile, &pool, record, None).await?;
            let decision = reconcile::decide_fuzzy(scored.clone(), matching);
            let evidence = json!({"rule": "fuzzy", "candidates": scored});
            let top = scored
                .iter()
                .map(|s| s.probability)
                .fold(None, |a: Option<f64>, p| Some(a.map_or(p, |a| a.max(p))));
            if !matches!(decision, MatchDecision::Ambiguous { .. }) {
                // An earlier, thinner version of this record may have been too doubtful to place.
                conflicts::close_for_record(
                    txn,
                    ConflictKind::AmbiguousMatch,
                    record,
                    "matched on later evidence",
                )
                .await?;
            }
            match decision {
                MatchDecision::Link(client) => {
                    record.client_id = Some(client);
                    records::save(txn, record).await?;
                    decisions::record(
                        txn,
                        decided(DecisionKind::Link, Some(client), None, top, evidence),
                    )
                    .await?;
                    recompute(txn, matching, client, record, event).await?;
                    Ok(Outcome::Linked(client))
                }
                MatchDecision::Ambiguous { candidates } => {
                    records::save(txn, record).await?;
                    let conflict = serde_json::to_value(&candidates).unwrap_or_else(|_| json!([]));
                    decisions::record(txn, decided(DecisionKind::Ambiguous, None, None, top, evidence))
                        .await?;
                    conflicts::open_for_record(txn, ConflictKind::AmbiguousMatch, record, conflict, event)
                        .await?;
                    Ok(Outcome::Ambiguous)
                }
                MatchDecision::Create | MatchDecision::Collision { .. } => {
                    let client = create_client(txn, record, &blocking_keys).await?;
                    decisions::record(
                        txn,
                        decided(DecisionKind::NewClient, Some(client), None, top, evidence),
                    )
                    .await?;
                    Ok(Outcome::Linked(client))
                }
            }
        }
        Placement::Link(client) => {
            if own.is_none() {
                conflicts::close_for_record(
                    txn,
                    ConflictKind::AmbiguousMatch,
                    record,
                    "matched on later evidence",
                )
                .await?;
            }
            if lookup {
                conflicts::close_for_record(txn, ConflictKind::KeyCollision, record, "its keys agree now")
                    .await?;
            }
            if alone && own == Some(client) {
                let scored = fuzzy_candidates(txn, matching, &profile, &pool, record, Some(client)).await?;
                let top = scored
                    .iter()
                    .map(|s| s.probability)
                    .fold(None, |a: Option<f64>, p| Some(a.map_or(p, |a| a.max(p))));
                if let MatchDecision::Link(other) = reconcile::decide_fuzzy(scored.clone(), matching) {
                    tracing::info!(event, from = %client, to = %other, "record recognised as another client's; moving it");
                    record.client_id = Some(other);
                    records::save(txn, record).await?;
                    clients::delete(txn, client).await?;
                    let evidence = json!({"rule": "fuzzy", "candidates": scored});
                    decisions::record(
                        txn,
                        decided(DecisionKind::Move, Some(other), Some(client), top, evidence),
                    )
                    .await?;
                    recompute(txn, matching, other, record, event).await?;
                    return Ok(Outcome::Linked(other));
                }
            }
            record.client_id = Some(client);
            records::save(txn, record).await?;
            if own != Some(client) {
                let evidence = json!({"rule": "exact_key", "keys": key_evidence(record)});
                decisions::record(
                    txn,
                    decided(DecisionKind::Link, Some(client), None, None, evidence),
                )
                .await?;
            }
            recompute(txn, matching, client, record, event).await?;
            Ok(Outcome::Linked(client))
        }
        Placement::Merge { into, absorbed } => {
            let lone_move = own.is_some_and(|o| absorbed == [o]) && alone_on(txn, own, record).await?;
            tracing::info!(event, into = %into, absorbed = ?absorbed, "a key proves these clients one person; merging");
            let evidence = json!({"rule": "exact_key", "keys": key_evidence(record), "absorbed": absorbed});
            let kind = if lone_move {
                DecisionKind::Move
            } else {
                DecisionKind::Merge
            };
            let from = absorbed.first().copied();
            merge_clients(txn, into, &absorbed).await?;
            record.client_id = Some(into);
            records::save(txn, record).await?;
            conflicts::close_for_record(txn, ConflictKind::KeyCollision, record, "its keys agree now")
                .await?;
            conflicts::close_for_record(
                txn,
                ConflictKind::AmbiguousMatch,
                record,
                "matched on later evidence",
            )
            .await?;
            decisions::record(txn, decided(kind, Some(into), from, None, evidence)).await?;
            recompute(txn, matching, into, record, event).await?;
            Ok(Outcome::Linked(into))
        }
        Placement::Collision { clients: ids } => {
            // The record sits on no client while its keys contradict: the clients keep what
            // they hold, and a client it alone fed goes away.
            record.client_id = None;
            records::save(txn, record).await?;
            if let Some(client) = own {
                if records::linked_active(txn, client).await?.is_empty() {
                    clients::delete(txn, client).await?;
                } else {
                    recompute(txn, matching, client, record, event).await?;
                }
            }
            let mut held = Vec::with_capacity(ids.len());
            for row in clients::load_many(txn, &ids).await? {
                let id = ClientId::from_uuid(row.id);
                held.push(json!({
                    "client_id": id,
                    "document_key": record.fields.value(Field::DocumentKey).is_some()
                        && clients::value_of(&row, Field::DocumentKey) == record.fields.value(Field::DocumentKey),
                    "email": record.fields.value(Field::Email).is_some()
                        && clients::value_of(&row, Field::Email) == record.fields.value(Field::Email),
                    "values": {
                        "document_key": clients::value_of(&row, Field::DocumentKey),
                        "email": clients::value_of(&row, Field::Email),
                    },
                }));
            }
            let evidence = json!({"rule": "exact_key", "keys": key_evidence(record), "clients": held});
            decisions::record(txn, decided(DecisionKind::Collision, None, own, None, evidence)).await?;
            conflicts::open_for_record(txn, ConflictKind::KeyCollision, record, json!(held), event).await?;
            Ok(Outcome::Collision)
        }
    }
}

/// Whether `record` is the only active record on `client`.
async fn alone_on(
    txn: &impl sea_orm::ConnectionTrait,
    client: Option<ClientId>,
    record: &SourceRecord,
) -> Result<bool, ProcessError> {
    let Some(client) = client else { return Ok(false) };
    Ok(records::linked_active(txn, client)
        .await?
        .iter()
        .all(|r| r.source == record.source && r.external_id == record.external_id))
}

/// Looks up the clients holding the record's exact keys and places it among them and its own.
async fn place_by_keys(
    txn: &impl sea_orm::ConnectionTrait,
    record: &SourceRecord,
) -> Result<Placement, ProcessError> {
    let mut ids: Vec<ClientId> = record.client_id.into_iter().collect();
    for field in [Field::DocumentKey, Field::Email] {
        if let Some(value) = record.fields.value(field)
            && let Some(client) = clients::find_by_key(txn, field, value).await?
            && !ids.contains(&client)
        {
            ids.push(client);
        }
    }
    // One order for every worker, so two placements touching the same clients cannot deadlock.
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    let mut rows = Vec::with_capacity(ids.len());
    for id in &sorted {
        if clients::lock(txn, *id).await? {
            let others: Vec<SourceRecord> = records::linked_active(txn, *id)
                .await?
                .into_iter()
                .filter(|r| !(r.source == record.source && r.external_id == record.external_id))
                .collect();
            rows.push((*id, others));
        }
    }
    rows.sort_by_key(|(id, _)| ids.iter().position(|i| i == id));
    let holders: Vec<Holder<'_>> = rows
        .iter()
        .map(|(client, others)| Holder {
            client: *client,
            members: others.iter().map(member).collect(),
        })
        .collect();
    let own = record.client_id.filter(|c| rows.iter().any(|(id, _)| id == c));
    Ok(reconcile::place(member(record), own, &holders))
}

fn member(record: &SourceRecord) -> Member<'_> {
    Member {
        source: record.source,
        kind: &record.kind,
        document_key: record.fields.value(Field::DocumentKey),
    }
}

/// The record's exact keys, as a decision's evidence names them.
fn key_evidence(record: &SourceRecord) -> serde_json::Value {
    json!({
        "document_key": record.fields.value(Field::DocumentKey),
        "email": record.fields.value(Field::Email),
    })
}

/// A stable short name of the match model in use, stored with every decision.
fn model_version(matching: &Matching) -> String {
    use sha2::{Digest, Sha256};
    let bytes = serde_json::to_vec(&matching.model).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    format!("fs-{}", hex::encode(&digest[..6]))
}

/// A new client made of the record's values, in one insert. No client holds the record's keys
/// (that is what an unmatched placement means), so its keys are the record's.
async fn create_client(
    txn: &impl sea_orm::ConnectionTrait,
    record: &mut SourceRecord,
    blocking_keys: &[String],
) -> Result<ClientId, ProcessError> {
    let only = [MergeInput {
        source: record.source,
        external_id: &record.external_id,
        fields: &record.fields,
    }];
    let merge = reconcile::merge(&only, &BTreeMap::new());
    let values: Vec<_> = merge.fields.iter().map(|g| (g.field, g.value.clone())).collect();
    let client = clients::create(txn, &values).await?;
    record.client_id = Some(client);
    records::save(txn, record).await?;
    provenance::record(txn, client, &merge.fields).await?;
    match_keys::insert(txn, client, blocking_keys).await?;
    Ok(client)
}

/// Moves every record of `absorbed` onto `into` and removes them; their open field mismatches
/// close (the survivor's recompute raises what still differs) and their operator pins carry
/// over where the survivor has none.
async fn merge_clients(
    txn: &impl sea_orm::ConnectionTrait,
    into: ClientId,
    absorbed: &[ClientId],
) -> Result<(), ProcessError> {
    for other in absorbed {
        records::relink(txn, *other, into).await?;
        conflicts::close_field_mismatches(txn, *other, "merged into another client").await?;
        provenance::carry_pins(txn, *other, into).await?;
        clients::delete(txn, *other).await?;
    }
    Ok(())
}

/// Scores the clients sharing a usable blocking key with the record (`pool`), marking those
/// that already hold another object of the record's source and kind.
async fn fuzzy_candidates(
    txn: &impl sea_orm::ConnectionTrait,
    matching: &Matching,
    profile: &Profile,
    pool: &[ClientId],
    record: &SourceRecord,
    moving_from: Option<ClientId>,
) -> Result<Vec<Scored>, ProcessError> {
    let ids: Vec<ClientId> = pool
        .iter()
        .copied()
        .filter(|id| Some(*id) != moving_from)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let others: Vec<_> = clients::load_many(txn, &ids)
        .await?
        .iter()
        // Never a fuzzy link across two different emails or document keys: a score is no
        // proof against a key, and the same rule for new and moving records keeps the outcome
        // independent of which arrived first.
        .filter(|row| !reconcile::keys_disagree(|f| record.fields.value(f), |f| clients::value_of(row, f)))
        .map(|row| {
            let other = Profile::build(|f| clients::value_of(row, f), matching.profile);
            (ClientId::from_uuid(row.id), other)
        })
        .collect();
    let mut scored = reconcile::score_candidates(profile, others.iter().map(|(id, p)| (*id, p)), matching);
    let strong: Vec<ClientId> = scored
        .iter()
        .filter(|s| s.probability >= matching.review_threshold)
        .map(|s| s.client_id)
        .collect();
    let same_source = records::clients_holding_kind(txn, &strong, record).await?;
    for s in &mut scored {
        s.same_source = same_source.contains(&s.client_id);
    }
    scored.retain(|s| s.probability >= matching.review_threshold);
    scored.sort_by(|a, b| b.probability.total_cmp(&a.probability));
    Ok(scored)
}

/// The blocking keys of a client holding `values`.
fn keys_of(values: &[(Field, Option<String>)], matching: &Matching) -> Vec<String> {
    let profile = Profile::build(
        |field| {
            values
                .iter()
                .find(|(f, _)| *f == field)
                .and_then(|(_, v)| v.as_deref())
        },
        matching.profile,
    );
    blocking::keys(&profile)
}

/// Re-derives a client's golden fields from every record linked to it. Deriving from the
/// records (not patching the row) makes the result independent of event order.
pub(crate) async fn recompute(
    txn: &impl sea_orm::ConnectionTrait,
    matching: &Matching,
    client: ClientId,
    trigger: &SourceRecord,
    event: &str,
) -> Result<(), ProcessError> {
    // Before reading the records, so a concurrent recompute of this client is seen, not overwritten.
    if !clients::lock(txn, client).await? {
        return Err(StoreError::Corrupt(format!("client {client} vanished")).into());
    }
    let linked = records::linked_active(txn, client).await?;
    let inputs: Vec<MergeInput<'_>> = linked
        .iter()
        .map(|r| MergeInput {
            source: r.source,
            external_id: &r.external_id,
            fields: &r.fields,
        })
        .collect();
    let (row, held) = clients::get_with_provenance(txn, client).await?;
    let pinned: BTreeMap<Field, Option<String>> = held
        .iter()
        .filter(|(_, row)| row.pinned)
        .map(|(field, row)| (*field, row.value.clone()))
        .collect();
    let merge = reconcile::merge(&inputs, &pinned);
    let mut values = Vec::with_capacity(merge.fields.len());
    let mut changed = Vec::new();
    for golden in &merge.fields {
        // A key another client already holds is never copied: that would merge two clients.
        if matches!(golden.field, Field::Email | Field::DocumentKey)
            && let Some(value) = golden.value.as_deref()
            && clients::value_of(&row, golden.field) != Some(value)
            && clients::find_by_key(txn, golden.field, value)
                .await?
                .is_some_and(|owner| owner != client)
        {
            continue;
        }
        let unchanged = held.get(&golden.field).is_some_and(|p| {
            p.value == golden.value && p.event_id == golden.event && p.external_id == golden.external_id
        });
        if !unchanged {
            changed.push(golden.clone());
        }
        values.push((golden.field, golden.value.clone()));
    }
    // Pinned values stand as the operator set them.
    values.extend(pinned.iter().map(|(field, value)| (*field, value.clone())));
    provenance::record(txn, client, &changed).await?;
    if clients::apply(txn, row, &values).await? {
        match_keys::replace(txn, client, &keys_of(&values, matching)).await?;
    }
    // Mismatches need two sources; skip the lookup unless one may exist or may have to close.
    let multi_source = linked
        .first()
        .is_some_and(|first| linked.iter().any(|r| r.source != first.source));
    if !merge.mismatches.is_empty() || multi_source || trigger.status == RecordStatus::Deleted {
        conflicts::sync_field_mismatches(txn, client, &merge.mismatches, trigger, event).await?;
    }
    Ok(())
}
