//! Estimating m and the prior from unlabeled candidate pairs, robustly, as Splink does: u comes
//! from random pairs (`link::estimate_u`), the prior λ from a deterministic rule (pairs agreeing
//! exactly on a document key or an email), and m from EM with λ held to that rule and every m
//! kept within sanity bounds.
//!
//! Why not plain EM with λ free (what ran away at 10,000+ people): blocked non-matches are not
//! random pairs. Blocking selects pairs that share a postcode, a name code or a birth year far
//! more often than u, measured on random pairs, says; as a population grows those pairs
//! outnumber the true ones (a postcode holds more people, a key block more holders). Free EM
//! explains that excess with the match class: λ climbed to 0.64–0.95, m drifted to the blocked
//! non-matches' own distribution, a disagreeing id or phone stopped counting against, and two
//! Rodriguezes of one postcode born thirty years apart scored 1.0.

use serde::Serialize;

use super::{
    compare::{CLOSE, COMPARATORS, DIFFERENT, EXACT, LEVELS, MISSING, Pattern},
    model::{FLOOR, LevelTable, MAX_BITS, Model, PatternCounts},
};
use crate::reconcile::Field;

/// Comparators whose exact agreement is (almost) proof of a match: the deterministic rule.
pub const ANCHORS: [Field; 2] = [Field::DocumentKey, Field::Email];
/// Highest prior a fitted model may hold; above it a pair with no evidence would be a match.
pub const LAMBDA_MAX: f64 = 0.5;
/// The rule is assumed to find at least this share of true pairs, whatever the data says.
const RULE_RECALL_MIN: f64 = 0.5;
/// Share of true pairs the rule is assumed to find when no pairs confirmed another way can
/// measure it (as Splink asks its user for the recall of a deterministic rule).
const RULE_RECALL_ASSUMED: f64 = 0.8;
/// Weight, in pairs, of the anchors' own m (or the defaults) as EM's Dirichlet prior.
const PRIOR_PAIRS: f64 = 10.0;
/// Cross-anchored pairs needed to trust the rule's recall measured on them.
const CROSS_MIN: f64 = 30.0;
/// Largest change in any probability at which EM is considered converged.
const TOLERANCE: f64 = 1e-6;

/// What estimation saw and did, for reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Estimate {
    /// Candidate pairs the model was estimated on.
    pub candidate_pairs: u64,
    /// Candidate pairs the deterministic rule calls matches (exact document key or email).
    pub anchor_pairs: u64,
    /// Share of true pairs the rule is estimated to find; λ = anchors / (recall · candidates).
    pub rule_recall: f64,
    /// EM iterations run.
    pub iterations: usize,
    /// Whether EM settled before its iteration limit.
    pub converged: bool,
}

/// Identifiers independent of names: a second one agreeing confirms an exact key.
const IDENTIFIERS: [Field; 4] = [Field::DocumentKey, Field::Email, Field::Phone, Field::DateOfBirth];

/// Whether the rule calls a pair a match without looking at comparator `skip` (so that pairs it
/// picks can say how that comparator behaves among matches): an exact document key or email,
/// confirmed by another identifier agreeing exactly or within a typo, and no two different
/// document keys. The confirmation matters: two strangers can share an address like
/// `maria.garcia12@…` or a family email, but rarely a phone or a birth date as well.
fn anchored(pattern: &Pattern, skip: Option<usize>) -> bool {
    let agrees = |f: &Field, levels: &[u8]| Some(f.index()) != skip && levels.contains(&pattern[f.index()]);
    pattern[Field::DocumentKey.index()] != DIFFERENT
        && ANCHORS
            .iter()
            .any(|a| agrees(a, &[EXACT]) && IDENTIFIERS.iter().any(|b| b != a && agrees(b, &[EXACT, CLOSE])))
}

fn anchored_by_other(pattern: &Pattern, c: usize) -> bool {
    anchored(pattern, Some(c))
}

fn is_anchor(pattern: &Pattern) -> bool {
    anchored(pattern, None)
}

/// Level shares among pairs the rule calls matches on another comparator than the one counted
/// (a document key's own agreement is not evidence about itself), softened toward `start`.
/// Also returns, per anchor comparator, P(exact | match) measured that way when enough pairs say.
fn anchor_prior(
    patterns: &PatternCounts,
    start: &[LevelTable; COMPARATORS],
) -> ([LevelTable; COMPARATORS], [Option<f64>; COMPARATORS]) {
    let mut counts = [[0.0; LEVELS]; COMPARATORS];
    let mut cross = [0.0; COMPARATORS];
    for (pattern, n) in patterns {
        for c in 0..COMPARATORS {
            if anchored_by_other(pattern, c) {
                counts[c][usize::from(pattern[c])] += *n as f64;
                cross[c] += *n as f64;
            }
        }
    }
    let mut prior = [[0.0; LEVELS]; COMPARATORS];
    let mut exact_rate = [None; COMPARATORS];
    for c in 0..COMPARATORS {
        let seen: f64 = counts[c][1..].iter().sum();
        for l in 1..LEVELS {
            prior[c][l] = (counts[c][l] + PRIOR_PAIRS * start[c][l]) / (seen + PRIOR_PAIRS);
        }
        if cross[c] >= CROSS_MIN {
            exact_rate[c] = Some(counts[c][usize::from(EXACT)] / cross[c]);
        }
    }
    (prior, exact_rate)
}

