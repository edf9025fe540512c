//! Where a record goes: its exact keys placed by `reconcile::placement`, fuzzy matching among
//! the clients sharing a blocking key, and the merges and moves that follow, each recorded
//! as a decision with its evidence.

use entity::{conflicts::ConflictKind, decisions::DecisionKind, source_records::RecordStatus};
use serde_json::json;

use super::{
    Outcome, ProcessError, RecordChange,
    found::{self, Founding},
    recompute,
    recompute::{Locked, recompute_locked},
};
use crate::{
    domain::ids::ClientId,
    reconcile::{
        self, Field, GoldenField, Holder, MatchDecision, Matching, Member, Placement, Scored,
        fuzzy::{Profile, blocking, explain},
        reach::{self, KeyHolders},
    },
    store::{
        clients, conflicts,
        decisions::{self, Decision},
        exclusions::{self, RecordRef},
        match_keys, provenance,
        records::{self, SourceRecord},
    },
};

/// Matches a record to its client and applies it (the rules are `reconcile::placement`'s).
/// A linked record whose keys this event did not change keeps its link without new key lookups
/// (its keys were placed when they last changed); otherwise its keys are looked up and placed,
/// and a record no key places is matched fuzzily among the clients sharing a blocking key.
///
/// Events about one object arrive one field at a time and in any order, so a record may create
/// a client before it holds enough to be recognised. When such a record (the only one feeding
/// its client) gains or changes a value, it is matched again; if it now clearly belongs to
/// another client it moves there and the client it alone fed is removed. Unless no client could
/// score what it holds at the link threshold (`reconcile::reach`): no score could move it then.
///
/// Operators outrank both: a record an operator placed stays on its client whatever its events
/// say, and a record is never put (by key, merge or score) with records an operator said it is
/// not (`store::exclusions`).
pub(crate) async fn reconcile_record(
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
    if let (Some(client), Some(_)) = (record.client_id, record.placed_by.as_deref()) {
        // Placed by an operator: its events change its values, never its place.
        records::save(txn, record).await?;
        recompute(txn, matching, client, record, event).await?;
        return Ok(Outcome::Linked(client));
    }
    let step = Placing {
        txn,
        matching,
        event,
        version: model_version(matching),
    };
    let mut own = record.client_id;
    // A client's records leave it only by moving while alone, merges, collisions, a failed
    // revisit and operators: a record that shares its client now still will after the lock, so
    // only a lone record pays for matching again (and is counted again under the lock).
    let linked_count = match own {
        Some(client) if change.new_evidence => records::count_linked(txn, client).await?,
        _ => 0,
    };
    let profile = Profile::build(|f| record.fields.value(f), matching.profile);
    // A lone record that no client could score at the link threshold stays where it is
    // whatever the candidates hold, so it is not matched again.
    let maybe_alone = own.is_some()
        && change.new_evidence
        && linked_count <= 1
        && recognisable(txn, matching, record, &profile).await?;
    let may_revisit = own.is_some() && change.matched_changed && linked_count > 1;
    let (blocking_keys, pool, excluded) =
        if change.keys_changed || own.is_none() || maybe_alone || may_revisit {
            let keys = blocking::keys(&profile);
            // Before any lookup, so a concurrent match of the same person waits for this one's
            // commit and every read below (READ COMMITTED) sees what it committed.
            let pool = match_keys::lock_and_find(txn, &keys, matching.max_block).await?;
            let excluded = exclusions::of(txn, &RecordRef::of(record)).await?;
            (keys, pool, excluded)
        } else {
            (Vec::new(), Vec::new(), Vec::new())
        };
    let alone = match own {
        Some(client) if maybe_alone => records::count_linked(txn, client).await? <= 1,
        _ => false,
    };
    if may_revisit
        && let Some(client) = own
        && !fits_its_client(txn, record, client).await?
    {
        step.leave(record, client).await?;
        own = None;
    }
    let lookup = change.keys_changed || own.is_none();
    let (placement, mut held) = if lookup {
        place_by_keys(txn, record, &excluded).await?
    } else {
        (own.map_or(Placement::Unmatched, Placement::Link), Vec::new())
    };
    let found = Found {
        profile: &profile,
        pool: &pool,
        blocking_keys: &blocking_keys,
        excluded: &excluded,
    };
    match placement {
        Placement::Unmatched => step.fuzzily(record, &found).await,
        Placement::Link(client) => {
            if own.is_none() {
                conflicts::close_for_record(txn, ConflictKind::AmbiguousMatch, record, LATER_EVIDENCE)
                    .await?;
            }
            if lookup {
                conflicts::close_for_record(txn, ConflictKind::KeyCollision, record, KEYS_AGREE).await?;
            }
            if alone
                && own == Some(client)
                && let Some(other) = step.recognised_elsewhere(record, client, &found).await?
            {
                return Ok(Outcome::Linked(other));
            }
            let others = held
                .iter()
                .position(|(id, _)| *id == client)
                .map(|i| held.swap_remove(i).1);
            step.link_by_key(record, own, client, others).await
        }
        Placement::Merge { into, absorbed } => step.merge(record, own, into, &absorbed).await,
        Placement::Collision { clients } => step.collide(record, own, &clients).await,
    }
}

