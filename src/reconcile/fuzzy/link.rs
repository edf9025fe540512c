//! Batch record linkage between two lists, or deduplication within one: block, compare,
//! estimate the model from the data itself, score, and keep the pairs above a threshold.

use std::{collections::HashMap, thread};

use crate::reconcile::Field;

use super::{
    blocking, cluster,
    compare::{self, COMPARATORS, EXACT, LEVELS, MISSING, Pattern},
    estimate::{self, Estimate},
    index::{self, BlockIndex, Frequencies},
    model::{LevelTable, Model, PatternCounts},
    profile::Profile,
};

/// How a batch is linked.
#[derive(Debug, Clone)]
pub struct LinkOptions {
    /// Minimum match probability of a reported pair.
    pub threshold: f64,
    /// Each record pairs with at most one on the other side (best first); when deduplicating,
    /// records are grouped into clusters instead, and every pair within a cluster is reported.
    pub one_to_one: bool,
    /// Blocking keys shared by more records than this are skipped.
    pub max_block: usize,
    /// EM iterations at most.
    pub em_iterations: usize,
    /// Random pairs drawn to estimate u for the non-exact levels.
    pub sample_pairs: usize,
    /// Seed of that draw, so runs are repeatable.
    pub seed: u64,
}

impl Default for LinkOptions {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            one_to_one: true,
            max_block: 24,
            em_iterations: 100,
            sample_pairs: 20_000,
            seed: 0x5eed,
        }
    }
}

/// One pair found, by positions in the inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredPair {
    /// Position in the left list.
    pub left: u32,
    /// Position in the right list (or the same list when deduplicating).
    pub right: u32,
    /// Match probability.
    pub probability: f64,
}

/// What a batch run found and learned.
#[derive(Debug, Clone)]
pub struct LinkResult {
    /// Pairs at or above the threshold, most probable first.
    pub pairs: Vec<ScoredPair>,
    /// Candidate pairs blocking produced (all compared).
    pub candidates: usize,
    /// The model estimated from this data.
    pub model: Model,
    /// How the model was estimated (rule, prior, EM iterations).
    pub estimate: Estimate,
    /// When deduplicating with clusters: the cluster of each record, by the position of its
    /// first member (a record alone is its own cluster).
    pub clusters: Option<Vec<u32>>,
    /// Candidate pairs in which each comparator had a value on both sides.
    pub observed: [u64; COMPARATORS],
}

/// Links `left` to `right`. `progress` is told how many left records were processed.
pub fn link(
    left: &[Profile],
    right: &[Profile],
    options: &LinkOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> LinkResult {
    let index = BlockIndex::build(right);
    let candidates = candidate_pairs(
        left,
        |i, p| {
            index
                .candidates(&blocking::keys(p), options.max_block)
                .into_iter()
                .map(move |j| (i, j))
                .collect()
        },
        progress,
    );
    let frequencies = Frequencies::count(left.iter().chain(right));
    finish(left, right, candidates, &frequencies, options, false)
}

/// Finds the duplicates within one list; each pair is reported once, lower position first.
pub fn dedupe(records: &[Profile], options: &LinkOptions, progress: &(dyn Fn(u64) + Sync)) -> LinkResult {
    let index = BlockIndex::build(records);
    let candidates = candidate_pairs(
        records,
        |i, p| {
            index
                .candidates(&blocking::keys(p), options.max_block)
                .into_iter()
                .filter(|j| *j > i)
                .map(move |j| (i, j))
                .collect()
        },
        progress,
    );
    let frequencies = Frequencies::count(records);
    finish(records, records, candidates, &frequencies, options, true)
}

/// Runs `pairs_of` over every record on all cores.
fn candidate_pairs(
    records: &[Profile],
    pairs_of: impl Fn(u32, &Profile) -> Vec<(u32, u32)> + Sync,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<(u32, u32)> {
    let chunk = records.len().div_ceil(workers()).max(1);
    thread::scope(|scope| {
        let handles: Vec<_> = records
            .chunks(chunk)
            .enumerate()
            .map(|(n, part)| {
                let pairs_of = &pairs_of;
                scope.spawn(move || {
                    let mut out = Vec::new();
                    for (k, p) in part.iter().enumerate() {
                        out.extend(pairs_of((n * chunk + k) as u32, p));
                        if k % 256 == 255 {
                            progress(256);
                        }
                    }
                    progress((part.len() % 256) as u64);
                    out
                })
            })
            .collect();
        join_all(handles)
    })
}

fn workers() -> usize {
    thread::available_parallelism().map_or(1, usize::from)
}

fn finish(
    left: &[Profile],
    right: &[Profile],
    candidates: Vec<(u32, u32)>,
    frequencies: &Frequencies,
    options: &LinkOptions,
    same_list: bool,
) -> LinkResult {
    let mut model = Model::default();
    let u = estimate_u(left, right, options, same_list, &model);
    model.set_u(u);
    let patterns: Vec<Pattern> = parallel_map(&candidates, |(l, r)| {
        compare::compare(&left[*l as usize], &right[*r as usize])
    });
    let mut counts = PatternCounts::new();
    for p in &patterns {
        *counts.entry(*p).or_default() += 1;
    }
    let estimate = estimate::estimate(&mut model, &counts, options.em_iterations);
    let mut observed = [0u64; COMPARATORS];
    for (pattern, count) in &counts {
        for c in 0..COMPARATORS {
            if pattern[c] != MISSING {
                observed[c] += count;
            }
        }
    }
    let indexed: Vec<usize> = (0..candidates.len()).collect();
    let scored = parallel_map(&indexed, |k| {
        let (l, r) = candidates[*k];
        let bits = index::weigh(&model, frequencies, &left[l as usize], &patterns[*k]);
        ScoredPair {
            left: l,
            right: r,
            probability: model.probability(bits),
        }
    });
    let mut pairs: Vec<ScoredPair> = scored
        .into_iter()
        .filter(|p| p.probability >= options.threshold)
        .collect();
    pairs.sort_by(|a, b| {
        b.probability
            .total_cmp(&a.probability)
            .then(a.left.cmp(&b.left))
            .then(a.right.cmp(&b.right))
    });
    let mut clusters = None;
    if options.one_to_one && same_list {
        let grouped = cluster::cluster(left, &pairs, &model, frequencies, options.threshold);
        pairs = cluster::pairs_within(left, &grouped, &model, frequencies);
        clusters = Some(grouped);
    } else if options.one_to_one {
        pairs = one_to_one(pairs);
    }
    LinkResult {
        pairs,
        candidates: candidates.len(),
        model,
        estimate,
        clusters,
        observed,
    }
}

fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let chunk = items.len().div_ceil(workers()).max(1);
    thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                let f = &f;
                scope.spawn(move || part.iter().map(f).collect::<Vec<R>>())
            })
            .collect();
        join_all(handles)
    })
}