/// Keeps one comparator's m sane: every level a probability away from 0 and 1, exact agreement
/// at least as likely among matches as among random pairs (it is evidence for), and complete
/// disagreement no likelier among matches than among random pairs (it is evidence against).
pub(super) fn bound(m: &mut LevelTable, u: &LevelTable) {
    let (e, d) = (usize::from(EXACT), usize::from(DIFFERENT));
    let exact = m[e].max(u[e]).clamp(FLOOR, 1.0 - FLOOR);
    let different = m[d].min(u[d]).clamp(FLOOR, 1.0 - FLOOR);
    let rest = (1.0 - exact - different).max(FLOOR * 3.0);
    let middle: f64 = m[e + 1..d].iter().map(|p| p.max(FLOOR)).sum();
    for p in &mut m[e + 1..d] {
        *p = p.max(FLOOR) / middle * rest;
    }
    m[e] = exact;
    m[d] = different;
    let total: f64 = m[1..].iter().sum();
    for p in &mut m[1..] {
        *p /= total;
    }
    m[usize::from(MISSING)] = 0.0;
}

/// Level shares of weighted counts, softened toward `prior` by [`PRIOR_PAIRS`] pairs.
fn share(counts: &LevelTable, prior: &LevelTable) -> LevelTable {
    let seen: f64 = counts[1..].iter().sum();
    let mut out = [0.0; LEVELS];
    for l in 1..LEVELS {
        out[l] = ((counts[l] + PRIOR_PAIRS * prior[l]) / (seen + PRIOR_PAIRS)).max(FLOOR);
    }
    out
}

/// Bits of a pattern with `m` against a non-match distribution `u`, as [`Model::weight`] caps them.
fn bits(m: &[LevelTable; COMPARATORS], u: &[LevelTable; COMPARATORS], pattern: &Pattern) -> f64 {
    (0..COMPARATORS)
        .filter(|c| pattern[*c] != MISSING)
        .map(|c| {
            let l = usize::from(pattern[c]);
            (m[c][l].max(FLOOR) / u[c][l].max(FLOOR))
                .log2()
                .clamp(-MAX_BITS, MAX_BITS)
        })
        .sum()
}

