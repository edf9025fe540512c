//! Which rows certainly found a client of their own, decided in memory from what `survey`
//! read: the same tests the per-event path runs on a new record, in its order, each answered
//! from the window's facts and the rows before it in the window.

use std::collections::{HashMap, HashSet};

use entity::{clients, source_records::RecordStatus};

use super::survey::Facts;
use crate::{
    domain::event::Envelope,
    engine::{external_id, found, link, update_record},
    reconcile::{
        self, Field, GoldenField, Matching, Placement,
        fuzzy::{Profile, blocking},
    },
    sources::EventEffect,
    store::{exclusions::RecordRef, records::SourceRecord},
};

/// A window's row as the bulk path sees it.
pub(super) enum Candidate<'e> {
    /// An update that, were its record new, would make it active: it may found a client.
    New(Box<NewRow<'e>>),
    /// Anything else, for the per-event path.
    Other,
}

/// A row's record as its event would leave it were the record new, with what founding a
/// client from it takes.
pub(super) struct NewRow<'e> {
    /// The record, its event applied.
    pub(super) record: SourceRecord,
    /// The golden values a client founded by it alone takes.
    pub(super) fields: Vec<GoldenField>,
    /// Its blocking keys.
    pub(super) keys: Vec<String>,
    /// Its match profile.
    profile: Profile,
    /// The event's id.
    pub(super) event: &'e str,
}

impl<'e> Candidate<'e> {
    /// The row an event makes, its changes applied as the per-event path applies them.
    pub(super) fn of(env: &'e Envelope, effect: &EventEffect, matching: &Matching) -> Self {
        let EventEffect::Update { kind, changes } = effect else {
            return Candidate::Other;
        };
        let mut record = SourceRecord::new(env.source, &external_id(*kind, env), *kind);
        update_record(&mut record, changes.clone(), env, matching);
        if record.status != RecordStatus::Active {
            return Candidate::Other;
        }
        let profile = Profile::build(|f| record.fields.value(f), matching.profile);
        Candidate::New(Box::new(NewRow {
            fields: found::golden_of(&record),
            keys: blocking::keys(&profile),
            profile,
            record,
            event: env.id.as_str(),
        }))
    }

    /// Its row, when it may found a client (taken).
    pub(super) fn into_row(self) -> Option<NewRow<'e>> {
        match self {
            Candidate::New(row) => Some(*row),
            Candidate::Other => None,
        }
    }

    /// Its row, when it may found a client.
    pub(super) fn row(&self) -> Option<&NewRow<'e>> {
        match self {
            Candidate::New(row) => Some(row.as_ref()),
            Candidate::Other => None,
        }
    }
}

/// The clients the longest run of rows from the window's start would found, in order: each row
/// of it certainly founds a client of its own, given the facts and the clients the rows before
/// it found.
pub(super) fn leading_run(
    matching: &Matching,
    candidates: &[Candidate<'_>],
    facts: &Facts,
) -> Vec<clients::Model> {
    let mut run: Vec<clients::Model> = Vec::new();
    let mut profiles: Vec<Profile> = Vec::new();
    let mut earlier = Earlier::default();
    for (i, candidate) in candidates.iter().enumerate() {
        let Some(row) = candidate.row() else { break };
        if !certainly_founds(matching, row, i, facts, &earlier, (&run, &profiles)) {
            break;
        }
        earlier.add(row, run.len());
        let client = found::client_row(&row.fields);
        profiles.push(Profile::build(
            |f| crate::store::clients::value_of(&client, f),
            matching.profile,
        ));
        run.push(client);
    }
    run
}

/// What the rows already in the run hold, by value, so each row is checked against them in
/// constant time rather than against each of them.
#[derive(Default)]
struct Earlier<'r> {
    /// Their records.
    records: HashSet<RecordRef>,
    /// Their emails and document keys.
    keys: HashSet<(Field, &'r str)>,
    /// Their positions in the run, by blocking key.
    blocks: HashMap<&'r str, Vec<usize>>,
}

impl<'r> Earlier<'r> {
    fn add(&mut self, row: &'r NewRow<'_>, at: usize) {
        self.records.insert(RecordRef::of(&row.record));
        for field in KEYS {
            if let Some(value) = row.record.fields.value(field) {
                self.keys.insert((field, value));
            }
        }
        for key in &row.keys {
            self.blocks.entry(key.as_str()).or_default().push(at);
        }
    }
}

/// The fields that place a record by an exact key.
const KEYS: [Field; 2] = [Field::Email, Field::DocumentKey];

/// Whether the per-event path would found a client from `row` by a fuzzy `Create` and do
/// nothing else: its record is not stored, no operator verdict names it, no client and no
/// waiting record holds its email or document key (nor does a row before it), its keys place
/// it nowhere, and no client it could find by a blocking key (those the rows before it founded
/// included) scores at the review threshold.
fn certainly_founds(
    matching: &Matching,
    row: &NewRow<'_>,
    at: usize,
    facts: &Facts,
    earlier: &Earlier<'_>,
    (founded, profiles): (&[clients::Model], &[Profile]),
) -> bool {
    let record = &row.record;
    let me = RecordRef::of(record);
    if facts.stored.contains(&me) || facts.judged.contains(&me) || earlier.records.contains(&me) {
        return false;
    }
    let held = KEYS.into_iter().any(|field| {
        record.fields.value(field).is_some_and(|value| {
            earlier.keys.contains(&(field, value)) || facts.held.contains(&(field, value.to_owned()))
        })
    });
    if held || reconcile::place(link::member(record), None, &[]) != Placement::Unmatched {
        return false;
    }
    let mine = |f: Field| record.fields.value(f);
    let pool = facts
        .pools
        .get(at)
        .into_iter()
        .flatten()
        .filter_map(|id| facts.clients.get(id))
        .filter(|client| !reconcile::keys_disagree(mine, |f| client.key(f)))
        .map(|client| &client.profile);
    // A client founded earlier in the window is found by any key it shares, usable or not: a
    // larger pool than the per-event path's can only add candidates, never hide one.
    let mut siblings: Vec<usize> = row
        .keys
        .iter()
        .filter_map(|k| earlier.blocks.get(k.as_str()))
        .flatten()
        .copied()
        .collect();
    siblings.sort_unstable();
    siblings.dedup();
    let siblings = siblings
        .into_iter()
        .filter(|j| {
            founded.get(*j).is_some_and(|client| {
                !reconcile::keys_disagree(mine, |f| crate::store::clients::value_of(client, f))
            })
        })
        .filter_map(|j| profiles.get(j));
    // `decide_fuzzy` makes a new client exactly when no candidate scores at the review threshold.
    !reconcile::any_at_review(&row.profile, pool.chain(siblings), matching)
}
