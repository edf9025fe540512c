//! The application service that applies one source event to the store: one event to one
//! outcome, in one transaction (inbox row, source record, client, provenance, conflicts and
//! decisions change together or not at all). The worker, backfill and operator actions all
//! come through here; the pure rules it applies live in `reconcile`.
//!
//! - `mod.rs`: an event's effect on its source record (updates, thin events, deletes, merges).
//! - `link`: where the record goes (keys, placement, fuzzy matching, merges and moves).
//! - `recompute`: a client's golden values re-derived from its records.
//! - `found`: clients founded by records no client takes, one or many at once.
//! - `in_bulk`: an import's batch, its rows certain to found a client written together.
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

mod found;
mod group;
mod in_bulk;
mod link;
mod recompute;

pub use in_bulk::{Applied, Known, apply_all_in_bulk};
use link::reconcile_record;
pub use recompute::recompute;

use entity::{conflicts::ConflictKind, inbox_events::InboxStatus, source_records::RecordStatus};
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};

use crate::{
    domain::{
        event::Envelope,
        ids::{ClientId, ProjectId},
        source::ObjectKind,
    },
    reconcile::{self, Field, FieldValue, Matching, normalize::Normalized},
    sources::{Change, EventEffect},
    store::{
        StoreError, clients, conflicts,
        inbox::{self, Claim},
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
    /// Applied to this project (a project task or its deal), not to a client (`projects`).
    Project(ProjectId),
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
            Outcome::Project(_) => "project",
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
    Source(#[from] crate::saas::SaasError),
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
            ProcessError::Store(
                StoreError::Db(_) | StoreError::Unreachable { .. } | StoreError::Hung { .. },
            ) => true,
            ProcessError::Store(StoreError::Corrupt(_)) => false,
            ProcessError::Source(e) => e.is_transient(),
        }
    }

    /// Whether the database itself failed (rather than the event or a source): the worker then
    /// checks whether the database answers at all before spending one of the message's attempts.
    pub fn is_store_failure(&self) -> bool {
        matches!(
            self,
            ProcessError::Store(StoreError::Db(_) | StoreError::Unreachable { .. } | StoreError::Hung { .. })
        )
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
    with_race_retries(env.id.as_str(), || {
        process_once(db, matching, env, effect, attempt)
    })
    .await
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
/// linked to); any other result is returned as it is. Public for callers that commit more than
/// the events in the same transaction (an import's progress row).
pub async fn with_race_retries<T, F>(what: &str, mut run: impl FnMut() -> F) -> Result<T, ProcessError>
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
    let outcomes = apply_all(&txn, matching, events).await?;
    txn.commit().await?;
    Ok(outcomes)
}

/// Applies several events in order inside the caller's transaction, which commits them with
/// whatever else it writes (an import commits its run's progress with each batch of rows).
/// Every event's inbox row is claimed in one statement, first, as a single event's claim is;
/// consecutive updates of one object are then applied together (`group`), and each of them
/// gets the outcome of the group it was applied in.
pub async fn apply_all(
    txn: &DatabaseTransaction,
    matching: &Matching,
    events: &[(&Envelope, &EventEffect, u32)],
) -> Result<Vec<Outcome>, ProcessError> {
    let claims = claim_all(txn, events).await?;
    let roles: Vec<group::Role> = events
        .iter()
        .zip(&claims)
        .map(|((env, effect, _), claim)| role(env, effect, *claim))
        .collect();
    let mut outcomes = vec![Outcome::Duplicate; events.len()];
    for members in group::groups(&roles) {
        let outcome = match members.as_slice() {
            [one] => {
                let (env, effect, _) = events[*one];
                apply_claimed(txn, matching, env, effect.clone()).await?
            }
            _ => {
                let updates: Vec<(&Envelope, &EventEffect)> =
                    members.iter().map(|&i| (events[i].0, events[i].1)).collect();
                apply_updates(txn, matching, &updates).await?
            }
        };
        for i in members {
            outcomes[i] = outcome.clone();
        }
    }
    Ok(outcomes)
}

/// What an event is for grouping with the batch's other events.
fn role(env: &Envelope, effect: &EventEffect, claim: Claim) -> group::Role {
    use group::{ObjectKey, Role};
    match (claim, effect) {
        (Claim::Duplicate, _) => Role::Duplicate,
        (_, EventEffect::Update { kind, .. }) => {
            Role::Update(ObjectKey::new(env.source, *kind, &env.object_id))
        }
        (_, EventEffect::Thin { kind } | EventEffect::Delete { kind }) => {
            Role::Other(ObjectKey::new(env.source, *kind, &env.object_id))
        }
        (_, EventEffect::Merge { .. }) => Role::Barrier,
        (_, EventEffect::Ignore { .. }) => Role::Alone,
    }
}

/// Claims every event's inbox row in one statement, first, as a single event's claim is.
async fn claim_all(
    txn: &DatabaseTransaction,
    events: &[(&Envelope, &EventEffect, u32)],
) -> Result<Vec<Claim>, ProcessError> {
    let to_claim: Vec<inbox::ToClaim<'_>> = events
        .iter()
        .map(|(env, effect, attempt)| {
            let (status, note) = inbox_status(effect);
            inbox::ToClaim {
                env,
                status,
                attempt: *attempt,
                note,
            }
        })
        .collect();
    Ok(inbox::claim_all(txn, &to_claim).await?)
}

/// The status an event's inbox row ends in, and why when it is ignored.
fn inbox_status(effect: &EventEffect) -> (InboxStatus, Option<String>) {
    match effect {
        EventEffect::Ignore { reason } => (InboxStatus::Ignored, Some(reason.clone())),
        EventEffect::Thin { .. } => (InboxStatus::PendingEnrichment, None),
        EventEffect::Update { .. } | EventEffect::Delete { .. } | EventEffect::Merge { .. } => {
            (InboxStatus::Processed, None)
        }
    }
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
    let (status, note) = inbox_status(&effect);
    // The claim writes nothing for a duplicate, so returning here leaves the transaction clean.
    if inbox::claim(txn, env, status, attempt, note).await? == Claim::Duplicate {
        return Ok(Outcome::Duplicate);
    }
    apply_claimed(txn, matching, env, effect).await
}

/// Applies an event whose inbox row this transaction has claimed.
async fn apply_claimed(
    txn: &DatabaseTransaction,
    matching: &Matching,
    env: &Envelope,
    effect: EventEffect,
) -> Result<Outcome, ProcessError> {
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
                recompute(txn, matching, client, &record, env.id.as_str()).await?;
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
            let change = update_record(&mut record, changes, env, matching);
            settle_update(txn, matching, &mut record, change, env.id.as_str()).await?
        }
    };
    Ok(outcome)
}