/// Estimates `model`'s m and λ from the candidate pairs' patterns, u held as given. EM updates
/// m (softened toward what the rule's pairs show, then bounded) while λ follows the rule:
/// anchors / (recall · candidates), recall measured on pairs the other anchor field confirms
/// when there are enough, else by the current m, and never below [`RULE_RECALL_MIN`].
pub fn estimate(model: &mut Model, patterns: &PatternCounts, max_iterations: usize) -> Estimate {
    let total: u64 = patterns.values().sum();
    let anchors: u64 = patterns
        .iter()
        .filter(|(p, _)| is_anchor(p))
        .map(|(_, n)| n)
        .sum();
    let mut report = Estimate {
        candidate_pairs: total,
        anchor_pairs: anchors,
        ..Estimate::default()
    };
    if total == 0 {
        return report;
    }
    let (prior, exact_rate) = anchor_prior(patterns, &model.m);
    let mut present = [false; COMPARATORS];
    for pattern in patterns.keys() {
        for (c, level) in pattern.iter().enumerate() {
            present[c] |= *level != MISSING;
        }
    }
    model.m = prior;
    for c in 0..COMPARATORS {
        bound(&mut model.m[c], &model.u[c]);
    }
    model.lambda = if anchors > 0 {
        // P(the rule fires | match) = 1 − Π over anchors of P(that anchor is not exact |
        // match), each measured on pairs the other anchor confirms; assumed when none do. An
        // anchor the data never holds cannot fire and is left out.
        let rates: Option<Vec<f64>> = ANCHORS
            .iter()
            .filter(|a| present[a.index()])
            .map(|a| exact_rate[a.index()])
            .collect();
        report.rule_recall = match rates {
            Some(rates) if !rates.is_empty() => {
                (1.0 - rates.iter().map(|r| 1.0 - r.clamp(0.0, 1.0)).product::<f64>()).max(RULE_RECALL_MIN)
            }
            _ => RULE_RECALL_ASSUMED,
        };
        anchors as f64 / (report.rule_recall * total as f64)
    } else {
        model.lambda
    }
    .clamp(FLOOR, LAMBDA_MAX);
    // The non-match side of the E-step: blocked non-matches, learnt alongside m and started
    // from random pairs. Random pairs are right for scoring but wrong here, where every pair
    // shares a blocking key (the runaway in this module's doc).
    let mut blocked = model.u;
    for iteration in 1..=max_iterations {
        report.iterations = iteration;
        let (mut matched, mut unmatched) = ([[0.0; LEVELS]; COMPARATORS], [[0.0; LEVELS]; COMPARATORS]);
        let mut matched_total = 0.0;
        for (pattern, n) in patterns {
            let n = *n as f64;
            let p = model.probability(bits(&model.m, &blocked, pattern));
            matched_total += p * n;
            for c in 0..COMPARATORS {
                matched[c][usize::from(pattern[c])] += p * n;
                unmatched[c][usize::from(pattern[c])] += (1.0 - p) * n;
            }
        }
        let mut change: f64 = 0.0;
        for c in 0..COMPARATORS {
            let mut updated = share(&matched[c], &prior[c]);
            bound(&mut updated, &model.u[c]);
            for (new, old) in updated.iter().zip(&model.m[c]).skip(1) {
                change = change.max((new - old).abs());
            }
            model.m[c] = updated;
            blocked[c] = share(&unmatched[c], &model.u[c]);
        }
        if anchors == 0 {
            // No rule to go by: EM's own estimate, within the cap.
            let lambda = (matched_total / total as f64).clamp(FLOOR, LAMBDA_MAX);
            change = change.max((lambda - model.lambda).abs());
            model.lambda = lambda;
        }
        if change < TOLERANCE {
            report.converged = true;
            break;
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::fuzzy::compare::SIMILAR;

    fn pattern(levels: &[(Field, u8)]) -> Pattern {
        let mut p = [MISSING; COMPARATORS];
        for (c, l) in levels {
            p[c.index()] = *l;
        }
        p
    }

    /// A blocked population with a known truth: 1,000 true pairs (90 % share the document key,
    /// the rest carry a typo or another key) among 20,000 non-matches that, as blocking makes
    /// them, mostly share a postcode and a family name but differ on key, phone and birth date.
    fn population() -> (PatternCounts, Pattern, Pattern) {
        use Field::*;
        let matched = pattern(&[
            (DocumentKey, EXACT),
            (Phone, EXACT),
            (DateOfBirth, EXACT),
            (FamilyName, EXACT),
            (GivenName, EXACT),
            (Postcode, EXACT),
        ]);
        let typo = pattern(&[
            (DocumentKey, CLOSE),
            (Phone, EXACT),
            (DateOfBirth, EXACT),
            (FamilyName, CLOSE),
            (GivenName, EXACT),
            (Postcode, EXACT),
        ]);
        let neighbours = pattern(&[
            (DocumentKey, DIFFERENT),
            (Phone, DIFFERENT),
            (DateOfBirth, SIMILAR),
            (FamilyName, EXACT),
            (GivenName, DIFFERENT),
            (Postcode, EXACT),
        ]);
        let strangers = pattern(&[
            (DocumentKey, DIFFERENT),
            (Phone, DIFFERENT),
            (DateOfBirth, DIFFERENT),
            (FamilyName, CLOSE),
            (GivenName, DIFFERENT),
        ]);
        let counts = PatternCounts::from([
            (matched, 900),
            (typo, 100),
            (neighbours, 15_000),
            (strangers, 5_000),
        ]);
        (counts, typo, neighbours)
    }

    #[test]
    fn em_on_a_known_population_keeps_the_prior_near_the_truth_and_disagreement_against() {
        let (patterns, typo, neighbours) = population();
        let mut model = Model::default();
        let report = estimate(&mut model, &patterns, 200);
        assert!(report.converged, "{report:?}");
        assert_eq!(report.anchor_pairs, 900);
        let truth = 1_000.0 / 21_000.0;
        assert!(
            (model.lambda() - truth).abs() < truth * 0.25,
            "lambda {} (truth {truth})",
            model.lambda()
        );
        for field in [Field::DocumentKey, Field::Phone] {
            assert!(model.weight(field, DIFFERENT) < -5.0, "{field:?}");
            assert!(model.weight(field, EXACT) > 5.0, "{field:?}");
        }
        assert!(model.probability(model.bits(&typo)) > 0.99);
        assert!(model.probability(model.bits(&neighbours)) < 0.001);
    }

    #[test]
    fn bounds_keep_exact_for_and_different_against() {
        let u = [0.0, 0.01, 0.01, 0.01, 0.01, 0.96];
        let mut m = [0.0, 0.001, 0.0, 0.0, 0.0, 0.999];
        bound(&mut m, &u);
        assert!(m[usize::from(EXACT)] >= u[usize::from(EXACT)] - 1e-12, "{m:?}");
        assert!(
            m[usize::from(DIFFERENT)] <= u[usize::from(DIFFERENT)] + 1e-12,
            "{m:?}"
        );
        assert!((m[1..].iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!(m[1..].iter().all(|p| *p > 0.0));
    }

    #[test]
    fn without_any_exact_key_the_prior_still_stays_under_its_cap() {
        let only_names = pattern(&[(Field::FamilyName, EXACT), (Field::Postcode, EXACT)]);
        let patterns = PatternCounts::from([(only_names, 10_000)]);
        let mut model = Model::default();
        estimate(&mut model, &patterns, 100);
        assert!(model.lambda() <= LAMBDA_MAX);
    }
}