/// Greedy best-first assignment between two lists: the most probable pair wins each record.
fn one_to_one(pairs: Vec<ScoredPair>) -> Vec<ScoredPair> {
    let mut used_left = std::collections::HashSet::new();
    let mut used_right = std::collections::HashSet::new();
    pairs
        .into_iter()
        .filter(|p| {
            let free = !used_left.contains(&p.left) && !used_right.contains(&p.right);
            if free {
                used_left.insert(p.left);
                used_right.insert(p.right);
            }
            free
        })
        .collect()
}

/// Random pairs with a comparator's value on both sides needed before the data's u replaces the
/// default: a field the data lacks keeps the built-in u, so a model fitted on records without
/// document keys still weighs a disagreeing key against when the worker meets one.
const U_MIN_OBSERVED: u64 = 200;

/// u per comparator: exact agreement from value frequencies on both sides (precise even for
/// rare levels), the other levels from random pairs; `prior`'s u where the data says too little.
fn estimate_u(
    left: &[Profile],
    right: &[Profile],
    options: &LinkOptions,
    same_list: bool,
    prior: &Model,
) -> [LevelTable; COMPARATORS] {
    let mut u = [[0.0; LEVELS]; COMPARATORS];
    for c in Field::MATCHED {
        u[c.index()][usize::from(EXACT)] = exact_agreement(left, right, c, same_list);
    }
    let mut seen = [[0u64; LEVELS]; COMPARATORS];
    if !left.is_empty() && !right.is_empty() {
        let mut rng = fastrand::Rng::with_seed(options.seed);
        for _ in 0..options.sample_pairs {
            let (l, r) = (rng.usize(..left.len()), rng.usize(..right.len()));
            if same_list && l == r {
                continue;
            }
            let pattern = compare::compare(&left[l], &right[r]);
            for c in 0..COMPARATORS {
                seen[c][usize::from(pattern[c])] += 1;
            }
        }
    }
    for c in 0..COMPARATORS {
        if seen[c][1..].iter().sum::<u64>() < U_MIN_OBSERVED {
            u[c] = *prior.u(Field::MATCHED[c]);
            continue;
        }
        let exact = u[c][usize::from(EXACT)];
        // Levels between exact and different: half a pair of pseudo-count keeps them finite.
        let inexact: Vec<f64> = (2..LEVELS).map(|l| seen[c][l] as f64 + 0.5).collect();
        let total: f64 = inexact.iter().sum();
        for (k, l) in (2..LEVELS).enumerate() {
            u[c][l] = (1.0 - exact) * inexact[k] / total;
        }
        u[c][usize::from(MISSING)] = 0.0;
    }
    u
}

/// P(two records of different people agree exactly | both have the value), from value
/// frequencies: Σ_v n_v(n_v − 1) / (t(t − 1)) within a list. Two lists being linked are each
/// measured on their own and averaged: across them the same value is mostly the same person
/// (a copy keeps its document key), which would count true pairs as chance agreements.
fn exact_agreement(left: &[Profile], right: &[Profile], c: Field, same_list: bool) -> f64 {
    let within = |side: &[Profile]| {
        let (counts, total) = distribution(side, c);
        let agree: f64 = counts.values().map(|n| n * (n - 1.0)).sum();
        (total >= 2.0).then(|| agree / (total * (total - 1.0)))
    };
    let shares: Vec<f64> = if same_list {
        within(left).into_iter().collect()
    } else {
        within(left).into_iter().chain(within(right)).collect()
    };
    if shares.is_empty() {
        return 1e-4;
    }
    (shares.iter().sum::<f64>() / shares.len() as f64).clamp(1e-7, 0.99)
}

/// Count of each value of a comparator, and how many records hold one.
fn distribution(side: &[Profile], c: Field) -> (HashMap<&str, f64>, f64) {
    let mut counts: HashMap<&str, f64> = HashMap::new();
    let mut total: f64 = 0.0;
    for v in side.iter().filter_map(|p| compare::value(p, c)) {
        *counts.entry(v).or_default() += 1.0;
        total += 1.0;
    }
    (counts, total)
}

/// Joins scoped workers in order; a worker's panic is a bug and is passed on rather than
/// silently losing that worker's share of the results.
fn join_all<R>(handles: Vec<thread::ScopedJoinHandle<'_, Vec<R>>>) -> Vec<R> {
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
        .collect()
}