/// Why a waiting record's ambiguous match closes.
const LATER_EVIDENCE: &str = "matched on later evidence";
/// Why a record's key collision closes.
const KEYS_AGREE: &str = "its keys agree now";

/// What the lookups under the record's key locks found, for the fuzzy steps.
struct Found<'a> {
    /// The record's own profile.
    profile: &'a Profile,
    /// Clients sharing a usable blocking key with it.
    pool: &'a [ClientId],
    /// Its blocking keys, which a client it founds takes.
    blocking_keys: &'a [String],
    /// The records an operator said it is not: their clients are no candidates.
    excluded: &'a [RecordRef],
}

/// The steps of placing one record, inside the event's transaction.
struct Placing<'a, C> {
    txn: &'a C,
    matching: &'a Matching,
    event: &'a str,
    version: String,
}

impl<C: sea_orm::ConnectionTrait> Placing<'_, C> {
    /// Appends the decision about `record` with its evidence.
    async fn decided(
        &self,
        kind: DecisionKind,
        record: &SourceRecord,
        (client, from): (Option<ClientId>, Option<ClientId>),
        probability: Option<f64>,
        evidence: serde_json::Value,
    ) -> Result<(), ProcessError> {
        let decision = Decision {
            kind,
            source: record.source,
            external_id: &record.external_id,
            event: self.event,
            client,
            from,
            probability,
            evidence,
            model_version: &self.version,
        };
        Ok(decisions::record(self.txn, decision).await?)
    }

    /// Placed by a score on thinner evidence, a key the record holds now contradicts the rest
    /// of its client: it leaves, to be placed as if it had just arrived with what it holds.
    async fn leave(&self, record: &mut SourceRecord, client: ClientId) -> Result<(), ProcessError> {
        tracing::info!(event = self.event, from = %client, "record no longer fits its client; placing it again");
        record.client_id = None;
        records::save(self.txn, record).await?;
        recompute(self.txn, self.matching, client, record, self.event).await?;
        let evidence = json!({"rule": "revisit", "keys": key_evidence(record)});
        self.decided(DecisionKind::Split, record, (None, Some(client)), None, evidence)
            .await
    }

    /// No key places the record: the clients sharing a blocking key are scored, and it links
    /// to one, waits for an operator, or founds a client.
    async fn fuzzily(&self, record: &mut SourceRecord, found: &Found<'_>) -> Result<Outcome, ProcessError> {
        let (scored, candidates) = fuzzy_candidates(self.txn, self.matching, found, record, None).await?;
        let decision = reconcile::decide_fuzzy(scored.clone(), self.matching);
        let evidence = json!({"rule": "fuzzy", "candidates": candidates});
        let top = scored.first().map(|s| s.probability);
        if !matches!(decision, MatchDecision::Ambiguous { .. }) {
            // An earlier, thinner version of this record may have been too doubtful to place.
            conflicts::close_for_record(self.txn, ConflictKind::AmbiguousMatch, record, LATER_EVIDENCE)
                .await?;
        }
        match decision {
            MatchDecision::Link(client) => {
                record.client_id = Some(client);
                records::save(self.txn, record).await?;
                self.decided(DecisionKind::Link, record, (Some(client), None), top, evidence)
                    .await?;
                recompute(self.txn, self.matching, client, record, self.event).await?;
                Ok(Outcome::Linked(client))
            }
            MatchDecision::Ambiguous { candidates } => {
                records::save(self.txn, record).await?;
                let conflict = serde_json::to_value(&candidates).unwrap_or_else(|_| json!([]));
                self.decided(DecisionKind::Ambiguous, record, (None, None), top, evidence)
                    .await?;
                conflicts::open_for_record(
                    self.txn,
                    ConflictKind::AmbiguousMatch,
                    record,
                    conflict,
                    self.event,
                )
                .await?;
                Ok(Outcome::Ambiguous)
            }
            MatchDecision::Create | MatchDecision::Collision { .. } => {
                let fields = founded_fields(self.txn, record, found).await?;
                let client = found::client_row(&fields);
                let id = ClientId::from_uuid(client.id);
                let mut founding = [Founding {
                    record,
                    client,
                    fields,
                    blocking_keys: found.blocking_keys,
                    event: self.event,
                    probability: top,
                    evidence,
                }];
                found::found(self.txn, &self.version, &mut founding).await?;
                Ok(Outcome::Linked(id))
            }
        }
    }

    /// A record alone on `client` that now clearly belongs to another client moves there, and
    /// the client it alone fed goes; returns where it went.
    async fn recognised_elsewhere(
        &self,
        record: &mut SourceRecord,
        client: ClientId,
        found: &Found<'_>,
    ) -> Result<Option<ClientId>, ProcessError> {
        let (scored, candidates) =
            fuzzy_candidates(self.txn, self.matching, found, record, Some(client)).await?;
        let top = scored.first().map(|s| s.probability);
        let MatchDecision::Link(other) = reconcile::decide_fuzzy(scored, self.matching) else {
            return Ok(None);
        };
        tracing::info!(event = self.event, from = %client, to = %other, "record recognised as another client's; moving it");
        record.client_id = Some(other);
        records::save(self.txn, record).await?;
        clients::delete(self.txn, client).await?;
        let evidence = json!({"rule": "fuzzy", "candidates": candidates});
        self.decided(
            DecisionKind::Move,
            record,
            (Some(other), Some(client)),
            top,
            evidence,
        )
        .await?;
        recompute(self.txn, self.matching, other, record, self.event).await?;
        Ok(Some(other))
    }

    /// The record's keys (or its standing link) place it on `client`; `others` are the client's
    /// other active records when the key lookup locked and read them, so they are not read again.
    async fn link_by_key(
        &self,
        record: &mut SourceRecord,
        own: Option<ClientId>,
        client: ClientId,
        others: Option<Vec<SourceRecord>>,
    ) -> Result<Outcome, ProcessError> {
        record.client_id = Some(client);
        records::save(self.txn, record).await?;
        if own != Some(client) {
            let evidence = json!({"rule": "exact_key", "keys": key_evidence(record)});
            self.decided(DecisionKind::Link, record, (Some(client), None), None, evidence)
                .await?;
        }
        match others {
            Some(mut linked) => {
                if record.status == RecordStatus::Active {
                    linked.push(record.clone());
                }
                let locked = Locked { client, linked };
                recompute_locked(self.txn, self.matching, locked, record, self.event).await?;
            }
            None => recompute(self.txn, self.matching, client, record, self.event).await?,
        }
        Ok(Outcome::Linked(client))
    }

    /// A key proves several clients one person: `absorbed` merge into `into`, the record with them.
    async fn merge(
        &self,
        record: &mut SourceRecord,
        own: Option<ClientId>,
        into: ClientId,
        absorbed: &[ClientId],
    ) -> Result<Outcome, ProcessError> {
        let lone_move = own.is_some_and(|o| absorbed == [o]) && alone_on(self.txn, own, record).await?;
        tracing::info!(event = self.event, into = %into, absorbed = ?absorbed, "a key proves these clients one person; merging");
        let evidence = json!({"rule": "exact_key", "keys": key_evidence(record), "absorbed": absorbed});
        let kind = if lone_move {
            DecisionKind::Move
        } else {
            DecisionKind::Merge
        };
        merge_clients(self.txn, into, absorbed).await?;
        record.client_id = Some(into);
        records::save(self.txn, record).await?;
        conflicts::close_for_record(self.txn, ConflictKind::KeyCollision, record, KEYS_AGREE).await?;
        conflicts::close_for_record(self.txn, ConflictKind::AmbiguousMatch, record, LATER_EVIDENCE).await?;
        self.decided(
            kind,
            record,
            (Some(into), absorbed.first().copied()),
            None,
            evidence,
        )
        .await?;
        recompute(self.txn, self.matching, into, record, self.event).await?;
        Ok(Outcome::Linked(into))
    }

    /// The record's keys contradict: it sits on no client while they do, the clients keep what
    /// they hold, a client it alone fed goes away, and an operator sees the values that collided.
    async fn collide(
        &self,
        record: &mut SourceRecord,
        own: Option<ClientId>,
        ids: &[ClientId],
    ) -> Result<Outcome, ProcessError> {
        record.client_id = None;
        records::save(self.txn, record).await?;
        if let Some(client) = own {
            if records::linked_active(self.txn, client).await?.is_empty() {
                clients::delete(self.txn, client).await?;
            } else {
                recompute(self.txn, self.matching, client, record, self.event).await?;
            }
        }
        let mine = |field: Field| record.fields.value(field);
        let held: Vec<serde_json::Value> = clients::load_many(self.txn, ids)
            .await?
            .iter()
            .map(|row| {
                let theirs = |field: Field| clients::value_of(row, field);
                json!({
                    "client_id": ClientId::from_uuid(row.id),
                    "document_key": mine(Field::DocumentKey).is_some()
                        && theirs(Field::DocumentKey) == mine(Field::DocumentKey),
                    "email": mine(Field::Email).is_some() && theirs(Field::Email) == mine(Field::Email),
                    "values": {
                        "document_key": theirs(Field::DocumentKey),
                        "email": theirs(Field::Email),
                    },
                })
            })
            .collect();
        let evidence = json!({"rule": "exact_key", "keys": key_evidence(record), "clients": held});
        self.decided(DecisionKind::Collision, record, (None, own), None, evidence)
            .await?;
        conflicts::open_for_record(
            self.txn,
            ConflictKind::KeyCollision,
            record,
            json!(held),
            self.event,
        )
        .await?;
        Ok(Outcome::Collision)
    }
}

