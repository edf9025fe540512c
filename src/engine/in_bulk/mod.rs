//! An import's batch applied in bulk. Most rows of a first import found a client of their own,
//! and the per-event path spends a dozen statements on each finding that out. Here the rows are
//! taken in order, a window at a time: what the store holds about the window's rows is read in
//! a few statements (`survey`), the longest run of rows from the window's start that certainly
//! found a client of their own (`certain`) is written together, one statement per table
//! (`super::found`, which the per-event path writes its single new client with), and the row
//! that ended the run goes through the per-event path unchanged, in the same transaction. What
//! that row wrote may change what the next rows find, so the next window is read after it.
//!
//! "Certain" leaves out everything the per-event path would do differently from founding a
//! client by a fuzzy `Create`, so both paths write the same store; the import tests compare the
//! two, table by table.

mod certain;
mod known;
mod survey;

pub use known::Known;

use sea_orm::DatabaseTransaction;
use serde_json::json;

use super::{
    Outcome, ProcessError, apply_claimed, claim_all,
    found::{self, Founding},
    link::model_version,
};
use crate::{
    domain::{event::Envelope, ids::ClientId},
    reconcile::Matching,
    sources::EventEffect,
    store::{StoreError, inbox::Claim},
};
use certain::{Candidate, NewRow};

/// Rows surveyed at once, at most. The rows of one window share candidate clients (a common
/// key's block is read once for all of them), so a larger window reads fewer rows per row: a
/// 450-row window read 12 clients a row where 112-row windows read 27 (a first import of
/// 20,000 generated people). But the next window is read after each row the per-event path
/// takes, so a window cut short wasted what it read beyond that row: the size adapts (`next`).
const WINDOW: usize = 512;

/// The fewest rows surveyed at once.
const SMALLEST: usize = 8;

/// The next window's size: twice what the last one founded before a row cut it short (so rows
/// that often take the per-event path are surveyed a few at a time), or twice its size when
/// none did, within `SMALLEST..=WINDOW`.
fn next(size: usize, founded: usize, cut_short: bool) -> usize {
    let wanted = if cut_short { 2 * (founded + 1) } else { 2 * size };
    wanted.clamp(SMALLEST, WINDOW)
}

/// What applying a batch did: each event's outcome, and how many founded a client in bulk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// One outcome per event, in order, as `apply_all` gives them.
    pub outcomes: Vec<Outcome>,
    /// Rows that founded a client in bulk (the others went through the per-event path).
    pub in_bulk: usize,
}

/// Applies several events in order inside the caller's transaction, as `apply_all` does and
/// with the same outcomes, writing the rows that certainly found a client of their own
/// together. `known` keeps the candidate clients read for the batches of one import run.
pub async fn apply_all_in_bulk(
    txn: &DatabaseTransaction,
    matching: &Matching,
    known: &Known,
    events: &[(&Envelope, &EventEffect, u32)],
) -> Result<Applied, ProcessError> {
    let claims = claim_all(txn, events).await?;
    let mut outcomes: Vec<Option<Outcome>> = claims
        .iter()
        .map(|claim| (*claim == Claim::Duplicate).then_some(Outcome::Duplicate))
        .collect();
    let fresh: Vec<usize> = (0..events.len()).filter(|i| outcomes[*i].is_none()).collect();
    let version = model_version(matching);
    let mut in_bulk = 0;
    let mut at = 0;
    let mut size = WINDOW;
    while at < fresh.len() {
        let window = &fresh[at..fresh.len().min(at + size)];
        let candidates: Vec<Candidate> = window
            .iter()
            .map(|i| Candidate::of(events[*i].0, events[*i].1, matching))
            .collect();
        let facts = survey::read(txn, matching, known, &candidates).await?;
        let run = certain::leading_run(matching, &candidates, &facts);
        let founded = run.len();
        let mut rows: Vec<NewRow<'_>> = candidates
            .into_iter()
            .take(founded)
            .filter_map(Candidate::into_row)
            .collect();
        if rows.len() != founded {
            return Err(unexpected("a row planned in bulk is not a new record"));
        }
        let mut foundings: Vec<Founding<'_>> = rows
            .iter_mut()
            .zip(run)
            .map(|(row, client)| {
                let NewRow {
                    record,
                    fields,
                    keys,
                    event,
                    ..
                } = row;
                Founding {
                    record,
                    client,
                    fields: std::mem::take(fields),
                    blocking_keys: keys,
                    event,
                    probability: None,
                    evidence: json!({"rule": "fuzzy", "candidates": []}),
                }
            })
            .collect();
        found::found(txn, &version, &mut foundings).await?;
        for (i, founding) in window.iter().zip(&foundings) {
            outcomes[*i] = Some(Outcome::Linked(ClientId::from_uuid(founding.client.id)));
        }
        in_bulk += founded;
        at += founded;
        size = next(size, founded, founded < window.len());
        if founded < window.len() {
            let i = fresh[at];
            let (env, effect, _) = events[i];
            outcomes[i] = Some(apply_claimed(txn, matching, env, effect.clone()).await?);
            at += 1;
        }
    }
    let outcomes = outcomes
        .into_iter()
        .map(|o| o.ok_or_else(|| unexpected("an event was left without an outcome")))
        .collect::<Result<_, _>>()?;
    Ok(Applied { outcomes, in_bulk })
}

fn unexpected(what: &str) -> ProcessError {
    ProcessError::Store(StoreError::Corrupt(what.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_cut_short_early_shrinks_and_one_read_through_grows_back_to_the_largest() {
        assert_eq!(next(WINDOW, 0, true), SMALLEST);
        assert_eq!(next(WINDOW, 99, true), 200);
        assert_eq!(next(SMALLEST, SMALLEST, false), 2 * SMALLEST);
        assert_eq!(next(WINDOW, WINDOW, false), WINDOW);
        let mut size = SMALLEST;
        for _ in 0..10 {
            size = next(size, size, false);
        }
        assert_eq!(size, WINDOW);
    }
}