/// Applies an update's changes to its record (values normalized, an older value never over a
/// newer one) and marks it active once it holds a value; says what changed.
fn update_record(
    record: &mut SourceRecord,
    changes: Vec<Change>,
    env: &Envelope,
    matching: &Matching,
) -> RecordChange {
    let mut keys_changed = false;
    let mut new_evidence = false;
    let mut matched_changed = false;
    for change in changes {
        let is_key = matches!(change.field, Field::Email | Field::DocumentKey);
        let was_unknown = record.fields.value(change.field).is_none();
        let field = change.field;
        let changed = apply_change(record, change, env.id.as_str(), matching);
        keys_changed |= changed && is_key;
        new_evidence |= changed && (was_unknown || record.fields.value(field).is_some());
        matched_changed |= changed && Field::MATCHED.contains(&field);
    }
    if record.status != RecordStatus::Deleted && !record.fields.is_empty() {
        record.status = RecordStatus::Active;
    }
    record.last_event_at_ms = record.last_event_at_ms.max(env.occurred_at_ms);
    RecordChange {
        keys_changed,
        new_evidence,
        matched_changed,
    }
}

/// Applies one object's updates in order. While the record sits on no client (new, waiting
/// for an operator, or colliding) each event is applied and placed on its own, as it would be
/// alone: a record arriving with several values at once can be placed otherwise than one
/// gaining them one by one (two namesakes without keys: the second to arrive whole waits for
/// an operator, piece by piece it founds a client), and which of the two happens must not
/// depend on where a batch ends. Once on a client, the rest are taken together and the record
/// is placed once, named by the last event: the convergence property test holds this equal
/// to applying them one by one.
async fn apply_updates(
    txn: &DatabaseTransaction,
    matching: &Matching,
    updates: &[(&Envelope, &EventEffect)],
) -> Result<Outcome, ProcessError> {
    let mut pending = Vec::with_capacity(updates.len());
    for (env, effect) in updates {
        match effect {
            EventEffect::Update { kind, changes } => pending.push((*env, *kind, changes.clone())),
            // `group` puts only updates together; anything else is applied on its own.
            other => return apply_claimed(txn, matching, env, (*other).clone()).await,
        }
    }
    let mut pending = pending.into_iter();
    let mut outcome = Outcome::Ignored;
    while let Some((first, kind, changes)) = pending.next() {
        let mut record = records::load_or_new(txn, first.source, &external_id(kind, first), kind).await?;
        let placed = record.client_id.is_some();
        let mut change = update_record(&mut record, changes, first, matching);
        let mut last = first;
        if placed {
            for (env, _, changes) in pending.by_ref() {
                change = change.and(update_record(&mut record, changes, env, matching));
                last = env;
            }
        }
        outcome = settle_update(txn, matching, &mut record, change, last.id.as_str()).await?;
    }
    Ok(outcome)
}