/// Whether a record still belongs on its client: it shares an exact key with another of its
/// records, or nothing it holds contradicts them by key (a different email or document key).
/// A score is not re-taken here: a record's evidence arrives a field at a time, and a name
/// half-known on one side would otherwise undo a link that the rest of the evidence confirms.
async fn fits_its_client(
    txn: &impl sea_orm::ConnectionTrait,
    record: &SourceRecord,
    client: ClientId,
) -> Result<bool, ProcessError> {
    let others: Vec<SourceRecord> = records::linked_active(txn, client)
        .await?
        .into_iter()
        .filter(|r| !(r.source == record.source && r.external_id == record.external_id))
        .collect();
    // A key shared with one of them proves it belongs, whatever else differs.
    let shares_key = [Field::Email, Field::DocumentKey].into_iter().any(|field| {
        record
            .fields
            .value(field)
            .is_some_and(|v| others.iter().any(|o| o.fields.value(field) == Some(v)))
    });
    Ok(shares_key
        || !others
            .iter()
            .any(|other| reconcile::keys_disagree(|f| record.fields.value(f), |f| other.fields.value(f))))
}

/// Whether some client could score `record` at the link threshold (`reconcile::reach`). Its
/// email and document key count only if another client holds one of them: any other value
/// rules a candidate out. That is looked up only when it decides the answer.
async fn recognisable(
    txn: &impl sea_orm::ConnectionTrait,
    matching: &Matching,
    record: &SourceRecord,
    profile: &Profile,
) -> Result<bool, ProcessError> {
    if !reach::could_link(profile, KeyHolders::MaybeOthers, matching) {
        return Ok(false);
    }
    if reach::could_link(profile, KeyHolders::OwnOnly, matching) {
        return Ok(true);
    }
    for field in [Field::DocumentKey, Field::Email] {
        if let Some(value) = record.fields.value(field)
            && clients::find_by_key(txn, field, value)
                .await?
                .is_some_and(|holder| Some(holder) != record.client_id)
        {
            return Ok(true);
        }
    }
    Ok(false)
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
/// A client holding a record an operator said this one is not is left out of the join set, and
/// clients holding two records an operator told apart are never merged (a collision instead).
/// Returns the placement with the clients it locked and their other active records.
async fn place_by_keys(
    txn: &impl sea_orm::ConnectionTrait,
    record: &SourceRecord,
    excluded: &[RecordRef],
) -> Result<(Placement, Vec<(ClientId, Vec<SourceRecord>)>), ProcessError> {
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
            let barred =
                Some(*id) != record.client_id && others.iter().any(|o| excluded.contains(&RecordRef::of(o)));
            if !barred {
                rows.push((*id, others));
            }
        }
    }
    rows.sort_by_key(|(id, _)| ids.iter().position(|i| i == id));
    if rows.len() > 1 && told_apart(txn, &rows).await? {
        let clients = rows.iter().map(|(id, _)| *id).collect();
        return Ok((Placement::Collision { clients }, rows));
    }
    let holders: Vec<Holder<'_>> = rows
        .iter()
        .map(|(client, others)| Holder {
            client: *client,
            members: others.iter().map(member).collect(),
        })
        .collect();
    let own = record.client_id.filter(|c| rows.iter().any(|(id, _)| id == c));
    let placement = reconcile::place(member(record), own, &holders);
    Ok((placement, rows))
}