/// Places a record that took an update's changes, and the records waiting on a key it gained.
async fn settle_update(
    txn: &DatabaseTransaction,
    matching: &Matching,
    record: &mut SourceRecord,
    change: RecordChange,
    event: &str,
) -> Result<Outcome, ProcessError> {
    let outcome = reconcile_record(txn, matching, record, change, event).await?;
    if change.keys_changed && matches!(outcome, Outcome::Linked(_)) {
        place_waiting(txn, matching, record, event).await?;
    }
    Ok(outcome)
}

/// Places a stored record again as if every value it holds had just arrived, inside the
/// caller's transaction: an operator changed what it may join (a "not a match" verdict).
pub async fn place_again(
    txn: &DatabaseTransaction,
    matching: &Matching,
    record: &mut SourceRecord,
    event: &str,
) -> Result<Outcome, ProcessError> {
    let change = RecordChange {
        keys_changed: true,
        new_evidence: true,
        matched_changed: true,
    };
    reconcile_record(txn, matching, record, change, event).await
}

/// Places again the records that sit on no client and share a key `record` now holds: had
/// they arrived after it, that key would have placed them.
async fn place_waiting(
    txn: &DatabaseTransaction,
    matching: &Matching,
    record: &SourceRecord,
    event: &str,
) -> Result<(), ProcessError> {
    let waiting = records::waiting_with_keys(
        txn,
        record.fields.value(Field::Email),
        record.fields.value(Field::DocumentKey),
        record,
    )
    .await?;
    for (source, external_id, kind) in waiting {
        let mut other = records::load_or_new(txn, source, &external_id, kind).await?;
        if other.client_id.is_some() || other.status != RecordStatus::Active {
            continue;
        }
        let change = RecordChange {
            keys_changed: true,
            new_evidence: true,
            matched_changed: true,
        };
        reconcile_record(txn, matching, &mut other, change, event).await?;
    }
    Ok(())
}

/// The source merged objects: their records retire into the survivor's, taking their newer
/// values with them, and every record their clients held (ClickUp tasks included) follows to
/// one client, since the source of truth has said these are one entity.
async fn merge_records(
    txn: &DatabaseTransaction,
    matching: &Matching,
    env: &Envelope,
    kind: ObjectKind,
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
            matched_changed: true,
        };
        return reconcile_record(txn, matching, &mut survivor, change, env.id.as_str()).await;
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
    recompute(txn, matching, target, &survivor, env.id.as_str()).await?;
    Ok(Outcome::Linked(target))
}

/// `kind:id`, because HubSpot contact and company ids are separate namespaces.
fn external_id(kind: ObjectKind, env: &Envelope) -> String {
    format!("{kind}:{}", env.object_id)
}

/// Normalizes and applies one change; returns whether the record changed.
fn apply_change(record: &mut SourceRecord, change: Change, event: &str, matching: &Matching) -> bool {
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
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RecordChange {
    /// Email or document key changed: exact keys are looked up again.
    pub(crate) keys_changed: bool,
    /// A field gained or changed a value: a record that alone feeds its client is matched
    /// again, since it may now be recognisably someone another client already holds.
    pub(crate) new_evidence: bool,
    /// A field the match model reads changed: a record placed by a score is checked against
    /// the rest of its client, whose keys it may now contradict.
    pub(crate) matched_changed: bool,
}

impl RecordChange {
    /// What two events changed between them.
    fn and(self, other: Self) -> Self {
        Self {
            keys_changed: self.keys_changed || other.keys_changed,
            new_evidence: self.new_evidence || other.new_evidence,
            matched_changed: self.matched_changed || other.matched_changed,
        }
    }
}