/// Whether two of these clients hold records an operator said are not one person.
async fn told_apart(
    txn: &impl sea_orm::ConnectionTrait,
    rows: &[(ClientId, Vec<SourceRecord>)],
) -> Result<bool, ProcessError> {
    let holder: Vec<(RecordRef, ClientId)> = rows
        .iter()
        .flat_map(|(id, others)| others.iter().map(move |o| (RecordRef::of(o), *id)))
        .collect();
    let refs: Vec<RecordRef> = holder.iter().map(|(r, _)| r.clone()).collect();
    let client_of = |r: &RecordRef| holder.iter().find(|(h, _)| h == r).map(|(_, c)| *c);
    Ok(exclusions::among(txn, &refs)
        .await?
        .iter()
        .any(|(a, b)| client_of(a) != client_of(b)))
}

pub(super) fn member(record: &SourceRecord) -> Member<'_> {
    Member {
        source: record.source,
        kind: record.kind,
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

/// The name of the match model in use, stored with every decision.
pub(super) fn model_version(matching: &Matching) -> String {
    explain::version(&matching.model)
}

/// The golden values of the client a record founds: its own, since no client holds its keys
/// (that is what an unmatched placement means); unless an operator kept the record off the
/// client holding one of them, which keeps that key.
async fn founded_fields(
    txn: &impl sea_orm::ConnectionTrait,
    record: &SourceRecord,
    found: &Found<'_>,
) -> Result<Vec<GoldenField>, ProcessError> {
    let fields = found::golden_of(record);
    if found.excluded.is_empty() {
        return Ok(fields);
    }
    let mut kept = Vec::with_capacity(fields.len());
    for golden in fields {
        let held = match (golden.field, golden.value.as_deref()) {
            (Field::Email | Field::DocumentKey, Some(v)) => {
                clients::find_by_key(txn, golden.field, v).await?.is_some()
            }
            _ => false,
        };
        if !held {
            kept.push(golden);
        }
    }
    Ok(kept)
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
/// that already hold another object of the record's source and kind; the candidates at or
/// above the review threshold, most probable first.
async fn fuzzy_candidates(
    txn: &impl sea_orm::ConnectionTrait,
    matching: &Matching,
    found: &Found<'_>,
    record: &SourceRecord,
    moving_from: Option<ClientId>,
) -> Result<(Vec<Scored>, serde_json::Value), ProcessError> {
    let profile = found.profile;
    let barred = records::clients_of(txn, found.excluded).await?;
    let ids: Vec<ClientId> = found
        .pool
        .iter()
        .copied()
        .filter(|id| Some(*id) != moving_from && !barred.contains(id))
        .collect();
    if ids.is_empty() {
        return Ok((Vec::new(), json!([])));
    }
    let rows = clients::load_many(txn, &ids).await?;
    let (mut scored, others) = score_rows(matching, profile, record, &rows);
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
    // Per field, with the level's name and its bits: what an operator reads as "why".
    let explained: Vec<serde_json::Value> = scored
        .iter()
        .filter_map(|s| {
            let (_, theirs) = others.iter().find(|(id, _)| *id == s.client_id)?;
            Some(json!({
                "client_id": s.client_id,
                "probability": s.probability,
                "same_source": s.same_source,
                "explanation": explain::explain(&matching.model, profile, theirs),
            }))
        })
        .collect();
    Ok((scored, json!(explained)))
}

/// Scores client rows as candidates for a record, as the fuzzy step does: never across two
/// different emails or document keys (a score is no proof against a key, and the same rule for
/// new and moving records keeps the outcome independent of which arrived first). Returns the
/// scores, unfiltered and unsorted, and each candidate's profile to explain them with.
pub(super) fn score_rows<'m>(
    matching: &Matching,
    profile: &Profile,
    record: &SourceRecord,
    rows: impl IntoIterator<Item = &'m entity::clients::Model>,
) -> (Vec<Scored>, Vec<(ClientId, Profile)>) {
    let others: Vec<(ClientId, Profile)> = rows
        .into_iter()
        .filter(|row| !reconcile::keys_disagree(|f| record.fields.value(f), |f| clients::value_of(row, f)))
        .map(|row| {
            let other = Profile::build(|f| clients::value_of(row, f), matching.profile);
            (ClientId::from_uuid(row.id), other)
        })
        .collect();
    let scored = reconcile::score_candidates(profile, others.iter().map(|(id, p)| (*id, p)), matching);
    (scored, others)
}
